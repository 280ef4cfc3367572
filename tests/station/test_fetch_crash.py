"""Fault test 1, the download part: kill -9 at random points while a station fetches v2.

A real hub process (on SQLite and on PostgreSQL; a fork of this one) serves a
published v2 of an exhibit whose v1 runs on the station. A forked child — the
station — does what the delivery agent does with the real pieces: admit the
manifest, ask the store what it lacks, ``fetch_missing`` over HTTP into
``partial/``, stage (``check``), switch, confirm. It dies by SIGKILL at a point
drawn from a seeded random: two thirds at a byte offset of the download (in the
middle of a write to a partial file: the file is cut there), the rest at one of the
content store's file-system steps (``STEP``: taking an object in, the version
folder, the switch, the confirm and its gc).

After each kill a fresh store must find: ``current`` is v1 or v2 and complete (every
file with its manifest's hash; ``check`` passes on it), every file in objects/ hashes
to its name (no bad object was ever added), and a partial file is a true start of its
file, holding every byte written before the kill. Then the delivery runs again, to
the end: it downloads only the bytes the partial files do not hold yet (it resumes
with Range) and v2 runs. tests/station/test_content_crash.py kills the USB install
(unpack, check, switch, confirm, gc) at 210 more points.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import os
import random
import shutil
import signal
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PosixPath
from typing import IO, Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub._support import SignedStation, make_code
from showfloor.content import bundle as b
from showfloor.content.bundle import FileEntry, Manifest
from showfloor.content.lint import check
from showfloor.content.scaffold import scaffold
from showfloor.hub import bundles as hub_bundles
from showfloor.hub import db as hubdb
from showfloor.station import content_store as cs
from showfloor.station.content_store import ContentStore
from showfloor.station.fetch import fetch_missing

from ._fetch_support import fork_hub
from ._support import copy_data, run_killed

#: kills per database backend (a third of them at steps of the store)
RUNS = 25
SEED = 20261205
V1, V2 = "ex@1.0.0", "ex@2.0.0"
#: v2's new file (and its exhibit.yaml, changed)
NEW = {"media/extra.bin": 200_000}

Sign = Callable[[str, str, bytes], dict[str, str]]


@dataclass
class _Hub:
    """The hub as the station knows it, and v2 (its manifest, signature and files)."""

    url: str
    sign: Sign
    manifest: bytes
    sig: bytes
    trusted: dict[str, Ed25519PublicKey]
    #: v2's files by SHA-256
    files: dict[str, bytes]


# -- the kill points ---------------------------------------------------------------------

#: bytes the child may still write into partial files before it dies (None: no limit)
_WRITE_LEFT: int | None = None


class _Dying:
    """A partial file that kills its process once :data:`_WRITE_LEFT` bytes are written."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def write(self, data: bytes) -> int:
        global _WRITE_LEFT
        if _WRITE_LEFT is not None:
            if len(data) >= _WRITE_LEFT:  # the file ends where the write was cut
                self.f.write(data[:_WRITE_LEFT])
                self.f.flush()
                os.kill(os.getpid(), signal.SIGKILL)
            _WRITE_LEFT -= len(data)
        return self.f.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.f, name)

    def __enter__(self) -> _Dying:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


class _PartialPath(PosixPath):
    def open(self, mode: str = "r", *args: Any, **kw: Any) -> Any:
        f = super().open(mode, *args, **kw)
        return _Dying(f) if "b" in mode and ("w" in mode or "a" in mode) else f


class _Store:
    """The content store as ``fetch_missing`` sees it; its partial files can kill."""

    def __init__(self, store: ContentStore) -> None:
        self.store = store
        self.margin = store.margin

    def missing(self, manifest: Manifest) -> list[FileEntry]:
        return self.store.missing(manifest)

    def partial_path(self, sha256: str) -> Path:
        return _PartialPath(self.store.partial_path(sha256))

    def add_object(self, sha256: str) -> Path:
        return self.store.add_object(sha256)


# -- the station's side ------------------------------------------------------------------

def _deliver(data: Path, hub: _Hub) -> int:
    """The delivery agent's steps for v2 (as station/delivery.py takes them); the bytes
    downloaded."""
    store = ContentStore(data, keep=1)
    store.recover()
    verified = store.admit(hub.manifest, hub.sig, hub.trusted)
    missing = store.missing(verified.manifest)

    async def fetch() -> int:
        async with httpx.AsyncClient() as client:
            return await fetch_missing(client, hub.url, hub.sign, missing, _Store(store))

    fetched = asyncio.run(fetch()) if missing else 0
    name = store.stage(verified, hub.manifest, hub.sig).name
    store.activate(name)
    store.confirm(name)  # raises the floor and runs gc (keep=1: v1's own files go)
    return fetched


def _run_child(data: Path, hub: _Hub, *, byte: int | None = None, step: int | None = None
               ) -> int:
    """Fork; the child dies by SIGKILL after ``byte`` bytes of partial files or at its
    ``step``-th store step. Returns the wait status."""

    def work() -> None:  # in the child
        global _WRITE_LEFT
        _WRITE_LEFT = byte
        _deliver(data, hub)

    return run_killed(work, step)


# -- the test -------------------------------------------------------------------------

def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _pack(base: Path, folder: Path, version: str, key: Any, extra: dict[str, int]) -> Path:
    shutil.copytree(base, folder)
    y = folder / "exhibit.yaml"
    y.write_text(y.read_text("utf-8").replace("version: 0.1.0", f"version: {version}"),
                 "utf-8")
    rng = random.Random(version)
    for name, size in extra.items():
        (folder / name).write_bytes(rng.randbytes(size))
    out = folder.parent / f"ex-{version}.showfloor"
    b.pack(folder, "ex", version, key, out)
    return out


@pytest.fixture
def served(fast_dir: Path, db_url: str) -> Iterator[tuple[Path, _Hub]]:
    """v1 installed in a template data folder; a hub (on ``db_url``) with v2 published."""
    base = scaffold(fast_dir / "ex")
    key = b.new_key(fast_dir / "key.pem")
    trusted = {b.key_id(key.public_key()): key.public_key()}
    v1 = _pack(base, fast_dir / "src-1", "1.0.0", key, {})
    v2 = _pack(base, fast_dir / "src-2", "2.0.0", key, NEW)
    template = fast_dir / "template"
    store = ContentStore(template, keep=1)
    name = store.install_bundle(v1, trusted).name
    store.activate(name)
    store.confirm(name)
    code = make_code(db_url)
    db = hubdb.Database(db_url)
    try:
        hub_bundles.publish(db, v2, "test", trusted)
    finally:
        db.dispose()
    hub = fork_hub(db_url)
    station = SignedStation(hub.url)
    try:
        assert station.enrol(code).status_code == 200

        def sign(method: str, path: str, body: bytes = b"") -> dict[str, str]:
            return station.key.headers(station.station, method, path, body, time.time())

        with zipfile.ZipFile(v2) as zf:
            manifest = zf.read(b.MANIFEST)
            files = {f.sha256: (fast_dir / "src-2" / f.path).read_bytes()
                     for f in b.parse_manifest(manifest).files}
            yield template, _Hub(hub.url, sign, manifest, zf.read(b.SIGNATURE), trusted,
                                 files)
    finally:
        station.client.close()
        hub.stop()


def test_kill_9_while_a_version_downloads_then_the_fetch_resumes(
        fast_dir: Path, served: tuple[Path, _Hub], db_url: str) -> None:
    template, hub = served
    manifests = {V1: b.parse_manifest((template / "content" / "current" / b.MANIFEST)
                                      .read_bytes()),
                 V2: b.parse_manifest(hub.manifest)}
    lacking = ContentStore(template).missing(manifests[V2])
    assert {f.path for f in lacking} >= set(NEW)
    total = sum(f.size for f in lacking)

    # one full delivery, its store steps counted
    full = fast_dir / "full"
    copy_data(template, full)
    counted: list[str] = []
    cs.STEP = counted.append
    try:
        assert _deliver(full, hub) == total
    finally:
        cs.STEP = None
    shutil.rmtree(full)
    assert len(counted) > 30, counted

    backend = db_url.split(":")[0].split("+")[0]
    rng = random.Random(f"{SEED}-{backend}")
    # two thirds in the download (a byte offset of it), a third at a store step
    points: list[tuple[str, int]] = [("byte", rng.randrange(total)) for _ in range(RUNS * 2 // 3)]
    points += [("step", rng.randint(1, len(counted))) for _ in range(RUNS - len(points))]
    rng.shuffle(points)
    outcomes: collections.Counter[str] = collections.Counter()
    resumed = 0
    checked: set[str] = set()
    for run, (kind, n) in enumerate(points):
        data = fast_dir / f"run{run}"
        copy_data(template, data)
        status = _run_child(data, hub, **{kind: n})
        where = (kind, n, counted[n - 1] if kind == "step" else "")
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (where,
                                                                                    status)
        # a fresh start: the old or the new version, whole and checkable
        store = ContentStore(data, keep=1)
        now = store.recover()
        assert now in (V1, V2), (where, now)
        running = data / "content" / "current"
        for f in manifests[now].files:
            assert _sha(running / f.path) == f.sha256, (where, f.path)
        if now not in checked:
            report = check(running)
            assert report.ok, (where, report.errors[:3])
            checked.add(now)
        # no bad object, and a partial file is the start of its file
        for obj in store.objects.iterdir():
            assert _sha(obj) == obj.name, (where, obj.name)
        held = 0
        for f in store.missing(manifests[V2]):
            part = store.partial_path(f.sha256)
            if part.exists():
                got = part.read_bytes()
                assert len(got) <= f.size, (where, f.path)
                assert got == hub.files[f.sha256][:len(got)], (where, f.path)
                held += len(got)
        if kind == "byte":  # every byte written before the kill is kept, taken in or partial
            taken = sum(f.size for f in lacking if store.has_object(f.sha256))
            assert taken + held == n, (where, taken, held)
        # the delivery again, to the end: only what the partial files lack is downloaded
        left = sum(f.size for f in store.missing(manifests[V2]))
        fetched = _deliver(data, hub)
        assert fetched == left - held, (where, fetched, left, held)
        resumed += held > 0
        assert ContentStore(data).current() == V2
        for f in manifests[V2].files:
            assert _sha(running / f.path) == f.sha256, (where, f.path)
        assert not any(store.partial.iterdir()), where
        outcomes[now] += 1
        shutil.rmtree(data)
    kinds = collections.Counter(k for k, _ in points)
    print(f"\nkill -9 runs while downloading ({backend}): {RUNS} "
          f"({kinds['byte']} at byte offsets of {total:,}, {kinds['step']} at store steps of "
          f"{len(counted)}; seed {SEED}); after restart: {dict(outcomes)}; resumed from a "
          f"partial file: {resumed}")
    assert sum(outcomes.values()) == RUNS and outcomes[V1] and resumed


@pytest.fixture(autouse=True)
def _no_hook() -> Iterator[None]:
    yield
    cs.STEP = None
