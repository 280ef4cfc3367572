"""The knowledge base's bilingual glossary (knowledge/_glossary.yaml): loading, its
mistakes at file:line:column, query expansion, and an English question that finds an
entry written only in Chinese."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from showfloor.ask import glossary, index
from showfloor.ask.calibration import Calibration
from showfloor.ask.retriever import Retriever
from showfloor.errors import ContentError

GLOSSARY = """\
# two groups
groups:
  - {en: [weed, cannabis, marijuana], zh-CN: [大麻]}
  - {en: [memory, laughing gas], zh-CN: [记忆力, 记性]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "knowledge").mkdir(exist_ok=True)
    (tmp_path / "knowledge" / glossary.FILE).write_text(text, "utf-8")
    return tmp_path


def test_no_file_is_an_empty_glossary(tmp_path: Path) -> None:
    g = glossary.load(tmp_path)
    assert len(g) == 0 and g.expand("is weed bad") == []


def test_a_term_expands_to_its_group(tmp_path: Path) -> None:
    g = glossary.load(_write(tmp_path, GLOSSARY), {"en", "zh-CN"})
    assert len(g) == 2
    assert g.expand("is weed bad") == ["weed", "cannabis", "marijuana", "大麻"]
    # Chinese terms are found inside a run of characters; English ones as whole words
    assert g.expand("抽大麻会怎样") == ["weed", "cannabis", "marijuana", "大麻"]
    assert g.expand("my weedkiller") == []
    # a term of two words matches only the two words in a row
    assert g.matches("what is laughing gas") == [1]
    assert g.matches("laughing at gas") == []
    assert g.matches("weed and memory") == [0, 1]


@pytest.mark.parametrize(("text", "line", "column", "says"), [
    ("groups:\n  - {en: [weed], zh-CN: [大麻\n", 2, 25, "not closed"),
    ("groups:\n  - {en: [weed, cannabis]}\n", 2, 5, "one language only"),
    ("groups:\n  - {en: [weed]}\n  - {en: [x], fr: [cannabis]}\n", 3, 15,
     "'fr' is not a language of the knowledge base"),
    ("groups:\n  - {en: [weed], zh-CN: []}\n", 2, 25, "needs a list of terms"),
    ("groups:\n  - {en: [weed, '...'], zh-CN: [大麻]}\n", 2, 17, "term 2 of 'en'"),
    ("terms:\n  - {en: [weed], zh-CN: [大麻]}\n", 1, 1, "unknown key 'terms'"),
])
def test_a_broken_glossary_names_file_line_and_column(tmp_path: Path, text: str, line: int,
                                                      column: int, says: str) -> None:
    if "fr:" in text:  # the first group is fine for this case
        text = text.replace("{en: [weed]}", "{en: [weed], zh-CN: [大麻]}")
    with pytest.raises(ContentError) as err:
        glossary.load(_write(tmp_path, text), {"en", "zh-CN"})
    e = err.value
    assert e.path is not None and e.path.endswith("knowledge/_glossary.yaml")
    assert says in e.message
    assert (e.line, e.column) == (line, column), str(e)


@dataclass
class _Entry:
    id: str
    questions: Mapping[str, Sequence[str]]
    kind: str = "answer"
    tags: Sequence[str] = field(default_factory=list)


ENTRIES = [
    _Entry("cannabis-memory", {"zh-CN": ["大麻会影响记忆力吗", "抽大麻记性会变差吗",
                                          "大麻伤不伤脑子"]}),
    _Entry("alcohol-liver", {"en": ["What does alcohol do to your liver?",
                                    "Is drinking bad for the liver?"]}),
    _Entry("vape-flavours", {"en": ["Why do vapes taste like fruit?",
                                    "Are fruit flavoured vapes safer?"]}),
    _Entry("safety-getting", {"zh-CN": ["哪里能买到大麻"]}, kind="safety"),
]


@pytest.fixture(scope="module")
def words(tmp_path_factory: pytest.TempPathFactory) -> glossary.Glossary:
    return glossary.load(_write(tmp_path_factory.mktemp("glossary"), GLOSSARY),
                         {"en", "zh-CN"})


@pytest.fixture(scope="module")
def small_index(xdg_cache: Path, words: glossary.Glossary) -> index.Index:
    return index.build(ENTRIES, words)


def test_phrasings_are_embedded_with_their_translations(words: glossary.Glossary) -> None:
    texts = ["大麻会影响记忆力吗", "why do vapes taste like fruit?", "哪里能买到大麻",
             "is weed bad"]
    assert index.cross_texts(texts, words, [True, True, False, True]) == [
        "大麻会影响记忆力吗 weed cannabis marijuana memory laughing gas",
        None,  # no glossary term
        None,  # a safety entry's phrasing stays as it is
        "is weed bad 大麻",
    ]


def test_the_glossary_is_part_of_the_index_key(words: glossary.Glossary) -> None:
    parts = index._entries(ENTRIES)
    entries, doc_entry, doc_lang, doc_text, _ = parts
    plain = index.content_key(entries, doc_entry, doc_lang, doc_text)
    assert index.content_key(entries, doc_entry, doc_lang, doc_text, words) != plain
    assert index.content_key(entries, doc_entry, doc_lang, doc_text) == plain


def test_an_english_question_finds_an_entry_written_only_in_chinese(
        small_index: index.Index, words: glossary.Glossary) -> None:
    assert small_index.xvectors is not None
    # translations added to the Chinese phrasings (rows 0-2) but not to the safety one
    assert not np.allclose(small_index.xvectors[0], small_index.vectors[0])
    np.testing.assert_array_equal(small_index.xvectors[3:], small_index.vectors[3:])
    cal = Calibration(weight=0.8, threshold=0.3, margin=0.0, cross_bm25=0.2,
                      safety_threshold=0.9)
    with_g = Retriever(small_index, cal, words)
    sig = with_g.signals("does weed hurt your memory")
    assert sig.bm25x is not None and sig.embx is not None
    # the glossary's Chinese terms match the Chinese phrasings only (rows 0-2 and 7)
    assert (sig.bm25x[:3] > 0).all() and (sig.bm25x[3:7] == 0).all()
    res = with_g.decide(sig)
    assert (res.outcome, res.entry) == ("answer", "cannabis-memory")
    # the phrasing with its translations is closer to the question than the phrasing
    assert (sig.embx[:3] > sig.emb[:3]).all()
    # a retriever without the glossary has no words to match across scripts: less
    plain = Retriever(small_index, cal).signals("does weed hurt your memory")
    assert plain.bm25x is None
    assert sig.fused(0.8, 0.0, 0.2)[0] > plain.fused(0.8, 0.0, 0.2)[0]


def test_a_mixed_question_matches_its_english_words_against_english_phrasings(
        small_index: index.Index) -> None:
    """No glossary: "酒精 liver" still matches the English phrasings by 'liver'."""
    sig = Retriever(small_index).signals("酒精 liver")  # the retriever has no glossary
    assert sig.bm25x is not None
    assert sig.bm25x[3] > 0 and sig.bm25x[0] == 0
