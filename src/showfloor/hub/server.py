"""Start a hub on a port: check the database, migrate it, serve."""

from __future__ import annotations

import contextlib

import uvicorn

from showfloor.hub.app import create_app
from showfloor.hub.settings import HubSettings
from showfloor.net import bind

DEFAULT_PORT = 8800


def serve(settings: HubSettings, *, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
          log_level: str = "warning") -> None:
    """Run a hub until interrupted."""
    sock = bind(host, port)
    app = create_app(settings)
    shown = "localhost" if host in ("127.0.0.1", "::1", "0.0.0.0") else host
    backend = app.state.hub.db.url.get_backend_name()
    print(f"showfloor hub on {backend}: dashboard http://{shown}:{port}/ — station API "
          f"http://{shown}:{port}/api/v1 — OpenAPI http://{shown}:{port}/docs", flush=True)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", timeout_keep_alive=75,
                            loop="uvloop", http="httptools",
                            timeout_graceful_shutdown=3, backlog=2048,
                            limit_concurrency=10000)
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run(sockets=[sock])
