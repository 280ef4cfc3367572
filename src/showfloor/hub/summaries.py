"""Session summaries: one row per visit, kept up to date beside ingest, never inside it.

Ingest only stores events (``hub/ingest.py``). :func:`summarise` runs later, from a
loop every hub process starts (:func:`running`), and turns the events received since
its **watermark** into rows of ``session_summaries`` (one per visit) and
``session_answers`` (one per question a visit answered). The watermark lives in the
database (``summary_marks``), so any hub process may run it:

- a pass claims the range ``(watermark, upper]`` with a compare-and-set ``UPDATE`` of
  the watermark row before doing any work; a second process running at the same time
  waits on that row (PostgreSQL) or on the write lock (SQLite), then finds the
  watermark moved and does nothing;
- a visit with any event in the range is summarised again **from all of its stored
  events**, so a pass is idempotent and an event that arrives late or out of order
  (store and forward after an outage) simply makes its visit be summarised again;
- ``received`` is the hub's clock read inside the batch's write transaction, just
  before its rows are written. On PostgreSQL transactions commit in any order, so a
  pass also reads what was received up to :data:`OVERLAP` seconds before the previous
  pass ran: a batch that committed after that pass is still seen. (Several hub
  processes on one PostgreSQL must keep their clocks within that of each other — NTP
  does — or a batch stamped by a slow clock may be missed.) On SQLite write
  transactions run one at a time (``BEGIN IMMEDIATE``), so what is stamped before a
  pass has committed before it, and ingest never stamps a batch at or before the
  watermark (a clock stepped back stamps it just after): a pass does not look back
  (:data:`OVERLAP_SQLITE`; re-reading a minute of events at full ingest cost more than
  the ingest itself);
- a visit with no summary yet is summarised from the new rows the pass has just read
  (it has no other stored events: any read by an earlier pass would have given it a
  summary; what the pass looks back at is read in a few columns only, and a visit with
  an event there is read from the database); only a visit that has a summary is read
  again from the database, and a visit
  read again that comes out the same (the same number of events, hall and exhibit
  version: events are only added, or purged all together) is not written again.

The exhibit and version of a visit come from the station's ``engine_started`` event
of the same boot (the newest before the visit's first event), as ingest copied it into
``boots`` (a lookup by station and boot, however many events the hub holds).

The same pass keeps the report rollups (``hub/rollups.py``): each visit summarised
again takes its old summary's share out of the sums and puts its new one in, in the
same transaction; and the station events it reads mark the hours a station was alive
(``surface_metrics``) and count people passing (``passer_by``); the hours in which
visits started are kept beside the alive ones (``station_months``). Competition events
among them make their competitions be summarised again (``hub/competitions.py``:
``competition_results`` and the ``report_contests`` rollup).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, insert, select, update

from showfloor.hub import competitions, rollups
from showfloor.hub import db as t
from showfloor.hub.state import in_background

if TYPE_CHECKING:
    from showfloor.hub.state import HubState

log = logging.getLogger("showfloor.hub.summaries")

#: seconds between two passes of the loop
SUMMARISE_SECONDS = 5.0
#: how far a pass looks back before its watermark on PostgreSQL (batches committing out
#: of order)
OVERLAP = 60.0
#: the same on SQLite: none. Batches commit one at a time in the order they were
#: stamped, and never at or before the watermark (``ingest.store_events``)
OVERLAP_SQLITE = 0.0
#: the most events one pass reads past its watermark (keeps each write transaction short)
MAX_EVENTS = 20_000
#: visits whose events lie within this many seconds of each other are read in one query
CLUSTER_GAP = 600.0
#: the watermark row's key
MARK = "sessions"  # (ingest.py reads it too)
#: ``session_ended`` reasons and event kinds that count as reaching an end
END_REASONS = frozenset({"completed"})


def _marks(conn: Connection) -> tuple[float, float]:
    """(the watermark, when the last pass ran)."""
    m = t.summary_marks.c
    row = conn.execute(select(m.watermark, m.updated).where(m.key == MARK)).first()
    if row is None:
        conn.execute(t.insert_new(conn, t.summary_marks), {"key": MARK, "watermark": 0.0,
                                                          "updated": 0.0})
        return 0.0, 0.0
    return float(row[0]), float(row[1])


def _mark(conn: Connection) -> float:
    return _marks(conn)[0]


def overlap(conn: Connection) -> float:
    """How far a pass looks back before its watermark on this connection's backend."""
    return OVERLAP_SQLITE if conn.dialect.name == "sqlite" else OVERLAP


def summarise(conn: Connection, now: float, *, max_events: int = MAX_EVENTS) -> int:
    """One pass in the caller's write transaction; the number of visit summaries written
    (new or changed: a visit read again that comes out the same is not counted)."""
    mark, last_pass = _marks(conn)
    ev = t.events.c
    upper = now
    # cap the pass: stop at the received time of the max_events-th new event
    cut = conn.execute(select(ev.received).where(ev.received > mark).where(ev.received <= now)
                       .order_by(ev.received).offset(max_events).limit(1)).first()
    if cut is not None:
        upper = float(cut[0])
    if upper <= mark:
        return 0
    claimed = conn.execute(update(t.summary_marks).where(t.summary_marks.c.key == MARK)
                           .where(t.summary_marks.c.watermark == mark)
                           .values(watermark=upper, updated=now))
    if claimed.rowcount != 1:
        return 0  # another process took this range
    # a batch stamped before the last pass that committed after it: look back OVERLAP
    # seconds from the last pass's time (not from a watermark far behind it: a backlog
    # read in capped passes is not read again)
    lower = min(mark, last_pass - overlap(conn))
    # what is new since the watermark, whole (a new visit is summarised from it), and
    # what the pass looks back at (PostgreSQL), only to know which visits it touches
    rows = conn.execute(select(ev.station_id, ev.session, ev.boot, ev.seq, ev.t, ev.wall,
                               ev.kind, ev.scene, ev.data)
                        .where(ev.received > mark).where(ev.received <= upper)).all()
    looked_back = select(ev.station_id, ev.session, ev.boot, ev.wall, ev.kind) \
        .where(ev.received > lower).where(ev.received <= mark)
    back: Sequence[Any] = conn.execute(looked_back).all() if lower < mark else []
    rollups.station_events(conn, [*back, *rows])  # alive hours, passers-by
    competitions.from_pass(conn, now, [*back, *rows])  # competition_results, contests
    touched: dict[tuple[str, str], list[float]] = {}
    fresh: dict[tuple[str, str], list[Any]] = {}
    restarts: set[tuple[str, str]] = set()
    for r in rows:
        if r.session is not None:
            touched.setdefault((r.station_id, r.session), []).append(float(r.wall))
            fresh.setdefault((r.station_id, r.session), []).append(r)
        elif r.kind == "engine_started":
            restarts.add((r.station_id, r.boot))
    for r in back:  # a visit with an event looked back at is read from the database
        if r.session is not None:
            touched.setdefault((r.station_id, r.session), []).append(float(r.wall))
            fresh.pop((r.station_id, r.session), None)
        elif r.kind == "engine_started":
            restarts.add((r.station_id, r.boot))
    if restarts:  # visits summarised before their boot's engine_started arrived
        s = t.session_summaries.c
        for sid, boot in restarts:
            for (session,) in conn.execute(select(s.session).where(s.station_id == sid)
                                           .where(s.boot == boot).where(s.exhibit == "")):
                touched.setdefault((sid, session), [])
    return resummarise(conn, now, touched, fresh)


def resummarise(conn: Connection, now: float,
                touched: dict[tuple[str, str], list[float]],
                fresh: dict[tuple[str, str], list[Any]] | None = None) -> int:
    """Summarise these visits again from all their stored events (walls: new events' walls);
    the number of summaries written.

    ``fresh``: the rows a pass read of each visit. A visit without a summary is
    summarised from them alone (the pass's range holds all of its stored events); one
    with a summary is read again from the database.
    """
    fresh = fresh or {}
    if not touched:
        return 0
    s, ev = t.session_summaries.c, t.events.c
    by_station: dict[str, dict[str, list[float]]] = defaultdict(dict)
    for (sid, session), walls in touched.items():
        by_station[sid][session] = walls
    halls = dict(conn.execute(select(t.stations.c.id, t.stations.c.hall_id)).all())
    zones = rollups.hall_zones(conn)
    starts: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    # the rollups lose each old summary's share and gain the new one's
    delta = rollups.new_delta()
    used: Counter[tuple[str, int]] = Counter()  # (station, UTC hour of a start) → ±visits
    done = 0
    for sid, sessions in by_station.items():
        names = list(sessions)
        for i in range(0, len(names), 500):
            chunk = names[i:i + 500]
            # the wall range that holds every stored event of each visit: what its
            # summary already covers, and its new events
            span: dict[str, tuple[float, float]] = {
                n: (min(sessions[n]), max(sessions[n])) for n in chunk if sessions[n]}
            old = {r.session: dict(r._mapping) for r in conn.execute(
                select(t.session_summaries).where(s.station_id == sid)
                .where(s.session.in_(chunk)))}
            for name, o in old.items():
                first, last = o["first_wall"], o["last_wall"]
                a, b = span.get(name, (first, last))
                span[name] = (min(a, first), max(b, last))
            found: dict[str, list[Any]] = defaultdict(list)
            for name in chunk:
                if name not in old and (sid, name) in fresh:
                    found[name] = list(fresh[(sid, name)])
                    span.pop(name, None)
            for lo, hi, group in _clusters(span):
                for r in conn.execute(select(ev.session, ev.boot, ev.seq, ev.t, ev.wall,
                                             ev.kind, ev.scene, ev.data)
                                      .where(ev.station_id == sid)
                                      .where(ev.wall >= lo).where(ev.wall <= hi)
                                      .where(ev.session.in_(group))):
                    found[r.session].append(r)
            summaries, answers = [], []
            changed = set(old) - set(found)  # summaries that go (their events are gone)
            rewrite = set(changed)  # summaries deleted (and written again when found)
            for name, evs in found.items():
                evs.sort(key=lambda r: (r.boot, r.seq))
                exhibit, version = _exhibit(conn, sid, evs[0].boot, evs[0].seq, starts)
                row, ans = summary(evs, exhibit=exhibit, version=version)
                row.update(station_id=sid, session=name, hall_id=halls.get(sid, ""),
                           updated=now)
                before = old.get(name)
                # a visit's events are only ever added (or purged all together), so the
                # same count, hall and exhibit version is the same summary: it stays as
                # it is, in the rollups too (a pass reads what it overlaps again)
                if before is not None and (
                        before["events"], before["hall_id"], before["exhibit"],
                        before["version"]) == (row["events"], row["hall_id"], exhibit, version):
                    continue
                for a in ans:
                    a.update(station_id=sid, session=name, hall_id=row["hall_id"],
                             exhibit=exhibit, version=version, started=row["started"])
                summaries.append(row)
                answers += ans
                rewrite.add(name)
                if before is not None:
                    changed.add(name)
                rollups.add_visit(delta, row, ans, zones.get(row["hall_id"], dt.UTC))
                used[(sid, int(float(row["started"]) // 3600))] += 1
            if changed:  # their old share comes out of the rollups
                old_answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for r in conn.execute(select(t.session_answers)
                                      .where(t.session_answers.c.station_id == sid)
                                      .where(t.session_answers.c.session.in_(changed))):
                    old_answers[r.session].append(dict(r._mapping))
                for name in changed:
                    o = old[name]
                    rollups.add_visit(delta, o, old_answers[name],
                                      zones.get(o["hall_id"], dt.UTC), -1)
                    used[(sid, int(float(o["started"]) // 3600))] -= 1
            gone = [n for n in chunk if n in rewrite and n in old]
            if gone:
                conn.execute(delete(t.session_answers)
                             .where(t.session_answers.c.station_id == sid)
                             .where(t.session_answers.c.session.in_(gone)))
                conn.execute(delete(t.session_summaries).where(s.station_id == sid)
                             .where(s.session.in_(gone)))
            if summaries:
                conn.execute(insert(t.session_summaries), summaries)
            if answers:
                conn.execute(insert(t.session_answers), answers)
            done += len(summaries)
    rollups.apply(conn, delta)
    rollups.mark_used(conn, used)
    return done


def _clusters(span: dict[str, tuple[float, float]], gap: float = CLUSTER_GAP
              ) -> list[tuple[float, float, list[str]]]:
    """Visits whose wall ranges lie close together, each group read with one query."""
    out: list[tuple[float, float, list[str]]] = []
    for name, (a, b) in sorted(span.items(), key=lambda x: x[1]):
        if out and a <= out[-1][1] + gap:
            lo, hi, names = out[-1]
            out[-1] = (lo, max(hi, b), [*names, name])
        else:
            out.append((a, b, [name]))
    return out


def _exhibit(conn: Connection, station_id: str, boot: str, seq: int,
             cache: dict[tuple[str, str], list[tuple[int, str, str]]]) -> tuple[str, str]:
    """The exhibit and version of the newest ``engine_started`` of this boot before ``seq``."""
    starts = cache.get((station_id, boot))
    if starts is None:
        b = t.boots.c  # written by ingest beside each engine_started
        starts = cache[(station_id, boot)] = sorted(
            (int(n), str(exhibit), str(version))
            for n, exhibit, version in conn.execute(
                select(b.seq, b.exhibit, b.version).where(b.station_id == station_id)
                .where(b.boot == boot)))
    found = ("", "")
    for n, exhibit, version in starts:
        if n >= seq:
            break
        found = (exhibit, version)
    return found


def summary(evs: Iterable[Any], *, exhibit: str, version: str
            ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A visit's summary row and its answer rows, from its events in order (pure)."""
    evs = list(evs)
    first = evs[0]
    started = float(first.wall)
    lang = None
    ended = dwell = reason = None
    reached = False
    scenes: list[str] = []
    quizzes: dict[str, dict[str, Any]] = {}
    answers: dict[tuple[str, str], dict[str, Any]] = {}
    asks: list[list[str | None]] = []
    for e in evs:
        data = e.data or {}
        if e.kind == "session_started":
            started = float(e.wall)
            lang = data.get("lang", lang)
        elif e.kind == "language_changed":
            lang = data.get("lang", lang)
        elif e.kind == "scene_entered" and e.scene is not None:
            scenes.append(str(e.scene))
        elif e.kind == "ending_shown":
            reached = True
        elif e.kind == "session_ended":
            ended = float(e.wall)
            reason = str(data.get("reason", ""))[:32]
            duration = data.get("duration")
            dwell = float(duration) if isinstance(duration, int | float) else \
                float(e.t) - float(first.t)
            reached = reached or reason in END_REASONS
        elif e.kind == "asked":
            entry = data.get("entry")
            asks.append([str(data.get("outcome", ""))[:16],
                         None if entry is None else str(entry)[:128]])
        elif e.kind == "quiz_completed" and e.scene is not None and e.scene not in quizzes:
            quizzes[str(e.scene)] = {k: data.get(k) for k in (
                "score", "max", "correct", "count", "role", "measure")}
        elif e.kind == "answered" and e.scene is not None:
            key = (str(e.scene), str(data.get("question", "")))
            if key not in answers:  # a quiz taken again in the same visit: the first try
                choices = data.get("choices") or []
                answers[key] = {
                    "scene": key[0], "question": key[1][:128],
                    "choices": sorted(str(c) for c in choices),
                    "correct": bool(data.get("correct")), "points": int(data.get("points") or 0),
                    "role": data.get("role"), "measure": data.get("measure")}
    # the columns hold one learning measure (the first met); every quiz is in ``quizzes``
    measure = next((q.get("measure") for q in quizzes.values() if q.get("role")), None)
    pre = next((q for q in quizzes.values()
                if q.get("role") == "pre" and q.get("measure") == measure), None)
    post = next((q for q in quizzes.values()
                 if q.get("role") == "post" and q.get("measure") == measure), None)
    row = {
        "boot": str(first.boot), "exhibit": exhibit, "version": version,
        "started": started, "ended": ended, "dwell": dwell, "end_reason": reason,
        "reached_end": reached, "lang": lang, "scenes": scenes,
        "n_scenes": len(scenes), "last_scene": scenes[-1] if scenes else None,
        "quizzes": quizzes,
        "measure": measure,
        "pre_score": pre.get("score") if pre else None,
        "post_score": post.get("score") if post else None,
        "measure_max": (pre or post or {}).get("max"),
        "events": len(evs),
        "first_wall": min(float(e.wall) for e in evs),
        "last_wall": max(float(e.wall) for e in evs),
        "asks": asks,
    }
    return row, list(answers.values())


def summarise_all(db: t.Database) -> int:
    """Passes until caught up (each in its own short transaction); summaries written."""
    total, start = 0, time.time()
    while True:
        with db.write() as conn:
            total += summarise(conn, time.time())
            if _mark(conn) >= start:
                return total


async def loop(db: t.Database) -> None:
    """Summarise every :data:`SUMMARISE_SECONDS` (run by every hub process)."""
    while True:
        try:
            await asyncio.to_thread(summarise_all, db)
        except Exception as err:  # noqa: BLE001 - the database may be restarting
            log.warning("summarising visits failed: %s", err)
        await asyncio.sleep(SUMMARISE_SECONDS)


def running(state: HubState) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The loop, for as long as the hub app lives (its lifespan)."""
    return in_background(loop(state.db))
