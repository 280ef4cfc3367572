"""Running the hub: enrolment codes, halls and their settings, the audit log, users."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import update
from starlette.responses import HTMLResponse

from showfloor.errors import ConfigError
from showfloor.hub import audit, auth, enrolment, users
from showfloor.hub import db as t
from showfloor.hub.dashboard import devices, forms, queries, render
from showfloor.hub.dashboard.security import Admin, Enroller, Form, Refusal, User, Viewer, hub


def codes_page(request: Request, user: User, *, status: int = 200,
               made: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None) -> HTMLResponse:
    state = hub(request)
    now = time.time()
    with state.db.read() as conn:
        halls = queries.halls(conn)
        recent = queries.codes(conn, now)
    return render.page(request, user, "codes.html", status=status, now=now, halls=halls,
                       codes=recent, made=made, errors=errors or {}, values=values or {},
                       default_hours=state.settings.enrol_ttl / 3600)


def hall_page(request: Request, user: User, hall_id: str, *, status: int = 200,
              errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
              device_result: dict[str, Any] | None = None) -> HTMLResponse:
    state = hub(request)
    with state.db.read() as conn:
        hall = queries.hall(conn, hall_id)
        hall_devices = devices.panel(conn, hall_id)  # "Send to devices" (devices.py)
    if hall is None:
        raise Refusal(404, "No such hall", f"There is no hall '{hall_id[:64]}'.")
    errors = errors or {}
    shown = {"name": hall["name"], "timezone": hall["timezone"],
             "closed_mode": hall["closed_mode"], **(values or {})}
    if errors.get("hours") and values and "hours_mode" in values:
        hours = dict(values)  # what was sent, to put right
    else:
        hours = forms.hours_values(hall["opening_hours"],
                                   "week" if hall["opening_hours"] else "always")
    return render.page(request, user, "hall.html", status=status, hall=hall, values=shown,
                       errors=errors, saved="saved" in request.query_params, hours=hours,
                       hour_modes=forms.HALL_HOURS_MODES, periods=forms.periods(hours),
                       closed_modes=forms.CLOSED_MODES, device_result=device_result,
                       **hall_devices)


def users_page(request: Request, user: User, *, status: int = 200,
               errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
               notice: str = "") -> HTMLResponse:
    state = hub(request)
    with state.db.read() as conn:
        everyone = users.all_users(conn)
        zone = queries.display_zone(conn)
    return render.page(request, user, "users.html", status=status, users=everyone, tz=zone,
                       errors=errors or {}, values=values or {}, roles=auth.ROLES,
                       notice=notice)


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    # -- enrolment codes -----------------------------------------------------------

    @r.get("/codes")
    def codes(request: Request, user: Viewer) -> Response:
        return codes_page(request, user)

    @r.post("/codes")
    def make_code(request: Request, form: Form, user: Enroller) -> Response:
        state = hub(request)
        hall_id = form.get("hall", "")
        name = form.get("name", "").strip()[:200]
        try:
            valid = forms.valid_hours(form.get("hours", ""), state.settings.enrol_ttl / 3600)
        except ConfigError as err:
            return codes_page(request, user, status=400, errors={"hours": str(err)},
                              values=form)
        try:
            with state.db.write() as conn:
                code = enrolment.create_code(conn, time.time(), hall_id, user.actor, name=name,
                                             ttl=valid * 3600)
                hall = queries.hall(conn, hall_id)
        except ConfigError as err:
            return codes_page(request, user, status=400, errors={"hall": str(err)},
                              values=form)
        base = str(request.base_url).rstrip("/")
        made = {"code": code, "hall": hall["name"] if hall else hall_id, "name": name,
                "hours": valid, "command": f"showfloor station PROFILE --hub {base} "
                                           f"--enrol {code}"}
        return codes_page(request, user, status=201, made=made)

    # -- halls ---------------------------------------------------------------------

    @r.post("/halls")
    def new_hall(request: Request, form: Form, user: Admin) -> Response:
        state = hub(request)
        errors: dict[str, str] = {}
        name = tz = ""
        try:
            name = forms.hall_name(form.get("hall_name", ""))
        except ConfigError as err:
            errors["hall_name"] = str(err)
        try:
            tz = forms.timezone(form.get("timezone", "") or "UTC")
        except ConfigError as err:
            errors["timezone"] = str(err)
        if not errors:
            hid = enrolment.slug(name)
            with state.db.write() as conn:
                if queries.hall(conn, hid) is not None:
                    errors["hall_name"] = f"there is already a hall '{hid}'; choose another name"
                else:
                    enrolment.ensure_hall(conn, time.time(), name, hall_id=hid, timezone=tz,
                                          actor=user.actor)
        if errors:
            return codes_page(request, user, status=400, errors=errors, values=form)
        return RedirectResponse(f"/halls/{quote(hid, safe='')}?saved=1", 303)

    @r.get("/halls/{hall_id}")
    def hall(request: Request, hall_id: str, user: Viewer) -> Response:
        return hall_page(request, user, hall_id)

    @r.post("/halls/{hall_id}")
    def save_hall(request: Request, hall_id: str, form: Form, user: Admin) -> Response:
        state = hub(request)
        errors: dict[str, str] = {}
        checked: dict[str, Any] = {}
        for field, check in (("name", forms.hall_name), ("timezone", forms.timezone),
                             ("closed_mode", forms.closed_mode)):
            try:
                checked[field] = check(form.get(field, ""))
            except ConfigError as err:
                errors[field] = str(err)
        try:
            checked["hours"] = forms.hours_choice(form, forms.HALL_HOURS_MODES)
        except ConfigError as err:
            errors["hours"] = str(err)
        if errors:
            return hall_page(request, user, hall_id, status=400, errors=errors, values=form)
        now = time.time()
        with state.db.write() as conn:
            hall = queries.hall(conn, hall_id)
            if hall is None:
                raise Refusal(404, "No such hall", f"There is no hall '{hall_id[:64]}'.")
            if checked["name"] != hall["name"]:
                conn.execute(update(t.halls).where(t.halls.c.id == hall_id)
                             .values(name=checked["name"]))
                audit.record(conn, now, user.actor, "hall.renamed", hall_id,
                             name=checked["name"])
            enrolment.set_hours(conn, now, user.actor, hall_id=hall_id,
                                opening_hours=checked["hours"] or {},
                                timezone=checked["timezone"],
                                closed_mode=checked["closed_mode"])
        return RedirectResponse(f"/halls/{quote(hall_id, safe='')}?saved=1", 303)

    # -- audit -----------------------------------------------------------------------

    @r.get("/audit")
    def audit_log(request: Request, user: Viewer, before: int | None = None,
                  target: str = "") -> Response:
        state = hub(request)
        with state.db.read() as conn:
            rows, older = queries.audit_page(conn, before=before, target=target[:100] or None)
            zone = queries.display_zone(conn)
        return render.page(request, user, "audit.html", rows=rows, older=older, tz=zone,
                           target=target[:100], first=before is None)

    # -- users -----------------------------------------------------------------------

    @r.get("/users")
    def users_list(request: Request, user: Admin) -> Response:
        notice = {"made": "The user was made.", "disabled": "The user was disabled; their "
                  "sessions end at their next click."}.get(request.query_params.get("done", ""),
                                                           "")
        return users_page(request, user, notice=notice)

    @r.post("/users")
    def create_user(request: Request, form: Form, user: Admin) -> Response:
        state = hub(request)
        name = form.get("username", "").strip()
        password = form.get("password", "")
        role = form.get("role", "")
        errors: dict[str, str] = {}
        if problem := auth.username_problem(name):
            errors["username"] = problem
        if problem := auth.password_problem(password):
            errors["password"] = problem
        if role not in auth.ROLES:
            errors["role"] = f"choose one of {', '.join(auth.ROLES)}"
        if not errors:
            try:
                with state.db.write() as conn:
                    users.create(conn, time.time(), name, password, role, user.actor)
            except ConfigError as err:
                errors["username"] = str(err)
        if errors:
            values = {k: v for k, v in form.items() if k != "password"}
            return users_page(request, user, status=400, errors=errors, values=values)
        return RedirectResponse("/users?done=made", 303)

    @r.post("/users/{user_id}/disable")
    def disable_user(request: Request, user_id: int, form: Form, user: Admin) -> Response:
        state = hub(request)
        if user_id == user.id:
            return users_page(request, user, status=400, errors={
                "disable": "you cannot disable your own account; ask another admin"})
        with state.db.write() as conn:
            if users.get(conn, user_id) is None:
                raise Refusal(404, "No such user", f"There is no active user {user_id}.")
            users.disable(conn, time.time(), user_id, user.actor)
        return RedirectResponse("/users?done=disabled", 303)

    return r
