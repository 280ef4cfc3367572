"""The hub's ASGI app: the station API, the dashboard, the OpenAPI description."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showfloor import __version__, fleet
from showfloor.hub import api, bundle_api, bundles, retention, rollouts, summaries
from showfloor.hub import db as t
from showfloor.hub.settings import HubSettings
from showfloor.hub.state import HubState

#: the hub's icon: the same drawing as the station page's
FAVICON = Path(__file__).resolve().parent.parent / "renderer" / "web" / "favicon.svg"


class _HubTime:
    """Every answer says the hub's time; bodies over the limit are refused (413)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # a bundle upload streams to a file under its own, larger limit
        limited = scope["path"] not in bundles.UPLOAD_PATHS
        for name, value in scope.get("headers", ()):
            if limited and name == b"content-length" and value.isdigit() and \
                    int(value) > fleet.MAX_BODY:
                resp = JSONResponse({"detail": f"a request body may have at most "
                                     f"{fleet.MAX_BODY} bytes"}, status_code=413)
                await resp(scope, receive, send)
                return

        async def send_time(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((fleet.H_TIME.lower().encode(), f"{time.time():.3f}".encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_time)


def _where(loc: tuple[Any, ...], body: Any) -> str:
    """'events[12] (id 'abc-e5'): kind' from a validation error's location."""
    parts = [p for p in loc if p != "body"]
    out = ""
    node = body
    for i, p in enumerate(parts):
        if isinstance(p, int):
            out += f"[{p}]"
            node = node[p] if isinstance(node, list) and p < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str) and i < len(parts):
                out += f" (id '{node['id'][:64]}')"
        else:
            out += ("." if out else "") + str(p)
            node = node.get(p) if isinstance(node, dict) else None
    return out or "the body"


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = exc.body
    problems = []
    for e in exc.errors()[:20]:
        where = _where(tuple(e.get("loc", ())), body)
        problems.append({"where": where, "reason": str(e.get("msg", "not valid"))})
    first = problems[0] if problems else {"where": "the request", "reason": "not valid"}
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return JSONResponse(status_code=400, content={
        "detail": f"{first['where']}: {first['reason']}{more}; nothing was stored",
        "problems": problems})


def create_app(settings: HubSettings | None = None, *, migrate: bool = True) -> FastAPI:
    """A hub on the database named in ``settings`` (migrated to the newest schema)."""
    cfg = settings or HubSettings.from_env()
    db = t.Database(cfg.db)
    state = HubState(cfg, db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.start()
        try:
            # every hub process advances rollouts, summarises visits and (one a day)
            # purges old events
            async with rollouts.running(state), summaries.running(state), \
                    retention.running(state):
                yield
        finally:
            await state.stop()

    rollouts.load_key(cfg.rollback_key)  # a wrong rollback_key stops the hub at start
    db.check()
    if migrate:
        t.upgrade(db)
    state.load_secret()

    app = FastAPI(title="showfloor hub", version=__version__, lifespan=lifespan,
                  description="Enrols exhibit stations, watches them, sends them commands "
                  "and keeps their events. Station routes are signed with the station's "
                  "Ed25519 key (see docs/hub.md).")
    app.state.hub = state
    app.add_exception_handler(RequestValidationError, _invalid)
    app.include_router(api.router(state))
    app.include_router(bundle_api.router(state))

    @app.get("/healthz", tags=["hub"])
    def healthz() -> dict[str, Any]:
        """The hub is up and its database answers."""
        with db.read() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"ok": True, "version": __version__, "time": time.time(),
                "backend": db.url.get_backend_name()}

    @app.get("/favicon.ico", include_in_schema=False)
    @app.get("/favicon.svg", include_in_schema=False)
    def favicon() -> FileResponse:
        """showfloor's mark (the station page's): browsers ask for it on every page."""
        return FileResponse(FAVICON, media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})

    try:
        from showfloor.hub.dashboard import mount
    except ImportError:
        pass
    else:
        mount(app, state)
    app.add_middleware(_HubTime)
    return app
