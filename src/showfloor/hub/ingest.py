"""What stations send: heartbeats and event batches.

A batch is stored in one transaction, each event keyed by (station, the
station-made id): an event already present is counted as a duplicate and
left alone, so a retried batch — after a lost reply, a killed hub or a
killed station — is stored exactly once. The reply acknowledges the whole
batch; only then may the station forget it.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from showfloor import fleet
from showfloor.hub import db as t

#: kinds of station events whose arrival counts as the station's last error
ERROR_KINDS = {"error"}


_WATERMARK = select(t.summary_marks.c.watermark).where(t.summary_marks.c.key == "sessions")

_BEAT = (update(t.stations).where(t.stations.c.id == bindparam("sid"))
         .where(t.stations.c.revoked.is_(None))
         .values(last_seen=bindparam("seen"), heartbeat=bindparam("hb")))


def heartbeat(conn: Connection, station: dict[str, Any], hb: fleet.Heartbeat,
              now: float) -> None:
    if not hb.errors:  # the common case, with a statement built once
        conn.execute(_BEAT, {"sid": station["id"], "seen": now,
                             "hb": hb.model_dump(mode="json")})
        return
    values: dict[str, Any] = {"last_seen": now, "heartbeat": hb.model_dump(mode="json")}
    if hb.errors:
        last = max(hb.errors, key=lambda e: e.at)
        if station.get("last_error_at") is None or last.at > float(station["last_error_at"]):
            values["last_error"] = f"{last.what}: {last.detail}"[:500]
            values["last_error_at"] = min(last.at, now)
    conn.execute(update(t.stations).where(t.stations.c.id == station["id"]).values(**values))


def store_events(conn: Connection, station_id: str, batch: fleet.EventBatch,
                 now: float) -> tuple[int, int]:
    """Store a batch once, received at ``now``; (stored, duplicates).

    On SQLite (one write transaction at a time) a batch is never stamped at or before
    the summaries' watermark: a clock that reads earlier (stepped back) stamps it just
    after, so the next pass reads it without looking back (hub/summaries.py).
    """
    evs = batch.events
    if not evs:
        return 0, 0
    if conn.dialect.name == "sqlite":
        mark = conn.execute(_WATERMARK).scalar()
        if mark is not None and now <= float(mark):
            now = math.nextafter(float(mark), math.inf)
    ids = [e.id for e in evs]
    have: set[str] = set()
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        have.update(r[0] for r in conn.execute(
            select(t.events.c.id).where(t.events.c.station_id == station_id)
            .where(t.events.c.id.in_(chunk))))
    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for e in evs:
        if e.id in have or e.id in seen:
            continue
        seen.add(e.id)
        rows.append({"station_id": station_id, "id": e.id, "boot": e.boot, "source": e.source,
                     "seq": e.seq, "t": e.t, "wall": e.wall, "kind": e.kind,
                     "session": e.session, "scene": e.scene, "data": e.data,
                     "received": now})
    if rows:
        conn.execute(t.insert_new(conn, t.events), rows)
        starts = [boot_row(station_id, r) for r in rows if r["kind"] == "engine_started"]
        if starts:
            conn.execute(t.insert_new(conn, t.boots), starts)
        errors = [r for r in rows if r["kind"] in ERROR_KINDS]
        if errors:
            last = max(errors, key=lambda r: r["wall"])
            what = str(last["data"].get("what", "error"))
            detail = str(last["data"].get("detail") or last["data"].get("path") or "")
            conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                         .where(func.coalesce(t.stations.c.last_error_at, 0) < last["wall"])
                         .values(last_error=f"{what}: {detail}"[:500],
                                 last_error_at=min(float(last["wall"]), now)))
    return len(rows), len(evs) - len(rows)


def boot_row(station_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The ``boots`` row of an ``engine_started`` event (as stored in ``events``)."""
    data = event.get("data") or {}
    return {"station_id": station_id, "boot": event["boot"], "seq": int(event["seq"]),
            "exhibit": str(data.get("exhibit", ""))[:64],
            "version": str(data.get("version", ""))[:64], "wall": float(event["wall"])}


def count_events(conn: Connection, station_id: str | None = None) -> int:
    q = select(func.count()).select_from(t.events)
    if station_id is not None:
        q = q.where(t.events.c.station_id == station_id)
    return int(conn.execute(q).scalar_one())
