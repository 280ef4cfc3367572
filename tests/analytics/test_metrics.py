"""Report metrics on a small hall whose every number is worked out by hand below.

Seven visits to station s1 of hall h1 (Asia/Shanghai, open daily 09:00-17:00),
stored through the hub's real ingest and summarised by hub/summaries.py:

======  =====  ==============================  ===========  ============  =========  =====
visit   lang   scenes                          pre (q1,q2)  post (p1,p2)  ends       dwell
======  =====  ==============================  ===========  ============  =========  =====
v1      zh-CN  intro pre story post end        a✓ c✓ = 2    ✓ ✓ = 2       completed  300
v2      en     intro pre story post end        a✓ d✗ = 1    ✓ ✓ = 2       completed  200
v3      zh-CN  intro pre story post end        b✗ d✗ = 0    ✓ ✗ = 1       completed  100
v4      zh-CN  intro pre story                 a✓ e✗ = 1    —             timeout     60
v5      en     intro pre                       b✗ c✓ = 1    —             timeout     45
v6      zh-CN  intro                           —            —             timeout     20
v7      en     intro pre post end  (v2.0)      x✗ = 0 /1    ✓ = 1 /1      completed   90
======  =====  ==============================  ===========  ============  =========  =====

v1-v6 start on Monday 2026-11-02 at 10:00-10:50 local time (02:xx UTC); v7 runs exhibit
version 2.0 (a changed quiz) and starts on Tuesday 2026-11-03 at 00:30 local time, which
is still Monday 16:30 in UTC: the day and hour filters must use the hall's time zone.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from showfloor.analytics import metrics as m
from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store

MON = dt.date(2026, 11, 2)
TUE = dt.date(2026, 11, 3)
V1 = m.Filter(exhibit="demo", version="1.0")


def _build(db: t.Database) -> None:
    setup_hall(db)
    b = Boot("aaaa01")
    b.started(local(2026, 11, 2, 8, 55))
    pre_post = ["intro", "pre", "story", "post", "end"]
    b.visit("v1", local(2026, 11, 2, 10, 0), lang="zh-CN", scenes=pre_post,
            answers={"pre": [("q1", ["a"], True), ("q2", ["c"], True)],
                     "post": [("p1", ["a"], True), ("p2", ["b"], True)]},
            reason="completed", dwell=300)
    b.visit("v2", local(2026, 11, 2, 10, 10), lang="en", scenes=pre_post,
            answers={"pre": [("q1", ["a"], True), ("q2", ["d"], False)],
                     "post": [("p1", ["a"], True), ("p2", ["b"], True)]},
            reason="completed", dwell=200)
    b.visit("v3", local(2026, 11, 2, 10, 20), lang="zh-CN", scenes=pre_post,
            answers={"pre": [("q1", ["b"], False), ("q2", ["d"], False)],
                     "post": [("p1", ["a"], True), ("p2", ["c"], False)]},
            reason="completed", dwell=100)
    b.visit("v4", local(2026, 11, 2, 10, 30), lang="zh-CN", scenes=["intro", "pre", "story"],
            answers={"pre": [("q1", ["a"], True), ("q2", ["e"], False)]}, dwell=60)
    b.visit("v5", local(2026, 11, 2, 10, 40), lang="en", scenes=["intro", "pre"],
            answers={"pre": [("q1", ["b"], False), ("q2", ["c"], True)]}, dwell=45)
    b.visit("v6", local(2026, 11, 2, 10, 50), lang="zh-CN", scenes=["intro"], dwell=20)
    # the station says it is alive (frame metrics) at 09:30, 10:30, 11:30 and 20:30 (closed)
    for h in (9, 10, 11, 20):
        b.event("surface_metrics", local(2026, 11, 2, h, 30), source="station",
                surface="main", frames=60, p50=16.0, p99=20.0)
    # version 2.0 after a reload: its quizzes changed (max 1), so never mixed with 1.0
    b.started(local(2026, 11, 2, 23, 0), version="2.0")
    b.visit("v7", local(2026, 11, 3, 0, 30), lang="en", scenes=["intro", "pre", "post", "end"],
            answers={"pre": [("x", ["b"], False)], "post": [("y", ["a"], True)]},
            reason="completed", dwell=90)
    store(db, "s1", b.out, time.time())
    summaries.summarise_all(db)


@pytest.fixture(scope="module")
def hall(module_db_url: str) -> Iterator[t.Database]:
    db = t.Database(module_db_url)
    t.upgrade(db)
    _build(db)
    yield db
    db.dispose()


def _run(db: t.Database, fn: Any, f: m.Filter) -> Any:
    with db.read() as conn:
        return fn(conn, f)


def test_visits_count_each_session_once_by_the_halls_days(hall: t.Database) -> None:
    assert _run(hall, m.visits, m.Filter()) == 7
    assert _run(hall, m.visits, V1) == 6
    # v7 starts at 00:30 on Tuesday in Shanghai (Monday 16:30 UTC): it is Tuesday's
    assert _run(hall, m.visits, m.Filter(start=MON, end=MON)) == 6
    assert _run(hall, m.visits, m.Filter(start=TUE, end=TUE)) == 1
    assert _run(hall, m.visits, m.Filter(station="nobody")) == 0


def test_visits_per_open_hour(hall: t.Database) -> None:
    # open 09:00-17:00: 8 hours on Monday; 6 visits / 8 h
    got = _run(hall, m.per_open_hour, m.Filter(hall="h1", start=MON, end=MON))
    assert got == {"visits": 6, "open_hours": 8.0, "rate": 0.75}
    two = _run(hall, m.per_open_hour, m.Filter(hall="h1", start=MON, end=TUE))
    assert two == {"visits": 7, "open_hours": 16.0, "rate": 7 / 16}


def test_share_reaching_an_end(hall: t.Database) -> None:
    assert _run(hall, m.end_share, V1) == {"n": 6, "reached": 3, "share": 0.5}
    assert _run(hall, m.end_share, m.Filter())["share"] == 4 / 7


def test_dwell_median_and_survival(hall: t.Database) -> None:
    got = _run(hall, m.dwell, V1)
    # 20 45 60 100 200 300: the median is (60 + 100) / 2
    assert got["n"] == 6
    assert got["median"] == 80.0
    curve = dict(got["survival"])
    assert curve[0] == 1.0
    assert curve[60] == 3 / 6  # 100, 200, 300 are more than 60 s
    assert curve[180] == 2 / 6
    assert curve[300] == 0.0


def test_scene_funnel_enters_and_leaves(hall: t.Database) -> None:
    got = _run(hall, m.funnel, V1)[("demo", "1.0")]
    assert got == [
        {"scene": "intro", "entered": 6, "left": 1},  # v6 left at intro
        {"scene": "pre", "entered": 5, "left": 1},  # v5
        {"scene": "story", "entered": 4, "left": 1},  # v4
        {"scene": "post", "entered": 3, "left": 0},
        {"scene": "end", "entered": 3, "left": 0},  # they reached the end
    ]


def test_questions_share_wrong_answers_and_discrimination(hall: t.Database) -> None:
    rows = {(r["scene"], r["question"]): r for r in _run(hall, m.questions, V1)}
    q1, q2 = rows[("pre", "q1")], rows[("pre", "q2")]
    assert (q1["n"], q1["correct"], q1["share"]) == (5, 3, 3 / 5)  # v1 v2 v4 right
    assert (q2["n"], q2["correct"], q2["share"]) == (5, 2, 2 / 5)  # v1 v5 right
    assert q2["wrong"] == [(["d"], 2), (["e"], 1)]
    assert q1["wrong"] == [(["b"], 2)]
    # 5 takers: groups of round(0.27 × 5) = 1; pre totals v1 2, v2 1, v3 0, v4 1, v5 1:
    # upper = v1 (right on both), lower = v3 (wrong on both): D = 1 − 0
    assert q1["discrimination"] == 1.0
    assert q2["discrimination"] == 1.0
    assert rows[("post", "p2")]["share"] == 2 / 3
    # version 2.0's question is reported on its own
    v2 = _run(hall, m.questions, m.Filter(version="2.0"))
    assert sorted((r["version"], r["question"], r["share"]) for r in v2) == [
        ("2.0", "x", 0.0), ("2.0", "y", 1.0)]


def test_discrimination_by_hand() -> None:
    # 10 takers, totals 0..9: groups of round(2.7) = 3
    right = [False, True, False, False, True, True, False, True, True, False]
    takers = [(f"v{i}", float(i), r) for i, r in enumerate(right)]
    # lower (0, 1, 2): 1 of 3 right; upper (7, 8, 9): 2 of 3 right
    assert m.discrimination(takers) == pytest.approx(2 / 3 - 1 / 3)
    assert m.discrimination(takers[:1]) is None


def test_gain_per_version_with_interval(hall: t.Database) -> None:
    rows = {r["version"]: r for r in _run(hall, m.gain, m.Filter(exhibit="demo"))}
    g = rows["1.0"]
    # pairs (pre, post): v1 (2, 2), v2 (1, 2), v3 (0, 1); ⟨pre⟩ 1, ⟨post⟩ 5/3, max 2:
    # ⟨g⟩ = (5/3 − 1) / (2 − 1) = 2/3
    assert g["gain"] == pytest.approx(2 / 3)
    assert (g["n"], g["took_pre"], g["took_post"], g["visits"]) == (3, 5, 3, 6)
    assert g["share_both"] == 0.5
    lo, hi = g["interval"]
    assert -1.0 <= lo <= 2 / 3 <= hi <= 1.0
    # the same data and seed give the same interval
    assert _run(hall, m.gain, m.Filter(exhibit="demo"))[0]["interval"] == g["interval"]
    # version 2.0: v7 went 0 → 1 of max 1: ⟨g⟩ = 1, one pair: no interval
    assert (rows["2.0"]["gain"], rows["2.0"]["n"], rows["2.0"]["interval"]) == (1.0, 1, None)


def test_hake_gain_and_bootstrap_by_hand() -> None:
    assert m.hake_gain([(2, 4), (4, 8)], 10) == pytest.approx((6 - 3) / (10 - 3))
    assert m.hake_gain([(10, 10)], 10) is None  # no room to gain
    assert m.bootstrap_gain([(0, 1)] * 5, 2) == (0.5, 0.5)  # every resample: (1 − 0) / 2
    assert m.median([3, 1, 2]) == 2.0


def test_bootstrap_is_the_percentile_interval_of_resampled_visits() -> None:
    pairs = [(0, 2), (1, 1), (2, 4), (3, 4), (1, 3)]
    # by the definition: resample the visits (indices) with replacement, ⟨g⟩ of each
    # resample (left out when it has no room to gain), 2.5th and 97.5th percentiles
    rng = random.Random(m.SEED)
    gains = []
    for _ in range(m.RESAMPLES):
        idx = rng.choices(range(5), k=5)
        pre = sum(pairs[i][0] for i in idx) / 5
        post = sum(pairs[i][1] for i in idx) / 5
        if pre < 4:
            gains.append((post - pre) / (4 - pre))
    gains.sort()
    k = (len(gains) - 1) * 0.025
    lo = gains[int(k)] + (gains[int(k) + 1] - gains[int(k)]) * (k - int(k))
    k = (len(gains) - 1) * 0.975
    hi = gains[int(k)] + (gains[int(k) + 1] - gains[int(k)]) * (k - int(k))
    assert m.bootstrap_gain(pairs, 4) == pytest.approx((lo, hi))
    # the same with scores that are not whole numbers (the general path)
    halves = [(a / 2, b / 2) for a, b in pairs]
    got = m.bootstrap_gain(halves, 2)
    assert got == pytest.approx((lo, hi))


def test_languages(hall: t.Database) -> None:
    assert _run(hall, m.languages, V1) == {"zh-CN": 4, "en": 2}


def test_heatmap_in_the_halls_time_zone(hall: t.Database) -> None:
    grid = _run(hall, m.heatmap, m.Filter())
    assert grid[0][10] == 6  # Monday 10:xx in Shanghai (02:xx UTC)
    assert grid[1][0] == 1  # Tuesday 00:30 in Shanghai (Monday 16:30 UTC)
    assert sum(map(sum, grid)) == 7


def test_attraction_waits_for_a_presence_sensor(hall: t.Database) -> None:
    assert _run(hall, m.attraction, m.Filter()) is None


def test_alive_but_unused_hours(hall: t.Database) -> None:
    # alive at 09:30, 10:30, 11:30 (open) and 20:30 (closed); visits only in 10:00-11:00
    got = _run(hall, m.unused_hours, m.Filter(hall="h1", start=MON, end=MON))
    assert got == {"s1": {"alive_open": 3, "unused": 2}}


def test_sections_registry_has_the_quiz(hall: t.Database) -> None:
    assert m.SECTIONS["quiz"] is m.questions
    with hall.read() as conn:
        rep = m.report(conn, V1)
    assert rep["visits"] == 6
    assert len(rep["sections"]["quiz"]) == 4


def test_bad_requests_are_clear(hall: t.Database) -> None:
    with pytest.raises(m.ReportError, match="swap the two dates"):
        _run(hall, m.visits, m.Filter(start=TUE, end=MON))
    with pytest.raises(m.ReportError, match="no hall 'nowhere'"):
        _run(hall, m.visits, m.Filter(hall="nowhere"))
