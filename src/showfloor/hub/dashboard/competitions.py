"""The competitions pages: ``/competitions`` (every competition a station ran, per hall,
newest first, with its winner) and ``/competitions/{station}/{boot}/{seq}`` (one
competition's final board).

The rows are ``competition_results`` (kept by ``hub/competitions.py`` from the stations'
competition events, never purged). Teams are shown by the names they joined under —
chosen from the content or typed by staff, never a person's. Any signed-in role may
read them. An unknown hall or competition, or a page cursor that is not one, is a page
with a sentence, never a 500.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from showfloor.hub import db as t
from showfloor.hub.dashboard import queries, render
from showfloor.hub.dashboard.security import Refusal, Viewer, hub

#: competitions on one page of the list
PAGE = 100


def winner(board: Any) -> str | None:
    """The name of the team ranked first (its id when it joined without one); None when
    the competition has no board (not over, or its end not received yet)."""
    if not isinstance(board, list):
        return None
    first = next((b for b in board if isinstance(b, dict) and b.get("rank") == 1), None)
    if first is None:
        return None
    return str(first.get("name") or first.get("team") or "")


def listing(conn: Connection, hall: str | None, before: float | None, limit: int = PAGE
            ) -> list[dict[str, Any]]:
    """The newest ``limit`` competitions (of ``hall``; started before ``before``)."""
    c = t.competition_results.c
    st, h = t.stations.c, t.halls.c
    q = (select(c.station_id, c.boot, c.seq, c.hall_id, c.competition, c.final, c.started,
                c.ended, c.asked, c.teams, c.board, st.name.label("station_name"),
                h.name.label("hall_name"))
         .select_from(t.competition_results.outerjoin(t.stations, st.id == c.station_id)
                      .outerjoin(t.halls, h.id == c.hall_id))
         .order_by(c.started.desc(), c.station_id, c.seq).limit(limit))
    if hall is not None:
        q = q.where(c.hall_id == hall)
    if before is not None:
        q = q.where(c.started < before)
    out = []
    for r in conn.execute(q):
        row = dict(r._mapping)
        row["winner"] = winner(row["board"])
        out.append(row)
    return out


def one(conn: Connection, station: str, boot: str, seq: int) -> dict[str, Any] | None:
    c = t.competition_results.c
    st, h = t.stations.c, t.halls.c
    r = conn.execute(
        select(t.competition_results, st.name.label("station_name"),
               h.name.label("hall_name"))
        .select_from(t.competition_results.outerjoin(t.stations, st.id == c.station_id)
                     .outerjoin(t.halls, h.id == c.hall_id))
        .where(c.station_id == station).where(c.boot == boot).where(c.seq == seq)).first()
    return None if r is None else dict(r._mapping)


def _before(value: str | None) -> float | None:
    if not value:
        return None
    try:
        at = float(value)
    except ValueError:
        at = math.nan
    if not math.isfinite(at):
        raise Refusal(400, "Not a page of the list",
                      f"'{value[:40]}' is not a place in the list of competitions; "
                      "start again from the newest.")
    return at


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/competitions")
    def competitions(request: Request, user: Viewer) -> Response:
        state = hub(request)
        hall = (request.query_params.get("hall") or "").strip()[:64] or None
        before = _before(request.query_params.get("before"))
        with state.db.read() as conn:
            halls = queries.halls(conn)
            if hall is not None and hall not in {h["id"] for h in halls}:
                raise Refusal(400, "No such hall", f"There is no hall '{hall}'; choose one "
                              "from the list, or all halls.")
            rows = listing(conn, hall, before, PAGE + 1)
            zone = queries.display_zone(conn)
        more = len(rows) > PAGE
        rows = rows[:PAGE]
        return render.page(request, user, "competitions.html", rows=rows, halls=halls,
                           hall=hall or "", tz=zone, first=before is None,
                           older=repr(rows[-1]["started"]) if more else None)

    @r.get("/competitions/{station}/{boot}/{seq}")
    def competition(request: Request, station: str, boot: str, seq: str,
                    user: Viewer) -> Response:
        state = hub(request)
        row = None
        if seq.isascii() and seq.isdigit() and len(seq) < 19:
            with state.db.read() as conn:
                row = one(conn, station, boot, int(seq))
                zone = queries.display_zone(conn)
        if row is None:
            raise Refusal(404, "No such competition",
                          f"Station '{station[:64]}' has no competition '{boot[:40]}/"
                          f"{seq[:20]}' here; it may not have reached the hub yet.")
        return render.page(request, user, "competition.html", c=row, tz=zone,
                           winner=winner(row["board"]))

    return r
