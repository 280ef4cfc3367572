"""Rollouts: a published bundle to a station, a hall, a tag or every station, canaries first.

A rollout picks its stations when it is made (``rollout_stations``, in name
order); the first N of them (or N %) are its canaries. The hub sends the
canaries a ``deploy`` command; once every canary reports ``running`` and has
stayed running and online for ``healthy_seconds``, the rest get theirs. A
canary that reports ``failed`` or ``rolled_back`` halts the rollout with its
reason, and the rest are never sent anything. An operator can halt, resume,
cancel, or roll back (a rollback instruction signed with the hub's rollback
key, sent to every station that got the rollout).

Everything lives in the database: :func:`advance` reads a rollout, does the
next step and writes it back in one transaction (the rollout's row locked on
PostgreSQL), so any number of hub processes can run the loop, and a hub that
restarts carries on where the last one stopped. Every step is audited with
the rollout's id (target ``rollout:<id>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import time
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, select, update

from showfloor import fleet
from showfloor.content import rollback as instructions
from showfloor.errors import ConfigError
from showfloor.hub import audit
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub.state import in_background

if TYPE_CHECKING:
    from showfloor.hub.state import HubState

TARGETS = ("station", "hall", "tag", "all")
UNITS = ("stations", "percent")
#: canary → rolling → done; halted (by a canary or an operator) → resumed; cancelled
STATES = ("canary", "rolling", "done", "halted", "cancelled")
ACTIVE = ("canary", "rolling")
#: a station's last word on a version: nothing more will come of it in this rollout
SETTLED = ("running", "failed", "rolled_back", "stale")
#: what a canary reports that halts its rollout
HALTS = ("failed", "rolled_back", "stale")
#: seconds between two passes of the loop over active rollouts
ADVANCE_SECONDS = 1.0
#: the longest healthy time a rollout may ask of its canaries (a day)
MAX_HEALTHY = 86400.0
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,31}$")
log = logging.getLogger("showfloor.hub")


def target_name(kind: str, target: str) -> str:
    """A rollout's target in words: 'hall demo-hall', 'tag vr', 'every station'."""
    return "every station" if kind == "all" else f"{kind} {target}"


def _where(rollout_id: int) -> str:
    return f"rollout:{rollout_id}"


def parse_tags(text: str) -> list[str]:
    """Tags from 'vr, entrance  floor-2' (commas or spaces); raises naming a bad one."""
    tags: list[str] = []
    for word in re.split(r"[\s,]+", text.strip()):
        if not word:
            continue
        if not _TAG.match(word):
            raise ConfigError(f"'{word[:40]}' is not a tag: use up to 32 letters, digits, "
                              "'-', '_', '.' or ':', starting with a letter or digit")
        if word not in tags:
            tags.append(word)
    if len(tags) > 20:
        raise ConfigError(f"a station may have at most 20 tags, not {len(tags)}")
    return tags


def set_tags(conn: Connection, now: float, station_id: str, tags: list[str], actor: str) -> None:
    res = conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                       .values(tags=tags))
    if not res.rowcount:
        raise ConfigError(f"there is no station '{station_id[:64]}'")
    audit.record(conn, now, actor, "station.tags", station_id, tags=tags)


def all_tags(conn: Connection) -> list[str]:
    """Every tag a station that is not revoked has, sorted."""
    found: set[str] = set()
    for (tags,) in conn.execute(select(t.stations.c.tags)
                                .where(t.stations.c.revoked.is_(None))):
        found.update(tags or [])
    return sorted(found)


def _version_key(version: str) -> tuple[tuple[int, ...], str]:
    return tuple(int(n) for n in re.findall(r"\d+", version)[:4]), version


def bundle(conn: Connection, bundle_id: int) -> dict[str, Any] | None:
    b = t.bundles.c
    row = conn.execute(select(b.id, b.exhibit, b.version, b.size, b.files, b.published,
                              b.published_by, b.key_id).where(b.id == bundle_id)
                       ).mappings().first()
    return dict(row) if row else None


def bundles(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Published bundles, newest first (what the Rollouts page lists)."""
    b = t.bundles.c
    return [dict(r) for r in conn.execute(
        select(b.id, b.exhibit, b.version, b.size, b.files, b.published, b.published_by,
               b.key_id).order_by(b.id.desc()).limit(limit)).mappings()]


def targets(conn: Connection, kind: str, target: str) -> list[dict[str, Any]]:
    """The stations a target names now (not revoked), in name order."""
    s = t.stations.c
    q = select(s.id, s.name, s.hall_id, s.tags, s.heartbeat, s.content).where(
        s.revoked.is_(None)).order_by(s.name, s.id)
    if kind == "station":
        q = q.where(s.id == target)
    elif kind == "hall":
        q = q.where(s.hall_id == target)
    rows = [dict(r) for r in conn.execute(q).mappings()]
    if kind == "tag":
        rows = [r for r in rows if target in (r["tags"] or [])]
    return rows


def canary_count(total: int, canary: int, unit: str) -> int:
    """How many of ``total`` stations are canaries: N stations, or N % rounded up."""
    if canary <= 0 or total == 0:
        return 0
    if unit == "percent":
        return min(total, max(1, math.ceil(total * canary / 100)))
    return min(total, canary)


def _running_version(st: dict[str, Any], exhibit: str) -> str | None:
    """The version of ``exhibit`` a station runs, by its last report or heartbeat."""
    content = st.get("content") or {}
    if content.get("exhibit") == exhibit and content.get("state") == "running":
        return str(content.get("version"))
    hb = st.get("heartbeat") or {}
    if hb.get("exhibit") == exhibit and hb.get("version"):
        return str(hb["version"])
    return None


def create(conn: Connection, now: float, bundle_id: int, target_kind: str, target: str,
           canary: int, canary_unit: str, healthy_seconds: float, actor: str) -> int:
    """A new rollout (its stations chosen now); raises :class:`ConfigError` naming a problem."""
    b = bundle(conn, bundle_id)
    if b is None:
        raise ConfigError(f"there is no bundle {bundle_id} on this hub; publish it first")
    if target_kind not in TARGETS:
        raise ConfigError(f"'{target_kind[:20]}' is not a target; use one of "
                          f"{', '.join(TARGETS)}")
    target = "" if target_kind == "all" else target.strip()
    if target_kind != "all" and not target:
        raise ConfigError(f"name the {target_kind} to roll out to")
    if canary_unit not in UNITS:
        raise ConfigError(f"canaries are counted in stations or percent, not "
                          f"'{canary_unit[:20]}'")
    if canary < 0 or (canary_unit == "percent" and canary > 100):
        raise ConfigError(f"{canary} is not a number of canaries: use 0 or more stations, "
                          "or 0 to 100 percent")
    if not 0 <= healthy_seconds <= MAX_HEALTHY:
        raise ConfigError(f"canaries stay healthy for 0 to {MAX_HEALTHY:.0f} seconds, not "
                          f"{healthy_seconds:g}")
    chosen = targets(conn, target_kind, target)
    if not chosen:
        raise ConfigError(f"no enrolled station is in {target_name(target_kind, target)}; "
                          "check the name (stations are tagged on their pages)")
    r, rs = t.rollouts.c, t.rollout_stations.c
    busy = conn.execute(
        select(rs.station_id, rs.rollout_id).join(t.rollouts, r.id == rs.rollout_id)
        .where(r.state.in_((*ACTIVE, "halted")))
        .where(rs.station_id.in_([s["id"] for s in chosen]))).first()
    if busy is not None:
        raise ConfigError(f"station {busy.station_id} is already in rollout {busy.rollout_id}, "
                          "which is not finished; cancel or roll it back first")
    n = canary_count(len(chosen), canary, canary_unit)
    res = conn.execute(t.rollouts.insert().values(
        bundle_id=bundle_id, target_kind=target_kind, target=target, canary=canary,
        canary_unit=canary_unit, healthy_seconds=float(healthy_seconds),
        state="canary" if n else "rolling", created=now, created_by=actor,
        halted_reason=None, updated=now))
    rid = int(res.inserted_primary_key[0])  # type: ignore[index]
    conn.execute(t.rollout_stations.insert(), [
        {"rollout_id": rid, "station_id": s["id"], "stage": "canary" if i < n else "rest",
         "state": "waiting", "progress": None, "bytes": None, "reason": None, "updated": now,
         "command_id": None, "running_since": None,
         "previous": _running_version(s, b["exhibit"])} for i, s in enumerate(chosen)])
    audit.record(conn, now, actor, "rollout.created", _where(rid), rollout=rid,
                 bundle=bundle_id, exhibit=b["exhibit"], version=b["version"],
                 targets=target_name(target_kind, target), stations=len(chosen), canaries=n,
                 healthy_seconds=float(healthy_seconds))
    return rid


def _lock(conn: Connection, rollout_id: int) -> dict[str, Any] | None:
    """The rollout's row, locked until the transaction ends (PostgreSQL; SQLite writes
    are one at a time anyway)."""
    q = select(t.rollouts).where(t.rollouts.c.id == rollout_id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    return dict(row) if row else None


def _rows(conn: Connection, rollout_id: int) -> list[dict[str, Any]]:
    rs, s = t.rollout_stations.c, t.stations.c
    return [dict(r) for r in conn.execute(
        select(t.rollout_stations, s.name, s.hall_id, s.last_seen, s.revoked)
        .join(t.stations, s.id == rs.station_id).where(rs.rollout_id == rollout_id)
        .order_by(rs.stage, s.name, s.id)).mappings()]


def _set_state(conn: Connection, now: float, rollout_id: int, state: str,
               reason: str | None = None) -> None:
    conn.execute(update(t.rollouts).where(t.rollouts.c.id == rollout_id).values(
        state=state, halted_reason=reason, updated=now))


def _send(conn: Connection, now: float, ro: dict[str, Any], b: dict[str, Any],
          rows: list[dict[str, Any]], ttl: float) -> list[str]:
    """Queue ``deploy`` to the rows not yet sent one; the stations to wake."""
    sent = []
    rs = t.rollout_stations.c
    for row in rows:
        if row["command_id"] is not None:
            continue
        where = (rs.rollout_id == ro["id"]) & (rs.station_id == row["station_id"])
        try:
            cid = cmds.queue(conn, now, row["station_id"], "deploy", {
                "rollout": ro["id"], "bundle": b["id"], "exhibit": b["exhibit"],
                "version": b["version"]}, "hub", ttl)
        except ConfigError as err:  # revoked since the rollout began
            conn.execute(update(t.rollout_stations).where(where).values(
                command_id=0, state="failed", reason=str(err), updated=now))
            continue
        conn.execute(update(t.rollout_stations).where(where).values(
            command_id=cid, state="queued", progress=None, bytes=None, reason=None,
            running_since=None, updated=now))
        row.update(command_id=cid, state="queued")
        sent.append(str(row["station_id"]))
    return sent


#: why a deploy command that never got a report ended, in words
_ENDED = {"expired": "did not pick up the version before its command expired (offline?)",
          "cancelled": "its deploy command was cancelled",
          "failed": "refused the deploy command"}


def _settle(conn: Connection, now: float, rollout_id: int, rows: list[dict[str, Any]]) -> None:
    """A station whose deploy command ended (expired, cancelled, refused) before it said
    anything of the version has failed, with that reason (so a rollout never waits for
    ever on a station that is gone)."""
    waiting = {r["command_id"]: r for r in rows if r["state"] == "queued" and r["command_id"]}
    if not waiting:
        return
    c, rs = t.commands.c, t.rollout_stations.c
    for cid, state, result in conn.execute(select(c.id, c.state, c.result).where(
            c.id.in_(sorted(waiting))).where(c.state.in_(sorted(_ENDED)))):
        row = waiting[cid]
        reason = f"the station {_ENDED[state]}" + (f": {result}" if result else "")
        conn.execute(update(t.rollout_stations).where(
            (rs.rollout_id == rollout_id) & (rs.station_id == row["station_id"])).values(
                state="failed", reason=reason[:1000], updated=now))
        row.update(state="failed", reason=reason[:1000])


def _healthy(row: dict[str, Any], now: float, seconds: float, online_within: float) -> bool:
    return (row["state"] == "running" and row["running_since"] is not None
            and row["running_since"] <= now - seconds and row["revoked"] is None
            and row["last_seen"] is not None and row["last_seen"] >= now - online_within)


def advance(conn: Connection, now: float, rollout_id: int, *, online_within: float,
            ttl: float) -> list[str]:
    """The next step of one rollout, from the database alone; the stations sent a command.

    Safe to run again at once and from several hub processes: a step already taken
    finds nothing left to do.
    """
    ro = _lock(conn, rollout_id)
    if ro is None or ro["state"] not in ACTIVE:
        return []
    b = bundle(conn, ro["bundle_id"])
    if b is None:  # the bundle went away under the rollout
        _set_state(conn, now, rollout_id, "halted", "its bundle is no longer on the hub")
        audit.record(conn, now, "hub", "rollout.halted", _where(rollout_id),
                     rollout=rollout_id, reason="bundle gone")
        return []
    rows = _rows(conn, rollout_id)
    _settle(conn, now, rollout_id, rows)
    sent: list[str] = []
    if ro["state"] == "canary":
        canaries = [r for r in rows if r["stage"] == "canary"]
        bad = next((r for r in canaries if r["state"] in HALTS), None)
        if bad is not None:
            reason = (f"canary {bad['name']} ({bad['station_id']}) reported "
                      f"{bad['state'].replace('_', ' ')}"
                      + (f": {bad['reason']}" if bad["reason"] else ""))
            _set_state(conn, now, rollout_id, "halted", reason[:1000])
            audit.record(conn, now, "hub", "rollout.halted", _where(rollout_id),
                         rollout=rollout_id, station=bad["station_id"],
                         reason=reason[:200])
            return []
        sent += _send(conn, now, ro, b, canaries, ttl)
        if not all(_healthy(r, now, ro["healthy_seconds"], online_within) for r in canaries):
            return sent
        _set_state(conn, now, rollout_id, "rolling")
        audit.record(conn, now, "hub", "rollout.canaries_healthy", _where(rollout_id),
                     rollout=rollout_id, canaries=len(canaries))
    sent += _send(conn, now, ro, b, rows, ttl)
    if all(r["state"] in SETTLED for r in rows):
        _set_state(conn, now, rollout_id, "done")
        counts: dict[str, int] = {}
        for r in rows:
            counts[r["state"]] = counts.get(r["state"], 0) + 1
        audit.record(conn, now, "hub", "rollout.done", _where(rollout_id),
                     rollout=rollout_id, **counts)
    return sent


def active(conn: Connection) -> list[int]:
    return [int(r[0]) for r in conn.execute(
        select(t.rollouts.c.id).where(t.rollouts.c.state.in_(ACTIVE))
        .order_by(t.rollouts.c.id))]


def advance_all(state: HubState) -> list[str]:
    """One pass over every active rollout, each in its own transaction."""
    db, cfg = state.db, state.settings
    with db.read() as conn:
        ids = active(conn)
    woken: list[str] = []
    for rid in ids:
        with db.write() as conn:
            woken += advance(conn, time.time(), rid, online_within=cfg.online_within,
                             ttl=cfg.command_ttl)
    return woken


async def loop(state: HubState) -> None:
    """Advance every active rollout each :data:`ADVANCE_SECONDS` (run by every hub process)."""
    while True:
        try:
            for sid in await asyncio.to_thread(advance_all, state):
                state.notifier.wake(sid)
        except Exception as err:  # noqa: BLE001 - the database may be restarting
            log.warning("advancing rollouts failed: %s", err)
        await asyncio.sleep(ADVANCE_SECONDS)


def running(state: HubState) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The loop, for as long as the hub app lives (its lifespan)."""
    return in_background(loop(state))


# -- what stations report ---------------------------------------------------------------


def record_status(conn: Connection, station_id: str, status: fleet.DeployStatus,
                  now: float) -> None:
    """A station's deploy report: its row of the rollout (if any) and its content state."""
    report = status.model_dump()
    conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                 .values(content={**report, "at": now}))
    if status.rollout is None:
        return
    rs = t.rollout_stations.c
    where = (rs.rollout_id == status.rollout) & (rs.station_id == station_id)
    row = conn.execute(select(rs.state, rs.running_since).where(where)).first()
    if row is None:
        return  # not this station's rollout (or one from another hub's database): noted above
    since = (row.running_since if row.state == "running" and row.running_since is not None
             else now) if status.state == "running" else None
    conn.execute(update(t.rollout_stations).where(where).values(
        state=status.state, progress=status.progress, bytes=status.bytes,
        reason=status.reason, updated=now, running_since=since))
    if status.state in ("failed", "rolled_back", "stale") and row.state != status.state:
        audit.record(conn, now, f"station:{station_id}", f"deploy.{status.state}",
                     _where(status.rollout), rollout=status.rollout, station=station_id,
                     version=status.version, reason=(status.reason or "")[:200])


# -- what operators do ------------------------------------------------------------------


def _unsend(conn: Connection, now: float, rollout_id: int, actor: str) -> None:
    """Take back the deploy commands no station has picked up yet (they go again on resume)."""
    rs, c = t.rollout_stations.c, t.commands.c
    rows = conn.execute(
        select(rs.station_id, rs.command_id).join(t.commands, c.id == rs.command_id)
        .where(rs.rollout_id == rollout_id).where(c.state == "queued")).all()
    for sid, cid in rows:
        if cmds.cancel(conn, now, cid, actor):
            conn.execute(update(t.rollout_stations).where(
                (rs.rollout_id == rollout_id) & (rs.station_id == sid)).values(
                    command_id=None, state="waiting", updated=now))


def _operator_rollout(conn: Connection, rollout_id: int) -> dict[str, Any]:
    ro = _lock(conn, rollout_id)
    if ro is None:
        raise ConfigError(f"there is no rollout {rollout_id}")
    return ro


def halt(conn: Connection, now: float, rollout_id: int, actor: str,
         reason: str = "halted by an operator") -> None:
    ro = _operator_rollout(conn, rollout_id)
    if ro["state"] not in ACTIVE:
        raise ConfigError(f"rollout {rollout_id} is {ro['state']}; only a rollout in "
                          "progress can be halted")
    _unsend(conn, now, rollout_id, actor)
    _set_state(conn, now, rollout_id, "halted", f"{reason} ({actor})")
    audit.record(conn, now, actor, "rollout.halted", _where(rollout_id), rollout=rollout_id,
                 reason=reason)


def resume(conn: Connection, now: float, rollout_id: int, actor: str) -> str:
    """Carry on a halted rollout (failed canaries are sent the version again); its state."""
    ro = _operator_rollout(conn, rollout_id)
    if ro["state"] != "halted":
        raise ConfigError(f"rollout {rollout_id} is {ro['state']}, not halted; there is "
                          "nothing to resume")
    rows = _rows(conn, rollout_id)
    rs = t.rollout_stations.c
    past_canary = not any(r["stage"] == "canary" for r in rows) or any(
        r["stage"] == "rest" and r["command_id"] is not None for r in rows)
    again = [r["station_id"] for r in rows if r["stage"] == "canary" and r["state"] in HALTS]
    if again and not past_canary:
        conn.execute(update(t.rollout_stations).where(rs.rollout_id == rollout_id)
                     .where(rs.station_id.in_(again)).values(
                         command_id=None, state="waiting", reason=None, updated=now))
    state = "rolling" if past_canary else "canary"
    _set_state(conn, now, rollout_id, state)
    audit.record(conn, now, actor, "rollout.resumed", _where(rollout_id), rollout=rollout_id,
                 state=state, resent=len(again) if not past_canary else 0)
    return state


def cancel(conn: Connection, now: float, rollout_id: int, actor: str) -> None:
    ro = _operator_rollout(conn, rollout_id)
    if ro["state"] in ("done", "cancelled"):
        raise ConfigError(f"rollout {rollout_id} is already {ro['state']}")
    _unsend(conn, now, rollout_id, actor)
    _set_state(conn, now, rollout_id, "cancelled", f"cancelled by {actor}")
    audit.record(conn, now, actor, "rollout.cancelled", _where(rollout_id), rollout=rollout_id)


def rollback_to(conn: Connection, b: dict[str, Any]) -> str | None:
    """The version a rollback of bundle ``b`` goes back to: the newest older one published."""
    bc = t.bundles.c
    older = [str(v) for (v,) in conn.execute(
        select(bc.version).where(bc.exhibit == b["exhibit"]).where(bc.id != b["id"]))
        if _version_key(str(v)) < _version_key(str(b["version"]))]
    return max(older, key=_version_key) if older else None


def rollback(conn: Connection, now: float, rollout_id: int, actor: str,
             key: Ed25519PrivateKey | None, *, ttl: float) -> list[str]:
    """Sign a rollback instruction and send it to every station that got the rollout.

    Each station goes back to the version it ran before the rollout (when older), else
    to the newest older version of the exhibit published on the hub; the stations to
    wake.
    """
    if key is None:
        raise ConfigError("this hub has no rollback key, so it cannot sign a rollback: set "
                          "rollback_key (docs/hub.md) to a key the stations trust for "
                          "'rollback' and restart the hub")
    ro = _operator_rollout(conn, rollout_id)
    if ro["state"] == "cancelled" and (ro["halted_reason"] or "").startswith("rolled back"):
        raise ConfigError(f"rollout {rollout_id} was already rolled back")
    b = bundle(conn, ro["bundle_id"])
    if b is None:
        raise ConfigError(f"rollout {rollout_id}'s bundle is no longer on the hub")
    _unsend(conn, now, rollout_id, actor)
    rows = [r for r in _rows(conn, rollout_id)
            if r["command_id"] and r["revoked"] is None]  # 0: never sent (revoked)
    if not rows:
        raise ConfigError(f"no station has been sent rollout {rollout_id} yet, so there is "
                          "nothing to roll back; cancel it instead")
    common = rollback_to(conn, b)
    signed: dict[str, dict[str, str]] = {}
    sent = []
    for r in rows:
        before = r["previous"]
        to = before if before and _version_key(before) < _version_key(b["version"]) \
            else common
        if not to or to == b["version"]:
            continue
        if to not in signed:
            data, sig = instructions.make(key, b["exhibit"], b["version"], to, now=now)
            signed[to] = instructions.encode(data, sig)
        cmds.queue(conn, now, r["station_id"], "rollback",
                   {"rollout": rollout_id, **signed[to]}, actor, ttl)
        sent.append(str(r["station_id"]))
    if not sent:
        raise ConfigError(f"there is no older version of {b['exhibit']} to roll back to: "
                          "publish the version the stations should go back to first")
    to_text = ", ".join(sorted(signed))
    _set_state(conn, now, rollout_id, "cancelled", f"rolled back to {to_text} by {actor}")
    audit.record(conn, now, actor, "rollout.rolled_back", _where(rollout_id),
                 rollout=rollout_id, to=to_text, stations=len(sent))
    return sent


def load_key(path: str) -> Ed25519PrivateKey | None:
    """The hub's rollback key (``rollback_key``), or None when none is set."""
    if not path:
        return None
    from pathlib import Path

    from showfloor.content.bundle import load_key as read_key
    from showfloor.errors import BundleError

    try:
        return read_key(Path(path))
    except BundleError as err:
        raise ConfigError(f"rollback_key: {err}") from err


# -- what the dashboard shows -----------------------------------------------------------


def listing(conn: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """Recent rollouts, newest first, with their bundle and how many stations are where."""
    r, b, rs = t.rollouts.c, t.bundles.c, t.rollout_stations.c
    rows = [dict(x) for x in conn.execute(
        select(t.rollouts, b.exhibit, b.version).join(t.bundles, b.id == r.bundle_id)
        .order_by(r.id.desc()).limit(limit)).mappings()]
    if rows:
        counts: dict[int, dict[str, int]] = {}
        for rid, state in conn.execute(select(rs.rollout_id, rs.state).where(
                rs.rollout_id.in_([x["id"] for x in rows]))):
            per = counts.setdefault(int(rid), {})
            per[state] = per.get(state, 0) + 1
        names = {str(h): str(n) for h, n in conn.execute(select(t.halls.c.id, t.halls.c.name))}
        for x in rows:
            x["counts"] = counts.get(x["id"], {})
            x["total"] = sum(x["counts"].values())
            x["target_words"] = target_name(x["target_kind"], x["target"]) if \
                x["target_kind"] != "hall" else f"hall {names.get(x['target'], x['target'])}"
    return rows


def detail(conn: Connection, rollout_id: int) -> dict[str, Any] | None:
    """One rollout with its bundle and every station's progress."""
    r, b = t.rollouts.c, t.bundles.c
    row = conn.execute(select(t.rollouts, b.exhibit, b.version, b.size, b.files)
                       .join(t.bundles, b.id == r.bundle_id).where(r.id == rollout_id)
                       ).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["stations"] = _rows(conn, rollout_id)
    out["target_words"] = target_name(out["target_kind"], out["target"])
    if out["target_kind"] == "hall":
        name = conn.execute(select(t.halls.c.name).where(t.halls.c.id == out["target"])
                            ).scalar_one_or_none()
        out["target_words"] = f"hall {name or out['target']}"
    counts: dict[str, int] = {}
    for s in out["stations"]:
        counts[s["state"]] = counts.get(s["state"], 0) + 1
    out["counts"] = counts
    return out


def station_delivery(conn: Connection, station_id: str) -> dict[str, Any]:
    """A station's tags and its last deploy report (for its dashboard page)."""
    s = t.stations.c
    row = conn.execute(select(s.tags, s.content).where(s.id == station_id)).first()
    if row is None:
        return {"tags": [], "content": None}
    return {"tags": list(row.tags or []), "content": row.content}
