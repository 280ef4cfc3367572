"""Competitions in the reports (metrics.contests, privacy._contests) and their results
(hub/competitions.py), worked out by hand, on both backends.

Hall h1 (Asia/Shanghai). Station s9 runs competition ``class-quiz`` of exhibit demo 1.0
(its events stored through the hub's real ingest, summarised by the real pass):

===  ===================  =====  ========================================================
     started (local)      teams  answers taken (team: right ✓ / wrong ✗, ms from reveal)
===  ===================  =====  ========================================================
A    Mon Nov 2, 10:00     12     q1 (n0): t1…t9 ✓ at i × 1000 + 50 ms; t10…t12 ✗. Closed.
                                 q2 (n1): t1…t4 ✓, then the host skipped it: none count.
                                 q3 (n2): t1 ✓ 2500, t2 ✓ 3500, t3…t6 ✗. Closed. Ended.
B    Tue Nov 3, 14:00     4      q1: u1 ✓ 500, u2 ✓ 700, u3 ✓ 900, u4 ✗. Closed. Ended.
C    Tue Nov 3, 16:00     2      q1: v1 ✓ 3600, v2 ✗. Closed. Not ended (yet).
===  ===================  =====  ========================================================

Right answers in whole tenths of a second: A q1 10, 20, …, 90; A q3 25, 35; B 5, 7, 9;
C 36.

- q1, Nov 2–3: answered 12 + 4 + 2 = 18, right 9 + 3 + 1 = 13, share 13/18; the 13
  times sorted 5 7 9 10 20 30 36 40 50 60 70 80 90: the 7th, 36 → 3.6 s.
- q3: answered 6, right 2, share 1/3; median (25 + 35) / 2 = 30 → 3.0 s.
- q2: skipped, so no row.
- Nov 2 only: q1 12 answered, 9 right (0.75), median of 10…90 = 50 → 5.0 s; q3 as above.
- Suppression, k = 10: q1's 18 shown, its 5 wrong are few, so right and share hidden
  (18 − 13); the median stands on 13 right answers: shown. q3 (6 teams) hidden whole.
  k = 5: q1 all shown (5 wrong is not fewer than 5); q3's 6 shown, its 2 right (and
  share, median) hidden.

Station s1 has two visits on Nov 2 whose quiz scene ``pre`` asks q1 too: one right,
one wrong. The quiz's table counts those two, never the 18 teams.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from showfloor.analytics import exports
from showfloor.analytics import metrics as m
from showfloor.analytics import privacy as p
from showfloor.hub import competitions, retention
from showfloor.hub import db as t
from showfloor.hub.migrations import run_data_steps

from ._competitions import build
from ._visits import local

S10, S5 = p.Suppressed(10), p.Suppressed(5)
DAY = 86400.0


@pytest.fixture(scope="module")
def built(module_db_url: str) -> Iterator[t.Database]:
    db = t.Database(module_db_url)
    t.upgrade(db)
    build(db)
    yield db
    db.dispose()


def _q(question: str, answered: Any, right: Any, share: Any, median: Any) -> dict[str, Any]:
    return {"exhibit": "demo", "version": "1.0", "competition": "class-quiz",
            "question": question, "answered": answered, "right": right, "share": share,
            "median_s": median}


BOTH_DAYS = [_q("q1", 18, 13, 13 / 18, 3.6), _q("q3", 6, 2, 2 / 6, 3.0)]
NOV_2, NOV_3 = dt.date(2026, 11, 2), dt.date(2026, 11, 3)


def test_per_question_difficulty_by_hand(built: t.Database) -> None:
    with built.read() as conn:
        hall = m.contests(conn, m.Filter(hall="h1", start=NOV_2, end=NOV_3))
        region = m.contests(conn, m.Filter())  # the month rows summed over every hall
        station = m.contests(conn, m.Filter(station="s9"))  # from its results, not sums
        monday = m.contests(conn, m.Filter(hall="h1", start=NOV_2, end=NOV_2))
        other = m.contests(conn, m.Filter(hall="h1", exhibit="other"))
        report = m.report(conn, m.Filter(hall="h1", start=NOV_2, end=NOV_3))
    assert hall == BOTH_DAYS
    assert region == BOTH_DAYS
    assert station == BOTH_DAYS
    assert monday == [_q("q1", 12, 9, 0.75, 5.0), _q("q3", 6, 2, 2 / 6, 3.0)]
    assert other == []
    assert report["sections"]["competition"] == BOTH_DAYS


def test_competitions_never_mix_into_the_quiz_or_the_visits(built: t.Database) -> None:
    with built.read() as conn:
        report = m.report(conn, m.Filter(hall="h1", start=NOV_2, end=NOV_3))
    assert report["visits"] == 2  # the two visits; the 18 teams are no visits
    quiz = report["sections"]["quiz"]
    assert [(q["scene"], q["question"], q["n"], q["correct"]) for q in quiz] == [
        ("pre", "q1", 2, 1)]


def test_small_cells_hidden() -> None:
    got = p.suppress_report({"visits": 2, "sections": {"competition": BOTH_DAYS}},
                            10)["sections"]["competition"]
    assert got == [_q("q1", 18, S10, S10, 3.6), _q("q3", S10, S10, S10, S10)]
    got = p.suppress_report({"visits": 2, "sections": {"competition": BOTH_DAYS}},
                            5)["sections"]["competition"]
    assert got == [BOTH_DAYS[0], _q("q3", 6, S5, S5, S5)]


def test_exported_as_csv_and_parquet_with_the_manifest(built: t.Database,
                                                        tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    f = m.Filter(hall="h1", start=NOV_2, end=NOV_3)
    with built.read() as conn:
        made = exports.tables(conn, f, 5, ["competition_questions", "competitions"])
        only = exports.tables(conn, m.Filter(station="s9"), 5)  # no visit at s9
        man = exports.export(conn, f, 5, {"csv": tmp_path, "parquet": tmp_path})["csv"]
    assert made["competition_questions"].rows == [
        ("demo", "1.0", "class-quiz", "q1", 18, 13, 13 / 18, 3.6),
        ("demo", "1.0", "class-quiz", "q3", 6, S5, S5, S5)]
    # A ends 3 × 40 + 30 s after 10:00 (02:00 UTC), B 40 + 30 s after 14:00; C goes on
    assert made["competitions"].rows == [
        ("h1", "s9", "demo", "1.0", "class-quiz", None, "2026-11-02T02:00:00+00:00",
         "2026-11-02T02:02:30+00:00", 2, 12, "Class t1"),
        ("h1", "s9", "demo", "1.0", "class-quiz", None, "2026-11-03T06:00:00+00:00",
         "2026-11-03T06:01:10+00:00", 1, 4, "Class u1"),
        ("h1", "s9", "demo", "1.0", "class-quiz", None, "2026-11-03T08:00:00+00:00",
         None, 1, 2, None)]
    # competitions are not visits: a station without visits still has its tables
    assert only["visits"].rows == [] and len(only["competitions"].rows) == 3
    assert only["competition_questions"].rows == made["competition_questions"].rows
    with (tmp_path / "competition_questions.csv").open(newline="") as fh:
        assert list(csv.reader(fh)) == [
            ["exhibit", "version", "competition", "question", "teams_answered", "right",
             "share_right", "median_s_to_right"],
            ["demo", "1.0", "class-quiz", "q1", "18", "13", str(13 / 18), "3.6"],
            ["demo", "1.0", "class-quiz", "q3", "6", "< 5", "< 5", "< 5"]]
    back = pq.read_table(tmp_path / "competition_questions.parquet").to_pylist()
    assert (back[1]["right"], back[1]["right_suppressed"]) == (None, True)
    listed = {tbl["name"]: tbl["rows"] for tbl in man["tables"]}
    assert (listed["competition_questions"], listed["competitions"]) == (2, 3)
    assert json.loads((tmp_path / "manifest.json").read_text()) == man
    assert "competitions.csv / competitions.parquet: one row per a knowledge competition" \
        in (tmp_path / "README.txt").read_text()


def test_malformed_competition_events_never_stop_the_summaries() -> None:
    # a station's events are not trusted: odd values count as 0 or nothing, never raise
    class E:
        def __init__(self, seq: int, kind: str, data: Any) -> None:
            self.seq, self.kind, self.data, self.wall = seq, kind, data, 1000.0 + seq

    got = competitions.competitions([
        E(1, "team_joined", {"team": "h1", "name": "x" * 500}),
        E(2, "competition_started", {"competition": "c", "teams": "all"}),
        E(3, "answer_taken", {"n": 0, "question": "q1", "correct": "yes",
                              "elapsed_ms": float("nan")}),
        E(4, "answer_taken", {"n": "0", "question": "q1", "correct": True}),
        E(5, "question_closed", {"n": 0}),
        E(6, "competition_started", {"competition": "d", "teams": ["h1"], "final": 7}),
        E(7, "competition_ended", {"board": [{"team": "h1", "rank": "first",
                                              "points": 1e300, "right": None}, "junk"],
                                   "asked": 10**30}),
        E(8, "competition_ended", None)])
    # d is a round of the hub's final 7 (every event of a final carries its id)
    assert [(c["competition"], c["teams"], c["asked"], c["ended"], c["final"])
            for c in got] == [("c", 0, 1, None, None), ("d", 1, 2**31 - 1, 1007.0, "7")]
    assert got[0]["answers"] == [["q1", False, 0]]  # "yes" is not true; "0" is no number
    assert got[1]["board"] == [{"team": "h1", "name": "x" * 100, "rank": 0,
                                "points": 2**31 - 1, "right": 0}]


def _results(db: t.Database) -> list[dict[str, Any]]:
    c = t.competition_results
    with db.read() as conn:
        return [dict(r._mapping) for r in conn.execute(select(c).order_by(c.c.started))]


def test_one_result_row_per_competition_with_its_board(built: t.Database) -> None:
    rows = _results(built)
    assert [(r["station_id"], r["hall_id"], r["exhibit"], r["version"], r["competition"],
             r["teams"], r["asked"], r["ended"] is not None, r["final"]) for r in rows] == [
        ("s9", "h1", "demo", "1.0", "class-quiz", 12, 2, True, None),
        ("s9", "h1", "demo", "1.0", "class-quiz", 4, 1, True, None),
        ("s9", "h1", "demo", "1.0", "class-quiz", 2, 1, False, None)]
    a = rows[0]
    assert a["started"] == local(2026, 11, 2, 10)
    # q1's right answers: t1..t9; q3's: t1, t2 → t1 and t2 lead with 2, then t3..t9
    assert a["board"][:3] == [
        {"team": "t1", "name": "Class t1", "rank": 1, "points": 200, "right": 2},
        {"team": "t2", "name": "Class t2", "rank": 2, "points": 200, "right": 2},
        {"team": "t3", "name": "Class t3", "rank": 3, "points": 100, "right": 1}]
    assert len(a["answers"]) == 12 + 6  # q2's four, skipped, count for nobody
    assert rows[1]["board"][0]["name"] == "Class u1"  # B's teams, not A's
    assert rows[2]["board"] == []  # C is not over: no board yet


def test_results_and_sums_outlive_the_raw_events(built: t.Database) -> None:
    # runs last in the module: the events are purged 200 days on
    with built.read() as conn:
        before = m.contests(conn, m.Filter(hall="h1"))
    rows = _results(built)
    assert retention.purge(built, local(2026, 11, 3, 17) + 200 * DAY, 180) > 0
    ev = t.events.c
    with built.read() as conn:
        left = conn.execute(select(ev.kind).where(ev.station_id == "s9")).all()
        assert left == []
        assert m.contests(conn, m.Filter(hall="h1")) == before
    assert _results(built) == rows
    # rebuilding every rollup, and the migration's data step, keep them
    with built.write() as conn:
        competitions.rebuild(conn)
        from showfloor.hub.rollups import rebuild_rollups

        rebuild_rollups(conn)
        conn.execute(insert(t.summary_marks).values(key="pending:competitions",
                                                    watermark=0.0, updated=0.0))
        assert run_data_steps(conn) == ["competitions"]
    with built.read() as conn:
        assert m.contests(conn, m.Filter(hall="h1")) == before
    assert [r["board"] for r in _results(built)] == [r["board"] for r in rows]
