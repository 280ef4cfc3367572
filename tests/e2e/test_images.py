"""Pictures, languages and line breaks on a visitor's screen, in the real browser.

- ``fit: contain`` shows a whole picture (its coloured edges are on screen), ``cover``
  fills the frame around its ``focus``;
- ``alt`` is the picture's alt text in the page's language; only a decorative picture
  is hidden from screen readers;
- words in another language than the page's (a source's English name on a Chinese
  page, interface strings that fell back) carry ``lang``;
- Chinese paragraphs do not end on a lone character or two;
- the frame shapes ``check`` judges crops by are the ones the browser draws.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page

from showfloor.content._images import FRAMES
from station._support import RunningStation, start_station

from ._browser import LANDSCAPE, PORTRAIT, open_surface, touch_attract, view, wait_for
from .test_visitor import walk_to

#: A Chinese paragraph that ended on a lone "了。" at some widths (the demo's story).
ORPHAN = ("小安说：“就一点点，没事的。”有个理由能帮你开口，但对方可能还会再劝。"
          "这时候你不需要解释更多，再说一次“不”就够了。")

EXHIBIT = f"""\
format: 1
id: pictures
version: 1.0.0
title: {{zh-CN: 图片, en: Pictures}}
languages: [zh-CN, en]
default_language: zh-CN
sources:
  - {{id: who, name: {{zh-CN: 世界卫生组织, en: World Health Organization}}, url: "https://www.who.int/"}}
  - {{id: frank, name: FRANK — honest information about drugs, lang: en, url: "https://www.talktofrank.com/"}}
attract: attract
start: chart
scenes:
  - id: attract
    type: attract
    loop: [{{image: media/chart.png, duration: 6}}]
    call: {{zh-CN: 触摸开始, en: Touch to start}}
  - id: chart
    type: media
    title: {{zh-CN: 图表, en: A chart}}
    image:
      src: media/chart.png
      fit: contain
      alt: {{zh-CN: 三个箭头从左指向右, en: Three arrows pointing from left to right}}
    body: {{zh-CN: 看看这张图。, en: Look at this chart.}}
    source: frank
    next: party
  - id: party
    type: story
    image: {{src: media/chart.png, fit: cover, focus: [0, 0], alt: {{zh-CN: 图表, en: Chart}}}}
    text: {{zh-CN: "{ORPHAN}", en: "One more no is enough."}}
    choices:
      - {{id: go, label: {{zh-CN: 继续, en: Go on}}, goto: deco}}
      - {{id: stay, label: {{zh-CN: 留下, en: Stay}}, goto: deco}}
  - id: deco
    type: media
    image: {{src: media/chart.png, decorative: true}}
    body: {{zh-CN: 一张装饰图。, en: A decoration.}}
    source: who
    next: quiz
  - id: quiz
    type: quiz
    questions:
      - id: q1
        image: media/chart.png
        kind: true-false
        prompt: {{zh-CN: 对吗？, en: Right?}}
        answer: true
    next: ending
  - id: ending
    type: end
    messages: [{{text: {{zh-CN: 再见, en: Bye}}}}]
"""

#: The same, in French and English: the interface strings have no French, so a French
#: page shows them in English (marked lang="en").
FRENCH = """\
format: 1
id: pictures-fr
version: 1.0.0
title: {en: Pictures, fr: Images}
languages: [en, fr]
default_language: en
sources: [{id: who, name: WHO, url: "https://www.who.int/"}]
attract: attract
start: chart
scenes:
  - id: attract
    type: attract
    loop: [{image: media/chart.png, duration: 6}]
    call: {en: Touch to start, fr: Touchez pour commencer}
  - id: chart
    type: media
    image: {src: media/chart.png, decorative: true}
    body: {en: Look., fr: Regardez.}
    next: ending
  - id: ending
    type: end
    messages: [{text: {en: Bye, fr: Au revoir}}]
"""


def _chart(path: Path) -> None:
    """A 3:1 chart: red at its left edge, blue at its right edge, arrows between."""
    im = Image.new("RGB", (900, 300), (40, 46, 60))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 59, 299], fill=(230, 20, 20))
    d.rectangle([840, 0, 899, 299], fill=(20, 40, 230))
    for y in (75, 150, 225):
        d.line([(120, y), (760, y)], fill=(240, 240, 240), width=12)
        d.polygon([(760, y - 30), (810, y), (760, y + 30)], fill=(240, 240, 240))
    im.save(path)


def _station(tmp_path: Path, text: str) -> RunningStation:
    root = tmp_path / "exhibit"
    (root / "media").mkdir(parents=True)
    (root / "exhibit.yaml").write_text(text, "utf-8")
    _chart(root / "media" / "chart.png")
    return start_station(root, data=tmp_path / "data")


@pytest.fixture
def station(tmp_path: Path) -> Iterator[RunningStation]:
    st = _station(tmp_path, EXHIBIT)
    yield st
    st.stop()


def _scene(page: Page, scene: str) -> None:
    wait_for(page, scene=scene)
    page.wait_for_selector(f".scene[data-scene='{scene}']:not(.scene--leaving)", state="visible")


def _picture(page: Page, frame: str) -> dict[str, Any]:
    return dict(page.evaluate("""(frame) => {
        const img = document.querySelector(`.scene:not(.scene--leaving) ${frame} img`);
        const box = img.getBoundingClientRect();
        const s = getComputedStyle(img);
        return {fit: s.objectFit, position: s.objectPosition, alt: img.getAttribute('alt'),
                hidden: img.getAttribute('aria-hidden'), lang: img.getAttribute('lang'),
                w: box.width, h: box.height, nw: img.naturalWidth, nh: img.naturalHeight,
                complete: img.complete};
    }""", frame))


def _colours(page: Page, selector: str) -> tuple[int, int]:
    """How many strongly red and strongly blue pixels the element shows."""
    shot = page.locator(selector).screenshot(animations="disabled")
    px = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB")).astype(int)
    r, g, b = px[..., 0], px[..., 1], px[..., 2]
    red = int(((r > 180) & (g < 80) & (b < 80)).sum())
    blue = int(((b > 180) & (r < 80) & (g < 100)).sum())
    return red, blue


def test_contain_shows_the_whole_picture_and_cover_fills_the_frame(browser: Browser,
                                                                    station: RunningStation) -> None:
    page = open_surface(browser, station.port)
    touch_attract(page)
    _scene(page, "chart")
    page.wait_for_function("document.querySelector('.media__art img')?.complete")
    pic = _picture(page, ".media__art")
    assert pic["fit"] == "contain" and pic["position"] == "50% 50%"
    # the whole picture is drawn inside its box: both coloured edges are on screen
    scale = min(pic["w"] / pic["nw"], pic["h"] / pic["nh"])
    assert pic["nw"] * scale <= pic["w"] + 0.5 and pic["nh"] * scale <= pic["h"] + 0.5
    red, blue = _colours(page, ".scene:not(.scene--leaving) .media__art")
    assert red > 500 and blue > 500, (red, blue)
    # the same picture with cover, focused on its top-left corner: the left edge stays,
    # the right edge (a 3:1 picture in a ≈1.2:1 frame) is cut off
    walk_to(page, "story")
    _scene(page, "party")
    page.wait_for_function("document.querySelector('.scene:not(.scene--leaving) .story__art img')?.complete")
    pic = _picture(page, ".story__art")
    assert pic["fit"] == "cover" and pic["position"] == "0% 0%"
    red, blue = _colours(page, ".scene:not(.scene--leaving) .story__art")
    assert red > 500 and blue == 0, (red, blue)
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_alt_text_is_read_and_only_decorative_pictures_are_hidden(browser: Browser,
                                                                  station: RunningStation) -> None:
    page = open_surface(browser, station.port)
    touch_attract(page)
    _scene(page, "chart")
    pic = _picture(page, ".media__art")
    assert (pic["alt"], pic["hidden"]) == ("三个箭头从左指向右", None)
    assert page.get_by_role("img", name="三个箭头从左指向右").is_visible()
    # another language: the same picture (drawn in place) says its alt in English
    before = page.evaluate("document.querySelector('.media__art img') !== null")
    page.click("[data-tray='language']")
    wait_for(page, lang="en")
    page.wait_for_function("document.querySelector('.scene:not(.scene--leaving) .media__art img')"
                           "?.alt === 'Three arrows pointing from left to right'")
    assert before
    page.click("[data-tray='language']")
    wait_for(page, lang="zh-CN")
    # a decorative picture: empty alt, hidden from screen readers
    walk_to(page, "story")
    page.get_by_role("button", name="继续").click()
    _scene(page, "deco")
    pic = _picture(page, ".media__art")
    assert (pic["alt"], pic["hidden"]) == ("", "true")
    # a picture given as a bare path (check warns: no alt): empty alt, but not hidden
    walk_to(page, "quiz")
    _scene(page, "quiz")
    pic = _picture(page, ".quiz__art")
    assert (pic["alt"], pic["hidden"]) == ("", None)


def test_source_names_in_the_page_language_or_marked_with_theirs(browser: Browser,
                                                                 station: RunningStation) -> None:
    page = open_surface(browser, station.port)
    touch_attract(page)
    _scene(page, "chart")
    name = page.locator(".scene:not(.scene--leaving) .source__name")
    # a one-string name with lang: en, on a Chinese page
    assert name.text_content() == "FRANK — honest information about drugs"
    assert name.get_attribute("lang") == "en"
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    walk_to(page, "story")
    page.get_by_role("button", name="继续").click()
    _scene(page, "deco")
    # a name per language: the Chinese one, in the page's language (no lang of its own)
    assert name.text_content() == "世界卫生组织"
    assert name.get_attribute("lang") is None
    page.click("[data-tray='language']")
    wait_for(page, lang="en")
    page.wait_for_function("document.querySelector('.scene:not(.scene--leaving) .source__name')"
                           "?.textContent === 'World Health Organization'")
    assert name.get_attribute("lang") is None


def test_words_that_fell_back_to_another_language_carry_its_lang(browser: Browser,
                                                                  tmp_path: Path) -> None:
    st = _station(tmp_path, FRENCH)
    try:
        page = open_surface(browser, st.port)
        touch_attract(page)
        _scene(page, "chart")
        page.click("[data-tray='language']")
        wait_for(page, lang="fr")
        page.wait_for_function("document.querySelector('.scene:not(.scene--leaving) .body p')"
                               "?.textContent === 'Regardez.'")
        v = view(page)
        # the interface strings have no French: the view says which words are English
        assert v["text_lang"][v["ui"]["next"]] == "en"
        label = page.locator(".scene:not(.scene--leaving) .actions .btn__label")
        assert label.text_content() == "Continue"
        assert label.get_attribute("lang") == "en"
        assert page.locator(".scene:not(.scene--leaving) .body p").get_attribute("lang") is None
        # the page's own interface strings have no French either
        chip = page.locator("[data-tray='large'] .chip__label")
        assert (chip.text_content(), chip.get_attribute("lang")) == ("Large text", "en")
        # back in English nothing is marked any more
        page.click("[data-tray='language']")
        wait_for(page, lang="en")
        page.wait_for_function("document.querySelector('.scene:not(.scene--leaving) .body p')"
                               "?.textContent === 'Look.'")
        assert "text_lang" not in view(page)
        assert page.locator(".scene:not(.scene--leaving) [lang]").count() == 0
        assert chip.get_attribute("lang") is None
    finally:
        st.stop()


#: The lines of the first paragraph of the story at a given width, by the tops of its
#: characters; ``wrap`` is an inline text-wrap (to see the text without the page's rule).
LINES = """([width, wrap]) => {
    const p = document.querySelector('.scene:not(.scene--leaving) .story__text .body p');
    p.style.width = `${width}px`;
    p.style.maxWidth = 'none';
    p.style.textWrap = wrap;
    const t = p.firstChild, lines = [];
    let top = null, cur = '';
    for (let i = 0; i < t.length; i++) {
        const r = document.createRange();
        r.setStart(t, i); r.setEnd(t, i + 1);
        const y = Math.round(r.getClientRects()[0].top);
        if (top !== null && y > top + 2) { lines.push(cur); cur = ''; }
        top = y; cur += t.data[i];
    }
    lines.push(cur);
    return lines;
}"""


def test_a_chinese_paragraph_does_not_end_on_a_lone_character(browser: Browser,
                                                              station: RunningStation) -> None:
    page = open_surface(browser, station.port)
    touch_attract(page)
    walk_to(page, "story")
    _scene(page, "party")
    page.evaluate("document.fonts.ready")
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'.scene:not(.scene--leaving) .story__text .body p')).lineBreak") == "strict"
    # widths at which the plain line breaker leaves "了。" alone on the last line
    orphaned = [w for w in range(300, 1000, 6)
                if len(page.evaluate(LINES, [w, "wrap"])[-1]) <= 2]
    assert orphaned, "the text no longer produces an orphan: pick another one"
    for w in orphaned:
        lines = page.evaluate(LINES, [w, ""])
        assert len(lines[-1]) > 2, (w, lines)
        assert "".join(lines) == ORPHAN


@pytest.mark.parametrize(("orientation", "size"), [("landscape", LANDSCAPE),
                                                   ("portrait", PORTRAIT)])
def test_the_frames_check_judges_crops_by_are_the_ones_drawn(browser: Browser,
                                                             station: RunningStation,
                                                             orientation: str,
                                                             size: dict[str, int]) -> None:
    page = open_surface(browser, station.port, viewport=size)
    touch_attract(page)
    shapes: dict[str, float] = {}
    for frame, scene_type in (("media", "media"), ("story", "story"), ("quiz", "quiz")):
        walk_to(page, scene_type)
        sel = f".scene:not(.scene--leaving) .{frame}__art"
        page.wait_for_selector(sel, state="visible")
        page.wait_for_timeout(300)
        box = page.locator(sel).bounding_box()
        assert box is not None
        shapes[frame] = box["width"] / box["height"]
    for frame, shape in shapes.items():
        assert shape == pytest.approx(FRAMES[frame][orientation], rel=0.06), (frame, shapes)
