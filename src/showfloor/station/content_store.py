"""The station's content store: exhibit versions by hash, an atomic switch, a floor.

Everything lives under ``<data>/content/``::

    objects/<sha256>            every file of every kept version, by its hash (read-only)
    partial/<sha256>            downloads in progress (resumed with HTTP Range)
    versions/<exhibit>@<version>/
                                a complete, checked exhibit folder: its files hard-linked
                                from objects/ (copied where links fail), manifest.json,
                                manifest.sig
    current                     a symbolic link to versions/<…>: what the station runs
    state.json                  the floor, current, previous, pending, attempts, last error

The guarantees, whatever moment the process is killed at:

- a folder under ``versions/`` whose name does not start with a dot is complete and
  passed ``check``: it is built in ``versions/.build-…`` and renamed into place last;
  one being deleted is first renamed to ``versions/.gc-…``;
- ``current`` is switched by making a new link beside it and renaming it over the old
  one (one atomic rename), then syncing the folder;
- ``state.json`` is written to a temporary file, synced and renamed over the old one;
- :meth:`ContentStore.recover` (at start) removes what a killed run left half-made and
  makes ``state.json`` agree with ``current``, so the station runs the old or the new
  version, never neither, and the floor is never lost.

The **floor** is, per exhibit, the newest version the station has accepted (raised by
:meth:`ContentStore.confirm` once the version ran healthily); a bundle below it is
refused. Only a signed rollback instruction (:meth:`ContentStore.rollback`) lowers it.

Test hook: :data:`STEP`, when set, is called with a short name before every change
this module makes to the file system (write, rename, link, fsync, unlink, mkdir);
the crash tests count the steps and kill the process at one of them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from showfloor import __version__
from showfloor.content import bundle
from showfloor.content.bundle import FileEntry, Manifest, Verified
from showfloor.errors import BundleError

#: Test hook: called with the kind of step before each file-system change (or None).
STEP: Callable[[str], None] | None = None

CONTENT = "content"
OBJECTS = "objects"
PARTIAL = "partial"
VERSIONS = "versions"
CURRENT = "current"
STATE = "state.json"
LOCK = ".lock"
#: Free space kept beyond what a version needs (a station's disk never fills).
SPACE_MARGIN = 16 * 1024 * 1024
#: A download not touched for this long is abandoned; gc() removes it.
PARTIAL_TTL = 86400
#: How many rollback nonces are remembered (an instruction is used once).
NONCES = 200
BUILD_PREFIX = ".build-"
GC_PREFIX = ".gc-"
_SHA = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}@[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


class StaleError(BundleError):
    """A manifest past its expiry date: keep playing what runs, install nothing."""


class FloorError(BundleError):
    """A version older than the newest this station has accepted (a replayed bundle)."""


def _step(what: str) -> None:
    if STEP is not None:
        STEP(what)


def version_key(version: str) -> tuple[int, ...]:
    """Versions compare by their numbers in order: 1.10.0 > 1.9.2; 2.0 == 2.0.0."""
    nums = [int(n) for n in re.findall(r"\d+", version)]
    while nums and nums[-1] == 0:
        nums.pop()
    return tuple(nums)


def version_name(exhibit: str, version: str) -> str:
    """The folder name of a version: ``<exhibit>@<version>``."""
    name = f"{exhibit}@{version}"
    if not _NAME.match(name):
        raise BundleError(f"the manifest's exhibit id and version make '{name[:140]}', which "
                          "cannot be a folder name (letters, digits, '.', '_', '+', '-' only); "
                          "give the exhibit a plain id and version and pack it again")
    return name


def _fsync_dir(path: Path) -> None:
    _step("fsync")
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(f: IO[bytes]) -> None:
    f.flush()
    _step("fsync")
    os.fsync(f.fileno())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    _step("write")
    with open(tmp, "wb") as f:
        f.write(data)
        _fsync_file(f)
    _step("rename")
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _remove_tree(path: Path) -> None:
    """Delete a folder bottom-up (one step per entry, for the crash tests)."""
    if not path.exists():
        return
    for dirpath, dirnames, filenames in os.walk(path, topdown=False):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            _step("unlink")
            os.unlink(os.path.join(dirpath, name))
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                _step("rmdir")
                os.rmdir(full)
    _step("rmdir")
    os.rmdir(path)


def _hash_file(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(bundle.CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system of ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _blocks(size: int) -> int:
    return -(-size // 4096) * 4096


def _iso_time(value: Any, what: str) -> float:
    if not isinstance(value, str):
        raise BundleError(f"the rollback instruction's '{what}' is {value!r}, not a time such "
                          "as 2026-01-31T12:00:00Z; make the instruction again on the hub")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise BundleError(f"the rollback instruction's '{what}' is '{value[:40]}', not a time "
                          "such as 2026-01-31T12:00:00Z; make it again on the hub") from e
    if when.tzinfo is None:
        raise BundleError(f"the rollback instruction's '{what}' ('{value[:40]}') has no time "
                          "zone; make it again on the hub")
    return when.timestamp()


def _empty_state() -> dict[str, Any]:
    return {"format": 1, "floor": {}, "current": None, "previous": None, "pending": None,
            "attempts": {}, "last_error": None, "history": [], "nonces": []}


class _Sink:
    """A file being written that announces each write to :data:`STEP`."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f

    def write(self, data: bytes) -> int:
        _step("write")
        return self.f.write(data)


@dataclass(frozen=True)
class Installed:
    """One version folder the store holds."""

    name: str
    exhibit: str
    version: str
    files: int
    size: int
    current: bool
    pending: bool
    previous: bool


class ContentStore:
    """The versions of a station's exhibit under ``<data_dir>/content`` (see the module)."""

    def __init__(self, data_dir: Path, keep: int = 3, margin: int = SPACE_MARGIN) -> None:
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        self.root = Path(data_dir) / CONTENT
        self.objects = self.root / OBJECTS
        self.partial = self.root / PARTIAL
        self.versions = self.root / VERSIONS
        self.current_link = self.root / CURRENT
        self.state_path = self.root / STATE
        self.keep = keep
        #: free space kept beyond what a new version's files need
        self.margin = margin
        self._lock_fd: int | None = None
        self._thread_lock = threading.RLock()
        self._depth = 0
        try:
            for d in (self.root, self.objects, self.partial, self.versions):
                d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BundleError(f"cannot make the content folder {self.root} ({e.strerror}); "
                              "check the station's --data folder and its permissions") from e

    # -- locking and state -------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One thread of one process changes the store at a time (a station's threads,
        and `showfloor install` beside a running station); re-entrant."""
        with self._thread_lock:
            if self._depth == 0:
                fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)  # releases the lock
                    self._lock_fd = None

    def state(self) -> dict[str, Any]:
        """state.json as a dict (the empty state when nothing was ever installed)."""
        try:
            raw = self.state_path.read_bytes()
        except FileNotFoundError:
            return _empty_state()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("floor"), dict):
                raise ValueError("not a state object")
        except ValueError as e:
            raise BundleError(f"{self.state_path} is damaged ({e}); it holds the newest "
                              "versions this station accepted, so it is not replaced on its "
                              "own — restore it from a backup, or delete it to start "
                              "afresh (an older bundle would then be accepted once)") from e
        state = _empty_state()
        state.update(data)
        return state

    def _save(self, state: dict[str, Any]) -> None:
        _write_atomic(self.state_path, (json.dumps(state, indent=1, sort_keys=True) + "\n")
                      .encode())

    def current(self) -> str | None:
        """The version ``current`` points at (its folder name), or None."""
        try:
            target = os.readlink(self.current_link)
        except OSError:  # no link (or not a link): nothing runs from the store
            return None
        name = Path(target).name
        return name if (self.versions / name).is_dir() else None

    def current_path(self) -> Path | None:
        """The exhibit folder the station runs (through the ``current`` link), or None."""
        return self.current_link if self.current() is not None else None

    def path(self, name: str) -> Path:
        return self.versions / name

    def floor(self, exhibit: str) -> str | None:
        value = self.state()["floor"].get(exhibit)
        return value if isinstance(value, str) else None

    def attempts(self, name: str) -> int:
        """How many times the version ``name`` was reverted after failing its health check."""
        value = self.state()["attempts"].get(name, 0)
        return value if isinstance(value, int) else 0

    def _complete(self, name: Any) -> bool:
        return (isinstance(name, str) and not name.startswith(".") and "/" not in name
                and (self.versions / name).is_dir())

    def installed(self) -> list[Installed]:
        """Every complete version folder, oldest first (as they were staged)."""
        state = self.state()
        names = [n for n in state["history"] if self._complete(n)]
        names = [n for n in sorted(p.name for p in self.versions.iterdir()
                                   if self._complete(p.name)) if n not in names] + names
        cur = self.current()
        out = []
        for n in names:
            try:
                m = bundle.parse_manifest((self.versions / n / bundle.MANIFEST).read_bytes())
            except (OSError, BundleError):
                continue
            out.append(Installed(n, m.exhibit, m.version, len(m.files), m.total, n == cur,
                                 n == state["pending"], n == state["previous"]))
        return out

    # -- objects ---------------------------------------------------------------

    def _object(self, sha: str) -> Path:
        if not _SHA.match(sha):
            raise BundleError(f"'{sha[:80]}' is not a SHA-256 (64 lower-case hex digits)")
        return self.objects / sha

    def has_object(self, sha: str) -> bool:
        return self._object(sha).is_file()

    def missing(self, manifest: Manifest) -> list[FileEntry]:
        """The files of ``manifest`` whose bytes the store lacks (one entry per hash)."""
        seen: set[str] = set()
        out = []
        for f in manifest.files:
            if f.sha256 not in seen and not self.has_object(f.sha256):
                out.append(f)
            seen.add(f.sha256)
        return out

    def partial_path(self, sha: str) -> Path:
        """Where the download of the file with hash ``sha`` goes until it is complete."""
        self._object(sha)
        return self.partial / sha

    def _commit(self, sha: str, src: Path) -> None:
        """Move a checked, synced file into objects/ (read-only)."""
        os.chmod(src, 0o444)
        _step("rename")
        os.replace(src, self.objects / sha)
        _fsync_dir(self.objects)

    def add_object(self, sha: str) -> Path:
        """Move the finished download ``partial/<sha>`` into objects/ once its hash matches.

        A file whose bytes do not hash to ``sha`` is deleted and refused.
        """
        src = self.partial_path(sha)
        if not src.is_file():
            raise BundleError(f"{src}: no such download to add; fetch the file first")
        _, got = _hash_file(src)
        if got != sha:
            _step("unlink")
            src.unlink(missing_ok=True)
            raise BundleError(f"the downloaded file {sha[:16]}… hashes to {got[:16]}…, not "
                              "its SHA-256 in the manifest; it was deleted — fetch it again")
        with self._locked():
            # read-only: a kill between _commit's chmod and its rename leaves a read-only
            # partial file, which a station not running as root could not open for writing
            with open(src, "rb") as f:
                _fsync_file(f)
            self._commit(sha, src)
        return self.objects / sha

    # -- admit -----------------------------------------------------------------

    def admit(self, manifest_bytes: bytes, sig_bytes: bytes,
              trusted_keys: Mapping[str, Ed25519PublicKey], now: float | None = None
              ) -> Verified:
        """Check a manifest: signature by a trusted key, not expired, runnable here, not
        below the floor. Changes nothing; raises BundleError (StaleError, FloorError)."""
        if not trusted_keys:
            raise BundleError("no trusted keys: a station installs only bundles signed by a "
                              "key in its trust list — give the publisher's key (--trust)")
        kid, _ = bundle.check_signature(manifest_bytes, sig_bytes, trusted_keys)
        m = bundle.parse_manifest(manifest_bytes)
        when = time.time() if now is None else now
        if when > m.expires:
            raise StaleError(f"the manifest of {m.exhibit} {m.version} expired on "
                             f"{bundle._iso(m.expires)}, so it is stale: nothing was installed "
                             "and the running version stays — publish a fresh bundle "
                             "(pack it again)")
        if bundle._version_tuple(m.showfloor) > bundle._version_tuple(__version__):
            raise BundleError(f"{m.exhibit} {m.version} needs showfloor {m.showfloor} or "
                              f"newer; this station runs {__version__} — upgrade showfloor "
                              "first")
        version_name(m.exhibit, m.version)
        floor = self.floor(m.exhibit)
        if floor is not None and version_key(m.version) < version_key(floor):
            raise FloorError(f"{m.exhibit} {m.version} is older than {floor}, the newest "
                             "version this station has accepted; an older version goes back "
                             "on only with a signed rollback instruction from the hub")
        return Verified(m, kid, True)

    # -- stage -------------------------------------------------------------------

    def stage(self, verified: Verified, manifest_bytes: bytes, sig_bytes: bytes) -> Path:
        """Build the version folder from objects/, check it, and mark it pending.

        Every file must be in objects/ (see :meth:`missing`). The folder is built under
        a dot-name, checked with ``showfloor check`` and renamed into place only when
        it has no errors. Returns its path; the running version is untouched.
        """
        m = verified.manifest
        if bundle.parse_manifest(manifest_bytes) != m:
            raise BundleError("the manifest bytes given to stage() are not the ones admitted")
        name = version_name(m.exhibit, m.version)
        with self._locked():
            state = self.state()
            target = self.versions / name
            if target.is_dir():
                if (target / bundle.MANIFEST).read_bytes() == manifest_bytes:
                    if self.current() != name and state["pending"] != name:
                        state["pending"] = name
                        self._save(state)
                    return target
                if self.current() == name:
                    raise BundleError(f"{m.exhibit} {m.version} already runs here with other "
                                      "files; give the new bundle a new version and publish "
                                      "it again")
                self._discard(target)
            lacking = self.missing(m)
            if lacking:
                raise BundleError(f"'{lacking[0].path}' of {m.exhibit} {m.version} has not "
                                  f"been fetched ({len(lacking)} file(s) missing); fetch them "
                                  "before staging")
            work = self.versions / f"{BUILD_PREFIX}{name}-{secrets.token_hex(4)}"
            try:
                self._build(work, m, manifest_bytes, sig_bytes)
                self._check(work, m)
                _step("rename")
                os.rename(work, target)
                _fsync_dir(self.versions)
            except BaseException as e:
                with contextlib.suppress(OSError):
                    _remove_tree(work)
                if isinstance(e, OSError):
                    raise BundleError(self._space_message(e, f"{m.exhibit} {m.version}")) from e
                raise
            state["pending"] = name
            state["history"] = [n for n in state["history"] if n != name] + [name]
            self._save(state)
        return target

    def _build(self, work: Path, m: Manifest, manifest_bytes: bytes, sig_bytes: bytes) -> None:
        _step("mkdir")
        work.mkdir()
        made = {work}
        for f in m.files:
            dest = work.joinpath(*f.path.split("/"))
            for d in reversed(dest.parents):
                if d not in made and work in d.parents:
                    _step("mkdir")
                    d.mkdir()
                    made.add(d)
            src = self.objects / f.sha256
            try:
                _step("link")
                os.link(src, dest)
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP,
                                   errno.EACCES):
                    raise
                with open(src, "rb") as s, open(dest, "xb") as d_:
                    shutil.copyfileobj(s, _Sink(d_), bundle.CHUNK)
                    _fsync_file(d_)
                os.chmod(dest, 0o444)
        for fname, data in ((bundle.MANIFEST, manifest_bytes), (bundle.SIGNATURE, sig_bytes)):
            _step("write")
            with open(work / fname, "xb") as out:
                out.write(data)
                _fsync_file(out)
            os.chmod(work / fname, 0o444)
        for d in sorted(made, key=lambda p: len(p.parts), reverse=True):
            _fsync_dir(d)

    def _check(self, folder: Path, m: Manifest) -> None:
        from showfloor.content.lint import check
        from showfloor.errors import ShowfloorError

        what = f"{m.exhibit} {m.version}"
        _step("check")  # not a change: lets the crash tests kill "during check" too
        try:
            report = check(folder)
        except ShowfloorError as e:
            raise BundleError(f"{what} cannot be loaded ({e}); it was not installed — fix it, "
                              "check it with 'showfloor check' and publish it again") from e
        if report.exhibit is None or not report.ok:
            errors = report.errors
            first = "; ".join(str(p).replace(str(folder) + os.sep, "") for p in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise BundleError(f"{what} has {len(errors)} error(s), so it was not installed: "
                              f"{first}{more} — run 'showfloor check' on it and publish it "
                              "again")
        ex = report.exhibit
        if (ex.id, ex.version) != (m.exhibit, m.version):
            raise BundleError(f"the bundle says {what} but its exhibit.yaml is {ex.id} "
                              f"{ex.version}; pack it again")

    # -- switch --------------------------------------------------------------------

    def _point(self, name: str | None) -> None:
        """Switch ``current`` atomically: a new link beside it, renamed over it, synced."""
        if name is None:
            if self.current_link.is_symlink():
                _step("unlink")
                self.current_link.unlink()
                _fsync_dir(self.root)
            return
        tmp = self.root / f".{CURRENT}-{secrets.token_hex(4)}"
        _step("symlink")
        os.symlink(f"{VERSIONS}/{name}", tmp)
        _step("rename")
        os.replace(tmp, self.current_link)
        _fsync_dir(self.root)

    def activate(self, name: str) -> None:
        """Make the version ``name`` current (the one before it becomes ``previous``)."""
        with self._locked():
            if not self._complete(name):
                raise BundleError(f"there is no installed version {name}; stage it first")
            state = self.state()
            exhibit, _, version = name.partition("@")
            floor = state["floor"].get(exhibit)
            if isinstance(floor, str) and version_key(version) < version_key(floor):
                raise FloorError(f"{exhibit} {version} is older than {floor}, the newest "
                                 "version this station has accepted; it runs again only after "
                                 "a signed rollback instruction")
            old = self.current()
            if old == name:
                if state["pending"] == name:
                    state["pending"] = None
                    self._save(state)
                return
            self._point(name)
            state["previous"] = old
            state["current"] = name
            if state["pending"] == name:
                state["pending"] = None
            self._save(state)

    def confirm(self, name: str) -> None:
        """The version ``name`` ran healthily: raise the floor to it, clear its attempts, gc."""
        with self._locked():
            if self.current() != name:
                raise BundleError(f"{name} is not the current version ({self.current()}); only "
                                  "the running version can be confirmed")
            state = self.state()
            exhibit, _, version = name.partition("@")
            floor = state["floor"].get(exhibit)
            if not isinstance(floor, str) or version_key(version) >= version_key(floor):
                state["floor"][exhibit] = version
            state["attempts"].pop(name, None)
            state["last_error"] = None
            self._save(state)
            self.gc()

    def revert(self, reason: str) -> str | None:
        """The current version failed: count the attempt, record why, switch back to
        ``previous``. Returns what is current now (the failed one if there is nothing to
        go back to). The floor is not consulted: the previous version ran here before."""
        with self._locked():
            state = self.state()
            failed = self.current()
            if failed is not None:
                state["attempts"][failed] = int(state["attempts"].get(failed, 0)) + 1
            state["last_error"] = reason
            if state["pending"] == failed:
                state["pending"] = None
            back = state["previous"] if self._complete(state["previous"]) else None
            if back is None or back == failed:
                self._save(state)
                return failed
            self._save(state)  # the attempt is counted before the switch
            self._point(back)
            state["current"] = back
            state["previous"] = None
            self._save(state)
            return str(back)

    # -- rollback --------------------------------------------------------------------

    def rollback(self, instruction: bytes, signature: bytes,
                 keys: Mapping[str, Ed25519PublicKey], now: float | None = None) -> str:
        """Lower an exhibit's floor as a signed rollback instruction says; returns the new floor.

        ``instruction`` is the JSON ``{"kind": "rollback", "exhibit", "from", "to",
        "issued", "expires", "nonce"}``; ``signature`` the raw 64-byte Ed25519
        signature over those bytes (or base64 of it) by one of ``keys`` (the trust
        list's ``rollback`` keys). Refused when expired, used before, for another
        floor, or not going down.
        """
        if not keys:
            raise BundleError("no rollback keys are trusted; the trust list needs a key with "
                              "the role 'rollback'")
        raw = signature
        if len(raw) != 64:
            try:
                raw = base64.b64decode(raw.strip(), validate=True)
            except (binascii.Error, ValueError):
                raw = b""
        if len(raw) != 64:
            raise BundleError("the rollback instruction's signature is not an Ed25519 "
                              "signature (64 bytes); make the instruction again on the hub")
        for key in keys.values():
            try:
                key.verify(raw, instruction)
                break
            except InvalidSignature:
                continue
        else:
            raise BundleError(f"the rollback instruction is not signed by any of the "
                              f"{len(keys)} rollback key(s) this station trusts; it was "
                              "ignored")
        try:
            data = json.loads(instruction)
        except ValueError as e:
            raise BundleError("the rollback instruction is not JSON; make it again on the "
                              "hub") from e
        if not isinstance(data, dict) or data.get("kind") != "rollback":
            raise BundleError("the signed document is not a rollback instruction (kind "
                              "'rollback'); it was ignored")
        fields = {k: data.get(k) for k in ("exhibit", "from", "to", "nonce")}
        for k, v in fields.items():
            if not isinstance(v, str) or not v:
                raise BundleError(f"the rollback instruction has no '{k}'; make it again on "
                                  "the hub")
        exhibit, frm, to, nonce = (str(fields[k]) for k in ("exhibit", "from", "to", "nonce"))
        when = time.time() if now is None else now
        if when > _iso_time(data.get("expires"), "expires"):
            raise BundleError(f"the rollback instruction for {exhibit} {frm} → {to} expired on "
                              f"{data.get('expires')}; make a new one on the hub")
        if version_key(to) > version_key(frm):
            raise BundleError(f"the rollback instruction goes from {frm} up to {to}; a "
                              "rollback goes to an older version")
        with self._locked():
            state = self.state()
            if nonce in state["nonces"]:
                raise BundleError(f"the rollback instruction {nonce[:32]} was used before; "
                                  "each is used once — make a new one on the hub")
            floor = state["floor"].get(exhibit)
            if isinstance(floor, str) and version_key(floor) > version_key(frm):
                raise FloorError(f"the rollback instruction lowers {exhibit} from {frm}, but "
                                 f"this station has accepted {floor} since; it was ignored — "
                                 "make a new one on the hub")
            if not isinstance(floor, str) or version_key(to) < version_key(floor):
                state["floor"][exhibit] = to
            state["nonces"] = [*state["nonces"], nonce][-NONCES:]
            self._save(state)
            return str(state["floor"][exhibit])

    # -- gc ------------------------------------------------------------------------

    def _discard(self, folder: Path) -> None:
        """Delete a version folder: renamed to a dot-name first, so it is never half there."""
        gone = self.versions / f"{GC_PREFIX}{folder.name}-{secrets.token_hex(4)}"
        _step("rename")
        os.rename(folder, gone)
        _fsync_dir(self.versions)
        _remove_tree(gone)

    def gc(self) -> list[str]:
        """Delete versions beyond the last ``keep`` (never current, pending or previous)
        and every object no kept version uses; returns the versions deleted.

        Objects fetched for a version not staged yet are not used by any version: run
        gc (and :meth:`confirm`, which calls it) between deliveries, not during one.
        """
        with self._locked():
            state = self.state()
            cur = self.current()
            names = [p.name for p in self.versions.iterdir() if self._complete(p.name)]
            order = [n for n in names if n not in state["history"]] + \
                [n for n in state["history"] if n in names]
            keep = set(order[-self.keep:]) | {n for n in (cur, state["pending"],
                                                         state["previous"]) if n}
            dropped = []
            for n in order:
                if n not in keep and n != cur:
                    self._discard(self.versions / n)
                    dropped.append(n)
            used: set[str] = set()
            for n in keep:
                try:
                    m = bundle.parse_manifest((self.versions / n / bundle.MANIFEST)
                                              .read_bytes())
                except (OSError, BundleError):
                    continue
                used |= {f.sha256 for f in m.files}
            if cur is not None and cur not in keep:  # belt and braces: never the running one
                raise AssertionError(cur)
            for p in self.objects.iterdir():
                if p.name not in used:
                    _step("unlink")
                    p.unlink(missing_ok=True)
            stale = time.time() - PARTIAL_TTL
            for p in self.partial.iterdir():
                with contextlib.suppress(OSError):
                    if p.stat().st_mtime < stale:
                        _step("unlink")
                        p.unlink()
            if dropped:
                _fsync_dir(self.objects)
                state["history"] = [n for n in state["history"] if n not in dropped]
                state["attempts"] = {k: v for k, v in state["attempts"].items()
                                     if k not in dropped}
                self._save(state)
            return dropped

    # -- recover -----------------------------------------------------------------------

    def recover(self) -> str | None:
        """At start: clear what a killed run left half-made; make state.json agree with
        ``current``; returns the version that runs (None: nothing was ever installed)."""
        with self._locked():
            for p in self.versions.iterdir():
                if p.name.startswith("."):
                    if p.is_dir() and not p.is_symlink():
                        _remove_tree(p)
                    else:
                        p.unlink()
            for p in self.root.iterdir():
                if p.name.startswith(f".{CURRENT}-") or p.name.startswith(f".{STATE}.tmp"):
                    p.unlink()
            for p in self.objects.iterdir():
                if not _SHA.match(p.name):
                    p.unlink()
            state = self.state()
            before = json.dumps(state, sort_keys=True)
            linked = self.current()
            if linked is None:  # no link, or a dangling one: the newest thing known to be whole
                for cand in (state["current"], state["previous"]):
                    if self._complete(cand):
                        linked = cand
                        break
                if linked is not None or self.current_link.is_symlink() or \
                        self.current_link.exists():
                    if self.current_link.exists() and not self.current_link.is_symlink():
                        raise BundleError(f"{self.current_link} is not a symbolic link; move "
                                          "it away so the station can manage its content")
                    self._point(linked)
            if state["current"] != linked:  # a switch was cut short after its rename: finish
                if self._complete(state["current"]):
                    state["previous"] = state["current"]
                state["current"] = linked
            if not self._complete(state["previous"]) or state["previous"] == linked:
                state["previous"] = None
            if not self._complete(state["pending"]) or state["pending"] == linked:
                state["pending"] = None
            state["history"] = [n for n in state["history"] if self._complete(n)]
            if json.dumps(state, sort_keys=True) != before:
                self._save(state)
            return linked

    # -- the USB path ------------------------------------------------------------------

    def _space_message(self, e: OSError, what: str) -> str:
        if e.errno == errno.ENOSPC:
            return (f"no space left in {self.root} while installing {what}; nothing was kept "
                    "and the running version stays — free some space and try again")
        return (f"cannot write into {self.root} while installing {what} ({e.strerror or e}); "
                "nothing was kept and the running version stays")

    def install_bundle(self, path: Path, trusted_keys: Mapping[str, Ed25519PublicKey],
                       now: float | None = None) -> Path:
        """Install a bundle file (a USB stick): check it, take its files into objects/
        (read the safe way: names, kinds, counts, sizes, ratio and hashes as they
        stream), then stage it. Returns the version folder, marked pending."""
        with bundle._open_zip(path) as zf, self._locked():
            entries = bundle._check_entries(zf.infolist(), bundle.MAX_ENTRIES)
            for name in (bundle.MANIFEST, bundle.SIGNATURE):
                if name not in entries:
                    raise BundleError(f"{path} has no {name}; this is not a bundle "
                                      "'showfloor pack' made")
            manifest_bytes = bundle._read_small(zf, entries[bundle.MANIFEST],
                                                bundle.MAX_MANIFEST)
            sig_bytes = bundle._read_small(zf, entries[bundle.SIGNATURE], bundle.MAX_SIGNATURE)
            verified = self.admit(manifest_bytes, sig_bytes, trusted_keys, now)
            m = verified.manifest
            bundle.check_listing(m, entries, bundle.MAX_TOTAL)
            what = f"{m.exhibit} {m.version}"
            lacking = self.missing(m)
            need = sum(_blocks(f.size) for f in lacking)
            free = _free_bytes(self.root)
            if need + self.margin > free:
                raise BundleError(f"no space for {what}: its new files need {need:,} bytes "
                                  f"plus a margin of {self.margin:,}, and {self.root} has "
                                  f"{free:,} free; nothing was installed and the running "
                                  "version stays — free some space and try again")
            name = version_name(m.exhibit, m.version)
            existed = self._complete(name)
            added: list[Path] = []
            try:
                budget = bundle._Budget(bundle.MAX_TOTAL)
                for f in lacking:
                    part = self.partial_path(f.sha256)
                    _step("write")
                    with open(part, "wb") as out:
                        bundle._stream(zf, entries[f.path], f, budget,
                                       _Sink(out))  # type: ignore[arg-type]
                        _fsync_file(out)
                    self._commit(f.sha256, part)
                    added.append(self.objects / f.sha256)
                return self.stage(verified, manifest_bytes, sig_bytes)
            except BaseException as e:
                for f in lacking:
                    self.partial_path(f.sha256).unlink(missing_ok=True)
                if not existed and self._complete(name):
                    raise  # staged (only state.json failed): its objects are used
                for obj in added:
                    obj.unlink(missing_ok=True)
                cause: BaseException | None = e
                while cause is not None and not isinstance(cause, OSError):
                    cause = cause.__cause__
                if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
                    raise BundleError(self._space_message(cause, what)) from e
                raise

