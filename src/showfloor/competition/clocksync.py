"""How far a surface's clock is from the station's: NTP's four timestamps, min-delay filter.

A page sends ``t0`` (its clock); the station stamps ``t1`` when the message arrives
and ``t2`` when it answers (its clock); the page stamps ``t3`` when the answer
arrives. Then (RFC 5905, section 8)::

    offset = ((t1 - t0) + (t2 - t3)) / 2      # station clock - page clock
    delay  = (t3 - t0) - (t2 - t1)            # the round trip, less the station's time

The offset of one exchange is wrong by at most half of its delay (all of the
asymmetry of the two directions). Exchanges delayed by queues or jitter are the
least trustworthy, so the estimate keeps the last ``keep`` samples and trusts the
ones with the smallest delay — NTP's clock filter — and, since even the fastest
exchange is lopsided by its own bit of jitter, averages the offsets of the
``fast`` fastest of them whose delay is within :data:`MARGIN` of the smallest
(an exchange held up in a queue is never among them). Against a real station
(bench/competition.py, 40 players behind 0–300 ms links with jitter), the mean of
the 4 fastest took the 99th percentile of a page's error from 3.3 to 2.5 ms.

The renderer does the same in JavaScript (renderer/web/competition/ when it lands);
this module is the reference, used by the station's simulated players and the tests.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

#: exchanges slower than the fastest by more than this are not averaged in (seconds)
MARGIN = 0.010


@dataclass(frozen=True, slots=True)
class Sample:
    offset: float
    delay: float


def sample(t0: float, t1: float, t2: float, t3: float) -> Sample:
    """One exchange's offset (station − surface) and round-trip delay, in seconds."""
    return Sample(((t1 - t0) + (t2 - t3)) / 2, max(0.0, (t3 - t0) - (t2 - t1)))


class ClockSync:
    """The running estimate of one surface's offset to the station."""

    def __init__(self, keep: int = 8, enough: int = 4, fast: int = 4) -> None:
        self._samples: deque[Sample] = deque(maxlen=keep)
        self.enough = enough
        self.fast = fast

    def add(self, t0: float, t1: float, t2: float, t3: float) -> Sample:
        s = sample(t0, t1, t2, t3)
        self._samples.append(s)
        return s

    @property
    def ready(self) -> bool:
        """Enough exchanges to trust the estimate."""
        return len(self._samples) >= self.enough

    def best(self) -> Sample | None:
        return min(self._samples, key=lambda s: s.delay, default=None)

    def trusted(self) -> list[Sample]:
        """The ``fast`` exchanges with the smallest delays, less any :data:`MARGIN`
        slower than the fastest (fastest first; empty before the first exchange)."""
        fastest = sorted(self._samples, key=lambda s: s.delay)[:self.fast]
        return [s for s in fastest if s.delay <= fastest[0].delay + MARGIN]

    @property
    def offset(self) -> float:
        """Station clock − surface clock, in seconds (0 until the first exchange)."""
        used = self.trusted()
        return sum(s.offset for s in used) / len(used) if used else 0.0

    @property
    def error(self) -> float:
        """How wrong :attr:`offset` can be at most: half the largest delay averaged in
        (each exchange's offset is within half its delay of the truth, so their mean is)."""
        used = self.trusted()
        return used[-1].delay / 2 if used else float("inf")

    @property
    def delay(self) -> float:
        """The smallest round trip seen (a bound on one direction's delay, for answers)."""
        b = self.best()
        return b.delay if b is not None else 0.0

    def to_local(self, station_t: float) -> float:
        """A station time on the surface's clock (when to reveal, when time is up)."""
        return station_t - self.offset

    def to_station(self, local_t: float) -> float:
        return local_t + self.offset
