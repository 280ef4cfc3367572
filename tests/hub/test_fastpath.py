"""The heartbeat fast path answers exactly as the framework route does (hub.fastpath)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from showfloor import fleet
from showfloor.hub.app import create_app
from showfloor.hub.fastpath import PATH, HeartbeatFastPath
from showfloor.hub.settings import HubSettings

from ._support import make_code

BEAT = {"boot": "b0", "software": "test", "exhibit": "demo", "version": "1", "uptime": 1.0,
        "outbox": 0, "scene": "intro"}


class Counting:
    """The app, counting the requests that reach it."""

    def __init__(self, app: Any) -> None:
        self.app, self.calls = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@pytest.fixture
def hub(db_url: str) -> Iterator[tuple[Counting, HeartbeatFastPath, fleet.StationKey, str]]:
    app = create_app(HubSettings(db=db_url))
    inner = Counting(app)
    fast = HeartbeatFastPath(inner, app.state.hub)
    key = fleet.StationKey.generate()
    code = make_code(db_url)

    async def enrol() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hub") as c:
            r = await c.post(f"{fleet.API}/enrol", json={
                "code": code, "public_key": key.public(), "profile": "touch"})
            return str(r.json()["station"])
    station = asyncio.run(enrol())
    yield inner, fast, key, station
    app.state.hub.db.dispose()


def _send(target: Any, key: fleet.StationKey, station: str, body: bytes, *,
          sign_as: str | None = None, content_type: str = "application/json",
          headers: dict[str, str] | None = None, path: str = PATH) -> httpx.Response:
    h = key.headers(sign_as or station, "POST", path, body, time.time())
    h["content-type"] = content_type
    h.update(headers or {})

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=target),
                                     base_url="http://hub") as c:
            return await c.post(path, content=body, headers=h)
    return asyncio.run(go())


def test_a_good_heartbeat_never_reaches_the_framework_and_is_answered_the_same(
        hub: tuple[Counting, HeartbeatFastPath, fleet.StationKey, str]) -> None:
    inner, fast, key, station = hub
    body = orjson.dumps(BEAT)
    quick = _send(fast, key, station, body)
    assert inner.calls == 0
    slow = _send(inner, key, station, body)  # a fresh signature: a new nonce
    assert inner.calls == 1
    assert quick.status_code == slow.status_code == 200
    assert quick.headers["content-type"] == slow.headers["content-type"]
    assert int(quick.headers["content-length"]) == len(quick.content)
    assert abs(float(quick.headers[fleet.H_TIME.lower()]) - time.time()) < 5
    a, b = quick.json(), slow.json()
    assert a.pop("time") <= b.pop("time")
    assert a == b and a["commands"] == 0 and "config" in a


@pytest.mark.parametrize("case", ["unknown station", "replay", "other station", "bad json",
                                  "missing field", "extra field", "text/plain",
                                  "too large"])
def test_every_refusal_is_worded_by_the_same_code(
        hub: tuple[Counting, HeartbeatFastPath, fleet.StationKey, str], case: str) -> None:
    inner, fast, key, station = hub
    body = orjson.dumps(BEAT)
    kw: dict[str, Any] = {}
    if case == "unknown station":
        kw["sign_as"] = "st_nobody"
    elif case == "other station":
        kw["sign_as"] = station
        key = fleet.StationKey.generate()  # signed with a key that is not this station's
    elif case == "bad json":
        body = b'{"boot": '
    elif case == "missing field":
        body = orjson.dumps({k: v for k, v in BEAT.items() if k != "boot"})
    elif case == "extra field":
        body = orjson.dumps({**BEAT, "name": "a visitor"})
    elif case == "text/plain":
        kw["content_type"] = "text/plain"
    elif case == "too large":
        body = orjson.dumps({**BEAT, "scene": "x" * (fleet.MAX_BODY + 10)})
    answers = []
    for target in (fast, inner):
        if case == "replay":
            h = key.headers(station, "POST", PATH, body, time.time())
            first = _send(fast, key, station, body, headers=h)
            assert first.status_code == 200
            answers.append(_send(target, key, station, body, headers=h))
        else:
            answers.append(_send(target, key, station, body, **kw))
    quick, slow = answers
    assert quick.status_code == slow.status_code and quick.status_code in (400, 401, 413)
    assert quick.json() == slow.json()
    assert quick.headers["content-type"] == slow.headers["content-type"]


def test_a_heartbeat_with_a_query_string_is_left_to_the_framework(
        hub: tuple[Counting, HeartbeatFastPath, fleet.StationKey, str]) -> None:
    inner, fast, key, station = hub
    r = _send(fast, key, station, orjson.dumps(BEAT), path=PATH + "?x=1")
    assert r.status_code == 200 and inner.calls == 1
