"""The signed trust list: which publisher keys a station and the hub accept, for what.

``trust.json`` names every publisher key with its roles (``bundles``: may sign
exhibit bundles; ``rollback``: may sign rollback instructions) and its status
(``active``, or ``retired``: refused from the list that retires it on). It is
signed by one or more offline **root keys** (made with ``showfloor keys new``);
the signatures lie beside it in ``trust.json.sig``::

    {"format": 1, "signatures": [{"algorithm": "ed25519", "key_id": ...,
                                  "public_key": ..., "signature": ...}, ...]}

each one over the exact bytes of ``trust.json`` (the fields of one signature
are those of a bundle's ``manifest.sig``). A station is configured with the root
public keys and how many of them must sign (the threshold, 1 unless set); it
keeps the highest version it has accepted (:class:`TrustStore`) and refuses an
older one, so an old list that still trusts a stolen key cannot be replayed.

Plain trust-list files (one public key a line, :func:`bundle.load_trusted`) are
still accepted: a key there may sign bundles and rollback instructions, unless
the signed list retires it.
"""

from __future__ import annotations

import binascii
import json
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from showfloor.content.bundle import (
    _b64,
    _unb64,
    key_id,
    load_key,
    parse_public,
    public_text,
)
from showfloor.errors import BundleError

FORMAT = 1
NAME = "trust.json"
SIG_SUFFIX = ".sig"
ROLES = ("bundles", "rollback")
STATUSES = ("active", "retired")
#: The largest trust.json / trust.json.sig read.
MAX_TRUST = 1024 * 1024
MAX_SIG = 64 * 1024
DAY = 86400


class TrustError(BundleError):
    """A trust list that cannot be made, read, or accepted."""


class TrustedKeys(dict[str, Ed25519PublicKey]):
    """Trusted keys by key id, which also knows the keys a trust list retired.

    :func:`showfloor.content.bundle.verify` and ``unpack`` use :attr:`retired` to say
    that a bundle's key was retired rather than that it is unknown.
    """

    def __init__(self, keys: Mapping[str, Ed25519PublicKey] | None = None, *,
                 retired: Mapping[str, int] | None = None) -> None:
        super().__init__(keys or {})
        #: key id -> the version of the trust list that retired it
        self.retired: dict[str, int] = dict(retired or {})


# -- the list -------------------------------------------------------------------------

@dataclass(frozen=True)
class TrustKey:
    id: str
    public: Ed25519PublicKey = field(compare=False)
    roles: tuple[str, ...]
    status: str = "active"
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "public": public_text(self.public), "roles": list(self.roles),
                "status": self.status, "note": self.note}


@dataclass(frozen=True)
class TrustList:
    version: int
    expires: int
    keys: tuple[TrustKey, ...]
    issued: int = 0

    def keys_for(self, role: str) -> TrustedKeys:
        """The active keys with ``role``; ``.retired`` names the keys this list retired."""
        if role not in ROLES:
            raise TrustError(f"'{role}' is not a role of a trust list; the roles are "
                             f"{', '.join(ROLES)}")
        return TrustedKeys({k.id: k.public for k in self.keys
                            if k.status == "active" and role in k.roles},
                           retired={k.id: self.version for k in self.keys
                                    if k.status == "retired"})

    def key(self, kid: str) -> TrustKey | None:
        return next((k for k in self.keys if k.id == kid), None)

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) > self.expires

    def check_fresh(self, now: float | None = None) -> None:
        """Raise :class:`TrustError` if the list has expired."""
        if self.expired(now):
            raise TrustError(f"the trust list (version {self.version}) expired on "
                             f"{_iso(self.expires)}; nothing new is installed until a newer "
                             "one arrives — publish one with 'showfloor trust next' (what "
                             "runs keeps running)")

    def to_bytes(self) -> bytes:
        data = {"format": FORMAT, "version": self.version, "issued": _iso(self.issued),
                "expires": _iso(self.expires),
                "keys": [k.as_json() for k in sorted(self.keys, key=lambda k: k.id)]}
        return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")

    def summary(self) -> str:
        active = sum(k.status == "active" for k in self.keys)
        return (f"trust list version {self.version}: {active} active key(s), "
                f"{len(self.keys) - active} retired, issued {_iso(self.issued)}, expires "
                f"{_iso(self.expires)}")


def _iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any, name: str) -> int:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise TrustError(f"the trust list's '{name}' is {value!r}, not a time such as "
                         "2026-01-31T12:00:00Z; make it again with 'showfloor trust'") from e
    return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp())


_KID = re.compile(r"^[0-9a-f]{16}$")


def read_trust(data: bytes) -> TrustList:
    """The content of ``trust.json``, every field checked — but not its signature.

    Refused: another format, a version that is not a whole number >= 1, a key whose id
    is not its public key's, a key listed twice, an unknown role or status.
    """
    if len(data) > MAX_TRUST:
        raise TrustError(f"the trust list is larger than {MAX_TRUST:,} bytes; this is not "
                         "one 'showfloor trust' made")
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise TrustError("the trust list is not JSON text; make it again with 'showfloor "
                         "trust'") from e
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        got = raw.get("format") if isinstance(raw, dict) else None
        raise TrustError(f"the trust list has format {got!r}, not {FORMAT}; this showfloor "
                         f"reads format {FORMAT} only")
    version = raw.get("version")
    if type(version) is not int or version < 1:
        raise TrustError(f"the trust list's version is {version!r}, not a whole number of 1 "
                         "or more")
    items = raw.get("keys")
    if not isinstance(items, list):
        raise TrustError("the trust list has no list of 'keys'")
    keys: list[TrustKey] = []
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict):
            raise TrustError(f"the trust list holds a key as {str(item)[:80]}, not "
                             "{id, public, roles, status, note}")
        kid, roles, status = item.get("id"), item.get("roles"), item.get("status", "active")
        if not isinstance(kid, str) or not _KID.match(kid):
            raise TrustError(f"the trust list holds a key with id {kid!r}, not 16 hex digits")
        if kid in seen:
            raise TrustError(f"the trust list lists key {kid} twice; list each key once")
        try:
            public = parse_public(str(item.get("public", "")))
        except BundleError as e:
            raise TrustError(f"the trust list's key {kid}: {e}") from e
        if key_id(public) != kid:
            raise TrustError(f"the trust list names key {kid}, but its public key has id "
                             f"{key_id(public)}; the list is altered or mistyped")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str)
                                                               for r in roles):
            raise TrustError(f"the trust list's key {kid} has roles {roles!r}, not a list of "
                             f"one or more of {', '.join(ROLES)}")
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise TrustError(f"the trust list gives key {kid} the role '{unknown[0]}', which is "
                             f"not known (the roles are {', '.join(ROLES)}); this showfloor "
                             "refuses the whole list")
        if status not in STATUSES:
            raise TrustError(f"the trust list gives key {kid} the status {status!r}, not "
                             "active or retired")
        note = item.get("note", "")
        seen.add(kid)
        keys.append(TrustKey(kid, public, tuple(sorted(set(roles))), str(status),
                             note if isinstance(note, str) else ""))
    return TrustList(version, _time(raw.get("expires"), "expires"), tuple(keys),
                     _time(raw.get("issued"), "issued"))


def _signatures(sig: bytes) -> list[tuple[str, Ed25519PublicKey, bytes]]:
    try:
        if len(sig) > MAX_SIG:
            raise ValueError("too large")
        raw = json.loads(sig.decode("utf-8"))
        if raw.get("format") != FORMAT or not isinstance(raw.get("signatures"), list):
            raise ValueError(raw)
        found = []
        for s in raw["signatures"]:
            if s.get("algorithm") != "ed25519" or not isinstance(s.get("key_id"), str):
                raise ValueError(s)
            found.append((s["key_id"], parse_public(s["public_key"]), _unb64(s["signature"])))
        return found
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError,
            binascii.Error, BundleError) as e:
        raise TrustError("the trust list's signature file is not {format 1, signatures: "
                         "[{algorithm ed25519, key_id, public_key, signature}]}; sign the "
                         "list again with 'showfloor trust'") from e


def parse_trust(data: bytes, sig: bytes, root_keys: Mapping[str, Ed25519PublicKey], *,
                threshold: int = 1) -> TrustList:
    """A trust list whose bytes are signed by at least ``threshold`` of ``root_keys``.

    Signatures by other keys are not counted; expiry is the caller's to check
    (:meth:`TrustList.check_fresh`), so a station can still say which list expired.
    """
    if not root_keys:
        raise TrustError("no root keys given; a trust list is checked against the root "
                         "public keys ('showfloor keys show ROOT.pem')")
    if threshold < 1 or threshold > len(root_keys):
        raise TrustError(f"the threshold is {threshold}, but {len(root_keys)} root key(s) "
                         "are given; it must be between 1 and the number of root keys")
    signatures = _signatures(sig)
    good: set[str] = set()
    others: list[str] = []
    for kid, _embedded, signature in signatures:
        root = root_keys.get(kid)
        if root is None:
            others.append(kid)
            continue
        try:
            root.verify(signature, data)
        except InvalidSignature as e:
            raise TrustError(f"the trust list's signature by root key {kid} does not match "
                             "its bytes; the list is altered or damaged — do not use it") from e
        good.add(kid)
    if len(good) < threshold:
        who = (f"signed by key(s) {', '.join(sorted(set(others)))}, not a root key"
               if not good and others else
               f"signed by {len(good)} of the root keys, fewer than the {threshold} required"
               if good else "not signed")
        raise TrustError(f"the trust list is {who} (root keys: {', '.join(sorted(root_keys))}); "
                         "refused — sign it with the offline root key(s)")
    return read_trust(data)


# -- making one -----------------------------------------------------------------------

def sign(data: bytes, roots: Sequence[Ed25519PrivateKey]) -> bytes:
    """``trust.json.sig`` for ``data``: one signature per root key."""
    sigs = []
    for root in roots:
        public = root.public_key()
        sigs.append({"algorithm": "ed25519", "key_id": key_id(public),
                     "public_key": public_text(public), "signature": _b64(root.sign(data))})
    return (json.dumps({"format": FORMAT, "signatures": sigs}, indent=1) + "\n").encode()


def make_trust(keys: Iterable[TrustKey], *, version: int = 1, expires_days: int = 365,
               now: float | None = None) -> TrustList:
    """A new trust list (checked as :func:`read_trust` checks one)."""
    issued = int(time.time() if now is None else now)
    made = TrustList(version, issued + expires_days * DAY, tuple(keys), issued)
    read_trust(made.to_bytes())  # the same checks a station makes: ids, roles, duplicates
    return made


def next_trust(previous: TrustList, *, add: Iterable[TrustKey] = (),
               retire: Iterable[str] = (), expires_days: int = 365,
               now: float | None = None) -> TrustList:
    """The next version of ``previous``: keys added (or given new roles), keys retired."""
    keys = {k.id: k for k in previous.keys}
    for k in add:
        old = keys.get(k.id)
        if old is not None and old.status == "retired":
            raise TrustError(f"key {k.id} was retired in an earlier version; a retired key "
                             "never comes back — make a new key with 'showfloor keys new'")
        keys[k.id] = k if old is None else replace(
            old, roles=tuple(sorted(set(old.roles) | set(k.roles))), note=k.note or old.note)
    for kid in retire:
        if kid not in keys:
            raise TrustError(f"the trust list has no key {kid} to retire; it lists "
                             f"{', '.join(sorted(keys)) or 'no keys'}")
        keys[kid] = replace(keys[kid], status="retired")
    return make_trust(keys.values(), version=previous.version + 1,
                      expires_days=expires_days, now=now)


def public_of(value: str) -> Ed25519PublicKey:
    """A public key from what ``keys show`` prints, a file holding that line, or a
    private key file (its public half)."""
    path = Path(value)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise TrustError(f"cannot read {path}: give a public key or a key file") from e
        if "PRIVATE KEY" in text:
            return load_key(path).public_key()
        words = text.split("#", 1)[0].split()
        if not words:
            raise TrustError(f"{path} holds no public key; give what 'showfloor keys show' "
                             "prints")
        return parse_public(words[0])
    return parse_public(value.split("#", 1)[0].strip())


def write_signed(path: Path, data: bytes, sig: bytes) -> None:
    """Write ``path`` and ``path.sig`` (each atomically, signature last)."""
    for target, body in ((path, data), (sig_path(path), sig)):
        _atomic_write(target, body)


def sig_path(path: Path) -> Path:
    return path.with_name(path.name + SIG_SUFFIX)


def read_signed(path: Path) -> tuple[bytes, bytes]:
    """The bytes of ``path`` and of the ``.sig`` beside it."""
    out = []
    for target, limit in ((path, MAX_TRUST), (sig_path(path), MAX_SIG)):
        try:
            with target.open("rb") as f:
                body = f.read(limit + 1)
        except FileNotFoundError as e:
            raise TrustError(f"{target}: no such file" + (
                "; a trust list's signatures lie beside it in NAME.json.sig"
                if target.name.endswith(SIG_SUFFIX) else "")) from e
        except OSError as e:
            raise TrustError(f"cannot read {target} ({e.strerror})") from e
        if len(body) > limit:
            raise TrustError(f"{target} is larger than {limit:,} bytes; it is not a trust "
                             "list 'showfloor trust' made")
        out.append(body)
    return out[0], out[1]


def _atomic_write(path: Path, body: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# -- the station's copy ---------------------------------------------------------------

class TrustStore:
    """The highest-version valid trust list a station has seen, kept in ``path``
    (and ``path.sig``).

    :meth:`offer` accepts a list only if the root keys signed it, it has not
    expired and its version is not below the one held; the same version again is
    accepted only with the same bytes.
    """

    def __init__(self, path: Path, root_keys: Mapping[str, Ed25519PublicKey], *,
                 threshold: int = 1) -> None:
        self.path = path
        self.root_keys = dict(root_keys)
        self.threshold = threshold
        self._current: TrustList | None = None
        self._bytes = b""
        #: why the held copy could not be read at start, if it could not
        self.problem: str | None = None
        if path.exists():
            try:
                data, sig = read_signed(path)
                self._current = parse_trust(data, sig, self.root_keys, threshold=threshold)
                self._bytes = data
            except TrustError as e:
                self.problem = f"the kept trust list {path} was refused: {e}"

    def current(self) -> TrustList | None:
        return self._current

    def offer(self, data: bytes, sig: bytes, *, now: float | None = None) -> bool:
        """Take a trust list if it is newer: True if it is now held, False if it was held
        already; :class:`TrustError` (naming the versions) if it is refused."""
        got = parse_trust(data, sig, self.root_keys, threshold=self.threshold)
        held = self._current
        if held is not None and got.version < held.version:
            raise TrustError(f"trust list version {got.version} is older than version "
                             f"{held.version}, which this station holds; an older list is "
                             "never taken back (it may trust a retired key)")
        if held is not None and got.version == held.version:
            if data == self._bytes:
                return False
            raise TrustError(f"a different trust list with the same version {got.version} "
                             "as the one held was offered; refused — a new list needs a "
                             "higher version")
        if got.expired(now):
            raise TrustError(f"trust list version {got.version} expired on "
                             f"{_iso(got.expires)}; refused"
                             + (f", version {held.version} stays in use" if held else ""))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_signed(self.path, data, sig)
        self._current, self._bytes, self.problem = got, data, None
        return True

    def offer_file(self, path: Path, *, now: float | None = None) -> bool:
        """:meth:`offer` of a trust.json (and its .sig) on disk."""
        data, sig = read_signed(path)
        return self.offer(data, sig, now=now)

    def wants(self, version: int | None) -> bool:
        """Whether the hub's list (``config.trust_version`` of a heartbeat reply) is newer
        than the one held: then fetch ``GET /api/v1/trust`` and :meth:`offer_reply` it."""
        held = self._current
        return version is not None and (held is None or version > held.version)

    def offer_reply(self, reply: Mapping[str, Any], *, now: float | None = None) -> bool:
        """:meth:`offer` of the JSON a hub answers ``GET /api/v1/trust`` with."""
        try:
            data, sig = _unb64(str(reply["trust"])), _unb64(str(reply["signature"]))
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            raise TrustError("the hub's trust list reply is not {version, trust, signature} "
                             "in base64; is the hub a showfloor hub?") from e
        return self.offer(data, sig, now=now)

    def keys_for(self, role: str, plain: Mapping[str, Ed25519PublicKey] | None = None, *,
                 now: float | None = None) -> TrustedKeys:
        """The keys to check a bundle (``bundles``) or a rollback (``rollback``) with."""
        return station_keys(self._current, plain, role, now=now)


def station_keys(trust: TrustList | None, plain: Mapping[str, Ed25519PublicKey] | None,
                 role: str, *, now: float | None = None) -> TrustedKeys:
    """Keys for ``role``: the signed list's active ones plus plain trusted keys (both roles).

    A key the signed list retired is left out even if a plain file lists it. An
    expired signed list raises :class:`TrustError`: the station installs nothing new
    and keeps playing what it has.
    """
    keys = TrustedKeys(plain or {})
    if trust is None:
        if role not in ROLES:
            raise TrustError(f"'{role}' is not a role of a trust list; the roles are "
                             f"{', '.join(ROLES)}")
        return keys
    trust.check_fresh(now)
    signed = trust.keys_for(role)
    for kid in signed.retired:
        keys.pop(kid, None)
    keys.update(signed)
    keys.retired = signed.retired
    return keys


# -- the hub's copy -------------------------------------------------------------------

@dataclass
class Served:
    """A trust list the hub hands out (its signature is the stations' to check)."""

    version: int
    data: bytes
    sig: bytes


_SERVED: dict[str, tuple[float, tuple[int, int, int, int] | None, Served | str]] = {}
#: how long the hub trusts its last look at the file (seconds)
RESTAT = 1.0


def served(path: str, *, clock: float | None = None) -> Served | str:
    """The trust list at ``path`` (and ``path.sig``) as the hub serves it, or why not.

    Read again when either file changes (looked at no more than every
    :data:`RESTAT` seconds, as heartbeats ask for its version).
    """
    t = time.monotonic() if clock is None else clock
    cached = _SERVED.get(path)
    if cached is not None and t - cached[0] < RESTAT:
        return cached[2]
    p = Path(path)
    try:
        a, s = p.stat(), sig_path(p).stat()
        stamp: tuple[int, int, int, int] | None = (a.st_mtime_ns, a.st_size, s.st_mtime_ns,
                                                  s.st_size)
    except OSError:
        stamp = None
    if cached is not None and stamp is not None and cached[1] == stamp:
        _SERVED[path] = (t, stamp, cached[2])
        return cached[2]
    result: Served | str
    try:
        data, sig = read_signed(p)
        _signatures(sig)
        result = Served(read_trust(data).version, data, sig)
    except TrustError as e:
        result = f"the hub's trust list {path} cannot be served: {e}"
    _SERVED[path] = (t, stamp, result)
    return result


__all__ = ["ROLES", "Served", "TrustError", "TrustKey", "TrustList", "TrustStore",
           "TrustedKeys", "make_trust", "next_trust", "parse_trust", "public_of",
           "read_signed", "read_trust", "served", "sign", "station_keys", "write_signed"]
