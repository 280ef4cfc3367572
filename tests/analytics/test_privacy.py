"""Small numbers are hidden: suppression of report cells, worked out by hand (k = 10).

The rule (docs/reports.md, "Small numbers are hidden"): a count of 1 to k − 1 visits is
shown as "< k", and so is everything computed from it; zero is shown; a share is shown
only when the visits it counts and the visits it leaves out are each 0 or ≥ k; parts of
a shown total are hidden so that the total minus the visible parts never gives a hidden
part (or fewer than k visits) back.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from showfloor.analytics import metrics as m
from showfloor.analytics import privacy as p
from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store

K = 10
S = p.Suppressed(K)


# -- k --------------------------------------------------------------------------------------

def test_k_has_a_floor_of_five() -> None:
    assert p.check_k(5) == 5
    assert p.check_k(p.DEFAULT_MIN_CELL) == 10
    with pytest.raises(m.ReportError, match="below the floor of 5"):
        p.check_k(4)
    with pytest.raises(m.ReportError, match="whole number"):
        p.check_k("10")  # type: ignore[arg-type]
    assert str(S) == "< 10"
    assert p.to_json(S) == {"suppressed": True, "below": 10}


# -- a breakdown under a shown total -------------------------------------------------------

def test_differencing_a_hall_total_reveals_no_station() -> None:
    # hall 25 = 12 + 9 + 4: hiding only 9 and 4 leaves 25 - 12 = 13 for the two together
    assert p.suppress_breakdown(25, {"a": 12, "b": 9, "c": 4}, K) == {"a": 12, "b": S, "c": S}


def test_one_small_part_takes_the_next_smallest_with_it() -> None:
    # 30 = 12 + 14 + 4 + 0: 4 alone would be 30 - 12 - 14 = 4; 12 is hidden with it; 0 shown
    got = p.suppress_breakdown(30, {"a": 12, "b": 14, "c": 4, "d": 0}, K)
    assert got == {"a": S, "b": 14, "c": S, "d": 0}


def test_hidden_parts_adding_to_fewer_than_k_take_another() -> None:
    # 3 + 4 = 7 < 10 would make "40 - 15 - 18 = 7" a small cell: 15 goes too
    got = p.suppress_breakdown(40, {"a": 3, "b": 4, "c": 15, "d": 18}, K)
    assert got == {"a": S, "b": S, "c": S, "d": 18}


def test_ties_are_broken_by_name_and_nothing_small_changes_nothing() -> None:
    assert p.suppress_breakdown(45, {"y": 20, "x": 20, "z": 5}, K) == {"y": 20, "x": S, "z": S}
    assert p.suppress_breakdown(22, {"a": 10, "b": 12, "c": 0}, K) == {"a": 10, "b": 12, "c": 0}


def test_no_breakdown_ever_gives_a_hidden_part_back() -> None:
    rng = random.Random(11)
    for _ in range(400):
        parts = {f"s{i}": rng.choice([0, 0, 1, 2, 4, 7, 9, 10, 11, 15, 30])
                 for i in range(rng.randint(1, 8))}
        total = sum(parts.values())
        got = p.suppress_breakdown(total, parts, K)
        hidden = [n for name, n in parts.items() if p.is_suppressed(got[name])]
        visible = [v for v in got.values() if isinstance(v, int)]
        assert not any(0 < v < K for v in visible), (parts, got)
        if hidden and total >= K:  # (a total under k is itself hidden by the caller)
            # what differencing gives: the hidden parts together, never one, never < k
            assert len(hidden) >= 2 and sum(hidden) >= K, (parts, got)
        assert all(got[name] == 0 for name, n in parts.items() if n == 0)


# -- a table of rows -------------------------------------------------------------------------

def test_rows_per_station_under_a_hall_total() -> None:
    rows = [{"station": "a", "visits": 12, "reached": 11, "share": 11 / 12},
            {"station": "b", "visits": 30, "reached": 20, "share": 20 / 30},
            {"station": "c", "visits": 4, "reached": 4, "share": 1.0},
            {"station": "d", "visits": 0, "reached": 0, "share": None}]
    got = p.suppress_rows(rows, K, counts=["reached"], derived={"share": "reached"}, total=46)
    assert got == [
        # hidden with c (complementary): 46 - 30 - 0 = 16 is a and c together
        {"station": "a", "visits": S, "reached": S, "share": S},
        # 20 of 30 reached, 10 did not: both ≥ k
        {"station": "b", "visits": 30, "reached": 20, "share": 20 / 30},
        {"station": "c", "visits": S, "reached": S, "share": S},
        {"station": "d", "visits": 0, "reached": 0, "share": None},
    ]
    assert rows[0]["visits"] == 12  # a copy: the table given is left alone


def test_a_share_hides_when_the_rest_is_small() -> None:
    rows = [{"station": "b", "visits": 30, "reached": 25, "share": 25 / 30}]
    got = p.suppress_rows(rows, K, counts=["reached"], derived={"share": "reached"})
    # 5 did not reach an end: 30 and 25/30 would give them back
    assert got == [{"station": "b", "visits": 30, "reached": S, "share": S}]


# -- a whole report -------------------------------------------------------------------------

def _report() -> dict[str, Any]:
    """A report shaped as metrics.report() makes it, with numbers chosen for the rules."""
    heat = [[0] * 24 for _ in range(7)]
    heat[0][10], heat[0][11], heat[1][10] = 30, 12, 3  # 45 visits
    return {
        "visits": 45,
        "per_open_hour": {"visits": 45, "open_hours": 16.0, "rate": 45 / 16},
        "end": {"n": 45, "reached": 40, "share": 40 / 45},  # 5 did not: hidden
        "dwell": {"n": 44, "median": 80.0,  # 1 visit without a dwell: n hidden
                  "survival": [(0.0, 1.0), (60.0, 34 / 44), (300.0, 3 / 44), (600.0, 0.0)]},
        "funnel": {("demo", "1.0"): [{"scene": "intro", "entered": 45, "left": 15},
                                     {"scene": "quiz", "entered": 30, "left": 2},
                                     {"scene": "bonus", "entered": 6, "left": 6}]},
        "gain": [{"exhibit": "demo", "version": "1.0", "measure": "m", "max": 2.0, "n": 20,
                  "took_pre": 28, "took_post": 21, "visits": 45, "share_both": 20 / 45,
                  "gain": 0.5, "interval": (0.3, 0.7)},
                 {"exhibit": "demo", "version": "2.0", "measure": "m", "max": 1.0, "n": 3,
                  "took_pre": 3, "took_post": 3, "visits": 30, "share_both": 0.1,
                  "gain": 1.0, "interval": (1.0, 1.0)}],
        "languages": {"zh-CN": 40, "en": 5},
        "heatmap": heat,
        "attraction": None,
        "sections": {"quiz": [
            {"exhibit": "demo", "version": "1.0", "scene": "pre", "question": "q1", "n": 30,
             "correct": 18, "share": 0.6, "wrong": [(["b"], 10), (["c"], 2)],
             "discrimination": 0.5, "discrimination_n": 28},
            {"exhibit": "demo", "version": "1.0", "scene": "pre", "question": "q2", "n": 8,
             "correct": 4, "share": 0.5, "wrong": [(["d"], 4)],
             "discrimination": 0.0, "discrimination_n": 8}],
            "bingo": [{"card": "b7", "n": 50}]},
    }


def test_every_part_of_a_report_hides_its_small_cells() -> None:
    got = p.suppress_report(_report(), K)
    assert got["visits"] == 45
    assert got["per_open_hour"] == {"visits": 45, "open_hours": 16.0, "rate": 45 / 16}
    assert got["end"] == {"n": 45, "reached": S, "share": S}
    assert got["dwell"]["n"] == S and got["dwell"]["median"] == 80.0
    # 44 still engaged at 0 s (0 ended), 34 at 60 s (10 ended), 3 at 300 s: hidden
    assert got["dwell"]["survival"] == [(0.0, 1.0), (60.0, 34 / 44), (300.0, S), (600.0, 0.0)]
    assert got["funnel"][("demo", "1.0")] == [
        {"scene": "intro", "entered": 45, "left": 15},
        {"scene": "quiz", "entered": 30, "left": S},
        {"scene": "bonus", "entered": S, "left": S}]
    g1, g2 = got["gain"]
    assert (g1["n"], g1["gain"], g1["interval"], g1["share_both"]) == (20, 0.5, (0.3, 0.7),
                                                                       20 / 45)
    assert (g2["n"], g2["gain"], g2["interval"], g2["took_pre"]) == (S, S, S, S)
    assert g2["visits"] == 30 and g2["share_both"] == S
    # 5 in English alone: 45 - 40 would give it back, so both languages go
    assert got["languages"] == {"zh-CN": S, "en": S}
    # Tuesday's 3 is hidden, and Monday 11 h's 12 with it (45 − 30 would give it back);
    # then Monday's 30 too: Monday's row adds up to Monday's visits (42, visits by day),
    # and 42 − 30 would give the 12 back
    assert (got["heatmap"][0][10], got["heatmap"][0][11], got["heatmap"][1][10]) == (S, S, S)
    assert got["heatmap"][3][3] == 0
    q1, q2 = got["sections"]["quiz"]
    assert (q1["n"], q1["correct"], q1["share"], q1["discrimination"]) == (30, 18, 0.6, 0.5)
    # 30 − 18 = 12 wrong: showing b's 10 would give c's 2 back (12 − 10), so both go
    assert q1["wrong"] == [(["b"], S), (["c"], S)]
    assert all(q2[key] == S for key in ("n", "correct", "share", "wrong", "discrimination"))
    # a section with no rule of its own is hidden whole (fail closed)
    assert got["sections"]["bingo"] == S


def test_a_weekday_row_of_the_heat_map_is_not_its_day_minus_the_others() -> None:
    # Mon 10 h 12, 11 h 20, 14 h 3; Tue 10 h 15, 11 h 4, 12 h 30: 84 visits. The grid
    # alone hides 3 and 4, then Mon 10 h's 12 (3 + 4 < 10): 84 − 20 − 15 − 30 = 19 is
    # three cells. But visits by day give Tuesday's 49, and 49 − 15 − 30 = 4: so Tue
    # 10 h's 15 goes too. Monday: 35 − 20 = 15 is two hidden cells (12 + 3): safe.
    heat = [[0] * 24 for _ in range(7)]
    heat[0][10], heat[0][11], heat[0][14] = 12, 20, 3
    heat[1][10], heat[1][11], heat[1][12] = 15, 4, 30
    got = p.suppress_report({"visits": 84, "heatmap": heat}, K)["heatmap"]
    assert (got[0][10], got[0][11], got[0][14]) == (S, 20, S)
    assert (got[1][10], got[1][11], got[1][12]) == (S, S, 30)
    for day, row in enumerate(got):  # no weekday row with exactly one hidden cell
        hidden = [heat[day][h] for h, n in enumerate(row) if p.is_suppressed(n)]
        assert len(hidden) != 1 and (not hidden or sum(hidden) >= K)


def test_a_funnel_hides_the_next_scene_that_would_give_a_leaving_count_back() -> None:
    # intro 40 (left 0) → quiz 40 (left 4: hidden) → story 36 (left 0) → end 36 (all
    # reached the end). 40 − 36 would give quiz's 4 back: story's 36 is hidden; then
    # story's 36 = 0 + end's 36: end's 36 too. Version 2.0 branches (quiz 30, left 3;
    # next 20): 30 ≠ 3 + 20, so nothing more is hidden there.
    funnel = {("demo", "1.0"): [{"scene": s, "entered": n, "left": left}
                                for s, n, left in (("intro", 40, 0), ("quiz", 40, 4),
                                                   ("story", 36, 0), ("end", 36, 0))],
              ("demo", "2.0"): [{"scene": "quiz", "entered": 30, "left": 3},
                                {"scene": "story", "entered": 20, "left": 0}]}
    got = p.suppress_report({"visits": 70, "funnel": funnel}, K)["funnel"]
    assert [(r["entered"], r["left"]) for r in got[("demo", "1.0")]] == [
        (40, 0), (40, S), (S, 0), (S, 0)]
    assert [(r["entered"], r["left"]) for r in got[("demo", "2.0")]] == [(30, S), (20, 0)]


def test_a_small_exhibit_version_is_not_the_total_minus_the_others() -> None:
    # 45 visits: 42 to version 1.0, 3 to 2.0; 45 - 42 would give 2.0's 3 back
    funnel = {("demo", "1.0"): [{"scene": "intro", "entered": 42, "left": 0},
                                {"scene": "quiz", "entered": 30, "left": 10}],
              ("demo", "2.0"): [{"scene": "intro", "entered": 3, "left": 0}]}
    gain = [{"exhibit": "demo", "version": ver, "measure": "m", "max": 2.0, "n": n,
             "took_pre": n, "took_post": n, "visits": visits, "share_both": n / visits,
             "gain": 0.5, "interval": (0.3, 0.7)} for ver, n, visits in (("1.0", 20, 42),
                                                                         ("2.0", 3, 3))]
    got = p.suppress_report({"visits": 45, "funnel": funnel, "gain": gain}, K)
    assert got["funnel"] == {
        ("demo", "1.0"): [{"scene": "intro", "entered": S, "left": S},
                          {"scene": "quiz", "entered": 30, "left": 10}],
        ("demo", "2.0"): [{"scene": "intro", "entered": S, "left": S}]}
    g1, g2 = got["gain"]
    assert (g1["visits"], g1["share_both"], g1["n"], g1["gain"]) == (S, S, 20, 0.5)
    assert (g2["visits"], g2["n"], g2["gain"]) == (S, S, S)


def test_a_small_report_hides_everything_it_counts() -> None:
    small = {"visits": 7, "per_open_hour": {"visits": 7, "open_hours": 8.0, "rate": 7 / 8},
             "end": {"n": 7, "reached": 4, "share": 4 / 7},
             "dwell": {"n": 7, "median": 60.0, "survival": [(0.0, 1.0), (60.0, 3 / 7)]},
             "attraction": 0.2}
    got = p.suppress_report(small, K)
    assert got == {"visits": S, "per_open_hour": {"visits": S, "open_hours": 8.0, "rate": S},
                   "end": {"n": S, "reached": S, "share": S},
                   "dwell": {"n": S, "median": S, "survival": [(0.0, S), (60.0, S)]},
                   "attraction": S}
    assert p.suppress_report({"visits": 0}, K) == {"visits": 0}  # zero is shown


def test_attraction_counts_hide_with_their_visits() -> None:
    # 3 visits on the days a sensor counted 200 passers-by, of 45 in all
    got = p.suppress_report({"visits": 45, "attraction": {"visits": 3, "passers": 200,
                                                          "rate": 0.015}}, K)
    assert got["attraction"] == {"visits": S, "passers": 200, "rate": S}
    # a bare rate says nothing of the visits it divides: hidden (fail closed)
    assert p.suppress_report({"visits": 45, "attraction": 0.2}, K)["attraction"] == S
    assert p.suppress_report({"visits": 45, "attraction": None}, K)["attraction"] is None


def test_the_attraction_numerator_is_a_cell_and_so_is_the_rest() -> None:
    # 45 visits; 38 of them on the days a sensor counted 190 people: 38 is shown and
    # 38 / 190 = 0.2 — but 45 − 38 = 7 visits where no sensor counted would be a small
    # cell, so the 38 and the rate (0.2 × 190 = 38) go
    a = {"visits": 38, "passers": 190, "rate": 0.2}
    assert p.suppress_report({"visits": 45, "attraction": a}, K)["attraction"] == {
        "visits": S, "passers": 190, "rate": S}
    # 45 − 35 = 10: both shown
    a = {"visits": 35, "passers": 175, "rate": 0.2}
    assert p.suppress_report({"visits": 45, "attraction": a}, K)["attraction"] == a
    # 45 − 45 = 0 (every visit where a sensor counted): shown; 0 visits of 80 passing too
    a = {"visits": 45, "passers": 90, "rate": 0.5}
    assert p.suppress_report({"visits": 45, "attraction": a}, K)["attraction"] == a
    a = {"visits": 0, "passers": 80, "rate": 0.0}
    assert p.suppress_report({"visits": 45, "attraction": a}, K)["attraction"] == a


def test_wrong_answers_are_hidden_against_the_questions_wrong_total() -> None:
    def wrong(n: int, correct: int, parts: list[tuple[str, int]]) -> list[Any]:
        row = {"exhibit": "demo", "version": "1.0", "scene": "pre", "question": "q1",
               "n": n, "correct": correct, "share": correct / n,
               "wrong": [([c], w) for c, w in parts], "discrimination": None,
               "discrimination_n": n}
        got = p.suppress_report({"visits": 60, "sections": {"quiz": [row]}}, K)
        return [w for _, w in got["sections"]["quiz"][0]["wrong"]]

    # 50 − 20 = 30 wrong = 14 + 12 + 4: d alone would be 30 − 14 − 12; c (next
    # smallest) goes with it, and 30 − 14 = 16 is the two together
    assert wrong(50, 20, [("b", 14), ("c", 12), ("d", 4)]) == [14, S, S]
    # 30 wrong = 12 + 11 + 4 shown as the top three, 3 more among answers not listed:
    # d and c hidden (4 + 11 + the 3 unlisted = 18 ≥ 10)
    assert wrong(50, 20, [("b", 12), ("c", 11), ("d", 4)]) == [12, S, S]
    # 30 wrong = 15 + 15: nothing small, nothing hidden
    assert wrong(50, 20, [("b", 15), ("c", 15)]) == [15, 15]
    # 30 wrong = 25 + 5: 30 − 25 gives d back, so 25 goes too
    assert wrong(50, 20, [("b", 25), ("d", 5)]) == [S, S]
    # 30 wrong, one wrong answer listed of 25 and 5 more among the unlisted: nothing small
    assert wrong(50, 20, [("b", 25)]) == [25]


def test_an_unknown_part_is_hidden_whole() -> None:
    assert p.suppress_report({"visits": 45, "passers_by": 3}, K)["passers_by"] == S


def test_a_suppressed_report_is_json() -> None:
    data = json.loads(json.dumps(p.to_json(p.suppress_report(_report(), K))))
    assert data["end"]["reached"] == {"suppressed": True, "below": 10}
    assert data["funnel"]["demo@1.0"][2]["entered"] == {"suppressed": True, "below": 10}
    assert data["gain"][0]["interval"] == [0.3, 0.7]


# -- on a real report ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def twelve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[t.Database]:
    """12 visits on SQLite: 11 reach the end (7 in English), 1 leaves at the intro."""
    db = t.Database(f"sqlite:///{tmp_path_factory.mktemp('privacy')}/hub.sqlite")
    t.upgrade(db)
    setup_hall(db)
    b = Boot("pr01")
    b.started(local(2026, 11, 2, 8, 55))
    for i in range(12):
        done = i < 11
        b.visit(f"v{i}", local(2026, 11, 2, 10, 2 * i), lang="en" if i < 7 else "zh-CN",
                scenes=["intro", "end"] if done else ["intro"],
                reason="completed" if done else "timeout", dwell=60.0 + i)
    store(db, "s1", b.out, time.time())
    summaries.summarise_all(db)
    yield db
    db.dispose()


def test_the_real_report_of_twelve_visits(twelve: t.Database) -> None:
    with twelve.read() as conn:
        got = p.suppress_report(m.report(conn, m.Filter(hall="h1")), K)
    assert got["visits"] == 12
    assert got["end"] == {"n": 12, "reached": S, "share": S}  # 1 did not reach it
    assert got["languages"] == {"en": S, "zh-CN": S}  # 7 and 5
    assert got["dwell"]["n"] == 12 and got["dwell"]["median"] == 65.5
    assert got["funnel"][("demo", "1.0")][0] == {"scene": "intro", "entered": 12, "left": S}
    # 12 visits in the hours 10:00 (Monday 02:00 UTC + 8): one shown cell
    assert sum(v for row in got["heatmap"] for v in row if isinstance(v, int)) == 12
    json.dumps(p.to_json(got))
