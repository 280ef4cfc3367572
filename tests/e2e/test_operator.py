"""Operator commands as visitors see them, in a real browser: a message banner, the closed
notice, the screen off and on.

The station runs in this process (station.test_operator.LiveStation) so the test can call
its operator methods the way the hub client does. Screenshots at 1280×720 go to
docs/screenshots/operator-*.png with SHOWFLOOR_UPDATE_SCREENSHOTS=1.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from conftest import UPDATE_SCREENSHOTS, keep_for_docs
from station._support import DEMO
from station.test_operator import LiveStation

from ._browser import axe, open_surface, press, settle, state, touch_attract, view, wait_for

UPDATE = UPDATE_SCREENSHOTS
HD = {"width": 1280, "height": 720}
MESSAGE = {"zh-CN": "展厅将于 17:00 关闭，请抓紧时间参观。",
           "en": "The hall closes at 5 pm. Please finish your visit soon."}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveStation]:
    st = LiveStation(DEMO, tmp_path / "data")
    yield st
    st.stop()


def keep(page: Page, tmp: Path, name: str) -> Path:
    """A still screenshot; copied to docs/screenshots only when asked for."""
    settle(page)
    shot = tmp / f"{name}.png"
    page.screenshot(path=str(shot))
    keep_for_docs(shot, name)
    return shot


def pixels(page: Page) -> Image.Image:
    return Image.open(io.BytesIO(page.screenshot())).convert("RGB")


def banner(page: Page) -> str | None:
    text = page.locator("#message .message__text")
    return text.text_content() if text.count() else None


def test_a_message_shows_in_the_page_language_and_goes_after_its_seconds_and_on_reset(
        browser: Browser, live: LiveStation, tmp_path: Path) -> None:
    page = open_surface(browser, live.port, viewport=HD)
    touch_attract(page)
    wait_for(page, scene="intro", phase="session")
    live.call("show_message", MESSAGE, 3)
    page.wait_for_function("window.showfloor.state.message !== null")
    shown_at = time.monotonic()
    assert banner(page) == MESSAGE["zh-CN"]
    region = page.locator("#message")
    assert region.get_attribute("role") == "status"
    assert region.get_attribute("aria-live") == "polite"
    assert page.locator("#message .message__card").get_attribute("lang") == "zh-CN"
    # calm and readable, and it blocks nothing: touches go through it, the actions stay free
    style = page.evaluate("""() => { const t = document.querySelector('.message__text');
        const c = document.querySelector('.message__card'); const s = getComputedStyle(t);
        const r = c.getBoundingClientRect();
        const events = getComputedStyle(document.getElementById('message')).pointerEvents;
        return {size: parseFloat(s.fontSize), events,
                top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }""")
    assert style["size"] >= 20 and style["events"] == "none"
    assert style["bottom"] < 720 / 2 and style["left"] > 0 and style["right"] < 1280
    next_button = page.get_by_role("button", name=view(page)["ui"]["next"], exact=True)
    box = next_button.bounding_box()
    assert box is not None and box["y"] > style["bottom"]
    # the visitor switches language: the banner follows
    press(page, view(page)["ui"]["language"])
    wait_for(page, lang="en")
    assert banner(page) == MESSAGE["en"]
    assert page.locator("#message .message__card").get_attribute("lang") == "en"
    assert page.js_errors == []  # type: ignore[attr-defined]
    # gone after its 3 seconds
    page.wait_for_function("window.showfloor.state.message === null", timeout=6000)
    assert time.monotonic() - shown_at >= 2.0  # not before its time (and gone within 6 s)
    assert page.locator("#message").evaluate("e => e.childElementCount") == 0
    # a long one: the screenshot for the docs (in Chinese, on the first scene); then a reset
    press(page, view(page)["ui"]["language"])
    wait_for(page, lang="zh-CN")
    live.call("show_message", MESSAGE, 600)
    page.wait_for_function("window.showfloor.state.message !== null")
    keep(page, tmp_path, "operator-message")
    assert axe(page) == []
    live.call("end_visit")
    wait_for(page, phase="attract", message=None)
    assert banner(page) is None


def test_a_message_in_a_language_the_page_lacks_falls_back_to_the_default(
        browser: Browser, live: LiveStation) -> None:
    page = open_surface(browser, live.port, viewport=HD)
    wait_for(page, phase="attract")
    live.call("set_language", "en")
    wait_for(page, lang="en")
    live.call("show_message", {"zh-CN": "只有中文"}, 30)  # no English: the exhibit default
    page.wait_for_function("window.showfloor.state.message !== null")
    assert banner(page) == "只有中文"
    assert page.locator("#message .message__card").get_attribute("lang") == "zh-CN"
    # a page that opens while it shows gets it too
    late = open_surface(browser, live.port, viewport=HD)
    late.wait_for_function("window.showfloor.state.message !== null")
    assert banner(late) == "只有中文"


def test_closed_shows_a_calm_bilingual_notice_and_takes_no_start(
        browser: Browser, live: LiveStation, tmp_path: Path) -> None:
    page = open_surface(browser, live.port, viewport=HD)
    touch_attract(page)
    wait_for(page, phase="session")
    live.call("set_closed", True)
    wait_for(page, phase="attract", closed=True)
    notice = page.locator("#notice .notice__card")
    notice.wait_for(state="visible")
    lines = page.locator("#notice p")
    assert lines.all_text_contents() == ["本展项现在暂停开放", "This exhibit is closed now"]
    assert [lines.nth(i).get_attribute("lang") for i in range(2)] == ["zh-CN", "en"]
    assert page.locator("#notice").get_attribute("role") == "status"
    # the loop runs on, but nothing invites a touch, and a touch starts nothing
    assert not page.locator(".attract__call").is_visible()
    sent = page.evaluate("window.showfloor.inputs")
    page.mouse.click(640, 600)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    assert page.evaluate("window.showfloor.inputs") == sent
    assert live.health()["session_active"] is False
    keep(page, tmp_path, "operator-closed")
    assert axe(page) == []
    # English on screen: English first
    live.call("set_language", "en")
    wait_for(page, lang="en", closed=True)
    page.wait_for_function(
        "document.querySelector('#notice .notice__main')?.textContent === 'This exhibit is closed now'")
    live.call("set_closed", False)
    wait_for(page, closed=False)
    assert page.locator("#notice").evaluate("e => e.childElementCount") == 0
    page.locator(".attract__call").wait_for(state="visible")
    touch_attract(page)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_screen_off_is_pure_black_takes_no_touch_and_on_restores_the_view(
        browser: Browser, live: LiveStation) -> None:
    page = open_surface(browser, live.port, viewport=HD)
    touch_attract(page)
    wait_for(page, scene="intro", phase="session")
    live.call("show_message", MESSAGE, 600)
    page.wait_for_function("window.showfloor.state.message !== null")
    live.call("set_screen", False)
    wait_for(page, screen="off", phase="attract")
    page.wait_for_timeout(300)
    img = pixels(page)
    assert img.size == (1280, 720)
    assert img.getextrema() == ((0, 0), (0, 0), (0, 0)), "not pure black"
    # nothing plays
    playing = page.evaluate("[...document.querySelectorAll('audio, video')].filter(m => !m.paused).length")
    assert playing == 0
    # touches and keys send nothing
    sent = page.evaluate("window.showfloor.inputs")
    inputs = live.health()["inputs"]
    for x, y in ((640, 360), (1200, 40), (100, 650)):
        page.mouse.click(x, y)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    assert page.evaluate("window.showfloor.inputs") == sent
    h = live.health()
    assert h["inputs"] == inputs and h["session_active"] is False and h["screen"] == "off"
    # a page that opens now is black at once
    late = open_surface(browser, live.port, viewport=HD)
    late.wait_for_function("window.showfloor.state.screen === 'off'")
    assert pixels(late).getextrema() == ((0, 0), (0, 0), (0, 0))
    # on again: the current view (attract, the visit ended), touches start a visit
    live.call("set_screen", True)
    wait_for(page, screen="on")
    page.wait_for_timeout(300)
    lit = pixels(page)
    assert lit.getextrema() != ((0, 0), (0, 0), (0, 0))
    assert page.get_by_role("heading", name=view(page)["title"]).is_visible()
    assert state(page)["scene"] == "attract"
    touch_attract(page)
    wait_for(page, phase="session", scene="intro")
    assert page.js_errors == []  # type: ignore[attr-defined]
