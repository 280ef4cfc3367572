"""Competition finals across halls: scheduled here, played in each hall, scored here.

An operator schedules a final (its halls, the competition, a start on the hub's
clock) from the dashboard; :func:`create` checks it, keeps it in the ``finals``
table and queues a ``final`` command to each hall's host stations (the stations
whose heartbeat names that competition). Each hall then plays on its own on a
fixed schedule — question ``i`` is revealed at ``start + i × (seconds + gap)`` —
and its events come back store-and-forward like every other event.

The combined board is :func:`combined`, a pure function of the final's
``question_closed`` events that have arrived (each carries its hall's standings)
and the time: per hall and team the latest standings, each hall's rounds marked
``on time``, ``late`` (it arrived more than :data:`LATE_AFTER` seconds after that
round's scheduled close), ``missing`` (not arrived by then) or ``to come``.
docs/competition.md, "A final across halls".
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from showfloor.errors import ConfigError
from showfloor.hub import audit
from showfloor.hub import commands as cmds
from showfloor.hub import db as t

#: a round whose results arrive more than this many seconds after its scheduled close is
#: late; one not arrived by then is missing
LATE_AFTER = 10.0
#: seconds between one question's close and the next one's reveal, unless chosen
GAP = 5.0
#: the furthest ahead a final can be scheduled
MAX_AHEAD = 90 * 86400.0
#: a final's command waits this long after its start for a station that is offline
COMMAND_AFTER_START = 1800.0
ROUND_WORDS = ("on time", "late", "missing", "to come")


# -- the board (pure) ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Closed:
    """One hall's ``question_closed`` of the final, as the hub received it."""

    hall: str
    n: int
    board: tuple[Mapping[str, Any], ...]  # [{team, name, points, right}], the hall's own
    received: float


@dataclass(frozen=True, slots=True)
class Plan:
    """The final's schedule: hub times; ``seconds``/``count`` as a hall reported them
    (``final_opened``); None while no hall's report has arrived."""

    start: float
    gap: float
    seconds: float | None
    count: int | None

    def due(self, n: int) -> float:
        """When round ``n`` is scheduled to close (hub time)."""
        assert self.seconds is not None
        return self.start + n * (self.seconds + self.gap) + self.seconds


def combined(plan: Plan, halls: Sequence[tuple[str, str]], closed: Iterable[Closed],
             now: float, late_after: float = LATE_AFTER) -> dict[str, Any]:
    """The combined board of a final at hub time ``now``.

    ``halls`` are (id, name) in the final's order. A round counts once whatever
    arrives twice (the first arrival is kept). Teams are ranked by points, then right
    answers, then hall id, then team id — the same order on every reading.
    """
    names = dict(halls)
    got: dict[tuple[str, int], Closed] = {}
    for c in closed:
        if c.hall not in names or c.n < 0:
            continue
        old = got.get((c.hall, c.n))
        if old is None or c.received < old.received:
            got[(c.hall, c.n)] = c
    count = plan.count if plan.count is not None and plan.seconds is not None else 0
    hall_rows: list[dict[str, Any]] = []
    teams: list[dict[str, Any]] = []
    for hid, hname in halls:
        mine = sorted((c for (h, _), c in got.items() if h == hid), key=lambda c: c.n)
        rounds = []
        for n in range(max(count, max((c.n + 1 for c in mine), default=0))):
            came = got.get((hid, n))
            due = plan.due(n) if plan.seconds is not None else None
            if came is not None:
                state = "late" if due is not None and came.received > due + late_after \
                    else "on time"
            else:
                state = "missing" if due is not None and now > due + late_after \
                    else "to come"
            rounds.append({"n": n, "due": due, "state": state,
                           "received": came.received if came is not None else None})
        tally = {w: sum(1 for r in rounds if r["state"] == w) for w in ROUND_WORDS}
        hall_rows.append({"hall": hid, "name": hname, "rounds": rounds, "in": len(mine),
                          **{w.replace(" ", "_"): k for w, k in tally.items()}})
        if mine:
            for row in mine[-1].board:
                teams.append({"hall": hid, "hall_name": hname, "team": str(row["team"]),
                              "name": str(row.get("name", row["team"])),
                              "points": int(row.get("points", 0)),
                              "right": int(row.get("right", 0)), "rounds": len(mine)})
    teams.sort(key=lambda r: (-r["points"], -r["right"], r["hall"], r["team"]))
    for i, row in enumerate(teams):
        row["rank"] = i + 1
    last = plan.due(count - 1) if count and plan.seconds is not None else None
    everything_in = bool(count) and all(h["in"] >= count for h in hall_rows)
    over = everything_in or (last is not None and now > last + late_after)
    return {"halls": hall_rows, "teams": teams, "count": count, "over": over,
            "started": now >= plan.start}


# -- the store -----------------------------------------------------------------------


def parse_start(text: str, zone: str, now: float) -> float:
    """A start as the form gives it (``2026-12-04T18:30`` in ``zone``, or with an offset)."""
    raw = text.strip()
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"'{raw[:40]}' is not a date and time; give one such as "
                          "2026-12-04T18:30") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    start = when.timestamp()
    if start <= now:
        shown = dt.datetime.fromtimestamp(now, zoneinfo.ZoneInfo(zone)).strftime("%H:%M:%S")
        raise ConfigError(f"the start {raw[:40]} is in the past (it is {shown} {zone} on "
                          "the hub's clock); pick a later time")
    if start > now + MAX_AHEAD:
        raise ConfigError("a final can be scheduled at most 90 days ahead")
    return start


def hosts(conn: Connection, hall_id: str, competition: str) -> list[dict[str, Any]]:
    """The hall's stations that host ``competition`` (their last heartbeat says so)."""
    s = t.stations.c
    rows = conn.execute(select(s.id, s.name, s.heartbeat).where(s.hall_id == hall_id)
                        .where(s.revoked.is_(None)).order_by(s.id)).mappings().all()
    return [dict(r) for r in rows
            if isinstance(r["heartbeat"], dict) and r["heartbeat"].get("competition")
            == competition]


def create(conn: Connection, now: float, *, name: str, competition: str,
           halls: Sequence[str], start: float, gap: float, actor: str,
           ttl_after: float = COMMAND_AFTER_START) -> tuple[int, list[str]]:
    """Schedule a final; (its id, the stations sent a command). Raises
    :class:`ConfigError` with a sentence for anything wrong."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ConfigError("give the final a name (at most 200 characters)")
    competition = competition.strip()
    if not competition:
        raise ConfigError("give the competition's id, such as class-quiz (the exhibit's "
                          "competitions: block)")
    chosen = list(dict.fromkeys(h for h in halls if h))
    if not chosen:
        raise ConfigError("choose at least one hall")
    if not math.isfinite(gap) or not 0 <= gap <= 600:
        raise ConfigError("the gap between questions is 0 to 600 seconds")
    if not math.isfinite(start) or start <= now:
        raise ConfigError("the start is in the past; pick a later time")
    known = {str(r[0]): str(r[1]) for r in conn.execute(select(t.halls.c.id, t.halls.c.name))}
    for h in chosen:
        if h not in known:
            raise ConfigError(f"there is no hall '{h[:64]}' on this hub")
    per_hall = {h: hosts(conn, h, competition) for h in chosen}
    if not any(per_hall.values()):
        raise ConfigError(f"no station of these halls hosts a competition '{competition[:64]}'"
                          " (a host station names its competition in its heartbeat); check "
                          "the id against the exhibit's competitions:")
    for h, found in per_hall.items():
        if not found:
            raise ConfigError(f"the hall '{known[h]}' has no station that hosts "
                              f"'{competition[:64]}'; leave it out or start its host station")
    first = next(iter(per_hall.values()))[0]["heartbeat"]
    exhibit = str(first.get("exhibit", ""))[:64]
    seed = secrets.randbits(32)
    res = conn.execute(t.finals.insert().values(
        name=name, exhibit=exhibit, competition=competition, halls=chosen, start=start,
        gap=float(gap), seed=seed, created=now, created_by=actor, state="scheduled"))
    fid = int(res.inserted_primary_key[0])  # type: ignore[index]
    audit.record(conn, now, actor, "final.scheduled", str(fid), name=name,
                 competition=competition, halls=chosen, start=start)
    sent: list[str] = []
    args = {"final": fid, "competition": competition, "start": start, "seed": seed,
            "name": name, "hub_now": now, "gap": float(gap)}
    for found in per_hall.values():
        for st in found:
            cmds.queue(conn, now, str(st["id"]), "final", args, actor,
                       ttl=start - now + ttl_after)
            sent.append(str(st["id"]))
    return fid, sent


def listing(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(t.finals).order_by(t.finals.c.id.desc())
                                          .limit(200)).mappings()]


def load(conn: Connection, final_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(t.finals).where(t.finals.c.id == final_id)).mappings().first()
    return dict(row) if row else None


def arrived(conn: Connection, final: Mapping[str, Any]) -> tuple[Plan, list[Closed]]:
    """The final's plan and its ``question_closed`` events that have arrived."""
    halls = list(final["halls"])
    s, e = t.stations.c, t.events.c
    hall_of = {str(r[0]): str(r[1]) for r in conn.execute(
        select(s.id, s.hall_id).where(s.hall_id.in_(halls)))}
    seconds: float | None = None
    count: int | None = None
    closed: list[Closed] = []
    if hall_of:
        rows = conn.execute(
            select(e.station_id, e.kind, e.data, e.received)
            .where(e.kind.in_(("question_closed", "final_opened")))
            .where(e.station_id.in_(list(hall_of)))
            .where(e.received >= float(final["created"]) - 60)).all()
        for sid, kind, data, received in rows:
            if not isinstance(data, dict) or data.get("final") != final["id"]:
                continue
            if kind == "final_opened":
                if isinstance(data.get("seconds"), (int, float)) and \
                        isinstance(data.get("count"), int):
                    seconds, count = float(data["seconds"]), int(data["count"])
                continue
            board = data.get("board")
            if isinstance(data.get("n"), int) and isinstance(board, list):
                closed.append(Closed(hall_of[str(sid)], int(data["n"]),
                                     tuple(r for r in board if isinstance(r, dict)
                                           and "team" in r), float(received)))
    return Plan(float(final["start"]), float(final["gap"]), seconds, count), closed


def board(conn: Connection, final: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The final's combined board now (:func:`combined` of what has arrived)."""
    names = {str(r[0]): str(r[1]) for r in conn.execute(select(t.halls.c.id, t.halls.c.name))}
    plan, closed = arrived(conn, final)
    halls = [(h, names.get(h, h)) for h in final["halls"]]
    out = combined(plan, halls, closed, now)
    out["plan"] = {"start": plan.start, "gap": plan.gap, "seconds": plan.seconds,
                   "count": plan.count}
    return out
