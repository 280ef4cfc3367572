"""The Meishan-year bench: a region's year of visits through the hub, then every report.

A year (``--days``, from 2025-12-01) for ``--halls`` halls of ``--stations`` stations
(Asia/Shanghai, open Tuesday to Sunday 09:00-17:00, closed on Mondays), made of
visits that ``showfloor simulate``'s visitor models walked through the demo exhibit
(examples/drug-prevention; a pool of ``--pool`` visits, 60 % ``random``, 20 %
``diligent``, 20 % ``hurried``, each visit's events as the engine recorded them, less
the replay-only ``view`` and ``input`` records: ~37 events a visit). The calendar:

- visits per open station-day ~ Poisson, 3.55 × ``--scale`` on an ordinary school day
  (1.2 M visits a year for 100 halls × 8 stations at scale 1), more at weekends
  (× 1.6), in the winter (Jan 20 - Feb 20, × 1.2) and summer (July-August, × 1.4)
  school holidays and on public holidays (Jan 1, May 1-5, Oct 1-7: × 2, open even on
  a Monday); on school days 60 % of visits come with a class around 10:00 or 14:00;
- each station boots every open morning (``engine_started``; exhibit version 1.0.0,
  1.1.0 from day 180), reports its frame times once per open hour
  (``surface_metrics``), and the first station of each hall has a presence sensor
  (``passer_by``, about three people passing per visit);
- one station in 40 is dead for 2 to 6 weeks (sends nothing);
- two hub outages (days 100-101 and 250): what stations recorded then is uploaded
  after everything else (store and forward), so the summariser meets it late.

Loading: the first ``--http`` stations upload over signed HTTP to a real hub process
(``python -m showfloor hub``; enrolled with one-time codes, every request signed),
the rest through the same ingest function in this process
(:func:`showfloor.hub.ingest.store_events`, batches of 500, received stamped now).
Then the summariser catches up (:func:`showfloor.hub.summaries.summarise_all`,
which keeps the visit summaries and the report rollups).

Checked: per hall, the visits and their events in the reports equal those generated,
and the events stored equal those sent. Timed: every metric and the whole report
for the region's year, one hall's year, one hall's month and the region's month:
cold (a new connection pool, first call; the OS file cache is warm) and warm (median
and p99 of ``--runs``). With ``--replicate N`` the rollup rows are also copied to N
halls (timing only: what a region of N halls would hold) and the region timed again.

    .venv/bin/python bench/region_year.py --halls 10 --backend sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import math
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import func, insert, select, text, update

from _common import DEMO, median, percentile, table
from hub_fleet import Hub, Identity, database, enrol_all, make_codes
from showfloor import fleet
from showfloor.analytics import metrics as m
from showfloor.content.lint import check
from showfloor.content.media import media_duration
from showfloor.engine.simulate import simulate
from showfloor.hub import db as t
from showfloor.hub import enrolment, ingest, rollups, summaries

TZ = "Asia/Shanghai"
HOURS = {"tue-sun": "09:00-17:00"}
YEAR0 = dt.date(2025, 12, 1)
PER_DAY = 3.55  # visits per open station-day on an ordinary school day, at scale 1
PROFILES = (("random", 0.6), ("diligent", 0.2), ("hurried", 0.2))
OUTAGES = ((100, 101), (250, 250))  # day indices, inclusive
HOLIDAYS = {(1, 1), *((5, d) for d in range(1, 6)), *((10, d) for d in range(1, 8))}
BATCH = 500
Visit = list[tuple[float, str, str | None, dict[str, Any]]]


# -- what happens in a year -------------------------------------------------------------

def visit_pool(n: int, seed: int) -> list[Visit]:
    """n visits of simulated visitors (events relative to the visit's start)."""
    rep = check(DEMO)
    assert rep.exhibit is not None
    out: list[Visit] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (profile, share) in enumerate(PROFILES):
            path = Path(tmp) / f"{profile}.jsonl"
            simulate(rep.exhibit, max(1, int(n * share)), profile=profile, seed=seed + i,
                     media_length=lambda p: media_duration(rep.root, p), record=path)
            sessions: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
            for line in path.open(encoding="utf-8"):
                e = json.loads(line)
                if e["session"] is not None and e["kind"] not in ("view", "input"):
                    sessions[e["session"]].append(e)
            for evs in sessions.values():
                t0 = float(evs[0]["t"])
                out.append([(float(e["t"]) - t0, e["kind"], e["scene"], e["data"])
                            for e in evs])
    random.Random(seed).shuffle(out)
    return out


def day_factor(day: dt.date) -> float:
    """How busy a day is against an ordinary school day; 0 when closed."""
    holiday = (day.month, day.day) in HOLIDAYS
    if day.weekday() == 0 and not holiday:
        return 0.0  # closed on Mondays
    f = 2.0 if holiday else 1.6 if day.weekday() >= 5 else 1.0
    if day.month in (7, 8):
        f *= 1.4
    elif (day.month == 1 and day.day >= 20) or (day.month == 2 and day.day <= 20):
        f *= 1.2
    return f


def school_day(day: dt.date) -> bool:
    return (day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS
            and day.month not in (7, 8)
            and not ((day.month == 1 and day.day >= 20) or (day.month == 2 and day.day <= 20)))


def poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    k, p, limit = 0, 1.0, math.exp(-lam)
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


class Station:
    """One station's year of events, made a day at a time."""

    def __init__(self, sid: str, index: int, sensor: bool, dead: range | None,
                 rng: random.Random) -> None:
        self.id, self.sensor, self.dead, self.rng = sid, sensor, dead, rng
        self.index = index
        self.visits = self.session_events = self.events = 0

    def day(self, i: int, day: dt.date, pool: list[Visit], scale: float
            ) -> list[dict[str, Any]]:
        f = day_factor(day)
        if not f or (self.dead is not None and i in self.dead):
            return []
        rng = self.rng
        zone = rollups.zone(TZ)
        opens = dt.datetime.combine(day, dt.time(9), zone).timestamp()
        boot = f"b{self.index:05d}d{i:03d}"
        out: list[dict[str, Any]] = []
        seq = {"e": 0, "s": 0}

        def ev(source: str, wall: float, kind: str, session: str | None, scene: str | None,
               data: dict[str, Any]) -> None:
            seq[source[0]] += 1
            out.append({"id": f"{boot}-{source[0]}{seq[source[0]]}", "boot": boot,
                        "source": source, "seq": seq[source[0]], "t": wall - opens + 1.0,
                        "wall": wall, "kind": kind, "session": session, "scene": scene,
                        "data": data})

        ev("engine", opens, "engine_started", None, None,
           {"exhibit": "drug-prevention", "version": "1.0.0" if i < 180 else "1.1.0",
            "protocol": 1})
        n = poisson(rng, PER_DAY * scale * f)
        starts = []
        for _ in range(n):
            if school_day(day) and rng.random() < 0.6:
                at = rng.gauss(rng.choice((3600.0, 5 * 3600.0)), 1500.0)
            else:
                at = rng.uniform(0, 7.5 * 3600)
            starts.append(opens + min(max(at, 60.0), 7.8 * 3600))
        for k, start in enumerate(sorted(starts)):
            visit = pool[rng.randrange(len(pool))]
            session = f"{boot}-v{k}"
            for off, kind, scene, data in visit:
                ev("engine", start + off, kind, session, scene, data)
            self.visits += 1
            self.session_events += len(visit)
        for h in range(8):
            ev("station", opens + h * 3600 + rng.uniform(60, 3000), "surface_metrics", None,
               None, {"surface": "main", "frames": 60, "p50": 16.0, "p99": 21.0})
        if self.sensor:
            for _ in range(poisson(rng, 3 * n + 2)):
                ev("station", opens + rng.uniform(0, 8 * 3600), "passer_by", None, None,
                   {"device": "pir", "visit": False, "started": False})
        out.sort(key=lambda e: (e["source"], e["seq"]))
        self.events += len(out)
        return out


# -- loading -----------------------------------------------------------------------------

def post(client: httpx.Client, ident: Identity, events: list[dict[str, Any]]) -> None:
    key = fleet.StationKey.from_pem(ident.pem)
    path = f"{fleet.API}/station/events"
    for j in range(0, len(events), BATCH):
        body = orjson.dumps({"events": events[j:j + BATCH]})
        headers = key.headers(ident.station, "POST", path, body, time.time())
        headers["content-type"] = "application/json"
        for _attempt in range(5):
            r = client.post(path, content=body, headers=headers)
            if r.status_code == 200:
                break
            time.sleep(0.5)
            headers = key.headers(ident.station, "POST", path, body, time.time())
            headers["content-type"] = "application/json"
        else:
            raise RuntimeError(f"upload refused: {r.status_code} {r.text[:200]}")


def bulk(db: t.Database, sid: str, events: list[dict[str, Any]], received: float) -> None:
    for j in range(0, len(events), BATCH):
        batch = fleet.EventBatch.model_validate({"events": events[j:j + BATCH]})
        with db.write() as conn:
            ingest.store_events(conn, sid, batch, received)


def load(url: str, args: argparse.Namespace, pool: list[Visit]) -> dict[str, Any]:
    """Bulk stations, the summariser's catch-up, then the HTTP stations and the outages."""
    rng = random.Random(args.seed)
    halls = [f"h{h:03d}" for h in range(args.halls)]
    total = args.halls * args.stations
    n_http = min(args.http, total)
    db = t.Database(url)
    t.upgrade(db)
    enrolled = dt.datetime.combine(YEAR0, dt.time(), rollups.zone(TZ)).timestamp() - 86400
    # station k is in hall k // stations; the first n_http are enrolled over HTTP later
    stations: list[list[Any]] = [[f"{halls[k // args.stations]}-s{k % args.stations}",
                                  halls[k // args.stations], None] for k in range(total)]
    with db.write() as conn:
        for h in halls:
            enrolment.ensure_hall(conn, 0.0, f"Hall {h}", hall_id=h, timezone=TZ,
                                  opening_hours=HOURS)
        for sid, h, _ in stations[n_http:]:
            conn.execute(insert(t.stations).values(
                id=sid, hall_id=h, name=sid, profile="touch", public_key="k" * 43,
                enrolled=enrolled))
    sims = []
    for k in range(total):
        dead = None
        if rng.random() < 1 / 40:
            first = rng.randrange(args.days)
            dead = range(first, first + rng.randrange(14, 43))
        sims.append(Station(stations[k][0], k, k % args.stations == 0, dead,
                            random.Random(rng.random())))
    days = [YEAR0 + dt.timedelta(days=i) for i in range(args.days)]
    outage = {i for a, b in OUTAGES for i in range(a, b + 1)}
    late: dict[int, list[dict[str, Any]]] = {}
    took = {"http": 0.0, "bulk": 0.0, "make": 0.0}
    sent = {"http": 0, "bulk": 0}

    def make(k: int) -> list[dict[str, Any]]:
        began = time.perf_counter()
        now_evs: list[dict[str, Any]] = []
        held: list[dict[str, Any]] = []
        for i, day in enumerate(days):
            (held if i in outage else now_evs).extend(sims[k].day(i, day, pool, args.scale))
        late[k] = held
        took["make"] += time.perf_counter() - began
        return now_evs

    # 1. most stations, through the ingest function; received stamped two hours back, as
    # if the year had come in before the summariser's catch-up (on PostgreSQL a pass
    # looks back summaries.OVERLAP seconds from the last pass: a year stamped in the
    # last minute would be read again by every pass; on SQLite it does not look back)
    for k in range(n_http, total):
        evs = make(k)
        began = time.perf_counter()
        bulk(db, stations[k][0], evs, time.time() - 7200)
        # what the hub's background task does every few seconds (its connections never
        # checkpoint on commit): without it the WAL holds the whole year, gigabytes
        db.checkpoint("TRUNCATE")
        took["bulk"] += time.perf_counter() - began
        sent["bulk"] += len(evs)
        if (k + 1) % max(1, total // 10) == 0:
            print(f"  loaded {k + 1}/{total} stations", file=sys.stderr, flush=True)
    began = time.perf_counter()
    summarised = summaries.summarise_all(db)
    took["summarise"] = time.perf_counter() - began
    # 2. a hub process: the sample of stations enrol and upload over signed HTTP (the
    # hub summarises them itself, every 5 s); then, after the two outages, every
    # station sends what it kept
    hub: Hub | None = None
    client: httpx.Client | None = None
    try:
        if n_http:
            codes = make_codes(url, n_http)
            # the simulated year is in the past: the hub's daily purge (retention_days,
            # 180 by default) would delete half of it while it loads, and the totals
            # would not reconcile
            os.environ["SHOWFLOOR_HUB_RETENTION_DAYS"] = "36500"
            hub = Hub(url)
            hub.start()
            client = httpx.Client(base_url=hub.url, timeout=60)
            idents = asyncio.run(enrol_all(hub.url, codes))
            with db.write() as conn:
                for k, ident in enumerate(idents):
                    conn.execute(update(t.stations).where(t.stations.c.id == ident.station)
                                 .values(hall_id=stations[k][1], enrolled=enrolled))
                    stations[k][0], stations[k][2] = ident.station, ident
                    sims[k].id = ident.station
            for k in range(n_http):
                evs = make(k)
                began = time.perf_counter()
                post(client, stations[k][2], evs)
                took["http"] += time.perf_counter() - began
                sent["http"] += len(evs)
        for k, held in sorted(late.items()):
            began = time.perf_counter()
            if stations[k][2] is not None and client is not None:
                post(client, stations[k][2], held)
                took["http"] += time.perf_counter() - began
                sent["http"] += len(held)
            else:
                bulk(db, stations[k][0], held, time.time())
                took["bulk"] += time.perf_counter() - began
                sent["bulk"] += len(held)
    finally:
        if client is not None:
            client.close()
        if hub is not None:
            hub.stop()
    began = time.perf_counter()
    summarised += summaries.summarise_all(db)
    took["late"] = time.perf_counter() - began
    per_hall: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for (_sid, h, _i), sim in zip(stations, sims, strict=True):
        per_hall[h][0] += sim.visits
        per_hall[h][1] += sim.session_events
        per_hall[h][2] += sim.events
    return {"db": db, "took": took, "sent": sent, "per_hall": per_hall,
            "summarised": summarised, "http_stations": n_http, "halls": halls,
            "station": stations[-1][0] if len(stations) <= args.stations
            else stations[args.stations - 1][0]}


def reconcile(db: t.Database, per_hall: dict[str, list[int]]) -> list[str]:
    """Per hall: (visits, visit events, all events) in the hub against those generated."""
    wrong = []
    v, ev, st = t.report_visits.c, t.events.c, t.stations.c
    with db.read() as conn:
        in_rollups = {h: (int(a), int(b)) for h, a, b in conn.execute(
            select(v.hall_id, func.sum(v.visits), func.sum(v.events)).where(v.grain == "m")
            .group_by(v.hall_id))}
        stored = {h: int(n) for h, n in conn.execute(
            select(st.hall_id, func.count()).select_from(t.events.join(
                t.stations, st.id == ev.station_id)).group_by(st.hall_id))}
        for h, (visits, session_events, events) in sorted(per_hall.items()):
            got = m.visits(conn, m.Filter(hall=h))
            if (got, *in_rollups.get(h, (0, 0)), stored.get(h, 0)) != (
                    visits, visits, session_events, events):
                wrong.append(f"{h}: reports {got} visits, rollups {in_rollups.get(h)}, "
                             f"{stored.get(h)} events stored; generated {visits} visits, "
                             f"{session_events} visit events, {events} events")
    return wrong


def size(db: t.Database) -> float:
    if db.sqlite:
        db.checkpoint("TRUNCATE")  # the hub checkpoints in the background; this process not
        path = Path(str(db.url.database))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with db.read() as conn:
        return float(conn.execute(text("SELECT pg_database_size(current_database())"))
                     .scalar_one())


def replicate(db: t.Database, halls: list[str], n: int) -> None:
    """Copy the loaded halls' rollups, alive hours and visit summaries to make n halls
    (timing only)."""
    with db.write() as conn:
        for k in range(len(halls), n):
            src = halls[k % len(halls)]
            new = f"x{k:03d}"
            enrolment.ensure_hall(conn, 0.0, f"Hall {new}", hall_id=new, timezone=TZ,
                                  opening_hours=HOURS)
            st = t.stations.c
            for sid, enrolled in conn.execute(select(st.id, st.enrolled)
                                              .where(st.hall_id == src)).all():
                conn.execute(insert(t.stations).values(
                    id=f"{new}-{sid}", hall_id=new, name=sid, profile="touch",
                    public_key="k" * 43, enrolled=enrolled))
            # and what unused_hours reads beside them: alive hours, visit starts
            tables = [r.table for r in rollups.ROLLUPS.values()]
            for table in [*tables, t.station_hours, t.station_months, t.session_summaries]:
                cols = [c.name for c in table.columns]
                names = ", ".join(f'"{c}"' for c in cols)
                picks = ", ".join("CAST(:h AS TEXT)" if c == "hall_id" else
                                  f"CAST(:h AS TEXT) || '-' || \"{c}\"" if c == "station_id"
                                  else f'"{c}"' for c in cols)
                where = ("hall_id = :src" if "hall_id" in cols else
                         "station_id IN (SELECT id FROM stations WHERE hall_id = :src)")
                conn.execute(text(f"INSERT INTO {table.name} ({names}) SELECT {picks} "
                                  f"FROM {table.name} WHERE {where}"),
                             {"h": new, "src": src})
            # the region's month rows per station: the copies' share (the other tables'
            # region rows keep their number of rows, which is what a report reads)
            v = t.report_visits
            cols = [c.name for c in v.columns]
            names = ", ".join(f'"{c}"' for c in cols)
            picks = ", ".join("CAST(:h AS TEXT) || '-' || \"station_id\"" if c == "station_id"
                              else f'"{c}"' for c in cols)
            conn.execute(text(f"INSERT INTO report_visits ({names}) SELECT {picks} FROM "
                              "report_visits WHERE hall_id = :region AND station_id IN "
                              "(SELECT id FROM stations WHERE hall_id = :src)"),
                         {"h": new, "src": src, "region": rollups.REGION})


# -- timing ------------------------------------------------------------------------------

#: alive-but-unused hours by their definition, hour by hour (timed on the copied region)
BY_ROWS = "unused_hours_by_rows"
CALLS: list[tuple[str, Callable[[Any, m.Filter], Any]]] = [
    ("visits", m.visits), ("per_open_hour", m.per_open_hour), ("end_share", m.end_share),
    ("dwell", m.dwell), ("funnel", m.funnel), ("questions", m.questions), ("gain", m.gain),
    ("languages", m.languages), ("heatmap", m.heatmap), ("attraction", m.attraction),
    ("unused_hours", m.unused_hours), ("report (all)", m.report),
    (BY_ROWS, m.unused_hours_by_rows)]


def timings(url: str, filters: dict[str, m.Filter], runs: int,
            skip: set[str | tuple[str, str]]
            ) -> list[list[Any]]:
    rows = []
    for fname, f in filters.items():
        for name, fn in CALLS:
            if (fname, name) in skip or name in skip:
                continue
            db = t.Database(url)  # cold: a new pool, nothing compiled or cached yet
            try:
                began = time.perf_counter()
                with db.read() as conn:
                    fn(conn, f)
                cold = time.perf_counter() - began
                warm = []
                for _ in range(runs):
                    began = time.perf_counter()
                    with db.read() as conn:
                        fn(conn, f)
                    warm.append(time.perf_counter() - began)
            finally:
                db.dispose()
            rows.append([fname, name, f"{cold * 1000:.0f}", f"{median(warm) * 1000:.0f}",
                         f"{percentile(warm, 99) * 1000:.0f}",
                         "ok" if cold <= 3 and percentile(warm, 99) <= 1 else "SLOW"])
    return rows


def bench(backend: str, args: argparse.Namespace, pool: list[Visit]) -> None:
    with database(backend) as (url, _cpu):
        began = time.perf_counter()
        got = load(url, args, pool)
        wall = time.perf_counter() - began
        db: t.Database = got["db"]
        took, sent = got["took"], got["sent"]
        per_hall = got["per_hall"]
        visits = sum(v[0] for v in per_hall.values())
        events = sum(v[2] for v in per_hall.values())
        wrong = reconcile(db, per_hall)
        nbytes = size(db)
        with db.read() as conn:
            counts = {r.table.name: int(conn.execute(select(func.count()).select_from(
                r.table)).scalar_one()) for r in rollups.ROLLUPS.values()}

        def rate(n: int, s: float) -> str:
            return f"{n / s:,.0f} events/s" if s else "—"

        table(f"[{backend}] a year of {args.halls} halls × {args.stations} stations, "
              f"{args.days} days, scale {args.scale:g}", ["what", "value"], [
                  ("visits generated", f"{visits:,}"), ("events generated", f"{events:,}"),
                  ("events a visit", f"{sum(v[1] for v in per_hall.values()) / max(1, visits):.1f}"),
                  ("stations over signed HTTP", got["http_stations"]),
                  ("load over HTTP", f"{sent['http']:,} events in {took['http']:.1f} s "
                                     f"({rate(sent['http'], took['http'])})"),
                  ("load through store_events", f"{sent['bulk']:,} events in "
                                                f"{took['bulk']:.1f} s "
                                                f"({rate(sent['bulk'], took['bulk'])})"),
                  ("generating the events", f"{took['make']:.1f} s"),
                  ("summarise, catching up (after the bulk load)",
                   f"{took['summarise']:.1f} s"),
                  ("summarise, the late uploads after the outages", f"{took['late']:.1f} s"),
                  ("visits summarised (with those again)", f"{got['summarised']:,}"),
                  ("load + summarise, wall", f"{wall:.0f} s"),
                  ("database size", f"{nbytes / 1e6:,.0f} MB "
                                    f"({nbytes / max(1, visits):,.0f} bytes a visit)"),
                  ("rollup rows", ", ".join(f"{k[7:]} {v:,}" for k, v in counts.items())),
                  ("totals reconcile (visits, events per hall)",
                   "yes" if not wrong else f"NO: {'; '.join(wrong[:3])}")])
        last = YEAR0 + dt.timedelta(days=args.days - 1)
        month0 = (YEAR0 + dt.timedelta(days=min(args.days - 1, 340))).replace(day=1)
        month1 = min(last, (month0 + dt.timedelta(days=32)).replace(day=1)
                     - dt.timedelta(days=1))
        h0 = got["halls"][0]
        filters = {
            "region, year": m.Filter(start=YEAR0, end=last),
            "region, month": m.Filter(start=month0, end=month1),
            f"{h0}, year": m.Filter(hall=h0, start=YEAR0, end=last),
            f"{h0}, month": m.Filter(hall=h0, start=month0, end=month1),
            "region, year, one station": m.Filter(station=got["station"], start=YEAR0,
                                                  end=last),
        }
        rows = timings(url, filters, args.runs, {BY_ROWS})
        table(f"[{backend}] reports (ms; cold = a new connection pool, first call; "
              f"warm: {args.runs} runs; goal ≤ 1 s warm, ≤ 3 s cold)",
              ["filter", "metric", "cold", "warm median", "warm p99", "goal"], rows)
        if args.replicate > args.halls:
            began = time.perf_counter()
            replicate(db, got["halls"], args.replicate)
            copied = time.perf_counter() - began
            rows = timings(url, {f"region of {args.replicate} halls, year":
                                 m.Filter(start=YEAR0, end=last)}, args.runs, set())
            table(f"[{backend}] the rollups copied to {args.replicate} halls ({copied:.0f} s;"
                  f" {size(db) / 1e6:,.0f} MB now; timing only)",
                  ["filter", "metric", "cold", "warm median", "warm p99", "goal"], rows)
        db.dispose()
        if wrong:
            raise SystemExit(f"[{backend}] the totals do not reconcile: {wrong[:3]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--halls", type=int, default=100)
    ap.add_argument("--stations", type=int, default=8)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="visits against the Meishan year's rate (1.2 M a year at 100 × 8)")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--http", type=int, default=4,
                    help="stations that upload over signed HTTP to a hub process")
    ap.add_argument("--pool", type=int, default=3000, help="simulated visits to draw from")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--replicate", type=int, default=0,
                    help="also copy the rollups to this many halls and time the region")
    args = ap.parse_args()
    began = time.perf_counter()
    pool = visit_pool(args.pool, args.seed)
    print(f"{len(pool)} simulated visits in {time.perf_counter() - began:.1f} s",
          file=sys.stderr)
    for backend in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,)):
        bench(backend, args, pool)


if __name__ == "__main__":
    main()
