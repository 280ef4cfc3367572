"""The station's content store: versions, the atomic switch, the floor, gc, USB install.

Real bundles (a `showfloor new` exhibit packed and signed), real files, a real
tmpfs for the full-disk case (root only).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from typer.testing import CliRunner

from showfloor import cli
from showfloor.content import bundle as b
from showfloor.content.lint import check
from showfloor.content.scaffold import scaffold
from showfloor.errors import BundleError, ShowfloorError
from showfloor.station import content_store as cs
from showfloor.station.content_store import ContentStore, FloorError, StaleError

NOW = time.time()


@dataclass
class Kit:
    key: Ed25519PrivateKey
    trusted: dict[str, Ed25519PublicKey]
    folder: Path
    bundles: dict[str, Path]

    def exhibit(self, version: str, caption: str | None = None,
                extra: dict[str, bytes] | None = None) -> Path:
        """A copy of the scaffold at ``version`` (a caption changed, files added)."""
        import shutil
        import tempfile

        root = Path(tempfile.mkdtemp(prefix=f"src-{version}-", dir=self.folder)) / "exhibit"
        shutil.copytree(self.folder / "ex", root)
        y = root / "exhibit.yaml"
        text = y.read_text("utf-8").replace("version: 0.1.0", f"version: {version}")
        if caption is not None:
            assert "A new interactive exhibit" in text
            text = text.replace("A new interactive exhibit", caption)
        y.write_text(text, "utf-8")
        for rel, data in (extra or {}).items():
            (root / rel).write_bytes(data)
        return root

    def pack(self, version: str, **kw: object) -> Path:
        out = self.folder / f"ex-{version}-{len(self.bundles)}.showfloor"
        b.pack(self.exhibit(version, **kw), "ex", version, self.key, out)  # type: ignore[arg-type]
        self.bundles[f"{version}-{len(self.bundles)}"] = out
        return out


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Kit:
    folder = tmp_path_factory.mktemp("kit")
    scaffold(folder / "ex")
    key = b.new_key(folder / "key.pem")
    pub = key.public_key()
    return Kit(key, {b.key_id(pub): pub}, folder, {})


@pytest.fixture(scope="module")
def v1(kit: Kit) -> Path:
    return kit.pack("1.0.0")


@pytest.fixture(scope="module")
def v2(kit: Kit) -> Path:
    return kit.pack("2.0.0", caption="A caption that changed")


def _running(tmp_path: Path, kit: Kit, v1: Path, **kw: int) -> ContentStore:
    store = ContentStore(tmp_path / "data", **kw)
    store.recover()
    name = store.install_bundle(v1, kit.trusted).name
    store.activate(name)
    store.confirm(name)
    return store


def _files(store: ContentStore) -> dict[str, bytes]:
    """Every file under the content folder (links as their targets) and its bytes."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(store.root):
        for n in filenames + dirnames:
            p = Path(dirpath, n)
            rel = p.relative_to(store.root).as_posix()
            if rel == cs.LOCK:
                continue
            if p.is_symlink():
                out[rel] = os.readlink(p).encode()
            elif p.is_file():
                out[rel] = p.read_bytes()
    return out


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def _resign(path: Path, out: Path, key: Ed25519PrivateKey,
            change: Callable[[dict[str, Any]], None]) -> Path:
    """The bundle at ``path`` with its manifest changed and signed again by ``key``."""
    files = _entries(path)
    manifest = json.loads(files[b.MANIFEST])
    change(manifest)
    data = (json.dumps(manifest, indent=1) + "\n").encode()
    pub = key.public_key()
    files[b.MANIFEST] = data
    files[b.SIGNATURE] = json.dumps({
        "format": 1, "algorithm": "ed25519", "key_id": b.key_id(pub),
        "public_key": b.public_text(pub),
        "signature": base64.urlsafe_b64encode(key.sign(data)).decode()}).encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(name, body)
    out.write_bytes(buf.getvalue())
    return out


def _complete(folder: Path) -> None:
    """Every file the version's manifest lists is there with its hash, and check passes."""
    m = b.parse_manifest((folder / b.MANIFEST).read_bytes())
    for f in m.files:
        assert hashlib.sha256((folder / f.path).read_bytes()).hexdigest() == f.sha256, f.path
    assert check(folder).ok


# -- the normal path ---------------------------------------------------------------

def test_install_activate_confirm_and_the_layout(tmp_path: Path, kit: Kit, v1: Path,
                                                 v2: Path) -> None:
    store = ContentStore(tmp_path / "data")
    assert store.recover() is None and store.current() is None
    v1_path = store.install_bundle(v1, kit.trusted)
    assert v1_path == store.root / "versions" / "ex@1.0.0"
    assert store.state()["pending"] == "ex@1.0.0" and store.current() is None
    store.activate("ex@1.0.0")
    assert os.readlink(store.root / "current") == "versions/ex@1.0.0"
    assert store.current_path() == store.root / "current"
    assert check(store.root / "current").ok
    store.confirm("ex@1.0.0")
    state = json.loads((store.root / "state.json").read_text())
    assert state["floor"] == {"ex": "1.0.0"} and state["current"] == "ex@1.0.0"
    assert state["pending"] is None and state["previous"] is None
    m1 = b.parse_manifest((v1_path / b.MANIFEST).read_bytes())
    for f in m1.files:  # files are links to objects/<sha256>, read-only
        obj = store.root / "objects" / f.sha256
        assert (v1_path / f.path).stat().st_ino == obj.stat().st_ino
        assert not obj.stat().st_mode & 0o222
    # v2 changes one caption: only exhibit.yaml is new; the rest is shared
    m2 = b.parse_manifest(_entries(v2)[b.MANIFEST])
    assert [f.path for f in store.missing(m2)] == ["exhibit.yaml"]
    v2_path = store.install_bundle(v2, kit.trusted)
    assert store.state()["pending"] == "ex@2.0.0" and store.current() == "ex@1.0.0"
    store.activate("ex@2.0.0")
    assert store.current() == "ex@2.0.0" and store.state()["previous"] == "ex@1.0.0"
    _complete(v2_path)
    listed = {i.name: i for i in store.installed()}
    assert listed["ex@2.0.0"].current and listed["ex@1.0.0"].previous


def test_a_fetched_file_is_checked_before_it_is_kept(tmp_path: Path, kit: Kit, v1: Path,
                                                    v2: Path) -> None:
    store = _running(tmp_path, kit, v1)
    files = _entries(v2)
    verified = store.admit(files[b.MANIFEST], files[b.SIGNATURE], kit.trusted, NOW)
    (entry,) = store.missing(verified.manifest)
    part = store.partial_path(entry.sha256)
    part.write_bytes(files[entry.path][:-1] + b"!")  # one byte flipped
    with pytest.raises(BundleError, match="hashes to"):
        store.add_object(entry.sha256)
    assert not part.exists()
    with pytest.raises(BundleError, match="has not been fetched"):
        store.stage(verified, files[b.MANIFEST], files[b.SIGNATURE])
    part.write_bytes(files[entry.path])
    store.add_object(entry.sha256)
    assert store.missing(verified.manifest) == []
    path = store.stage(verified, files[b.MANIFEST], files[b.SIGNATURE])
    _complete(path)
    assert store.state()["pending"] == "ex@2.0.0"


# -- fault test 4, the store's side: refused, one sentence, the running version untouched

def test_refusals_leave_the_running_version_untouched(tmp_path: Path, kit: Kit, v1: Path,
                                                      v2: Path) -> None:
    store = _running(tmp_path, kit, v1)
    store.activate(store.install_bundle(v2, kit.trusted).name)
    store.confirm("ex@2.0.0")
    before = _files(store)
    other = Ed25519PrivateKey.generate()

    def list_twice(m: dict[str, Any]) -> None:
        m["version"] = "3.0.0"
        m["files"].append(dict(m["files"][0]))

    twice = _resign(v1, tmp_path / "twice.showfloor", kit.key, list_twice)
    unknown = _resign(v2, tmp_path / "unknown.showfloor", other,
                      lambda m: m.__setitem__("version", "3.0.0"))
    cases = [
        (v1, NOW, FloorError, "ex 1.0.0 is older than 2.0.0"),
        (v2, NOW + 400 * 86400, StaleError, "stale"),
        (unknown, NOW, BundleError, "not one of the 1 trusted key"),
        (twice, NOW, BundleError, "twice"),
    ]
    for bundle, now, kind, words in cases:
        with pytest.raises(kind, match=words) as err:
            store.install_bundle(bundle, kit.trusted, now)
        said = str(err.value)
        assert said.count(". ") == 0 and "\n" not in said and "Traceback" not in said
        assert _files(store) == before, bundle
    files = _entries(v2)
    sig = json.loads(files[b.SIGNATURE])
    sig["signature"] = base64.urlsafe_b64encode(bytes(64)).decode()
    with pytest.raises(BundleError, match="does not match key"):
        store.admit(files[b.MANIFEST], json.dumps(sig).encode(), kit.trusted, NOW)
    with pytest.raises(BundleError, match="no trusted keys"):
        store.admit(files[b.MANIFEST], files[b.SIGNATURE], {}, NOW)
    assert _files(store) == before


def test_a_version_with_errors_is_not_installed(tmp_path: Path, kit: Kit, v1: Path) -> None:
    store = _running(tmp_path, kit, v1)
    before = _files(store)
    root = kit.exhibit("2.0.0")
    scene = root / "scenes" / "10-main.yaml"
    scene.write_text(scene.read_text("utf-8") + "\n  - id: broken\n    type: nosuchtype\n",
                     "utf-8")
    out = tmp_path / "bad.showfloor"
    b.pack(root, "ex", "2.0.0", kit.key, out)
    with pytest.raises(BundleError, match=r"ex 2.0.0 has \d+ error\(s\), so it was not "
                       r"installed: scenes/10-main.yaml"):
        store.install_bundle(out, kit.trusted)
    assert _files(store) == before  # no version folder, no new objects, no leftovers


def test_revert_counts_attempts_and_goes_back(tmp_path: Path, kit: Kit, v1: Path,
                                              v2: Path) -> None:
    store = _running(tmp_path, kit, v1)
    store.activate(store.install_bundle(v2, kit.trusted).name)
    assert store.revert("no attract view within 60 s") == "ex@1.0.0"
    assert store.current() == "ex@1.0.0" and store.attempts("ex@2.0.0") == 1
    assert store.state()["last_error"] == "no attract view within 60 s"
    assert store.floor("ex") == "1.0.0"  # never raised: 2.0.0 was not confirmed
    store.activate(store.install_bundle(v2, kit.trusted).name)
    store.revert("again")
    assert store.attempts("ex@2.0.0") == 2


# -- rollback: the only way the floor goes down ------------------------------------

def _instruction(key: Ed25519PrivateKey, nonce: str, frm: str = "2.0.0", to: str = "1.0.0",
                 expires: str = "2099-01-01T00:00:00Z") -> tuple[bytes, bytes]:
    data = json.dumps({"kind": "rollback", "exhibit": "ex", "from": frm, "to": to,
                       "issued": "2026-01-01T00:00:00Z", "expires": expires,
                       "nonce": nonce}).encode()
    return data, key.sign(data)


def test_a_signed_rollback_lowers_the_floor_once(tmp_path: Path, kit: Kit, v1: Path,
                                                 v2: Path) -> None:
    store = _running(tmp_path, kit, v1)
    store.activate(store.install_bundle(v2, kit.trusted).name)
    store.confirm("ex@2.0.0")
    with pytest.raises(FloorError):
        store.activate("ex@1.0.0")
    rollers = Ed25519PrivateKey.generate()
    keys = {b.key_id(rollers.public_key()): rollers.public_key()}
    bad = [
        (_instruction(kit.key, "n1"), "not signed by any"),
        (_instruction(rollers, "n1", expires="2020-01-01T00:00:00Z"), "expired"),
        (_instruction(rollers, "n1", frm="1.0.0", to="2.0.0"), "older version"),
        (_instruction(rollers, "n1", frm="1.5.0"), "has accepted 2.0.0 since"),
    ]
    for (data, sig), words in bad:
        with pytest.raises(BundleError, match=words):
            store.rollback(data, sig, keys)
        assert store.floor("ex") == "2.0.0"
    from showfloor.content import rollback  # what the hub's rollback button signs

    data, sig = rollback.make(rollers, "ex", "2.0.0", "1.0.0", now=time.time())
    assert store.rollback(data, sig, keys) == "1.0.0"
    with pytest.raises(BundleError, match="used before"):
        store.rollback(data, sig, keys)
    store.activate("ex@1.0.0")  # the kept older version may run again
    assert store.current() == "ex@1.0.0"


# -- fault test 7: files of the running version are never deleted -------------------

def test_gc_never_deletes_a_file_of_the_running_version(tmp_path: Path, kit: Kit,
                                                        v1: Path) -> None:
    store = _running(tmp_path, kit, v1, keep=1)
    running = store.root / "current"
    m1 = b.parse_manifest((running / b.MANIFEST).read_bytes())
    held = [(f, (running / f.path).open("rb")) for f in m1.files]
    try:
        newer = [kit.pack(v, caption=f"Caption {v}", extra={"media/more.bin": v.encode() * 999})
                 for v in ("2.0.0", "3.0.0", "4.0.0")]
        for bundle in newer:
            store.install_bundle(bundle, kit.trusted)  # staged, pending: v1 still runs
            assert store.gc() == [] or store.current() == "ex@1.0.0"
        store.gc()
        assert store.current() == "ex@1.0.0"
        names = {p.name for p in (store.root / "versions").iterdir()}
        assert names == {"ex@1.0.0", "ex@4.0.0"}  # keep=1 (the newest) + current
        for f, fh in held:
            assert hashlib.sha256(fh.read()).hexdigest() == f.sha256
            assert hashlib.sha256((running / f.path).read_bytes()).hexdigest() == f.sha256
            assert (store.root / "objects" / f.sha256).is_file()
        m2 = b.parse_manifest(_entries(newer[0])[b.MANIFEST])
        gone = {f.sha256 for f in m2.files} - {f.sha256 for f in m1.files} - {
            f.sha256 for f in b.parse_manifest(
                (store.root / "versions" / "ex@4.0.0" / b.MANIFEST).read_bytes()).files}
        assert gone and not any((store.root / "objects" / s).exists() for s in gone)
    finally:
        for _, fh in held:
            fh.close()


# -- recover -------------------------------------------------------------------------

def test_recover_clears_leftovers_and_finishes_a_switch(tmp_path: Path, kit: Kit, v1: Path,
                                                        v2: Path) -> None:
    store = _running(tmp_path, kit, v1)
    store.install_bundle(v2, kit.trusted)
    state = store.state()
    # killed after the link was renamed, before state.json was written
    os.symlink("versions/ex@2.0.0", store.root / ".current-x")
    os.replace(store.root / ".current-x", store.root / "current")
    (store.root / "versions" / ".build-ex@3.0.0-1234").mkdir()
    (store.root / "versions" / ".gc-ex@0.9.0-1234").mkdir()
    (store.root / ".current-dead").symlink_to("versions/nowhere")
    (store.root / ".state.json.tmp-99").write_text("{")
    assert state["current"] == "ex@1.0.0"
    assert ContentStore(tmp_path / "data").recover() == "ex@2.0.0"
    state = store.state()
    assert (state["current"], state["previous"], state["pending"]) == (
        "ex@2.0.0", "ex@1.0.0", None)
    assert state["floor"] == {"ex": "1.0.0"}
    leftovers = [p.name for p in store.root.rglob(".*") if p.name != cs.LOCK]
    assert leftovers == []
    # a lost link: the state's current comes back
    (store.root / "current").unlink()
    assert store.recover() == "ex@2.0.0" and store.current() == "ex@2.0.0"


# -- fault test 6, the unpack half: a full disk ---------------------------------------

@pytest.fixture
def small_disk(tmpfs: Callable[[str], Path]) -> Path:
    """A real 4 MB disk (tests/conftest.py's ``tmpfs``)."""
    return tmpfs("4m")


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_a_full_disk_refuses_cleanly_and_gives_the_space_back(
        small_disk: Path, tmp_path: Path, kit: Kit, v1: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    store = _running(small_disk, kit, v1, margin=64 * 1024)
    big = kit.pack("2.0.0", extra={"media/noise.bin": os.urandom(6 << 20)})
    before, free = _files(store), _free(small_disk)
    # the free-space check comes first
    with pytest.raises(BundleError, match=r"^no space for ex 2\.0\.0: its new files need"):
        store.install_bundle(big, kit.trusted)
    assert _files(store) == before and _free(small_disk) == free
    # and when the disk fills while writing (the check passed, the space went elsewhere)
    monkeypatch.setattr(cs, "_free_bytes", lambda path: 1 << 40)
    with pytest.raises(BundleError, match=r"^no space left in .* while installing ex 2\.0\.0; "
                       "nothing was kept"):
        store.install_bundle(big, kit.trusted)
    assert _files(store) == before
    assert abs(_free(small_disk) - free) <= 2 * 4096
    _complete(store.root / "current")


# -- the command ---------------------------------------------------------------------

def test_showfloor_install(tmp_path: Path, kit: Kit, v1: Path, v2: Path) -> None:
    runner = CliRunner()
    trust = tmp_path / "trust.txt"
    trust.write_text("".join(f"{b.public_text(k)}\n" for k in kit.trusted.values()))
    data = tmp_path / "station"
    args = ["install", "--data", str(data), "--trust", str(trust)]
    done = runner.invoke(cli.app, [*args, str(v1)])
    assert done.exit_code == 0, done.output
    assert "ex 1.0.0" in done.output and "now current" in done.output
    done = runner.invoke(cli.app, [*args, str(v2)])
    assert done.exit_code == 0, done.output
    assert "pending" in done.output and "idle moment" in done.output
    done = runner.invoke(cli.app, [*args, str(v1)])
    assert done.exit_code == 0 and "already the current version" in done.output
    stranger = b.public_text(Ed25519PrivateKey.generate().public_key())
    done = runner.invoke(cli.app, ["install", "--data", str(data), "--trust", stranger,
                                   str(v2)])
    assert done.exit_code == 1 and "not one of the 1 trusted key" in done.output
    done = runner.invoke(cli.app, ["install", "--data", str(data), "--list"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert any("ex@1.0.0" in ln and "current" in ln for ln in lines)
    assert any("ex@2.0.0" in ln and "pending" in ln for ln in lines)
    assert "floor: ex 1.0.0" in done.output
    done = runner.invoke(cli.app, ["install", "--data", str(data), str(v2)])
    assert isinstance(done.exception, ShowfloorError)  # the command line says it, exit 2
    assert "--trust" in str(done.exception)
