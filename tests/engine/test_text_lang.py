"""Words shown in another language than the view's (a missing translation, an
interface string the exhibit's language lacks) are listed in the view's
``text_lang``, so the page can mark them with ``lang`` for screen readers."""

from __future__ import annotations

from pathlib import Path

from showfloor.engine import LanguageChanged, Started

from .helpers import Station, load_exhibit, views

EXHIBIT = """
format: 1
id: fallback
version: 1.0.0
title: {en: Fallback, zh-CN: 回退}
languages: [en, zh-CN, fr]
default_language: en
attract: attract
start: intro
variables:
  score: {type: int, default: 3}
scenes:
  - id: attract
    type: attract
    loop: [{image: media/a.png, duration: 5}]
    call: {en: Touch, zh-CN: 触摸}
  - id: intro
    type: media
    title: {en: Hello, zh-CN: 你好, fr: Bonjour}
    image: {src: media/a.png, alt: {en: "A glowing brain"}}
    body: {en: "You have {score} points.", zh-CN: "你有 {score} 分。"}
    next: ending
  - id: ending
    type: end
    messages: [{text: {en: Bye, zh-CN: 再见, fr: Au revoir}}]
"""


def test_words_in_another_language_are_listed_with_it(tmp_path: Path) -> None:
    st = Station(load_exhibit(tmp_path / "x", EXHIBIT))
    [attract] = views(st.first)
    assert "text_lang" not in attract  # English, the default: nothing is foreign
    st.feed(Started(), at=2)
    [v] = views(st.feed(LanguageChanged("fr"), at=3))
    assert v["lang"] == "fr" and v["title"] == "Bonjour"
    assert v["body"] == "You have 3 points."  # variables filled in, as shown
    assert v["text_lang"]["You have 3 points."] == "en"
    assert v["text_lang"]["A glowing brain"] == "en"
    assert v["image"]["alt"] == "A glowing brain"
    assert v["text_lang"][v["ui"]["next"]] == "en"  # no French interface strings
    assert "Bonjour" not in v["text_lang"]
    # Chinese: the alt text falls back to English; the rest is Chinese
    st.feed(LanguageChanged("zh-CN"), at=4)
    v = st.engine.view()
    assert v["text_lang"] == {"A glowing brain": "en"}
    # English: nothing is foreign
    st.feed(LanguageChanged("en"), at=5)
    assert "text_lang" not in st.engine.view()
