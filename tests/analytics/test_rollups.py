"""Report rollups (hub/rollups.py): the sums the metrics read at scale, by hand.

Hall h1 (Asia/Shanghai, open daily 09:00-17:00). Station s1 has a presence sensor;
s2 has none. Five visits, stored through the hub's real ingest:

=====  =====  ============  =======  ===================  ===================  =====  ====
visit  st.    day           version  pre (max 2 / 1)      post                 lang   dwell
=====  =====  ============  =======  ===================  ===================  =====  ====
a1     s1     Sat Oct 31    1.0      q1✓ q2✗ = 1          p1✓ p2✓ = 2          zh-CN  100.5
a2     s1     Sun Nov 1     1.0      q1✗ q2✗ = 0          p1✓ p2✗ = 1          en     60
a5     s2     Sun Nov 1     1.0      —                    —                    en     40
a3     s1     Mon Nov 30    1.0      q1✓ q2✓ = 2          —                    zh-CN  30
a4     s1     Tue Dec 1     2.0      q1✗ = 0 (max 1)      p1✓ = 1 (max 1)      zh-CN  50
=====  =====  ============  =======  ===================  ===================  =====  ====

Version 2.0 changed the quiz (its q1 has one point, not two): it is never mixed with
1.0. a5's events come in two uploads, the first before its station's
``engine_started`` and without its end (summarised as exhibit "" first, then again).
s1 counts 4 people passing on Nov 1 and 2 on Dec 1, and reports frame times on Nov 1
at 09:30 and 10:30.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import delete, insert, select

from showfloor.analytics import metrics as m
from showfloor.hub import db as t
from showfloor.hub import rollups, summaries

from ._visits import Boot, local, setup_hall, store
from .test_metrics import _build as build_metrics_hall

D = dt.date
V1 = m.Filter(hall="h1", exhibit="demo", version="1.0")


def _build(db: t.Database) -> None:
    setup_hall(db)
    with db.write() as conn:
        conn.execute(insert(t.stations).values(
            id="s2", hall_id="h1", name="s2", profile="touch", public_key="k" * 43,
            enrolled=local(2026, 10, 1, 8)))
    b = Boot("bbbb01")
    b.started(local(2026, 10, 31, 8))
    story = ["intro", "pre", "post", "end"]
    b.visit("a1", local(2026, 10, 31, 10), lang="zh-CN", scenes=story,
            answers={"pre": [("q1", ["a"], True), ("q2", ["d"], False)],
                     "post": [("p1", ["a"], True), ("p2", ["b"], True)]},
            reason="completed", dwell=100.5)
    b.visit("a2", local(2026, 11, 1, 10), lang="en", scenes=story,
            answers={"pre": [("q1", ["c"], False), ("q2", ["d"], False)],
                     "post": [("p1", ["a"], True), ("p2", ["c"], False)]},
            reason="completed", dwell=60)
    b.visit("a3", local(2026, 11, 30, 10), lang="zh-CN", scenes=["intro", "pre"],
            answers={"pre": [("q1", ["a"], True), ("q2", ["b"], True)]}, dwell=30)
    for h in (9, 10):
        b.event("surface_metrics", local(2026, 11, 1, h, 30), source="station",
                surface="main", frames=60, p50=16.0, p99=20.0)
    for i in range(4):
        b.event("passer_by", local(2026, 11, 1, 9, 10 + i), source="station",
                device="pir", visit=False, started=False)
    b2 = Boot("bbbb02")
    b2.started(local(2026, 12, 1, 8), version="2.0")
    b2.visit("a4", local(2026, 12, 1, 10), lang="zh-CN", scenes=story,
             answers={"pre": [("q1", ["b"], False)], "post": [("p1", ["a"], True)]},
             reason="completed", dwell=50)
    for i in range(2):
        b2.event("passer_by", local(2026, 12, 1, 9, 10 + i), source="station",
                 device="pir", visit=False, started=False)
    store(db, "s1", b.out + b2.out, time.time())
    # s2: the visit arrives before its station's engine_started, and without its end
    c = Boot("cccc01")
    c.started(local(2026, 11, 1, 8))
    c.visit("a5", local(2026, 11, 1, 11), lang="en", scenes=["intro"], dwell=40)
    started, *visit = c.out
    store(db, "s2", visit[:-1], time.time())
    summaries.summarise_all(db)
    with db.read() as conn:
        assert m.visits(conn, m.Filter(exhibit="")) == 1  # not known yet
    store(db, "s2", [started, visit[-1]], time.time())
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


def _tables(db: t.Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as conn:
        return {name: sorted(tuple(r) for r in conn.execute(select(r.table)) if any(
                    r._mapping[c] for c in rl.sums))
                for name, rl in rollups.ROLLUPS.items() for r in [rl]} | {
            "presence": sorted(tuple(r) for r in conn.execute(select(t.report_presence))),
            "alive": sorted(tuple(r) for r in conn.execute(select(t.station_hours))),
            "months": sorted((sid, str(mo), bytes(a), bytes(u)) for sid, mo, a, u in
                             conn.execute(select(t.station_months)))}


def _months_agree(db: t.Database) -> None:
    """station_months holds station_hours' hours and the hours visits started in, bit
    for bit (bit i: the i-th hour of the UTC month).
    """
    with db.read() as conn:
        alive = {(sid, int(h)) for sid, h in conn.execute(select(t.station_hours))}
        s = t.session_summaries.c
        used = {(sid, int(w // 3600)) for sid, w in conn.execute(select(s.station_id,
                                                                         s.started))}
        got_alive: set[tuple[str, int]] = set()
        got_used: set[tuple[str, int]] = set()
        for sid, month, a, u in conn.execute(select(t.station_months)):
            first = rollups.month_start(m._as_date(month))
            for bits, into in ((int.from_bytes(a, "little"), got_alive),
                               (int.from_bytes(u, "little"), got_used)):
                into |= {(sid, first + i) for i in range(bits.bit_length()) if bits >> i & 1}
    assert (got_alive, got_used) == (alive, used)
    assert used


def test_day_ranges_read_whole_months_and_the_days_at_each_end(hall: t.Database) -> None:
    def n(start: dt.date | None, end: dt.date | None) -> int:
        return int(_run(hall, m.visits, m.Filter(hall="h1", start=start, end=end)))

    assert n(None, None) == 5
    assert n(D(2026, 10, 31), D(2026, 12, 1)) == 5  # a day, November, a day
    assert n(D(2026, 11, 1), D(2026, 11, 30)) == 3  # November's month row: a2 a5 a3
    assert n(D(2026, 11, 2), D(2026, 11, 30)) == 1  # days only: a3
    assert n(D(2026, 10, 31), D(2026, 11, 1)) == 3  # two days in two months
    assert n(D(2026, 11, 1), None) == 4
    assert n(None, D(2026, 11, 30)) == 4
    assert n(D(2026, 12, 2), D(2027, 1, 31)) == 0


def test_a_changed_quiz_is_reported_per_version_never_mixed(hall: t.Database) -> None:
    rows = {r["version"]: r for r in _run(hall, m.gain, m.Filter(hall="h1", exhibit="demo"))}
    # 1.0: pairs a1 (1, 2), a2 (0, 1): ⟨pre⟩ 0.5, ⟨post⟩ 1.5, max 2: (1.5 − 0.5) / 1.5
    one = rows["1.0"]
    assert one["gain"] == pytest.approx(2 / 3)
    assert (one["max"], one["n"], one["took_pre"], one["took_post"], one["visits"]) == (
        2.0, 2, 3, 2, 4)
    assert one["share_both"] == 0.5
    # 2.0: a4 went 0 → 1 of 1: ⟨g⟩ 1, one pair, no interval
    two = rows["2.0"]
    assert (two["max"], two["gain"], two["n"], two["interval"]) == (1.0, 1.0, 1, None)
    qs = {(r["version"], r["question"]): r for r in _run(hall, m.questions,
                                                         m.Filter(hall="h1"))}
    assert (qs[("1.0", "q1")]["n"], qs[("1.0", "q1")]["share"]) == (3, 2 / 3)
    assert (qs[("2.0", "q1")]["n"], qs[("2.0", "q1")]["share"]) == (1, 0.0)
    # q1 in 1.0: totals a2 0 (wrong), a1 1 (right), a3 2 (right); groups of 1: D = 1 − 0
    assert qs[("1.0", "q1")]["discrimination"] == 1.0
    assert qs[("1.0", "q2")]["wrong"] == [(["d"], 2)]


def test_dwell_in_whole_seconds_rounded_up(hall: t.Database) -> None:
    got = _run(hall, m.dwell, V1)
    # a1 100.5 → 101, a2 60, a5 40, a3 30: median (40 + 60) / 2; 101 is more than 100
    assert (got["n"], got["median"]) == (4, 50.0)
    curve = dict(got["survival"])
    assert (curve[0], curve[30], curve[60], curve[90], curve[120]) == (1.0, 0.75, 0.25,
                                                                       0.25, 0.0)
    assert _run(hall, m.languages, V1) == {"zh-CN": 2, "en": 2}


def test_attraction_is_visits_over_passers_where_a_sensor_counts(hall: t.Database) -> None:
    # s1 counted 4 (Nov 1) + 2 (Dec 1) people; its visits on those days: a2, a4.
    # a5 (s2, no sensor) is not set against anyone passing
    assert _run(hall, m.attraction, m.Filter(hall="h1")) == pytest.approx(2 / 6)
    assert _run(hall, m.attraction, m.Filter(start=D(2026, 11, 1),
                                             end=D(2026, 11, 1))) == 1 / 4
    assert _run(hall, m.attraction, m.Filter(version="2.0")) == 1 / 2
    assert _run(hall, m.attraction, m.Filter(start=D(2026, 10, 31),
                                             end=D(2026, 10, 31))) is None
    assert _run(hall, m.attraction, m.Filter(station="s2")) is None


def test_unused_hours_outlive_the_raw_events(hall: t.Database) -> None:
    f = m.Filter(hall="h1", start=D(2026, 11, 1), end=D(2026, 11, 1))
    # alive 09:30 and 10:30 (open); a2 started at 10:00: one unused hour
    want = {"s1": {"alive_open": 2, "unused": 1}, "s2": {"alive_open": 0, "unused": 0}}
    assert _run(hall, m.unused_hours, f) == want
    with hall.write() as conn:  # retention purges the frame-time events
        conn.execute(delete(t.events).where(t.events.c.kind == "surface_metrics"))
    assert _run(hall, m.unused_hours, f) == want


def test_summarising_again_leaves_the_sums_as_a_rebuild_makes_them(
        hall: t.Database) -> None:
    kept = _tables(hall)
    assert kept["visits"]  # the late visit was moved from exhibit "" to demo
    with hall.read() as conn:
        assert m.visits(conn, m.Filter(exhibit="")) == 0
    with hall.write() as conn:  # every visit summarised again, from its events
        touched: dict[tuple[str, str], list[float]] = {
            (sid, name): [] for sid, name in conn.execute(
                select(t.session_summaries.c.station_id, t.session_summaries.c.session))}
        summaries.resummarise(conn, time.time(), touched)
    assert _tables(hall) == kept
    _months_agree(hall)
    with hall.write() as conn:
        rollups.rebuild_rollups(conn)
    rebuilt = _tables(hall)
    # (alive hours are found again in the events still stored)
    assert {k: v for k, v in rebuilt.items() if k not in ("alive", "months")} == {
        k: v for k, v in kept.items() if k not in ("alive", "months")}
    _months_agree(hall)


def test_migrating_a_hub_with_visits_sums_them(hall: t.Database) -> None:
    from alembic import command

    from showfloor.hub.migrations import config, run_upgrade

    kept = _tables(hall)
    cfg = config()
    with hall.write() as conn:  # back to before station_months, then up again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    run_upgrade(hall)
    assert _tables(hall) == kept  # station_months made again from what is kept
    with hall.write() as conn:  # back to before the rollups, then up again
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0004")
    run_upgrade(hall)
    again = _tables(hall)
    assert {k: v for k, v in again.items() if k not in ("alive", "months")} == {
        k: v for k, v in kept.items() if k not in ("alive", "months")}
    _months_agree(hall)
    assert _run(hall, m.visits, m.Filter(hall="h1")) == 5
    with hall.read() as conn:  # the data steps ran, and left no row behind
        assert not conn.execute(select(t.summary_marks.c.key)
                                .where(t.summary_marks.c.key.like("pending:%"))).all()


def test_absurd_and_reversed_ranges_stay_clear(hall: t.Database) -> None:
    with pytest.raises(m.ReportError, match="at most 3700 days"):
        _run(hall, m.gain, m.Filter(start=D(1, 1, 1), end=D(9999, 12, 31)))
    with pytest.raises(m.ReportError, match="swap the two dates"):
        _run(hall, m.questions, m.Filter(start=D(2026, 12, 1), end=D(2026, 11, 1)))
    with pytest.raises(m.ReportError, match="no hall 'nowhere'"):
        _run(hall, m.attraction, m.Filter(hall="nowhere"))


def test_a_station_read_from_its_summaries_matches_the_hall_rollups(tmp_path: Any) -> None:
    # test_metrics.py's hall has one station: its numbers by station (from the
    # summaries) and by hall (from the rollups) are the same
    db = t.Database(f"sqlite:///{tmp_path}/hub.sqlite")
    try:
        t.upgrade(db)
        build_metrics_hall(db)
        with db.read() as conn:
            for days in [(None, None), (D(2026, 11, 2), D(2026, 11, 3))]:
                by_hall = m.report(conn, m.Filter(hall="h1", start=days[0], end=days[1]))
                by_station = m.report(conn, m.Filter(station="s1", start=days[0],
                                                     end=days[1]))
                assert by_hall == by_station
                assert by_hall["visits"] == 7
    finally:
        db.dispose()


def test_discrimination_and_bootstrap_from_counts_by_hand() -> None:
    # totals 0,0,1,1,1,2,2,3,3,3 (10 takers, groups of 3):
    # upper = the three 3s (2 right); lower = the two 0s (0 right) + 1 of the three 1s
    # (1 of them right: a third of a right answer) → D = 2/3 − (1/3)/3
    cells = [(0, False, 2), (1, True, 1), (1, False, 2), (2, True, 2), (3, True, 2),
             (3, False, 1)]
    assert m.discrimination_counts(cells) == pytest.approx(2 / 3 - 1 / 9)
    assert m.discrimination_counts([(1, True, 1)]) is None
    # the same visits resampled as one multinomial: the interval of bootstrap_gain
    rng = random.Random(5)
    pairs = [(rng.randrange(3), rng.randrange(5)) for _ in range(300)]
    counts: dict[tuple[int, int], int] = {}
    for p in pairs:
        counts[p] = counts.get(p, 0) + 1
    fast = m.bootstrap_counts([(a, b, n) for (a, b), n in counts.items()], 4)
    slow = m.bootstrap_gain(pairs, 4)
    assert fast is not None
    assert slow is not None
    assert fast == pytest.approx(slow, abs=0.02)
    assert m.bootstrap_counts([(0, 1, 5)], 2) == (0.5, 0.5)
    assert m.median_of_counts([(60, 1), (30, 2), (90, 1)]) == 45.0


def test_open_hours_of_a_range_as_utc_hours() -> None:
    # London, open 20:00-02:00 daily, across the change to summer time (Sunday March 29):
    # Saturday March 28 opens 20:00 GMT (UTC 20:00) to Sunday 02:00 BST — 01:00 UTC —
    # so the UTC hours 20, 21, 22, 23 of the 28th and 0 of the 29th (its middle 00:30)
    got = m.open_utc_hours({"daily": "20:00-02:00"}, "Europe/London", D(2026, 3, 28),
                           D(2026, 3, 28))
    assert got is not None
    base = int(dt.datetime(2026, 3, 28, tzinfo=dt.UTC).timestamp()) // 3600
    on_28th = {h - base for h in got if 0 <= h - base < 48}
    assert {20, 21, 22, 23, 24} <= on_28th
    assert 25 not in on_28th  # 01:30 UTC is 02:30 BST: closed
    assert m.open_utc_hours({}, "UTC", D(2026, 3, 28), D(2026, 3, 28)) is None


def test_visits_split_by_station_and_version(hall: t.Database) -> None:
    with hall.read() as conn:
        assert m.visits_by(conn, m.Filter(hall="h1"), "station_id") == {"s1": 4, "s2": 1}
        assert m.visits_by(conn, m.Filter(start=D(2026, 11, 1), end=D(2026, 12, 1)),
                           "version") == {"1.0": 3, "2.0": 1}
        assert m.visits_by(conn, m.Filter(), "hall_id") == {"h1": 5}
        with pytest.raises(m.ReportError, match="not 'lang'"):
            m.visits_by(conn, m.Filter(), "lang")


# -- alive-but-unused hours from station_months, against the hour-by-hour definition ------

def _unused_fleet(db: t.Database) -> None:
    """Three halls: Shanghai (09:00-17:00; s1), Kolkata (UTC+5:30, always open; k1 — a
    day starts in the middle of a UTC hour) and London (a station open 20:00-02:00 of
    its own, across the end of summer time on Oct 25; l1). Alive hours and visits at
    random from Oct 20 to Dec 10, and a few placed on the edges of days and months.
    """
    from zoneinfo import ZoneInfo

    from showfloor.hub import enrolment

    setup_hall(db)
    with db.write() as conn:
        enrolment.ensure_hall(conn, 0.0, "Kolkata", hall_id="h2", timezone="Asia/Kolkata")
        enrolment.ensure_hall(conn, 0.0, "London", hall_id="h3", timezone="Europe/London",
                              opening_hours={"daily": "09:00-17:00"})
        for sid, hall, own in (("k1", "h2", None), ("l1", "h3", {"daily": "20:00-02:00"})):
            conn.execute(insert(t.stations).values(
                id=sid, hall_id=hall, name=sid, profile="touch", public_key="k" * 43,
                enrolled=local(2026, 10, 1, 8), opening_hours=own))
    kolkata = ZoneInfo("Asia/Kolkata")

    def kol(d: int, mo: int, h: int, mi: int) -> float:
        return dt.datetime(2026, mo, d, h, mi, tzinfo=kolkata).timestamp()

    rng = random.Random(11)
    lo, hi = local(2026, 10, 20, 0), local(2026, 12, 10, 0)
    for n, sid in enumerate(("s1", "k1", "l1")):
        b = Boot(f"dd{n}")
        b.started(lo - 3600)
        walls = sorted(rng.uniform(lo, hi) for _ in range(400))
        # Kolkata: alive in the UTC hours holding Nov 1's midnight (18:30 UTC Oct 31) and
        # Dec 1's; visits just before and just after those midnights
        edges = [kol(31, 10, 23, 50), kol(1, 11, 0, 10), kol(30, 11, 23, 40)] if n == 1 else []
        for w in sorted(walls[::2] + edges):
            b.event("surface_metrics", w, source="station", surface="main", frames=60,
                    p50=16.0, p99=20.0)
        for i, w in enumerate(sorted(walls[1::4] + edges)):
            b.visit(f"{sid}-v{i}", w, lang="en", scenes=["intro"], dwell=30)
        events = b.out
        for i in range(0, len(events), 400):
            store(db, sid, events[i:i + 400], time.time())
            summaries.summarise_all(db)


@pytest.mark.parametrize("days", [
    (D(2026, 10, 20), D(2026, 12, 9)),  # everything, across two month ends
    (D(2026, 11, 1), D(2026, 11, 1)),  # Kolkata's day starts at 18:30 UTC Oct 31
    (D(2026, 10, 24), D(2026, 10, 26)),  # London's clocks go back on the 25th
    (D(2026, 11, 2), D(2026, 11, 30)),
    (D(2026, 12, 1), D(2026, 12, 31)),
])
def test_unused_hours_from_month_bits_equal_the_hour_by_hour_definition(
        db_url: str, days: tuple[dt.date, dt.date]) -> None:
    db = t.Database(db_url)
    try:
        t.upgrade(db)
        _unused_fleet(db)
        for f in (m.Filter(start=days[0], end=days[1]),
                  m.Filter(hall="h2", start=days[0], end=days[1]),
                  m.Filter(station="l1", start=days[0], end=days[1])):
            with db.read() as conn:
                fast, slow = m.unused_hours(conn, f), m.unused_hours_by_rows(conn, f)
            assert fast == slow
        with db.read() as conn:
            whole = m.unused_hours(conn, m.Filter(start=D(2026, 10, 20), end=D(2026, 12, 9)))
        assert all(v["alive_open"] > v["unused"] > 0 for v in whole.values())
        # k1's visits' events all gone (and the visits with them): each hour they
        # started in is unused again; the two ways still agree
        with db.write() as conn:
            s = t.session_summaries.c
            gone = [tuple(r) for r in conn.execute(select(s.station_id, s.session)
                                                   .where(s.station_id == "k1"))]
            for sid, name in gone:
                conn.execute(delete(t.events).where(t.events.c.station_id == sid)
                             .where(t.events.c.session == name))
            summaries.resummarise(conn, time.time(), {g: [] for g in gone})
        f = m.Filter(start=days[0], end=days[1])
        with db.read() as conn:
            assert m.unused_hours(conn, f) == m.unused_hours_by_rows(conn, f)
            after = m.unused_hours(conn, m.Filter(start=D(2026, 10, 20), end=D(2026, 12, 9)))
        assert after["k1"] == {"alive_open": whole["k1"]["alive_open"],
                               "unused": whole["k1"]["alive_open"]}
        assert after["s1"] == whole["s1"]
    finally:
        db.dispose()
