"""Clocks the engine can be given: the real monotonic one, or a virtual one."""

from __future__ import annotations

import time
from collections.abc import Callable

#: A clock is any callable returning seconds that never go backwards.
Clock = Callable[[], float]


def monotonic() -> float:
    """The station's clock: monotonic seconds (immune to wall-clock jumps)."""
    return time.monotonic()


class VirtualClock:
    """A clock that moves only when told to: for simulation, replay and tests."""

    __slots__ = ("now",)

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def set(self, now: float) -> None:
        self.now = max(self.now, now)
