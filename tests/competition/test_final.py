"""A hall's part of a final across halls, in the engine: its inputs, its events (each
names the final; a closed question carries the hall's standings), the schedule, and the
log replaying to the same board (docs/competition.md, "A final across halls")."""

from __future__ import annotations

from pathlib import Path

import pytest

from showfloor.competition.engine import (
    GRACE,
    Answer,
    Begin,
    CompetitionEngine,
    End,
    FinalOpened,
    Reveal,
    TeamJoined,
    Tick,
    from_json,
    replay,
    seq_of,
    to_json,
)
from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.engine.effects import Effect, Event, Rejected

DEMO = Path(__file__).parents[2] / "examples" / "drug-prevention"


@pytest.fixture(scope="module")
def exhibit() -> Exhibit:
    return load(DEMO).exhibit


def refusal(effects: list[Effect]) -> str | None:
    return next((e.reason for e in effects if isinstance(e, Rejected)), None)


def test_a_final_runs_on_its_schedule_and_every_event_names_it(exhibit: Exhibit) -> None:
    eng = CompetitionEngine(exhibit, "class-quiz")
    log: list[Event] = []
    log += seq_of(eng.feed(TeamJoined("c1", "Sunrise")))
    log += seq_of(eng.feed(FinalOpened(final=7, name="District final", start=100.0,
                                       seed=42, gap=5.0)))
    assert refusal(eng.feed(FinalOpened(8, "Another", 200.0, 1))) == \
        "this competition is already part of final 7"
    # 20 s questions, 5 s apart: question i at 100 + 25 i
    assert [eng.scheduled(i) for i in range(3)] == [100.0, 125.0, 150.0]
    assert eng.view()["final"] == {"final": 7, "name": "District final", "start": 100.0,
                                   "gap": 5.0}
    log += seq_of(eng.feed(Begin(seed=42)))  # one team is enough in a final's hall
    # the same seed draws the same questions in every hall
    other = CompetitionEngine(exhibit, "class-quiz")
    other.feed(TeamJoined("c9", "Pine"))
    other.feed(FinalOpened(7, "District final", 3.5, 42))
    other.feed(Begin(seed=42))
    assert [q.id for q in other.questions] == [q.id for q in eng.questions]

    log += seq_of(eng.feed(Reveal(at=100.0)))
    q = eng.questions[0]
    right = sorted(q.right)
    log += seq_of(eng.feed(Answer("c1", 0, tuple(right), 4000, received=104.01, slack=0.1)))
    log += seq_of(eng.feed(Tick(120.0 + GRACE)))
    closed = next(e for e in log if e.kind == "question_closed")
    # 100 for right + 50 × 16/20 speed bonus = 140
    assert closed.data["board"] == [{"team": "c1", "name": "Sunrise", "points": 140,
                                     "right": 1}]
    log += seq_of(eng.feed(End()))
    kinds = [e.kind for e in log if e.kind != "competition_input"]
    assert kinds == ["team_joined", "final_opened", "competition_started",
                     "question_revealed", "answer_taken", "question_closed",
                     "competition_ended"]
    opened = next(e for e in log if e.kind == "final_opened")
    assert opened.data == {"final": 7, "name": "District final", "start": 100.0,
                           "seconds": 20.0, "gap": 5.0, "count": 10}
    # every event recorded once the final is open names it (the team joined before)
    assert all(e.data.get("final") == 7 for e in log[2:]), [e.kind for e in log]
    assert "final" not in log[0].data

    again = replay(exhibit, "class-quiz", log)
    assert again.final == eng.final and again.board() == eng.board()
    for e in log:
        if e.kind == "competition_input":
            assert from_json(e.data).type == e.data["type"]
            assert to_json(from_json(e.data)) == {k: v for k, v in e.data.items()
                                                  if k != "final" or e.data["type"] ==
                                                  "final_opened"}


def test_a_final_opens_only_in_a_lobby(exhibit: Exhibit) -> None:
    eng = CompetitionEngine(exhibit, "class-quiz")
    eng.feed(TeamJoined("a", "Sunrise"))
    eng.feed(TeamJoined("b", "Galaxy"))
    eng.feed(Begin(seed=1))
    assert refusal(eng.feed(FinalOpened(1, "Final", 10.0, 1))) == \
        "a competition is under way here; end it before a final can open"
    lone = CompetitionEngine(exhibit, "class-quiz")
    lone.feed(TeamJoined("a", "Sunrise"))
    assert refusal(lone.feed(Begin(seed=1))) == "a competition needs at least 2 teams"
    assert refusal(lone.feed(FinalOpened(1, "Final", 10.0, 1, gap=-1))) == \
        "the gap between a final's questions is 0 to 600 seconds"
