"""A rollout of a 50 MB bundle to N stations, then a one-caption update, then the switch.

What is real: a hub process (``python -m showfloor hub``, SQLite or, with
``--backend postgresql``, a PostgreSQL cluster of its own) with its own rollout
loop; the bundle published over HTTP (``POST /api/v1/bundles``, what ``showfloor
hub publish`` sends); the rollout made with :func:`showfloor.hub.rollouts.create`
(what the dashboard's form calls, here from this process into the same
database), canaries first, the rest once the canaries have been running and
online for ``--healthy`` seconds — the hub's own loop decides and queues each
``deploy`` command. Each station is enrolled with a one-time code and has its
own Ed25519 identity, data folder and content store; in this one process
(asyncio) it runs the real :class:`~showfloor.station.uplink.Uplink` heartbeat
and command long-poll loops (signed requests, commands acknowledged) and the real
:class:`~showfloor.station.delivery.DeliveryAgent`: manifest → admit (signature,
expiry, floor) → fetch only the missing files (free-space check, Range-able
download to ``partial/``, size + SHA-256, into ``objects/``) → stage (the
version folder, ``showfloor check`` on it) → check again → activate (the
atomic ``current`` switch) → confirm (floor, gc) → ``POST
/api/v1/deploy/status`` at every state.

What is not: the exhibit engine and the renderer. Each in-process station
stands in for :class:`~showfloor.station.app.Station` with a small object
that is always idle, whose ``switch_to`` only records the new exhibit and whose
``wait_drawn`` answers at once (a hundred engines and browsers do not fit on
two cores). That part — an idle moment to the new attract view drawn — is
measured on its own afterwards with a real station process and a real
Chromium page (the station's ``/healthz`` ``switch.drawn_after``), over
``--switches`` USB-installed versions.

"Time to all running" is what the hub's rollout page shows: from the rollout's
creation until every station's row says ``running`` (the hub's
``running_since``). Bytes: the HTTP body bytes every station received from the
hub (counted in each station's HTTP transport; headers not counted), split into
objects, manifests and the rest (heartbeats, commands, reports). Hub CPU: user
+ system seconds of the hub process over the window, as % of one core.

    .venv/bin/python bench/rollout.py --stations 100 --stores /dev/shm
    .venv/bin/python bench/rollout.py --stations 20 --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import median, percentile, table
from showfloor.content import bundle
from showfloor.content.lint import DEFAULT_DISPLAY
from showfloor.content.scaffold import scaffold
from showfloor.hub import bundles as hubstore
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment, rollouts, users
from showfloor.station import uplink as uplink_mod
from showfloor.station.content_store import ContentStore
from showfloor.station.content_store import _hash_file as hash_file
from showfloor.station.delivery import DeliveryAgent
from showfloor.station.store import EventStore

PASSWORD = "bench-operator-1"
MB = 1_000_000
CAPTION = "media/captions.vtt"


def hub_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    """User + system CPU seconds of this process (the stations) so far, threads included."""
    t = os.times()
    return t.user + t.system


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


# -- the exhibit --------------------------------------------------------------------------


def make_exhibit(root: Path, total: int) -> Path:
    """A ``showfloor new`` exhibit plus ~``total`` bytes of media and a caption file."""
    src = scaffold(root)
    rng = random.Random(7)
    for i in range(24):
        p = src / "media" / "clips" / f"clip-{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rng.randbytes(total // 24))
    return src


def pack_version(src: Path, version: str, caption: str, key: Any, out: Path) -> Path:
    """Pack ``src`` as ``version`` with ``caption`` (exhibit.yaml carries the version)."""
    text = (src / "exhibit.yaml").read_text()
    lines = [ln if not ln.startswith("version: ") else f"version: {version}"
             for ln in text.splitlines()]
    (src / "exhibit.yaml").write_text("\n".join(lines) + "\n")
    (src / CAPTION).write_text(f"WEBVTT\n\n00:00.000 --> 00:04.000\n{caption}\n")
    bundle.pack(src, "ex", version, key, out)
    return out


# -- counting what the hub sends ------------------------------------------------------------


class _Counted(httpx.AsyncByteStream):
    def __init__(self, inner: Any, counts: dict[str, int], what: str) -> None:
        self.inner, self.counts, self.what = inner, counts, what

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            self.counts[self.what] += len(chunk)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


class CountingTransport(httpx.AsyncBaseTransport):
    """httpx's own transport; counts the response body bytes (as sent, before decoding)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_connections=4))
        self.counts = {"objects": 0, "manifest": 0, "other": 0}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        path = request.url.path
        what = ("objects" if "/objects/" in path else
                "manifest" if "/bundles/" in path else "other")
        resp.stream = _Counted(resp.stream, self.counts, what)
        return resp

    async def aclose(self) -> None:
        await self.inner.aclose()

    def take(self) -> dict[str, int]:
        got = dict(self.counts)
        for k in self.counts:
            self.counts[k] = 0
        return got


# -- an in-process station: real uplink and delivery agent, no engine or renderer ----------


class BenchStation:
    """What :class:`Uplink` and :class:`DeliveryAgent` use of a Station; always idle,
    ``switch_to`` records the new exhibit, a surface "draws" at once."""

    def __init__(self, data: Path, trust: Path) -> None:
        self.data = data
        self.exhibit = SimpleNamespace(id="ex", version="0.0.0")
        self.profile = SimpleNamespace(display=DEFAULT_DISPLAY)
        self.store = None
        self.metrics: dict[str, Any] = {}
        self.last_input_wall = None
        self.last_switch: dict[str, Any] | None = None
        self.clock = time.time
        self.started = time.time()
        self.content = ContentStore(data)
        self.delivery = DeliveryAgent(self, self.content, data,  # type: ignore[arg-type]
                                      trust=[str(trust)], health_seconds=60)
        self.transport = CountingTransport()
        self.up: Any = None
        self.times: dict[str, float] = {}
        self.tasks: list[asyncio.Task[None]] = []
        report = self.delivery.report

        def timed(state: str, **kw: Any) -> None:
            self.times.setdefault(state, time.time())
            report(state, **kw)

        self.delivery.report = timed  # type: ignore[method-assign]

    def idle(self) -> bool:
        return True

    async def switch_to(self, root: Path, exhibit: Any = None) -> float:
        at = time.time()
        old = self.exhibit
        self.exhibit = SimpleNamespace(id=exhibit.id, version=exhibit.version)
        self.last_switch = {"at": at, "exhibit": exhibit.id, "version": exhibit.version,
                            "previous": old.version, "drawn_after": 0.0}
        return at

    async def wait_drawn(self, since: float, timeout: float) -> str | None:
        return "bench"

    def status(self) -> dict[str, Any]:
        return {"exhibit": self.exhibit.id, "version": self.exhibit.version,
                "scene": "attract", "phase": "attract", "lang": "en",
                "uptime": time.time() - self.started, "surfaces": ["bench"],
                "closed": False, "screen": "on", "kiosk": None,
                "content": self.delivery.content()}

    async def start(self, ident: Any) -> None:
        EventStore(self.data / "events.sqlite").close()  # the log the uplink's outbox reads
        self.up = uplink_mod.Uplink(self, ident, self.data / "events.sqlite",  # type: ignore[arg-type]
                                    self.data)
        self.up._client = httpx.AsyncClient(transport=self.transport)
        self.delivery.uplink = self.up
        await self.delivery.start()
        self.tasks = [asyncio.create_task(self.up._heartbeat_loop()),
                      asyncio.create_task(self.up._command_loop())]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.delivery.stop()
        if self.up is not None:
            await self.up.stop()


# -- one rollout -----------------------------------------------------------------------------


def rollout_rows(db: hubdb.Database, rid: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    with db.read() as conn:
        d = rollouts.detail(conn, rid)
    assert d is not None
    return d, d["stations"]


async def one_rollout(db: hubdb.Database, hub_pid: int, hall: str, bundle_id: int,
                      stations: list[BenchStation], canary: int, healthy: float,
                      limit: float) -> dict[str, Any]:
    for s in stations:
        s.times.clear()
        s.transport.take()
    cpu0, own0, t0 = hub_cpu(hub_pid), _own_cpu(), time.time()
    with db.write() as conn:
        rid = rollouts.create(conn, time.time(), bundle_id, "hall", hall, canary, "stations",
                              healthy, "bench")
    created = time.time()
    last = ""
    while True:
        d, rows = await asyncio.to_thread(rollout_rows, db, rid)
        counts = " ".join(f"{k} {v}" for k, v in sorted(d["counts"].items()))
        if counts != last:
            print(f"  {time.time() - created:6.1f} s  rollout {rid} {d['state']}: {counts}",
                  flush=True)
            last = counts
        # done: every station settled, and the hub's loop has closed the rollout
        if d["state"] in ("done", "halted", "cancelled") or time.time() - created > limit:
            break
        await asyncio.sleep(0.25)
    wall = time.time() - created
    window = max(1e-6, time.time() - t0)
    cpu_s, own_s = hub_cpu(hub_pid) - cpu0, _own_cpu() - own0
    got = [s.transport.take() for s in stations]
    running = [r for r in rows if r["state"] == "running" and r["running_since"]]
    canaries = [r["running_since"] - created for r in running if r["stage"] == "canary"]
    rest = [r["running_since"] - created for r in running if r["stage"] == "rest"]
    # each station, from its deploy command to running (the station's own clock)
    own = [s.times["running"] - s.times["queued"] for s in stations
           if "running" in s.times and "queued" in s.times]
    fetch = [s.times["verified"] - s.times["downloading"] for s in stations
             if "verified" in s.times and "downloading" in s.times]
    runs = sum(s.content.current() == f"ex@{d['version']}" for s in stations)
    return {"rollout": rid, "state": d["state"], "current": runs, "counts": d["counts"], "wall": wall,
            "all_running": max((r["running_since"] for r in running), default=created)
            - created, "cpu_s": cpu_s, "cpu": cpu_s / window, "own_s": own_s,
            "own_cpu": own_s / window, "canaries": canaries, "rest": rest, "own": own,
            "fetch": fetch, "bytes": got, "failed": [
                (r["name"], r["state"], r["reason"]) for r in rows
                if r["state"] != "running"]}


async def run_rollouts(db: hubdb.Database, hub_pid: int, hall: str, base: str,
                       idents: list[Any], datas: list[Path], trust: Path,
                       bundle_ids: list[int], args: argparse.Namespace
                       ) -> list[dict[str, Any]]:
    stations = [BenchStation(d, trust) for d in datas]
    for s, ident in zip(stations, idents, strict=True):
        await s.start(ident)
    try:
        # every station has said hello (a heartbeat), so the canaries count as online
        while True:
            with db.read() as conn:
                rows = rollouts.targets(conn, "hall", hall)
            if all(r["heartbeat"] for r in rows):
                break
            await asyncio.sleep(0.5)
        out = []
        for bid in bundle_ids:
            print(f"rollout of bundle {bid} to {len(stations)} stations (load {load()})",
                  flush=True)
            res = await one_rollout(db, hub_pid, hall, bid, stations, args.canary,
                                    args.healthy, args.limit)
            res["load"] = load()
            out.append(res)
            if res["failed"]:
                print(f"  not running: {res['failed'][:5]}", flush=True)
                break
        return out
    finally:
        await asyncio.gather(*(s.stop() for s in stations), return_exceptions=True)


# -- the switch, with a real station and a real page -------------------------------------------

SWITCH_PROFILE = """\
station: {id: switch-bench, name: Switch bench}
delivery: {trust: [trust.txt], health_seconds: 20}
"""


def switch_bench(tmp: Path, key: Any, n: int) -> list[float]:
    """``n`` versions installed by USB into a real station process with a Chromium page on
    it; each ``switch.drawn_after`` (idle moment → the new attract view drawn), s."""
    from playwright.sync_api import sync_playwright

    from e2e._browser import ARGS, CHROMIUM, open_surface
    from station._support import start_station

    src = scaffold(tmp / "switch-src" / "ex")
    keys = {bundle.key_id(key.public_key()): key.public_key()}
    versions = [f"2.0.{i}" for i in range(n + 1)]
    out = {v: pack_version(src, v, f"Caption {v}", key, tmp / f"sw-{v}.showfloor")
           for v in versions}
    prof = tmp / "switch-station"
    prof.mkdir()
    (prof / "trust.txt").write_text(bundle.public_text(key.public_key()) + "\n")
    (prof / "station.yaml").write_text(SWITCH_PROFILE)
    data = tmp / "switch-data"
    store = ContentStore(data)
    first = store.install_bundle(out[versions[0]], keys).name
    store.activate(first)
    store.confirm(first)
    st = start_station(prof / "station.yaml", data=data)
    took = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            open_surface(browser, st.port)
            for v in versions[1:]:
                store.install_bundle(out[v], keys)  # `showfloor install`; the agent switches
                end = time.monotonic() + 60
                while True:
                    h = st.health()
                    sw = h.get("switch") or {}
                    if h["version"] == v and sw.get("version") == v and \
                            sw.get("drawn_after") is not None and \
                            h["content"]["state"] == "running":
                        took.append(float(sw["drawn_after"]))
                        break
                    if time.monotonic() > end:
                        raise SystemExit(f"version {v} was not running and drawn within 60 s: "
                                         f"{h.get('content')} {sw}")
                    time.sleep(0.05)
            browser.close()
    finally:
        st.stop()
    return took


# -- main ---------------------------------------------------------------------------------------


def rollout_bench(args: argparse.Namespace, tmp: Path, key: Any, trust: Path, src: Path
                  ) -> None:
    """The two rollouts (the 50 MB bundle, then the one-caption update); prints the table."""
    pg = None
    if args.backend == "postgresql":
        from showfloor.hub.devdb import TempPostgres

        pg = TempPostgres()
        pg.start()
        url = pg.create_database("rollout")
    else:
        url = f"sqlite:///{tmp}/hub.sqlite"
    db = hubdb.Database(url)
    hubdb.upgrade(db)
    with db.write() as conn:
        users.create(conn, time.time(), "bench", PASSWORD, "operator", "bench")
        hall = enrolment.ensure_hall(conn, time.time(), "Bench hall")
        codes = [enrolment.create_code(conn, time.time(), hall, "bench")
                 for _ in range(args.stations)]
    b1 = pack_version(src, "1.0.0", "Welcome", key, tmp / "ex-1.0.0.showfloor")
    b2 = pack_version(src, "1.0.1", "Welcome!", key, tmp / "ex-1.0.1.showfloor")
    caption_size = (src / CAPTION).stat().st_size
    yaml_size = (src / "exhibit.yaml").stat().st_size
    stores = Path(tempfile.mkdtemp(prefix="showfloor-stations-", dir=args.stores))

    port = 18000 + random.randrange(1000)
    env = {**os.environ, "SHOWFLOOR_HUB_TRUSTED_KEYS": str(trust)}
    hub = subprocess.Popen([sys.executable, "-m", "showfloor", "hub", "--db", url,
                            "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        t0 = time.perf_counter()
        status, body = hubstore.upload(base, b1, "bench", PASSWORD)
        publish_s = time.perf_counter() - t0
        assert status == 201, body
        v1 = body["bundle"]
        t0 = time.perf_counter()
        status, body = hubstore.upload(base, b2, "bench", PASSWORD)
        publish2_s = time.perf_counter() - t0
        assert status == 201, body
        new_objects = body.get("new_objects")
        v2 = body["bundle"]

        idents, datas = [], []
        for i, code in enumerate(codes):
            data = stores / f"station-{i:03d}"
            idents.append(uplink_mod.enrol(base, code, "touch", f"bench-{i:03d}", data))
            datas.append(data)
        results = asyncio.run(run_rollouts(db, hub.pid, hall, base, idents, datas, trust,
                                           [v1, v2], args))
    finally:
        hub.terminate()
        hub.wait(15)
        db.dispose()
        if pg is not None:
            pg.stop()
        shutil.rmtree(stores, ignore_errors=True)

    n = args.stations
    where = "tmpfs" if args.stores else "disk"
    rows: list[list[Any]] = [
        [f"publish {args.size} MB (upload + verify + store)", "-", f"{publish_s:.1f}",
         "-", "-", "-", "-", "-", "-", "-", "-"],
        [f"publish the update ({new_objects} new files)", "-", f"{publish2_s:.1f}",
         "-", "-", "-", "-", "-", "-", "-", "-"]]
    for what, r in zip((f"first rollout ({args.size} MB)", "one-caption update"),
                       results, strict=False):
        per = [sum(b.values()) for b in r["bytes"]]
        obj = [b["objects"] for b in r["bytes"]]
        man = [b["manifest"] for b in r["bytes"]]
        sent = sum(per)
        done = r["counts"].get("running", 0)
        rows.append([
            what, f"{done}/{n} running ({r['current']} with it current)", f"{r['all_running']:.1f}",
            f"{median(r['canaries']):.1f} / {percentile(r['canaries'], 99):.1f}",
            f"{median(r['rest']):.1f} / {percentile(r['rest'], 99):.1f}",
            f"{median(r['own']):.2f} / {percentile(r['own'], 99):.2f}",
            f"{median(obj):,.0f} + {median(man):,.0f} / {percentile(per, 99):,.0f}",
            f"{sent / MB:,.2f}", f"{r['cpu_s']:.1f} ({r['cpu'] * 100:.0f} %)",
            f"{r['own_s']:.1f} ({r['own_cpu'] * 100:.0f} %)",
            r["load"]])
    table(f"Rollout, {args.backend} hub (one process), {n} in-process stations "
          f"(data on {where}), {args.canary} canary station(s) healthy for {args.healthy:g} s, "
          "loopback",
          ["step", "stations", "all running s", "canary running at, median / p99 s",
           "rest running at, median / p99 s",
           "per station, command → running, median / p99 s",
           "bytes per station: files + manifest (median) / all (p99)",
           "hub sent MB", "hub CPU s (% of a core)",
           "stations' process CPU s (% of a core)", "load avg"], rows)
    if len(results) > 1:
        print(f"\n(the update changes {CAPTION}, {caption_size} bytes, and exhibit.yaml, "
              f"{yaml_size} bytes, whose version line changes with every version)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--stations", type=int, default=20)
    ap.add_argument("--size", type=int, default=50, help="bundle size, MB")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--canary", type=int, default=5, help="canary stations")
    ap.add_argument("--healthy", type=float, default=5.0,
                    help="seconds the canaries run before the rest get the version")
    ap.add_argument("--limit", type=float, default=900.0,
                    help="give a rollout up to this many seconds")
    ap.add_argument("--switches", type=int, default=12,
                    help="switches measured with a real station and Chromium (0: none)")
    ap.add_argument("--stores", type=Path, default=None,
                    help="where the stations' data folders go (default: the temporary "
                    "folder, on disk; /dev/shm takes the disk's fsyncs out of the figure)")
    args = ap.parse_args()
    print(f"load average at the start: {load()} ({os.cpu_count()} CPUs)", flush=True)

    with tempfile.TemporaryDirectory(prefix="showfloor-rollout-") as tmp_name:
        tmp = Path(tmp_name)
        key = bundle.new_key(tmp / "publisher.pem")
        trust = tmp / "publisher.trust"
        trust.write_text(bundle.public_text(key.public_key()) + "\n")
        src = make_exhibit(tmp / "src" / "ex", args.size * MB)
        if args.stations:
            rollout_bench(args, tmp, key, trust, src)
        if args.switches:
            took = switch_bench(tmp, key, args.switches)
            print("\nswitches, s: " + " ".join(f"{x:.3f}" for x in took))
            table(f"Switch, idle moment → the new attract view drawn (a real station process, "
                  f"Chromium, {len(took)} USB-installed versions)",
                  ["switches", "median s", "p99 s", "max s", "load avg"],
                  [[len(took), f"{median(took):.3f}", f"{percentile(took, 99):.3f}",
                    f"{max(took):.3f}", load()]])

        probe = tmp / "probe.bin"
        with probe.open("wb") as f:
            for p in sorted((src / "media" / "clips").iterdir()):
                f.write(p.read_bytes())
        size = probe.stat().st_size
        hash_file(probe)  # into the page cache
        rates, cpu_rates = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.thread_time()
            hash_file(probe)
            rates.append(size / MB / (time.perf_counter() - t0))
            cpu_rates.append(size / MB / max(1e-9, time.thread_time() - c0))
        table("Station hash check (ContentStore's: SHA-256 of a file in the page cache), "
              "one thread", ["file MB", "median MB/s (wall)", "slowest MB/s (wall)",
                             "median MB per CPU second (one core, not counting time "
                             "other processes took)", "load avg"],
              [[f"{size / MB:.0f}", f"{median(rates):,.0f}", f"{min(rates):,.0f}",
                f"{median(cpu_rates):,.0f}", load()]])


if __name__ == "__main__":
    main()
