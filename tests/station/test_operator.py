"""Operator commands on a real station, seen by pages over the real WebSocket.

The hub client calls ``Station.end_visit``, ``set_closed``, ``set_language``,
``show_message``, ``set_screen`` and ``reload`` on the station's own event loop.
:class:`LiveStation` runs a real station (uvicorn, the real app, real SQLite) in
this process, so a test can do the same; the pages are real WebSocket clients.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from showfloor.content.lint import check
from showfloor.content.media import media_duration
from showfloor.engine.replay import replay
from showfloor.errors import ShowfloorError
from showfloor.station.app import Station, create_app
from showfloor.station.profile import DEFAULT, StationProfile, load_profile
from showfloor.station.store import EventStore, engine_events

from ._support import DEMO, Page, free_port, open_page

BROKEN = ("goto: party_no\n", "goto: party_nope\n")  # a story choice to a scene that does not exist


class LiveStation:
    """A real station serving on loopback from a thread of this process."""

    def __init__(self, root: Path, data: Path, profile: Path | None = None) -> None:
        prof: StationProfile = DEFAULT
        if profile is not None:
            loaded, problems = load_profile(profile)
            assert loaded is not None, problems
            prof = loaded
        report = check(root, display=prof.display)
        assert report.exhibit is not None and report.ok, [str(p) for p in report.errors]
        self.data = data
        self.store_path = data / "events.sqlite"
        self.station = Station(report.exhibit, report.root, profile=prof,
                               store=EventStore(self.store_path))
        self.port = free_port()
        config = uvicorn.Config(create_app(self.station), host="127.0.0.1", port=self.port,
                                lifespan="on", ws="websockets-sansio", log_level="warning",
                                ws_max_size=64 * 1024, timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete,
                                       args=(self.server.serve(),), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the station did not come up")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, *args: Any, **kw: Any) -> Any:
        """Run an operator command on the station's loop, as the hub client does."""
        coro = getattr(self.station, method)(*args, **kw)
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def health(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/healthz", timeout=5)
        r.raise_for_status()
        return dict(r.json())

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The rows of the station's event log (after everything queued is written)."""
        assert self.station.store is not None
        self.station.store.flush(5)
        con = sqlite3.connect(self.store_path)
        con.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in con.execute("SELECT * FROM events ORDER BY rowid")]
        finally:
            con.close()
        for r in rows:
            r["data"] = json.loads(r["data"])
        return [r for r in rows if kind is None or r["kind"] == kind]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.loop.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveStation]:
    st = LiveStation(DEMO, tmp_path / "data")
    yield st
    st.stop()


def page_of(live: LiveStation) -> Page:
    page = open_page(live)  # type: ignore[arg-type]  # it needs only .port
    page.hello()
    return page


def quiet(page: Page, seconds: float = 0.4) -> list[dict[str, Any]]:
    """Every message a page gets in the next ``seconds`` (none expected, usually)."""
    got: list[dict[str, Any]] = []
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            got.append(page.recv(timeout=left))
        except TimeoutError:
            break
    return got


def start_visit(page: Page) -> None:
    """Start a visit and wait for its first view (views the page had not read yet go by)."""
    page.input(type="start")
    end = time.monotonic() + 5
    while page.until("view", timeout=max(0.01, end - time.monotonic()))["view"]["phase"] != \
            "session":
        pass
    assert page.log[-1]["view"]["scene"] == "intro"


# -- what pages may send ------------------------------------------------------------

@pytest.mark.parametrize("inp", [
    {"type": "closed", "closed": True},
    {"type": "default_language", "lang": "en"},
    {"type": "end_visit", "reason": "operator"},
])
def test_a_page_may_not_send_operator_inputs(live: LiveStation, inp: dict[str, Any]) -> None:
    page = page_of(live)
    start_visit(page)
    ref = page.send("input", input=inp)
    err = page.until("error")
    assert err["ref"] == ref
    assert f"may not send '{inp['type']}'" in err["reason"]
    h = live.health()
    assert h["closed"] is False and h["session_active"] is True and h["lang"] == "zh-CN"
    assert h["phase"] == "session"
    page.close()


# -- closed ------------------------------------------------------------------------------

def test_closing_ends_the_visit_shows_closed_and_refuses_a_start(live: LiveStation) -> None:
    page, other = page_of(live), page_of(live)
    start_visit(page)
    other.until("view")
    live.call("set_closed", True)
    for p in (page, other):
        assert p.until("reset")["reason"] == "closed"
        v = p.until("view")["view"]
        assert v["scene"] == "attract" and v["phase"] == "attract" and v["closed"] is True
        assert [(line["lang"], line["text"]) for line in v["closed_notice"]] == [
            ("zh-CN", "本展项现在暂停开放"), ("en", "This exhibit is closed now")]
    h = live.health()
    assert h["closed"] is True and h["session_active"] is False and h["phase"] == "attract"
    page.input(type="start")
    assert "closed" in page.until("error")["reason"]
    assert live.health()["session_active"] is False
    # a page that connects now sees the closed attract view at once
    late = open_page(live)  # type: ignore[arg-type]
    _, view = late.hello()
    assert view["view"]["closed"] is True
    ended = live.events("session_ended")
    assert [e["data"]["reason"] for e in ended] == ["closed"]
    # open again
    live.call("set_closed", False)
    v = page.until("view")["view"]
    assert "closed" not in v and "closed_notice" not in v
    start_visit(page)
    assert live.health()["closed"] is False
    for p in (page, other, late):
        p.close()


# -- ending a visit, the default language ------------------------------------------------------

def test_end_visit_resets_every_page_and_does_nothing_in_attract(live: LiveStation) -> None:
    page = page_of(live)
    start_visit(page)
    page.input(type="advance")
    page.until("view")
    live.call("end_visit")
    assert page.until("reset")["reason"] == "operator"
    assert page.until("view")["view"]["scene"] == "attract"
    live.call("end_visit", "fire_drill")
    assert quiet(page) == []  # nothing happens in attract
    with pytest.raises(ShowfloorError, match="short id"):
        live.call("end_visit", "Please leave now")
    ended = live.events("session_ended")
    assert [e["data"]["reason"] for e in ended] == ["operator"]
    page.close()


def test_set_language_changes_attract_now_and_refuses_one_not_offered(live: LiveStation) -> None:
    page = page_of(live)
    live.call("set_language", "en")
    v = page.until("view")["view"]
    assert v["lang"] == "en" and v["scene"] == "attract"
    start_visit(page)
    assert live.health()["lang"] == "en"
    with pytest.raises(ShowfloorError, match=r"'fr' is not offered .* zh-CN, en"):
        live.call("set_language", "fr")
    page.close()


# -- a message ------------------------------------------------------------------------------

def test_a_message_reaches_every_page_and_late_ones_until_a_reset(live: LiveStation) -> None:
    page = page_of(live)
    text = {"zh-CN": "展厅将在 10 分钟后关闭", "en": "The hall closes in 10 minutes"}
    live.call("show_message", text, 120)
    cue = page.until("cue")
    assert cue["name"] == "message"
    assert cue["data"]["text"] == text
    assert 119 <= cue["data"]["seconds"] <= 120
    assert cue["data"]["default"] == "zh-CN"
    # a page that connects while it shows gets it, with the time it has left
    late = open_page(live)  # type: ignore[arg-type]
    late.hello()
    got = late.until("cue")
    assert got["name"] == "message" and got["data"]["text"] == text
    assert got["data"]["seconds"] <= 120
    # the text is never stored; the command is, with ids only
    (op,) = [e for e in live.events("operator") if e["data"]["action"] == "show_message"]
    assert op["data"] == {"action": "show_message", "langs": ["en", "zh-CN"], "seconds": 120.0}
    raw = live.store_path.read_bytes() + b"".join(
        p.read_bytes() for p in live.data.glob("events.sqlite-*"))
    for words in text.values():
        assert words.encode() not in raw
    # a privacy reset clears it: a page that connects afterwards gets no message
    start_visit(page)
    live.call("end_visit")
    page.until("reset")
    again = open_page(live)  # type: ignore[arg-type]
    again.hello()
    assert [m for m in quiet(again) if m["type"] == "cue"] == []
    for p in (page, late, again):
        p.close()


def test_message_seconds_are_clamped_and_text_is_cut(live: LiveStation) -> None:
    page = page_of(live)
    live.call("show_message", {"en": "x" * 600}, 99999)
    data = page.until("cue")["data"]
    assert 3599 <= data["seconds"] <= 3600
    assert len(data["text"]["en"]) == 500 and data["text"]["en"].endswith("…")
    live.call("show_message", {"en": "Short"}, 0.01)
    data = page.until("cue")["data"]
    assert 0.9 <= data["seconds"] <= 1
    time.sleep(1.1)
    late = open_page(live)  # type: ignore[arg-type]
    late.hello()
    assert [m for m in quiet(late) if m["type"] == "cue"] == []  # over: not sent
    for bad in ({}, {"en": ""}, {"English please": "hi"}, {"en": 3}):
        with pytest.raises(ShowfloorError):
            live.call("show_message", bad)
    with pytest.raises(ShowfloorError, match="number"):
        live.call("show_message", {"en": "hi"}, float("nan"))
    page.close()
    late.close()


# -- the screen ------------------------------------------------------------------------------

def test_screen_off_ends_the_visit_blacks_out_new_pages_and_takes_no_input(
        live: LiveStation) -> None:
    page = page_of(live)
    start_visit(page)
    before = live.health()
    assert before["screen"] == "on" and before["session_active"] is True
    live.call("set_screen", False)
    cue = page.until("cue")
    assert cue["name"] == "screen" and cue["data"] == {"on": False}
    assert page.until("reset")["reason"] == "closed"
    assert page.until("view")["view"]["scene"] == "attract"
    h = live.health()
    assert h["screen"] == "off" and h["session_active"] is False
    page.input(type="start")
    assert "screen is off" in page.until("error")["reason"]
    assert live.health()["session_active"] is False
    # a page that connects now is told before it draws anything
    late = open_page(live)  # type: ignore[arg-type]
    late.send("hello", surface="main")
    late.until("welcome")
    first = late.recv()
    assert first["type"] == "cue" and first["data"] == {"on": False}
    assert late.recv()["type"] == "view"
    live.call("set_screen", True)
    for p in (page, late):
        assert p.until("cue")["data"] == {"on": True}
    assert live.health()["screen"] == "on"
    start_visit(page)
    for p in (page, late):
        p.close()


# -- reload ------------------------------------------------------------------------------------

def test_reload_keeps_the_running_exhibit_when_the_folder_is_broken(tmp_path: Path) -> None:
    ex = tmp_path / "exhibit"
    shutil.copytree(DEMO, ex)
    live = LiveStation(ex, tmp_path / "data")
    try:
        page = page_of(live)
        start_visit(page)
        story = ex / "scenes" / "20-story.yaml"
        good = story.read_text(encoding="utf-8")
        story.write_text(good.replace(*BROKEN, 1), encoding="utf-8")
        with pytest.raises(ShowfloorError) as info:
            live.call("reload")
        message = str(info.value)
        assert "running exhibit stays" in message
        assert "scenes/20-story.yaml" in message and "party_nope" in message
        # untouched: the visit goes on, nothing was sent
        assert [m for m in quiet(page) if m["type"] in ("reload", "reset", "view")] == []
        # a folder that does not load at all: the same
        yaml = ex / "exhibit.yaml"
        yaml.rename(ex / "exhibit.yaml.away")
        with pytest.raises(ShowfloorError, match="cannot be loaded, so the running exhibit stays"):
            live.call("reload")
        (ex / "exhibit.yaml.away").rename(yaml)
        page.input(type="advance")
        assert page.until("view")["view"]["scene"] == "brain"
        assert live.health()["session_active"] is True
        # fixed, with a new version: the visit ends, pages reload, the new content runs
        live.call("set_closed", True)
        page.until("reset")
        story.write_text(good, encoding="utf-8")
        yaml.write_text(yaml.read_text(encoding="utf-8").replace("version: 1.0.0",
                                                                 "version: 1.0.1"), "utf-8")
        live.call("reload")
        page.until("reload", timeout=10)
        h = live.health()
        assert h["version"] == "1.0.1"
        assert h["closed"] is True  # the operator's setting carries over
        again = open_page(live)  # type: ignore[arg-type]
        welcome, view = again.hello()
        assert welcome["exhibit"]["version"] == "1.0.1"
        assert view["view"]["closed"] is True
        live.call("set_closed", False)
        again.until("view")
        start_visit(again)
        actions = [e["data"] for e in live.events("operator") if e["data"]["action"] == "reload"]
        assert [a["ok"] for a in actions] == [False, False, True]
        assert actions[0]["errors"] >= 1
        # the new engine's events are all kept (ids stay unique across engines)
        starts = live.events("engine_started")
        assert [e["data"]["version"] for e in starts] == ["1.0.0", "1.0.1"]
        assert len(live.events("session_started")) == 2
        page.close()
        again.close()
    finally:
        live.stop()


def test_reload_ends_a_visit_in_progress_first(tmp_path: Path) -> None:
    ex = tmp_path / "exhibit"
    shutil.copytree(DEMO, ex)
    live = LiveStation(ex, tmp_path / "data")
    try:
        page = page_of(live)
        start_visit(page)
        live.call("reload")
        assert page.until("reset")["reason"] == "reload"
        page.until("reload")
        assert [e["data"]["reason"] for e in live.events("session_ended")] == ["reload"]
        page.close()
    finally:
        live.stop()


# -- status and the log --------------------------------------------------------------------------

def test_status_says_closed_screen_session_and_last_input(live: LiveStation) -> None:
    h = live.health()
    assert h["closed"] is False and h["screen"] == "on"
    assert h["session_active"] is False and h["last_input_wall"] is None
    page = page_of(live)
    page.input(type="advance")  # refused in attract: not an accepted input
    page.until("error")
    assert live.health()["last_input_wall"] is None
    t0 = time.time()
    start_visit(page)
    h = live.health()
    assert h["session_active"] is True
    assert t0 - 1 <= h["last_input_wall"] <= time.time()
    assert live.station.last_input_wall == h["last_input_wall"]
    page.close()


def test_every_operator_command_is_logged_with_ids_only(live: LiveStation) -> None:
    page = page_of(live)
    live.call("set_closed", True)
    live.call("set_closed", False)
    live.call("set_language", "en")
    live.call("end_visit", "operator")
    live.call("show_message", {"en": "Hello there, class 7B"}, 5)
    live.call("set_screen", False)
    live.call("set_screen", True)
    ops = [e["data"] for e in live.events("operator")]
    assert ops == [
        {"action": "set_closed", "closed": True},
        {"action": "set_closed", "closed": False},
        {"action": "set_language", "lang": "en"},
        {"action": "end_visit", "reason": "operator"},
        {"action": "show_message", "langs": ["en"], "seconds": 5.0},
        {"action": "set_screen", "on": False},
        {"action": "set_screen", "on": True},
    ]
    assert all(e["source"] == "station" for e in live.events("operator"))
    # the engine side: inputs recorded for replay
    inputs = [e["data"]["input"]["type"] for e in live.events("input")]
    assert inputs.count("closed") == 2 and inputs.count("default_language") == 1
    assert "Hello there" not in json.dumps(live.events())
    # the station's own log, operator commands and all, replays to the same views
    start_visit(page)
    live.call("set_closed", True)
    page.until("reset")
    live.station.store.flush(5)  # type: ignore[union-attr]
    result = replay(live.station.exhibit, engine_events(live.store_path),
                    media_length=lambda path: media_duration(DEMO, path))
    assert result.ok, result.first_difference()
    assert result.sessions == 1
    # start, closed, open, English, the visit, closed again
    assert [scene for scene, _ in result.got] == ["attract"] * 4 + ["intro", "attract"]
    page.close()


def test_operator_commands_reach_every_surface_of_a_station(tmp_path: Path) -> None:
    live = LiveStation(DEMO, tmp_path / "data", DEMO / "stations" / "projector.yaml")
    try:
        panel, wall = open_page(live), open_page(live)  # type: ignore[arg-type]
        panel.hello("panel")
        wall.hello("wall")
        live.call("show_message", {"zh-CN": "你好", "en": "Hello"}, 10)
        live.call("set_closed", True)
        for p in (panel, wall):
            assert p.until("cue")["name"] == "message"
            assert p.until("view")["view"]["closed"] is True
        panel.close()
        wall.close()
    finally:
        live.stop()
