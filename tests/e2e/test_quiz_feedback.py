"""What a visitor reads after answering, in a real browser: the four states of a choice,
a verdict that agrees with them, a summary that adds up, an ending that fits the score,
a source line that large text cannot push away, and a countdown that a reload keeps.

A small exhibit written here (questions in a fixed order) drives it; the pictures of the
multiple-choice feedback and of the low-score ending are compared with references in
tests/e2e/screenshots/ (in both languages and both orientations).
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from station._support import RunningStation, start_station

from ._browser import (
    LANDSCAPE,
    PORTRAIT,
    advance,
    open_surface,
    press,
    settle,
    touch_attract,
    view,
    wait_for,
)
from .test_look import compare

CORPUS_PNG = Path(__file__).resolve().parents[1] / "corpus" / "_valid" / "media" / "pic.png"

EXHIBIT = """\
format: 1
id: quiz-feedback
version: 1.0.0
title: {zh-CN: 远离毒品, en: Choose Well}
languages: [zh-CN, en]
default_language: zh-CN
sources:
  - id: nida
    name: US National Institute on Drug Abuse (NIDA) — The Adolescent Brain and Substance Use
    url: https://nida.nih.gov/
  - id: who
    name: World Health Organization — Tobacco (fact sheet)
    url: https://www.who.int/
idle: {timeout: 600, countdown: 15}
attract: attract
start: fact
variables:
  quiz_percent: {type: int, default: 0}
  quiz_passed: {type: bool, default: false}
scenes:
  - id: attract
    type: attract
    loop: [{image: media/pic.png, duration: 6}]
    call: {zh-CN: 触摸屏幕开始, en: Touch to start}
  - id: fact
    type: media
    title: {zh-CN: 成长中的大脑, en: A growing brain}
    image: media/pic.png
    source: nida
    body:
      zh-CN: |-
        人的大脑要到二十五岁左右才基本发育成熟。负责计划、判断和自控的前额叶，是最晚成熟的区域之一。

        在青春期，大脑会不断建立新的连接，也会修剪不常用的连接。这让青少年学得很快，但也更容易受到毒品、烟草和酒精的影响。

        毒品会干扰大脑中传递信息的化学物质，改变我们感受快乐、做决定和记住事情的方式。越早接触，影响可能越持久。

        好消息是：健康的习惯、充足的睡眠、运动和与信任的人交流，都能帮助大脑健康成长。
      en: |-
        The human brain keeps developing until about the mid-twenties. The front part, which
        handles planning, judgement and self-control, is one of the last areas to mature.

        During the teenage years the brain keeps building new connections and trimming the ones
        it does not use. That makes teenagers quick learners, but also more easily affected by
        drugs, tobacco and alcohol.

        Drugs interfere with the chemicals that carry messages in the brain, changing how we
        feel pleasure, make decisions and remember things. The earlier someone starts, the
        longer the effects can last.

        The good news: healthy habits, enough sleep, exercise and talking to people you trust
        all help the brain grow well.
    next: quiz
  - id: quiz
    type: quiz
    title: {zh-CN: 知识小挑战, en: Quick quiz}
    results: {percent: quiz_percent, passed: quiz_passed}
    next: ending
    questions:
      - id: affect
        kind: multiple
        points: 2
        source: nida
        prompt:
          zh-CN: 毒品可能会影响下面哪些方面？（多选）
          en: Which of these can drugs affect? (Choose all that apply.)
        choices:
          - id: memory
            text: {zh-CN: 记忆力, en: Memory}
            correct: true
            feedback:
              zh-CN: 对，毒品会干扰大脑储存和回想信息。
              en: Yes. Drugs can interfere with how the brain stores and recalls information.
          - id: attention
            text: {zh-CN: 注意力, en: Attention}
            correct: true
          - id: heart_rate
            text: {zh-CN: 心跳, en: Heart rate}
            correct: true
          - id: eye_colour
            text: {zh-CN: 眼睛的颜色, en: Eye colour}
            feedback:
              zh-CN: 眼睛的颜色由基因决定，毒品不会改变它。
              en: Eye colour is set by your genes. Drugs don't change it.
          - id: blood_type
            text: {zh-CN: 血型, en: Blood type}
        explanation:
          zh-CN: 毒品会影响大脑和身体的很多部分，包括记忆力、注意力和心脏。
          en: Drugs can affect the brain and many parts of the body, including memory and the heart.
      - id: liver
        kind: single
        source: who
        prompt: {zh-CN: 哪个器官负责分解酒精？, en: Which organ breaks down alcohol?}
        choices:
          - {id: lungs, text: {zh-CN: 肺, en: The lungs}}
          - {id: liver, text: {zh-CN: 肝脏, en: The liver}, correct: true}
          - {id: bones, text: {zh-CN: 骨骼, en: The bones}}
      - id: smoke
        kind: true-false
        source: who
        prompt: {zh-CN: 二手烟也会伤害周围的人。, en: Second-hand smoke harms people nearby too.}
        answer: true
  - id: ending
    type: end
    title: {zh-CN: 谢谢你的参与, en: Thanks for taking part}
    duration: 300
    messages:
      - when: quiz_percent >= 80
        mood: celebrate
        text: {zh-CN: "太棒了！你答对了 {quiz_percent}%。", en: "Excellent! You scored {quiz_percent}%."}
      - when: quiz_passed
        mood: well_done
        text: {zh-CN: "做得不错！你答对了 {quiz_percent}%。", en: "Well done! You scored {quiz_percent}%."}
      - mood: encourage
        text:
          zh-CN: 每学到一点，你就多一分准备。想再试试的话，随时欢迎回来挑战！
          en: Everything you learn helps you feel more prepared. Come back and try again whenever you like!
"""


def write_exhibit(root: Path, time_limit: float | None = None, intro: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    text = EXHIBIT
    if time_limit is not None:
        text = text.replace("    results: {percent", f"    time_limit: {time_limit}\n    results: {{percent")
    if intro is not None:
        text = text.replace("    results: {percent", f"    intro: {intro}\n    results: {{percent")
    (root / "exhibit.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "media").mkdir(exist_ok=True)
    shutil.copy(CORPUS_PNG, root / "media" / "pic.png")
    return root


@pytest.fixture
def station(tmp_path: Path) -> Iterator[RunningStation]:
    st = start_station(write_exhibit(tmp_path / "ex"), "--seed", "7", data=tmp_path / "d")
    yield st
    st.stop()


def to_quiz(page: Page) -> dict[str, Any]:
    touch_attract(page)
    wait_for(page, scene="fact")
    advance(page)
    wait_for(page, scene="quiz", stage="question")
    return view(page)


def answer(page: Page, *texts: str) -> dict[str, Any]:
    """Pick ``texts`` on the question showing (after a feedback, the next one) and check."""
    v = wait_for(page, stage="question") and view(page)
    for t in texts:
        press(page, t)
    if v["question"]["kind"] == "multiple":
        press(page, v["ui"]["check"])
    wait_for(page, stage="feedback")
    page.locator(".feedback__badge").wait_for(state="visible")
    return view(page)


def states(page: Page) -> list[dict[str, Any]]:
    """Each reviewed choice: its state, its visible words, its mark (icon, letter, shape)."""
    return list(page.evaluate("""() => [...document.querySelectorAll(
        '.scene:not([hidden]) .choices--review .choice')].map(li => {
        const mark = li.querySelector('.choice__mark');
        const tag = li.querySelector('.choice__tag');
        const path = mark.querySelector('path');
        return {state: li.dataset.state, cls: li.className,
                text: li.querySelector('.choice__text').firstChild.textContent,
                // the words on screen (not the screen reader's joining dash)
                tag: tag ? [...tag.childNodes].filter(n => !n.classList?.contains('sr-only'))
                    .map(n => n.textContent).join('').trim() : null,
                icon: path ? path.getAttribute('d').slice(0, 8) : null,
                letter: mark.textContent.trim(),
                round: getComputedStyle(mark).borderTopLeftRadius.endsWith('%'),
                sr: li.innerText === undefined ? '' : li.textContent};
    })"""))


TICK = "M5 12.5l"
CROSS = "M7 7l10 "


def resize(page: Page, size: dict[str, int]) -> None:
    page.set_viewport_size({"width": size["width"], "height": size["height"]})


def shoot(page: Page, tmp: Path, name: str) -> None:
    settle(page)
    shot = tmp / f"{name}.png"
    page.screenshot(path=str(shot))
    compare(shot, name)


def test_multiple_choice_feedback_shows_four_states_in_marks_and_words(
        browser: Browser, station: RunningStation, tmp_path: Path) -> None:
    page = open_surface(browser, station.port)
    v = to_quiz(page)
    assert v["question"]["id"] == "affect"
    # the question draws check boxes (square, no letters)
    assert page.evaluate("""[...document.querySelectorAll('.quiz__choices .choice__mark')]
        .every(m => m.textContent.trim() === '' &&
                    !getComputedStyle(m).borderTopLeftRadius.endsWith('%'))""")
    v = answer(page, "记忆力", "眼睛的颜色")
    assert v["answer"]["result"] == "partly"
    by_id = {s["text"]: s for s in states(page)}
    # picked and right · right but missed (twice) · picked but not right · neither
    assert [by_id[t]["state"] for t in ("记忆力", "注意力", "心跳", "眼睛的颜色", "血型")] == [
        "picked-right", "missed", "missed", "picked-wrong", "neutral"]
    assert by_id["记忆力"]["tag"] == "你选对了" and by_id["记忆力"]["icon"] == TICK
    assert by_id["注意力"]["tag"] == "你漏选了" and by_id["注意力"]["icon"] == TICK
    assert by_id["眼睛的颜色"]["tag"] == "你选了这个，但它不对"
    assert by_id["眼睛的颜色"]["icon"] == CROSS
    # the neutral one keeps its empty check box: no letter, no words but for a screen reader
    assert by_id["血型"]["tag"] is None and by_id["血型"]["icon"] is None
    assert by_id["血型"]["letter"] == "" and "没有选" in by_id["血型"]["sr"]
    assert not any(s["round"] for s in by_id.values())  # boxes, as the question had
    # the verdict agrees with the feedback under it ("Right, …" after "Partly right")
    badge = page.locator(".feedback__badge").inner_text()
    assert badge.strip() == "部分正确"
    assert page.locator(".feedback--partly").count() == 1
    said = page.locator(".feedback__said").all_inner_texts()
    assert said == ["对，毒品会干扰大脑储存和回想信息。", "眼睛的颜色由基因决定，毒品不会改变它。"]
    shoot(page, tmp_path, "quiz-multi-feedback-zh-CN-landscape")
    resize(page, PORTRAIT)
    shoot(page, tmp_path, "quiz-multi-feedback-zh-CN-portrait")

    # the same feedback in English, in place
    press(page, v["ui"]["language"])
    wait_for(page, lang="en", stage="feedback")
    page.get_by_text("Partly right", exact=True).wait_for(state="visible")
    by_id = {s["text"]: s for s in states(page)}
    assert by_id["Memory"]["tag"] == "You picked this — right"
    assert by_id["Attention"]["tag"] == "You missed this one"
    assert by_id["Eye colour"]["tag"] == "You picked this — not right"
    assert by_id["Blood type"]["tag"] is None and "Not picked" in by_id["Blood type"]["sr"]
    shoot(page, tmp_path, "quiz-multi-feedback-en-portrait")
    resize(page, LANDSCAPE)
    shoot(page, tmp_path, "quiz-multi-feedback-en-landscape")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_one_answer_and_true_false_feedback_name_each_state(
        browser: Browser, station: RunningStation) -> None:
    page = open_surface(browser, station.port)
    to_quiz(page)
    answer(page, "血型")  # a wrong pick only: not even partly right
    assert page.locator(".feedback__badge").inner_text().strip() == "再想一想"
    advance(page)
    wait_for(page, stage="question")
    answer(page, "肺")
    got = [(s["state"], s["tag"], s["letter"]) for s in states(page)]
    # single choice: the wrong pick, the right one (not "missed": one answer only), a letter
    assert got == [("picked-wrong", "你选了这个，但它不对", ""), ("right-answer", "正确答案", ""),
                   ("neutral", None, "C")]
    assert page.locator(".feedback__badge").inner_text().strip() == "再想一想"
    assert all(s["round"] for s in states(page))  # round marks, as the question had
    advance(page)
    wait_for(page, stage="question")
    answer(page, "对")
    got = [(s["state"], s["tag"], s["letter"]) for s in states(page)]
    # true/false: no letters (the question had none)
    assert got == [("picked-right", "你选对了", ""), ("neutral", None, "")]
    assert page.locator(".feedback__badge").inner_text().strip() == "回答正确"


def test_the_summary_adds_up_and_a_low_score_ends_kindly(
        browser: Browser, station: RunningStation, tmp_path: Path) -> None:
    page = open_surface(browser, station.port)
    to_quiz(page)
    for pick in (("记忆力",), ("肺",), ("对",)):
        answer(page, *pick)
        advance(page)
    wait_for(page, stage="summary")
    v = view(page)
    assert (v["score"], v["max"], v["correct"], v["count"], v["percent"]) == (1, 4, 1, 3, 25)
    # one measure leads (points), and the line under it says why questions differ
    assert page.locator(".summary__line").inner_text() == "你得了 1 分，满分 4 分"
    assert page.locator(".summary__detail").inner_text().startswith(
        "3 题中答对 1 题 · 其中 1 题值 2 分")
    assert page.locator(".ring__value").inner_text().replace("\n", "") == "25%"
    press(page, v["ui"]["language"])
    wait_for(page, lang="en", stage="summary")
    # the heading (the live region says the same words for screen readers)
    page.get_by_role("heading", name="You scored 1 of 4 points", exact=True).wait_for(
        state="visible")
    assert "1 of 3 questions right · 1 question is worth 2 points" in page.locator(
        ".summary__detail").inner_text()

    advance(page)
    wait_for(page, scene="ending")
    page.locator(".end__mark").wait_for(state="visible")
    v = view(page)
    assert v["mood"] == "encourage"
    mark = page.locator(".end__mark")
    assert mark.get_attribute("data-mood") == "encourage"
    assert not mark.locator("path").get_attribute("d").startswith(TICK)  # type: ignore[union-attr]
    body = page.locator(".body--end").inner_text()
    assert not body.startswith(v["title"]) and "Come back" in body
    shoot(page, tmp_path, "end-low-en-landscape")
    resize(page, PORTRAIT)
    shoot(page, tmp_path, "end-low-en-portrait")
    press(page, v["ui"]["language"])
    wait_for(page, lang="zh-CN", scene="ending")
    page.locator(".body--end", has_text="想再试试的话").wait_for(state="visible")
    shoot(page, tmp_path, "end-low-zh-CN-portrait")
    resize(page, LANDSCAPE)
    shoot(page, tmp_path, "end-low-zh-CN-landscape")

    # all right the next time: a star, still no tick
    press(page, view(page)["ui"]["restart"])
    wait_for(page, phase="attract")
    to_quiz(page)
    picks: list[tuple[str, ...]] = [("记忆力", "注意力", "心跳"), ("肝脏",), ("对",)]
    for right in picks:
        answer(page, *right)
        advance(page)
    wait_for(page, stage="summary")
    advance(page)
    wait_for(page, scene="ending")
    assert page.locator(".end__mark").get_attribute("data-mood") == "celebrate"
    assert page.locator(".scene.end--celebrate:not([hidden])").count() == 1


VISIBLE = """(sel) => {
    const el = [...document.querySelectorAll('.scene:not([hidden]) ' + sel)].pop();
    if (!el) return null;
    const r = el.getBoundingClientRect();
    // every ancestor that clips must hold it whole, and so must the window
    let clipped = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
        const cs = getComputedStyle(p);
        if (cs.overflowX === 'visible' && cs.overflowY === 'visible') continue;
        const q = p.getBoundingClientRect();
        if (r.top < q.top - 1 || r.bottom > q.bottom + 1 || r.left < q.left - 1 ||
            r.right > q.right + 1) clipped = true;
    }
    return {top: r.top, bottom: r.bottom, height: r.height, clipped,
            inside: r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth};
}"""


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_large_text_keeps_the_source_line_in_sight(
        browser: Browser, station: RunningStation, orientation: str) -> None:
    page = open_surface(browser, station.port,
                        viewport=LANDSCAPE if orientation == "landscape" else PORTRAIT)
    touch_attract(page)
    wait_for(page, scene="fact")
    page.click("[data-tray='large']")
    wait_for(page, large=True)
    in_sight_in_both_languages(page, {"scene": "fact"}, ".source", ".actions .btn")
    advance(page)
    wait_for(page, scene="quiz", stage="question")
    answer(page, "记忆力", "眼睛的颜色")
    in_sight_in_both_languages(page, {"stage": "feedback"},
                               ".feedback .source", ".feedback .actions .btn")


def in_sight_in_both_languages(page: Page, where: dict[str, str], *selectors: str) -> None:
    """In English and then Chinese, each of ``selectors`` is drawn, inside the window and
    inside every clipping parent (``where`` is what the view shows after a switch)."""
    for lang in ("en", "zh-CN"):
        if view(page)["lang"] != lang:
            press(page, view(page)["ui"]["language"])
            wait_for(page, lang=lang, **where)
        settle(page)
        for sel in selectors:
            box = page.evaluate(VISIBLE, sel)
            assert box is not None and box["height"] > 0, (lang, sel)
            assert box["inside"] and not box["clipped"], (lang, sel, box)


def test_a_timed_question_goes_on_counting_after_a_reload(browser: Browser,
                                                          tmp_path: Path) -> None:
    st = start_station(write_exhibit(tmp_path / "ex", time_limit=40), data=tmp_path / "d")
    try:
        page = open_surface(browser, st.port)
        v = to_quiz(page)
        assert v["time_limit"] == 40 and v["seconds_left"] == 40
        page.locator(".timer").wait_for(state="visible")
        page.wait_for_timeout(4000)
        page.reload()
        page.wait_for_function("window.showfloor && window.showfloor.connected")
        wait_for(page, scene="quiz", stage="question")
        timer = page.locator(".scene:not([hidden]) .timer")
        timer.wait_for(state="visible")
        # the station says what is left, and the page counts on from there
        left = view(page)["seconds_left"]
        assert 20 < left <= 36.5, left
        assert float(timer.get_attribute("data-seconds-left") or 0) == left
        label = page.locator(".scene:not([hidden]) .timer__text").inner_text()
        seconds = int("".join(ch for ch in label if ch.isdigit()))
        assert seconds <= 37, label  # "剩余 36 秒", not "剩余 40 秒"
        # a second page (a reconnect) joins at the same point, not at 40
        other = open_surface(browser, st.port)
        wait_for(other, scene="quiz", stage="question")
        assert view(other)["seconds_left"] <= left
    finally:
        st.stop()


def test_a_quiz_intro_shows_above_the_first_question_in_each_language(
        browser: Browser, tmp_path: Path) -> None:
    intro = "{zh-CN: 三个小问题，看看你记住了什么。, en: Three quick questions on what you saw.}"
    st = start_station(write_exhibit(tmp_path / "ex", intro=intro), data=tmp_path / "d")
    try:
        page = open_surface(browser, st.port)
        to_quiz(page)
        shown = page.locator(".scene:not([hidden]) .quiz__intro")
        expect_text = "三个小问题，看看你记住了什么。"
        assert shown.inner_text() == expect_text
        # above the question, inside the same column, wholly on screen
        box = page.evaluate("""() => {
            const s = document.querySelector('.scene:not([hidden])');
            const i = s.querySelector('.quiz__intro').getBoundingClientRect();
            const p = s.querySelector('.quiz__prompt').getBoundingClientRect();
            return {above: i.bottom <= p.top + 1, inside: i.top >= 0 && i.bottom <= innerHeight};
        }""")
        assert box == {"above": True, "inside": True}
        press(page, "English")
        page.wait_for_function("document.querySelector('.scene:not([hidden]) .quiz__intro')"
                               "?.textContent === 'Three quick questions on what you saw.'")
        # after the first answer the intro is not said again
        first = view(page)["question"]
        answer(page, first["choices"][0]["text"])
        advance(page)
        wait_for(page, stage="question")
        assert view(page)["index"] == 2
        assert page.locator(".scene:not([hidden]) .quiz__intro").count() == 0
    finally:
        st.stop()
