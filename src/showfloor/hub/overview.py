"""The fleet at a glance: halls, their stations, each station's state and day."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import Connection, func, select

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub import db as t
from showfloor.hub.settings import HubSettings
from showfloor.hub.status import classify


def _midnight(tz: str, now: float) -> float:
    """The start of today in a hall's time zone, as Unix time."""
    try:
        zone = hours.zone(tz)
    except ConfigError:
        zone = dt.UTC
    local = dt.datetime.fromtimestamp(now, zone)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def station_row(hall: dict[str, Any], st: dict[str, Any], now: float, cfg: HubSettings,
                sessions_today: int) -> dict[str, Any]:
    hb = st.get("heartbeat") or {}
    return {
        "id": st["id"], "name": st["name"], "profile": st["profile"], "hall": st["hall_id"],
        "state": classify(hall, st, now, cfg).value,
        "last_seen": st.get("last_seen"),
        "exhibit": hb.get("exhibit"), "version": hb.get("version"), "scene": hb.get("scene"),
        "session_active": bool(hb.get("session_active")), "language": hb.get("language"),
        "uptime": hb.get("uptime"), "outbox": hb.get("outbox"), "fps": hb.get("fps"),
        "disk_free": hb.get("disk_free"), "idle": hb.get("idle"),
        "usual_quiet": hb.get("usual_quiet"), "closed": bool(hb.get("closed")),
        "screen": hb.get("screen", "on"), "software": hb.get("software"),
        "sessions_today": sessions_today,
        "last_error": st.get("last_error"), "last_error_at": st.get("last_error_at"),
        "revoked": st.get("revoked"), "enrolled": st.get("enrolled"),
        "opening_hours": st.get("opening_hours"),
    }


def fleet(conn: Connection, cfg: HubSettings, now: float | None = None,
          hall_id: str | None = None) -> list[dict[str, Any]]:
    """Every hall (or one) with its stations, their states and today's sessions."""
    now = time.time() if now is None else now
    hq = select(t.halls).order_by(t.halls.c.name)
    if hall_id is not None:
        hq = hq.where(t.halls.c.id == hall_id)
    halls = [dict(h) for h in conn.execute(hq).mappings()]
    sq = select(t.stations).order_by(t.stations.c.name)
    if hall_id is not None:
        sq = sq.where(t.stations.c.hall_id == hall_id)
    by_hall: dict[str, list[dict[str, Any]]] = {}
    for st in conn.execute(sq).mappings():
        by_hall.setdefault(st["hall_id"], []).append(dict(st))
    out = []
    for hall in halls:
        since = _midnight(hall["timezone"], now)
        counts = {sid: int(n) for sid, n in conn.execute(
            select(t.events.c.station_id, func.count())
            .where(t.events.c.kind == "session_started").where(t.events.c.wall >= since)
            .where(t.events.c.station_id.in_([s["id"] for s in by_hall.get(hall["id"], [])]))
            .group_by(t.events.c.station_id))}
        rows = [station_row(hall, s, now, cfg, counts.get(s["id"], 0))
                for s in by_hall.get(hall["id"], [])]
        states: dict[str, int] = {}
        for r in rows:
            states[r["state"]] = states.get(r["state"], 0) + 1
        out.append({**hall, "stations": rows, "states": states,
                    "sessions_today": sum(r["sessions_today"] for r in rows)})
    return out


def station(conn: Connection, cfg: HubSettings, station_id: str, now: float | None = None,
            events: int = 50) -> dict[str, Any] | None:
    """One station: its row, recent events and commands."""
    now = time.time() if now is None else now
    st = conn.execute(select(t.stations).where(t.stations.c.id == station_id)
                      ).mappings().first()
    if st is None:
        return None
    hall = dict(conn.execute(select(t.halls).where(t.halls.c.id == st["hall_id"])
                             ).mappings().one())
    since = _midnight(hall["timezone"], now)
    today = int(conn.execute(select(func.count()).select_from(t.events)
                             .where(t.events.c.station_id == station_id)
                             .where(t.events.c.kind == "session_started")
                             .where(t.events.c.wall >= since)).scalar_one())
    recent = [dict(r) for r in conn.execute(
        select(t.events.c.id, t.events.c.wall, t.events.c.kind, t.events.c.scene,
               t.events.c.session, t.events.c.data)
        .where(t.events.c.station_id == station_id)
        .order_by(t.events.c.wall.desc()).limit(events)).mappings()]
    cmds = [dict(r) for r in conn.execute(
        select(t.commands).where(t.commands.c.station_id == station_id)
        .order_by(t.commands.c.id.desc()).limit(30)).mappings()]
    for c in cmds:
        if c["kind"] == "message":  # show the languages, not the words, in lists
            c["args"] = {"langs": sorted(c["args"].get("text", {})),
                         "seconds": c["args"].get("seconds")}
    total = int(conn.execute(select(func.count()).select_from(t.events)
                             .where(t.events.c.station_id == station_id)).scalar_one())
    return {**station_row(hall, dict(st), now, cfg, today), "hall_name": hall["name"],
            "hall_timezone": hall["timezone"], "hall_hours": hall["opening_hours"],
            "heartbeat": st["heartbeat"], "events": recent, "commands": cmds,
            "events_total": total, "kiosk": _kiosk(st["heartbeat"])}


def _kiosk(hb: Any) -> dict[str, Any] | None:
    """The kiosk supervisor's summary in a heartbeat (None: none, or a station from before)."""
    k = hb.get("kiosk") if isinstance(hb, dict) else None
    if not isinstance(k, dict):
        return None
    found = k.get("counts")
    counts: dict[str, Any] = found if isinstance(found, dict) else {}
    return {**k, "counts": counts, "crashes": int(counts.get("renderer_crashed", 0)),
            "hangs": int(counts.get("page_unresponsive", 0)),
            "reloads": int(counts.get("page_reloaded", 0)),
            "restarts": int(counts.get("browser_exited", 0))}
