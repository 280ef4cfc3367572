"""Signing in and out: ``/login`` (a form, rate limited) and ``/logout``."""

from __future__ import annotations

import math
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from showfloor.hub import audit, auth, users
from showfloor.hub.dashboard import display, limits, queries, render
from showfloor.hub.dashboard.security import (
    Form,
    client_address,
    hub,
    safe_next,
    signed_in,
    start_session,
)


def _wait_words(seconds: float) -> str:
    if seconds < 60:
        return f"{max(math.ceil(seconds), 1)} seconds"
    minutes = math.ceil(seconds / 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/login")
    def login_page(request: Request, next: str = "/") -> Response:
        if signed_in(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return render.page(request, None, "login.html", next=safe_next(next), username="",
                           error="")

    @r.post("/login")
    def login(request: Request, form: Form) -> Response:
        state = hub(request)
        name = form.get("username", "").strip()[:64]
        password = form.get("password", "")
        target = safe_next(form.get("next", "/"))
        address = client_address(request)
        keys = limits.keys(name, address)
        limit = state.settings.login_limit
        again: dict[str, Any] = {"next": target, "username": name}

        now = time.time()
        with state.db.read() as conn:
            until = limits.blocked_until(conn, keys, limit, now)
            zone = queries.display_zone(conn)
        if until is not None:  # refused before the password is even looked at
            wait = until - now
            return render.page(
                request, None, "login.html", status=429,
                headers={"Retry-After": str(max(math.ceil(wait), 1))}, **again,
                error=f"Too many failed sign-ins for this user name or from this address, "
                f"so signing in is paused. Try again in {_wait_words(wait)} (after "
                f"{display.local(until, zone, now)} {zone}).")

        with state.db.read() as conn:
            row = users.by_name(conn, name) if name else None
        # an unknown name costs a hash check too, so it takes as long as a known one
        stored = str(row["password_hash"]) if row is not None else limits.DECOY_HASH
        ok = auth.check_password(stored, password[:1000])
        ok = ok and row is not None and row["disabled"] is None
        now = time.time()
        if not ok or row is None:
            with state.db.write() as conn:
                left = limits.failed(conn, keys, limit, now)
            error = "The user name or the password is not right."
            if left == 0:
                error += (f" Signing in is now paused for {int(limits.WINDOW // 60)} minutes "
                          "for this user name and address.")
            elif left <= 2:
                error += (f" {left} more {'try' if left == 1 else 'tries'} before signing in "
                          f"is paused for {int(limits.WINDOW // 60)} minutes.")
            return render.page(request, None, "login.html", status=401, **again, error=error)

        with state.db.write() as conn:
            limits.succeeded(conn, name)
            audit.record(conn, now, f"user:{name}", "user.login", name, address=address)
        start_session(request, int(row["id"]))
        return RedirectResponse(target, status_code=303)

    @r.post("/logout")
    def logout(request: Request, form: Form) -> Response:
        user = signed_in(request)
        if user is not None:
            with hub(request).db.write() as conn:
                audit.record(conn, time.time(), user.actor, "user.logout", user.name)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    return r
