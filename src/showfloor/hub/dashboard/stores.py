"""The "What this hub stores" page (``/stores``): what is collected, kept how long, shown how.

Any signed-in role may read it. The event kinds it lists are docs/events.md's
(tests/hub/test_stores.py keeps the two lists equal); the export tables come from
:data:`showfloor.analytics.exports.SPECS`; k and the retention period from the hub's
settings; the last purge from the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from showfloor.analytics import exports, privacy
from showfloor.hub import db as t
from showfloor.hub import retention
from showfloor.hub.dashboard import queries, render
from showfloor.hub.dashboard.security import Viewer, hub

#: what the engine records about a visit (docs/events.md, "Engine events")
ENGINE_KINDS = (
    "engine_started", "input", "view", "session_started", "scene_entered", "scene_exited",
    "choice_made", "answered", "quiz_completed", "ending_shown", "hotspot_opened",
    "timeline_set", "asked", "ask_more", "language_changed", "default_language_set", "closed",
    "idle_warning", "still_here", "session_ended", "error")
#: what a station records around the engine (docs/events.md, "Station events")
STATION_KINDS = (
    "surface_joined", "surface_left", "surface_metrics", "kiosk", "passer_by", "command",
    "operator", "content")
#: what a station running a knowledge competition records (docs/events.md, "Competition
#: events"): team ids and names, answers and scores — never a player
COMPETITION_KINDS = (
    "competition_input", "final_opened", "team_joined", "team_removed", "competition_started",
    "question_revealed", "answer_taken", "question_closed", "question_skipped",
    "competition_paused", "competition_resumed", "competition_ended")


def last_purge(conn: Connection) -> dict[str, Any] | None:
    """The newest ``events.purged`` audit line (at, deleted, until), or None."""
    a = t.audit.c
    row = conn.execute(select(a.at, a.detail).where(a.action == "events.purged")
                       .order_by(a.id.desc()).limit(1)).first()
    if row is None:
        return None
    detail = row.detail or {}
    return {"at": float(row.at), "deleted": int(detail.get("deleted", 0)),
            "until": float(detail.get("until", 0.0))}


def last_check(conn: Connection) -> float | None:
    """When a hub process last ran the daily purge (whether or not it deleted anything)."""
    m = t.summary_marks.c
    row = conn.execute(select(m.watermark).where(m.key == retention.MARK)).first()
    return float(row[0]) if row is not None and row[0] else None


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/stores")
    def stores(request: Request, user: Viewer) -> Response:
        state = hub(request)
        with state.db.read() as conn:
            purge, checked = last_purge(conn), last_check(conn)
            zone = queries.display_zone(conn)
        return render.page(
            request, user, "stores.html", tz=zone, purge=purge, checked=checked,
            k=state.settings.report_min_cell, floor=privacy.FLOOR,
            retention_days=state.settings.retention_days,
            engine_kinds=ENGINE_KINDS, station_kinds=STATION_KINDS,
            competition_kinds=COMPETITION_KINDS,
            tables=[(s.name, s.row) for s in exports.SPECS])

    return r
