"""A visitor at the demo station, in a real browser: the whole visit, languages, leaving."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page

from station._support import DEMO, RunningStation, start_station

from ._browser import advance, open_surface, press, state, touch_attract, view, wait_for


def walk_to(page: Page, scene_type: str, choose: int = 0) -> dict[str, Any]:
    """Advance, choose and answer like a visitor until a scene of ``scene_type`` shows."""
    for _ in range(60):
        v = view(page)
        if v["type"] == scene_type and v["phase"] == "session":
            return v
        step(page, v, choose)
    raise AssertionError(f"never reached a {scene_type} scene")


def step(page: Page, v: dict[str, Any], choose: int = 0) -> None:
    before = page.evaluate("window.showfloor.received")
    if v["type"] == "story":
        press(page, v["choices"][min(choose, len(v["choices"]) - 1)]["label"])
    elif v["type"] == "quiz" and v["stage"] == "question":
        q = v["question"]
        press(page, q["choices"][0]["text"])
        if q["kind"] == "multiple":
            press(page, v["ui"]["check"])
    elif v["type"] == "end":
        page.mouse.click(960, 540)
    else:
        advance(page)
    page.wait_for_function(f"window.showfloor.received > {before}")
    page.wait_for_timeout(50)


def test_a_visit_from_touch_to_ending_and_back_to_attract(browser: Browser,
                                                          demo: RunningStation) -> None:
    page = open_surface(browser, demo.port)
    assert wait_for(page, phase="attract", scene="attract")["type"] == "attract"
    touch_attract(page)
    wait_for(page, phase="session", scene="intro")
    seen = {"media"}
    v = walk_to(page, "story")
    seen.add("story")
    assert page.get_by_role("button", name=v["choices"][0]["label"]).is_visible()
    v = walk_to(page, "quiz")
    seen.add("quiz")
    answered = 0
    while view(page)["type"] == "quiz":
        v = view(page)
        if v["stage"] == "question":
            answered += 1
        if v["stage"] == "feedback":
            assert page.get_by_text(v["answer"]["explanation"]).is_visible()
        if v["stage"] == "summary":
            assert v["count"] == 8
        step(page, v)
    assert answered == 8
    v = view(page)
    assert v["type"] == "end"
    seen.add("end")
    assert page.get_by_text(v["text"]).is_visible()
    step(page, v)
    wait_for(page, phase="attract", scene="attract")
    assert seen == {"media", "story", "quiz", "end"}
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_switching_language_mid_session(browser: Browser, demo: RunningStation) -> None:
    page = open_surface(browser, demo.port)
    touch_attract(page)
    v = walk_to(page, "story")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    zh_title = v["title"]
    press(page, v["ui"]["language"])  # the switch is labelled with the other language
    wait_for(page, lang="en", scene=v["scene"])
    en = view(page)
    assert page.evaluate("document.documentElement.lang") == "en"
    assert en["title"] != zh_title
    assert page.get_by_role("heading", name=en["title"]).is_visible()
    for c in en["choices"]:
        assert page.get_by_role("button", name=c["label"]).is_visible()
    # the old scene is hidden (no cross-fade between languages) and taken out of the DOM
    # after the next frame
    page.get_by_text(zh_title).wait_for(state="hidden", timeout=1000)
    page.get_by_text(zh_title).wait_for(state="detached", timeout=3000)


def test_walking_away_counts_down_resets_and_leaves_no_trace(browser: Browser,
                                                             tmp_path: Path) -> None:
    profile = tmp_path / "quick.yaml"
    profile.write_text(f"station: {{id: quick, name: Quick reset}}\nexhibit: {DEMO}\n"
                       "idle: {timeout: 3, countdown: 4}\n", encoding="utf-8")
    st = start_station(profile, data=tmp_path / "d")
    try:
        page = open_surface(browser, st.port)
        touch_attract(page)
        v = walk_to(page, "story")
        choice = v["choices"][1]["label"]
        press(page, choice)
        page.wait_for_timeout(300)
        after = view(page)
        remembered = [t for t in (choice, after.get("text"), after.get("title")) if t]
        # a careless component kept something: the reset must clear it
        page.evaluate("""() => { localStorage.setItem('answer', 'x'); sessionStorage.setItem('k', 'v');
                                 indexedDB.open('leaky-db', 1); }""")
        page.wait_for_timeout(200)
        # the visitor walks away: no input; narration keeps the timer waiting until it ends
        page.evaluate("document.querySelectorAll('audio, video').forEach(m => m.pause())")
        dialog = page.get_by_role("dialog")
        dialog.wait_for(state="visible", timeout=60000)
        assert state(page)["overlay"] == "idle_warning"
        assert dialog.get_by_role("button", name=view(page)["ui"]["still_here"]).is_visible()
        wait_for(page, phase="attract", timeout=15000)
        page.wait_for_timeout(500)
        text = page.evaluate("document.body.innerText")
        for t in remembered:
            assert t not in text, t
        html = page.content()
        for t in remembered:
            assert t not in html
        storage = page.evaluate("""async () => ({
            local: localStorage.length, session: sessionStorage.length,
            idb: (await indexedDB.databases()).length,
            caches: (await caches.keys()).length })""")
        assert storage == {"local": 0, "session": 0, "idb": 0, "caches": 0}
        assert view(page)["lang"] == "zh-CN"
    finally:
        st.stop()


def test_i_am_still_here_keeps_the_visit(browser: Browser, tmp_path: Path) -> None:
    profile = tmp_path / "quick.yaml"
    profile.write_text(f"station: {{id: quick2, name: Quick}}\nexhibit: {DEMO}\n"
                       "idle: {timeout: 2, countdown: 30}\n", encoding="utf-8")
    st = start_station(profile, data=tmp_path / "d")
    try:
        page = open_surface(browser, st.port)
        touch_attract(page)
        v = walk_to(page, "story")
        page.evaluate("document.querySelectorAll('audio, video').forEach(m => m.pause())")
        page.get_by_role("dialog").wait_for(state="visible", timeout=60000)
        press(page, v["ui"]["still_here"])
        wait_for(page, phase="session", scene=v["scene"])
        assert page.get_by_role("dialog").count() == 0 or not page.get_by_role(
            "dialog").is_visible()
    finally:
        st.stop()


def test_control_and_display_surfaces_stay_in_step(browser: Browser, tmp_path: Path) -> None:
    st = start_station(DEMO / "stations" / "projector.yaml", data=tmp_path / "d")
    try:
        panel = open_surface(browser, st.port, "panel")
        wall = open_surface(browser, st.port, "wall")
        assert state(panel)["role"] == "control" and state(wall)["role"] == "display"
        touch_attract(panel)
        for scene in ("intro", "brain", "heart_lungs"):
            wait_for(panel, scene=scene)
            wait_for(wall, scene=scene)
            assert view(panel) == view(wall)
            # the display draws no controls a visitor could press
            assert wall.locator("[data-sends]").count() == 0
            assert panel.locator("[data-sends]").count() > 0
            advance(panel)
    finally:
        st.stop()


def test_a_reload_resumes_the_current_scene(browser: Browser, demo: RunningStation) -> None:
    page = open_surface(browser, demo.port)
    touch_attract(page)
    wait_for(page, scene="intro")
    advance(page)
    wait_for(page, scene="brain")
    page.reload()
    page.wait_for_function("window.showfloor && window.showfloor.connected")
    assert wait_for(page, scene="brain", phase="session")["type"] == "media"


def test_the_recorded_events_replay_to_the_same_views(browser: Browser, tmp_path: Path) -> None:
    data = tmp_path / "data"
    st = start_station(DEMO, data=data)
    try:
        page = open_surface(browser, st.port)
        touch_attract(page)
        walk_to(page, "quiz", choose=1)
        press(page, view(page)["ui"]["language"])
        wait_for(page, lang="en")
        walk_to(page, "end")
        step(page, view(page))
        wait_for(page, phase="attract")
    finally:
        st.stop()
    log = tmp_path / "events.jsonl"
    out = subprocess.run([sys.executable, "-m", "showfloor", "events", str(data)],
                         capture_output=True, text=True, check=True)
    log.write_text(out.stdout, encoding="utf-8")
    kinds = [json.loads(line)["kind"] for line in out.stdout.splitlines()]
    assert kinds.count("session_ended") == 1 and kinds.count("answered") == 8
    r = subprocess.run([sys.executable, "-m", "showfloor", "replay", str(log)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert "views match" in r.stdout


def test_a_missing_image_shows_a_calm_fallback_and_is_recorded(browser: Browser,
                                                              tmp_path: Path) -> None:
    import shutil

    ex = tmp_path / "ex"
    shutil.copytree(DEMO, ex)
    st = start_station(ex, data=tmp_path / "d")
    try:
        (ex / "media" / "brain.png").unlink()  # lost after the station checked it
        page = open_surface(browser, st.port)
        touch_attract(page)
        wait_for(page, scene="intro")
        advance(page)
        wait_for(page, scene="brain")
        page.wait_for_timeout(800)
        broken = page.evaluate("""[...document.querySelectorAll('img')].filter(i =>
            i.complete && i.naturalWidth === 0 && i.getBoundingClientRect().width > 0 &&
            getComputedStyle(i).visibility !== 'hidden' && getComputedStyle(i).display !== 'none'
        ).length""")
        assert broken == 0
        assert page.get_by_role("heading", name=view(page)["title"]).is_visible()
        health = st.health()
        assert health["asset_errors"] >= 1
        assert health["phase"] == "session"
    finally:
        st.stop()
