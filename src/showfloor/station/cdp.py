"""A small client for Chromium's DevTools protocol over ``--remote-debugging-pipe``.

Chromium reads commands from its fd 3 and writes replies and events to its fd 4,
each message one JSON object followed by a NUL byte. No TCP port is opened: only
the process that started the browser holds the other ends of the pipes, so no
page and no other local user can reach the protocol.

Sessions are "flattened": a command for a page carries its ``sessionId`` (from
``Target.attachToTarget(flatten=true)`` or auto-attach) on the same pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Callable
from typing import Any

from showfloor.errors import ShowfloorError

#: ``callback(params, session_id)`` for one event method.
Handler = Callable[[dict[str, Any], "str | None"], None]


BASH = shutil.which("bash") or "/bin/bash"


class CDPError(ShowfloorError):
    """The browser answered a command with an error, did not answer, or went away."""


class CDPTimeout(CDPError):
    """No answer within the time given."""


class Pipes:
    """The two pipes for one browser, handed to it as its fds 3 and 4."""

    def __init__(self) -> None:
        self.to_browser_r, self.to_browser_w = os.pipe()  # the browser reads fd 3
        self.from_browser_r, self.from_browser_w = os.pipe()  # the browser writes fd 4
        self.to_browser_r = self._high(self.to_browser_r)
        self.from_browser_w = self._high(self.from_browser_w)

    def command(self, args: list[str]) -> tuple[list[str], tuple[int, int]]:
        """``args`` run with the pipes on fds 3 and 4, and the fds to pass to it.

        (bash moves them into place: the child needs fixed fd numbers, which
        ``subprocess`` cannot give without an unsafe ``preexec_fn``; dash takes no fd
        number over 9.)"""
        r, w = self.to_browser_r, self.from_browser_w
        script = f'exec 3<&{r} 4>&{w} {r}<&- {w}>&-; exec "$0" "$@"'
        return [BASH, "-c", script, *args], (r, w)

    @staticmethod
    def _high(fd: int) -> int:
        """``fd`` moved to a number of 10 or more, so that it cannot be 3 or 4 itself."""
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(fd)
        return high

    def close_child_ends(self) -> None:
        for fd in (self.to_browser_r, self.from_browser_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def close(self) -> None:
        """Close every end; only for pipes never handed to a :class:`CDP`."""
        self.close_child_ends()
        for fd in (self.to_browser_w, self.from_browser_r):
            with contextlib.suppress(OSError):
                os.close(fd)


class CDP:
    """One DevTools connection: commands answered by id, events to handlers."""

    def __init__(self, read_fd: int, write_fd: int) -> None:
        self._read_fd = read_fd
        self._write_fd = write_fd
        self._next_id = 0
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._handlers: dict[str, list[Handler]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._writer: asyncio.WriteTransport | None = None
        self._read_transport: asyncio.ReadTransport | None = None
        self.closed = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
        self._read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader),
            os.fdopen(self._read_fd, "rb", buffering=0))
        transport, _ = await loop.connect_write_pipe(asyncio.Protocol,
                                                     os.fdopen(self._write_fd, "wb", buffering=0))
        self._writer = transport
        self._reader = asyncio.create_task(self._read(reader))

    def on(self, method: str, handler: Handler) -> None:
        self._handlers.setdefault(method, []).append(handler)

    async def send(self, method: str, params: dict[str, Any] | None = None, *,
                   session: str | None = None, timeout: float = 5) -> dict[str, Any]:
        """Send one command and wait for its result (raises CDPError / CDPTimeout)."""
        if self.closed.is_set() or self._writer is None or self._writer.is_closing():
            raise CDPError("the browser's DevTools pipe is closed")
        self._next_id += 1
        msg_id = self._next_id
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = fut
        self._writer.write(json.dumps(msg).encode() + b"\0")
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise CDPTimeout(f"{method} got no answer in {timeout:g} s") from None
        finally:
            self._pending.pop(msg_id, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\0")
                except asyncio.IncompleteReadError:
                    return
                self._dispatch(json.loads(raw[:-1]))
        except (OSError, ValueError, asyncio.LimitOverrunError):
            return
        finally:
            self.closed.set()
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(CDPError("the browser closed its DevTools pipe"))

    def _dispatch(self, msg: dict[str, Any]) -> None:
        if "id" in msg:
            fut = self._pending.get(msg["id"])
            if fut is None or fut.done():
                return
            if "error" in msg:
                err = msg["error"]
                fut.set_exception(CDPError(f"{err.get('message', err)}"))
            else:
                fut.set_result(dict(msg.get("result") or {}))
            return
        for handler in self._handlers.get(msg.get("method", ""), ()):
            handler(dict(msg.get("params") or {}), msg.get("sessionId"))

    def close(self) -> None:
        """Close both pipes (they are this connection's from ``start()`` on)."""
        if self._writer is not None:
            self._writer.close()
        if self._read_transport is not None:
            self._read_transport.close()
        if self._reader is not None:
            self._reader.cancel()
