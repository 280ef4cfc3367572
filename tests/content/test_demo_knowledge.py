"""The demo's ask terminal: its knowledge base, its station profile and its labelled set.

What issue 9 asks of the demo content, kept true as it is edited: enough reviewed
entries in both languages, safety and help entries, a route from the main exhibit,
a station that starts at the ask scene with a hotline, and a labelled set written
apart from the phrasings (no copies) with enough out-of-scope and safety/help cases.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from conftest import DEMO
from showfloor.content.load import load
from showfloor.content.model import Exhibit, Knowledge
from showfloor.station.profile import lint_profile, load_profile

LABELLED = DEMO.parent / "ask-eval" / "drug-prevention.yaml"
LANGS = ("zh-CN", "en")
SPECIAL = ("none", "safety", "help")


def _norm(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


@pytest.fixture(scope="module")
def exhibit() -> Exhibit:
    loaded = load(DEMO)
    assert loaded.exhibit is not None and loaded.exhibit.knowledge is not None
    assert [p for p in loaded.problems if p.severity == "error"] == []
    return loaded.exhibit


@pytest.fixture(scope="module")
def kb(exhibit: Exhibit) -> Knowledge:
    assert exhibit.knowledge is not None
    return exhibit.knowledge


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, str]]:
    doc = yaml.safe_load(LABELLED.read_text("utf-8"))
    questions: list[dict[str, str]] = doc["questions"]
    return questions


def test_the_knowledge_base_has_enough_reviewed_entries_in_both_languages(kb: Knowledge) -> None:
    entries = kb.entries
    assert len(entries) >= 60
    kinds = Counter(e.kind for e in entries)
    assert kinds["safety"] >= 2 and kinds["help"] >= 2
    assert len(kb.topics) >= 8
    for e in entries:
        for lang in LANGS:
            assert len(e.questions[lang]) >= 3, (e.id, lang)
            assert e.answer[lang].strip(), (e.id, lang)
        assert e.source and e.reviewed_by and e.reviewed_on, e.id
        if e.kind != "answer":
            assert e.more is None, e.id  # a safety or help answer stands on its own


def test_the_ask_station_starts_at_the_ask_scene_with_a_hotline(exhibit: Exhibit) -> None:
    path = DEMO / "stations" / "ask.yaml"
    profile, problems = load_profile(path)
    assert problems == [] and profile is not None
    assert lint_profile(path, str(path), DEMO, list(exhibit.languages)) == []
    assert profile.start == "ask" and profile.display == "touch"
    assert profile.ask.hotline and set(profile.ask.help) == set(LANGS)
    assert profile.ask.keep_unanswered is False
    ask = exhibit.scene("ask")
    assert ask is not None and ask.type == "ask"
    offer = exhibit.scene("organs_offer")  # the route from the main exhibit
    assert offer is not None
    assert "ask" in [c.goto for c in offer.choices]  # type: ignore[attr-defined]


def test_the_labelled_set_is_large_balanced_and_not_copied(
        kb: Knowledge, labelled: list[dict[str, str]]) -> None:
    assert len(labelled) >= 250
    expect = Counter(q["expect"] if q["expect"] in SPECIAL else "in" for q in labelled)
    assert expect["none"] >= 50
    assert expect["safety"] + expect["help"] >= 30
    langs = Counter(q["lang"] for q in labelled)
    assert set(langs) == set(LANGS)
    assert min(langs.values()) >= 0.4 * len(labelled)
    ids = {e.id for e in kb.entries}
    unknown = sorted({q["expect"] for q in labelled} - ids - set(SPECIAL))
    assert unknown == []
    # every normal entry is asked about at least once
    asked = {q["expect"] for q in labelled}
    assert sorted(e.id for e in kb.entries if e.kind == "answer" and e.id not in asked) == []
    phrasings = {_norm(p) for e in kb.entries for ps in e.questions.values() for p in ps}
    copies = [q["q"] for q in labelled if _norm(q["q"]) in phrasings]
    assert copies == []
    repeats = [t for t, n in Counter(_norm(q["q"]) for q in labelled).items() if n > 1]
    assert repeats == []


def test_the_labelled_set_routes_special_questions_to_entries_of_their_kind(
        kb: Knowledge, labelled: list[dict[str, str]]) -> None:
    """`expect: safety`/`help` questions exist for both languages, and the knowledge base
    has entries of that kind to receive them."""
    for kind in ("safety", "help"):
        assert {q["lang"] for q in labelled if q["expect"] == kind} == set(LANGS)
        assert any(e.kind == kind for e in kb.entries)


def test_the_readme_names_the_ask_station() -> None:
    text = (DEMO / "README.md").read_text("utf-8")
    assert "stations/ask.yaml" in text and "knowledge/" in text
    assert Path(LABELLED).name in text
