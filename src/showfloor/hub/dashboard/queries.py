"""The reads the dashboard needs beyond :mod:`showfloor.hub.overview`: codes, audit, halls."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from showfloor.hub import db as t

AUDIT_PAGE = 50


def display_zone(conn: Connection) -> str:
    """The time zone for times that belong to no one hall: the halls' own if they share one."""
    zones = {str(r[0]) for r in conn.execute(select(t.halls.c.timezone).distinct())}
    return zones.pop() if len(zones) == 1 else "UTC"


def halls(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(t.halls).order_by(t.halls.c.name)).mappings()]


def hall(conn: Connection, hall_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.halls).where(t.halls.c.id == hall_id)).mappings().first()
    return dict(row) if row else None


def codes(conn: Connection, now: float, limit: int = 30) -> list[dict[str, Any]]:
    """Recent enrolment codes (never the code: only its hash is kept), with their state."""
    c = t.enrol_codes.c
    rows = conn.execute(
        select(c.hall_id, c.name, c.created, c.created_by, c.expires, c.used, c.station_id,
               t.halls.c.name.label("hall_name"), t.halls.c.timezone)
        .join(t.halls, t.halls.c.id == c.hall_id)
        .order_by(c.created.desc()).limit(limit)).mappings()
    out = []
    for r in rows:
        row = dict(r)
        row["state"] = ("used" if r["used"] is not None else
                        "expired" if r["expires"] <= now else "open")
        out.append(row)
    return out


def audit_page(conn: Connection, *, before: int | None = None, target: str | None = None,
               size: int = AUDIT_PAGE) -> tuple[list[dict[str, Any]], int | None]:
    """One page of the audit log, newest first, and the id to ask for the next (older) one."""
    a = t.audit.c
    q = select(t.audit).order_by(a.id.desc()).limit(size + 1)
    if before is not None:
        q = q.where(a.id < before)
    if target:
        q = q.where(a.target == target)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    older = int(rows[size - 1]["id"]) if len(rows) > size else None
    return rows[:size], older


def station_hall(conn: Connection, station_id: str) -> str | None:
    row = conn.execute(select(t.stations.c.hall_id).where(t.stations.c.id == station_id)
                       ).first()
    return str(row[0]) if row else None


def command_station(conn: Connection, command_id: int) -> str | None:
    row = conn.execute(select(t.commands.c.station_id).where(t.commands.c.id == command_id)
                       ).first()
    return str(row[0]) if row else None


#: the station events an operator acts on; the rest (inputs, views, scenes, surface
#: metrics) are only on the raw events page
OPERATOR_KINDS = ("engine_started", "session_started", "session_ended", "error", "command",
                  "operator", "closed", "default_language_set", "surface_joined",
                  "surface_left")
RAW_PAGE = 100


def operator_events(conn: Connection, station_id: str, limit: int = 60
                    ) -> tuple[list[dict[str, Any]], dict[str, str], dict[int, dict[str, Any]]]:
    """A station's newest operator events (newest first), the language each of their
    visits started in, and the commands they name (by id)."""
    e = t.events.c
    rows = [dict(r) for r in conn.execute(
        select(e.seq, e.source, e.wall, e.kind, e.session, e.data)
        .where(e.station_id == station_id).where(e.kind.in_(OPERATOR_KINDS))
        .order_by(e.wall.desc(), e.seq.desc()).limit(limit)).mappings()]
    ended = {r["session"] for r in rows if r["kind"] == "session_ended" and r["session"]}
    langs: dict[str, str] = {}
    if ended:
        for session, data in conn.execute(
                select(e.session, e.data).where(e.station_id == station_id)
                .where(e.kind == "session_started").where(e.session.in_(sorted(ended)))):
            if isinstance(data, dict) and isinstance(data.get("lang"), str):
                langs[str(session)] = data["lang"]
    ids = {r["data"]["id"] for r in rows if r["kind"] == "command" and isinstance(
        r["data"], dict) and isinstance(r["data"].get("id"), int)}
    c = t.commands.c
    commands = {int(r["id"]): dict(r) for r in conn.execute(
        select(c.id, c.kind, c.state, c.result).where(c.station_id == station_id)
        .where(c.id.in_(sorted(ids)))).mappings()} if ids else {}
    return rows, langs, commands


def raw_events(conn: Connection, station_id: str, page: int = 0, size: int = RAW_PAGE
               ) -> tuple[list[dict[str, Any]], bool]:
    """One page of a station's events as stored, newest first, and whether older ones exist."""
    e = t.events.c
    rows = [dict(r) for r in conn.execute(
        select(e.wall, e.kind, e.source, e.scene, e.session, e.data)
        .where(e.station_id == station_id).order_by(e.wall.desc(), e.seq.desc())
        .offset(max(page, 0) * size).limit(size + 1)).mappings()]
    return rows[:size], len(rows) > size
