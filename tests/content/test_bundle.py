"""Signed bundles: pack is reproducible, verify refuses every kind of tampering, and
unpack refuses hostile zips (escaping paths, links, too many entries, bombs) without
leaving anything behind.

Hostile bundles are made here, in temporary folders, from a real packed bundle or
from scratch with :mod:`zipfile`; nothing is stored in the corpus.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conftest import CORPUS, DEMO, Cli
from showfloor.content import bundle as b
from showfloor.errors import BundleError

DAY = 86400


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Ed25519PrivateKey:
    return b.new_key(tmp_path_factory.mktemp("keys") / "publisher.pem")


@pytest.fixture(scope="module")
def trusted(key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {b.key_id(key.public_key()): key.public_key()}


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory, key: Ed25519PrivateKey) -> Path:
    """The corpus base, packed."""
    out = tmp_path_factory.mktemp("bundles") / "valid.showfloor"
    b.pack(CORPUS / "_valid", "corpus-base", "1", key, out)
    return out


def entries(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as zf:
        return {i.filename: zf.read(i) for i in zf.infolist()}


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def resign(files: dict[str, bytes], key: Ed25519PrivateKey,
           edit: Callable[[dict[str, Any]], None]) -> dict[str, bytes]:
    """The same entries with an edited manifest, signed again by ``key``."""
    manifest = json.loads(files[b.MANIFEST])
    edit(manifest)
    data = json.dumps(manifest).encode()
    sig = json.loads(files[b.SIGNATURE])
    sig["signature"] = b._b64(key.sign(data))
    return {**files, b.MANIFEST: data, b.SIGNATURE: json.dumps(sig).encode()}


def refused(bundle: Path, *words: str, **kw: Any) -> str:
    with pytest.raises(BundleError) as e:
        b.verify(bundle, **kw)
    said = str(e.value)
    for w in words:
        assert w in said, said
    assert "\n" not in said
    return said


# -- keys ----------------------------------------------------------------------

def test_a_new_key_is_private_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = b.new_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b.key_id(b.load_key(path).public_key()) == b.key_id(key.public_key())
    before = path.read_bytes()
    with pytest.raises(BundleError, match="already exists"):
        b.new_key(path)
    assert path.read_bytes() == before
    assert len(b.key_id(key.public_key())) == 16


def test_trust_lists(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    line = f"{b.public_text(key.public_key())}  # key id {b.key_id(key.public_key())}"
    (tmp_path / "trust.txt").write_text(f"# our publishers\n\n{line}\n", encoding="utf-8")
    assert list(b.load_trusted([str(tmp_path / "trust.txt")])) == [b.key_id(key.public_key())]
    assert list(b.load_trusted([b.public_text(key.public_key())])) == \
        [b.key_id(key.public_key())]
    import base64

    standard = base64.b64encode(b.raw_public(key.public_key())).decode()  # may hold '/' or '+'
    assert list(b.load_trusted([standard])) == [b.key_id(key.public_key())]
    with pytest.raises(BundleError, match="neither a trust-list file nor an Ed25519 public key"):
        b.load_trusted(["abc"])
    (tmp_path / "bad.txt").write_text("nonsense\n", encoding="utf-8")
    with pytest.raises(BundleError, match=r"bad\.txt:1: "):
        b.load_trusted([str(tmp_path / "bad.txt")])


def test_a_key_file_that_is_not_a_key(tmp_path: Path) -> None:
    (tmp_path / "k.pem").write_text("hello\n", encoding="utf-8")
    with pytest.raises(BundleError, match="not an unencrypted Ed25519 private key"):
        b.load_key(tmp_path / "k.pem")
    with pytest.raises(BundleError, match="no such key file"):
        b.load_key(tmp_path / "nope.pem")


# -- pack --------------------------------------------------------------------------

def test_pack_is_reproducible(tmp_path: Path, key: Ed25519PrivateKey,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    b.pack(CORPUS / "_valid", "corpus-base", "1", key, tmp_path / "one.showfloor")
    b.pack(CORPUS / "_valid", "corpus-base", "1", key, tmp_path / "two.showfloor")
    assert (tmp_path / "one.showfloor").read_bytes() == (tmp_path / "two.showfloor").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1893456000")  # 2030-01-01
    b.pack(CORPUS / "_valid", "corpus-base", "1", key, tmp_path / "three.showfloor")
    manifest = json.loads(entries(tmp_path / "three.showfloor")[b.MANIFEST])
    assert manifest["created"] == "2030-01-01T00:00:00Z"
    assert manifest["expires"] == "2031-01-01T00:00:00Z"
    with zipfile.ZipFile(tmp_path / "three.showfloor") as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names[:2] == [b.MANIFEST, b.SIGNATURE]
    assert names[2:] == sorted(names[2:])
    assert {i.date_time for i in infos} == {b.ZIP_TIME}
    assert {i.external_attr for i in infos} == {b.ZIP_MODE}
    assert {i.extra for i in infos} == {b""}


def test_pack_skips_dotfiles_and_pycache(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    import shutil

    root = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", root)
    (root / ".DS_Store").write_bytes(b"x")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.pyc").write_bytes(b"x")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"x")
    names = [rel for rel, _ in b.exhibit_files(root)]
    assert names == sorted(names)
    assert not [n for n in names if n.startswith(".") or "__pycache__" in n]
    (root / "media" / "link.png").symlink_to(root / "media" / "pic.png")
    with pytest.raises(BundleError, match="symbolic link"):
        b.exhibit_files(root)


def test_pack_refuses_to_make_a_bundle_that_expired(tmp_path: Path, key: Ed25519PrivateKey,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")  # 2000
    with pytest.raises(BundleError, match="would have expired already"):
        b.pack(CORPUS / "_valid", "corpus-base", "1", key, tmp_path / "old.showfloor")
    assert not list(tmp_path.iterdir())


# -- verify ------------------------------------------------------------------------

def test_verify_the_demo(tmp_path: Path, key: Ed25519PrivateKey,
                         trusted: dict[str, Ed25519PublicKey]) -> None:
    out = tmp_path / "demo.showfloor"
    manifest = b.pack(DEMO, "drug-prevention", "1", key, out)
    ok = b.verify(out, trusted)
    assert ok.trusted
    assert ok.manifest == manifest
    assert "drug-prevention" in ok.summary()
    assert "trust list" not in ok.summary()
    untrusted = b.verify(out)
    assert not untrusted.trusted
    assert "not checked against a trust list" in untrusted.summary()


def _tampered(valid: Path, tmp_path: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    files = entries(valid)
    change(files)
    return write_zip(tmp_path / "bad.showfloor", files)


def test_verify_refuses_a_flipped_bit(valid: Path, tmp_path: Path) -> None:
    def flip(files: dict[str, bytes]) -> None:
        data = bytearray(files["exhibit.yaml"])
        data[100] ^= 0x01
        files["exhibit.yaml"] = bytes(data)
    refused(_tampered(valid, tmp_path, flip), "'exhibit.yaml'", "does not match its SHA-256")


def test_verify_refuses_a_truncated_file(valid: Path, tmp_path: Path) -> None:
    def cut(files: dict[str, bytes]) -> None:
        files["exhibit.yaml"] = files["exhibit.yaml"][:-10]
    refused(_tampered(valid, tmp_path, cut), "'exhibit.yaml'", "not the", "cut short")


def test_verify_refuses_a_missing_file(valid: Path, tmp_path: Path) -> None:
    refused(_tampered(valid, tmp_path, lambda f: f.pop("exhibit.yaml")),
            "lists 'exhibit.yaml'", "does not hold it")


def test_verify_refuses_an_extra_file(valid: Path, tmp_path: Path) -> None:
    def add(files: dict[str, bytes]) -> None:
        files["media/evil.js"] = b"alert(1)"
    refused(_tampered(valid, tmp_path, add), "'media/evil.js'", "does not list")


def test_verify_refuses_a_path_listed_twice(valid: Path, tmp_path: Path,
                                             key: Ed25519PrivateKey) -> None:
    def twice(m: dict[str, Any]) -> None:
        m["files"].append(m["files"][0])
    files = resign(entries(valid), key, twice)
    refused(write_zip(tmp_path / "twice.showfloor", files), "lists 'exhibit.yaml' twice")


def test_verify_refuses_a_bad_signature(valid: Path, tmp_path: Path) -> None:
    def edit(files: dict[str, bytes]) -> None:
        files[b.MANIFEST] = files[b.MANIFEST].replace(b'"version": "1"', b'"version": "2"')
    refused(_tampered(valid, tmp_path, edit), "signature", "does not match key")


def test_verify_refuses_an_unknown_key(valid: Path, key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate().public_key()
    refused(valid, f"signed by key {b.key_id(key.public_key())}", "not one of the 1 trusted",
            "--trust", trusted={b.key_id(other): other})


def test_verify_refuses_an_expired_bundle(valid: Path) -> None:
    manifest = json.loads(entries(valid)[b.MANIFEST])
    later = b._time(manifest["expires"], "expires") + 1
    refused(valid, "expired on", "pack it again", now=later)


def test_verify_refuses_a_newer_format_and_not_a_zip(valid: Path, tmp_path: Path,
                                                    key: Ed25519PrivateKey) -> None:
    files = resign(entries(valid), key, lambda m: m.update(showfloor="99.0"))
    refused(write_zip(tmp_path / "new.showfloor", files), "needs showfloor 99.0")
    (tmp_path / "junk.showfloor").write_bytes(b"not a zip at all")
    refused(tmp_path / "junk.showfloor", "is not a showfloor bundle")


# -- the command line -------------------------------------------------------------------

def test_cli_keys_pack_verify(cli: Cli, tmp_path: Path, valid: Path) -> None:
    made = cli("keys", "new", tmp_path / "k.pem")
    assert made.returncode == 0, made.stderr
    again = cli("keys", "new", tmp_path / "k.pem")
    assert again.returncode == 2
    assert again.stderr.startswith("error: ") and "already exists" in again.stderr
    shown = cli("keys", "show", tmp_path / "k.pem")
    assert shown.returncode == 0, shown.stderr
    (tmp_path / "trust.txt").write_text(shown.stdout, encoding="utf-8")
    packed = cli("pack", CORPUS / "_valid", "--key", tmp_path / "k.pem",
                 "-o", tmp_path / "v.showfloor", "--expires", "30")
    assert packed.returncode == 0, packed.stderr
    ok = cli("verify", tmp_path / "v.showfloor", "--trust", tmp_path / "trust.txt")
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip().splitlines()) == 1
    assert "signed by trusted key" in ok.stdout
    unchecked = cli("verify", tmp_path / "v.showfloor")
    assert unchecked.returncode == 0, unchecked.stderr
    assert "not checked against a trust list" in unchecked.stdout
    nonsense = cli("verify", tmp_path / "v.showfloor", "--trust", "nonsense")
    assert nonsense.returncode == 2
    assert nonsense.stderr.startswith("error: ") and "nor an Ed25519 public key" in nonsense.stderr
    # a bundle signed by someone else: refused, one sentence, exit 1
    other = cli("verify", valid, "--trust", tmp_path / "trust.txt")
    assert other.returncode == 1
    lines = [line for line in other.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), other.stderr
    assert "not one of the 1 trusted key(s)" in lines[0]
    assert "Traceback" not in other.stdout + other.stderr


def test_cli_pack_refuses_a_broken_exhibit(cli: Cli, tmp_path: Path) -> None:
    cli("keys", "new", tmp_path / "k.pem")
    result = cli("pack", CORPUS / "goto-missing-scene", "--key", tmp_path / "k.pem",
                 "-o", tmp_path / "x.showfloor")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("exhibit.yaml:38:15: error: scene 'party' goes to 'quizz'")
    assert lines[-1].startswith("error: ") and "nothing was packed" in lines[-1]
    assert not (tmp_path / "x.showfloor").exists()
    assert "Traceback" not in result.stderr


def test_cli_verify_a_flipped_bit(cli: Cli, tmp_path: Path, valid: Path) -> None:
    data = bytearray(valid.read_bytes())
    with zipfile.ZipFile(valid) as zf:
        info = zf.getinfo("exhibit.yaml")
    start = info.header_offset + 30 + len(info.filename)
    data[start + 10] ^= 0x40  # inside the compressed bytes
    (tmp_path / "flip.showfloor").write_bytes(bytes(data))
    result = cli("verify", tmp_path / "flip.showfloor")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "exhibit.yaml" in lines[0]


# -- unpack ------------------------------------------------------------------------

def _unpack_refused(bundle: Path, tmp_path: Path, trusted: dict[str, Ed25519PublicKey],
                    *words: str, **kw: Any) -> None:
    home = tmp_path / "stations"
    home.mkdir(exist_ok=True)
    with pytest.raises(BundleError) as e:
        b.unpack(bundle, home / "live", trusted, **kw)
    for w in words:
        assert w in str(e.value), str(e.value)
    assert list(home.iterdir()) == [], "a failed unpack left something behind"


def test_unpack_a_valid_bundle(valid: Path, tmp_path: Path,
                               trusted: dict[str, Ed25519PublicKey]) -> None:
    dest = tmp_path / "live"
    got = b.unpack(valid, dest, trusted)
    assert list(tmp_path.iterdir()) == [dest]
    for f in got.manifest.files:
        assert (dest / f.path).stat().st_size == f.size
        assert (dest / f.path).read_bytes() == (CORPUS / "_valid" / f.path).read_bytes()
    assert (dest / b.MANIFEST).is_file()
    with pytest.raises(BundleError, match="already exists"):
        b.unpack(valid, dest, trusted)
    with pytest.raises(BundleError, match="no trusted keys"):
        b.unpack(valid, tmp_path / "other", {})


def test_unpack_refuses_an_altered_file_and_leaves_nothing(valid: Path, tmp_path: Path,
                                                          trusted: dict[str, Ed25519PublicKey]
                                                          ) -> None:
    files = entries(valid)
    last = sorted(n for n in files if n not in (b.MANIFEST, b.SIGNATURE))[-1]
    files[last] = files[last][:-1] + bytes([files[last][-1] ^ 1])
    bad = write_zip(tmp_path / "bad.showfloor", files)
    _unpack_refused(bad, tmp_path, trusted, f"'{last}'", "SHA-256")


@pytest.mark.parametrize(("name", "words"), [
    ("../escape.txt", ["'..'"]),
    ("media/../../escape.txt", ["'..'"]),
    ("/etc/escape.txt", ["absolute path"]),
    ("C:/escape.txt", ["drive letter"]),
    ("media\\..\\escape.txt", ["backslash"]),
], ids=["dotdot", "nested-dotdot", "absolute", "drive", "backslash"])
def test_unpack_refuses_escaping_names(name: str, words: list[str], valid: Path,
                                       tmp_path: Path, trusted: dict[str, Ed25519PublicKey]
                                       ) -> None:
    files = entries(valid)
    files[name] = b"x"
    bad = write_zip(tmp_path / "bad.showfloor", files)
    _unpack_refused(bad, tmp_path, trusted, *words)
    assert not (tmp_path.parent / "escape.txt").exists()


def test_unpack_refuses_a_symlink_entry(valid: Path, tmp_path: Path,
                                        trusted: dict[str, Ed25519PublicKey]) -> None:
    bad = tmp_path / "link.showfloor"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in entries(valid).items():
            zf.writestr(name, data)
        info = zipfile.ZipInfo("media/passwd")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    _unpack_refused(bad, tmp_path, trusted, "'media/passwd'", "symbolic link")


def test_unpack_refuses_100000_entries(tmp_path: Path,
                                       trusted: dict[str, Ed25519PublicKey]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(100_000):
            zf.writestr(zipfile.ZipInfo(f"{i}"), b"")
    (tmp_path / "many.showfloor").write_bytes(buf.getvalue())
    _unpack_refused(tmp_path / "many.showfloor", tmp_path, trusted, "100,000 entries",
                    "10,000")


BOMB = 256 * 1024 * 1024  # bytes of zeros: about 250 KB once deflated


def make_bomb(path: Path, files: dict[str, bytes]) -> Path:
    """``files``, then 'media/big.bin': 256 MB of zeros, deflated (about a second)."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        info = zipfile.ZipInfo("media/big.bin")
        info.compress_type = zipfile.ZIP_DEFLATED
        info.file_size = BOMB
        with zf.open(info, "w") as out:
            for _ in range(BOMB // len(chunk)):
                out.write(chunk)
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory, key: Ed25519PrivateKey,
         valid: Path) -> Path:
    """A signed bundle whose manifest lists 'media/big.bin' honestly (size and SHA-256):
    its bytes expand 1000 times."""
    import hashlib

    digest = hashlib.sha256()
    chunk = bytes(1024 * 1024)
    for _ in range(BOMB // len(chunk)):
        digest.update(chunk)
    files = resign(entries(valid), key, lambda m: m["files"].append(
        {"path": "media/big.bin", "size": BOMB, "sha256": digest.hexdigest()}))
    return make_bomb(tmp_path_factory.mktemp("bomb") / "bomb.showfloor", files)


def test_unpack_refuses_a_bomb_by_its_ratio(bomb: Path, tmp_path: Path,
                                            trusted: dict[str, Ed25519PublicKey]) -> None:
    _unpack_refused(bomb, tmp_path, trusted, "'media/big.bin'", "expands more than")


def test_unpack_refuses_a_bomb_over_the_total(bomb: Path, tmp_path: Path,
                                              trusted: dict[str, Ed25519PublicKey]) -> None:
    _unpack_refused(bomb, tmp_path, trusted, "more than the 1,048,576",
                    max_total=1024 * 1024)


def _patch_sizes(data: bytearray, info: zipfile.ZipInfo, size: int) -> None:
    """Make both the local header and the central directory claim ``size`` bytes."""
    struct.pack_into("<I", data, info.header_offset + 22, size)
    name = info.filename.encode()
    at = 0
    while (at := data.find(b"PK\x01\x02", at + 1)) >= 0:
        if data[at + 46:at + 46 + len(name)] == name:
            struct.pack_into("<I", data, at + 24, size)
            return
    raise AssertionError("no central directory entry")


def test_unpack_refuses_a_bomb_whose_manifest_and_headers_lie(
        valid: Path, tmp_path: Path, key: Ed25519PrivateKey,
        trusted: dict[str, Ed25519PublicKey]) -> None:
    import hashlib
    import time

    small = bytes(1000)
    files = resign(entries(valid), key, lambda m: m["files"].append(
        {"path": "media/big.bin", "size": len(small),
         "sha256": hashlib.sha256(small).hexdigest()}))
    liar = make_bomb(tmp_path / "liar.showfloor", files)
    started = time.monotonic()
    # the signed manifest says 1000 bytes; the stream gives more: counting stops there
    _unpack_refused(liar, tmp_path, trusted, "'media/big.bin'", "larger than the 1,000 bytes")
    # the zip's headers say 1000 bytes too: what is read is counted and checked, not believed
    data = bytearray(liar.read_bytes())
    with zipfile.ZipFile(liar) as zf:
        big = zf.getinfo("media/big.bin")
    _patch_sizes(data, big, len(small))
    liar.write_bytes(bytes(data))
    with zipfile.ZipFile(liar) as zf:
        assert zf.getinfo("media/big.bin").file_size == len(small)
    _unpack_refused(liar, tmp_path, trusted, "'media/big.bin'", "damaged")
    assert time.monotonic() - started < 5


def test_unpack_refuses_a_file_and_a_folder_of_one_name(valid: Path, tmp_path: Path,
                                                        key: Ed25519PrivateKey,
                                                        trusted: dict[str, Ed25519PublicKey]
                                                        ) -> None:
    import hashlib

    files = resign(entries(valid), key, lambda m: m["files"].insert(0, {
        "path": "media", "size": 1, "sha256": hashlib.sha256(b"x").hexdigest()}))
    files["media"] = b"x"
    bad = write_zip(tmp_path / "clash.showfloor", files)
    _unpack_refused(bad, tmp_path, trusted, "'media/", "same name")


def test_a_full_disk_while_unpacking_keeps_nothing(tmp_path: Path, tiny_disk: Path,
                                                   key: Ed25519PrivateKey,
                                                   trusted: dict[str, Ed25519PublicKey]) -> None:
    ex = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", ex)
    (ex / "media" / "noise.bin").write_bytes(os.urandom(2 << 20))  # 2 MB that will not compress
    out = tmp_path / "big.showfloor"
    b.pack(ex, "corpus-base", "1.0.0", key, out)
    with pytest.raises(BundleError, match="free some space") as err:
        b.unpack(out, tiny_disk / "v1", trusted)
    assert "Traceback" not in str(err.value)
    assert list(tiny_disk.iterdir()) == []  # the half-written copy is gone, space given back
