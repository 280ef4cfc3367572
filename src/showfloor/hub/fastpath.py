"""The heartbeat, served past the framework.

Heartbeats are most of a hub's requests (one per station every 5 s). Through
FastAPI each paid for routing, dependency solving and five layers of
middleware: about as much CPU as the signature check and the database work
together (py-spy under bench/hub_fleet.py). This ASGI wrapper answers a
well-formed ``POST /api/v1/station/heartbeat`` itself, with the same checks
and the same database work (:func:`showfloor.hub.api.station_call`,
:func:`~showfloor.hub.api.heartbeat_work`) and the same answer. Anything else
— another path, a query string, no or another content type, a body that is
too large, or one that does not parse or validate — goes to the app, which
words the refusal exactly as it always has.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showfloor import fleet
from showfloor.hub import api, auth
from showfloor.hub.state import HubState

PATH = f"{fleet.API}/station/heartbeat"


class HeartbeatFastPath:
    """Wraps the hub's app; answers heartbeats itself."""

    def __init__(self, app: ASGIApp, state: HubState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST"
                or scope.get("query_string") or scope.get("root_path")):
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        length = headers.get("content-length", "")
        if headers.get("content-type") != "application/json" or not length.isdigit() or \
                int(length) > fleet.MAX_BODY:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            hb = fleet.Heartbeat.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            await self.app(scope, _replay(body, receive), send)
            return

        def run() -> bytes:
            return api.station_call(self.state, "POST", PATH, headers, body,
                                    api.heartbeat_work(self.state, hb))
        try:
            out = run() if self.state.db.sqlite else await run_in_threadpool(run)
            status = 200
        except auth.AuthError as err:
            out, status = orjson.dumps({"detail": err.reason}), err.status
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-length", str(len(out)).encode()),
            (b"content-type", b"application/json"),
            (fleet.H_TIME.lower().encode(), f"{time.time():.3f}".encode())]})
        await send({"type": "http.response.body", "body": out})


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then whatever comes next."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            message: dict[str, Any] = {"type": "http.request", "body": body,
                                       "more_body": False}
            return message
        return await receive()
    return again
