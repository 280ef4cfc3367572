"""Replay a recorded event log through the engine and compare the views.

The engine records every input that changed something (``input`` events,
ticks included, with the session id and seed filled in) and a digest of
every view it showed (``view`` events). Feeding the inputs again, each at its
recorded time, must give the same views in the same order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from showfloor.content.model import Exhibit
from showfloor.engine.clock import VirtualClock
from showfloor.engine.effects import Event, RecordEvent
from showfloor.engine.inputs import InputError, Started, from_json
from showfloor.engine.state import Engine
from showfloor.errors import ReplayError


@dataclass
class ReplayResult:
    """Views recorded and views replayed, as (scene, digest) pairs, in order."""

    expected: list[tuple[str, str]] = field(default_factory=list)
    got: list[tuple[str, str]] = field(default_factory=list)
    inputs: int = 0
    sessions: int = 0

    @property
    def ok(self) -> bool:
        return self.expected == self.got

    def first_difference(self) -> int | None:
        for i, (a, b) in enumerate(zip(self.expected, self.got, strict=False)):
            if a != b:
                return i
        if len(self.expected) != len(self.got):
            return min(len(self.expected), len(self.got))
        return None


def read_events(path: str | Path) -> Iterator[Event]:
    """Events from a JSON-lines file, with a plain error for a bad line."""
    p = Path(path)
    try:
        handle = p.open(encoding="utf-8")
    except OSError as err:
        raise ReplayError(f"{path}: cannot read: {err.strerror or err}") from err
    with handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield Event.from_json(json.loads(line))
            except (ValueError, KeyError, TypeError) as err:
                raise ReplayError(f"{path}:{n}: not an event line ({err})") from err


def replay(exhibit: Exhibit, events: Iterable[Event], media_length: Any = None) -> ReplayResult:
    """Feed the recorded inputs to a fresh engine; collect both view sequences."""
    evs = list(events)
    result = ReplayResult()
    if not evs:
        return result
    full = any(e.kind == "engine_started" for e in evs)
    first_input = next((i for i, e in enumerate(evs) if e.kind == "input"), len(evs))
    for i, e in enumerate(evs):
        if e.kind == "view" and (full or i > first_input):
            result.expected.append((str(e.data.get("scene")), str(e.data.get("digest"))))
    clock = VirtualClock(evs[0].t)

    def no_new(*_: Any) -> Any:
        raise ReplayError("the log has a 'start' input without its session id and seed")

    engine = Engine(exhibit, clock=clock, media_length=media_length, new_id=no_new,
                    new_seed=no_new)

    def collect(effects: list[Any]) -> None:
        for eff in effects:
            if isinstance(eff, RecordEvent) and eff.event.kind == "view":
                d = eff.event.data
                result.got.append((str(d["scene"]), str(d["digest"])))

    start = engine.start()
    if full:
        collect(start)
    for e in evs:
        if e.kind != "input":
            continue
        try:
            inp = from_json(e.data.get("input"))
        except InputError as err:
            raise ReplayError(f"event {e.seq}: {err}") from err
        clock.set(e.t)
        result.inputs += 1
        if isinstance(inp, Started) and inp.session is not None:
            result.sessions += 1  # (a touch that only dismissed a warning has no session)
        collect(engine.feed(inp))
    return result
