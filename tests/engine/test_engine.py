"""Unit tests of the engine's state machine on small exhibits written into tmp_path."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from showfloor.content.model import Exhibit
from showfloor.engine import (
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    Engine,
    LanguageChanged,
    Phase,
    Started,
    StillHere,
    Tick,
)
from showfloor.engine.clock import VirtualClock
from showfloor.engine.inputs import InputError, from_json, to_json
from showfloor.engine.state import digest

from .helpers import (
    BRANCH,
    POOL,
    TINY,
    Station,
    cues,
    ended,
    events,
    kinds,
    load_exhibit,
    rejected,
    views,
)

HEX32 = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def tiny(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "tiny", TINY)


@pytest.fixture
def branch(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "branch", BRANCH)


@pytest.fixture
def pool(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "pool", POOL)


def at_quiz(ex: Exhibit, *, choice: str = "brave", seed: int = 1) -> Station:
    """A station whose visitor has reached the quiz at t=12 (question 1 shown)."""
    st = Station(ex)
    st.feed(Started(seed=seed))
    st.tick(10)  # intro (auto, 10 s) → story
    st.feed(ChoiceMade(choice), at=11)  # → info
    st.feed(Advanced(), at=12)  # → quiz
    assert st.scene == "quiz"
    return st


def question(st: Station) -> dict[str, Any]:
    q: dict[str, Any] = st.view["question"]
    return q


def answer(st: Station, *choices: str, at: float | None = None) -> list[Any]:
    return st.feed(AnswerGiven(question(st)["id"], tuple(choices)), at=at)


# --------------------------------------------------------------------------
# Attract and starting a visit


def test_start_shows_the_attract_scene(tiny: Exhibit) -> None:
    st = Station(tiny)
    assert kinds(st.first) == ["engine_started", "view"]
    assert events(st.first)[0].data["exhibit"] == "tiny"
    [view] = views(st.first)
    assert view["phase"] == "attract"
    assert view["scene"] == "attract"
    assert view["call"] == "Touch to start"
    assert view["lang"] == "en"
    assert "overlay" not in view
    assert st.engine.phase is Phase.ATTRACT
    assert st.engine.next_deadline() is None
    assert st.engine.snapshot()["session"] is None
    # nothing happens in attract however long nobody comes
    assert st.tick(10_000) == []
    assert st.engine.phase is Phase.ATTRACT


def test_started_begins_a_session_at_start(tiny: Exhibit) -> None:
    st = Station(tiny)
    out = st.feed(Started(), at=5)
    assert st.engine.phase is Phase.SESSION
    assert st.scene == tiny.start == "intro"
    sid = st.engine.snapshot()["session"]
    assert HEX32.match(sid)
    evs = events(out)
    assert [e.kind for e in evs] == ["input", "session_started", "scene_entered", "view"]
    inp = evs[0].data["input"]
    assert inp["type"] == "start"
    assert inp["session"] == sid
    assert isinstance(inp["seed"], int)
    assert all(e.session == sid for e in evs)
    assert all(e.t == 5 for e in evs)
    # nothing about the visitor beyond an anonymous id and the language
    assert evs[1].data == {"lang": "en"}
    assert evs[2].data == {"from": None}
    assert views(out)[0]["scene"] == "intro"
    assert sid not in json.dumps(views(out))


def test_session_ids_are_random(tiny: Exhibit) -> None:
    st = Station(tiny)
    ids = []
    for i in range(3):
        st.feed(Started(), at=i * 100)
        ids.append(st.engine.snapshot()["session"])
        st.feed(Advanced(), at=i * 100 + 1)  # leave the intro
        st.tick(i * 100 + 99)  # and time out
        assert st.engine.phase is Phase.ATTRACT
    assert len(set(ids)) == 3
    assert all(HEX32.match(i) for i in ids)


def test_started_uses_a_given_session_id_and_seed(tiny: Exhibit) -> None:
    st = Station(tiny)
    out = st.feed(Started("abc", 42))
    assert st.engine.snapshot()["session"] == "abc"
    assert events(out)[0].data["input"] == {"type": "start", "session": "abc", "seed": 42}


@pytest.mark.parametrize("inp", [
    ChoiceMade("brave"), AnswerGiven("q1", ("a",)), Advanced(), StillHere(), Act("x", {}),
])
def test_inputs_without_a_visit_are_rejected(tiny: Exhibit, inp: Any) -> None:
    st = Station(tiny)
    out = st.feed(inp)
    assert [r.input_type for r in rejected(out)] == [inp.type]
    assert events(out) == []
    assert st.engine.phase is Phase.ATTRACT


def test_started_during_a_visit_is_rejected(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started("one", 1))
    out = st.feed(Started("two", 2), at=1)
    assert [r.input_type for r in rejected(out)] == ["start"]
    assert events(out) == []
    assert st.engine.snapshot()["session"] == "one"


# --------------------------------------------------------------------------
# Story


def test_choice_sets_variables_and_follows_goto(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    assert st.scene == "story"
    assert [c["id"] for c in st.view["choices"]] == ["brave", "shy"]
    out = st.feed(ChoiceMade("brave"), at=11)
    assert st.scene == "info"
    assert st.vars["brave"] is True
    assert st.vars["score"] == 2
    assert st.vars["mood"] == "bold"
    evs = events(out)
    assert [e.kind for e in evs] == ["input", "choice_made", "scene_exited", "scene_entered",
                                     "view"]
    assert evs[1].data == {"choice": "brave"}
    assert evs[2].scene == "story"
    assert evs[2].data == {"dwell": 1.0}
    assert evs[3].data == {"from": "story"}


def test_choice_follows_next_branches(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    st.feed(ChoiceMade("shy"), at=11)
    assert st.scene == "info"  # score > 100 is false: the default branch
    assert st.vars["score"] == 1
    assert st.vars["brave"] is False


@pytest.mark.parametrize("inp", [ChoiceMade("nope"), Advanced(), AnswerGiven("q1", ("a",)),
                                 Act("dance", {"x": 1})])
def test_input_that_does_not_apply_changes_nothing(tiny: Exhibit, inp: Any) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    before = st.engine.snapshot()
    view = st.view
    seq = st.log[-1].seq
    out = st.feed(inp, at=11)
    assert [r.input_type for r in rejected(out)] == [inp.type]
    assert events(out) == []  # nothing recorded, not even the input
    assert views(out) == []
    assert st.engine.snapshot() == before
    assert st.view == view
    # the event sequence goes on without a gap
    out = st.feed(ChoiceMade("brave"), at=12)
    assert events(out)[0].seq == seq + 1


def test_conditional_choice_is_offered_only_when_it_holds(branch: Exhibit) -> None:
    st = Station(branch)
    st.feed(Started(seed=1))
    assert "hidden" not in [c["id"] for c in st.view["choices"]]
    assert rejected(st.feed(ChoiceMade("hidden")))


# --------------------------------------------------------------------------
# Conditions and text


@pytest.mark.parametrize(("choice", "ending"), [("zero", "low"), ("one", "mid"), ("two", "high")])
def test_first_true_branch_wins(branch: Exhibit, choice: str, ending: str) -> None:
    st = Station(branch)
    st.feed(Started(seed=1))
    st.feed(ChoiceMade(choice), at=1)
    assert st.scene == "route"
    st.tick(1 + 10)  # the audio (10 s, from media_length) ends
    assert st.scene == ending


def test_no_matching_branch_ends_the_visit(branch: Exhibit) -> None:
    st = Station(branch)
    st.feed(Started(seed=1))
    st.feed(ChoiceMade("lost"), at=1)
    assert st.scene == "strict"
    out = st.feed(Advanced(), at=2)
    [end] = ended(out)
    assert end.data["reason"] == "no_branch"
    assert any(e.kind == "error" and e.data["what"] == "flow" for e in events(out))
    assert st.engine.phase is Phase.ATTRACT


def test_placeholders_are_filled_from_variables(tiny: Exhibit, branch: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    assert st.view["body"] == "Hello, you feel calm"
    st.tick(10)
    assert st.view["text"] == "Score 0"
    st.feed(ChoiceMade("brave"), at=11)
    assert st.view["body"] == "You scored 2"
    # booleans read true/false; unknown names are left as written
    st = Station(branch)
    st.feed(Started(seed=1))
    assert st.view["text"] == "Pick (0, false) {nope}"


# --------------------------------------------------------------------------
# Media


def test_auto_media_leaves_when_it_ends(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1), at=3)
    assert st.engine.next_deadline() == 13
    assert st.tick(12.99) == []
    assert st.scene == "intro"
    out = st.tick(13)
    assert st.scene == "story"
    entered = [e for e in events(out) if e.kind == "scene_entered"]
    assert [(e.scene, e.t, e.data["from"]) for e in entered] == [("story", 13, "intro")]
    assert [e.data["input"] for e in events(out) if e.kind == "input"] == [
        {"type": "tick", "now": 13}]


def test_auto_media_uses_the_injected_length(branch: Exhibit) -> None:
    for length in (3.0, 25.0):
        st = Station(branch, length=length)
        st.feed(Started(seed=1))
        st.feed(ChoiceMade("one"), at=1)
        assert st.engine.next_deadline() == 1 + length
        st.tick(1 + length - 0.01)
        assert st.scene == "route"
        st.tick(1 + length)
        assert st.scene == "mid"


def test_late_deadlines_happen_at_their_own_time(tiny: Exhibit) -> None:
    """An input after a missed deadline: the deadline first, then the input, at its time."""
    st = Station(tiny)
    st.feed(Started(seed=1))
    out = st.feed(ChoiceMade("brave"), at=15)  # the intro ended at 10; no tick since
    evs = events(out)
    assert [(e.kind, e.scene, e.t) for e in evs if e.kind.startswith("scene")] == [
        ("scene_exited", "intro", 10), ("scene_entered", "story", 10),
        ("scene_exited", "story", 15), ("scene_entered", "info", 15)]
    [inp] = [e for e in evs if e.kind == "input"]
    assert inp.t == 15
    assert st.scene == "info"
    # the idle timer and the media run from the input's time, not the deadline's
    assert st.engine.next_deadline() == 15 + 20 + 30


def test_button_media_waits_for_advance(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    st.feed(ChoiceMade("brave"), at=11)
    assert st.view["advance"] == "button"
    st.tick(11 + 20 + 29)  # media over long ago; idle not yet
    assert st.scene == "info"
    assert st.engine.phase is Phase.SESSION
    st.feed(Advanced(), at=60)
    assert st.scene == "quiz"


def test_idle_timer_starts_after_the_media(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    st.feed(ChoiceMade("brave"), at=11)  # info: 20 s of media, then 30 s idle
    assert st.engine.next_deadline() == 11 + 20 + 30
    st.tick(11 + 20 + 29.9)
    assert st.engine.phase is Phase.SESSION
    st.tick(11 + 20 + 30)
    assert st.engine.phase is Phase.WARNING


def test_watching_auto_media_is_not_idling(tmp_path: Path) -> None:
    """A 60 s auto-advancing intro with a 30 s idle timeout: no warning when it ends."""
    doc = TINY.replace("duration: 10\n    advance: auto", "duration: 60\n    advance: auto")
    st = Station(load_exhibit(tmp_path / "long", doc))
    st.feed(Started(seed=1))
    assert st.engine.next_deadline() == 60
    out = st.tick(60)
    assert st.scene == "story"
    assert "idle_warning" not in kinds(out)
    assert st.engine.phase is Phase.SESSION
    assert st.engine.next_deadline() == 60 + 30


def test_idle_timer_waits_for_story_narration(branch: Exhibit) -> None:
    st = Station(branch, length=12.0)
    st.feed(Started(seed=1))
    assert st.engine.next_deadline() == 12 + 30
    st.tick(41.9)
    assert st.engine.phase is Phase.SESSION
    st.tick(42)
    assert st.engine.phase is Phase.WARNING


# --------------------------------------------------------------------------
# Quiz


def test_quiz_walkthrough_all_right(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    v = st.view
    assert v["stage"] == "question"
    assert v["index"] == 1
    assert v["count"] == 3
    assert v["time_limit"] == 20
    assert question(st)["id"] == "q1"
    out = answer(st, "a", at=13)
    assert st.view["stage"] == "feedback"
    assert st.view["answer"]["correct"] is True
    assert st.view["answer"]["points"] == 1
    assert st.view["answer"]["right"] == ["a"]
    [ans] = [e for e in events(out) if e.kind == "answered"]
    assert ans.data["question"] == "q1"
    assert ans.data["correct"] is True
    assert ans.data["timed_out"] is False
    st.feed(Advanced(), at=14)
    assert question(st)["id"] == "q2"
    assert st.view["index"] == 2
    answer(st, "b", "a", at=15)  # multiple: exactly the right set, any order
    assert st.view["answer"]["correct"] is True
    assert st.view["answer"]["points"] == 2
    st.feed(Advanced(), at=16)
    assert question(st)["id"] == "q3"
    assert [c["id"] for c in question(st)["choices"]] == ["true", "false"]
    answer(st, "false", at=17)
    assert st.view["answer"]["correct"] is True
    out = st.feed(Advanced(), at=18)
    v = st.view
    assert v["stage"] == "summary"
    assert (v["score"], v["max"], v["correct"], v["percent"], v["passed"]) == (4, 4, 3, 100, True)
    [done] = [e for e in events(out) if e.kind == "quiz_completed"]
    assert done.data == {"score": 4, "max": 4, "correct": 3, "count": 3, "percent": 100,
                         "passed": True}
    assert st.vars["quiz_score"] == 4
    assert st.vars["quiz_percent"] == 100
    assert st.vars["quiz_passed"] is True
    assert st.engine.next_deadline() == 18 + 30  # no time limit on the summary
    st.feed(Advanced(), at=19)
    assert st.scene == "good_end"
    assert st.view["text"] == "Brave and right: 4"


def test_quiz_all_wrong_goes_to_the_default_branch(tiny: Exhibit) -> None:
    st = at_quiz(tiny, choice="shy")
    for t, pick in ((13, ("b",)), (15, ("a",)), (17, ("true",))):
        answer(st, *pick, at=t)
        assert st.view["answer"]["correct"] is False
        assert st.view["answer"]["points"] == 0
        st.feed(Advanced(), at=t + 1)
    assert st.view["stage"] == "summary"
    assert st.view["passed"] is False
    assert st.vars["quiz_percent"] == 0
    assert st.vars["quiz_passed"] is False
    st.feed(Advanced(), at=20)
    assert st.scene == "end"
    # the first message's condition (score > 100) is false: the default one
    assert st.view["message"] == 1
    assert st.view["text"] == "Try again (0%)"


@pytest.mark.parametrize(("picked", "right"), [
    (("a", "b"), True), (("b", "a"), True), (("a",), False), (("b",), False),
    (("a", "b", "c"), False), (("c",), False), (("a", "c"), False),
])
def test_multiple_choice_is_right_only_for_exactly_the_right_set(
        tiny: Exhibit, picked: tuple[str, ...], right: bool) -> None:
    st = at_quiz(tiny)
    answer(st, "a", at=13)
    st.feed(Advanced(), at=14)
    assert question(st)["kind"] == "multiple"
    answer(st, *picked, at=15)
    assert st.view["answer"]["correct"] is right
    assert st.view["answer"]["points"] == (2 if right else 0)


@pytest.mark.parametrize("inp", [
    AnswerGiven("q2", ("a",)),  # not the question shown
    AnswerGiven("q1", ("zz",)),  # not a choice
    AnswerGiven("q1", ("a", "b")),  # two picks on a single-choice question
    ChoiceMade("a"),
    Act("answer", {"question": "q1", "choices": 7}),
])
def test_quiz_rejects_answers_that_do_not_apply(tiny: Exhibit, inp: Any) -> None:
    st = at_quiz(tiny)
    before, view = st.engine.snapshot(), st.view
    out = st.feed(inp, at=13)
    assert rejected(out)
    assert events(out) == []
    assert st.view == view
    assert st.engine.snapshot() == before


def test_quiz_rejects_a_second_answer_and_stale_advance(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    answer(st, "b", at=13)
    view = st.view
    assert rejected(st.feed(AnswerGiven("q1", ("a",)), at=14))  # already answered
    assert st.view == view
    st.feed(Advanced(), at=15)
    # a late answer to question 1 while question 2 is shown
    assert rejected(st.feed(AnswerGiven("q1", ("a",)), at=16))
    assert st.view["stage"] == "question"


def test_quiz_time_limit_records_a_timed_out_answer(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    assert st.engine.next_deadline() == 12 + 20
    assert st.tick(31.9) == []
    out = st.tick(32)
    [ans] = [e for e in events(out) if e.kind == "answered"]
    assert ans.t == 32
    assert ans.data["question"] == "q1"
    assert ans.data["timed_out"] is True
    assert ans.data["correct"] is False
    assert ans.data["points"] == 0
    assert ans.data["choices"] == []
    v = st.view
    assert v["stage"] == "feedback"
    assert v["answer"]["timed_out"] is True
    assert "time_limit" not in v
    assert st.engine.phase is Phase.SESSION
    # the next question's limit counts from when it is shown
    st.feed(Advanced(), at=40)
    assert st.engine.next_deadline() == 60
    answer(st, "a", "b", at=45)
    assert st.view["answer"]["points"] == 2
    st.feed(Advanced(), at=46)
    st.tick(66)
    st.feed(Advanced(), at=67)
    assert st.view["stage"] == "summary"
    assert (st.view["score"], st.view["max"]) == (2, 4)
    assert st.vars["quiz_percent"] == 50


def test_quiz_pool_and_shuffle_follow_the_seed(pool: Exhibit) -> None:
    def drawn(seed: int) -> tuple[list[str], list[list[str]]]:
        st = Station(pool)
        st.feed(Started(seed=seed))
        ids, orders = [], []
        for i in range(3):
            q = question(st)
            ids.append(q["id"])
            orders.append([c["id"] for c in q["choices"]])
            answer(st, "a", at=i * 2 + 1)
            st.feed(Advanced(), at=i * 2 + 2)
        assert st.view["stage"] == "summary"
        assert st.view["count"] == 3
        assert st.view["score"] == 3
        return ids, orders

    for seed in (1, 2, 3):
        assert drawn(seed) == drawn(seed)
    draws = [drawn(seed) for seed in range(12)]
    assert all(len(set(ids)) == 3 for ids, _ in draws)
    assert len({tuple(ids) for ids, _ in draws}) > 1
    assert len({tuple(map(tuple, orders)) for _, orders in draws}) > 1


# --------------------------------------------------------------------------
# End


def test_end_after_duration_resets_to_attract(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    for t, pick in ((13, ("a",)), (15, ("a", "b")), (17, ("false",))):
        answer(st, *pick, at=t)
        st.feed(Advanced(), at=t + 1)
    st.feed(LanguageChanged("zh-CN"), at=19)
    st.feed(Advanced(), at=20)
    assert st.scene == "good_end"
    assert st.view["text"] == "勇敢又正确 4"
    sid = st.engine.snapshot()["session"]
    assert st.engine.next_deadline() == 20 + 15
    assert st.tick(34.9) == []
    out = st.tick(35)
    [end] = ended(out)
    assert end.session == sid
    assert end.data["reason"] == "completed"
    assert end.data["duration"] == 35
    assert end.data["scenes"] == 5
    assert [(c.name, dict(c.data)) for c in cues(out)] == [("reset", {"reason": "completed"})]
    assert st.engine.phase is Phase.ATTRACT
    assert st.engine.lang == "en"
    [view] = views(out)
    assert view["scene"] == "attract"
    assert view["lang"] == "en"
    assert digest(view) == digest(views(st.first)[0])
    snap = st.engine.snapshot()
    assert snap["session"] is None
    assert snap["vars"] is None
    assert st.engine.next_deadline() is None


def test_end_on_advance(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    for _ in range(3):  # let every question time out
        d = st.engine.next_deadline()
        assert d is not None
        st.tick(d)
        assert st.view["answer"]["timed_out"] is True
        st.feed(Advanced(), at=d + 1)
    assert st.view["stage"] == "summary"
    st.feed(Advanced(), at=st.clock.now + 1)
    assert st.scene == "end"
    out = st.feed(Advanced(), at=st.clock.now + 1)
    assert [e.data["reason"] for e in ended(out)] == ["completed"]
    assert [c.name for c in cues(out)] == ["reset"]
    assert st.engine.phase is Phase.ATTRACT


# --------------------------------------------------------------------------
# Idle


def idle_at_story(ex: Exhibit) -> Station:
    """A visitor who reached the story at t=10 and then stopped; warned at t=40."""
    st = Station(ex)
    st.feed(Started(seed=1))
    st.tick(10)
    assert st.engine.next_deadline() == 40
    out = st.tick(40)
    assert st.engine.phase is Phase.WARNING
    assert "idle_warning" in kinds(out)
    return st


def test_idle_warning_then_reset(tiny: Exhibit) -> None:
    st = idle_at_story(tiny)
    v = st.view
    assert v["phase"] == "warning"
    assert v["scene"] == "story"
    assert v["overlay"] == {"kind": "idle_warning", "countdown": 10}
    assert st.engine.next_deadline() == 50
    assert st.tick(49.9) == []
    out = st.tick(50)
    [end] = ended(out)
    assert end.data["reason"] == "timeout"
    assert end.t == 50
    assert [c.name for c in cues(out)] == ["reset"]
    assert st.engine.phase is Phase.ATTRACT
    assert views(out)[-1]["scene"] == "attract"


def test_one_late_tick_runs_warning_and_reset(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    out = st.tick(1000)
    assert [(e.kind, e.t) for e in events(out) if e.kind in
            ("scene_entered", "idle_warning", "session_ended")] == [
        ("scene_entered", 10), ("idle_warning", 40), ("session_ended", 50)]


def test_still_here_dismisses_the_warning(tiny: Exhibit) -> None:
    st = idle_at_story(tiny)
    out = st.feed(StillHere(), at=45)
    assert kinds(out) == ["input", "still_here", "view"]
    assert st.engine.phase is Phase.SESSION
    assert "overlay" not in st.view
    assert st.view["phase"] == "session"
    assert st.engine.next_deadline() == 45 + 30


@pytest.mark.parametrize("inp", [ChoiceMade("brave"), Advanced(), Act("junk", {}),
                                 ChoiceMade("nope"), Started()])
def test_any_input_during_the_warning_only_dismisses_it(tiny: Exhibit, inp: Any) -> None:
    st = idle_at_story(tiny)
    before = st.engine.snapshot()
    out = st.feed(inp, at=45)
    assert not rejected(out)
    assert "still_here" in kinds(out)
    assert "choice_made" not in kinds(out)
    assert st.engine.phase is Phase.SESSION
    assert st.engine.snapshot() == {**before, "phase": "session"}
    # the input itself was not applied; the next one is
    st.feed(ChoiceMade("brave"), at=46)
    assert st.scene == "info"


def test_language_change_during_the_warning_dismisses_it_and_applies(tiny: Exhibit) -> None:
    st = idle_at_story(tiny)
    st.feed(LanguageChanged("zh-CN"), at=45)
    assert st.engine.phase is Phase.SESSION
    assert st.view["lang"] == "zh-CN"
    assert st.view["text"] == "得分 0"


def test_unknown_language_does_not_dismiss_the_warning(tiny: Exhibit) -> None:
    st = idle_at_story(tiny)
    out = st.feed(LanguageChanged("fr"), at=45)
    assert rejected(out)
    assert st.engine.phase is Phase.WARNING
    st.tick(50)
    assert st.engine.phase is Phase.ATTRACT


def test_still_here_in_a_session_just_resets_the_timer(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    out = st.feed(StillHere(), at=35)
    assert kinds(out) == ["input"]  # recorded: a replay must restart the timer too
    assert views(out) == []
    assert not rejected(out)
    assert st.engine.next_deadline() == 65


@pytest.mark.parametrize("inp", [ChoiceMade("nope"), Started(), AnswerGiven("q1", ("a",))])
def test_rejected_inputs_leave_the_idle_timer_alone(tiny: Exhibit, inp: Any) -> None:
    """A rejected input is not recorded, so it must not move the timer (replay could not)."""
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    assert rejected(st.feed(inp, at=35))
    assert st.engine.next_deadline() == 40


def test_input_after_a_missed_reset_meets_attract(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    out = st.feed(ChoiceMade("brave"), at=100)  # warned at 40, reset due at 50
    assert [e.data["reason"] for e in ended(out)] == ["timeout"]
    assert [r.input_type for r in rejected(out)] == ["choose"]
    assert st.engine.phase is Phase.ATTRACT


def test_a_new_visitor_after_a_missed_reset_gets_a_fresh_session(tiny: Exhibit) -> None:
    """The reset that was due happens first; the new visit starts at the touch, not before."""
    st = Station(tiny)
    st.feed(Started("old", 1))
    st.tick(10)
    out = st.feed(Started("new", 2), at=100)
    evs = events(out)
    [end] = ended(out)
    assert (end.session, end.t, end.data["reason"]) == ("old", 50, "timeout")
    started = [e for e in evs if e.kind == "session_started"]
    assert [(e.session, e.t) for e in started] == [("new", 100)]
    assert st.engine.next_deadline() == 110  # the intro's 10 s, from the touch
    st.tick(101)
    assert st.engine.phase is Phase.SESSION
    assert st.scene == "intro"


def test_idle_settings_can_be_overridden(tiny: Exhibit) -> None:
    st = Station(tiny, idle_timeout=5, idle_countdown=2)
    st.feed(Started(seed=1))
    st.tick(10)
    st.tick(15)
    assert st.engine.phase is Phase.WARNING
    assert st.view["overlay"]["countdown"] == 2
    st.tick(17)
    assert st.engine.phase is Phase.ATTRACT


# --------------------------------------------------------------------------
# Language


def test_language_change_switches_strings(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    st.tick(10)
    out = st.feed(LanguageChanged("zh-CN"), at=11)
    assert kinds(out) == ["input", "language_changed", "view"]
    [v] = views(out)
    assert v["lang"] == "zh-CN"
    assert v["text"] == "得分 0"
    assert [c["label"] for c in v["choices"]] == ["勇敢", "害羞"]
    assert v["ui"]["still_here"] == "我还在"
    assert st.engine.snapshot()["lang"] == "zh-CN"
    # the same language again: shown again, no change recorded
    out = st.feed(LanguageChanged("zh-CN"), at=12)
    assert kinds(out) == ["input", "view"]


def test_unknown_language_is_rejected(tiny: Exhibit) -> None:
    st = Station(tiny)
    st.feed(Started(seed=1))
    before, view = st.engine.snapshot(), st.view
    out = st.feed(LanguageChanged("fr"), at=1)
    assert [r.input_type for r in rejected(out)] == ["language"]
    assert events(out) == []
    assert st.engine.snapshot() == before
    assert st.view == view


def test_language_chosen_in_attract_carries_into_the_visit(tiny: Exhibit) -> None:
    st = Station(tiny)
    out = st.feed(LanguageChanged("zh-CN"))
    assert views(out)[0]["call"] == "触摸开始"
    out = st.feed(Started(seed=1), at=1)
    assert [e.data for e in events(out) if e.kind == "session_started"] == [{"lang": "zh-CN"}]
    assert st.view["body"] == "你好，你感到 calm"
    st.tick(1000)
    assert st.engine.phase is Phase.ATTRACT
    assert st.view["lang"] == "en"
    assert st.view["call"] == "Touch to start"


def test_ui_strings_can_be_overridden(tmp_path: Path) -> None:
    doc = TINY.replace("attract: attract\n", "attract: attract\nui:\n"
                       "  still_here: {en: Yes!, zh-CN: 在!}\n", 1)
    st = Station(load_exhibit(tmp_path / "ui", doc))
    assert st.view["ui"]["still_here"] == "Yes!"
    assert st.view["ui"]["next"] == "Continue"


# --------------------------------------------------------------------------
# Plumbing


def test_event_seq_increases_and_views_are_recorded(tiny: Exhibit) -> None:
    st = at_quiz(tiny)
    st.tick(1000)
    seqs = [e.seq for e in st.log]
    assert seqs == list(range(1, len(seqs) + 1))
    shown = [e for e in st.log if e.kind == "view"]
    assert len(shown) >= 6


def test_engine_without_views_records_no_views(tiny: Exhibit) -> None:
    engine = Engine(tiny, clock=VirtualClock(0), media_length=lambda p: 10.0, views=False,
                    digests=False)
    engine.start()
    out = engine.feed(Started(seed=1))
    assert views(out) == []
    assert "view" not in kinds(out)
    assert engine.snapshot()["scene"] == "intro"
    assert engine.view()["scene"] == "intro"  # built on demand


def test_missing_start_scene_is_refused(tmp_path: Path) -> None:
    from showfloor.errors import ContentError

    doc = TINY.replace("start: intro", "start: nowhere", 1)
    ex = load_exhibit(tmp_path / "bad", doc)
    with pytest.raises(ContentError):
        Engine(ex, clock=VirtualClock(0))


@pytest.mark.parametrize("inp", [
    Started(), Started("abc", 7), ChoiceMade("a"), AnswerGiven("q", ("a", "b")), Advanced(),
    LanguageChanged("en"), StillHere(), Act("poke", {"n": 1, "s": "x"}), Tick(12.5),
])
def test_inputs_round_trip_through_json(inp: Any) -> None:
    wire = json.loads(json.dumps(to_json(inp)))
    assert from_json(wire) == inp


@pytest.mark.parametrize("bad", [
    None, [], {"type": "fly"}, {"type": "choose"}, {"type": "choose", "choice": ""},
    {"type": "answer", "question": "q"}, {"type": "answer", "question": "q", "choices": []},
    {"type": "tick", "now": "soon"}, {"type": "tick", "now": True},
    {"type": "start", "seed": "x"}, {"type": "act", "action": "a", "payload": [1]},
])
def test_malformed_inputs_are_refused(bad: Any) -> None:
    with pytest.raises(InputError):
        from_json(bad)
