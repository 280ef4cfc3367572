"""Retention's daily purge on a year of one hall: how fast, and how long ingest waits.

What is real: the hub's schema, its ingest function, the summariser and
:func:`showfloor.hub.retention.purge` (batches of :data:`retention.BATCH` events,
each its own write transaction). The visits are bench/metrics.py's (one hall, 8
stations, ``--sessions`` visits over the year from 2025-12-01, ~30 events each),
purged with today's clock and 180 days: about half the year goes.

While the purge runs, a second thread stores station batches of 100 events through
the ingest function, as stations send them, and times each: the longest wait is what
a station sees. The same batches are timed with no purge running, for comparison.

    .venv/bin/python bench/retention.py --sessions 12000 [--backend postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import Connection, func, select

from _common import median, percentile, table
from metrics import load, visit_events
from showfloor import fleet
from showfloor.hub import db as t
from showfloor.hub import ingest, retention, summaries


@contextlib.contextmanager
def database(backend: str) -> Iterator[t.Database]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = t.Database(f"sqlite:///{tmp}/hub.sqlite")
            yield db
            db.dispose()
    else:
        from showfloor.hub.devdb import TempPostgres

        with TempPostgres() as pg:
            db = t.Database(pg.create_database("bench_retention"))
            yield db
            db.dispose()


def count(db: t.Database) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(t.events)).scalar_one())


def ingest_waits(db: t.Database, stop: threading.Event, out: list[float], seed: int) -> None:
    """Store 100-event batches of new visits until told to stop; each batch's seconds."""
    rng = random.Random(seed)
    boot = {"id": f"live{seed}", "seq": 0, "wall0": time.time()}
    i = 0
    while not stop.is_set():
        evs: list[dict[str, Any]] = []
        while len(evs) < 100:
            evs += visit_events(rng, boot, f"live{seed}-{i}", time.time())
            i += 1
        batch = fleet.EventBatch.model_validate({"events": evs[:100]})
        began = time.perf_counter()
        with db.write() as conn:
            ingest.store_events(conn, "s1", batch, time.time())
        out.append(time.perf_counter() - began)
        time.sleep(0.02)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=12_000)
    ap.add_argument("--days", type=int, default=180)
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    with database(args.backend) as db:
        t.upgrade(db)
        events, load_s = load(db, args.sessions, 1)
        summaries.summarise_all(db)
        # ingest with no purge running
        idle: list[float] = []
        stop = threading.Event()
        th = threading.Thread(target=ingest_waits, args=(db, stop, idle, 2))
        th.start()
        time.sleep(3)
        stop.set()
        th.join()
        summaries.summarise_all(db)  # the live visits too, so the purge may pass them
        before = count(db)
        # each batch of the purge, timed
        batches: list[float] = []
        inner = retention._batch

        def timed(conn: Connection, *a: Any) -> int:
            began = time.perf_counter()
            n = inner(conn, *a)
            batches.append(time.perf_counter() - began)
            return n

        retention._batch = timed  # type: ignore[assignment]
        busy: list[float] = []
        stop = threading.Event()
        th = threading.Thread(target=ingest_waits, args=(db, stop, busy, 3))
        th.start()
        began = time.perf_counter()
        deleted = retention.purge(db, time.time(), args.days)
        purge_s = time.perf_counter() - began
        stop.set()
        th.join()
        after = count(db)
        table(f"Retention purge ({args.backend}, {args.days} days)", ["what", "value"], [
            ("visits / events loaded", f"{args.sessions:,} / {events:,} "
             f"({load_s:.1f} s to load)"),
            ("events before / deleted / after", f"{before:,} / {deleted:,} / {after:,}"),
            ("purge", f"{purge_s:.1f} s ({deleted / purge_s:,.0f} events/s, "
             f"{len(batches)} batches of at most {retention.BATCH})"),
            ("one batch: median / p99 / max", f"{median(batches) * 1000:.0f} / "
             f"{percentile(batches, 99) * 1000:.0f} / {max(batches) * 1000:.0f} ms")])
        table("Ingest of a 100-event batch (ms)", ["while", "batches", "median", "p99", "max"], [
            (name, len(xs), f"{median(xs) * 1000:.1f}", f"{percentile(xs, 99) * 1000:.1f}",
             f"{max(xs) * 1000:.1f}") for name, xs in (("idle", idle),
                                                        ("purging", busy))])


if __name__ == "__main__":
    main()
