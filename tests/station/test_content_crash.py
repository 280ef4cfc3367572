"""Fault test 1: kill -9 at hundreds of random points while v2 goes in over a running v1.

A forked child installs v2 (bundle → objects → version folder → check → switch →
confirm → gc) and kills itself with SIGKILL at its Nth file-system step (the
content store's STEP hook), N drawn from a seeded random over every step of a full
run (each step at least once). After each kill, a fresh ContentStore.recover() must leave ``current`` at v1 or
v2, complete (every file with its manifest hash), checkable, with its floor kept.
"""

from __future__ import annotations

import collections
import hashlib
import os
import random
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from showfloor.content import bundle as b
from showfloor.content.lint import check
from showfloor.content.scaffold import scaffold
from showfloor.station import content_store as cs
from showfloor.station.content_store import ContentStore

from ._support import copy_data, run_killed

RUNS = 210
SEED = 20261204
V1, V2 = "ex@1.0.0", "ex@2.0.0"


def _version(src: Path, dest: Path, version: str, caption: str | None = None) -> Path:
    shutil.copytree(src, dest)
    y = dest / "exhibit.yaml"
    text = y.read_text("utf-8").replace("version: 0.1.0", f"version: {version}")
    if caption:
        text = text.replace("A new interactive exhibit", caption)
    y.write_text(text, "utf-8")
    return dest


def _install_v2(data: Path, v2: Path, trusted: dict[str, Ed25519PublicKey]) -> None:
    store = ContentStore(data, keep=1)
    store.recover()
    name = store.install_bundle(v2, trusted).name
    store.activate(name)
    store.confirm(name)  # raises the floor and runs gc (keep=1: the v0 files go)


class _Kill(Exception):
    pass


def _run_child(data: Path, v2: Path, trusted: dict[str, Ed25519PublicKey], kill_at: int) -> int:
    """Fork; the child dies by SIGKILL at its ``kill_at``-th step. Returns the wait status."""
    return run_killed(lambda: _install_v2(data, v2, trusted), kill_at)


def test_kill_9_at_random_points_leaves_the_old_or_the_new_version(fast_dir: Path) -> None:
    tmp_path = fast_dir
    base = scaffold(tmp_path / "ex")
    key = b.new_key(tmp_path / "key.pem")
    trusted = {b.key_id(key.public_key()): key.public_key()}
    bundles: dict[str, Path] = {}
    for v, caption in (("0.9.0", "Version zero"), ("1.0.0", None), ("2.0.0", "Caption two")):
        folder = _version(base, tmp_path / f"src-{v}", v, caption)
        if v == "2.0.0":
            (folder / "media" / "extra.bin").write_bytes(os.urandom(300_000))
        bundles[v] = tmp_path / f"ex-{v}.showfloor"
        b.pack(folder, "ex", v, key, bundles[v])
    template = tmp_path / "template"
    store = ContentStore(template, keep=1)
    for v in ("0.9.0", "1.0.0"):  # v1 runs; v0 is kept as previous
        name = store.install_bundle(bundles[v], trusted).name
        store.activate(name)
        store.confirm(name)
    assert store.current() == V1 and store.state()["previous"] == "ex@0.9.0"
    manifests = {n: b.parse_manifest(_manifest_bytes(bundles[v]))
                 for n, v in ((V1, "1.0.0"), (V2, "2.0.0"))}

    # every step of a full run, counted
    full = tmp_path / "full"
    copy_data(template, full)
    counted: list[str] = []
    cs.STEP = counted.append
    try:
        _install_v2(full, bundles["2.0.0"], trusted)
    finally:
        cs.STEP = None
    total = len(counted)
    assert total > 50, counted
    kinds = collections.Counter(counted)
    assert {"write", "rename", "fsync", "link", "symlink", "unlink"} <= set(kinds)

    rng = random.Random(SEED)
    outcomes: collections.Counter[str] = collections.Counter()
    checked: set[str] = set()
    killed_at: set[int] = set()
    # every step once, the rest drawn at random; in a seeded random order
    points = list(range(1, total + 1)) + [rng.randint(1, total) for _ in range(RUNS - total)]
    rng.shuffle(points)
    for run, n in enumerate(points):
        data = tmp_path / f"run{run}"
        copy_data(template, data)
        status = _run_child(data, bundles["2.0.0"], trusted, n)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (n, status)
        killed_at.add(n)
        st = ContentStore(data, keep=1)
        now = st.recover()
        assert now in (V1, V2), (n, counted[n - 1], now)
        assert st.recover() == now  # a second start changes nothing
        state = st.state()
        assert state["current"] == now and st.current() == now
        assert state["floor"]["ex"] in ("1.0.0", "2.0.0"), (n, state)
        running = data / "content" / "current"
        for f in manifests[now].files:
            got = hashlib.sha256((running / f.path).read_bytes()).hexdigest()
            assert got == f.sha256, (n, counted[n - 1], f.path)
        assert not [p for p in (data / "content").rglob(".*") if p.name != cs.LOCK], n
        if now not in checked:  # check once per outcome: the folders of one are alike
            report = check(running)
            assert report.ok and report.exhibit is not None, report.errors[:3]
            assert report.exhibit.version == now.split("@")[1]
            checked.add(now)
        if run % 20 == 0:  # and the install can be done again, to the end
            _install_v2(data, bundles["2.0.0"], trusted)
            assert ContentStore(data).current() == V2
        outcomes[now] += 1
        shutil.rmtree(data)
    print(f"\nkill -9 runs: {RUNS} at {len(killed_at)} distinct steps of {total} "
          f"(seed {SEED}); after restart: {dict(outcomes)}")
    assert sum(outcomes.values()) == RUNS >= 200 and len(killed_at) == total
    assert outcomes[V1] and outcomes[V2]


def _manifest_bytes(path: Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read(b.MANIFEST)


@pytest.fixture(autouse=True)
def _no_hook() -> Iterator[None]:
    yield
    cs.STEP = None
