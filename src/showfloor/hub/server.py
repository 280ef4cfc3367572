"""Start a hub on a port: check the database, migrate it, serve."""

from __future__ import annotations

import contextlib
import gc
import socket

import uvicorn

from showfloor.hub.app import create_app
from showfloor.hub.fastpath import HeartbeatFastPath
from showfloor.hub.settings import HubSettings
from showfloor.hub.state import HubState
from showfloor.net import bind

DEFAULT_PORT = 8800
#: how often the hub runs CPython's full (oldest-generation) garbage collection itself
FULL_GC_SECONDS = 600.0


def quiet_gc() -> None:
    """Keep CPython's full garbage collections off the request path.

    Every held long poll is a few hundred live objects (connection, request, task,
    timers), so 2,000 stations are ~400,000 objects, and each automatic full
    collection walked them all: 100-250 ms with the event loop stopped, every few
    seconds while polls came and went (bench/hub_fleet.py: heartbeat p99 224 ms at
    2,000 stations). The objects made at start are frozen out of collection, the
    young generations still run as usual, and the full one runs on the hub's own
    schedule (:data:`FULL_GC_SECONDS`), one pause every ten minutes.
    """
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1_000_000)  # the oldest: never by itself


class HubServer(uvicorn.Server):
    """uvicorn, answering the stations' long polls as soon as it is told to stop.

    uvicorn waits for every open request before it stops; a held poll would
    keep it waiting until its graceful timeout, then be cancelled with a
    traceback ("Cancel N running task(s)"). Answered at once (no commands),
    the polls finish and Ctrl+C stops the hub in a moment, quietly.
    """

    def __init__(self, config: uvicorn.Config, state: HubState) -> None:
        super().__init__(config)
        self.hub = state

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.hub.notifier.close()
        await super().shutdown(sockets)


def serve(settings: HubSettings, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          log_level: str = "warning") -> None:
    """Run a hub until interrupted."""
    sock = bind(host, port)
    app = create_app(settings)
    quiet_gc()
    app.state.hub.full_gc_seconds = FULL_GC_SECONDS
    shown = "localhost" if host in ("127.0.0.1", "::1", "0.0.0.0") else host
    backend = app.state.hub.db.url.get_backend_name()
    print(f"showfloor hub on {backend}: dashboard http://{shown}:{port}/ — station API "
          f"http://{shown}:{port}/api/v1 — OpenAPI http://{shown}:{port}/docs", flush=True)
    # lifespan: uvicorn sends it through the wrapper to the app underneath
    config = uvicorn.Config(HeartbeatFastPath(app, app.state.hub), log_level=log_level,
                            lifespan="on", timeout_keep_alive=75,
                            loop="uvloop", http="httptools",
                            timeout_graceful_shutdown=3, backlog=2048,
                            limit_concurrency=10000)
    server = HubServer(config, app.state.hub)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
