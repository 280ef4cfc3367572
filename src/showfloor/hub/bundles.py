"""Bundles on the hub: publish a signed bundle, keep its files by SHA-256, serve them.

A published bundle is one row of ``bundles`` (its manifest and signature, the
exact bytes the publisher signed) and its files, each kept once however many
bundles hold it: a row of ``objects`` per SHA-256 and the file's bytes in
``object_chunks``, 1 MiB a row. Everything lives in the hub's database, so
every hub process serves every file and hubs stay interchangeable.

Publishing checks the bundle against the hub's trusted publisher keys
(:func:`showfloor.content.bundle.verify`: signature, expiry, every file's size
and hash), then stores the files the hub does not have yet, a chunk at a time
(a 50 MB file is never held in memory), each file's ``objects`` row last: a
row there means the whole file is stored. The bundle's row and the audit line
``bundle_published`` go in last, in one transaction. The same manifest
published again is the same bundle (nothing changes); another manifest under
an exhibit and version already published is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
import zipfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from showfloor import fleet
from showfloor.content import bundle as b
from showfloor.errors import BundleError, ShowfloorError
from showfloor.hub import audit
from showfloor.hub import db as t

#: bytes of a file per ``object_chunks`` row
CHUNK = 1024 * 1024
#: the largest bundle file the hub takes (its files may add up to no more either)
MAX_UPLOAD = b.MAX_TOTAL
#: paths whose request bodies may be larger than :data:`showfloor.fleet.MAX_BODY` (the
#: hub's size limit skips them; each route there enforces its own). A dashboard route
#: that takes a bundle adds its path here.
UPLOAD_PATHS: set[str] = {f"{fleet.API}/bundles"}


class PublishError(ShowfloorError):
    """A bundle the hub refuses; ``status`` is the HTTP status that says so."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Published:
    """What publishing did."""

    bundle: int
    exhibit: str
    version: str
    files: int
    #: files the hub did not have before, and their bytes
    new_objects: int
    bytes_stored: int
    #: the same bundle was published before: nothing changed
    existed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"bundle": self.bundle, "exhibit": self.exhibit, "version": self.version,
                "files": self.files, "new_objects": self.new_objects,
                "bytes_stored": self.bytes_stored, "existed": self.existed}


# -- trust --------------------------------------------------------------------------

def trusted_keys(setting: str, trust_file: str = "") -> dict[str, Ed25519PublicKey]:
    """The keys a bundle must be signed with to be published on this hub.

    ``setting`` is the ``trusted_keys`` setting (trust-list files or public keys,
    comma-separated: such keys may sign bundles); ``trust_file`` the ``trust``
    setting, the signed trust.json the hub hands to stations: its active keys with
    the role ``bundles`` count too, and a key it retired is refused even if a plain
    list names it. Read at every publish, so a changed list takes effect at once.
    """
    values = [v.strip() for v in setting.split(",") if v.strip()]
    if not values and not trust_file:
        raise PublishError("this hub has no trusted publisher keys, so it publishes no "
                           "bundle; set SHOWFLOOR_HUB_TRUSTED_KEYS to the trust list of "
                           "your publishers' keys (or SHOWFLOOR_HUB_TRUST to a signed "
                           "trust.json)", 503)
    try:
        plain = b.load_trusted(values) if values else {}
        if not trust_file:
            return plain
        from showfloor.content import trust

        got = trust.served(trust_file)
        if isinstance(got, str):
            raise PublishError(got, 503)
        return trust.station_keys(trust.read_trust(got.data), plain, "bundles")
    except BundleError as err:
        raise PublishError(f"the hub's trusted keys cannot be used: {err}", 503) from err


# -- publish ------------------------------------------------------------------------

def _read_entry(zf: zipfile.ZipFile, name: str, limit: int) -> bytes:
    with zf.open(name) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise PublishError(f"{name} in the bundle is larger than {limit:,} bytes")
    return data


def _existing(conn: Connection, exhibit: str, version: str) -> dict[str, Any] | None:
    row = conn.execute(select(t.bundles.c.id, t.bundles.c.manifest)
                       .where(t.bundles.c.exhibit == exhibit)
                       .where(t.bundles.c.version == version)).mappings().first()
    return dict(row) if row else None


def _conflict(exhibit: str, version: str) -> PublishError:
    return PublishError(f"{exhibit} {version} is already published with other files; a "
                        "version is published once — pack the exhibit with a new version",
                        409)


def _has_object(db: t.Database, sha: str) -> bool:
    with db.read() as conn:
        return conn.execute(select(t.objects.c.size).where(t.objects.c.sha256 == sha)
                            ).first() is not None


def _store_object(db: t.Database, zf: zipfile.ZipFile, entry: b.FileEntry) -> None:
    """Copy one file from the bundle into the store, a chunk per transaction."""
    digest = hashlib.sha256()
    size = 0
    n = 0
    with zf.open(entry.path) as src:
        while True:
            data = src.read(CHUNK)
            if not data and n > 0:
                break
            size += len(data)
            if size > entry.size:
                raise PublishError(f"'{entry.path}' in the bundle changed while it was "
                                   "stored; publish it again")
            digest.update(data)
            # leftovers of an interrupted publish hold the same bytes: keep them
            with db.write() as conn:
                conn.execute(t.insert_new(conn, t.object_chunks).values(
                    sha256=entry.sha256, n=n, data=data))
            n += 1
            if not data:
                break
    if size != entry.size or digest.hexdigest() != entry.sha256:
        raise PublishError(f"'{entry.path}' in the bundle changed while it was stored; "
                           "publish it again")
    with db.write() as conn:
        conn.execute(t.insert_new(conn, t.objects).values(
            sha256=entry.sha256, size=entry.size, stored=time.time()))


def store_bundle(db: t.Database, path: Path, actor: str,
                 trusted: dict[str, Ed25519PublicKey], *, now: float | None = None
                 ) -> Published:
    """Verify the bundle file ``path`` against ``trusted`` and publish it (see the module).

    Raises :class:`PublishError` (a refused bundle, with its HTTP status).
    """
    if not trusted:
        raise PublishError("no trusted publisher keys given; the hub publishes only "
                           "bundles signed by a key in its trust list", 503)
    try:
        verified = b.verify(path, trusted, now=now)
    except BundleError as err:
        raise PublishError(str(err)) from err
    m = verified.manifest
    if len(m.exhibit) > 64 or len(m.version) > 64:
        raise PublishError(f"the exhibit id and version may have at most 64 characters "
                           f"each ('{m.exhibit[:80]}' {m.version[:80]})")
    with zipfile.ZipFile(path) as zf:
        manifest = _read_entry(zf, b.MANIFEST, b.MAX_MANIFEST)
        signature = _read_entry(zf, b.SIGNATURE, b.MAX_SIGNATURE)
        with db.read() as conn:
            found = _existing(conn, m.exhibit, m.version)
        if found is not None and bytes(found["manifest"]) != manifest:
            raise _conflict(m.exhibit, m.version)
        new = 0
        stored = 0
        done: set[str] = set()
        for entry in m.files:
            if entry.sha256 in done or _has_object(db, entry.sha256):
                continue
            _store_object(db, zf, entry)
            done.add(entry.sha256)
            new += 1
            stored += entry.size
    when = time.time() if now is None else now
    try:
        with db.write() as conn:
            found = _existing(conn, m.exhibit, m.version)
            if found is not None:
                if bytes(found["manifest"]) != manifest:
                    raise _conflict(m.exhibit, m.version)
                return Published(int(found["id"]), m.exhibit, m.version, len(m.files),
                                 new, stored, existed=True)
            shas = sorted({f.sha256 for f in m.files})
            have = {r[0] for r in conn.execute(select(t.objects.c.sha256)
                                               .where(t.objects.c.sha256.in_(shas)))}
            if len(have) != len(shas):  # cannot happen unless someone deletes objects
                raise PublishError("some of the bundle's files went missing from the hub's "
                                   "store while it was published; publish it again", 503)
            res = conn.execute(insert(t.bundles).values(
                exhibit=m.exhibit, version=m.version, manifest=manifest,
                signature=signature, key_id=verified.key_id, size=m.total,
                files=len(m.files), published=when, published_by=actor[:100]))
            bundle_id = int(res.inserted_primary_key[0])  # type: ignore[index]
            audit.record(conn, when, actor, "bundle_published", f"bundle:{bundle_id}",
                         exhibit=m.exhibit, version=m.version, key_id=verified.key_id,
                         files=len(m.files), size=m.total, new_objects=new,
                         bytes_stored=stored)
    except IntegrityError:  # another hub process published the same version meanwhile
        with db.read() as conn:
            found = _existing(conn, m.exhibit, m.version)
        if found is None or bytes(found["manifest"]) != manifest:
            raise _conflict(m.exhibit, m.version) from None
        return Published(int(found["id"]), m.exhibit, m.version, len(m.files), new, stored,
                         existed=True)
    return Published(bundle_id, m.exhibit, m.version, len(m.files), new, stored)


def publish(db: t.Database, path: Path, actor: str,
            trusted: dict[str, Ed25519PublicKey]) -> int:
    """Publish the bundle file ``path``; its bundle id (see :func:`store_bundle`)."""
    return store_bundle(db, path, actor, trusted).bundle


async def save_upload(chunks: AsyncIterator[bytes], *, limit: int = MAX_UPLOAD,
                      folder: Path | None = None) -> Path:
    """Write an uploaded body to a new temporary file, refusing one over ``limit`` bytes.

    The caller deletes the file. A body over the limit raises :class:`PublishError`
    (413) and leaves nothing behind.
    """
    fd, name = tempfile.mkstemp(prefix="showfloor-upload-", suffix=b.SUFFIX,
                                dir=folder)
    path = Path(name)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise PublishError(f"the bundle is larger than {limit:,} bytes, the most "
                                       "the hub takes", 413)
                out.write(chunk)
        if size == 0:
            raise PublishError("the request has no bundle in its body; send the "
                               ".showfloor file's bytes", 400)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


# -- read ---------------------------------------------------------------------------

_SUMMARY = (t.bundles.c.id, t.bundles.c.exhibit, t.bundles.c.version, t.bundles.c.key_id,
            t.bundles.c.size, t.bundles.c.files, t.bundles.c.published,
            t.bundles.c.published_by)


def get_bundle(conn: Connection, bundle_id: int) -> dict[str, Any] | None:
    """One bundle with its manifest and signature bytes, or None."""
    row = conn.execute(select(t.bundles).where(t.bundles.c.id == bundle_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    out["manifest"] = bytes(out["manifest"])
    out["signature"] = bytes(out["signature"])
    return out


def list_bundles(conn: Connection, limit: int = 200) -> list[dict[str, Any]]:
    """The newest bundles first, without their manifests."""
    return [dict(r) for r in conn.execute(
        select(*_SUMMARY).order_by(t.bundles.c.id.desc()).limit(limit)).mappings()]


def object_size(conn: Connection, sha256: str) -> int | None:
    """The size of a stored file, or None when the hub has no such file."""
    return conn.execute(select(t.objects.c.size).where(t.objects.c.sha256 == sha256)
                        ).scalar_one_or_none()


def read_object(conn: Connection, sha256: str, start: int, end: int) -> bytes:
    """Bytes ``start`` up to (not including) ``end`` of a stored file, from its chunks.

    Reads only the chunks the range touches; keep ranges small (a few chunks).
    """
    if end <= start:
        return b""
    first, last = start // CHUNK, (end - 1) // CHUNK
    c = t.object_chunks.c
    rows = conn.execute(select(c.n, c.data).where(c.sha256 == sha256)
                        .where(c.n >= first).where(c.n <= last).order_by(c.n)).all()
    data = b"".join(bytes(r[1]) for r in rows)
    skip = start - first * CHUNK
    return data[skip:skip + (end - start)]


def iter_object(db: t.Database, sha256: str, start: int, end: int) -> Iterator[bytes]:
    """A file's bytes ``start``..``end`` (exclusive), one chunk per short read transaction.

    No connection is held between chunks, so a slow download ties up nothing.
    """
    pos = start
    while pos < end:
        stop = min(end, (pos // CHUNK + 1) * CHUNK)
        with db.read() as conn:
            data = read_object(conn, sha256, pos, stop)
        if not data:  # the stored chunks are shorter than the file: end it here
            return
        yield data
        pos += len(data)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) of a ``Range: bytes=a-`` / ``a-b`` / ``-n`` header.

    None: no range (the whole file). Raises ValueError for a range the file cannot
    satisfy or a header this hub does not take (several ranges, other units).
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise ValueError(header)
    first, dash, last = spec.strip().partition("-")
    if not dash:
        raise ValueError(header)
    first, last = first.strip(), last.strip()
    if not first:  # the last n bytes
        if not last.isdigit() or int(last) == 0:
            raise ValueError(header)
        return max(size - int(last), 0), size
    if not first.isdigit() or (last and not last.isdigit()):
        raise ValueError(header)
    start = int(first)
    end = min(int(last) + 1, size) if last else size
    if start >= size or end <= start:
        raise ValueError(header)
    return start, end


def remove_file(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


# -- the client (showfloor hub publish) ----------------------------------------------

def upload(hub: str, path: Path, user: str, password: str, *,
           timeout: float = 600.0) -> tuple[int, dict[str, Any]]:
    """Send a bundle file to a hub's ``POST /api/v1/bundles``: (HTTP status, JSON answer).

    Raises :class:`~showfloor.errors.ShowfloorError` when the hub cannot be reached.
    """
    import httpx

    base = hub.rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ShowfloorError(f"the hub address '{hub}' needs http:// or https://")
    try:
        size = path.stat().st_size
        src = path.open("rb")
    except OSError as err:
        raise ShowfloorError(f"cannot read the bundle {path} ({err.strerror})") from err

    def chunks() -> Iterator[bytes]:
        while data := src.read(CHUNK):
            yield data

    try:
        with src, httpx.Client(timeout=httpx.Timeout(30.0, read=timeout)) as client:
            resp = client.post(f"{base}{fleet.API}/bundles", content=chunks(),
                               auth=(user, password),
                               headers={"Content-Type": "application/octet-stream",
                                        "Content-Length": str(size)})
    except httpx.HTTPError as err:
        raise ShowfloorError(f"cannot reach the hub at {base} to publish: {err}") from err
    try:
        body = resp.json()
    except ValueError:
        body = {"detail": resp.text[:300]}
    return resp.status_code, body if isinstance(body, dict) else {"detail": str(body)}
