"""Scores and ranks: a pure function of the questions asked and the answers taken.

Nothing here keeps state. The engine keeps the answers log; the leaderboard is
always :func:`standings` of that log, so a replayed log gives the same board and
the order answers arrived in does not matter.

Times are whole milliseconds (``elapsed_ms``: from the question's reveal to the
answer, on the station's reckoning), so no float rounding can reorder teams.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from showfloor.content.model import Scoring


@dataclass(frozen=True, slots=True)
class Taken:
    """One answer the engine accepted."""

    team: str
    n: int
    correct: bool
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class Standing:
    """A team's place on the board. ``rank`` starts at 1 and is never shared."""

    team: str
    rank: int
    points: int
    right: int
    #: milliseconds spent on the right answers (less is better in a tie)
    time_ms: int


def points(scoring: Scoring, seconds: float, taken: Taken, run: int) -> int:
    """Points for one answer; ``run`` is how many right answers in a row end with it."""
    if not taken.correct:
        return 0
    limit = max(1, round(seconds * 1000))
    left = max(0, limit - min(max(taken.elapsed_ms, 0), limit))
    # integer arithmetic, rounded half up: the same on every machine
    bonus = (scoring.speed_bonus * left * 2 + limit) // (2 * limit)
    return scoring.correct + bonus + scoring.streak * max(0, run - 1)


def standings(scoring: Scoring, seconds: float, teams: Sequence[str], asked: Sequence[int],
              answers: Iterable[Taken]) -> list[Standing]:
    """The board: ``teams`` in the order they joined, ``asked`` the question numbers closed
    (in order; a skipped question is not in it), ``answers`` in any order.

    Ties are broken, in order, by: more points, more right answers, less time on the
    right answers, the earlier-joined team. Answers to questions not in ``asked``, or by
    teams not in ``teams``, count for nothing.
    """
    by: dict[tuple[str, int], Taken] = {}
    for a in answers:
        # one answer per team and question: the engine never takes two, and if a log
        # somehow held two, the first by time (then by content) counts, whatever the order
        key = (a.team, a.n)
        old = by.get(key)
        if old is None or (a.elapsed_ms, not a.correct) < (old.elapsed_ms, not old.correct):
            by[key] = a
    rows: list[tuple[int, int, int, int, str]] = []
    for order, team in enumerate(teams):
        total = right = time_ms = run = 0
        for n in asked:
            got = by.get((team, n))
            if got is None or not got.correct:
                run = 0
                continue
            run += 1
            right += 1
            time_ms += got.elapsed_ms
            total += points(scoring, seconds, got, run)
        rows.append((-total, -right, time_ms, order, team))
    rows.sort()
    return [Standing(team, i + 1, -p, -r, t) for i, (p, r, t, _, team) in enumerate(rows)]
