"""The station's WebSocket protocol against a real station process."""

from __future__ import annotations

import json
import time
from pathlib import Path

from ._support import DEMO, RunningStation, open_page, start_station


def test_hello_gets_welcome_and_the_current_view(station: RunningStation) -> None:
    page = open_page(station)
    welcome, view = page.hello()
    assert welcome["v"] == 1
    assert welcome["surface"] == {"id": "main", "role": "kiosk"}
    assert welcome["exhibit"]["id"] == "drug-prevention"
    assert {s["id"] for s in welcome["exhibit"]["sources"]} >= {"who-drugs", "nncc"}
    assert view["view"]["scene"] == "attract"
    assert view["view"]["phase"] == "attract"
    seqs = [m["seq"] for m in page.log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    page.close()


def test_an_input_gives_the_next_view_with_its_mark_and_preload(station: RunningStation) -> None:
    page = open_page(station)
    page.hello()
    page.input(type="start", mark="t1")
    msg = page.until("view")
    assert msg["view"]["scene"] == "intro"
    assert msg["mark"] == "t1"
    assert "/exhibit/media/brain.png" in msg["preload"]
    assert all(u.startswith("/exhibit/") for u in msg["preload"])
    page.close()


def test_bad_messages_get_an_error_and_the_session_goes_on(station: RunningStation) -> None:
    page = open_page(station)
    page.send("input", input={"type": "start"})
    assert "hello" in page.until("error")["reason"]
    page.hello()
    page.raw("this is not json")
    assert page.until("error")["reason"] == "not JSON"
    page.raw(json.dumps([1, 2, 3]))
    assert "JSON object" in page.until("error")["reason"]
    page.raw(json.dumps({"v": 9, "seq": 100, "type": "ready"}))
    assert "version" in page.until("error")["reason"]
    page.raw(json.dumps({"v": 1, "seq": 1, "type": "ready"}))  # seq went backwards
    assert "out of order" in page.until("error")["reason"]
    page.send("teleport")
    err = page.until("error")
    assert "unknown message type" in err["reason"] and err["ref"] == page.seq
    page.input(type="fly")
    assert "unknown input type" in page.until("error")["reason"]
    page.input(type="tick", now=1e9)
    assert "ticks" in page.until("error")["reason"]
    page.input(type="start")
    assert page.until("view")["view"]["scene"] == "intro"
    page.input(type="choose", choice="nothing-here")
    assert "does not apply" in page.until("error")["reason"]
    page.raw("x" * 20000)
    assert "limit" in page.until("error")["reason"]
    page.input(type="advance")
    assert page.until("view")["view"]["scene"] == "brain"
    assert station.health()["phase"] == "session"
    page.close()


def test_a_flood_of_inputs_does_not_stall_the_station(station: RunningStation) -> None:
    page = open_page(station)
    page.hello()
    page.input(type="start")
    page.until("view")
    n = 1000
    t0 = time.monotonic()
    for i in range(n):
        if i % 2:
            page.input(type="choose", choice=f"junk{i}")
        else:
            page.input(type="language", lang="en" if i % 4 else "zh-CN")
    replies = 0
    while replies < n:
        msg = page.recv(timeout=10)
        if msg["type"] in ("error", "view"):
            replies += 1
    elapsed = time.monotonic() - t0
    # 1,000 inputs answered in well under the second they would arrive in
    assert elapsed < 5, elapsed
    h0 = time.monotonic()
    health = station.health()
    assert time.monotonic() - h0 < 1
    assert health["inputs"] >= n
    page.close()


def test_a_page_that_reconnects_resumes_the_current_view(station: RunningStation) -> None:
    page = open_page(station)
    page.hello()
    page.input(type="start")
    page.until("view")
    page.input(type="advance")
    assert page.until("view")["view"]["scene"] == "brain"
    page.close()
    again = open_page(station)
    _, view = again.hello()
    assert view["view"]["scene"] == "brain"
    assert view["view"]["phase"] == "session"
    again.close()


def test_control_and_display_surfaces_stay_in_step(tmp_path: Path) -> None:
    st = start_station(DEMO / "stations" / "projector.yaml", data=tmp_path / "d")
    try:
        panel, wall = open_page(st), open_page(st)
        w1, _ = panel.hello("panel")
        w2, _ = wall.hello("wall")
        assert w1["surface"]["role"] == "control" and w2["surface"]["role"] == "display"
        wall.input(type="start")
        assert "display" in wall.until("error")["reason"]
        panel.input(type="start")
        seen_panel, seen_wall = [], []
        for _ in range(3):
            seen_panel.append(panel.until("view")["view"])
            seen_wall.append(wall.until("view")["view"])
            panel.input(type="advance")
        assert [v["scene"] for v in seen_panel] == [v["scene"] for v in seen_wall] == [
            "intro", "brain", "heart_lungs"]
        assert seen_panel == seen_wall
        unknown = open_page(st)
        unknown.send("hello", surface="nope")
        assert "no surface 'nope'" in unknown.until("error")["reason"]
        for p in (panel, wall, unknown):
            p.close()
    finally:
        st.stop()
