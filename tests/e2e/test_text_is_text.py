"""Exhibit text is shown as text, never as markup, in every scene type and the operator's
message: a title, body, choice, answer, caption, label or message that looks like HTML
shows its angle brackets as characters, and nothing in it runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page

from showfloor.content.scenes import registry
from station._support import DEMO
from station.test_operator import LiveStation

from ._browser import open_surface, touch_attract, view, wait_for
from .test_visitor import step

#: markup that would run (an image whose error handler sets a global) and markup that
#: would only format, in every text of the exhibit
HOSTILE = '<img src=x onerror="window.__pwned=1"> <b>bold</b>'


def t(zh: str, en: str) -> str:
    """A text in both languages, each carrying the markup, as YAML."""
    return json.dumps({"zh-CN": f"{zh} {HOSTILE}", "en": f"{en} {HOSTILE}"},
                      ensure_ascii=False)


EXHIBIT = f"""\
format: 1
id: text-is-text
version: 1.0.0
title: {t("文字", "Text")}
languages: [zh-CN, en]
default_language: zh-CN
sources:
  - {{id: src, name: {t("来源", "A source")}, url: "https://example.org/"}}
attract: attract
start: picture
scenes:
  - id: attract
    type: attract
    loop: [{{image: media/pic.png, duration: 6}}]
    call: {t("触摸开始", "Touch to start")}
  - id: picture
    type: media
    title: {t("图片", "A picture")}
    image: {{src: media/pic.png, fit: contain, alt: {t("一张图", "A picture")}}}
    body: {t("正文", "Body")}
    source: src
    next: choose
  - id: choose
    type: story
    title: {t("故事", "A story")}
    text: {t("你会怎么做？", "What would you do?")}
    choices:
      - {{id: one, label: {t("选这个", "This one")}, goto: ask}}
      - {{id: two, label: {t("选那个", "That one")}, goto: ask}}
  - id: ask
    type: quiz
    title: {t("问答", "A quiz")}
    intro: {t("答一题", "One question")}
    questions:
      - id: q1
        prompt: {t("对吗？", "Is it so?")}
        source: src
        explanation: {t("解释", "Why")}
        choices:
          - {{id: a, text: {t("对", "Yes")}, correct: true, feedback: {t("答对了", "Right")}}}
          - {{id: b, text: {t("不对", "No")}, feedback: {t("再想想", "Think again")}}}
    next: organ
  - id: organ
    type: model
    title: {t("大脑", "The brain")}
    model: media/brain.glb
    body: {t("转一转", "Turn it")}
    auto_rotate: 0
    hotspots:
      - id: front
        node: frontal_lobe
        label: {t("额叶", "Frontal lobe")}
        detail: {{text: {t("做决定", "Decisions")}}}
    next: place
  - id: place
    type: panorama
    title: {t("草地", "A meadow")}
    image: media/meadow-360.png
    body: {t("看看四周", "Look around")}
    hotspots:
      - id: rest
        yaw: 0
        pitch: 0
        label: {t("休息", "Rest")}
        detail: {{text: {t("好好休息", "Rest well")}}}
    next: asking
  - id: asking
    type: ask
    title: {t("提问", "Ask")}
    prompt: {t("你想知道什么？", "What would you like to know?")}
    next: ending
  - id: ending
    type: end
    messages: [{{text: {t("再见", "Goodbye")}}}]
"""

#: the ask scene's knowledge base: a question, an answer and a topic carrying the markup
KNOWLEDGE = f"""\
topic: {{id: things, title: {t("话题", "A topic")}}}
entries:
  - id: one-thing
    questions:
      zh-CN: {json.dumps([f"这是什么 {HOSTILE}", "那是什么东西", "请问这个是什么"],
                         ensure_ascii=False)}
      en: {json.dumps([f"What is this {HOSTILE}", "What is that thing",
                      "Tell me what this is"])}
    answer: {t("这是一个例子", "It is an example")}
    source: src
    reviewed_by: tests
    reviewed_on: 2026-12-01
"""


@pytest.fixture
def station(tmp_path: Path) -> Iterator[LiveStation]:
    root = tmp_path / "exhibit"
    (root / "media").mkdir(parents=True)
    (root / "exhibit.yaml").write_text(EXHIBIT, "utf-8")
    (root / "knowledge").mkdir()
    (root / "knowledge" / "things.yaml").write_text(KNOWLEDGE, "utf-8")
    Image.new("RGB", (800, 450), (40, 90, 160)).save(root / "media" / "pic.png")
    for name in ("organs/brain.glb", "meadow-360.png"):
        shutil.copy(DEMO / "media" / name, root / "media" / Path(name).name)
    st = LiveStation(root, tmp_path / "data")
    yield st
    st.stop()


def assert_inert(page: Page, where: str) -> None:
    """Nothing ran, no element came from the text, and the markup shows as characters."""
    found = page.evaluate("""() => ({
        pwned: window.__pwned !== undefined,
        elements: document.querySelectorAll('img[src="x"], b').length,
        shown: document.body.innerText.includes('<b>bold</b>')})""")
    assert found == {"pwned": False, "elements": 0, "shown": True}, (where, found)


def test_every_scene_type_and_the_operator_message_show_markup_as_text(
        browser: Browser, station: LiveStation) -> None:
    page = open_surface(browser, station.port, viewport={"width": 1280, "height": 720})
    wait_for(page, phase="attract")
    page.locator("section.attract").wait_for(state="visible")
    assert_inert(page, "attract")
    touch_attract(page)
    seen = {"attract"}
    station.call("show_message", {"zh-CN": f"通知 {HOSTILE}", "en": f"Notice {HOSTILE}"}, 120)
    page.locator("#message .message__text").wait_for(state="visible")
    assert HOSTILE in (page.locator("#message .message__text").text_content() or "")
    while True:
        v = view(page)
        if v["phase"] != "session":
            break
        page.wait_for_selector(f".scene[data-scene='{v['scene']}']:not(.scene--leaving)",
                               state="visible")
        seen.add(v["type"])
        if v["type"] in ("model", "panorama") and v["type"] + "-detail" not in seen:
            seen.add(v["type"] + "-detail")  # open the hotspot: its label and detail
            # (the hotspot follows the drawing every frame: a click that waits for it to
            # stand still can wait long under a software renderer)
            hotspot = page.locator(f".hotspot[data-hotspot='{v['hotspots'][0]['id']}']")
            hotspot.dispatch_event("click")
            hotspot.and_(page.locator("[aria-expanded='true']")).wait_for()
        assert_inert(page, f"{v['scene']} ({v.get('stage', '')})")
        if v["type"] == "model":  # close it again: it lies over the way on
            hotspot.dispatch_event("click")
            hotspot.and_(page.locator("[aria-expanded='false']")).wait_for(state="attached")
        if v["type"] == "end":
            break
        if v["type"] == "ask" and v["state"] == "asking":
            page.locator(".ask-chip").first.click()  # a suggested question: its answer
            page.wait_for_function("window.showfloor.lastView.state === 'answer'")
            page.wait_for_selector(".ask__answer", state="visible")
            assert_inert(page, "ask (answer)")
            before = page.evaluate("window.showfloor.received")
            page.get_by_role("button", name="完成", exact=True).first.click()  # done
            page.wait_for_function(f"window.showfloor.received > {before}")
            continue
        step(page, v)
    assert seen >= set(registry()), sorted(set(registry()) - seen)
    assert page.js_errors == []  # type: ignore[attr-defined]
