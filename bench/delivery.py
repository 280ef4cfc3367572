"""Delivery of a 50 MB bundle from one hub to N stations, per file, on loopback.

A real hub process (``python -m showfloor hub``) on a throwaway SQLite file (or,
with ``--backend postgresql``, a PostgreSQL cluster of its own) gets a 50 MB
bundle published over HTTP (``POST /api/v1/bundles``, as ``showfloor hub
publish`` sends it). Then N stations — in this one process, asyncio, each with
its own Ed25519 identity (enrolled with a code), its own ``httpx.AsyncClient`` and
its own :class:`~showfloor.station.content_store.ContentStore` in a temporary
folder — run the real station code all at once: fetch the manifest, ``admit`` it
(signature, expiry, floor), and :func:`showfloor.station.fetch.fetch_missing`
(free-space check, download to ``partial/``, size and SHA-256 check, into
``objects/``, synced). All stations write to one disk here, so with the stores on
disk the figure is mostly that disk's synced write speed; ``--stores /dev/shm``
shows the hub and the network instead. Not included: ``stage`` (which runs ``showfloor check`` on the
version folder) and the switch — those are the store's and the agent's; ``bench/rollout.py``
measures the whole path (a rollout made on the hub, canaries, the delivery agent, the
switch with a real station and Chromium).

Measured: time until every station holds every file, each station's time
(median / p99), bytes the hub sent, the hub process's CPU (user + system over
the window, % of one core). Then a new version that changes one caption is
published and every station fetches again: bytes per station (the manifest
answer + the one file). Last, the station's hash check (the content store's, run
once per file as it takes the download: SHA-256 of a 50 MB file in the page cache)
on one core, MB/s.

    .venv/bin/python bench/delivery.py --stations 10
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, percentile, table
from showfloor import fleet
from showfloor.content import bundle
from showfloor.hub import bundles as hubstore
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment, users
from showfloor.station.content_store import ContentStore
from showfloor.station.content_store import _hash_file as hash_file
from showfloor.station.fetch import fetch_manifest, fetch_missing

PASSWORD = "bench-operator-1"
MB = 1_000_000


def write_exhibit(root: Path, caption: str, total: int) -> None:
    """~``total`` bytes: 24 media files of random bytes, 40 small texts, one caption file."""
    rng = random.Random(7)
    media = total // 24
    for i in range(24):
        p = root / "media" / f"clip-{i:02d}.bin"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rng.randbytes(media))
    for i in range(40):
        p = root / "text" / f"label-{i:02d}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"label {i}\n" * 50)
    (root / "text" / "captions.txt").write_text((caption + "\n") * 100)


def hub_cpu(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Station:
    sid: str
    key: fleet.StationKey
    store: ContentStore
    client: httpx.AsyncClient | None = None

    def sign(self, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        return self.key.headers(self.sid, method, path, body, time.time())


async def deliver(st: Station, base: str, bundle_id: int, trusted: Any) -> tuple[float, int]:
    """One station: manifest, admit, fetch what it lacks. (seconds, bytes received)."""
    assert st.client is not None
    t0 = time.perf_counter()
    manifest, sig = await fetch_manifest(st.client, base, st.sign, bundle_id)
    got = len(base64.b64encode(manifest)) + len(base64.b64encode(sig))
    await asyncio.to_thread(st.store.admit, manifest, sig, trusted, time.time())
    missing = st.store.missing(bundle.parse_manifest(manifest))
    got += await fetch_missing(st.client, base, st.sign, missing, st.store)
    return time.perf_counter() - t0, got


async def run_all(stations: list[Station], base: str, bundle_id: int, trusted: Any
                  ) -> tuple[float, list[float], list[int]]:
    for s in stations:  # a client (two connections) each, made in this event loop
        s.client = httpx.AsyncClient(limits=httpx.Limits(max_connections=2), timeout=120)
    t0 = time.perf_counter()
    try:
        done = await asyncio.gather(*(deliver(s, base, bundle_id, trusted)
                                      for s in stations))
    finally:
        for s in stations:
            if s.client is not None:
                await s.client.aclose()
    return time.perf_counter() - t0, [d[0] for d in done], [d[1] for d in done]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--stations", type=int, default=10)
    ap.add_argument("--size", type=int, default=50, help="bundle size, MB")
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--stores", type=Path, default=None,
                    help="where the stations' content stores go (default: the temporary "
                    "folder, on disk; /dev/shm takes the disk's fsyncs out of the figure)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="showfloor-delivery-") as tmp_name:
        tmp = Path(tmp_name)
        pg = None
        if args.backend == "postgresql":
            from showfloor.hub.devdb import TempPostgres

            pg = TempPostgres()
            pg.start()
            url = pg.create_database("delivery")
        else:
            url = f"sqlite:///{tmp}/hub.sqlite"
        key = bundle.new_key(tmp / "publisher.pem")
        (tmp / "publisher.trust").write_text(bundle.public_text(key.public_key()) + "\n")
        trusted = {bundle.key_id(key.public_key()): key.public_key()}
        db = hubdb.Database(url)
        hubdb.upgrade(db)
        with db.write() as conn:
            users.create(conn, time.time(), "bench", PASSWORD, "operator", "bench")
            hall = enrolment.ensure_hall(conn, time.time(), "Bench hall")
            codes = [enrolment.create_code(conn, time.time(), hall, "bench")
                     for _ in range(args.stations)]
        stores = Path(tempfile.mkdtemp(prefix="showfloor-stations-", dir=args.stores))
        bundles = []
        for version, caption in (("1.0.0", "Welcome"), ("1.0.1", "Welcome!")):
            src = tmp / f"exhibit-{version}"
            write_exhibit(src, caption, args.size * MB)
            out = tmp / f"bench-{version}.showfloor"
            bundle.pack(src, "bench", version, key, out)
            bundles.append(out)

        port = 18000 + random.randrange(1000)
        env = {**os.environ, "SHOWFLOOR_HUB_TRUSTED_KEYS": str(tmp / "publisher.trust")}
        hub = subprocess.Popen([sys.executable, "-m", "showfloor", "hub", "--db", url,
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            t0 = time.perf_counter()
            status, body = hubstore.upload(base, bundles[0], "bench", PASSWORD)
            publish_s = time.perf_counter() - t0
            assert status == 201, body
            v1 = body["bundle"]

            stations = []
            for i, code in enumerate(codes):
                k = fleet.StationKey.generate()
                r = httpx.post(f"{base}{fleet.API}/enrol", json={
                    "code": code, "public_key": k.public(), "profile": "touch"}, timeout=30)
                r.raise_for_status()
                stations.append(Station(r.json()["station"], k,
                                        ContentStore(stores / f"station-{i}")))

            cpu0, w0 = hub_cpu(hub.pid), time.perf_counter()
            wall, each, got = asyncio.run(run_all(stations, base, v1, trusted))
            cpu = (hub_cpu(hub.pid) - cpu0) / (time.perf_counter() - w0)

            status, body = hubstore.upload(base, bundles[1], "bench", PASSWORD)
            assert status == 201, body
            assert body["new_objects"] == 1, body
            v2 = body["bundle"]
            cpu1, w1 = hub_cpu(hub.pid), time.perf_counter()
            wall2, each2, got2 = asyncio.run(run_all(stations, base, v2, trusted))
            cpu2 = (hub_cpu(hub.pid) - cpu1) / (time.perf_counter() - w1)
            caption_size = len(("Welcome!" + "\n") * 100)
        finally:
            hub.terminate()
            hub.wait(15)
            db.dispose()
            if pg is not None:
                pg.stop()
            shutil.rmtree(stores, ignore_errors=True)

        n = args.stations
        where = "tmpfs" if args.stores else "disk"
        table(f"Per-file delivery, {args.backend}, {n} in-process stations (stores on "
              f"{where}), one hub process, loopback",
              ["step", "stations", "all done s", "per station median / p99 s",
               "bytes per station", "hub sent MB", "hub CPU %"], [
            ["publish 50 MB (upload + verify + store)", "-", f"{publish_s:.1f}", "-", "-",
             "-", "-"],
            [f"first delivery ({args.size} MB)", n, f"{wall:.1f}",
             f"{median(each):.1f} / {percentile(each, 99):.1f}", f"{median(got):,.0f}",
             f"{sum(got) / MB:,.0f}", f"{cpu * 100:.0f}"],
            ["one-caption update", n, f"{wall2:.2f}",
             f"{median(each2):.2f} / {percentile(each2, 99):.2f}",
             f"{median(got2):,.0f} (caption {caption_size:,} + manifest)",
             f"{sum(got2) / MB:,.2f}", f"{cpu2 * 100:.0f}"]])

        big = max((p for p in (tmp / "exhibit-1.0.0" / "media").iterdir()),
                  key=lambda p: p.stat().st_size)
        probe = tmp / "probe.bin"
        with probe.open("wb") as f:
            for _ in range(args.size * MB // big.stat().st_size + 1):
                f.write(big.read_bytes())
        size = probe.stat().st_size
        hash_file(probe)  # into the page cache
        rates = []
        for _ in range(5):
            t0 = time.perf_counter()
            hash_file(probe)
            rates.append(size / MB / (time.perf_counter() - t0))
        table("Station hash check (what ContentStore.add_object runs: SHA-256 of a file in "
              "the page cache), "
              "one core", ["file MB", "median MB/s", "slowest MB/s"],
              [[f"{size / MB:.0f}", f"{median(rates):,.0f}", f"{min(rates):,.0f}"]])


if __name__ == "__main__":
    main()
