"""One hall's year on SQLite: summarising the visits, then every report metric's latency.

What is real: the hub's schema (its migrations), the hub's own ingest function
(:func:`showfloor.hub.ingest.store_events`, in batches of 500 events as stations
send them — called in this process, not over signed HTTP), the summariser
(:func:`showfloor.hub.summaries.summarise_all`) and the metric functions of
:mod:`showfloor.analytics.metrics`. What is not: the visits, made here by a small
random model (a seeded generator, not ``simulate``'s visitor models): one hall of 8
stations open 09:00-17:00, ``--sessions`` visits over a year, ~30 events each
(intro, five story scenes, a pre and a post quiz of 4 questions each, an end), a
third of the visits leaving early.

Printed: load time, one catch-up summarise, an incremental pass after one more
batch, and each metric's median and p99 over ``--runs`` runs (warm). This is the
quick measure of issue 11's first layer; the region-year bench is later work.

    .venv/bin/python bench/metrics.py --sessions 12000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import insert

from _common import median, percentile, table
from showfloor import fleet
from showfloor.analytics import metrics as m
from showfloor.hub import db as t
from showfloor.hub import enrolment, ingest, summaries

TZ = "Asia/Shanghai"
STORY = ["intro", "s1", "s2", "s3", "s4", "s5"]


def visit_events(rng: random.Random, boot: dict[str, Any], session: str,
                 wall: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def ev(kind: str, w: float, scene: str | None, /, **data: Any) -> None:
        boot["seq"] += 1
        out.append({"id": f"{boot['id']}-e{boot['seq']}", "boot": boot["id"],
                    "source": "engine", "seq": boot["seq"], "t": w - boot["wall0"],
                    "wall": w, "kind": kind, "session": session, "scene": scene,
                    "data": data})

    lang = rng.choice(["zh-CN", "zh-CN", "en"])
    skill = rng.random()
    leave = rng.randrange(3, 16) if rng.random() < 0.33 else None
    scenes = ["intro", "pre", *STORY[1:], "post", "end"]
    ev("session_started", wall, "intro", lang=lang)
    w, n = wall, 0
    for sc in scenes:
        if leave is not None and n >= leave:
            break
        w += rng.uniform(5, 40)
        n += 1
        ev("scene_entered", w, sc, **{"from": None})
        if sc in ("pre", "post"):
            score = 0
            p = skill + (0.15 if sc == "post" else 0)
            for i in range(4):
                right = rng.random() < p
                ev("answered", w, sc, question=f"{sc}{i}", kind="single",
                   choices=["a" if right else rng.choice("bcd")], correct=right,
                   points=int(right), timed_out=False, position=i + 1, role=sc, measure="m")
                score += right
            ev("quiz_completed", w, sc, score=score, max=4, correct=score, count=4,
               percent=25 * score, passed=score >= 3, role=sc, measure="m")
        else:
            ev("choice_made", w, sc, choice="next")
    done = leave is None
    if done:
        ev("ending_shown", w, "end", message=0)
    ev("session_ended", w + 1, scenes[min(n, len(scenes)) - 1],
       reason="completed" if done else "timeout", duration=w + 1 - wall, scenes=n)
    return out


def load(db: t.Database, sessions: int, seed: int) -> tuple[int, float]:
    rng = random.Random(seed)
    year0 = dt.datetime(2025, 12, 1, tzinfo=m._zone(TZ)).timestamp()
    with db.write() as conn:
        enrolment.ensure_hall(conn, 0.0, "Bench hall", hall_id="h1", timezone=TZ,
                              opening_hours={"daily": "09:00-17:00"})
        for i in range(8):
            conn.execute(insert(t.stations).values(
                id=f"s{i}", hall_id="h1", name=f"s{i}", profile="touch",
                public_key="k" * 43, enrolled=year0 - 86400))
    per_station: dict[str, list[dict[str, Any]]] = {f"s{i}": [] for i in range(8)}
    boots = {sid: {"id": f"b{sid}", "seq": 0, "wall0": year0} for sid in per_station}
    for sid, b in boots.items():
        b["seq"] += 1
        per_station[sid].append({"id": f"{b['id']}-e1", "boot": b["id"], "source": "engine",
                                 "seq": 1, "t": 0.0, "wall": year0, "kind": "engine_started",
                                 "session": None, "scene": None,
                                 "data": {"exhibit": "demo", "version": "1.0", "protocol": 1}})
    starts = sorted(year0 + rng.randrange(365) * 86400 + rng.uniform(9, 16.5) * 3600
                    for _ in range(sessions))
    for i, wall in enumerate(starts):
        sid = f"s{rng.randrange(8)}"
        per_station[sid] += visit_events(rng, boots[sid], f"v{i:06d}", wall)
    total = sum(len(v) for v in per_station.values())
    # stored as if received an hour ago, so that the incremental pass below reads only
    # its own batch (on PostgreSQL a pass looks back summaries.OVERLAP seconds)
    began = time.perf_counter()
    for sid, evs in per_station.items():
        for j in range(0, len(evs), 500):
            batch = fleet.EventBatch.model_validate({"events": evs[j:j + 500]})
            with db.write() as conn:
                ingest.store_events(conn, sid, batch, time.time() - 3600)
    return total, time.perf_counter() - began


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=12_000)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-received-index", action="store_true",
                    help="drop the events_received index before loading (to compare the "
                    "ingest rate without it)")
    ap.add_argument("--load-only", action="store_true",
                    help="only load (and print the ingest rate)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = t.Database(f"sqlite:///{tmp}/hub.sqlite")
        t.upgrade(db)
        if args.no_received_index:
            with db.write() as conn:
                conn.exec_driver_sql("DROP INDEX events_received")
        events, load_s = load(db, args.sessions, args.seed)
        if args.load_only:
            print(f"ingest: {events} events in {load_s:.2f} s: {events / load_s:,.0f}/s "
                  f"({'without' if args.no_received_index else 'with'} events_received)")
            db.dispose()
            return
        began = time.perf_counter()
        n = summaries.summarise_all(db)
        catch_up = time.perf_counter() - began
        # one more station batch (20 events of a new visit), then one pass
        rng = random.Random(2)
        extra = visit_events(rng, {"id": "bx", "seq": 0, "wall0": time.time()}, "vx",
                             time.time())[:20]
        with db.write() as conn:
            ingest.store_events(conn, "s0", fleet.EventBatch.model_validate(
                {"events": extra}), time.time())
        began = time.perf_counter()
        summaries.summarise_all(db)
        incremental = time.perf_counter() - began
        size = Path(f"{tmp}/hub.sqlite").stat().st_size + sum(
            p.stat().st_size for p in Path(tmp).glob("hub.sqlite-*"))
        table("Load and summarise (SQLite)", ["what", "value"], [
            ("visits generated", args.sessions), ("events", events),
            ("ingest (store_events, 500 a batch)", f"{load_s:.1f} s "
             f"({events / load_s:,.0f} events/s)"),
            ("summarise, catching up", f"{catch_up:.1f} s ({n:,} visits)"),
            ("summarise, one new batch", f"{incremental * 1000:.0f} ms"),
            ("database size", f"{size / 1e6:.0f} MB")])
        f = m.Filter(hall="h1", start=dt.date(2025, 12, 1), end=dt.date(2026, 11, 30))
        calls: list[tuple[str, Any]] = [
            ("visits", m.visits), ("per_open_hour", m.per_open_hour),
            ("end_share", m.end_share), ("dwell (median, survival)", m.dwell),
            ("funnel", m.funnel), ("questions (share, wrong, D)", m.questions),
            ("gain (+ bootstrap 2000)", m.gain), ("languages", m.languages),
            ("heatmap", m.heatmap), ("unused_hours", m.unused_hours),
            ("report (all)", m.report)]
        rows = []
        for name, fn in calls:
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                with db.read() as conn:
                    fn(conn, f)
                times.append(time.perf_counter() - began)
            rows.append((name, f"{median(times) * 1000:.0f}",
                         f"{percentile(times, 99) * 1000:.0f}"))
        table(f"Metrics over the year, one hall (warm, {args.runs} runs)",
              ["metric", "median ms", "p99 ms"], rows)
        db.dispose()


if __name__ == "__main__":
    main()
