"""The station API: enrol, heartbeat, events, commands (``/api/v1``).

Every route but ``enrol`` is signed by a station (see :mod:`showfloor.fleet`).
Database work runs in a worker thread, one transaction per request: the
signature's nonce, the change and the audit line commit together or not at
all.
"""

from __future__ import annotations

import random
import time
from base64 import b64encode
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from showfloor import fleet
from showfloor.content import trust
from showfloor.hub import auth, enrolment, ingest, rollouts
from showfloor.hub import commands as cmds
from showfloor.hub.state import HubState

T = TypeVar("T")

UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed by a known, enrolled station, or a replay"},
    400: {"description": "a malformed request, with the reason"},
}


def station_call(state: HubState, method: str, target: str, headers: Mapping[str, str],
                 body: bytes, work: Callable[[Connection, dict[str, Any], float], T]) -> T:
    """A signed station request's database work, in one go (raises :class:`auth.AuthError`).

    On PostgreSQL one transaction (one round trip less); on SQLite who it is is
    checked outside the write lock (WAL readers don't wait for the writer), then
    the nonce and the change go together or not at all.
    """
    db = state.db
    now = time.time()
    if not db.sqlite:
        with db.write() as conn:
            station = auth.station_request(conn, method, target, headers, body, now)
            return work(conn, station, now)
    with db.read() as conn:
        station = auth.check_station(conn, method, target, headers, body, now)
    with db.write() as conn:
        auth.spend_nonce(conn, station, now)
        return work(conn, station, now)


def heartbeat_work(state: HubState, hb: fleet.Heartbeat
                   ) -> Callable[[Connection, dict[str, Any], float], bytes]:
    """Record a heartbeat; the answer (hub time, waiting commands, opening hours) as JSON."""
    def work(conn: Connection, station: dict[str, Any], now: float) -> bytes:
        ingest.heartbeat(conn, station, hb, now)
        return orjson.dumps({
            "time": now, "heartbeat": state.settings.heartbeat,
            "commands": station["pending"],
            "config": {"timezone": station["timezone"],
                       "opening_hours": station["opening_hours"] or
                       station["hall_hours"] or {},
                       "closed_mode": station["closed_mode"],
                       "trust_version": _trust_version(state)}})
    return work


def _trust_version(state: HubState) -> int | None:
    """The version of the trust list the hub serves (None: none, or it cannot be read)."""
    if not state.settings.trust:
        return None
    got = trust.served(state.settings.trust)
    return got.version if isinstance(got, trust.Served) else None


def router(state: HubState) -> APIRouter:
    r = APIRouter(prefix=fleet.API, tags=["stations"])
    db = state.db

    async def off_loop(fn: Callable[[], T]) -> T:
        """Run database work: inline on SQLite, in a worker thread on PostgreSQL.

        SQLite takes one writer at a time and a station request's work is a few
        hundred microseconds of local I/O, so handing it to a thread costs more
        (thread switches, GIL hand-offs) than it saves; PostgreSQL's round trips
        go to threads so the loop keeps serving meanwhile.
        """
        if db.sqlite:
            return fn()
        return await run_in_threadpool(fn)

    async def signed(request: Request, work: Callable[[Connection, dict[str, Any], float], T]
                     ) -> T:
        body = await request.body()
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = dict(request.headers)
        try:
            return await off_loop(lambda: station_call(state, request.method, target, headers,
                                                       body, work))
        except auth.AuthError as err:
            raise HTTPException(err.status, err.reason) from None

    @r.post("/enrol", response_model=fleet.Enrolled, responses={
        400: {"description": "an unknown, used or expired code"}})
    async def enrol(req: fleet.EnrolRequest) -> fleet.Enrolled:
        """Trade a one-time enrolment code and a public key for a station identity."""
        def run() -> dict[str, Any]:
            now = time.time()
            with db.write() as conn:
                return enrolment.enrol(conn, now, req)
        try:
            got = await off_loop(run)
        except enrolment.EnrolError as err:
            raise HTTPException(400, str(err)) from None
        return fleet.Enrolled(station=got["station"], hall=got["hall"], name=got["name"],
                              time=time.time(), heartbeat=state.settings.heartbeat)

    @r.post("/station/heartbeat", response_model=fleet.HeartbeatReply, responses=UNAUTHORIZED)
    async def heartbeat(request: Request, hb: fleet.Heartbeat) -> Response:
        """A station's health; the answer carries its opening hours and waiting commands."""
        # the reply is made here, not re-validated: this is the hub's busiest route (and
        # served, past the framework, by showfloor.hub.fastpath in a hub process)
        return Response(await signed(request, heartbeat_work(state, hb)),
                        media_type="application/json")

    @r.post("/station/events", response_model=fleet.BatchReply, responses=UNAUTHORIZED)
    async def events(request: Request, batch: fleet.EventBatch) -> fleet.BatchReply:
        """Store a batch of events exactly once (by the station-made ids) and acknowledge it."""
        def work(conn: Connection, station: dict[str, Any], now: float) -> fleet.BatchReply:
            # stamped inside the write transaction, not when the request came: on SQLite
            # the stamps then follow the order the batches commit in (hub/summaries.py)
            stored, dup = ingest.store_events(conn, station["id"], batch, time.time())
            return fleet.BatchReply(stored=stored, duplicates=dup, ack=len(batch.events))
        return await signed(request, work)

    @r.get("/station/commands", response_model=fleet.CommandList, responses=UNAUTHORIZED)
    async def commands(request: Request, wait: float = Query(
            0, ge=0, le=60, description="hold the request this many seconds for a command"),
            ) -> fleet.CommandList:
        """The commands waiting for this station (a long poll when ``wait`` > 0)."""
        found = await signed(request, lambda conn, st, now: (st["id"], cmds.take(
            conn, st["id"], now)))
        sid, got = found
        if got or wait <= 0:
            return fleet.CommandList(commands=got, time=time.time())
        # held for 80-100 % of the wait: polls that began together (a hall powered on at
        # once, every station back after a hub restart) drift apart instead of coming back
        # in step every 25 s for ever
        hold = min(wait, state.settings.poll_wait) * random.uniform(0.8, 1.0)
        deadline = time.monotonic() + hold
        notifier = state.notifier
        ticket = notifier.begin(sid)

        def again() -> list[fleet.Command]:
            now = time.time()
            with db.write() as conn:
                return cmds.take(conn, sid, now)
        try:
            while not got and time.monotonic() < deadline:
                await notifier.wait(sid, deadline - time.monotonic())
                # a newer poll of this station, nobody left to answer, or the hub is
                # stopping: take nothing
                if notifier.closing or not notifier.current(sid, ticket) or \
                        await request.is_disconnected():
                    break
                got = await off_loop(again)
        finally:
            notifier.end(sid, ticket)
        return fleet.CommandList(commands=got, time=time.time())

    @r.post("/station/commands/{command_id}/ack", responses={
        **UNAUTHORIZED, 404: {"description": "no such command for this station"}})
    async def ack(request: Request, body: fleet.CommandAck,
                  command_id: int = Path(ge=1, lt=2**31)) -> JSONResponse:
        """A station's answer to a command: done, or failed with the reason."""
        ok = await signed(request, lambda conn, st, now: cmds.acknowledge(
            conn, st["id"], command_id, body, now))
        if not ok:
            raise HTTPException(404, f"this station has no command {command_id}")
        return JSONResponse({"ok": True})

    @r.get("/trust", response_model=fleet.TrustReply, responses={
        404: {"description": "this hub serves no trust list"},
        503: {"description": "the hub's trust list cannot be read; the reason"}})
    async def trust_list() -> fleet.TrustReply:
        """The signed trust list this hub hands out (open: stations check its root
        signatures themselves)."""
        if not state.settings.trust:
            raise HTTPException(404, "this hub serves no trust list (its 'trust' setting is "
                                "empty)")
        got = trust.served(state.settings.trust)
        if isinstance(got, str):
            raise HTTPException(503, got)
        return fleet.TrustReply(version=got.version, trust=b64encode(got.data).decode(),
                                signature=b64encode(got.sig).decode())

    @r.post("/deploy/status", status_code=204, tags=["delivery"], responses=UNAUTHORIZED)
    async def deploy_status(request: Request, body: fleet.DeployStatus) -> Response:
        """A station's progress with a new version: its row of the rollout (an unknown
        rollout is still noted as the station's content state)."""
        await signed(request, lambda conn, st, now: rollouts.record_status(
            conn, st["id"], body, now))
        return Response(status_code=204)

    return r
