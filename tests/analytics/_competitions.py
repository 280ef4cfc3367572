"""Hand-made competitions (and two visits), stored through the hub's real ingest; the
numbers they give are worked out in tests/analytics/test_contests.py's docstring."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store


def _ev(b: Boot, kind: str, wall: float, **data: Any) -> None:
    b.event(kind, wall, source="station", **data)


def _competition(b: Boot, wall: float, teams: list[str],
                 questions: list[tuple[str, list[tuple[str, bool, int]], bool]],
                 *, end: bool = True) -> None:
    """One competition: teams join, then per question its answers (team, right, ms),
    closed (True) or skipped (False); the board at the end (right answers per team)."""
    for i, team in enumerate(teams):
        _ev(b, "team_joined", wall - 60 + i, team=team, name=f"Class {team}")
    _ev(b, "competition_started", wall, competition="class-quiz",
        questions=[q for q, _, _ in questions], teams=teams)
    w = wall
    right: dict[str, int] = dict.fromkeys(teams, 0)
    for n, (q, answers, closed) in enumerate(questions):
        w += 40
        _ev(b, "question_revealed", w, n=n, question=q, at=w)
        for team, ok, ms in answers:
            _ev(b, "answer_taken", w + ms / 1000, team=team, n=n, question=q, choices=["a"],
                correct=ok, elapsed_ms=ms)
        if closed:
            for team, ok, _ms in answers:
                right[team] += ok
            _ev(b, "question_closed", w + 20, n=n, question=q, distribution={"a": 1},
                answered=len(answers), correct=[tm for tm, ok, _ in answers if ok])
        else:
            _ev(b, "question_skipped", w + 10, n=n, question=q)
    if end:
        order = sorted(teams, key=lambda tm: (-right[tm], teams.index(tm)))
        _ev(b, "competition_ended", w + 30, asked=sum(1 for *_, c in questions if c),
            board=[{"team": tm, "rank": i + 1, "points": 100 * right[tm],
                    "right": right[tm]} for i, tm in enumerate(order)])


A_TEAMS = [f"t{i}" for i in range(1, 13)]


def build(db: t.Database) -> None:
    setup_hall(db)
    with db.write() as conn:
        conn.execute(insert(t.stations).values(
            id="s9", hall_id="h1", name="s9", profile="competition", public_key="k" * 43,
            enrolled=local(2026, 10, 1, 8)))
    b = Boot("cmp001")
    b.started(local(2026, 11, 2, 8))
    _competition(b, local(2026, 11, 2, 10), A_TEAMS, [
        ("q1", [(f"t{i}", i <= 9, i * 1000 + 50) for i in range(1, 13)], True),
        ("q2", [(f"t{i}", True, 1000) for i in range(1, 5)], False),
        ("q3", [("t1", True, 2500), ("t2", True, 3500)] +
         [(f"t{i}", False, 4000) for i in range(3, 7)], True)])
    _competition(b, local(2026, 11, 3, 14), ["u1", "u2", "u3", "u4"], [
        ("q1", [("u1", True, 500), ("u2", True, 700), ("u3", True, 900),
                ("u4", False, 1000)], True)])
    _competition(b, local(2026, 11, 3, 16), ["v1", "v2"], [
        ("q1", [("v1", True, 3600), ("v2", False, 4000)], True)], end=False)
    store(db, "s9", b.out, local(2026, 11, 3, 17))
    v = Boot("vis001")
    v.started(local(2026, 11, 2, 8))
    v.visit("x1", local(2026, 11, 2, 11), lang="en", scenes=["intro", "pre"],
            answers={"pre": [("q1", ["a"], True)]})
    v.visit("x2", local(2026, 11, 2, 12), lang="en", scenes=["intro", "pre"],
            answers={"pre": [("q1", ["b"], False)]})
    store(db, "s1", v.out, local(2026, 11, 2, 13))
    summaries.summarise_all(db)
