"""Signed exhibit bundles: pack an exhibit folder, verify a bundle, unpack it safely.

A bundle (``NAME.showfloor``) is a zip file holding every file of an exhibit
plus two entries of its own, first:

- ``manifest.json``: the format, the exhibit's id and version, when it was made,
  when it expires, the oldest showfloor that can run it, and every file with its
  size and SHA-256;
- ``manifest.sig``: an Ed25519 signature over the exact bytes of
  ``manifest.json``, with the id and public half of the key that made it.

The zip is reproducible: the same folder packed twice gives the same bytes
(sorted entries, fixed timestamps and permissions, no extra fields; ``created``
comes from ``SOURCE_DATE_EPOCH`` or the newest file).

Nothing in a bundle is trusted before it is checked: entry names, entry kinds
and counts are checked from the central directory, the manifest's signature
before its content, and every file's bytes are counted and hashed as they are
decompressed, stopping at the first byte over a limit (the sizes a zip header
claims are not believed). :func:`unpack` writes into a fresh folder beside its
destination and renames it into place only when every file matched.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from showfloor import __version__
from showfloor.errors import BundleError

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SUFFIX = ".showfloor"
#: Every entry gets this time (the earliest a zip can hold): the real one is in the manifest.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: ``-rw-r--r--``, a regular file, as Unix zip tools write it.
ZIP_MODE = (stat.S_IFREG | 0o644) << 16
#: The most entries a bundle may hold (the demo has about 60).
MAX_ENTRIES = 10_000
#: The most bytes all files of a bundle may hold once decompressed.
MAX_TOTAL = 4 * 1024**3
#: The most one entry may expand (decompressed bytes per compressed byte), checked
#: once an entry has given :data:`RATIO_FLOOR` bytes.
MAX_RATIO = 200
RATIO_FLOOR = 1024 * 1024
#: The largest manifest.json / manifest.sig read.
MAX_MANIFEST = 16 * 1024 * 1024
MAX_SIGNATURE = 4096
CHUNK = 1024 * 1024
DAY = 86400


# -- keys -------------------------------------------------------------------------

def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    text = text.strip().replace("+", "-").replace("/", "_")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """The first 16 hex digits of the SHA-256 of the 32 raw bytes of a public key."""
    return hashlib.sha256(raw_public(key)).hexdigest()[:16]


def public_text(key: Ed25519PublicKey) -> str:
    """A public key as a trust list holds it: base64url of its 32 raw bytes."""
    return _b64(raw_public(key))


def new_key(path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 private key (PEM, PKCS#8) readable by its owner only."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise BundleError(f"{path} already exists; a key is never overwritten — choose "
                          "another file name, or delete the old key if you mean to") from e
    except OSError as e:
        raise BundleError(f"cannot write the key file {path} ({e.strerror}); choose a "
                          "folder you can write to") from e
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o600)  # whatever the umask
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    """Read a private key that :func:`new_key` wrote."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as e:
        raise BundleError(f"{path}: no such key file; make one with 'showfloor keys new "
                          f"{path}'") from e
    except IsADirectoryError as e:
        raise BundleError(f"{path} is a folder, not a key file; give the file that "
                          "'showfloor keys new' wrote") from e
    except OSError as e:
        raise BundleError(f"cannot read the key file {path} ({e.strerror})") from e
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise BundleError(f"{path} is not an unencrypted Ed25519 private key in PEM form; "
                          "give the file that 'showfloor keys new' wrote") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path} holds a {type(key).__name__.removeprefix('_')} key, not an "
                          "Ed25519 one; make one with 'showfloor keys new'")
    return key


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key from base64 (standard or url-safe, padded or not) of its 32 bytes."""
    try:
        raw = _unb64(text)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError, binascii.Error) as e:
        raise BundleError(f"'{text[:60]}' is not an Ed25519 public key (base64 of 32 bytes); "
                          "give what 'showfloor keys show' prints") from e


def load_trusted(values: Iterable[str]) -> dict[str, Ed25519PublicKey]:
    """Trusted keys by key id, from public keys or trust-list files.

    A trust-list file holds one public key a line; ``#`` starts a comment (what
    ``showfloor keys show`` prints is one such line).
    """
    keys: dict[str, Ed25519PublicKey] = {}
    for value in values:
        path = Path(value)
        if path.is_file():
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as e:
                raise BundleError(f"cannot read the trust list {path}: it must be UTF-8 "
                                  "text, one public key a line") from e
            found = 0
            for n, line in enumerate(lines, 1):
                words = line.split("#", 1)[0].split()
                if not words:
                    continue
                try:
                    key = parse_public(words[0])
                except BundleError as e:
                    raise BundleError(f"{path}:{n}: {e}") from e
                keys[key_id(key)] = key
                found += 1
            if not found:
                raise BundleError(f"the trust list {path} holds no public key; add the lines "
                                  "'showfloor keys show' prints")
        else:
            try:
                key = parse_public(value)
            except BundleError as e:
                raise BundleError(f"--trust '{value[:80]}' is neither a trust-list file nor an "
                                  "Ed25519 public key (base64 of 32 bytes); give a file that "
                                  "exists or what 'showfloor keys show' prints") from e
            keys[key_id(key)] = key
    return keys


# -- the manifest -----------------------------------------------------------------

@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    exhibit: str
    version: str
    created: int
    expires: int
    showfloor: str
    files: tuple[FileEntry, ...]

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "exhibit": self.exhibit, "version": self.version,
                "created": _iso(self.created), "expires": _iso(self.expires),
                "showfloor": self.showfloor,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256}
                          for f in self.files]}
        return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    @property
    def expiry(self) -> str:
        """The day it expires (UTC), e.g. 2027-12-03."""
        return _day(self.expires)

    @property
    def total(self) -> int:
        return sum(f.size for f in self.files)


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _day(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def _time(value: Any, name: str) -> int:
    if not isinstance(value, str):
        raise BundleError(f"the manifest's '{name}' is {value!r}, not a time such as "
                          "2026-01-31T12:00:00Z; pack the bundle again")
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise BundleError(f"the manifest's '{name}' is '{value}', not a time such as "
                          "2026-01-31T12:00:00Z; pack the bundle again") from e
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


_SHA = re.compile(r"^[0-9a-f]{64}$")


def parse_manifest(data: bytes) -> Manifest:
    """The manifest's content, every field checked (a path listed twice is refused)."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BundleError(f"{MANIFEST} is not JSON text; pack the bundle again") from e
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        got = raw.get("format") if isinstance(raw, dict) else None
        raise BundleError(f"{MANIFEST} has format {got!r}, not {FORMAT}; this showfloor "
                          f"({__version__}) reads format {FORMAT} only")
    text = {k: raw.get(k) for k in ("exhibit", "version", "showfloor")}
    for k, v in text.items():
        if not isinstance(v, str) or not v:
            raise BundleError(f"{MANIFEST} has no '{k}' (got {v!r}); pack the bundle again")
    files = raw.get("files")
    if not isinstance(files, list):
        raise BundleError(f"{MANIFEST} has no list of 'files'; pack the bundle again")
    entries: list[FileEntry] = []
    seen: set[str] = set()
    for item in files:
        if not (isinstance(item, dict) and isinstance(item.get("path"), str)
                and type(item.get("size")) is int and item["size"] >= 0
                and isinstance(item.get("sha256"), str) and _SHA.match(item["sha256"])):
            raise BundleError(f"{MANIFEST} lists a file as {str(item)[:80]}, not "
                              "{path, size, sha256}; pack the bundle again")
        path = item["path"]
        check_name(path)
        if path in seen:
            raise BundleError(f"{MANIFEST} lists '{path}' twice; a bundle lists each file "
                              "once — pack the bundle again")
        if path in (MANIFEST, SIGNATURE):
            raise BundleError(f"{MANIFEST} lists '{path}' as a file of the exhibit; pack the "
                              "bundle again")
        seen.add(path)
        entries.append(FileEntry(path, item["size"], item["sha256"]))
    return Manifest(str(text["exhibit"]), str(text["version"]), _time(raw.get("created"),
                    "created"), _time(raw.get("expires"), "expires"),
                    str(text["showfloor"]), tuple(entries))


def _version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", v)[:3])


# -- names and entries ------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def check_name(name: str) -> None:
    """Refuse a path that could land outside the folder it is unpacked into."""
    why = None
    if not name:
        why = "is empty"
    elif "\\" in name:
        why = "holds a backslash"
    elif "\x00" in name or any(ord(c) < 32 for c in name):
        why = "holds a control character"
    elif name.startswith("/"):
        why = "is an absolute path"
    elif _DRIVE.match(name):
        why = "starts with a drive letter"
    elif any(part in ("", ".", "..") for part in name.split("/")):
        why = "has an empty, '.' or '..' part"
    if why:
        raise BundleError(f"the bundle holds an entry named {name[:120]!r}, which {why}; "
                          "entries must be plain relative paths — this is not a bundle "
                          "'showfloor pack' made, do not install it")


def _check_entries(infos: Sequence[zipfile.ZipInfo], max_entries: int) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > max_entries:
        raise BundleError(f"the bundle holds {len(infos):,} entries, more than the "
                          f"{max_entries:,} a bundle may hold; pack fewer files")
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        check_name(name.rstrip("/") if info.is_dir() else name)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if info.is_dir() or (kind and kind != stat.S_IFREG):
            what = ("a symbolic link" if kind == stat.S_IFLNK else
                    "a folder entry" if info.is_dir() or kind == stat.S_IFDIR else
                    "not a regular file")
            raise BundleError(f"the bundle entry '{name}' is {what}; a bundle holds regular "
                              "files only — do not install it")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise BundleError(f"the bundle entry '{name}' uses compression method "
                              f"{info.compress_type}, not deflate; pack it again with "
                              "'showfloor pack'")
        if info.flag_bits & 0x1:
            raise BundleError(f"the bundle entry '{name}' is encrypted; a bundle is signed, "
                              "not encrypted — pack it again")
        if name in by_name:
            raise BundleError(f"the bundle holds two entries named '{name}'; pack it again")
        by_name[name] = info
    return by_name


class _Budget:
    """The bytes every file of one bundle may still expand to."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.total = total


def _stream(zf: zipfile.ZipFile, info: zipfile.ZipInfo, expected: FileEntry,
            budget: _Budget, sink: IO[bytes] | None) -> None:
    """Decompress one entry, counting and hashing every byte; stop at the first limit."""
    digest = hashlib.sha256()
    size = 0
    compressed = max(info.compress_size, 1)
    try:
        with zf.open(info) as src:
            while True:
                chunk = src.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > expected.size:
                    raise BundleError(f"'{expected.path}' in the bundle is larger than the "
                                      f"{expected.size:,} bytes its manifest lists; the "
                                      "bundle is damaged or altered — do not install it")
                if size > budget.left:
                    raise BundleError(f"the bundle's files expand to more than "
                                      f"{budget.total:,} bytes, the most a bundle may hold; "
                                      "do not install it")
                if size >= RATIO_FLOOR and size / compressed > MAX_RATIO:
                    raise BundleError(f"'{expected.path}' in the bundle expands more than "
                                      f"{MAX_RATIO} times (a zip bomb?); do not install it")
                digest.update(chunk)
                if sink is not None:
                    sink.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            ValueError, NotImplementedError) as e:
        if isinstance(e, OSError) and sink is not None and not isinstance(e, EOFError) \
                and e.errno is not None:
            raise BundleError(f"cannot write '{expected.path}' while unpacking "
                              f"({e.strerror}); free some space and try again") from e
        raise BundleError(f"'{expected.path}' in the bundle cannot be read ({e}); the "
                          "bundle is damaged — download or pack it again") from e
    budget.left -= size
    if size != expected.size:
        raise BundleError(f"'{expected.path}' in the bundle is {size:,} bytes, not the "
                          f"{expected.size:,} its manifest lists; the bundle is damaged or "
                          "cut short — download or pack it again")
    if digest.hexdigest() != expected.sha256:
        raise BundleError(f"'{expected.path}' in the bundle does not match its SHA-256 in "
                          "the manifest; the bundle is damaged or altered — do not install it")


def _read_small(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError,
            NotImplementedError) as e:
        raise BundleError(f"{info.filename} in the bundle cannot be read ({e}); the bundle is "
                          "damaged — download or pack it again") from e
    if len(data) > limit:
        raise BundleError(f"{info.filename} in the bundle is larger than {limit:,} bytes; "
                          "this is not a bundle 'showfloor pack' made")
    return data


# -- verify -----------------------------------------------------------------------

@dataclass(frozen=True)
class Verified:
    """A bundle whose signature, expiry and every file were checked."""

    manifest: Manifest
    key_id: str
    #: whether the signing key was one of the trusted keys given (else: the embedded one)
    trusted: bool

    def summary(self) -> str:
        m = self.manifest
        line = (f"{m.exhibit} {m.version}: {len(m.files)} files, {m.total:,} bytes, signed by "
                f"{'trusted ' if self.trusted else ''}key {self.key_id}, expires {m.expiry}")
        if not self.trusted:
            line += ("; the publisher was not checked against a trust list (give --trust "
                     "to check it)")
        return line


def _open_zip(bundle: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(bundle)
    except FileNotFoundError as e:
        raise BundleError(f"{bundle}: no such bundle file") from e
    except IsADirectoryError as e:
        raise BundleError(f"{bundle} is a folder, not a bundle; give a .showfloor file that "
                          "'showfloor pack' made") from e
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as e:
        raise BundleError(f"{bundle} is not a showfloor bundle: it is not a zip file "
                          f"({e}); give a .showfloor file that 'showfloor pack' made") from e
    except OSError as e:
        raise BundleError(f"cannot read the bundle {bundle} ({e.strerror})") from e


def _check_signature(zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo],
                     trusted: dict[str, Ed25519PublicKey] | None) -> tuple[bytes, str, bool]:
    for name in (MANIFEST, SIGNATURE):
        if name not in entries:
            raise BundleError(f"the bundle has no {name}; this is not a bundle 'showfloor "
                              "pack' made")
    manifest = _read_small(zf, entries[MANIFEST], MAX_MANIFEST)
    kid, is_trusted = check_signature(manifest, _read_small(zf, entries[SIGNATURE],
                                                            MAX_SIGNATURE), trusted)
    return manifest, kid, is_trusted


def check_signature(manifest: bytes, signature_file: bytes,
                    trusted: Mapping[str, Ed25519PublicKey] | None) -> tuple[str, bool]:
    """Check ``manifest.sig``'s signature over the bytes of ``manifest.json``.

    Returns the signing key's id and whether it was one of ``trusted`` (without
    trusted keys, the key the signature carries is used). Raises BundleError.
    """
    try:
        sig = json.loads(signature_file.decode("utf-8"))
        kid, signature = sig["key_id"], _unb64(sig["signature"])
        embedded = parse_public(sig["public_key"])
        if not isinstance(kid, str) or sig.get("algorithm") != "ed25519":
            raise ValueError(kid)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, binascii.Error,
            AttributeError, BundleError) as e:
        raise BundleError(f"the bundle's {SIGNATURE} is not a showfloor signature (JSON with "
                          "algorithm ed25519, key_id, public_key, signature); pack it "
                          "again") from e
    if trusted:
        key = trusted.get(kid)
        retired = getattr(trusted, "retired", {})  # keys a signed trust list retired
        if key is None and kid in retired:
            raise BundleError(f"the bundle is signed by key {kid}, which was retired in trust "
                              f"list version {retired[kid]}; a retired key is refused — ask "
                              "the publisher to sign it again with an active key")
        if key is None:
            raise BundleError(f"the bundle is signed by key {kid}, which is not one of the "
                              f"{len(trusted)} trusted key(s) given ({', '.join(sorted(trusted))}); "
                              "add the publisher's public key with --trust if you trust it")
    else:
        key = embedded
        if key_id(key) != kid:
            raise BundleError(f"the bundle's signature names key {kid}, but its public key has "
                              f"id {key_id(key)}; the bundle is altered — do not install it")
    try:
        key.verify(signature, manifest)
    except InvalidSignature as e:
        raise BundleError(f"the signature of the bundle's {MANIFEST} does not match key {kid}; "
                          "the bundle is altered or damaged — do not install it") from e
    return kid, bool(trusted)


def _check(zf: zipfile.ZipFile, trusted: dict[str, Ed25519PublicKey] | None, now: float,
           max_entries: int, max_total: int) -> tuple[Verified, dict[str, zipfile.ZipInfo]]:
    entries = _check_entries(zf.infolist(), max_entries)
    data, kid, is_trusted = _check_signature(zf, entries, trusted)
    manifest = parse_manifest(data)
    if now > manifest.expires:
        raise BundleError(f"the bundle of {manifest.exhibit} {manifest.version} expired on "
                          f"{_iso(manifest.expires)}; pack it again (--expires DAYS)")
    if _version_tuple(manifest.showfloor) > _version_tuple(__version__):
        raise BundleError(f"the bundle needs showfloor {manifest.showfloor} or newer; this is "
                          f"{__version__} — upgrade showfloor")
    check_listing(manifest, entries, max_total)
    return Verified(manifest, kid, is_trusted), entries


def check_listing(manifest: Manifest, entries: dict[str, zipfile.ZipInfo],
                  max_total: int = MAX_TOTAL) -> None:
    """The zip holds exactly the files its manifest lists, within the size limit."""
    listed = {f.path for f in manifest.files}
    for f in manifest.files:
        if f.path not in entries:
            raise BundleError(f"the bundle lists '{f.path}' in its manifest but does not hold "
                              "it; the bundle is damaged — download or pack it again")
    extra = sorted(set(entries) - listed - {MANIFEST, SIGNATURE})
    if extra:
        raise BundleError(f"the bundle holds '{extra[0]}'"
                          + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "")
                          + ", which its manifest does not list; the bundle is altered — do "
                          "not install it")
    if manifest.total > max_total:
        raise BundleError(f"the bundle's files add up to {manifest.total:,} bytes, more than "
                          f"the {max_total:,} a bundle may hold")


def verify(bundle: Path, trusted: dict[str, Ed25519PublicKey] | None = None, *,
           now: float | None = None, max_entries: int = MAX_ENTRIES,
           max_total: int = MAX_TOTAL) -> Verified:
    """Check a bundle's signature, expiry and every file; raise BundleError on the first fault.

    With ``trusted`` keys, the signing key must be one of them; without, the key
    embedded in the bundle is used (which proves the bundle is whole, not who made it).
    """
    with _open_zip(bundle) as zf:
        verified, entries = _check(zf, trusted, time.time() if now is None else now,
                                   max_entries, max_total)
        budget = _Budget(max_total)
        for f in verified.manifest.files:
            _stream(zf, entries[f.path], f, budget, None)
    return verified


# -- unpack -----------------------------------------------------------------------

def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def unpack(bundle: Path, dest: Path, trusted_keys: dict[str, Ed25519PublicKey], *,
           now: float | None = None, max_entries: int = MAX_ENTRIES,
           max_total: int = MAX_TOTAL) -> Verified:
    """Verify ``bundle`` against ``trusted_keys`` and unpack it into the new folder ``dest``.

    Files go to a temporary folder beside ``dest``, each hashed as it is written and
    synced; the folder is renamed to ``dest`` only when every file matched. On any
    failure nothing is left behind.
    """
    if not trusted_keys:
        raise BundleError("no trusted keys given; a station unpacks only bundles signed by "
                          "a key in its trust list")
    if dest.exists() or dest.is_symlink():
        raise BundleError(f"{dest} already exists; unpack into a new folder")
    parent = dest.parent
    if not parent.is_dir():
        raise BundleError(f"{parent}: no such folder to unpack into")
    with _open_zip(bundle) as zf:
        verified, entries = _check(zf, trusted_keys, time.time() if now is None else now,
                                   max_entries, max_total)
        try:
            work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpacking-", dir=parent))
        except OSError as e:
            raise BundleError(f"cannot unpack into {parent} ({e.strerror or e}); check the "
                              "folder's permissions and free space") from e
        try:
            budget = _Budget(max_total)
            made: set[Path] = {work}
            names = [*(FileEntry(n, entries[n].file_size, "") for n in (MANIFEST, SIGNATURE)),
                     *verified.manifest.files]
            for f in names:
                target = work.joinpath(*f.path.split("/"))
                try:
                    for d in reversed(target.parents):
                        if d not in made and work in d.parents:
                            d.mkdir()
                            made.add(d)
                    out = open(target, "xb")  # noqa: SIM115 (closed just below)
                except OSError as e:
                    raise BundleError(f"cannot write '{f.path}' while unpacking into {parent} "
                                      f"({e.strerror}); a bundle may not hold a file and a "
                                      "folder of the same name — pack it again") from e
                with out:
                    if f.path in (MANIFEST, SIGNATURE):
                        out.write(_read_small(zf, entries[f.path], MAX_MANIFEST))
                    else:
                        _stream(zf, entries[f.path], f, budget, out)
                    out.flush()
                    os.fsync(out.fileno())
            for d in sorted(made, key=lambda p: len(p.parts), reverse=True):
                _fsync_dir(d)
            os.rename(work, dest)
            _fsync_dir(parent)
        except BaseException as e:
            shutil.rmtree(work, ignore_errors=True)
            if isinstance(e, OSError):  # a full disk, a failed fsync: nothing was kept
                raise BundleError(f"cannot unpack into {parent} ({e.strerror or e}); nothing "
                                  "was kept — free some space and try again") from e
            raise
    return verified


# -- pack -------------------------------------------------------------------------

def exhibit_files(root: Path) -> list[tuple[str, Path]]:
    """Every file of an exhibit folder as (bundle path, file), sorted; no dotfiles or
    ``__pycache__``. A symbolic link or other non-regular file is refused."""
    found: list[tuple[str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d != "__pycache__")
        here = Path(dirpath)
        for d in dirnames:
            if (here / d).is_symlink():
                raise BundleError(f"{here / d} is a symbolic link; a bundle holds regular files "
                                  "only — copy the folder in instead")
        for name in filenames:
            if name.startswith("."):
                continue
            p = here / name
            rel = p.relative_to(root).as_posix()
            if not stat.S_ISREG(p.lstat().st_mode):
                raise BundleError(f"{p} is a symbolic link or special file; a bundle holds "
                                  "regular files only — copy the file in instead")
            try:
                check_name(rel)
            except BundleError as e:
                raise BundleError(f"{p}: the file name cannot go into a bundle ({e}); "
                                  "rename it") from e
            if rel in (MANIFEST, SIGNATURE):
                raise BundleError(f"{p}: an exhibit may not have a file named {rel} at its "
                                  "top (the bundle's own); rename it")
            found.append((rel, p))
    return sorted(found)


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _zinfo(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = ZIP_MODE
    info.file_size = size
    return info


def created_time(files: Sequence[tuple[str, Path]]) -> int:
    """``SOURCE_DATE_EPOCH`` if set, else the newest file's modification time."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env is not None:
        try:
            return int(env)
        except ValueError as e:
            raise BundleError(f"SOURCE_DATE_EPOCH is '{env}', not a whole number of seconds "
                              "since 1970; unset it or give e.g. 1767225600") from e
    return max((int(p.stat().st_mtime) for _, p in files), default=0)


def pack(root: Path, exhibit_id: str, version: str, key: Ed25519PrivateKey, output: Path,
         expires_days: int = 365, now: float | None = None) -> Manifest:
    """Write a signed, reproducible bundle of the exhibit folder ``root`` to ``output``.

    The caller checks the exhibit first (``showfloor pack`` refuses one with errors).
    """
    root = root.resolve()
    out_abs = output.resolve()
    if root in out_abs.parents:
        raise BundleError(f"{output} is inside the exhibit folder it packs; write the bundle "
                          "somewhere else")
    files = exhibit_files(root)
    created = created_time(files)
    expires = created + expires_days * DAY
    if expires <= (time.time() if now is None else now):
        raise BundleError(f"the bundle would have expired already on {_iso(expires)} ({expires_days} "
                          f"days after its files' newest time, {_iso(created)}); give more "
                          "--expires days or set SOURCE_DATE_EPOCH to now")
    listing = []
    for rel, p in files:
        size, sha = _hash_file(p)
        listing.append(FileEntry(rel, size, sha))
    manifest = Manifest(exhibit_id, version, created, expires, __version__, tuple(listing))
    data = manifest.to_bytes()
    public = key.public_key()
    sig = (json.dumps({"format": FORMAT, "algorithm": "ed25519", "key_id": key_id(public),
                       "public_key": public_text(public),
                       "signature": _b64(key.sign(data))}, indent=1) + "\n").encode()
    if not output.parent.is_dir():
        raise BundleError(f"{output.parent}: no such folder to write the bundle into")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            zf.writestr(_zinfo(MANIFEST, len(data)), data)
            zf.writestr(_zinfo(SIGNATURE, len(sig)), sig)
            for entry, (_, p) in zip(listing, files, strict=True):
                with p.open("rb") as src, zf.open(_zinfo(entry.path, entry.size), "w") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        os.chmod(tmp, 0o644)
        # a file that changed while it was packed would make a bundle that fails later
        try:
            verify(tmp, {key_id(public): public}, now=created)
        except BundleError as e:
            raise BundleError(f"the bundle came out unlike its manifest ({e}); did a file of "
                              f"{root} change while it was packed? Pack it again") from e
        os.replace(tmp, output)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


__all__ = ["BundleError", "Manifest", "Verified", "exhibit_files", "key_id", "load_key",
           "load_trusted", "new_key", "pack", "parse_manifest", "public_text", "unpack",
           "verify"]
