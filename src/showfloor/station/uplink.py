"""The station's side of the hub: identity, heartbeat, event upload, commands, hours.

Offline first. The station runs the same with or without its hub: events
stay in the local log (the outbox) until the hub acknowledges a batch, and
only then are they marked sent; opening hours are kept on disk and applied
here, so a station closes on time without the hub. Failures back off
exponentially with jitter (no retry storms when a hall's network comes
back), and every request is signed with the key made at enrolment.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import logging
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from showfloor import __version__, fleet, hours
from showfloor.errors import ConfigError, ShowfloorError

if TYPE_CHECKING:
    from showfloor.station.app import Station

log = logging.getLogger("showfloor.uplink")
BATCH = 500
BACKOFF_MAX = 60.0
QUIET_DAYS = 14
#: gaps longer than this between visits are closed hours, not quiet ones
QUIET_GAP_MAX = 6 * 3600.0


@dataclass
class Identity:
    """Who this station is to its hub (kept in the data folder)."""

    hub: str
    station: str
    hall: str
    name: str
    key: fleet.StationKey

    @staticmethod
    def paths(data: Path) -> tuple[Path, Path]:
        return data / "hub.json", data / "hub.key"

    @classmethod
    def load(cls, data: Path) -> Identity | None:
        meta, keyfile = cls.paths(data)
        if not meta.exists() or not keyfile.exists():
            return None
        try:
            info = json.loads(meta.read_text())
            key = fleet.StationKey.from_pem(keyfile.read_bytes())
            return cls(info["hub"], info["station"], info["hall"], info.get("name", ""), key)
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"{meta} or {keyfile} is damaged ({err}); delete both and "
                              "enrol again with a new code") from err

    def save(self, data: Path) -> None:
        data.mkdir(parents=True, exist_ok=True)
        meta, keyfile = self.paths(data)
        tmp = keyfile.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key.pem())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, keyfile)
        meta.write_text(json.dumps({"hub": self.hub, "station": self.station,
                                    "hall": self.hall, "name": self.name}, indent=1))


def _hub_base(url: str) -> str:
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"the hub address '{url}' needs http:// or https://")
    return url


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)[:200]


def enrol(hub: str, code: str, profile: str, name: str, data: Path) -> Identity:
    """Trade a one-time code for an identity (a key made here); saved in ``data``."""
    base = _hub_base(hub)
    key = fleet.StationKey.generate()
    req = fleet.EnrolRequest(code=code.strip(), public_key=key.public(), profile=profile,
                             name=name[:200])
    try:
        resp = httpx.post(f"{base}{fleet.API}/enrol", json=req.model_dump(), timeout=15)
    except httpx.HTTPError as err:
        raise ShowfloorError(f"cannot reach the hub at {base} to enrol: {err}") from err
    if resp.status_code != 200:
        raise ShowfloorError(f"the hub refused the enrolment code: {_detail(resp)}")
    got = fleet.Enrolled.model_validate(resp.json())
    ident = Identity(base, got.station, got.hall, got.name, key)
    ident.save(data)
    return ident


def identity_for(hub: str, code: str | None, profile: str, name: str, data: Path) -> Identity:
    """This station's identity with ``hub``: the saved one, or a new one from ``code``."""
    base = _hub_base(hub)
    found = Identity.load(data)
    if found is not None and found.hub == base:
        return found
    if not code:
        raise ShowfloorError(f"this station is not enrolled with {base}; make an enrolment "
                             "code on the hub and start it with --enrol CODE")
    return enrol(base, code, profile, name, data)


class Outbox:
    """The events not yet acknowledged by the hub, read from the station's log."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _con(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA busy_timeout=30000")
        return con

    def take(self, limit: int) -> list[dict[str, Any]]:
        con = self._con()
        try:
            rows = con.execute(
                "SELECT id, boot, source, seq, t, wall, kind, session, scene, data FROM events"
                " WHERE uploaded = 0 ORDER BY rowid LIMIT ?", (limit,)).fetchall()
        finally:
            con.close()
        return [{"id": r[0], "boot": r[1], "source": r[2], "seq": r[3], "t": r[4],
                 "wall": r[5], "kind": r[6], "session": r[7], "scene": r[8],
                 "data": json.loads(r[9])} for r in rows]

    def mark(self, ids: list[str], value: int = 1) -> None:
        con = self._con()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany("UPDATE events SET uploaded = ? WHERE id = ?",
                            [(value, i) for i in ids])
            con.execute("COMMIT")
        finally:
            con.close()

    def depth(self) -> int:
        con = self._con()
        try:
            return int(con.execute("SELECT count(*) FROM events WHERE uploaded = 0"
                                   ).fetchone()[0])
        finally:
            con.close()

    def usual_quiet(self, now: float) -> float | None:
        """p90 of the gaps between visits in the last two weeks (closed nights left out)."""
        con = self._con()
        try:
            walls = [r[0] for r in con.execute(
                "SELECT wall FROM events WHERE kind = 'session_started' AND wall > ? "
                "ORDER BY wall", (now - QUIET_DAYS * 86400,))]
        finally:
            con.close()
        gaps = [b - a for a, b in itertools.pairwise(walls) if 0 < b - a
                < QUIET_GAP_MAX]
        if len(gaps) < 10:
            return None
        return float(statistics.quantiles(gaps, n=10)[-1])


class Uplink:
    """Runs beside a :class:`Station`: heartbeats, uploads, commands, opening hours."""

    def __init__(self, station: Station, ident: Identity, log_path: Path, data: Path, *,
                 on_restart: Callable[[], None] | None = None, batch: int = BATCH) -> None:
        self.station = station
        self.ident = ident
        self.outbox = Outbox(log_path)
        self.data = data
        self.batch = batch
        self.on_restart = on_restart
        self.offset = 0.0  # hub clock − ours
        self.interval = 5.0
        self.config = self._load_config()
        self.closed_by_hours = False
        self.closed_by_operator = bool(self.config.get("attract_only", False))
        self.screen_off_by_hours = False
        self.usual_quiet: float | None = None
        self.uploaded = 0
        self.refused = 0
        self.last_error: str | None = None
        self.connected = False
        self._started_wall = time.time()
        self._client: httpx.AsyncClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wake_upload = asyncio.Event()
        #: the hub could not be reached (a connection failed); the next answer from it
        #: sets ``_reached``: every loop waiting out its backoff tries again at once
        self._unreachable = False
        self._reached = asyncio.Event()

    # -- persistence of what the hub said ------------------------------------
    def _config_path(self) -> Path:
        return self.data / "hub-config.json"

    def _load_config(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self._config_path().read_text())
            return loaded if isinstance(loaded, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save_config(self) -> None:
        tmp = self._config_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(self.config, indent=1))
        os.replace(tmp, self._config_path())

    # -- requests ------------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None
        return self._client

    def sign(self, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        """The headers that sign one request to the hub (``path`` with its query)."""
        return self.ident.key.headers(self.ident.station, method, path, body,
                                      time.time() + self.offset)

    async def request(self, method: str, path: str, body: Any = None,
                      timeout: float = 15.0) -> httpx.Response:
        assert self._client is not None
        raw = orjson.dumps(body) if body is not None else b""
        headers = self.ident.key.headers(self.ident.station, method, path, raw,
                                         time.time() + self.offset)
        if body is not None:
            headers["content-type"] = "application/json"
        try:
            resp = await self._client.request(method, self.ident.hub + path, content=raw,
                                              headers=headers, timeout=timeout)
        except (httpx.TransportError, OSError):
            self._unreachable = True
            raise
        if self._unreachable:  # the link is back: what waited goes now, not after a backoff
            self._unreachable = False
            self._reached.set()
            self._reached = asyncio.Event()
        hub_time = resp.headers.get(fleet.H_TIME.lower())
        if hub_time:
            with contextlib.suppress(ValueError):
                self.offset = float(hub_time) - time.time()
        return resp

    # -- lifecycle -----------------------------------------------------------
    async def start(self) -> None:
        self._client = httpx.AsyncClient(limits=httpx.Limits(max_connections=4))
        await self.apply_hours()
        self._tasks = [asyncio.create_task(f()) for f in (
            self._heartbeat_loop, self._upload_loop, self._command_loop, self._hours_loop)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._client is not None:
            await self._client.aclose()

    def status(self) -> dict[str, Any]:
        return {"hub": self.ident.hub, "station": self.ident.station,
                "connected": self.connected, "uploaded": self.uploaded,
                "refused": self.refused, "last_error": self.last_error,
                "closed_by_hours": self.closed_by_hours,
                "closed_by_operator": self.closed_by_operator}

    def _failed(self, what: str, err: Any) -> None:
        msg = f"{what}: {err}"
        if msg != self.last_error:
            log.warning("hub %s", msg)
        self.last_error = msg
        self.connected = False

    @staticmethod
    def _backoff(failures: int) -> float:
        return random.uniform(0.5, 1.0) * min(BACKOFF_MAX, 2.0 ** min(failures, 6))

    async def _retry_after(self, seconds: float) -> None:
        """Sleep ``seconds`` before trying again, or less if another request reaches the
        hub meanwhile (a hall's link back after a cut: its results go at once)."""
        reached = self._reached
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reached.wait(), seconds)

    # -- heartbeat -----------------------------------------------------------
    def heartbeat_body(self) -> dict[str, Any]:
        st = self.station
        s = st.status()
        now = time.time()
        fps = [m.get("frames") for m in st.metrics.values()
               if isinstance(m.get("frames"), (int, float))]
        last = getattr(st, "last_input_wall", None)
        idle = now - float(last) if last is not None else now - self._started_wall
        try:
            disk = shutil.disk_usage(self.data).free
        except OSError:
            disk = None
        errors = [{"at": at, "what": str(d.get("what", "error"))[:200],
                   "detail": str(d.get("detail") or d.get("path") or "")[:300]}
                  for at, d in (st.store.recent_errors() if st.store else [])]
        body = {
            "boot": st.store.boot if st.store else "none", "software": __version__,
            "exhibit": s["exhibit"], "version": str(s["version"]), "scene": s["scene"],
            "phase": s["phase"], "session_active": s["phase"] != "attract",
            "language": s["lang"], "uptime": max(0.0, float(s["uptime"])),
            "outbox": self.outbox.depth(), "errors": errors[-20:],
            "fps": round(min(fps), 1) if fps else None, "disk_free": disk,
            "idle": round(max(0.0, idle), 1), "usual_quiet": self.usual_quiet,
            "closed": bool(s.get("closed", False)), "screen": s.get("screen", "on"),
            "surfaces": len(s.get("surfaces", [])),
        }
        if s.get("kiosk") is not None:  # only with a kiosk supervisor (older hubs know no such key)
            body["kiosk"] = s["kiosk"]
        if s.get("content") is not None:  # only a station with a content store
            body["content"] = s["content"]
        if s.get("drivers"):  # only a station with hall hardware
            from showfloor.station.drivers import summarize

            body["drivers"] = summarize(s["drivers"])
        if st.competition is not None:  # a competition's host: a final can be sent here
            body["competition"] = st.competition.comp.id
        return body

    async def heartbeat(self) -> fleet.HeartbeatReply | None:
        body = await asyncio.to_thread(self.heartbeat_body)
        resp = await self.request("POST", f"{fleet.API}/station/heartbeat", body)
        if resp.status_code != 200:
            self._failed("heartbeat refused", f"{resp.status_code} {_detail(resp)}")
            return None
        reply = fleet.HeartbeatReply.model_validate(resp.json())
        self.connected = True
        self.last_error = None
        self.interval = max(1.0, min(60.0, reply.heartbeat))
        cfg = reply.config.model_dump()
        if {k: self.config.get(k) for k in cfg} != cfg:
            self.config.update(cfg)
            await asyncio.to_thread(self._save_config)
            await self.apply_hours()
        if self.station.delivery is not None:  # a newer signed trust list: fetch it
            with contextlib.suppress(httpx.HTTPError, OSError):  # at the next heartbeat
                await self.station.delivery.refresh_trust(reply.config.trust_version)
        return reply

    async def _heartbeat_loop(self) -> None:
        failures = 0
        next_quiet = 0.0
        while True:
            if time.monotonic() >= next_quiet:
                self.usual_quiet = await asyncio.to_thread(self.outbox.usual_quiet, time.time())
                next_quiet = time.monotonic() + 3600
            try:
                ok = await self.heartbeat() is not None
            except (httpx.HTTPError, OSError) as err:
                self._failed("heartbeat", err)
                ok = False
            failures = 0 if ok else failures + 1
            if ok:
                await asyncio.sleep(self.interval)
            else:
                await self._retry_after(min(self.interval, 1.0) + self._backoff(failures))

    # -- events --------------------------------------------------------------
    async def upload_once(self) -> int:
        """Send one batch; how many events the hub acknowledged (0: nothing to send)."""
        events = await asyncio.to_thread(self.outbox.take, self.batch)
        if not events:
            return 0
        resp = await self.request("POST", f"{fleet.API}/station/events", {"events": events},
                                  timeout=60)
        if resp.status_code == 200:
            await asyncio.to_thread(self.outbox.mark, [e["id"] for e in events])
            self.uploaded += len(events)
            return len(events)
        if resp.status_code == 400:
            # one bad event must not block the outbox: set it aside, keep the rest
            bad = self._named_events(resp, events)
            if bad:
                await asyncio.to_thread(self.outbox.mark, bad, -1)
                self.refused += len(bad)
                if self.station.store is not None:
                    self.station.store.station_event(self.station.clock(), "error",
                                                     what="upload", detail=_detail(resp)[:200])
                return 0
        raise httpx.HTTPStatusError(f"{resp.status_code} {_detail(resp)}", request=resp.request,
                                    response=resp)

    @staticmethod
    def _named_events(resp: httpx.Response, events: list[dict[str, Any]]) -> list[str]:
        try:
            problems = resp.json().get("problems", [])
        except (ValueError, AttributeError):
            return []
        bad = []
        for p in problems:
            where = str(p.get("where", ""))
            if where.startswith("events["):
                idx = where[7:].split("]", 1)[0]
                if idx.isdigit() and int(idx) < len(events):
                    bad.append(events[int(idx)]["id"])
        return list(dict.fromkeys(bad))

    async def _upload_loop(self) -> None:
        failures = 0
        while True:
            try:
                sent = await self.upload_once()
                failures = 0
            except (httpx.HTTPError, OSError, sqlite3.Error) as err:
                self._failed("upload", err)
                failures += 1
                await self._retry_after(self._backoff(failures))
                continue
            if sent >= self.batch:
                continue  # more waiting: send the next batch at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake_upload.wait(), timeout=2.0)
            if self._wake_upload.is_set() and self.station.store is not None:
                # woken for an event the hub should see at once: let the log commit it
                await asyncio.to_thread(self.station.store.flush, 1.0)
            self._wake_upload.clear()

    def upload_now(self) -> None:
        """Send what waits without the usual pause (a final's round has closed)."""
        self._wake_upload.set()

    # -- commands ------------------------------------------------------------
    async def _command_loop(self) -> None:
        failures = 0
        while True:
            try:
                resp = await self.request("GET", f"{fleet.API}/station/commands?wait=25",
                                          timeout=40)
                if resp.status_code != 200:
                    raise httpx.HTTPStatusError(f"{resp.status_code} {_detail(resp)}",
                                                request=resp.request, response=resp)
                got = fleet.CommandList.model_validate(resp.json())
                failures = 0
            except (httpx.HTTPError, OSError) as err:
                self._failed("commands", err)
                failures += 1
                await self._retry_after(self._backoff(failures))
                continue
            for cmd in got.commands:
                await self.run_command(cmd)

    async def run_command(self, cmd: fleet.Command) -> None:
        ok, detail = True, ""
        restart = False
        try:
            detail = await self.execute(cmd)
            restart = cmd.kind == "restart"
        except ShowfloorError as err:
            ok, detail = False, str(err)
        except Exception as err:  # noqa: BLE001 - report it; a command never crashes a station
            ok, detail = False, f"{type(err).__name__}: {err}"
        with contextlib.suppress(httpx.HTTPError, OSError):
            await self.request("POST", f"{fleet.API}/station/commands/{cmd.id}/ack",
                               {"ok": ok, "detail": detail[:500]})
        if restart and self.on_restart is not None:
            self.on_restart()

    async def execute(self, cmd: fleet.Command) -> str:
        st = self.station
        a = cmd.args
        if st.store is not None:
            st.store.station_event(st.clock(), "command", id=cmd.id, command=cmd.kind)
        if cmd.kind == "reload":
            await st.reload()
            return "reloaded"
        if cmd.kind == "restart":
            if self.on_restart is None:
                raise ShowfloorError("this station cannot restart itself here")
            return "restarting"
        if cmd.kind == "attract":
            await st.end_visit("operator")
            return "in attract"
        if cmd.kind == "attract_only":
            self.closed_by_operator = bool(a.get("on", True))
            self.config["attract_only"] = self.closed_by_operator
            await asyncio.to_thread(self._save_config)
            await self.apply_hours()
            return "closed" if self.closed_by_operator else "open"
        if cmd.kind == "language":
            await st.set_language(str(a.get("lang")))
            return f"language {a.get('lang')}"
        if cmd.kind == "message":
            text = a.get("text") or {}
            if "*" in text:
                text = dict.fromkeys(st.engine.exhibit.languages, text["*"])
            await st.show_message(text, float(a.get("seconds", 30)))
            return "shown"
        if cmd.kind == "device":
            return str(await st.device_action(str(a.get("device")), dict(a.get("do") or {})))
        if cmd.kind == "final":
            if st.competition is None:
                raise ShowfloorError("this station hosts no competition (its profile has no "
                                     "competition:), so it cannot take part in a final")
            return await st.competition.open_final(a)
        if cmd.kind in ("deploy", "rollback"):
            agent = st.delivery
            if agent is None:
                raise ShowfloorError("this station keeps no content store, so it cannot "
                                     f"take a {cmd.kind}; start it with a data folder")
            if cmd.kind == "deploy":
                return str(await agent.deploy_command(a))
            return str(await agent.rollback_command(a))
        raise ShowfloorError(f"this station does not know the command '{cmd.kind}'")

    # -- opening hours -------------------------------------------------------
    def open_now(self, at: float | None = None) -> bool:
        when = dt.datetime.fromtimestamp(at if at is not None else time.time(), dt.UTC)
        try:
            return hours.is_open(self.config.get("opening_hours") or {},
                                 str(self.config.get("timezone") or "UTC"), when)
        except ConfigError as err:
            self._failed("opening hours", err)
            return True

    async def apply_hours(self) -> None:
        """Close or open the exhibit for the hours and the operator's attract-only."""
        closed_hours = not self.open_now()
        mode = self.config.get("closed_mode", "attract_only")
        want_closed = self.closed_by_operator or (closed_hours and mode == "attract_only")
        want_dark = closed_hours and mode == "screen_off"
        st = self.station
        s = st.status()
        if want_dark != (s.get("screen") == "off"):
            await st.set_screen(not want_dark)
        if want_closed != bool(s.get("closed")):
            await st.set_closed(want_closed)
        self.closed_by_hours = closed_hours

    async def _hours_loop(self) -> None:
        while True:
            await asyncio.sleep(15)
            try:
                await self.apply_hours()
            except ShowfloorError as err:
                self._failed("opening hours", err)
