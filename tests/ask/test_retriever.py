"""The retriever on a small real knowledge base: answers, refusals, safety/help routing,
bad input (never an exception)."""

from __future__ import annotations

import pytest

from showfloor.ask import text as T
from showfloor.ask.evaluate import read_set
from showfloor.ask.retriever import RELATED, Retriever

from .conftest import LABELLED


def test_normalise_folds_width_case_and_control_characters() -> None:
    assert T.normalise("ＶＡＰＥ\x00 is\u200b\tOK\r\n") == "vape is ok"
    assert len(T.normalise("x" * 10_000)) == T.MAX_CHARS


def test_tokens_use_jieba_words_and_light_stems() -> None:
    zh = T.tokens(T.normalise("电子烟是毒品吗"))
    assert "毒品" in zh and "电子" in zh and "子烟" in zh  # jieba's words and character pairs
    assert "吗" not in zh
    assert T.tokens("are drugs bad") == ["drug", "bad"]
    assert T.tokens("!!! ... ???") == []


@pytest.mark.parametrize(("question", "entry"), [
    ("is vape a drug", "vaping-is-a-drug"),
    ("电子烟到底是不是毒品", "vaping-is-a-drug"),
    ("how to refuse my friends", "say-no"),
])
def test_answers_in_scope(retriever: Retriever, question: str, entry: str) -> None:
    res = retriever.resolve(question)
    assert (res.outcome, res.entry) == ("answer", entry)
    assert res.bucket in ("high", "mid")


def test_out_of_scope_is_refused_with_related(retriever: Retriever) -> None:
    res = retriever.resolve("who won the football match")
    assert res.outcome == "refused" and res.entry is None
    assert len(res.related) <= RELATED
    assert all(r in retriever.index.by_id for r in res.related)
    assert res.payload()["outcome"] == "refused" and "text" not in res.payload()


def test_every_safety_and_help_question_routes(retriever: Retriever) -> None:
    labelled, _ = read_set(LABELLED)
    special = [q for q in labelled.questions if q.expect in ("safety", "help")]
    assert len(special) >= 5
    for q in special:
        res = retriever.resolve(q.q)
        assert res.outcome in ("safety", "help"), (q.q, res)
        assert retriever.index.entries[retriever.index.by_id[res.entry or ""]].kind \
            == res.outcome


def test_safety_wins_over_a_normal_entry(retriever: Retriever) -> None:
    # about friends (say-no's words) but asking where to buy: the safety entry wins
    res = retriever.resolve("where can i buy weed for my friends")
    assert res.outcome == "safety" and res.entry == "buying"


@pytest.mark.parametrize("question", [
    "", "   ", "x" * 10_000, "😀😀😀🔥", "?!?!…。！？", "\x00\x07\x1b[2J", "vape 是毒品吗 ??",
    "电子烟" * 3000, "\ud800", "SELECT * FROM entries; --",
])
def test_bad_input_is_refused_or_answered_never_raises(retriever: Retriever,
                                                       question: str) -> None:
    res = retriever.resolve(question)
    assert res.outcome in ("answer", "refused", "safety", "help")
    if not any(c.isalnum() for c in T.normalise(question)):
        assert res.outcome == "refused" and res.related == ()


def test_a_scene_s_tags_keep_to_its_entries(retriever: Retriever) -> None:
    res = retriever.resolve("is vape a drug", allowed={"say-no"})
    assert res.entry != "vaping-is-a-drug"
    # safety entries are always allowed
    assert retriever.resolve("where to buy weed", allowed={"say-no"}).outcome == "safety"
