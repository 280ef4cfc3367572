"""The fleet pages: halls → stations (live), one station, its commands, revoking it."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.responses import HTMLResponse

from showfloor.errors import ConfigError
from showfloor.hub import commands as cmds
from showfloor.hub import enrolment, overview, rollouts
from showfloor.hub.dashboard import display, forms, queries, render, timeline
from showfloor.hub.dashboard.security import (
    Admin,
    Form,
    Operator,
    Refusal,
    User,
    Viewer,
    hub,
    signed_in,
)
from showfloor.hub.settings import HubSettings

#: which form on the station page a command's error belongs to
FORM_OF = {"reload": "basic", "restart": "basic", "attract": "basic",
           "attract_only": "attract_only", "language": "language", "message": "message",
           "device": "device"}


def legend(cfg: HubSettings) -> list[tuple[str, str]]:
    words = {"online_within": cfg.online_within, "offline_after": cfg.offline_after,
             "unused_after": cfg.unused_after}
    return [(state, text.format(**words)) for state, text in display.STATE_HELP.items()]


def station_url(station_id: str, query: str = "", anchor: str = "") -> str:
    return f"/stations/{quote(station_id, safe='')}" + (f"?{query}" if query else "") + \
        (f"#{anchor}" if anchor else "")


def _notice(request: Request) -> str:
    q = request.query_params
    if q.get("sent", "").isdigit():
        return f"Command {q['sent']} is queued; the station picks it up within a second " \
               "if it is online."
    if q.get("cancelled", "").isdigit():
        return f"Command {q['cancelled']} was cancelled."
    if "not_cancelled" in q:
        return "That command could not be cancelled: the station has already answered it."
    if "hours" in q:
        return "The station's opening hours were saved; it gets them with its next heartbeat."
    if "tags" in q:
        return "The station's tags were saved: rollouts to a tag pick it from now on."
    if "revoked" in q:
        return "The station was revoked: the hub refuses its next request."
    return ""


#: the parts of a station's page that follow the station live (``data-part`` on the page)
LIVE_PARTS = {"state": "_station_state.html", "details": "_station_details.html",
              "commands": "_station_commands.html", "events": "_station_events.html"}


def _station_context(request: Request, station_id: str) -> dict[str, Any]:
    """What the station page and its live parts show."""
    state = hub(request)
    now = time.time()
    with state.db.read() as conn:
        st = overview.station(conn, state.settings, station_id, now, events=0)
        if st is not None:
            events, langs, commands = queries.operator_events(conn, station_id)
            delivery = rollouts.station_delivery(conn, station_id)
    if st is None:
        raise Refusal(404, "No such station", f"There is no station '{station_id[:64]}'. It "
                      "may have been enrolled on another hub's database; see the halls page.")
    return {"now": now, "st": st, "tz": st["hall_timezone"], "action": station_url(st["id"]),
            "own_hours": bool(st["opening_hours"]),
            "hours_sentence": display.hours_sentence(st["opening_hours"], st["hall_hours"],
                                                     st["hall_timezone"], now),
            "timeline": timeline.lines(events, langs, commands, limit=20), **delivery}


def _station(request: Request, station_id: str) -> dict[str, Any]:
    state = hub(request)
    with state.db.read() as conn:
        st = overview.station(conn, state.settings, station_id, events=0)
    if st is None:
        raise Refusal(404, "No such station", f"There is no station '{station_id[:64]}'.")
    return st


def station_page(request: Request, user: User, station_id: str, *, status: int = 200,
                 errors: dict[str, str] | None = None, values: dict[str, str] | None = None
                 ) -> HTMLResponse:
    state = hub(request)
    context = _station_context(request, station_id)
    st = context["st"]
    errors = errors or {}
    if errors.get("hours") and values and "hours_mode" in values:
        hours = dict(values)  # what was sent, to put right
    elif st["opening_hours"]:
        hours = forms.hours_values(st["opening_hours"], "own")
    else:  # the hall's days to start from, if the station is to get its own
        hours = forms.hours_values(st["hall_hours"], "hall")
    return render.page(
        request, user, "station.html", status=status, **context,
        errors=errors, values=values or {}, notice=_notice(request),
        languages=forms.LANGUAGES, hours=hours, hour_modes=forms.STATION_HOURS_MODES,
        periods=forms.periods(hours), command_ttl=state.settings.command_ttl)


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/")
    def halls(request: Request, user: Viewer) -> Response:
        state = hub(request)
        now = time.time()
        with state.db.read() as conn:
            fleet = overview.fleet(conn, state.settings, now)
        return render.page(request, user, "halls.html", now=now, halls=fleet,
                           legend=legend(state.settings))

    @r.get("/stations/{station_id}")
    def station(request: Request, station_id: str, user: Viewer) -> Response:
        return station_page(request, user, station_id)

    @r.get("/stations/{station_id}/events")
    def raw_events(request: Request, station_id: str, user: Viewer, page: int = 0
                   ) -> Response:
        """Every event the station sent, as stored (ticks, views and all), 100 a page."""
        st = _station(request, station_id)
        with hub(request).db.read() as conn:
            rows, older = queries.raw_events(conn, station_id, page)
        return render.page(request, user, "station_events.html", st=st, rows=rows,
                           older=older, page=max(page, 0), tz=st["hall_timezone"],
                           action=station_url(station_id))

    @r.get("/stations/{station_id}/live")
    def station_live(request: Request, station_id: str) -> Response:
        """The page's live parts as HTML, for its 5 s updates (forms are never touched)."""
        user = signed_in(request)
        if user is None:
            raise Refusal(401, "Signed out", "sign in at /login first", json=True)
        try:
            context = _station_context(request, station_id)
        except Refusal as err:
            raise Refusal(err.status, err.title, err.sentence, json=True) from None
        return JSONResponse({"parts": {name: render.fragment(request, user, template, **context)
                                       for name, template in LIVE_PARTS.items()},
                             "time": context["now"]})

    @r.post("/stations/{station_id}/commands")
    def send(request: Request, station_id: str, form: Form, user: Operator) -> Response:
        state = hub(request)
        kind = form.get("kind", "")
        try:
            args = forms.command(kind, form)
            with state.db.write() as conn:
                cid = cmds.queue(conn, time.time(), station_id, kind, args, user.actor,
                                 state.settings.command_ttl)
        except ConfigError as err:
            return station_page(request, user, station_id, status=400,
                                errors={FORM_OF.get(kind, "basic"): str(err)}, values=form)
        state.notifier.wake(station_id)
        return RedirectResponse(station_url(station_id, f"sent={cid}", "commands"), 303)

    @r.post("/stations/{station_id}/commands/{command_id}/cancel")
    def cancel(request: Request, station_id: str, command_id: int, form: Form,
               user: Operator) -> Response:
        state = hub(request)
        with state.db.write() as conn:
            if queries.command_station(conn, command_id) != station_id:
                raise Refusal(404, "No such command", f"Station '{station_id[:64]}' has no "
                              f"command {command_id}.")
            done = cmds.cancel(conn, time.time(), command_id, user.actor)
        query = f"cancelled={command_id}" if done else "not_cancelled=1"
        return RedirectResponse(station_url(station_id, query, "commands"), 303)

    @r.get("/stations/{station_id}/revoke")
    def revoke_page(request: Request, station_id: str, user: Admin) -> Response:
        return render.page(request, user, "revoke.html", st=_station(request, station_id))

    @r.post("/stations/{station_id}/revoke")
    def revoke(request: Request, station_id: str, form: Form, user: Admin) -> Response:
        if form.get("confirm") != "yes":
            return RedirectResponse(station_url(station_id) + "/revoke", 303)
        state = hub(request)
        with state.db.write() as conn:
            if queries.station_hall(conn, station_id) is None:
                raise Refusal(404, "No such station", f"There is no station "
                              f"'{station_id[:64]}'.")
            enrolment.revoke(conn, time.time(), station_id, user.actor)
        return RedirectResponse(station_url(station_id, "revoked=1"), 303)

    @r.post("/stations/{station_id}/hours")
    def station_hours(request: Request, station_id: str, form: Form, user: Admin) -> Response:
        state = hub(request)
        try:
            hrs = forms.hours_choice(form, forms.STATION_HOURS_MODES)
            with state.db.write() as conn:
                if queries.station_hall(conn, station_id) is None:
                    raise Refusal(404, "No such station", f"There is no station "
                                  f"'{station_id[:64]}'.")
                enrolment.set_hours(conn, time.time(), user.actor, station_id=station_id,
                                    opening_hours=hrs)
        except ConfigError as err:
            return station_page(request, user, station_id, status=400,
                                errors={"hours": str(err)}, values=form)
        return RedirectResponse(station_url(station_id, "hours=1", "hours"), 303)

    return r


def api_router() -> APIRouter:
    r = APIRouter(tags=["dashboard"])

    @r.get("/dashboard/api/fleet", responses={
        200: {"description": "every hall with its stations, their states and today's "
                             "sessions (what the halls page shows)"},
        401: {"description": "no dashboard session: sign in at /login first"}})
    def fleet(request: Request) -> JSONResponse:
        """The fleet as the halls page shows it, for its live updates (a dashboard session)."""
        if signed_in(request) is None:
            raise Refusal(401, "Signed out", "sign in at /login first", json=True)
        state = hub(request)
        now = time.time()
        with state.db.read() as conn:
            data: list[dict[str, Any]] = overview.fleet(conn, state.settings, now)
        return JSONResponse(data)

    return r
