"""A minimal driver Host for driver tests: records what a driver reports."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable

from showfloor.drivers.base import DeviceEvent


class RecordingHost:
    """Keeps every event, state change and malformed report, in order."""

    def __init__(self) -> None:
        self.events: list[DeviceEvent] = []
        self.states: list[tuple[bool, str | None]] = []
        self.malformed_reports: list[str] = []

    def received(self, event: DeviceEvent) -> None:
        self.events.append(event)

    def state(self, *, connected: bool, problem: str | None = None) -> None:
        self.states.append((connected, problem))

    def malformed(self, what: str) -> None:
        self.malformed_reports.append(what)

    def clock(self) -> float:
        return time.monotonic()

    @property
    def values(self) -> list[object]:
        return [event.value for event in self.events]

    @property
    def connected(self) -> bool:
        return bool(self.states) and self.states[-1][0]

    async def until(self, condition: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
        """Poll ``condition`` every 5 ms; fail naming ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}: events={self.values} states={self.states}"
                    f" malformed={self.malformed_reports}"
                )
            await asyncio.sleep(0.005)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port nobody listens on right now (TCP by default, UDP with SOCK_DGRAM)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
