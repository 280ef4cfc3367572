"""Report rollups: the visit summaries summed per hall, exhibit version and day or month.

Reports for a region's year read these sums, not a million visit summaries
(docs/hub.md, "Reports at scale"). Each rollup table is keyed by ``grain`` (``d``: a
day; ``m``: a month, keyed by its first day), ``day`` (in the hall's own time zone),
``hall_id``, ``exhibit`` and ``version``, then its own columns; a range of days is
read from whole months' rows and the days at its two ends
(:func:`showfloor.analytics.metrics.periods`). The month rows are also kept summed
over every hall (hall :data:`REGION`), so a region's year reads as few rows as one
hall's.

They are kept by the summariser (``hub/summaries.py``), never by ingest: when a visit
is summarised again, its old summary's share is taken away and its new one added
(:func:`add_visit` with ``sign`` −1 and +1), so the sums always equal what the
summaries hold. What one visit adds is one pure function (:func:`add_visit`), which
the metrics also use to read a single station's visits straight from the summaries.

Two tables hold what the raw events would otherwise be read for (retention purges
those after ``retention_days``): ``station_hours`` (the UTC hours in which a station
reported frame times, for alive-but-unused hours) and ``report_presence`` (people
passing a station per day, from ``passer_by``, for attraction). ``station_months``
holds the same alive hours as one bit per hour of a UTC month, beside the hours in
which a visit started (``used``), so a region's year of alive-but-unused hours reads
one short row per station and month (:func:`mark_alive`, :func:`mark_used`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, Integer, Table, bindparam, cast, delete, func, select, update

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub import db as t

#: the columns every rollup is keyed by first
KEY = ("day", "hall_id", "exhibit", "version")
#: the hall id of the month rows that sum every hall (a region's reports read these)
REGION = "*"
#: visits summarised in one go when rebuilding every rollup
REBUILD_CHUNK = 2000
#: the bytes of one ``station_months`` bit mask (31 days × 24 hours)
MONTH_BYTES = 93


@dataclass(frozen=True)
class Rollup:
    """One rollup table: its own key columns, its sums and its smallest-seen columns."""

    table: Table
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    least: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return (*KEY, *self.keys)


ROLLUPS: dict[str, Rollup] = {
    "visits": Rollup(t.report_visits, ("station_id",),
                     ("visits", "reached", "ended", "events")),
    "hours": Rollup(t.report_hours, ("weekday", "hour"), ("visits",)),
    "dwell": Rollup(t.report_dwell, ("seconds",), ("visits",)),
    "langs": Rollup(t.report_langs, ("lang",), ("visits",)),
    "scenes": Rollup(t.report_scenes, ("scene",), ("entered", "leaving"), ("position",)),
    "answers": Rollup(t.report_answers, ("scene", "question", "choices", "correct"),
                      ("visits",)),
    "items": Rollup(t.report_items, ("scene", "question", "total", "correct"), ("visits",)),
    "pairs": Rollup(t.report_pairs, ("measure", "maximum", "pre", "post"), ("visits",)),
    "asks": Rollup(t.report_asks, ("outcome", "entry"), ("asked", "visits")),
    "contests": Rollup(t.report_contests, ("competition", "question", "correct", "tenths"),
                       ("answers",)),
}

#: rollup name → (day, hall, exhibit, version, *its keys) → [*sums, *least]
Delta = dict[str, dict[tuple[Any, ...], list[int]]]


def new_delta() -> Delta:
    return {name: {} for name in ROLLUPS}


def zone(name: str | None) -> dt.tzinfo:
    """A hall's time zone (UTC when it has none the hub knows)."""
    try:
        return hours.zone(str(name or "UTC"))
    except ConfigError:
        return dt.UTC


def local_day(wall: float, tz: dt.tzinfo) -> dt.date:
    return dt.datetime.fromtimestamp(wall, tz).date()


def choices_key(choices: Iterable[Any]) -> str:
    """The choices picked, as the rollup keeps them (sorted, JSON)."""
    return orjson.dumps(sorted(str(c) for c in choices)).decode()[:512]


def _add(delta: Delta, name: str, key: tuple[Any, ...], values: list[int]) -> None:
    row = delta[name].get(key)
    r = ROLLUPS[name]
    if row is None:
        delta[name][key] = list(values)
        return
    n = len(r.sums)
    for i in range(n):
        row[i] += values[i]
    for i in range(n, n + len(r.least)):
        row[i] = min(row[i], values[i])


def add_visit(delta: Delta, row: Mapping[str, Any], answers: Iterable[Mapping[str, Any]],
              tz: dt.tzinfo, sign: int = 1) -> None:
    """Add one visit's summary (and its answers) to ``delta``, at day grain (pure)."""
    started = dt.datetime.fromtimestamp(float(row["started"]), tz)
    base = (started.date(), str(row["hall_id"]), str(row["exhibit"]), str(row["version"]))
    dwell = row.get("dwell")
    _add(delta, "visits", (*base, str(row["station_id"])),
         [sign, sign * bool(row["reached_end"]), sign * (dwell is not None),
          sign * int(row.get("events") or 0)])
    _add(delta, "hours", (*base, started.weekday(), started.hour), [sign])
    if dwell is not None:
        _add(delta, "dwell", (*base, max(0, math.ceil(float(dwell)))), [sign])
    _add(delta, "langs", (*base, str(row.get("lang") or "")[:16]), [sign])
    scenes = list(dict.fromkeys(row.get("scenes") or []))
    for i, scene in enumerate(scenes):
        _add(delta, "scenes", (*base, str(scene)), [sign, 0, i])
    last = row.get("last_scene")
    if last is not None and not row["reached_end"]:
        _add(delta, "scenes", (*base, str(last)),
             [0, sign, scenes.index(last) if last in scenes else len(scenes)])
    quizzes = row.get("quizzes") or {}
    for a in answers:
        scene, question, correct = str(a["scene"]), str(a["question"]), bool(a["correct"])
        _add(delta, "answers", (*base, scene, question, choices_key(a.get("choices") or ()),
                                correct), [sign])
        score = (quizzes.get(scene) or {}).get("score")
        total = int(score) if isinstance(score, int | float) else -1
        _add(delta, "items", (*base, scene, question, total, correct), [sign])
    asks = row.get("asks") or []
    if asks:  # questions and visits: in all, per outcome, per outcome and entry
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for outcome, entry in asks:
            counts[("", "")] += 1
            counts[(str(outcome), "")] += 1
            if entry is not None:
                counts[(str(outcome), str(entry))] += 1
        for (outcome, entry), n in counts.items():
            _add(delta, "asks", (*base, outcome, entry), [sign * n, sign])
    if row.get("measure") is not None:
        pre, post = row.get("pre_score"), row.get("post_score")
        _add(delta, "pairs", (*base, str(row["measure"]), int(row.get("measure_max") or 0),
                              -1 if pre is None else int(pre),
                              -1 if post is None else int(post)), [sign])


def add_competition(delta: Delta, row: Mapping[str, Any], tz: dt.tzinfo, sign: int = 1
                    ) -> None:
    """Add one competition's answers (a ``competition_results`` row) to ``delta``, on the
    hall's day it started, at day grain (pure): per question, a wrong answer at
    ``tenths`` −1, a right one at its time from the reveal in whole tenths of a second.
    """
    day = dt.datetime.fromtimestamp(float(row["started"]), tz).date()
    base = (day, str(row["hall_id"]), str(row["exhibit"]), str(row["version"]),
            str(row["competition"]))
    for question, correct, ms in row.get("answers") or []:
        tenths = max(0, int(ms)) // 100 if correct else -1
        _add(delta, "contests", (*base, str(question), bool(correct), tenths), [sign])


def rebuild_contests(conn: Connection) -> None:
    """``report_contests`` again from every ``competition_results`` row."""
    conn.execute(delete(t.report_contests))
    zones = hall_zones(conn)
    delta = new_delta()
    for r in conn.execute(select(t.competition_results)):
        row = dict(r._mapping)
        add_competition(delta, row, zones.get(row["hall_id"], dt.UTC))
    apply(conn, delta)


def _upsert(conn: Connection, r: Rollup, rows: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt: Any = pg_insert(r.table)
        least: Any = func.least
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(r.table)
        least = func.min
    set_ = {c: r.table.c[c] + stmt.excluded[c] for c in r.sums}
    set_.update({c: least(r.table.c[c], stmt.excluded[c]) for c in r.least})
    conn.execute(stmt.on_conflict_do_update(index_elements=["grain", *r.columns], set_=set_),
                 rows)


def apply(conn: Connection, delta: Delta) -> int:
    """Add ``delta`` to the rollups at day and month grain, and per month for the
    whole region (hall :data:`REGION`); the rows written.
    """
    written = 0
    for name, changes in delta.items():
        r = ROLLUPS[name]
        n = len(r.sums)
        for grain, region in (("d", False), ("m", False), ("m", True)):
            merged: dict[tuple[Any, ...], list[int]] = {}
            for key, values in changes.items():
                if grain == "m":
                    key = (key[0].replace(day=1), REGION if region else key[1], *key[2:])
                have = merged.get(key)
                if have is None:
                    merged[key] = list(values)
                    continue
                for i in range(n):
                    have[i] += values[i]
                for i in range(n, len(values)):
                    have[i] = min(have[i], values[i])
            rows = [{"grain": grain, **dict(zip(r.columns, key, strict=True)),
                     **dict(zip((*r.sums, *r.least), values, strict=True))}
                    for key, values in merged.items() if any(values[:n])]
            for i in range(0, len(rows), 1000):
                _upsert(conn, r, rows[i:i + 1000])
            written += len(rows)
    return written


def hall_zones(conn: Connection) -> dict[str, dt.tzinfo]:
    return {hid: zone(tz) for hid, tz in conn.execute(select(t.halls.c.id, t.halls.c.timezone))}


def mark_alive(conn: Connection, hours_seen: set[tuple[str, int]]) -> None:
    """Record the UTC hours in which stations reported frame times (idempotent)."""
    rows = [{"station_id": sid, "hour": h} for sid, h in sorted(hours_seen)]
    for i in range(0, len(rows), 1000):
        conn.execute(t.insert_new(conn, t.station_hours), rows[i:i + 1000])
    changes: dict[tuple[str, dt.date], list[int]] = {}
    for sid, h in hours_seen:
        month, first = month_of(h)
        changes.setdefault((sid, month), [0, 0, 0])[0] |= 1 << (h - first)
    update_months(conn, changes)


@functools.lru_cache(maxsize=4096)
def _month_of_day(day: int) -> tuple[dt.date, int]:
    d = dt.datetime.fromtimestamp(day * 86400, dt.UTC)
    first = dt.datetime(d.year, d.month, 1, tzinfo=dt.UTC)
    return first.date(), int(first.timestamp()) // 3600


def month_of(hour: int) -> tuple[dt.date, int]:
    """The UTC month of an hour (wall // 3600): its first day, and its first hour."""
    return _month_of_day(hour // 24)


def month_start(month: dt.date) -> int:
    """The first UTC hour (wall // 3600) of the month that starts on ``month``."""
    return int(dt.datetime(month.year, month.month, 1, tzinfo=dt.UTC).timestamp()) // 3600


def _bits(value: bytes | None) -> int:
    return int.from_bytes(value or b"", "little")


def update_months(conn: Connection, changes: Mapping[tuple[str, dt.date], list[int]]) -> None:
    """Change ``station_months``: (station, month) → [alive bits to set, used bits to set,
    used bits to clear] (bit i: the month's i-th hour).
    """
    sm = t.station_months
    by_month: dict[dt.date, list[str]] = defaultdict(list)
    for sid, month in changes:
        by_month[month].append(sid)
    have: dict[tuple[str, dt.date], tuple[int, int]] = {}
    for month, sids in by_month.items():
        for i in range(0, len(sids), 500):
            for sid, alive, used in conn.execute(
                    select(sm.c.station_id, sm.c.alive, sm.c.used)
                    .where(sm.c.month == month).where(sm.c.station_id.in_(sids[i:i + 500]))):
                have[(sid, month)] = (_bits(alive), _bits(used))
    new, changed = [], []
    for key, (alive_on, used_on, used_off) in changes.items():
        alive, used = have.get(key, (0, 0))
        now_alive, now_used = alive | alive_on, (used | used_on) & ~used_off
        row = {"b_sid": key[0], "b_month": key[1],
               "b_alive": now_alive.to_bytes(MONTH_BYTES, "little"),
               "b_used": now_used.to_bytes(MONTH_BYTES, "little")}
        if key not in have:
            new.append(row)
        elif (now_alive, now_used) != (alive, used):
            changed.append(row)
    for i in range(0, len(new), 1000):
        conn.execute(sm.insert(), [{"station_id": r["b_sid"], "month": r["b_month"],
                                    "alive": r["b_alive"], "used": r["b_used"]}
                                   for r in new[i:i + 1000]])
    if changed:
        conn.execute(update(sm).where(sm.c.station_id == bindparam("b_sid"))
                     .where(sm.c.month == bindparam("b_month"))
                     .values(alive=bindparam("b_alive"), used=bindparam("b_used")), changed)


def mark_used(conn: Connection, net: Mapping[tuple[str, int], int]) -> None:
    """Keep the ``used`` hours of ``station_months`` after visits were summarised again:
    (station, UTC hour of a visit's start) → visits added there less those taken away.
    An hour that lost visits stays used while ``session_summaries`` holds another.
    """
    s = t.session_summaries.c
    changes: dict[tuple[str, dt.date], list[int]] = {}
    for (sid, h), n in net.items():
        if n == 0:
            continue
        if n < 0 and conn.execute(select(s.session).where(s.station_id == sid)
                                  .where(s.started >= h * 3600)
                                  .where(s.started < (h + 1) * 3600).limit(1)).first():
            continue
        month, first = month_of(h)
        changes.setdefault((sid, month), [0, 0, 0])[1 if n > 0 else 2] |= 1 << (h - first)
    update_months(conn, changes)


def rebuild_station_months(conn: Connection) -> None:
    """``station_months`` again from ``station_hours`` and ``session_summaries``."""
    conn.execute(delete(t.station_months))
    changes: dict[tuple[str, dt.date], list[int]] = {}
    s = t.session_summaries.c
    started = (func.floor(s.started / 3600) if conn.dialect.name == "postgresql"
               else cast(s.started / 3600, Integer))  # started ≥ 0: truncation is floor
    for i, query in enumerate((select(t.station_hours.c.station_id, t.station_hours.c.hour),
                               select(s.station_id, started).distinct())):
        for sid, h in conn.execute(query):
            h = int(h)
            month, first = month_of(h)
            changes.setdefault((str(sid), month), [0, 0, 0])[i] |= 1 << (h - first)
    update_months(conn, changes)


def count_passers(conn: Connection, days: set[tuple[str, dt.date]]) -> None:
    """Count again the ``passer_by`` events of each (station, local day) (idempotent)."""
    if not days:
        return
    st = dict(conn.execute(select(t.stations.c.id, t.stations.c.hall_id)).all())
    zones = hall_zones(conn)
    ev = t.events.c
    for sid, day in sorted(days):
        hall = str(st.get(sid, ""))
        tz = zones.get(hall, dt.UTC)
        lo = dt.datetime.combine(day, dt.time(), tz).timestamp()
        hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).timestamp()
        n = int(conn.execute(select(func.count()).select_from(t.events)
                             .where(ev.station_id == sid).where(ev.wall >= lo)
                             .where(ev.wall < hi).where(ev.kind == "passer_by")).scalar_one())
        p = t.report_presence
        conn.execute(delete(p).where(p.c.station_id == sid).where(p.c.day == day))
        if n:
            conn.execute(p.insert().values(station_id=sid, day=day, hall_id=hall, passers=n))


def station_events(conn: Connection, rows: Iterable[Any]) -> None:
    """From events just read by a pass: alive hours and the days whose passers changed."""
    alive: set[tuple[str, int]] = set()
    passed: set[tuple[str, float]] = set()
    for r in rows:
        if r.kind == "surface_metrics":
            alive.add((str(r.station_id), int(float(r.wall) // 3600)))
        elif r.kind == "passer_by":
            passed.add((str(r.station_id), float(r.wall)))
    if alive:
        mark_alive(conn, alive)
    if passed:
        st = dict(conn.execute(select(t.stations.c.id, t.stations.c.hall_id)).all())
        zones = hall_zones(conn)
        count_passers(conn, {(sid, local_day(w, zones.get(str(st.get(sid, "")), dt.UTC)))
                             for sid, w in passed})


def rebuild_rollups(conn: Connection) -> int:
    """Every rollup again from the summaries and the stored events; visits summed."""
    for r in ROLLUPS.values():
        conn.execute(delete(r.table))
    conn.execute(delete(t.report_presence))
    conn.execute(delete(t.station_hours))
    zones = hall_zones(conn)
    s, a = t.session_summaries, t.session_answers
    done = 0
    last: tuple[str, str] = ("", "")
    while True:
        rows = [dict(r._mapping) for r in conn.execute(
            select(s).where((s.c.station_id > last[0])
                            | ((s.c.station_id == last[0]) & (s.c.session > last[1])))
            .order_by(s.c.station_id, s.c.session).limit(REBUILD_CHUNK))]
        if not rows:
            break
        last = (rows[-1]["station_id"], rows[-1]["session"])
        answers: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        by_station: dict[str, list[str]] = defaultdict(list)
        for row in rows:
            by_station[row["station_id"]].append(row["session"])
        for sid, names in by_station.items():
            for ans in conn.execute(select(a).where(a.c.station_id == sid)
                                    .where(a.c.session.in_(names))):
                answers[(sid, ans.session)].append(dict(ans._mapping))
        delta = new_delta()
        for row in rows:
            add_visit(delta, row, answers.get((row["station_id"], row["session"]), []),
                      zones.get(row["hall_id"], dt.UTC))
        apply(conn, delta)
        done += len(rows)
    ev = t.events.c
    hour = (func.floor(ev.wall / 3600) if conn.dialect.name == "postgresql"
            else cast(ev.wall / 3600, Integer))
    alive = {(str(sid), int(h)) for sid, h in conn.execute(
        select(ev.station_id, hour).where(ev.kind == "surface_metrics").distinct())}
    mark_alive(conn, alive)
    passed = conn.execute(select(ev.station_id, ev.wall, ev.kind)
                          .where(ev.kind == "passer_by")).all()
    station_events(conn, passed)
    rebuild_station_months(conn)
    rebuild_contests(conn)
    return done
