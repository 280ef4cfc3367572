"""Operator commands to stations: queued, delivered, acknowledged, audited.

A command waits in the database (with an expiry) until its station asks.
Stations hold a long poll open; each hub process checks the commands table
for queued commands every :data:`POLL_SECONDS` and wakes the polls it holds,
so a command made on any hub process reaches an online station within a
second, and the hub still keeps no state outside its database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import time
from collections import deque
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select, update

from showfloor import fleet
from showfloor.errors import ConfigError
from showfloor.hub import audit
from showfloor.hub import db as t

POLL_SECONDS = 0.25
#: how far back (seconds) the notifier keeps looking at queued commands: on PostgreSQL
#: a command can commit after one with a larger id, so "newer than the last id seen"
#: alone would miss it
LOOKBACK_SECONDS = 10.0
#: a delivered command not acknowledged within this many seconds is sent again
REDELIVER_AFTER = 60.0
MAX_ATTEMPTS = 3
log = logging.getLogger("showfloor.hub")


def check_args(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a command, checked; raises :class:`ConfigError` naming the problem."""
    if kind not in fleet.COMMANDS:
        raise ConfigError(f"'{kind}' is not a command; use one of {', '.join(fleet.COMMANDS)}")
    if kind in ("reload", "restart", "attract"):
        return {}
    if kind in ("deploy", "rollback"):
        return _delivery_args(kind, args)
    if kind == "attract_only":
        on = args.get("on", True)
        if not isinstance(on, bool):
            raise ConfigError("attract_only takes on: true or false")
        return {"on": on}
    if kind == "device":
        return _device_args(args)
    if kind == "final":
        return _final_args(args)
    if kind == "language":
        lang = args.get("lang")
        if not isinstance(lang, str) or not 1 <= len(lang) <= 20:
            raise ConfigError("language takes lang: a language code such as zh-CN or en")
        return {"lang": lang}
    text = args.get("text")
    if isinstance(text, str):
        text = {"*": text}
    if not isinstance(text, dict) or not text or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in text.items()):
        raise ConfigError("message takes text: the words to show, per language "
                          "({'zh-CN': '…', 'en': '…'}) or one text for all")
    if any(len(v) > 500 for v in text.values()):
        raise ConfigError("a message may have at most 500 characters per language")
    seconds = args.get("seconds", 30)
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or \
            not 1 <= seconds <= 3600:
        raise ConfigError("message takes seconds: how long to show it, 1 to 3600")
    return {"text": {k: v.strip() for k, v in text.items()}, "seconds": float(seconds)}


def _device_args(args: dict[str, Any]) -> dict[str, Any]:
    """A ``device`` command's arguments: a device of the station's profile and its action."""
    device, do = args.get("device"), args.get("do")
    if not isinstance(device, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", device):
        raise ConfigError("device takes device: the name of a device in the station's "
                          "profile, such as projector")
    if not isinstance(do, dict) or not do or len(json.dumps(do, default=str)) > 2000:
        raise ConfigError("device takes do: the driver's action, such as {\"power\": \"on\"} "
                          "(at most 2000 characters of JSON)")
    return {"device": device, "do": json.loads(json.dumps(do, default=str))}


def _final_args(args: dict[str, Any]) -> dict[str, Any]:
    """A ``final`` command's arguments (made by hub/finals.py): which final, which
    competition, its start and the hub's time (both Unix seconds), the questions' seed."""
    out: dict[str, Any] = {"final": _id_arg("final", args, "final")}
    comp = args.get("competition")
    if not isinstance(comp, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", comp):
        raise ConfigError("final takes competition: the id of the exhibit's competition, "
                          "such as class-quiz")
    out["competition"] = comp
    for name in ("start", "hub_now"):
        value = args.get(name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value) or not 0 < value < 1e11:
            raise ConfigError(f"final takes {name}: a time on the hub's clock (Unix seconds)")
        out[name] = float(value)
    seed = args.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**53:
        raise ConfigError("final takes seed: a whole number that draws the questions")
    out["seed"] = seed
    name = args.get("name", "")
    if not isinstance(name, str) or len(name) > 200 or "\x00" in name:
        raise ConfigError("final takes name: at most 200 characters")
    out["name"] = name
    gap = args.get("gap", 5.0)
    if not isinstance(gap, (int, float)) or isinstance(gap, bool) or not 0 <= gap <= 600:
        raise ConfigError("final takes gap: seconds between questions, 0 to 600")
    out["gap"] = float(gap)
    return out


def _id_arg(kind: str, args: dict[str, Any], name: str, *, optional: bool = False) -> int | None:
    value = args.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**31:
        raise ConfigError(f"{kind} takes {name}: the number of a {name} on this hub")
    return value


def _delivery_args(kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """A ``deploy`` or ``rollback`` command's arguments (made by hub/rollouts.py)."""
    if kind == "deploy":
        out: dict[str, Any] = {"rollout": _id_arg(kind, args, "rollout"),
                               "bundle": _id_arg(kind, args, "bundle")}
        for name in ("exhibit", "version"):
            value = args.get(name)
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise ConfigError(f"deploy takes {name}: the bundle's {name}, 1 to 64 "
                                  "characters")
            out[name] = value
        return out
    out = {"rollout": _id_arg(kind, args, "rollout", optional=True)}
    for name in ("instruction", "signature"):
        value = args.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= 4096:
            raise ConfigError(f"rollback takes {name}: base64 of the signed rollback "
                              "instruction's bytes and of its signature")
        out[name] = value
    return out


def queue(conn: Connection, now: float, station_id: str, kind: str, args: dict[str, Any],
          actor: str, ttl: float) -> int:
    """Queue a command for a station; its id."""
    clean = check_args(kind, args)
    row = conn.execute(select(t.stations.c.revoked).where(t.stations.c.id == station_id)
                       ).first()
    if row is None:
        raise ConfigError(f"there is no station '{station_id}'")
    if row[0] is not None:
        raise ConfigError(f"station '{station_id}' was revoked; it takes no commands")
    if kind == "message":
        ttl = min(ttl, float(clean["seconds"]))  # a late notice is a wrong notice
    res = conn.execute(t.commands.insert().values(
        station_id=station_id, kind=kind, args=clean, created=now, created_by=actor,
        expires=now + ttl, state="queued", attempts=0))
    cid = int(res.inserted_primary_key[0])  # type: ignore[index]
    # the message text is not audited: it may be free text; its languages are
    shown = {"langs": sorted(clean["text"])} if kind == "message" else clean
    audit.record(conn, now, actor, f"command.{kind}", station_id, command=cid, **shown)
    return cid


def take(conn: Connection, station_id: str, now: float) -> list[fleet.Command]:
    """The commands to hand a station now (marked delivered)."""
    c = t.commands.c
    rows = conn.execute(
        select(t.commands).where(c.station_id == station_id).where(c.expires > now).where(
            or_(c.state == "queued",
                and_(c.state == "delivered", c.delivered < now - REDELIVER_AFTER,
                     c.attempts < MAX_ATTEMPTS)))
        .order_by(c.id)).mappings().all()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    conn.execute(update(t.commands).where(c.id.in_(ids))
                 .values(state="delivered", delivered=now, attempts=c.attempts + 1))
    # a final's start is on the hub's clock: it goes with the hub's time as it is handed
    # over, from which the station maps it to its own clock
    return [fleet.Command(id=r["id"], kind=r["kind"],
                          args={**r["args"], "hub_now": now} if r["kind"] == "final"
                          else r["args"], expires=r["expires"])
            for r in rows]


def acknowledge(conn: Connection, station_id: str, command_id: int, ack: fleet.CommandAck,
                now: float) -> bool:
    """Record a station's answer; False if the command is not this station's."""
    c = t.commands.c
    row = conn.execute(select(c.kind, c.state).where(c.id == command_id)
                       .where(c.station_id == station_id)).first()
    if row is None:
        return False
    if row.state in ("done", "failed"):
        return True  # a repeated ack
    conn.execute(update(t.commands).where(c.id == command_id).values(
        state="done" if ack.ok else "failed", finished=now, result=ack.detail[:500]))
    audit.record(conn, now, f"station:{station_id}",
                 "command.done" if ack.ok else "command.failed", station_id,
                 command=command_id, kind=row.kind, detail=ack.detail[:200])
    return True


def cancel(conn: Connection, now: float, command_id: int, actor: str) -> bool:
    c = t.commands.c
    res = conn.execute(update(t.commands).where(c.id == command_id)
                       .where(c.state.in_(("queued", "delivered"))).values(
                           state="cancelled", finished=now))
    if res.rowcount:
        audit.record(conn, now, actor, "command.cancelled", str(command_id))
    return bool(res.rowcount)


def expire(conn: Connection, now: float) -> int:
    c = t.commands.c
    rows = conn.execute(select(c.id, c.station_id, c.kind).where(
        c.state.in_(("queued", "delivered"))).where(c.expires <= now)).all()
    for r in rows:
        conn.execute(update(t.commands).where(c.id == r.id)
                     .where(c.state.in_(("queued", "delivered")))
                     .values(state="expired", finished=now))
        audit.record(conn, now, "hub", "command.expired", r.station_id, command=r.id,
                     kind=r.kind)
    return len(rows)


def pending(conn: Connection, station_id: str, now: float) -> int:
    c = t.commands.c
    return int(conn.execute(select(func.count()).select_from(t.commands)
                            .where(c.station_id == station_id).where(c.state == "queued")
                            .where(c.expires > now)).scalar_one())


class Notifier:
    """Wakes the long polls this process holds when their station gets a command."""

    def __init__(self, db: t.Database) -> None:
        self.db = db
        self._waiters: dict[str, set[asyncio.Event]] = {}
        #: per station, the number of the newest poll this process holds
        self._newest: dict[str, int] = {}
        self._polls = 0
        #: (monotonic time, largest command id seen then), newest last
        self._seen: deque[tuple[float, int]] = deque()
        self._task: asyncio.Task[None] | None = None
        #: the hub is stopping: every poll is answered now and none is held any more
        self.closing = False

    def _max_id(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.commands.c.id), 0))
                                    ).scalar_one())

    def floor(self, now: float) -> int:
        """Commands above this id may still be news: the largest id seen LOOKBACK ago."""
        while len(self._seen) > 1 and self._seen[1][0] <= now - LOOKBACK_SECONDS:
            self._seen.popleft()
        return self._seen[0][1] if self._seen else 0

    def scan(self) -> list[tuple[int, str]]:
        """Queued, unexpired commands above the floor: (id, station), oldest first."""
        now = time.monotonic()
        c = t.commands.c
        with self.db.read() as conn:
            rows = [(int(r[0]), str(r[1])) for r in conn.execute(
                select(c.id, c.station_id).where(c.id > self.floor(now))
                .where(c.state == "queued").where(c.expires > time.time()).order_by(c.id))]
        top = max((r[0] for r in rows), default=self._seen[-1][1] if self._seen else 0)
        self._seen.append((now, max(top, self._seen[-1][1] if self._seen else 0)))
        return rows

    async def start(self) -> None:
        self._seen.append((time.monotonic(), await asyncio.to_thread(self._max_id)))
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if not self._waiters:
                continue
            try:
                rows = await asyncio.to_thread(self.scan)
            except Exception as err:  # noqa: BLE001 - the database may be restarting
                log.warning("checking for new commands failed: %s", err)
                await asyncio.sleep(1)
                continue
            # a poll woken for a command another poll of its station already took just
            # finds nothing and waits on
            for _, sid in rows:
                self.wake(sid)

    def close(self) -> None:
        """The hub is stopping: answer every poll held here now, and hold no new one.

        The server waits for every open request before it stops, and a long poll
        would otherwise keep it waiting up to its whole hold (25 s) — until the
        server gives up and cancels the request with a traceback.
        """
        self.closing = True
        for waiters in self._waiters.values():
            for ev in waiters:
                ev.set()

    def wake(self, station_id: str) -> None:
        """Wake this process's polls for a station at once (a command made here)."""
        for ev in self._waiters.get(station_id, ()):
            ev.set()

    def begin(self, station_id: str) -> int:
        """A new long poll of a station: its ticket. Older polls of it stand down.

        A station asks again when its connection broke (a network blip, a restart)
        while the hub still holds the old poll; were that one to take a command, the
        answer would go to a dead connection and the command would wait a minute
        for redelivery.
        """
        self._polls += 1
        self._newest[station_id] = self._polls
        self.wake(station_id)
        return self._polls

    def current(self, station_id: str, ticket: int) -> bool:
        """Whether this poll is still its station's newest here."""
        return self._newest.get(station_id) == ticket

    def end(self, station_id: str, ticket: int) -> None:
        if self._newest.get(station_id) == ticket:
            del self._newest[station_id]

    async def wait(self, station_id: str, timeout: float) -> None:
        if self.closing:
            return
        ev = asyncio.Event()
        self._waiters.setdefault(station_id, set()).add(ev)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ev.wait(), timeout)
        finally:
            ws = self._waiters.get(station_id)
            if ws is not None:
                ws.discard(ev)
                if not ws:
                    del self._waiters[station_id]
