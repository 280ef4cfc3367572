"""Exports over one hall's year on SQLite: every table as CSV and Parquet, and xAPI.

The visits are bench/metrics.py's (one hall of 8 stations, ``--sessions`` visits over
a year, ~30 events each, stored through the hub's own ingest function and summarised
by the hub's summariser). Printed: the time of ``exports.export`` (all tables, CSV and
Parquet together, and each alone), of one table as the dashboard serves it, and of the
xAPI statements (how many, bytes, statements per second), median and p99 over
``--runs`` runs (warm).

    .venv/bin/python bench/exports.py --sessions 5000
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, percentile, table
from metrics import load
from showfloor.analytics import exports, xapi
from showfloor.analytics import metrics as m
from showfloor.hub import db as t
from showfloor.hub import summaries

K = 10


def timed(runs: int, fn: Callable[[], Any]) -> tuple[list[float], Any]:
    times, out = [], None
    for _ in range(runs):
        began = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - began)
    return times, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=5_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = t.Database(f"sqlite:///{tmp}/hub.sqlite")
        t.upgrade(db)
        events, load_s = load(db, args.sessions, args.seed)
        summaries.summarise_all(db)
        f = m.Filter(hall="h1", start=dt.date(2025, 12, 1), end=dt.date(2026, 11, 30))
        out = Path(tmp) / "out"
        rows = []

        def run(name: str, fn: Callable[[t.Database], Any]) -> Any:
            def once() -> Any:
                with db.read() as conn:
                    return fn(conn)
            times, got = timed(args.runs, once)
            rows.append((name, f"{median(times) * 1000:.0f}", f"{percentile(times, 99) * 1000:.0f}"))
            return got

        run("export: every table, CSV + Parquet", lambda c: exports.export(
            c, f, K, {"csv": out, "parquet": out}))
        run("export: every table, CSV", lambda c: exports.export(c, f, K, {"csv": out / "c"}))
        run("export: every table, Parquet", lambda c: exports.export(
            c, f, K, {"parquet": out / "p"}))
        for name in ("visits", "visits_by_day", "questions", "heatmap"):
            run(f"one table as the dashboard serves it: {name}.csv",
                lambda c, name=name: exports.csv_bytes(exports.tables(c, f, K, [name])[name]))

        def statements(c: Any) -> tuple[int, int]:
            buf = io.StringIO()
            n = xapi.write_jsonl(c, f, "https://hub.example.org", buf)
            return n, len(buf.getvalue().encode())

        before = len(rows)
        n, size = run("xAPI statements, JSON lines", statements)
        xapi_ms = float(rows[before][1])
        db.dispose()
    table(f"Exports over one hall's year (SQLite; {args.sessions:,} visits, {events:,} "
          f"events loaded in {load_s:.1f} s; warm, {args.runs} runs)",
          ["what", "median ms", "p99 ms"], rows)
    table("xAPI", ["what", "value"], [
        ("statements", f"{n:,}"), ("bytes", f"{size / 1e6:.1f} MB"),
        ("statements per second", f"{n / (xapi_ms / 1000):,.0f}")])


if __name__ == "__main__":
    main()
