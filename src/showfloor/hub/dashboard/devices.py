"""Operator commands to hall hardware from the dashboard: "Send to devices".

On a hall's page an operator names a device (``projector``) and an action (``power
on``, ``preset 3``, or the driver's action as JSON); the hub queues the existing
``device`` command (:mod:`showfloor.hub.commands`) for every station of the hall whose
last heartbeat lists that device (``drivers``, see docs/drivers.md) and lists the
others as skipped, with why. A station's own page has the same form for that station.
Each queued command is audited as any command is (``command.device``), and the
hall-wide send once more as ``hall.device`` with the stations reached and skipped.

Where the hub has the device's driver installed, the action is checked with the
driver's ``check_action`` first (without the device's settings, which only the station
has): a station whose driver refuses it is skipped with the driver's sentence.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select

from showfloor.errors import ConfigError
from showfloor.hub import audit
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub.dashboard.security import Form, Operator, Refusal, hub

#: what the action field offers (a datalist: the operator may write any other)
EXAMPLES = ("power on", "power off", "input 31", "wake true", "preset 1", "preset 3",
            "blackout true")
_DEVICE = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_action(text: str) -> dict[str, Any]:
    """The driver's action from the form: ``KEY VALUE`` pairs (``power on``, ``preset dark
    fade 2000``) or a JSON object; raises :class:`ConfigError` with a sentence."""
    text = text.strip()
    if not text:
        raise ConfigError("write the action, such as power on, preset 3 or a JSON object")
    if text.startswith("{"):
        try:
            parsed = json.loads(text)
        except ValueError as err:
            raise ConfigError(f"the action is not JSON ({getattr(err, 'msg', err)}); write "
                              'it like {"power": "on"}, or as words: power on') from None
        if not isinstance(parsed, dict) or not parsed:
            raise ConfigError('the action is a JSON object such as {"power": "on"}')
        return parsed
    words = text.split()
    if len(words) % 2:
        raise ConfigError(f"'{text[:60]}' is not KEY VALUE pairs; write it like power on, "
                          "preset 3 or preset dark fade 2000")
    out: dict[str, Any] = {}
    for key, raw in zip(words[::2], words[1::2], strict=True):
        value: Any = raw
        if raw in ("true", "false"):
            value = raw == "true"
        elif _NUMBER.match(raw):
            value = float(raw) if "." in raw else int(raw)
        out[key] = value
    return out


def parse_device(text: str) -> str:
    device = text.strip()
    if not _DEVICE.match(device):
        raise ConfigError(f"'{device[:64]}' is not a device name; name one of the station "
                          "profile's devices, such as projector or lights")
    return device


def command_args(form: Mapping[str, str]) -> dict[str, Any]:
    """A station's ``device`` command from the station page's form."""
    return cmds.check_args("device", {"device": parse_device(form.get("device", "")),
                                      "do": parse_action(form.get("action", ""))})


def _drivers(heartbeat: Any) -> dict[str, str]:
    """Device name → driver, from a station's last heartbeat."""
    notes = heartbeat.get("drivers") if isinstance(heartbeat, Mapping) else None
    return {str(n["device"]): str(n.get("driver", "")) for n in notes or ()
            if isinstance(n, Mapping) and n.get("device")}


def hall_stations(conn: Connection, hall_id: str) -> list[dict[str, Any]]:
    """The hall's stations that take commands (not revoked), with their devices."""
    rows = conn.execute(select(t.stations.c.id, t.stations.c.name, t.stations.c.heartbeat)
                        .where(t.stations.c.hall_id == hall_id,
                               t.stations.c.revoked.is_(None))
                        .order_by(t.stations.c.name, t.stations.c.id)).mappings()
    return [{"id": r["id"], "name": r["name"], "devices": _drivers(r["heartbeat"])}
            for r in rows]


def panel(conn: Connection, hall_id: str) -> dict[str, Any]:
    """What the hall page's form shows: the devices its stations report, and how many
    stations have each."""
    stations = hall_stations(conn, hall_id)
    seen: dict[str, int] = {}
    for st in stations:
        for name in st["devices"]:
            seen[name] = seen.get(name, 0) + 1
    return {"device_names": dict(sorted(seen.items())), "device_examples": EXAMPLES,
            "station_count": len(stations)}


def _refused(driver: str, do: Mapping[str, Any]) -> str | None:
    """The driver's objection to ``do`` (None: none, or the hub lacks the driver)."""
    from showfloor.drivers import driver as find
    from showfloor.drivers.base import action_problem

    cls = find(driver)
    if cls is None:
        return None
    return action_problem(cls, do, None)


def fan_out(conn: Connection, now: float, hall_id: str, device: str, do: dict[str, Any],
            actor: str, ttl: float) -> dict[str, Any]:
    """Queue ``device`` commands for every station of the hall that has ``device``.

    Returns ``{"queued": [(station, name, command id)], "skipped": [(station, name,
    why)]}``; raises :class:`ConfigError` when no station can take it.
    """
    args = cmds.check_args("device", {"device": device, "do": do})
    stations = hall_stations(conn, hall_id)
    queued: list[tuple[str, str, int]] = []
    skipped: list[tuple[str, str, str]] = []
    refusals: list[str] = []
    for st in stations:
        drv = st["devices"].get(device)
        if drv is None:
            skipped.append((st["id"], st["name"], f"it reports no device '{device}'"))
            continue
        why = _refused(drv, args["do"])
        if why is not None:
            refusals.append(why)
            skipped.append((st["id"], st["name"], f"its {drv} driver refuses it: {why}"))
            continue
        cid = cmds.queue(conn, now, st["id"], "device", args, actor, ttl)
        queued.append((st["id"], st["name"], cid))
    if not queued:
        if refusals:
            raise ConfigError(f"device '{device}': {refusals[0]}")
        seen = sorted({d for st in stations for d in st["devices"]})
        raise ConfigError(f"no station of this hall reports a device '{device}'; "
                          + (f"the devices its stations report: {', '.join(seen)}" if seen else
                             "none of its stations reports any device yet (their heartbeats "
                             "list the profile's devices)"))
    audit.record(conn, now, actor, "hall.device", hall_id, device=device, do=args["do"],
                 stations=[s for s, _n, _c in queued], skipped=[s for s, _n, _w in skipped])
    return {"queued": queued, "skipped": skipped}


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.post("/halls/{hall_id}/devices")
    def send(request: Request, hall_id: str, form: Form, user: Operator) -> Response:
        from showfloor.hub.dashboard import manage, queries

        state = hub(request)
        try:
            device = parse_device(form.get("device", ""))
            do = parse_action(form.get("action", ""))
            with state.db.write() as conn:
                if queries.hall(conn, hall_id) is None:
                    raise Refusal(404, "No such hall", f"There is no hall '{hall_id[:64]}'.")
                result = fan_out(conn, time.time(), hall_id, device, do, user.actor,
                                 state.settings.command_ttl)
        except ConfigError as err:
            return manage.hall_page(request, user, hall_id, status=400,
                                    errors={"device": str(err)}, values=form)
        for station_id, _name, _cid in result["queued"]:
            state.notifier.wake(station_id)
        return manage.hall_page(request, user, hall_id, device_result=result,
                                values={"device": device, "action": form.get("action", "")})

    return r
