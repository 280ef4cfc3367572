"""The hub's dashboard: server-rendered pages for operators, on the hub's own app.

Pages (not in the OpenAPI description): ``/login``, ``/logout``, ``/`` (halls →
stations, live), ``/stations/{id}`` (and its raw ``/events``), ``/codes``,
``/halls/{id}``, ``/audit``, ``/users``, ``/rollouts`` (bundles and rollouts, see
:mod:`.rollouts`), ``/reports`` and ``/reports/monthly`` (see :mod:`.reports`),
``/reports/export/TABLE.csv|parquet`` (downloads, see :mod:`.exports`),
``/stores`` (what the hub stores, see :mod:`.stores`), ``/competitions`` (every
competition per hall with its board, see :mod:`.competitions`), ``/finals`` (competition
finals across halls, see :mod:`.finals`). One JSON route,
``/dashboard/api/fleet``, feeds the halls page's live updates. Roles, sessions and
CSRF: see :mod:`.security` and docs/dashboard.md.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from showfloor.hub.dashboard import (
    competitions,
    devices,
    exports,
    finals,
    login,
    manage,
    render,
    reports,
    rollouts,
    stations,
    stores,
)
from showfloor.hub.dashboard.security import STATIC_URL, DashboardGuard, GoTo, Refusal
from showfloor.hub.state import HubState

STATIC = Path(__file__).resolve().parent / "static"

__all__ = ["mount"]


def mount(app: FastAPI, state: HubState) -> None:
    """Add the dashboard to a hub app (``state.secret`` must be loaded)."""
    if not state.secret:
        raise RuntimeError("the hub's session secret is not loaded; call state.load_secret()")
    app.add_middleware(DashboardGuard, secret=state.secret)
    app.add_exception_handler(Refusal, render.refusal)
    app.add_exception_handler(GoTo, render.refusal)
    reports.mount_vendor(app)  # under STATIC_URL, so before it
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="dashboard-static")
    app.include_router(login.router())
    app.include_router(stations.router())
    app.include_router(stations.api_router())
    app.include_router(manage.router())
    app.include_router(devices.router())
    app.include_router(rollouts.router())
    app.include_router(finals.router())
    app.include_router(competitions.router())
    app.include_router(reports.router())
    app.include_router(exports.router())
    app.include_router(stores.router())
