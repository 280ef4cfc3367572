"""The hub under a fleet: N signed stations heartbeating and uploading on loopback.

Goal: heartbeat p99 ≤ 100 ms, no errors, the offered load achieved, and every
command an operator sends in the window delivered, p99 ≤ 2 s.

A real hub process (``python -m showfloor hub``) runs on a throwaway
database: a SQLite file, or a PostgreSQL cluster of its own
(:class:`showfloor.hub.devdb.TempPostgres`). Each simulated station has its
own Ed25519 key: its one-time code is made straight in the database (as
``showfloor hub code`` does) and traded for an identity over HTTP, many at
once. Then every station heartbeats every 5 s and uploads a batch of 20
events every 30 s, each at a random phase so the load is spread evenly, and
every request is signed (``fleet.StationKey``). Like the real uplink, every
station also holds a long poll for commands open (``wait=25``: one idle
connection per station, re-asked as each answers) and acknowledges what it
gets; meanwhile an "operator" queues an ``attract`` command to a random
station twice a second straight into the database, as a dashboard on another
hub process would, so this hub learns of it only through its notifier's poll
(the slowest path). For each N the stations run a warm-up, then a measured
window; heartbeat latency is request start → response, per request; delivery
is queued → in the station's hands. Each N is larger than the last until p99
passes 100 ms, a request fails, a command is late or lost, or the hub falls
behind the offered load. ``--no-polls`` leaves the polls and commands out.

The stations are asyncio + aiohttp (heartbeats and uploads over a few
keep-alive connections per 50 stations, a connection of its own for each long
poll) in one worker process per 500 stations. (httpx, which the station's
uplink uses, costs ~1 ms of CPU per request here: the load generator then took
most of a core at 2,000 stations and starved the hub it was measuring.) The machine has
two cores and the load generator competes with the hub (and PostgreSQL) for
them: its CPU use is in the table, and "client lag" (how late a request left
against its schedule) shows whether it kept up. "others CPU" is everything
else the machine ran in the window: where other work shares the machine, a
size that misses the goal is run once more before the bench stops
(``--retries``), and ``--priority`` runs the bench, hub and PostgreSQL at a
higher priority than that work.

A second table is raw ingest: a few uploaders, each a station of its own,
send batches of 500 events as fast as the hub takes them. At the end the
database must hold exactly the events acknowledged, and a batch sent again
must come back as duplicates (exactly once). The hub summarises visits as it
does in service (every 5 s, hub/summaries.py). ``--ingest-baseline`` runs the
ingest twice more, each on a fresh database and a fresh hub: one as shipped, and
one whose summarising loop is held off (a hub as it was before it summarised
visits), and prints each rate's ratio to the last. (The first run follows the
fleet steps, on a database they filled: compare the two fresh ones.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
import psutil
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, percentile, table
from showfloor import fleet
from showfloor.hub import commands as cmds
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment, ingest
from showfloor.hub.devdb import USER, TempPostgres

HEARTBEAT_S = 5.0
UPLOAD_S = 30.0
EVENTS_PER_UPLOAD = 20
P99_GOAL_MS = 100.0
#: a step "achieves" the offered load when it completes this share of it
ACHIEVED = 0.95
#: stations per load-generator process (each also holds a long poll per station: a
#: thousand in one process made it fall behind its own schedule at N = 1,000)
PER_WORKER = 500
PER_WORKER_NO_POLLS = 1000
#: keep-alive connections per 50 stations for heartbeats and uploads (``--pool``)
STATIONS_PER_POOL = 50
HB_PATH = f"{fleet.API}/station/heartbeat"
POLL_PATH = f"{fleet.API}/station/commands?wait=25"
#: commands an operator sends per second while a step is measured (to random stations)
COMMANDS_PER_S = 2.0
DELIVERY_GOAL_S = 2.0
EV_PATH = f"{fleet.API}/station/events"
SCENES = ("attract", "intro", "story_1", "quiz_1", "quiz_2", "story_2", "explore", "ending")
STEPS = "250,500,1000,1500,2000,3000,4000"


# -- the hub and its database ---------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu(proc: psutil.Process, children: bool = False) -> float:
    """CPU seconds of a process (with its reaped children, and live ones if asked)."""
    try:
        c = proc.cpu_times()
        total = c.user + c.system + c.children_user + c.children_system
        for child in proc.children() if children else []:
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return float(total)
    except psutil.Error:
        return 0.0


def _busy() -> float:
    """CPU seconds the whole machine has spent busy so far."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0))


@dataclass
class Hub:
    """``python -m showfloor hub`` in its own process, its output in a log file."""

    db: str
    port: int = field(default_factory=_free_port)
    log: Path = field(default_factory=lambda: Path(tempfile.mkstemp(
        prefix="showfloor-hub-", suffix=".log")[1]))
    proc: subprocess.Popen[bytes] | None = None
    #: False: the hub's summarising loop runs once at start, then never (a baseline)
    summaries: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        run = ["-m", "showfloor"] if self.summaries else [
            "-c", "from showfloor.hub import summaries; summaries.SUMMARISE_SECONDS = 1e9; "
                  "from showfloor.cli import run; run()"]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, *run, "hub", "--db", self.db, "--port",
                 str(self.port)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the hub exited at start:\n{self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the hub did not answer /healthz in 60 s:\n{self.log_tail()}")

    def cpu(self) -> float:
        assert self.proc is not None
        return _cpu(psutil.Process(self.proc.pid))

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.unlink(missing_ok=True)


@contextlib.contextmanager
def database(backend: str) -> Iterator[tuple[str, Callable[[], float] | None]]:
    """A fresh database's URL, and for PostgreSQL a reading of its server's CPU seconds."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="showfloor-bench-") as tmp:
            yield f"sqlite:///{tmp}/hub.sqlite", None
        return
    with TempPostgres() as pg:
        url = pg.create_database("hub")
        with psycopg.connect(host="127.0.0.1", port=pg.port, user=USER, dbname="hub") as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            postmaster = psutil.Process(int(row[0])).parent()  # while this backend lives
        assert postmaster is not None
        yield url, lambda: _cpu(postmaster, children=True)


# -- enrolment ------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    station: str
    pem: bytes


def make_codes(url: str, n: int) -> list[str]:
    """n one-time enrolment codes, made straight in the hub's database."""
    db = hubdb.Database(url)
    try:
        hubdb.upgrade(db)
        with db.write() as conn:
            now = time.time()
            hall = enrolment.ensure_hall(conn, now, "Bench hall")
            return [enrolment.create_code(conn, now, hall, "bench", ttl=7200) for _ in range(n)]
    finally:
        db.dispose()


async def enrol_all(base: str, codes: list[str], concurrency: int = 32) -> list[Identity]:
    """Trade every code for a station identity, ``concurrency`` requests at a time."""
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        async def one(i: int, code: str) -> Identity:
            key = fleet.StationKey.generate()
            async with gate:
                r = await client.post(f"{fleet.API}/enrol", json={
                    "code": code, "public_key": key.public(), "profile": "touch",
                    "name": f"bench {i}"})
            if r.status_code != 200:
                raise RuntimeError(f"enrolment {i} refused: {r.status_code} {r.text[:200]}")
            return Identity(r.json()["station"], key.pem())
        return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(codes))))


# -- a simulated station -----------------------------------------------------------

class SimStation:
    """What one station sends: its heartbeat and its events, as a real one makes them."""

    def __init__(self, ident: Identity, rng: random.Random) -> None:
        self.id = ident.station
        self.key = fleet.StationKey.from_pem(ident.pem)
        self.rng = rng
        self.boot = secrets.token_hex(6)
        self.started = time.time()
        self.seq = 0
        self.session: str | None = None
        self.scene = "attract"
        self.visit_events = 0
        self.last_wall: float | None = None

    def heartbeat(self) -> dict[str, Any]:
        now = time.time()
        active = self.session is not None
        return {"boot": self.boot, "software": "0.9.0", "exhibit": "drug-prevention",
                "version": "2024.3", "scene": self.scene,
                "phase": "session" if active else "attract", "session_active": active,
                "language": "en", "uptime": round(now - self.started, 1), "outbox": 0,
                "errors": [], "fps": 60.0, "disk_free": 12_000_000_000,
                "idle": 0.0 if active else round(self.rng.uniform(0, 600), 1),
                "usual_quiet": 420.0, "closed": False, "screen": "on", "surfaces": 1}

    def events(self, n: int) -> list[dict[str, Any]]:
        """n events of visits: started, scenes entered and left, answers, choices, ended.

        Their walls are spread evenly since the station's last batch (the first batch:
        over the 0.5 s × n before it): a station's events happen in order, so one
        batch's never go back among the last one's, however fast they are sent.
        """
        out = []
        now = time.time()
        since = now - n * 0.5 if self.last_wall is None else self.last_wall
        self.last_wall = now
        data: dict[str, Any]
        for i in range(n):
            if self.session is None:
                self.session, self.visit_events = secrets.token_hex(8), 0
                kind, data = "session_started", {"lang": "en"}
            elif self.visit_events >= 12:
                kind, data = "session_ended", {"reason": "finished",
                                               "duration": round(self.rng.uniform(60, 400), 3),
                                               "scenes": self.rng.randint(3, 8)}
            else:
                kind = self.rng.choice(("scene_entered", "scene_exited", "answered",
                                        "choice_made"))
                by_kind: dict[str, dict[str, Any]] = {
                    "scene_entered": {"from": self.scene},
                    "scene_exited": {"dwell": round(self.rng.uniform(2, 90), 3)},
                    "answered": {"question": f"q{self.rng.randint(1, 6)}",
                                 "choice": self.rng.randint(0, 3),
                                 "correct": self.rng.random() < 0.6},
                    "choice_made": {"choice": f"c{self.rng.randint(1, 4)}"}}
                data = by_kind[kind]
                if kind == "scene_entered":
                    self.scene = self.rng.choice(SCENES[1:])
            self.seq += 1
            self.visit_events += 1
            out.append({"id": f"{self.boot}-e{self.seq}", "boot": self.boot, "source": "engine",
                        "seq": self.seq, "t": round(now - self.started, 6),
                        "wall": since + (now - since) * (i + 1) / n, "kind": kind, "session": self.session,
                        "scene": self.scene, "data": data})
            if kind == "session_ended":
                self.session, self.scene = None, "attract"
        return out

    async def poll(self, session: aiohttp.ClientSession) -> list[dict[str, Any]]:
        """One long poll for commands, as the station's uplink holds it (up to 25 s)."""
        headers = self.key.headers(self.id, "GET", POLL_PATH, b"", time.time())
        async with session.get(POLL_PATH, headers=headers) as r:
            text = await r.read()
            if r.status != 200:
                raise RuntimeError(f"poll: {r.status} {text[:140]!r}")
        return list(orjson.loads(text)["commands"])

    async def post(self, session: aiohttp.ClientSession, path: str, payload: Any
                   ) -> tuple[float, str | None, dict[str, Any] | None]:
        """Send one signed request: (ms, what went wrong or None, the answer)."""
        body = orjson.dumps(payload)
        headers = self.key.headers(self.id, "POST", path, body, time.time())
        headers["content-type"] = "application/json"
        t = time.perf_counter()
        try:
            async with session.post(path, data=body, headers=headers) as r:
                text = await r.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            return (time.perf_counter() - t) * 1000, f"{type(err).__name__}: {err}"[:160], None
        ms = (time.perf_counter() - t) * 1000
        if r.status != 200:
            return ms, f"{r.status} {text[:140]!r}", None
        return ms, None, orjson.loads(text)


# -- the fleet, in worker processes -------------------------------------------------

@dataclass
class Plan:
    base: str
    start_at: float  # wall clock: the stations start (the warm-up)
    warm: float
    seconds: float
    pool: int
    seed: int
    polls: bool


@dataclass
class Tally:
    """What one worker measured: requests started inside the window count."""

    hb_ms: list[float] = field(default_factory=list)
    hb_errors: int = 0
    up_ms: list[float] = field(default_factory=list)
    up_errors: int = 0
    uploads: int = 0
    events: int = 0
    stored_all: int = 0  # events acknowledged as new, warm-up included (the count check)
    lag_ms: list[float] = field(default_factory=list)
    unfinished: int = 0
    cpu_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    #: (command id, wall time it reached the station) for every command a long poll got
    received: list[tuple[int, float]] = field(default_factory=list)
    poll_errors: int = 0

    def problem(self, what: str) -> None:
        if len(self.problems) < 5:
            self.problems.append(what)

    def add(self, other: Tally) -> None:
        for name in ("hb_ms", "up_ms", "lag_ms", "problems", "received"):
            getattr(self, name).extend(getattr(other, name))
        for name in ("hb_errors", "up_errors", "uploads", "events", "stored_all",
                     "unfinished", "cpu_s", "poll_errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        del self.problems[5:]


async def run_fleet(idents: list[Identity], plan: Plan) -> Tally:
    loop = asyncio.get_running_loop()
    rng = random.Random(plan.seed)
    stations = [SimStation(i, random.Random(rng.random())) for i in idents]
    t0 = loop.time() + (plan.start_at - time.time())
    window = (t0 + plan.warm, t0 + plan.warm + plan.seconds)
    tally = Tally()
    # heartbeats and uploads share a few keep-alive connections; a long poll holds one of
    # its own, as each real station does
    pool = max(plan.pool, -(-len(stations) // STATIONS_PER_POOL) * plan.pool)
    client = aiohttp.ClientSession(plan.base, timeout=aiohttp.ClientTimeout(total=10),
                                   connector=aiohttp.TCPConnector(limit=pool))
    poller = aiohttp.ClientSession(plan.base, timeout=aiohttp.ClientTimeout(total=40),
                                   connector=aiohttp.TCPConnector(limit=0))

    def measured(at: float) -> bool:
        return window[0] <= at < window[1]

    async def every(period: float, send: Callable[[float], Any]) -> None:
        due = t0 + rng.uniform(0, period)
        while due < window[1]:
            await asyncio.sleep(due - loop.time())
            lag = loop.time() - due
            if measured(due):
                tally.lag_ms.append(lag * 1000)
            await send(due)
            due = max(due + period, loop.time())  # behind: skip, never burst to catch up

    async with contextlib.AsyncExitStack() as stack:
        for session in (client, poller):
            await stack.enter_async_context(session)

        def heartbeats(st: SimStation) -> Callable[[float], Any]:
            async def send(due: float) -> None:
                ms, err, _ = await st.post(client, HB_PATH, st.heartbeat())
                if measured(due):
                    tally.hb_ms.append(ms)
                    if err:
                        tally.hb_errors += 1
                        tally.problem(f"heartbeat: {err}")
            return send

        def uploads(st: SimStation) -> Callable[[float], Any]:
            async def send(due: float) -> None:
                ms, err, r = await st.post(client, EV_PATH, {"events": st.events(EVENTS_PER_UPLOAD)})
                stored = int(r["stored"]) if r is not None else 0
                tally.stored_all += stored
                if measured(due):
                    tally.up_ms.append(ms)
                    if err:
                        tally.up_errors += 1
                        tally.problem(f"upload: {err}")
                    else:
                        tally.uploads += 1
                        tally.events += stored
            return send

        async def polls(st: SimStation) -> None:
            """The uplink's command loop: poll, and acknowledge what comes."""
            # stations come up over the warm-up, not all in one second
            await asyncio.sleep(max(0.0, t0 - loop.time()) + rng.uniform(0, plan.warm))
            while loop.time() < window[1]:
                try:
                    got = await st.poll(poller)
                except (aiohttp.ClientError, TimeoutError, RuntimeError) as err:
                    if window[0] <= loop.time() < window[1]:
                        tally.poll_errors += 1
                        tally.problem(f"{type(err).__name__}: {err}"[:160])
                    await asyncio.sleep(1)
                    continue
                for cmd in got:
                    tally.received.append((int(cmd["id"]), time.time()))
                    _, why, _ = await st.post(client, f"{fleet.API}/station/commands/"
                                              f"{cmd['id']}/ack", {"ok": True, "detail": ""})
                    if why:
                        tally.poll_errors += 1
                        tally.problem(f"ack: {why}")

        async def cpu_in_window() -> None:
            await asyncio.sleep(window[0] - loop.time())
            c0 = time.process_time()
            await asyncio.sleep(window[1] - loop.time())
            tally.cpu_s = time.process_time() - c0

        tasks = [asyncio.ensure_future(cpu_in_window())]
        for st in stations:
            tasks.append(asyncio.ensure_future(every(HEARTBEAT_S, heartbeats(st))))
            tasks.append(asyncio.ensure_future(every(UPLOAD_S, uploads(st))))
        held = [asyncio.ensure_future(polls(st)) for st in stations] if plan.polls else []
        _, pending = await asyncio.wait(tasks, timeout=window[1] - loop.time() + 15)
        for task in pending:
            task.cancel()
        tally.unfinished = len(pending)
        for task in held:  # a poll still open when the window ends is simply dropped
            task.cancel()
        await asyncio.gather(*held, return_exceptions=True)
    return tally


def worker(pipe: Connection, idents: list[Identity], base: str, pool: int, seed: int,
           polls: bool) -> None:
    """A load-generator process: say ready, get the start time, run, send the tally."""
    pipe.send("ready")
    start_at, warm, seconds = pipe.recv()
    pipe.send(asyncio.run(run_fleet(idents, Plan(base, start_at, warm, seconds, pool, seed,
                                                 polls))))


# -- one step -------------------------------------------------------------------

@dataclass
class Step:
    label: str
    n: int
    workers: int
    seconds: float
    tally: Tally
    hub_cpu: float
    db_cpu: float | None
    busy: float
    #: command id → wall time an operator queued it (empty without long polls)
    sent: dict[int, float] = field(default_factory=dict)

    @property
    def delivery_s(self) -> list[float]:
        """Seconds from queued to in the station's hands, per delivered command."""
        first: dict[int, float] = {}
        for cid, at in self.tally.received:
            if cid in self.sent:
                first[cid] = min(at, first.get(cid, at))
        return [at - self.sent[cid] for cid, at in first.items()]

    @property
    def commands_ok(self) -> bool:
        got = self.delivery_s
        return len(got) == len(self.sent) and \
            percentile(got, 99) <= DELIVERY_GOAL_S if got else not self.sent

    @property
    def offered(self) -> float:
        return self.n / HEARTBEAT_S

    @property
    def achieved(self) -> float:
        return (len(self.tally.hb_ms) - self.tally.hb_errors) / self.seconds

    @property
    def p99(self) -> float:
        return percentile(self.tally.hb_ms, 99)

    @property
    def errors(self) -> int:
        return self.tally.hb_errors + self.tally.up_errors + self.tally.unfinished + \
            self.tally.poll_errors

    def verdict(self) -> str:
        why = []
        if self.p99 > P99_GOAL_MS:
            why.append(f"p99 > {P99_GOAL_MS:.0f} ms")
        if self.errors:
            why.append("errors")
        if not self.commands_ok:
            why.append("commands late or lost")
        if self.achieved < ACHIEVED * self.offered:
            why.append("below offered")
        if percentile(self.tally.lag_ms, 99) > 50:
            why.append("client lagging")
        return ", ".join(why) or "ok"

    @property
    def ok(self) -> bool:
        return self.p99 <= P99_GOAL_MS and not self.errors and self.commands_ok and \
            self.achieved >= ACHIEVED * self.offered

    def row(self) -> list[Any]:
        t, s = self.tally, self.seconds
        hb = t.hb_ms
        return [self.label, self.workers, f"{self.offered:.0f}", f"{self.achieved:.1f}",
                f"{median(hb):.1f}", f"{self.p99:.1f}", f"{max(hb, default=0):.0f}",
                self.errors, f"{t.uploads / s:.1f}", f"{t.events / s:.0f}",
                f"{percentile(t.up_ms, 99):.1f}", *self.command_cells(),
                f"{self.hub_cpu / s:.0%}",
                f"{self.hub_cpu / max(1, len(t.hb_ms) + len(t.up_ms)) * 1000:.1f}",
                "—" if self.db_cpu is None else f"{self.db_cpu / s:.0%}",
                f"{t.cpu_s / s:.0%}", f"{percentile(t.lag_ms, 99):.1f}",
                f"{self.others / s:.0%}", self.verdict()]

    def command_cells(self) -> list[str]:
        if not self.sent:
            return ["—", "—", "—"]
        got = self.delivery_s
        return [f"{len(got)}/{len(self.sent)}", f"{median(got):.2f}", f"{percentile(got, 99):.2f}"]

    @property
    def others(self) -> float:
        """CPU seconds of everything else on the machine in the window."""
        return max(0.0, self.busy - self.hub_cpu - (self.db_cpu or 0.0) - self.tally.cpu_s)


HEADER = ["N", "workers", "hb/s offered", "hb/s done", "hb median", "hb p99", "hb max",
          "errors", "uploads/s", "events/s", "upload p99", "commands delivered",
          "delivery median s", "delivery p99 s", "hub CPU", "hub ms/req", "PG CPU",
          "client CPU", "client lag p99", "others CPU", "verdict"]


def run_step(hub: Hub, url: str, idents: list[Identity], workers: int,
             args: argparse.Namespace, db_cpu: Callable[[], float] | None) -> Step:
    ctx = mp.get_context("spawn")
    pipes: list[Connection] = []
    procs = []
    for w in range(workers):
        parent, child = ctx.Pipe()
        p = ctx.Process(target=worker, daemon=True,
                        args=(child, idents[w::workers], hub.url, args.pool, args.seed + w,
                              not args.no_polls))
        p.start()
        pipes.append(parent)
        procs.append(p)
    try:
        for pipe in pipes:
            if not pipe.poll(60) or pipe.recv() != "ready":
                raise RuntimeError("a load-generator worker did not start")
        start_at = time.time() + 0.5
        for pipe in pipes:
            pipe.send((start_at, args.warm, args.seconds))
        begin = start_at + args.warm
        time.sleep(max(0.0, begin - time.time()))
        hub0, db0, busy0 = hub.cpu(), db_cpu() if db_cpu else 0.0, _busy()
        sent: dict[int, float] = {}
        if not args.no_polls:
            # an operator at the dashboard of another hub process: commands reach this hub
            # only through the database (its notifier's poll), the slowest path there is
            sent = operator(url, [i.station for i in idents], begin + args.seconds
                            - DELIVERY_GOAL_S - 1, args.seed)
        time.sleep(max(0.0, begin + args.seconds - time.time()))
        hub1, db1, busy1 = hub.cpu(), db_cpu() if db_cpu else 0.0, _busy()
        tally = Tally()
        for pipe in pipes:
            if not pipe.poll(60):
                raise RuntimeError("a load-generator worker did not report")
            tally.add(pipe.recv())
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    if hub.proc is not None and hub.proc.poll() is not None:
        raise RuntimeError(f"the hub exited during the step:\n{hub.log_tail()}")
    return Step(str(len(idents)), len(idents), workers, args.seconds, tally, hub1 - hub0,
                db1 - db0 if db_cpu else None, busy1 - busy0, sent)


def operator(url: str, stations: list[str], until: float, seed: int) -> dict[int, float]:
    """Queue an ``attract`` command to a random station COMMANDS_PER_S times a second."""
    # (commands, not heartbeats, are what an operator adds; 2/s is a busy control room)
    rng = random.Random(seed)
    db = hubdb.Database(url)
    sent: dict[int, float] = {}
    try:
        due = time.time()
        while due < until:
            time.sleep(max(0.0, due - time.time()))
            with db.write() as conn:
                now = time.time()
                cid = cmds.queue(conn, now, rng.choice(stations), "attract", {}, "bench", 60)
            sent[cid] = now
            due += 1 / COMMANDS_PER_S
    finally:
        db.dispose()
    return sent


# -- raw ingest -------------------------------------------------------------------

@dataclass
class Ingest:
    seconds: float
    batches: int
    acked: int
    stored: int
    errors: int
    ms: list[float]
    in_db: int
    resend_stored: int
    resend_dup: int
    hub_cpu: float
    db_cpu: float | None


async def ingest_run(hub: Hub, idents: list[Identity], seconds: float,
                     batch: int) -> tuple[float, list[float], int, int, int, int, int]:
    stations = [SimStation(i, random.Random(k)) for k, i in enumerate(idents)]
    ms: list[float] = []
    acked = stored = errors = 0
    last: dict[str, Any] = {}
    async with aiohttp.ClientSession(hub.url, timeout=aiohttp.ClientTimeout(total=60)) as client:
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def uploader(st: SimStation) -> None:
            nonlocal acked, stored, errors
            while time.perf_counter() < deadline:
                payload = {"events": st.events(batch)}
                took, err, r = await st.post(client, EV_PATH, payload)
                ms.append(took)
                if err or r is None:
                    errors += 1
                    continue
                reply = r
                acked += int(reply["ack"])
                stored += int(reply["stored"])
                last.update(st=st, payload=payload)

        await asyncio.gather(*(uploader(st) for st in stations))
        took_s = time.perf_counter() - t0
        # a retry after a lost reply: the same batch again must store nothing new
        _, _, r = await last["st"].post(client, EV_PATH, last["payload"])
        again = r if r is not None else {"stored": -1, "duplicates": -1}
    return took_s, ms, acked, stored, errors, int(again["stored"]), int(again["duplicates"])


def count_events(url: str, station: str | None = None) -> int:
    db = hubdb.Database(url)
    try:
        with db.read() as conn:
            return ingest.count_events(conn, station)
    finally:
        db.dispose()


def measure_ingest(hub: Hub, url: str, idents: list[Identity], args: argparse.Namespace,
                   db_cpu: Callable[[], float] | None) -> Ingest:
    hub0, db0 = hub.cpu(), db_cpu() if db_cpu else 0.0
    took, ms, acked, stored, errors, re_stored, re_dup = asyncio.run(
        ingest_run(hub, idents, args.ingest_seconds, args.batch))
    hub_cpu, dbc = hub.cpu() - hub0, (db_cpu() - db0) if db_cpu else None
    in_db = sum(count_events(url, i.station) for i in idents)
    return Ingest(took, len(ms), acked, stored, errors, ms, in_db, re_stored, re_dup,
                  hub_cpu, dbc)


# -- the run ----------------------------------------------------------------------

def profile(hub: Hub, args: argparse.Namespace, name: str) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the hub through a step's warm-up and window (``--py-spy DIR``)."""
    if not args.py_spy:
        return None
    assert hub.proc is not None
    out = Path(args.py_spy) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen([str(spy), "record", "--pid", str(hub.proc.pid), "--nonblocking",
                             "--rate", "50", "--format", "raw", "--output", str(out),
                             "--duration", str(int(args.warm + args.seconds + 2))],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def bench_backend(backend: str, args: argparse.Namespace) -> int | None:
    """Run every step and the ingest on one backend; the largest N that met the goal."""
    steps = sorted(int(s) for s in args.steps.split(","))
    uploaders = args.uploaders
    with database(backend) as (url, db_cpu):
        t = time.perf_counter()
        codes = make_codes(url, steps[-1] + uploaders)
        made = time.perf_counter() - t
        hub = Hub(url)
        hub.start()
        try:
            t = time.perf_counter()
            idents = asyncio.run(enrol_all(hub.url, codes))
            took = time.perf_counter() - t
            print(f"\n[{backend}] {len(codes)} codes made in the database in {made:.1f} s; "
                  f"{len(idents)} stations enrolled over HTTP (32 at a time) in {took:.1f} s "
                  f"({len(idents) / took:.0f}/s)", flush=True)
            fleet_ids, ingest_ids = idents[:steps[-1]], idents[steps[-1]:]
            done: list[Step] = []
            for n in steps:
                per = PER_WORKER_NO_POLLS if args.no_polls else PER_WORKER
                workers = args.workers or -(-n // per)
                for attempt in range(args.retries + 1):
                    spy = profile(hub, args, f"{backend}-{n}-{attempt}")
                    step = run_step(hub, url, fleet_ids[:n], workers, args, db_cpu)
                    if spy is not None:
                        spy.wait()
                    step.label += " (again)" if attempt else ""
                    done.append(step)
                    print(f"[{backend}] N={step.label}: p99 {step.p99:.1f} ms, "
                          f"{step.achieved:.0f}/{step.offered:.0f} hb/s, {step.errors} errors, "
                          f"others {step.others / step.seconds:.0%} CPU — {step.verdict()}",
                          file=sys.stderr, flush=True)
                    for p in step.tally.problems:
                        print(f"    {p}", file=sys.stderr)
                    if step.ok:
                        break
                if not step.ok:
                    break
            table(f"hub on {backend}: N stations, heartbeat every {HEARTBEAT_S:g} s, "
                  f"{EVENTS_PER_UPLOAD} events every {UPLOAD_S:g} s"
                  f"{'' if args.no_polls else ', a long poll each, 2 commands/s'}; "
                  f"{args.warm:g} s warm-up, "
                  f"then {args.seconds:g} s measured (latency ms; CPU as % of one core)",
                  HEADER, [s.row() for s in done])
            best = max((s.n for s in done if s.ok), default=None)
            acked = sum(s.tally.stored_all for s in done)
            print(f"\n[{backend}] fleet events acknowledged as stored: {acked}; in the database: "
                  f"{count_events(url)}")
            print(f"\n[{backend}] largest N with heartbeat p99 ≤ {P99_GOAL_MS:.0f} ms, no errors "
                  f"and ≥ {ACHIEVED:.0%} of the offered heartbeats: {best or 'none'}")
            problems = [p for s in done for p in s.tally.problems]
            if problems:
                print(f"[{backend}] first errors: " + "; ".join(problems[:3]))

            ing = measure_ingest(hub, url, ingest_ids, args, db_cpu)
        finally:
            hub.stop()
    runs = [("every 5 s, after the fleet", ing)]
    if args.ingest_baseline:
        runs += [("every 5 s, fresh database", fresh_ingest(backend, args, True)),
                 ("held off, fresh database", fresh_ingest(backend, args, False))]
    rate0 = runs[-1][1].stored / runs[-1][1].seconds
    rows = []
    for what, ing in runs:
        once = ing.in_db == ing.acked == ing.stored and ing.resend_stored == 0 and \
            ing.resend_dup == args.batch and not ing.errors
        rate = ing.stored / ing.seconds
        ratio = f"{rate / rate0:.2f}" if args.ingest_baseline else "—"
        rows.append([what, f"{rate:,.0f}", ratio, ing.batches,
                     f"{median(ing.ms):.1f}", f"{percentile(ing.ms, 99):.1f}", ing.errors,
                     f"{ing.in_db} / {ing.acked}", f"{ing.resend_stored}, {ing.resend_dup}",
                     f"{ing.hub_cpu / ing.seconds:.0%}",
                     "—" if ing.db_cpu is None else f"{ing.db_cpu / ing.seconds:.0%}",
                     "yes" if once else "NO"])
    table(f"raw ingest on {backend}: {uploaders} uploaders (one station each), "
          f"batches of {args.batch} events, as fast as acknowledged, "
          f"{args.ingest_seconds:g} s", ["summarising", "events/s stored", "ratio",
                                         "batches", "batch median ms", "batch p99 ms",
                                         "errors", "events in DB / acknowledged",
                                         "resent batch: stored, duplicates", "hub CPU",
                                         "PG CPU", "exactly once"], rows)
    return best


def fresh_ingest(backend: str, args: argparse.Namespace, summarising: bool) -> Ingest:
    """The raw ingest again on a fresh database, the hub summarising or not."""
    with database(backend) as (url, db_cpu):
        codes = make_codes(url, args.uploaders)
        hub = Hub(url, summaries=summarising)
        hub.start()
        try:
            idents = asyncio.run(enrol_all(hub.url, codes))
            return measure_ingest(hub, url, idents, args, db_cpu)
        finally:
            hub.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--steps", default=STEPS,
                    help=f"fleet sizes to try, smallest first (default {STEPS})")
    ap.add_argument("--seconds", type=float, default=40.0,
                    help="measured seconds per fleet size (default 40)")
    ap.add_argument("--warm", type=float, default=10.0,
                    help="warm-up seconds per fleet size, not measured (default 10)")
    ap.add_argument("--workers", type=int, default=0,
                    help=f"load-generator processes (default: one per {PER_WORKER} stations, "
                         f"{PER_WORKER_NO_POLLS} with --no-polls)")
    ap.add_argument("--pool", type=int, default=4,
                    help=f"keep-alive connections per HTTP client, one client per "
                         f"{STATIONS_PER_POOL} stations (default 4)")
    ap.add_argument("--no-polls", action="store_true",
                    help="leave out the command long polls (and the commands sent through them)")
    ap.add_argument("--uploaders", type=int, default=4, help="raw ingest: uploaders (default 4)")
    ap.add_argument("--batch", type=int, default=500, help="raw ingest: events per batch")
    ap.add_argument("--ingest-seconds", type=float, default=15.0,
                    help="raw ingest: seconds (default 15)")
    ap.add_argument("--ingest-baseline", action="store_true",
                    help="raw ingest: run it again on a fresh database with the hub's "
                         "summarising loop held off, and print the ratio")
    ap.add_argument("--retries", type=int, default=1,
                    help="run a fleet size that misses the goal again before stopping "
                         "(the machine may be shared; default 1)")
    ap.add_argument("--py-spy", metavar="DIR",
                    help="record the hub with py-spy (collapsed stacks) during each step")
    ap.add_argument("--priority", type=int, default=0, metavar="N",
                    help="run the bench, the hub and PostgreSQL N nice levels above other "
                         "processes (needs root): on a machine shared with other work, this "
                         "comes closer to one that runs only them (default 0)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 50 and 100 stations, 8 s each, 4 s of ingest")
    args = ap.parse_args()
    if args.quick:
        args.steps, args.seconds, args.warm, args.ingest_seconds = "50,100", 8.0, 3.0, 4.0
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    if args.priority:
        try:
            os.nice(-args.priority)  # everything started from here inherits it
        except PermissionError:
            sys.exit(f"--priority {args.priority} needs root (or CAP_SYS_NICE)")
    print(f"hub fleet bench: {psutil.cpu_count()} CPUs on this machine, shared by the hub, "
          "PostgreSQL and the load generator — the client competes with the hub for them "
          "(its CPU is the 'client CPU' column)."
          + (f" Bench, hub and PostgreSQL run at nice {os.nice(0)}." if args.priority else ""))
    best = {b: bench_backend(b, args) for b in backends}
    print("\nlargest fleet with heartbeat p99 ≤ 100 ms: " + ", ".join(
        f"{b} {n if n is not None else 'none'}" for b, n in best.items()))


if __name__ == "__main__":
    main()
