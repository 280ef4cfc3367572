"""A hub served from this process (uvicorn on loopback, in a thread or a fork), test
bundles, and a counting proxy.

Used by tests/hub/test_bundles.py, tests/station/test_fetch.py and
tests/station/test_fetch_crash.py (a hub in a forked process).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from showfloor.content import bundle
from showfloor.hub.app import create_app
from showfloor.hub.settings import HubSettings
from station._support import free_port

#: the files of the test exhibit: path -> size (the big one spans five 1 MiB chunks, and
#: the bundle is larger than the station API's 4 MiB body limit)
FILES = {"exhibit.yaml": 400, "media/big.bin": 4_300_000, "media/medium.bin": 300_000,
         "text/captions.txt": 1200}


def write_exhibit(root: Path, caption: str = "Welcome") -> Path:
    """The test exhibit's files (random bytes, seeded: the same every time)."""
    rng = random.Random(12)
    for name, size in FILES.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if name == "text/captions.txt":
            p.write_text((caption + "\n") * (size // (len(caption) + 1)))
        else:
            p.write_bytes(rng.randbytes(size))
    return root


def make_bundle(folder: Path, key: Any, version: str, caption: str = "Welcome",
                exhibit: str = "demo") -> Path:
    """Pack the test exhibit (with ``caption``) as ``exhibit`` ``version``."""
    src = write_exhibit(folder / f"src-{exhibit}-{version}-{caption[:8]}", caption)
    out = folder / f"{exhibit}-{version}-{caption[:8]}.showfloor"
    bundle.pack(src, exhibit, version, key, out)
    return out


@dataclass
class ServedHub:
    """A hub app on uvicorn in a thread of this process."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    app: Any

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def serve_hub(db_url: str, **settings: Any) -> ServedHub:
    app = create_app(HubSettings(db=db_url, **settings))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on",
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    return ServedHub(f"http://127.0.0.1:{port}", server, thread, app)


@dataclass
class ForkedHub:
    """A hub app on uvicorn in a forked copy of this process (see :func:`fork_hub`)."""

    url: str
    pid: int

    def stop(self) -> None:
        """SIGTERM (uvicorn stops gracefully), SIGKILL after 10 s."""
        try:
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while not os.waitpid(self.pid, os.WNOHANG)[0]:
                if time.monotonic() > deadline:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    return
                time.sleep(0.02)
        except (ChildProcessError, ProcessLookupError):
            pass  # gone already


def fork_hub(db_url: str, **settings: Any) -> ForkedHub:
    """A real hub process, started in well under a second: a fork of this one (its modules
    are imported already) serving the hub app on loopback; for tests that fork other
    processes themselves, which a hub in a thread of this process would make unsafe."""
    port = free_port()
    pid = os.fork()
    if pid == 0:  # the hub: never returns into pytest
        code = 0
        try:
            app = create_app(HubSettings(db=db_url, **settings))
            uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                          log_level="warning", lifespan="on",
                                          timeout_graceful_shutdown=1)).run()
        except BaseException:  # say why; the parent sees the hub not start
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    hub = ForkedHub(f"http://127.0.0.1:{port}", pid)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{hub.url}/healthz", timeout=5).status_code == 200:
                return hub
        except httpx.HTTPError:
            pass
        if os.waitpid(pid, os.WNOHANG)[0]:
            raise RuntimeError("the forked hub exited as it started (its error is above)")
        if time.monotonic() > deadline:
            hub.stop()
            raise RuntimeError("the forked hub did not start in 30 s")
        time.sleep(0.02)


@dataclass
class Proxy:
    """A TCP proxy in front of the hub: counts what it carries, can cut a download."""

    target: int
    #: cut the hub's answer on the first connection that carries an object after this
    #: many bytes (None: never)
    cut_after: int | None = None
    port: int = 0
    #: the head of every request, in order
    requests: list[str] = field(default_factory=list)
    #: bytes from the hub to the station
    down: int = 0
    cuts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def object_requests(self, sha: str) -> list[str]:
        return [r for r in self.requests if f"/objects/{sha}" in r.split("\r\n", 1)[0]]

    async def _pipe_up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                       state: dict[str, bool]) -> None:
        try:
            while data := await reader.read(65536):
                text = data.decode("latin-1")
                if text.startswith(("GET ", "POST ")):
                    self.requests.append(text.split("\r\n\r\n", 1)[0])
                    if " /api/v1/objects/" in text.split("\r\n", 1)[0]:
                        state["object"] = True
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
                      ) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target)
        state = {"object": False}
        task = asyncio.create_task(self._pipe_up(reader, up_writer, state))
        sent = 0
        try:
            while data := await up_reader.read(65536):
                if self.cut_after is not None and state["object"] and \
                        sent + len(data) > self.cut_after:
                    keep = self.cut_after - sent
                    writer.write(data[:keep])
                    self.down += keep
                    await writer.drain()
                    self.cut_after = None
                    self.cuts += 1
                    writer.transport.abort()
                    break
                writer.write(data)
                sent += len(data)
                self.down += len(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            task.cancel()
            up_writer.close()
            writer.close()


@asynccontextmanager
async def proxy(target: int, cut_after: int | None = None) -> AsyncIterator[Proxy]:
    p = Proxy(target, cut_after)
    server = await asyncio.start_server(p._handle, "127.0.0.1", 0)
    p.port = server.sockets[0].getsockname()[1]
    try:
        yield p
    finally:
        server.close()
