"""Real hub processes on loopback, and a signed station client that stands in for a station."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from showfloor import fleet
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment
from station._support import Running, free_port, spawn


@dataclass
class RunningHub(Running):
    db: str = ""


def start_hub(db: str, port: int | None = None, *args: str,
              env: dict[str, str] | None = None) -> RunningHub:
    port = port or free_port()
    hub = RunningHub(spawn("hub", "--db", db, "--port", str(port), *args, env=env), port, db)
    hub.wait_up("hub")
    return hub


def make_code(db_url: str, hall: str = "Test hall", name: str = "", ttl: float = 3600) -> str:
    """A fresh enrolment code, made straight in the hub's database (as the CLI does)."""
    db = hubdb.Database(db_url)
    try:
        hubdb.upgrade(db)
        with db.write() as conn:
            hid = enrolment.ensure_hall(conn, time.time(), hall)
            return enrolment.create_code(conn, time.time(), hid, "test", name=name, ttl=ttl)
    finally:
        db.dispose()


_OPEN: list[httpx.Client] = []


def _client() -> httpx.Client:
    c = httpx.Client(timeout=30)
    _OPEN.append(c)
    return c


def close_clients() -> None:
    """Close every client the signed stations of a test opened."""
    while _OPEN:
        _OPEN.pop().close()


@dataclass
class SignedStation:
    """Speaks the station protocol with its own key, synchronously (httpx)."""

    base: str
    station: str = ""
    key: fleet.StationKey = field(default_factory=fleet.StationKey.generate)
    client: httpx.Client = field(default_factory=_client)
    boot: str = field(default_factory=lambda: secrets.token_hex(6))
    seq: int = 0

    def enrol(self, code: str, profile: str = "touch") -> httpx.Response:
        r = self.client.post(f"{self.base}{fleet.API}/enrol", json={
            "code": code, "public_key": self.key.public(), "profile": profile})
        if r.status_code == 200:
            self.station = r.json()["station"]
        return r

    def signed(self, method: str, path: str, body: Any = None, *, as_station: str | None = None,
               headers: dict[str, str] | None = None, now: float | None = None
               ) -> tuple[httpx.Request, httpx.Response]:
        raw = orjson.dumps(body) if body is not None else b""
        h = self.key.headers(as_station or self.station, method, path, raw,
                             time.time() if now is None else now)
        h["content-type"] = "application/json"
        h.update(headers or {})
        req = self.client.build_request(method, self.base + path, content=raw, headers=h)
        return req, self.client.send(req)

    def send(self, req: httpx.Request) -> httpx.Response:
        return self.client.send(req)

    def heartbeat(self, **fields: Any) -> httpx.Response:
        body = {"boot": self.boot, "software": "test", "exhibit": "demo", "version": "1",
                "uptime": 1.0, "outbox": 0, **fields}
        return self.signed("POST", f"{fleet.API}/station/heartbeat", body)[1]

    def events(self, n: int, kind: str = "scene_entered", **extra: Any) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            self.seq += 1
            out.append({"id": f"{self.boot}-e{self.seq}", "boot": self.boot, "source": "engine",
                        "seq": self.seq, "t": float(self.seq), "wall": time.time(),
                        "kind": kind, "session": None, "scene": None, "data": {}, **extra})
        return out

    def upload(self, events: list[dict[str, Any]]) -> httpx.Response:
        return self.signed("POST", f"{fleet.API}/station/events", {"events": events})[1]

    def commands(self, wait: float = 0) -> httpx.Response:
        return self.signed("GET", f"{fleet.API}/station/commands?wait={wait:g}")[1]

    def ack(self, command_id: int, ok: bool = True, detail: str = "") -> httpx.Response:
        return self.signed("POST", f"{fleet.API}/station/commands/{command_id}/ack",
                           {"ok": ok, "detail": detail})[1]
