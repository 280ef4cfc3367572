"""systemd's notification protocol (``sd_notify``): READY, STOPPING and the watchdog.

Under a unit with ``Type=notify`` and ``WatchdogSec=``, systemd sets
``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``; the station says ``READY=1`` once it
serves, ``WATCHDOG=1`` from its tick loop at half the watchdog interval (as
``sd_watchdog_enabled(3)`` advises), so a hung loop gets the station restarted,
and ``STOPPING=1`` when it begins to stop. Elsewhere this does nothing.

The other end is here too: :class:`NotifySocket` is what ``showfloor hall``
listens on for each station it runs, the way systemd does for a service.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

#: how often to feed the watchdog (s) when systemd does not say (no ``WATCHDOG_USEC``)
DEFAULT_PING = 5.0
#: the shortest ping period honoured (s): the tick loop turns every 0.1 s
MIN_PING = 0.1
_CREDS = struct.Struct("3i")  # struct ucred: pid, uid, gid


def notify(message: str) -> bool:
    """Send one notification; False when not running under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def ping_period(env: Mapping[str, str] | None = None, pid: int | None = None) -> float | None:
    """Seconds between two ``WATCHDOG=1``: half of ``$WATCHDOG_USEC``.

    :data:`DEFAULT_PING` when ``WATCHDOG_USEC`` is unset or not a positive whole
    number; None when ``WATCHDOG_PID`` names another process (the watchdog is
    that process's to feed, not ours).
    """
    env = os.environ if env is None else env
    owner = env.get("WATCHDOG_PID", "").strip()
    if owner and owner != str(os.getpid() if pid is None else pid):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return DEFAULT_PING
    if usec <= 0:
        return DEFAULT_PING
    return max(MIN_PING, usec / 2e6)


class Watchdog:
    """Feeds the watchdog from a loop: :meth:`feed` on every turn sends
    ``WATCHDOG=1`` once a period has passed since the last one."""

    def __init__(self, period: float | None, *, send: Callable[[str], object] = notify,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.period = period
        self._send = send
        self._clock = clock
        self._last = -math.inf

    @classmethod
    def from_env(cls) -> Watchdog:
        return cls(ping_period())

    def feed(self) -> bool:
        """Ping if due; True when it did."""
        if self.period is None:
            return False
        now = self._clock()
        if now - self._last < self.period:
            return False
        self._last = now
        self._send("WATCHDOG=1")
        return True


# -- the listening end (what systemd does; ``showfloor hall`` for its stations) -------

@dataclass(frozen=True)
class Notice:
    """One datagram: its ``KEY=VALUE`` lines, and the sender's pid when the kernel said."""

    fields: dict[str, str]
    pid: int | None


def parse(data: bytes) -> dict[str, str]:
    """``KEY=VALUE`` lines, as sd_notify sends them; lines without ``=`` are skipped."""
    out: dict[str, str] = {}
    for line in data.decode("utf-8", "replace").split("\n"):
        key, sep, value = line.partition("=")
        if sep and key:
            out[key] = value
    return out


class NotifySocket:
    """A datagram socket a service's ``NOTIFY_SOCKET`` names, read without blocking.

    ``SO_PASSCRED`` makes the kernel attach the sender's pid to each datagram, so
    the reader can keep only its child's own messages (systemd's
    ``NotifyAccess=main``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            with contextlib.suppress(AttributeError, OSError):
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
            self.sock.bind(str(path))
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise

    def fileno(self) -> int:
        return self.sock.fileno()

    def receive(self) -> list[Notice]:
        """Every datagram waiting now (none: an empty list)."""
        out: list[Notice] = []
        space = socket.CMSG_SPACE(_CREDS.size)
        while True:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(4096, space)
            except (BlockingIOError, InterruptedError):
                return out
            pid = None
            for level, kind, cdata in anc:
                if (level == socket.SOL_SOCKET and kind == getattr(socket, "SCM_CREDENTIALS", -1)
                        and len(cdata) >= _CREDS.size):
                    pid = _CREDS.unpack(cdata[:_CREDS.size])[0]
            out.append(Notice(parse(data), pid))

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
