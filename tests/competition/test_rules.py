"""Scores and ranks (showfloor.competition.rules): hand-worked numbers and properties."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from showfloor.competition.rules import Taken, points, standings
from showfloor.content.model import Scoring

S = Scoring(correct=100, speed_bonus=50, streak=10)


def test_points_worked_by_hand() -> None:
    # 20 s a question. Right at 5 s: 100 + 50 * 15/20 = 137.5 -> 138 (half up)
    assert points(S, 20, Taken("a", 0, True, 5000), run=1) == 138
    # right at once: 100 + 50; third in a row: + 2 * 10
    assert points(S, 20, Taken("a", 0, True, 0), run=3) == 170
    # right as time runs out: no bonus
    assert points(S, 20, Taken("a", 0, True, 20_000), run=1) == 100
    # a wrong answer scores nothing, however fast
    assert points(S, 20, Taken("a", 0, False, 0), run=0) == 0
    # no speed bonus configured
    assert points(Scoring(correct=10, speed_bonus=0), 20, Taken("a", 0, True, 1), 1) == 10


def test_a_board_worked_by_hand() -> None:
    # three questions of 10 s; teams joined in the order red, blue, green
    log = [
        Taken("red", 0, True, 2000),    # 100 + 50*8/10 = 140
        Taken("blue", 0, True, 1000),   # 100 + 45 = 145
        Taken("green", 0, False, 500),  # 0
        Taken("red", 1, True, 5000),    # 100 + 25 + streak 10 = 135
        Taken("blue", 1, False, 3000),  # 0 (breaks blue's run)
        Taken("green", 1, True, 9000),  # 100 + 5 = 105
        Taken("red", 2, False, 1000),   # 0
        Taken("blue", 2, True, 4000),   # 100 + 30 = 130 (run 1 again)
        Taken("green", 2, True, 6000),  # 100 + 20 + 10 = 130
    ]
    board = standings(S, 10, ["red", "blue", "green"], [0, 1, 2], log)
    # red 140 + 135 = 275; blue 145 + 130 = 275: tied on points and right answers,
    # blue spent less time on its right answers (5 s against 7 s), so blue is first
    assert [(b.team, b.points, b.right, b.time_ms) for b in board] == [
        ("blue", 275, 2, 5000), ("red", 275, 2, 7000), ("green", 235, 2, 15000)]
    assert [b.rank for b in board] == [1, 2, 3]


def test_a_full_tie_goes_to_the_team_that_joined_first() -> None:
    log = [Taken("late", 0, True, 1000), Taken("early", 0, True, 1000)]
    board = standings(S, 10, ["early", "late"], [0], log)
    assert [b.team for b in board] == ["early", "late"]
    assert board[0].points == board[1].points == 145


def test_skipped_questions_and_removed_teams_count_for_nothing() -> None:
    log = [Taken("a", 0, True, 0), Taken("a", 1, True, 0), Taken("gone", 0, True, 0)]
    board = standings(S, 10, ["a"], [1], log)  # question 0 was skipped
    assert [(b.team, b.points) for b in board] == [("a", 150)]


answers = st.lists(st.builds(Taken, st.sampled_from(["a", "b", "c", "d"]),
                             st.integers(0, 5), st.booleans(), st.integers(0, 20_000)),
                   max_size=40)


@settings(max_examples=200, deadline=None)
@given(answers, st.lists(st.integers(0, 5), unique=True), st.integers(0, 2**32))
def test_the_board_is_a_pure_function_of_the_log_in_any_order(
        log: list[Taken], asked: list[int], seed: int) -> None:
    teams = ["a", "b", "c", "d"]
    once = standings(S, 20, teams, asked, log)
    shuffled = log[:]
    random.Random(seed).shuffle(shuffled)
    assert standings(S, 20, teams, asked, shuffled) == once
    # ranks are 1..n, never shared, and points never rise down the board
    assert [b.rank for b in once] == list(range(1, len(teams) + 1))
    assert all(x.points >= y.points for x, y in itertools.pairwise(once))
