"""Hand-made visits, stored through the hub's real ingest (``hub/ingest.store_events``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from showfloor import fleet
from showfloor.hub import db as t
from showfloor.hub import enrolment, ingest

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> float:
    """A wall time given in the hall's time zone (Asia/Shanghai, UTC+8)."""
    return dt.datetime(y, mo, d, h, mi, tzinfo=SHANGHAI).timestamp()


def setup_hall(db: t.Database, station: str = "s1", enrolled: float | None = None) -> None:
    with db.write() as conn:
        enrolment.ensure_hall(conn, 0.0, "Hall one", hall_id="h1", timezone="Asia/Shanghai",
                              opening_hours={"daily": "09:00-17:00"})
        conn.execute(insert(t.stations).values(
            id=station, hall_id="h1", name=station, profile="touch", public_key="k" * 43,
            enrolled=enrolled if enrolled is not None else local(2026, 10, 1, 8)))


@dataclass
class Boot:
    """One station process: events numbered in order, as the station's store does."""

    boot: str
    seq: int = 0
    clock: float = 0.0
    out: list[dict[str, Any]] = field(default_factory=list)

    def event(self, kind: str, wall: float, /, *, session: str | None = None,
              scene: str | None = None, source: str = "engine", **data: Any) -> dict[str, Any]:
        self.seq += 1
        self.clock += 1
        e = {"id": f"{self.boot}-{source[0]}{self.seq}", "boot": self.boot, "source": source,
             "seq": self.seq, "t": self.clock, "wall": wall, "kind": kind,
             "session": session, "scene": scene, "data": data}
        self.out.append(e)
        return e

    def started(self, wall: float, exhibit: str = "demo", version: str = "1.0") -> None:
        self.event("engine_started", wall, exhibit=exhibit, version=version, protocol=1)

    def visit(self, session: str, wall: float, *, lang: str, scenes: list[str],
              answers: dict[str, list[tuple[str, list[str], bool]]] | None = None,
              measure: str = "m", reason: str = "timeout", dwell: float = 60.0,
              maxes: dict[str, int] | None = None) -> None:
        """A visit: scenes in order; answers per quiz scene: (question, choices, right)."""
        answers = answers or {}
        self.event("session_started", wall, session=session, scene=scenes[0], lang=lang)
        w = wall
        for sc in scenes:
            w += 1
            self.event("scene_entered", w, session=session, scene=sc)
            if sc in answers:
                role = {"pre": "pre", "post": "post"}.get(sc)
                extra = {"role": role, "measure": measure} if role else {}
                score = 0
                for pos, (q, choices, right) in enumerate(answers[sc], 1):
                    self.event("answered", w, session=session, scene=sc, question=q,
                               kind="single", choices=choices, correct=right,
                               points=int(right), timed_out=False, position=pos, **extra)
                    score += int(right)
                mx = (maxes or {}).get(sc, len(answers[sc]))
                self.event("quiz_completed", w, session=session, scene=sc, score=score,
                           max=mx, correct=score, count=len(answers[sc]),
                           percent=100 * score // mx, passed=score == mx, **extra)
        if reason == "completed":
            self.event("ending_shown", w, session=session, scene=scenes[-1], message=0)
        self.event("session_ended", wall + dwell, session=session, scene=scenes[-1],
                   reason=reason, duration=dwell, scenes=len(scenes))


def store(db: t.Database, station: str, events: list[dict[str, Any]], now: float) -> int:
    """Through the hub's own ingest function, as a station's batch upload arrives."""
    batch = fleet.EventBatch.model_validate({"events": events})
    with db.write() as conn:
        stored, _dup = ingest.store_events(conn, station, batch, now)
    return stored
