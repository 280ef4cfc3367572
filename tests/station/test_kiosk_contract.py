"""The station's side of the kiosk supervisor's contract, against a real station.

``GET /kiosk/state`` and ``POST /kiosk/report`` (loopback only), the page's
beat over the WebSocket (a real headless Chromium page, and a real hang of its
main thread), the summary in ``/healthz`` and the event log, and the calm
``/fallback`` page, looked at in Chromium.
"""

from __future__ import annotations

import asyncio
import json
import time
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from conftest import keep_for_docs
from e2e._browser import launch, open_surface
from showfloor import fleet
from showfloor.station.app import create_app
from showfloor.station.kioskwatch import EVENTS, MEMORY_EVERY, KioskWatch, is_loopback
from showfloor.station.security import page_csp

from ._support import DEMO, open_page
from .test_operator import LiveStation

LIMITS = {"hang_seconds": 10, "memory_mb": 1500, "crash_limit": 5, "crash_window_minutes": 10,
          "reload_hours": 24}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStation]:
    st = LiveStation(DEMO, tmp_path_factory.mktemp("kiosk"))
    yield st
    st.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def kstate(live: LiveStation, surface: str = "main") -> dict[str, Any]:
    r = httpx.get(f"{live.url}/kiosk/state", params={"surface": surface}, timeout=5)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    return dict(r.json())


def report(live: LiveStation, body: Any) -> httpx.Response:
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(f"{live.url}/kiosk/report", content=data, timeout=5,
                      headers={"content-type": "application/json"})


def test_state_follows_the_surface_s_page_and_its_messages(live: LiveStation) -> None:
    assert kstate(live) == {"surface": "main", "connected": False, "beat_age": None,
                            "idle": True, "limits": LIMITS}
    page = open_page(live)  # type: ignore[arg-type]
    try:
        assert kstate(live)["connected"] is False  # connected, but not said hello yet
        page.hello()
        s = kstate(live)
        assert s["connected"] is True and 0 <= s["beat_age"] < 1
        time.sleep(1.2)  # the page says nothing: its silence grows
        assert kstate(live)["beat_age"] >= 1.1
        page.send("beat")
        deadline = time.monotonic() + 5
        while (age := kstate(live)["beat_age"]) >= 1:  # the beat is read on the station's loop
            assert time.monotonic() < deadline, age
            time.sleep(0.02)
        assert not [m for m in page.log if m["type"] == "error"]  # a beat is a message it knows
        page.send("teleport")
        assert "hello, input, ready, beat, metrics or problem" in page.until("error")["reason"]
    finally:
        page.close()
    deadline = time.monotonic() + 5
    while kstate(live)["connected"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert kstate(live)["beat_age"] is None
    r = httpx.get(f"{live.url}/kiosk/state", params={"surface": "lobby"}, timeout=5)
    assert r.status_code == 404 and "no surface 'lobby'" in r.json()["error"]


def test_a_visit_in_progress_is_not_idle(live: LiveStation) -> None:
    page = open_page(live)  # type: ignore[arg-type]
    try:
        page.hello()
        page.input(type="start")
        assert page.until("view")["view"]["phase"] == "session"
        assert kstate(live)["idle"] is False
        live.call("end_visit", "operator")
        assert page.until("view")["view"]["phase"] == "attract"
        assert kstate(live)["idle"] is True
    finally:
        page.close()


BAD = [
    (b"{" + b" " * 5000 + b"}", "4096-byte limit"),
    (b"not json", "not JSON"),
    ([1, 2], "JSON object"),
    ({"event": "memory"}, "surface None"),
    ({"surface": "lobby", "event": "memory"}, "surface 'lobby'"),
    ({"surface": "main", "event": "exploded"}, "event 'exploded'"),
    ({"surface": "main", "event": "memory", "note": "x"}, "field 'note'"),
    ({"surface": "main", "event": "memory", "reason": "Not An Id!"}, "short id"),
    ({"surface": "main", "event": "memory", "reason": "x" * 65}, "short id"),
    ({"surface": "main", "event": "memory", "rss_mb": [1]}, "field 'rss_mb'"),
    ({"surface": "main", "event": "memory", "kind": None}, "field 'kind'"),
    ('{"surface": "main", "event": "memory", "rss_mb": NaN}', "not JSON"),
]


def test_reports_are_checked_and_bad_ones_refused_in_one_sentence(live: LiveStation) -> None:
    before = live.health()["kiosk"]
    for body, words in BAD:
        r = report(live, body)
        assert r.status_code == 400, (body, r.text)
        reason = r.json()["error"]
        assert words in reason, (body, reason)
        assert reason.endswith(".") and reason.count(". ") == 0, reason  # one sentence
    assert live.health()["kiosk"] == before  # nothing counted


def test_reports_are_recorded_and_summed_up_in_healthz(live: LiveStation) -> None:
    good = [
        {"surface": "main", "event": "browser_started", "pid": 4242},
        # "kind" is a contract field and also the name of the store's own argument
        {"surface": "main", "event": "renderer_crashed", "reason": "oom", "crashes": 1,
         "kind": "page"},
        {"surface": "main", "event": "memory", "js_heap_mb": 42.5, "rss_mb": 310.25,
         "limit_mb": 1500},
        {"surface": "main", "event": "memory", "js_heap_mb": 44, "rss_mb": 320},
        {"surface": "main", "event": "fallback_shown", "reason": "crash_limit", "crashes": 5},
    ]
    t0 = time.time()
    for body in good:
        r = report(live, body)
        assert r.status_code == 204, r.text
    k = live.health()["kiosk"]
    assert k["counts"] == {"browser_started": 1, "renderer_crashed": 1, "memory": 2,
                           "fallback_shown": 1}
    assert k["last"]["event"] == "fallback_shown" and k["last"]["reason"] == "crash_limit"
    assert k["last"]["surface"] == "main" and t0 - 1 <= k["last"]["at"] <= time.time() + 1
    assert (k["js_heap_mb"], k["rss_mb"], k["fallback"]) == (44.0, 320.0, True)
    assert report(live, {"surface": "main", "event": "page_reloaded"}).status_code == 204
    assert live.health()["kiosk"]["fallback"] is False
    rows = [e["data"] for e in live.events("kiosk")]
    # the second memory sample came within MEMORY_EVERY s of the first: counted, not logged
    assert MEMORY_EVERY >= 60
    assert [d["event"] for d in rows] == ["browser_started", "renderer_crashed", "memory",
                                          "fallback_shown", "page_reloaded"]
    assert rows[1] == {"event": "renderer_crashed", "surface": "main", "reason": "oom",
                       "crashes": 1, "kind": "page"}
    assert rows[2]["rss_mb"] == 310.25 and rows[2]["limit_mb"] == 1500
    assert set(EVENTS) >= {d["event"] for d in rows}


def test_the_summary_is_what_the_hub_takes() -> None:
    watch = KioskWatch()
    assert watch.summary() is None  # no supervisor has reported: /healthz says null
    assert watch.record("main", "memory", {"rss_mb": 300, "js_heap_mb": 40}, 0.0, 1e9)
    assert not watch.record("main", "memory", {"rss_mb": -1}, MEMORY_EVERY - 1, 1e9 + 1)
    assert watch.record("main", "memory", {"rss_mb": 310}, MEMORY_EVERY, 1e9 + 2)
    assert watch.record("main", "page_reloaded", {"reason": 7}, MEMORY_EVERY, 1e9 + 3)
    summary = watch.summary()
    assert summary is not None
    hb = fleet.KioskSummary.model_validate(summary)  # strict: every key and type fits
    assert hb.counts == {"memory": 3, "page_reloaded": 1} and hb.rss_mb == 310
    assert hb.last is not None and hb.last.reason is None and hb.last.at == 1e9 + 3
    assert typing.get_args(fleet.KioskEvent) == EVENTS  # one list of names, two spellings


def test_only_loopback_clients_may_ask_or_report(live: LiveStation) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("192.168.1.20") and not is_loopback(None)
    app = create_app(live.station)  # the same station, reached from "another machine"

    async def ask(host: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=(host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://station") as c:
            return [await c.get("/kiosk/state", params={"surface": "main"}),
                    await c.post("/kiosk/report", json={"surface": "main", "event": "memory"})]

    for r in asyncio.run(ask("192.168.1.20")):
        assert r.status_code == 403
        assert "loopback" in r.json()["error"]
    assert [r.status_code for r in asyncio.run(ask("127.0.0.1"))] == [200, 204]


def test_a_real_page_beats_and_a_hung_page_falls_silent(live: LiveStation,
                                                        browser: Browser) -> None:
    page = open_surface(browser, live.port)
    try:
        # a page that has just started is busy drawing: its first beat may come late, so
        # the watch starts at a beat (the age drops)
        last, deadline = kstate(live)["beat_age"], time.monotonic() + 10
        while (age := kstate(live)["beat_age"]) >= last:
            assert time.monotonic() < deadline, "the page never beat"
            last = age
            time.sleep(0.1)
        ages = []
        end = time.monotonic() + 4.5  # two beats and more
        while time.monotonic() < end:
            s = kstate(live)
            assert s["connected"] is True
            ages.append(s["beat_age"])
            time.sleep(0.25)
        assert max(ages) < 3, ages
        # hang the main thread for 4 s, the way a runaway script would: no beat gets out
        page.evaluate("setTimeout(() => { const end = Date.now() + 4000; "
                      "while (Date.now() < end) {} }, 0)")
        deadline = time.monotonic() + 8
        while kstate(live)["beat_age"] < 3.5:
            assert time.monotonic() < deadline, "the page kept beating while hung"
            time.sleep(0.1)
        deadline = time.monotonic() + 8
        while kstate(live)["beat_age"] >= 2.5:  # the loop ends: it beats again
            assert time.monotonic() < deadline, "the page did not beat again"
            time.sleep(0.1)
        assert page.js_errors == []  # type: ignore[attr-defined]
    finally:
        page.context.close()


def test_the_fallback_page_is_calm_static_and_bilingual(live: LiveStation, browser: Browser,
                                                        tmp_path: Path) -> None:
    r = httpx.get(f"{live.url}/fallback", timeout=5)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-store"
    csp = r.headers["content-security-policy"]  # the station's strict page policy
    assert csp == page_csp(r.text) and "'unsafe-inline'" not in csp
    text = r.text
    assert "<script" not in text.lower() and "/exhibit/" not in text and "/ws" not in text
    assert "这个展项正在休息一下" in text and "Please ask a member of staff" in text
    css = httpx.get(f"{live.url}/fallback.css", timeout=5)
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("requestfailed", lambda req: problems.append(req.url))
        page.goto(f"{live.url}/fallback")
        page.wait_for_load_state("networkidle")
        assert problems == []  # the policy lets its own stylesheet in, and nothing fails
        # it looks like the station's pages: dark blue, large light text
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == \
            "rgb(15, 30, 58)"
        size = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.zh'))"
                             ".fontSize)")
        assert size >= 40
        assert page.evaluate("document.scripts.length") == 0
        shot = tmp_path / "kiosk-fallback.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 5000
        keep_for_docs(shot, "kiosk-fallback")
    finally:
        context.close()
