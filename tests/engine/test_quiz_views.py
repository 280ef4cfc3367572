"""What the quiz and end views tell a page: the time left, the verdict, the weights, the mood."""

from __future__ import annotations

from pathlib import Path

import pytest

from showfloor.content.model import Exhibit
from showfloor.engine import Advanced, AnswerGiven, ChoiceMade, LanguageChanged, Started
from showfloor.engine.replay import replay

from .helpers import TINY, Station, load_exhibit


@pytest.fixture
def tiny(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "tiny", TINY)


def at_quiz(ex: Exhibit) -> Station:
    """The first question (a 20 s limit) shows at t=12."""
    st = Station(ex)
    st.feed(Started(seed=1))
    st.tick(10)
    st.feed(ChoiceMade("brave"), at=11)
    st.feed(Advanced(), at=12)
    assert st.scene == "quiz"
    return st


def answer(st: Station, *choices: str, at: float) -> None:
    st.feed(AnswerGiven(st.view["question"]["id"], tuple(choices)), at=at)


# -- the time left ------------------------------------------------------------------------

def test_a_timed_question_says_how_much_time_is_left(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    assert (st.view["time_limit"], st.view["seconds_left"]) == (20, 20)
    # a page that connects 7.5 s later counts on from 12.5 s, not from 20
    assert st.engine.view(now=19.5)["seconds_left"] == 12.5
    assert st.engine.view(now=40)["seconds_left"] == 0
    # the view as shown (and digested) is not changed by asking
    assert st.view["seconds_left"] == 20
    # a view drawn anew mid-question (another language) carries what is left then
    st.feed(LanguageChanged("zh-CN"), at=17)
    assert st.view["seconds_left"] == 15
    # the next question's time counts from when it shows
    answer(st, "a", at=18)
    assert "seconds_left" not in st.view and "seconds_left" not in st.engine.view(now=19)
    st.feed(Advanced(), at=19)
    assert st.view["seconds_left"] == 20
    assert st.engine.view(now=23.25)["seconds_left"] == 15.75


def test_a_log_with_a_mid_question_language_change_replays(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    st.feed(LanguageChanged("zh-CN"), at=14.5)
    answer(st, "a", at=16)
    st.feed(Advanced(), at=17)
    st.tick(37)  # the second question times out
    result = replay(tiny, st.log, media_length=lambda _p: 10.0)
    assert result.ok, result.first_difference()
    assert len(result.got) >= 6


# -- the verdict ----------------------------------------------------------------------------

@pytest.mark.parametrize(("picked", "result"), [
    (("a", "b"), "correct"),
    (("a",), "partly"),  # one of the two right ones
    (("a", "c"), "partly"),  # one right, one not
    (("a", "b", "c"), "partly"),  # all the right ones and a wrong one
    (("c",), "incorrect"),
])
def test_a_multiple_choice_answer_is_right_partly_right_or_not(
        tiny: Exhibit, picked: tuple[str, ...], result: str) -> None:
    st = at_quiz(tiny)
    answer(st, "a", at=13)
    st.feed(Advanced(), at=14)
    assert st.view["question"]["kind"] == "multiple"
    answer(st, *picked, at=15)
    assert st.view["answer"]["result"] == result
    assert st.view["answer"]["correct"] is (result == "correct")


def test_one_answer_questions_are_never_partly_right(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    answer(st, "b", at=13)
    assert st.view["answer"]["result"] == "incorrect"
    st.feed(Advanced(), at=14)
    st.tick(34)  # the multiple-choice question times out
    assert st.view["answer"]["result"] == "timed_out"
    assert st.view["answer"]["choices"] == []


# -- the summary ---------------------------------------------------------------------------

def test_the_summary_says_which_questions_are_worth_more(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    for t, pick in ((13, ("a",)), (15, ("a",)), (17, ("false",))):
        answer(st, *pick, at=t)
        st.feed(Advanced(), at=t + 1)
    v = st.view
    assert v["stage"] == "summary"
    # 2 of 3 questions right, 2 of 4 points: the 2-point question explains the difference
    assert (v["correct"], v["count"], v["score"], v["max"], v["percent"]) == (2, 3, 2, 4, 50)
    assert v["worth"] == [{"points": 2, "count": 1}]


def test_a_summary_of_one_point_questions_has_no_weights(tmp_path: Path) -> None:
    ex = load_exhibit(tmp_path / "flat", TINY.replace("        points: 2\n", ""))
    st = at_quiz(ex)
    for t, pick in ((13, ("a",)), (15, ("a", "b")), (17, ("false",))):
        answer(st, *pick, at=t)
        st.feed(Advanced(), at=t + 1)
    assert st.view["worth"] == []
    assert (st.view["score"], st.view["max"]) == (st.view["correct"], st.view["count"]) == (3, 3)


# -- the ending -----------------------------------------------------------------------------

def test_an_ending_has_the_mood_of_its_message(tmp_path: Path) -> None:
    doc = TINY.replace(
        '      - {text: {en: "Try again ({quiz_percent}%)", zh-CN: "再试一次 {quiz_percent}%"}}',
        '      - {mood: encourage, text: {en: "Try again ({quiz_percent}%)", '
        'zh-CN: "再试一次 {quiz_percent}%"}}')
    assert doc != TINY
    ex = load_exhibit(tmp_path / "moods", doc)
    st = at_quiz(ex)
    for t, pick in ((13, ("b",)), (15, ("c",)), (17, ("true",))):
        answer(st, *pick, at=t)
        st.feed(Advanced(), at=t + 1)
    st.feed(Advanced(), at=20)
    assert st.scene == "end"
    assert (st.view["mood"], st.view["text"]) == ("encourage", "Try again (0%)")


def test_an_ending_without_a_mood_is_thanks_not_a_tick(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    for t, pick in ((13, ("a",)), (15, ("a", "b")), (17, ("false",))):
        answer(st, *pick, at=t)
        st.feed(Advanced(), at=t + 1)
    st.feed(Advanced(), at=20)
    assert st.scene == "good_end"
    assert st.view["mood"] == "thanks"


# -- the introduction ---------------------------------------------------------------------

def test_a_quiz_intro_is_said_above_the_first_question_only(tmp_path: Path) -> None:
    doc = TINY.replace("    time_limit: 20\n",
                       "    time_limit: 20\n"
                       "    intro: {en: Three quick questions., zh-CN: 三个小问题。}\n", 1)
    assert doc != TINY
    st = at_quiz(load_exhibit(tmp_path / "intro", doc))
    assert st.view["index"] == 1 and st.view["intro"] == "Three quick questions."
    st.feed(LanguageChanged("zh-CN"), at=13)
    assert st.view["intro"] == "三个小问题。"
    answer(st, "a", at=14)  # the feedback is about the answer, not the quiz
    assert "intro" not in st.view
    st.feed(Advanced(), at=15)
    assert st.view["index"] == 2 and "intro" not in st.view


def test_a_quiz_without_intro_has_none_in_its_view(tiny: Exhibit) -> None:
    assert "intro" not in at_quiz(tiny).view
