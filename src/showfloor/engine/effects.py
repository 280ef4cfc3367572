"""Effects: what the engine asks the world to do. The engine itself does no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """A recorded event. ``seq`` counts every event of an engine; ``t`` is engine time.

    ``session`` is the anonymous session id (None outside a visit); ``data``
    holds ids and numbers only — never names or free text.
    """

    seq: int
    t: float
    kind: str
    session: str | None
    scene: str | None
    data: Mapping[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "t": round(self.t, 6), "kind": self.kind,
                "session": self.session, "scene": self.scene, "data": dict(self.data)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Event:
        return cls(int(d["seq"]), float(d["t"]), str(d["kind"]), d.get("session"),
                   d.get("scene"), dict(d.get("data") or {}))


@dataclass(frozen=True, slots=True)
class ShowView:
    """Draw this view on every surface (each surface draws what its role asks)."""

    view: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SendCue:
    """A show-control cue for drivers: lights, sound, a ``reset`` of every surface."""

    name: str
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Write this event to the station's log."""

    event: Event


@dataclass(frozen=True, slots=True)
class Rejected:
    """The input did not apply now (a stale answer, an unknown choice); nothing changed."""

    input_type: str
    reason: str


Effect = ShowView | SendCue | RecordEvent | Rejected
