"""What visitors see: every scene type at 1080p and in portrait, against stored pictures;
and, at 1080p, an accessibility audit (axe-core) of each and the keyboard check — on the
same walk as its picture. Each screen is walked to once, at 1080p; a portrait page then
opens on the same station and draws that screen from its first frame, as a portrait
station's page would after a reload.

References live in tests/e2e/screenshots/ at half size. After a deliberate change to the
look, regenerate them with SHOWFLOOR_UPDATE_SCREENSHOTS=1 and look at every one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Browser, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from conftest import UPDATE_SCREENSHOTS, keep_for_docs
from station._support import DEMO, RunningStation, start_station

from ._browser import (
    LANDSCAPE,
    PORTRAIT,
    axe,
    open_surface,
    press,
    settle,
    state,
    touch_attract,
    view,
    wait_for,
)
from .test_visitor import step, walk_to

HERE = Path(__file__).resolve().parent
REFERENCES = HERE / "screenshots"
UPDATE = UPDATE_SCREENSHOTS
#: Mean absolute difference per channel (0–255) allowed, and share of pixels that may differ a lot.
MEAN_TOLERANCE = 2.5
PIXEL_TOLERANCE = 0.01

SCREENS = ["attract", "media", "story", "quiz-question", "quiz-feedback", "quiz-summary",
           "end", "idle-warning"]


def reach(page: Page, screen: str) -> None:
    """Bring a fresh station to ``screen`` the way a visitor would."""
    if screen == "attract":
        wait_for(page, phase="attract")
        return
    touch_attract(page)
    wait_for(page, scene="intro")
    if screen == "media":
        return
    if screen in ("story", "idle-warning"):
        walk_to(page, "story")
        return
    v = walk_to(page, "quiz")
    if screen == "quiz-question":
        return
    q = v["question"]
    right = next(c for c in q["choices"] if c["id"] in _right_answer(q))
    press(page, right["text"])
    if q["kind"] == "multiple":
        press(page, v["ui"]["check"])
    wait_for(page, stage="feedback")
    if screen == "quiz-feedback":
        return
    while view(page)["stage"] != "summary":
        step(page, view(page))
    if screen == "quiz-summary":
        return
    walk_to(page, "end")


def _right_answer(q: dict[str, Any]) -> set[str]:
    # the demo's first choice ids are not always right: find it from the content
    from showfloor.content.load import load

    ex = load(DEMO).exhibit
    assert ex is not None
    quiz = next(s for s in ex.scenes if s.type == "quiz")
    from showfloor.content.scenes.quiz import choices_of

    question = next(x for x in quiz.questions if x.id == q["id"])  # type: ignore[attr-defined]
    return {c.id for c in choices_of(question) if c.correct}


@pytest.fixture(scope="module")
def shots_station(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shots")


def _station(tmp: Path, screen: str) -> RunningStation:
    if screen == "idle-warning":
        profile = tmp / f"idle-{os.getpid()}.yaml"
        profile.write_text(f"station: {{id: shots, name: Shots}}\nexhibit: {DEMO}\n"
                           "idle: {timeout: 1, countdown: 600}\n", encoding="utf-8")
        return start_station(profile, "--seed", "7", data=tmp / f"d-{screen}")
    return start_station(DEMO, "--seed", "7", data=tmp / f"d-{screen}")


def compare(shot: Path, name: str) -> None:
    ref = REFERENCES / f"{name}.png"
    img = Image.open(shot).convert("RGB")
    small = img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)
    if UPDATE:
        REFERENCES.mkdir(parents=True, exist_ok=True)
        small.save(ref, optimize=True)
        return
    if not ref.exists():
        out = shot.with_name(f"{name}-half.png")
        small.save(out)
        pytest.fail(f"no reference for {name}: see {out}; store it with "
                    "SHOWFLOOR_UPDATE_SCREENSHOTS=1, look at it and commit it")
    want = Image.open(ref).convert("RGB")
    assert want.size == small.size, f"{name}: size {small.size}, reference {want.size}"
    diff = ImageChops.difference(small, want)
    mean = sum(ImageStat.Stat(diff).mean) / 3
    gray = diff.convert("L").point(lambda v: 255 if v > 40 else 0)
    share = ImageStat.Stat(gray).mean[0] / 255
    if mean > MEAN_TOLERANCE or share > PIXEL_TOLERANCE:
        out = shot.with_name(f"{name}-diff.png")
        diff.save(out)
        pytest.fail(f"{name} differs from its reference: mean {mean:.2f} (≤ {MEAN_TOLERANCE}), "
                    f"{share:.2%} of pixels changed (≤ {PIXEL_TOLERANCE:.0%}); see {shot} and {out}")


#: the screens whose actions the keyboard check presses (arrows move, Enter presses)
KEYBOARD_SCREENS = ("story", "quiz-question")
#: hides the idle countdown's digits (they tick) for the picture; removed again for the audit
HIDE_COUNTDOWN = """() => { const s = new CSSStyleSheet();
    s.replaceSync('.idle__number, .idle__count { visibility: hidden }');
    window.__hideCountdown = s;
    document.adoptedStyleSheets = [...document.adoptedStyleSheets, s]; }"""
SHOW_COUNTDOWN = """() => { document.adoptedStyleSheets =
    document.adoptedStyleSheets.filter(s => s !== window.__hideCountdown); }"""


def audit(page: Page, screen: str) -> list[str]:
    """The accessibility checks of a screen as it is drawn: axe-core finds no violation,
    and on the screens with actions every action is reachable by keyboard alone (this
    presses one, so it runs after the screenshot). Returns what failed, in plain words."""
    problems: list[str] = []
    if screen == "idle-warning":
        page.evaluate(SHOW_COUNTDOWN)  # the countdown's digits are audited too
        settle(page)
    violations = axe(page)
    if violations:
        problems.append(f"{screen}: axe-core found accessibility violations: {violations}")
    if screen in KEYBOARD_SCREENS:
        # every action is reachable by keyboard alone: arrows move, Enter presses
        before = page.evaluate("window.showfloor.received")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        try:
            page.wait_for_function(f"window.showfloor.received > {before}")
        except PlaywrightTimeoutError:
            problems.append(f"{screen}: ArrowDown then Enter sent the station nothing "
                            "(an action is not reachable by keyboard alone)")
    return problems


def shoot(page: Page, shots: Path, screen: str, orientation: str) -> Path:
    """The screen as it stands, still, in ``shots/SCREEN-ORIENTATION.png``."""
    if screen == "idle-warning":
        page.evaluate("document.querySelectorAll('audio, video').forEach(m => m.pause())")
        page.get_by_role("dialog").wait_for(state="visible", timeout=60000)
        page.wait_for_timeout(1200)
        # a constructed sheet: an inline <style> would break the page's CSP
        page.evaluate(HIDE_COUNTDOWN)
    settle(page)
    name = f"{screen}-{orientation}"
    shot = shots / f"{name}.png"
    page.screenshot(path=str(shot))
    if orientation == "landscape" or screen in ("attract", "quiz-question"):
        keep_for_docs(shot, name)
    return shot


#: what a second page must show before it is on the same screen as the first
SAME_SCREEN = ("phase", "scene", "type", "stage", "lang", "overlay")


@pytest.mark.parametrize("screen", SCREENS)
def test_every_scene_type_looks_as_designed(browser: Browser, shots_station: Path,
                                            screen: str) -> None:
    """Each screen against its stored pictures, at 1080p and in portrait; at 1080p (the
    stations' own size, and the viewport the audit always used) also without accessibility
    violations, keyboard-only. One station and one walk a screen: the portrait page joins
    the station once the 1080p page has reached the screen (before the audit, whose key
    press moves it on)."""
    st = _station(shots_station, screen)
    try:
        page = open_surface(browser, st.port, viewport=LANDSCAPE)
        reach(page, screen)
        shots = {"landscape": shoot(page, shots_station, screen, "landscape")}
        shown = state(page)  # the screen in the picture: the portrait page must show it too
        tall = open_surface(browser, st.port, viewport=PORTRAIT)
        try:
            wait_for(tall, **{k: shown[k] for k in SAME_SCREEN})
            shots["portrait"] = shoot(tall, shots_station, screen, "portrait")
        finally:
            tall.context.close()
        # every check is made, and all that fail are told together: a changed picture does
        # not hide an accessibility problem, nor the other way round
        problems = audit(page, screen)
        looks = []
        for orientation, shot in shots.items():
            try:
                compare(shot, f"{screen}-{orientation}")
            except (AssertionError, pytest.fail.Exception) as look:
                looks.append(str(look))
        problems = looks + problems
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)
    finally:
        st.stop()
