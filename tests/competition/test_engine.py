"""The competition's state machine on the demo exhibit: rules, refusals, pause, replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from showfloor.competition.engine import (
    GRACE,
    Answer,
    Begin,
    CompetitionEngine,
    End,
    Pause,
    Reveal,
    Skip,
    TeamJoined,
    TeamRemoved,
    Tick,
    from_json,
    replay,
    seq_of,
    to_json,
)
from showfloor.competition.rules import standings
from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.engine.effects import Effect, Rejected

DEMO = Path(__file__).parents[2] / "examples" / "drug-prevention"


@pytest.fixture(scope="module")
def exhibit() -> Exhibit:
    return load(DEMO).exhibit


def refusal(effects: list[Effect]) -> str | None:
    return next((e.reason for e in effects if isinstance(e, Rejected)), None)


def started(exhibit: Exhibit, teams: int = 3) -> tuple[CompetitionEngine, list[Effect]]:
    eng = CompetitionEngine(exhibit, "class-quiz")
    log: list[Effect] = []
    for k in range(teams):
        log += eng.feed(TeamJoined(f"t{k}", f"Team {k}"))
    log += eng.feed(Begin(seed=7))
    return eng, log


def right_and_wrong(eng: CompetitionEngine) -> tuple[str, str]:
    q = eng.questions[eng.now.n if eng.now else eng.next_n]
    right = sorted(q.right)[0]
    wrong = next(c for c, _ in q.choices if c not in q.right)
    return right, wrong


def test_a_question_is_revealed_answered_closed_and_scored(exhibit: Exhibit) -> None:
    eng, _ = started(exhibit)
    assert len(eng.questions) == 10 and eng.phase == "between"
    eng.feed(Reveal(at=100.0))
    view = eng.view()
    assert view["phase"] == "question" and view["at"] == 100.0 and view["close_at"] == 120.0
    # the pages never learn the right answer while the question is on show
    assert "correct" not in str(view["question"]) and view["result"] is None
    right, wrong = right_and_wrong(eng)
    # t0 answers right 5 s after the reveal (arrives 40 ms later), t1 wrong
    eng.feed(Answer("t0", 0, (right,), 5000, received=105.04, slack=0.1))
    eng.feed(Answer("t1", 0, (wrong,), 3000, received=103.05, slack=0.1))
    assert eng.view()["answered"] == ["t0", "t1"]
    assert eng.feed(Tick(120.0 + GRACE - 0.01)) == []  # answers may still be on their way
    out = eng.feed(Tick(120.0 + GRACE))
    closed = next(e for e in seq_of(out) if e.kind == "question_closed")
    assert closed.data["answered"] == 2 and closed.data["correct"] == ["t0"]
    assert closed.data["distribution"][right] == 1 and closed.data["distribution"][wrong] == 1
    board = eng.view()["board"]
    # 100 + 50 * 15/20 = 137.5 -> 138
    assert [(b["team"], b["points"]) for b in board] == [("t0", 138), ("t1", 0), ("t2", 0)]
    assert eng.view()["result"]["right"] == sorted(eng.questions[0].right)


def test_bad_answers_are_refused_with_a_sentence_and_nothing_scored_is_lost(
        exhibit: Exhibit) -> None:
    eng, _ = started(exhibit)
    eng.feed(Reveal(at=10.0))
    right, wrong = right_and_wrong(eng)
    assert refusal(eng.feed(Answer("t0", 0, (right,), 900, received=10.95))) is None
    cases: list[tuple[Answer, str]] = [
        (Answer("t0", 0, (wrong,), 1000, received=11.0), "this team has already answered"),
        (Answer("nobody", 0, (right,), 1000, received=11.0), "no such team"),
        (Answer("t1", 1, (right,), 1000, received=11.0), "that question is not on show"),
        (Answer("t1", 0, ("zz",), 1000, received=11.0), "not a choice of this question"),
        (Answer("t1", 0, (), 1000, received=11.0), "not a choice of this question"),
        (Answer("t1", 0, (right,), 0, received=9.0), "that question is not on show yet"),
        (Answer("t1", 0, (right,), 21_000, received=31.2), "time was up"),
    ]
    for answer, why in cases:
        assert refusal(eng.feed(answer)) == why, answer
    eng.feed(Tick(31.0))
    # arriving after the question closed
    assert refusal(eng.feed(Answer("t2", 0, (right,), 100, received=31.1))) == "time was up"
    assert next((b["team"], b["points"]) for b in eng.view()["board"]) == ("t0", 148)


def test_claims_a_page_cannot_have_made_are_clamped_and_marked(exhibit: Exhibit) -> None:
    eng, _ = started(exhibit)
    eng.feed(Reveal(at=50.0))
    right, _ = right_and_wrong(eng)
    # a page whose clock is 10 minutes wrong claims it answered at once, but the answer
    # arrived 8 s after the reveal over a link whose round trip is 0.2 s
    out = eng.feed(Answer("t0", 0, (right,), 0, received=58.0, slack=0.2))
    taken = next(e for e in seq_of(out) if e.kind == "answer_taken")
    assert taken.data["elapsed_ms"] == 7800 and taken.data["clamped_from"] == 0
    # one claiming to have answered later than it arrived is pulled back to its arrival
    out = eng.feed(Answer("t1", 0, (right,), 9000, received=53.0, slack=0.2))
    taken = next(e for e in seq_of(out) if e.kind == "answer_taken")
    assert taken.data["elapsed_ms"] == 3000 and taken.data["clamped_from"] == 9000


def test_teams_and_names(exhibit: Exhibit) -> None:
    eng = CompetitionEngine(exhibit, "class-quiz")
    assert refusal(eng.feed(Begin(1))) == "a competition needs at least 2 teams"
    assert refusal(eng.feed(TeamJoined("a", "x" * 17))) == \
        "a team name has at most 16 characters"
    assert refusal(eng.feed(TeamJoined("a", "Stupid ones"))) == \
        "that team name is not allowed here; pick another"
    assert refusal(eng.feed(TeamJoined("a", "  "))) == "a team name cannot be empty"
    for k in range(40):
        assert refusal(eng.feed(TeamJoined(f"t{k}", f"T{k}"))) is None
    assert refusal(eng.feed(TeamJoined("t40", "T40"))) == "this competition is full (40 teams)"
    assert refusal(eng.feed(TeamJoined("t1", "Again"))) == "that team has already joined"
    eng.feed(TeamRemoved("t3"))
    assert "t3" not in [t["team"] for t in eng.view()["teams"]]


def test_a_pause_keeps_the_time_left_and_every_score(exhibit: Exhibit) -> None:
    eng, _ = started(exhibit)
    eng.feed(Reveal(at=0.0))
    right, _ = right_and_wrong(eng)
    eng.feed(Answer("t0", 0, (right,), 4000, received=4.05, slack=0.1))
    eng.feed(Pause(now=6.0, reason="host_left"))  # 14 s were left
    assert eng.view()["phase"] == "paused" and eng.view()["at"] is None
    assert refusal(eng.feed(Answer("t1", 0, (right,), 6500, received=6.6))) == \
        "the competition is paused"
    assert eng.feed(Tick(100.0)) == []  # a paused question never closes on its own
    eng.feed(Reveal(at=200.0))  # resumed: the same question, 14 s left
    v = eng.view()
    assert v["n"] == 0 and v["close_at"] == 214.0 and v["used_ms"] == 6000
    # t1 answers 2 s into the resumed question: 8 s in all
    eng.feed(Answer("t1", 0, (right,), 2000, received=202.03, slack=0.1))
    eng.feed(Tick(214.0 + GRACE))
    pts = {b["team"]: b["points"] for b in eng.view()["board"]}
    assert pts == {"t0": 140, "t1": 130, "t2": 0}  # 100+50*16/20, 100+50*12/20


def test_skip_and_end(exhibit: Exhibit) -> None:
    eng, _ = started(exhibit)
    eng.feed(Reveal(at=0.0))
    right, _ = right_and_wrong(eng)
    eng.feed(Answer("t0", 0, (right,), 1000, received=1.0))
    eng.feed(Skip())  # the question on show counts for nobody
    assert eng.view()["board"][0]["points"] == 0 and eng.phase == "between"
    eng.feed(Reveal(at=30.0))
    assert eng.view()["n"] == 1
    out = eng.feed(End())  # ending mid-question closes it first
    kinds = [e.kind for e in seq_of(out)]
    assert kinds[-2:] == ["question_closed", "competition_ended"]
    assert eng.view()["phase"] == "ended" and len(eng.view()["podium"]) == 3
    assert refusal(eng.feed(Reveal(at=60.0))) == "no question can be shown now"


moves = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 25_000),
                           st.floats(0.0, 0.4)), max_size=30)


@settings(max_examples=40, deadline=None)
@given(moves)
def test_the_log_replays_to_the_same_board(exhibit: Exhibit, plays: list[Any]) -> None:
    """Any mix of answers, right, wrong, late, twice and refused: the recorded inputs give
    the same board again, and the board is ``standings`` of the answers taken."""
    eng, log = started(exhibit, teams=4)
    events = seq_of(log)
    t = 0.0
    for n in range(3):
        events += seq_of(eng.feed(Reveal(at=t)))
        ids = [c for c, _ in eng.questions[n].choices]
        for team, pick, ms, delay in plays:
            events += seq_of(eng.feed(Answer(f"t{team}", n, (ids[pick % len(ids)],), ms,
                                             received=t + ms / 1000 + delay, slack=0.5)))
        events += seq_of(eng.feed(Tick(t + 21)))
        t += 30
    assert eng.asked == [0, 1, 2]
    again = replay(exhibit, "class-quiz", events)
    assert again.view()["board"] == eng.view()["board"]
    assert again.taken == eng.taken
    assert again.board() == standings(eng.comp.scoring, eng.seconds, ["t0", "t1", "t2", "t3"],
                                      eng.asked, eng.taken)
    for e in events:
        if e.kind == "competition_input":
            assert to_json(from_json(e.data)) == e.data
