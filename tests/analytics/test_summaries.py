"""hub/summaries.py: visits summarised beside ingest, incrementally, late, and twice at once."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store


@pytest.fixture
def db(db_url: str) -> Iterator[t.Database]:
    d = t.Database(db_url)
    t.upgrade(d)
    setup_hall(d)
    yield d
    d.dispose()


def _visits(boot: str = "bb01", n: int = 3) -> Boot:
    b = Boot(boot)
    b.started(local(2026, 11, 2, 9))
    for i in range(n):
        b.visit(f"{boot}v{i}", local(2026, 11, 2, 10, i), lang="en",
                scenes=["intro", "pre", "post", "end"],
                answers={"pre": [("q1", ["a"], i % 2 == 0)], "post": [("p1", ["a"], True)]},
                reason="completed", dwell=100 + i)
    return b


def _rows(db: t.Database) -> list[dict[str, Any]]:
    s = t.session_summaries
    with db.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(s).order_by(s.c.session))]
        answers = [dict(r._mapping) for r in conn.execute(
            select(t.session_answers).order_by(t.session_answers.c.session,
                                               t.session_answers.c.question))]
    for r in rows:
        del r["updated"]
    return rows + answers


def _mark(db: t.Database) -> float:
    with db.read() as conn:
        return float(conn.execute(select(t.summary_marks.c.watermark)).scalar_one())


def test_a_visit_is_summarised_as_its_events_arrive(db: t.Database) -> None:
    b = _visits(n=1)
    half = len(b.out) // 2
    store(db, "s1", b.out[:half], time.time())
    assert summaries.summarise_all(db) == 1
    (row,) = [r for r in _rows(db) if "boot" in r]
    assert (row["exhibit"], row["version"], row["hall_id"]) == ("demo", "1.0", "h1")
    assert row["ended"] is None
    assert row["dwell"] is None
    store(db, "s1", b.out[half:], time.time())
    assert summaries.summarise_all(db) == 1
    (row,) = [r for r in _rows(db) if "boot" in r]
    assert row["dwell"] == 100.0
    assert row["end_reason"] == "completed"
    assert row["reached_end"] is True
    assert row["scenes"] == ["intro", "pre", "post", "end"]
    assert (row["measure"], row["pre_score"], row["post_score"], row["measure_max"]) == (
        "m", 1, 1, 1)
    assert row["quizzes"]["pre"]["role"] == "pre"
    # a pass looks back before its watermark (batches that commit out of order), so the
    # next pass reads the visit again: the same events give the same summary, which is
    # left as it was (not written again: its ``updated`` stays)
    written = _updated(db)
    with db.write() as conn:
        assert summaries.summarise(conn, time.time() + 1) == 0
    assert _updated(db) == written
    (again,) = [r for r in _rows(db) if "boot" in r]
    assert again == row


def _updated(db: t.Database) -> list[float]:
    with db.read() as conn:
        return [float(u) for (u,) in conn.execute(select(t.session_summaries.c.updated))]


def test_a_batch_stamped_before_the_last_pass(db: t.Database) -> None:
    """PostgreSQL commits concurrent batches in any order, so a pass looks back a
    minute. SQLite writes one transaction at a time, and ingest never stamps a batch at
    or before the watermark (a clock stepped back stamps it just after): no look-back."""
    with db.read() as conn:
        back = summaries.overlap(conn)
    assert back == (summaries.OVERLAP_SQLITE if db.sqlite else summaries.OVERLAP)
    assert summaries.OVERLAP_SQLITE == 0.0
    b = _visits(n=2)
    first = 1 + 11  # engine_started and the first visit
    store(db, "s1", b.out[:first], 1000.0)
    with db.write() as conn:
        assert summaries.summarise(conn, 1000.0) == 1
    # the second visit, from a hub whose clock is an hour behind
    store(db, "s1", b.out[first:], 1000.0 - 3600)
    ev = t.events.c
    with db.read() as conn:
        stamps = {float(r) for (r,) in conn.execute(
            select(ev.received).where(ev.id.in_([e["id"] for e in b.out[first:]])))}
    with db.write() as conn:
        done = summaries.summarise(conn, 1010.0)
    if db.sqlite:  # stamped just after the watermark, and read
        assert stamps == {math.nextafter(1000.0, math.inf)}
        assert done == 1
        assert len([r for r in _rows(db) if "boot" in r]) == 2
    else:  # an hour is past the minute a pass looks back (hubs keep clocks closer: NTP)
        assert stamps == {1000.0 - 3600}
        assert done == 0  # the first visit was read again, the same: not written
        assert len([r for r in _rows(db) if "boot" in r]) == 1


def test_a_new_visit_summarised_from_the_pass_is_the_one_read_from_the_database(
        db: t.Database) -> None:
    b = _visits(n=3)
    store(db, "s1", b.out, time.time())
    # new visits: summarised from the rows the pass read, with no second read
    assert summaries.summarise_all(db) == 3
    from_pass = _rows(db)
    touched: dict[tuple[str, str], list[float]] = {}
    for e in b.out:
        if e["session"] is not None:
            touched.setdefault(("s1", e["session"]), []).append(e["wall"])
    with db.write() as conn:
        conn.execute(t.session_answers.delete())
        conn.execute(t.session_summaries.delete())
        # the same visits read from the database
        assert summaries.resummarise(conn, time.time(), touched) == 3
    assert _rows(db) == from_pass


def test_late_and_out_of_order_events_give_the_same_summary(db: t.Database,
                                                            db_url: str) -> None:
    b = _visits()
    store(db, "s1", b.out, time.time())
    summaries.summarise_all(db)
    whole = _rows(db)
    assert len([r for r in whole if "boot" in r]) == 3

    other = t.Database(db_url.replace("hub.sqlite", "other.sqlite")) if db.sqlite else None
    if other is None:  # PostgreSQL: start again in a fresh schema of the same database
        with db.write() as conn:
            conn.execute(t.session_answers.delete())
            conn.execute(t.session_summaries.delete())
            conn.execute(t.summary_marks.delete())
            conn.execute(t.events.delete())
            conn.execute(t.boots.delete())
        fresh = db
    else:
        t.upgrade(other)
        setup_hall(other)
        fresh = other
    try:
        # store and forward after an outage: the end first, the start (and the
        # station's engine_started) an hour later, each summarised as it comes
        cut = len(b.out) // 3
        later, earlier = b.out[cut:], b.out[:cut]
        store(fresh, "s1", later[::-1], time.time())
        summaries.summarise_all(fresh)
        partial = [r for r in _rows(fresh) if "boot" in r]
        assert {r["exhibit"] for r in partial} == {""}  # its engine_started is not here yet
        store(fresh, "s1", earlier, time.time())
        summaries.summarise_all(fresh)
        assert _rows(fresh) == whole
    finally:
        if other is not None:
            other.dispose()


def test_a_batch_committed_late_is_still_read(db: t.Database) -> None:
    b = _visits(n=2)
    store(db, "s1", b.out[:5], 1000.0)
    with db.write() as conn:
        summaries.summarise(conn, 1000.0)
    assert _mark(db) == 1000.0
    # a batch stamped before the watermark that committed after the pass (on SQLite,
    # where batches commit in the order stamped, only a clock stepped back does this)
    with db.read() as conn:
        back = summaries.overlap(conn)
    store(db, "s1", b.out[5:], 1000.0 - back / 2)
    with db.write() as conn:
        assert summaries.summarise(conn, 1010.0) == 2
    assert all(r["ended"] is not None for r in _rows(db) if "boot" in r)


def test_a_new_visit_partly_looked_back_at_is_read_whole(db: t.Database) -> None:
    """A new visit with events both in what a pass looks back at (a batch that committed
    late, on PostgreSQL) and after the watermark is read whole from the database, not
    summarised from the new rows alone."""
    b = _visits(n=1)
    store(db, "s1", b.out[:1], 1000.0)  # the boot's engine_started
    with db.write() as conn:
        summaries.summarise(conn, 1000.0)
        back = summaries.overlap(conn)
    store(db, "s1", b.out[1:6], 1000.0 - back / 2)  # committed after the pass
    store(db, "s1", b.out[6:], 1005.0)
    with db.write() as conn:
        assert summaries.summarise(conn, 1010.0) == 1
    (row,) = [r for r in _rows(db) if "boot" in r]
    assert row["events"] == len(b.out) - 1
    assert (row["dwell"], row["end_reason"], row["lang"]) == (100.0, "completed", "en")


def test_a_long_backlog_is_read_in_bounded_passes(db: t.Database) -> None:
    b = _visits(n=4)
    for i, e in enumerate(b.out):  # each event its own batch, one second apart
        store(db, "s1", [e], 2000.0 + i)
    passes = 0
    while True:
        with db.write() as conn:
            summaries.summarise(conn, 5000.0, max_events=5)
        passes += 1
        if _mark(db) == 5000.0:
            break
    # each capped pass reads up to the 6th new event (5 skipped, the cut included)
    # and the last one, with under 6 left, runs to ``now``
    assert passes == len(b.out) // 6 + 1
    rows = [r for r in _rows(db) if "boot" in r]
    assert len(rows) == 4
    assert all(r["dwell"] is not None for r in rows)


def test_two_runners_at_once_summarise_once(db: t.Database, db_url: str) -> None:
    b = _visits(n=5)
    store(db, "s1", b.out, time.time())
    dbs = [t.Database(db_url), t.Database(db_url)]
    done: list[int] = []
    go = threading.Barrier(2)
    now = time.time()

    def run(d: t.Database) -> None:
        go.wait()
        with d.write() as conn:
            done.append(summaries.summarise(conn, now))

    threads = [threading.Thread(target=run, args=(d,)) for d in dbs]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    for d in dbs:
        d.dispose()
    assert sorted(done) == [0, 5]  # one took the range, the other found it taken
    assert len([r for r in _rows(db) if "boot" in r]) == 5


def test_the_hub_loop_keeps_them_up_to_date(tmp_path: Any) -> None:
    d = t.Database(f"sqlite:///{tmp_path}/loop.sqlite")
    t.upgrade(d)
    setup_hall(d)
    store(d, "s1", _visits(n=2).out, time.time())

    class _State:
        db = d

    async def main() -> int:
        async with summaries.running(_State()):  # type: ignore[arg-type]
            for _ in range(100):
                await asyncio.sleep(0.05)
                if len(_rows(d)) >= 2:
                    break
        return len([r for r in _rows(d) if "boot" in r])

    try:
        assert asyncio.run(main()) == 2
    finally:
        d.dispose()


def test_ingest_keeps_each_engine_started_once_in_boots(db: t.Database) -> None:
    # the summariser reads a visit's exhibit version here (migration 0009); a retried
    # batch adds no second row
    b = _visits()
    starts = [e for e in b.out if e["kind"] == "engine_started"]
    assert starts
    store(db, "s1", b.out, time.time())
    store(db, "s1", b.out, time.time())
    c = t.boots.c
    with db.read() as conn:
        rows = conn.execute(select(c.station_id, c.boot, c.seq, c.exhibit, c.wall)).all()
    assert sorted(tuple(r) for r in rows) == sorted(
        ("s1", e["boot"], e["seq"], e["data"]["exhibit"], e["wall"]) for e in starts)
