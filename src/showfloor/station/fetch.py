"""Fetch the files of a new exhibit version from the hub, one file at a time, by SHA-256.

Only the files the station's content store lacks are asked for, so an update
that changes one caption moves one caption. Every file is:

- checked against the free space first (its size plus a margin; the whole
  download's too, before anything is fetched), so a download never fills the
  disk the running exhibit and the event log live on;
- written to the store's ``partial/<sha256>`` and, after a cut connection,
  resumed from the bytes already there (``Range: bytes=N-``);
- never read past the size its manifest lists, then checked for size, and for
  its SHA-256 by the store as it takes it (``add_object``); a file that fails is
  deleted and fetched again, at most :data:`ATTEMPTS` times in all, then
  :class:`FetchError` names the file and the reason — no download loop;
- on a full disk (``ENOSPC``) removed at once, with :class:`FetchError`.

Requests are signed like every station request (``signer(method, path, body)``
gives the headers: :meth:`showfloor.station.uplink.Uplink.sign`).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from showfloor import fleet
from showfloor.content.bundle import FileEntry, Manifest
from showfloor.errors import BundleError, ShowfloorError

#: bytes a download must leave free on the store's disk
MARGIN = 64 * 1024 * 1024
#: downloads of one file that may fail its size or hash check before the fetch gives up
ATTEMPTS = 3
#: cut connections (or hub errors) one file may meet before the fetch gives up
CUTS = 5
#: bytes read from the network at a time
READ = 256 * 1024

Signer = Callable[[str, str, bytes], dict[str, str]]
Progress = Callable[[int, int], None]


class FetchError(ShowfloorError):
    """A file that could not be fetched: ``path`` names it, the message says why."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


class ObjectStore(Protocol):
    """What fetching needs of the content store (:mod:`showfloor.station.content_store`)."""

    def missing(self, manifest: Manifest) -> list[FileEntry]: ...

    def partial_path(self, sha256: str) -> Path: ...

    def add_object(self, sha256: str) -> object:
        """Take ``partial/<sha256>`` once it hashes to ``sha256``; else delete it and
        raise :class:`~showfloor.errors.BundleError`."""


class _Cut(Exception):
    """The download stopped half way (a cut connection, a hub error): try again."""


class _Bad(Exception):
    """What the hub sent is not the file the manifest lists."""


@dataclass
class _Count:
    done: int
    total: int
    fetched: int = 0
    progress: Progress | None = None

    def add(self, n: int) -> None:
        self.done += n
        self.fetched += max(n, 0)
        if self.progress is not None and n:
            self.progress(max(self.done, 0), self.total)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB"


def _disk_full(err: OSError) -> bool:
    return err.errno in (errno.ENOSPC, errno.EDQUOT)


_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


async def _download(client: httpx.AsyncClient, base_url: str, signer: Signer,
                    entry: FileEntry, part: Path, count: _Count, timeout: float) -> None:
    """Bring ``part`` up to the file's size from the hub (resuming from what it holds)."""
    have = _size(part)
    path = f"{fleet.API}/objects/{entry.sha256}"
    headers = dict(signer("GET", path, b""))
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        async with client.stream("GET", base_url.rstrip("/") + path, headers=headers,
                                 timeout=timeout) as resp:
            status = resp.status_code
            if status == 404:
                raise FetchError(f"the hub has no file '{entry.path}' ({entry.sha256[:12]}…) "
                                 "of this bundle; publish the bundle on the hub again",
                                 entry.path)
            if status in (400, 401, 403):
                await resp.aread()
                raise FetchError(f"the hub refused the download of '{entry.path}' "
                                 f"({status}: {resp.text[:200]})", entry.path)
            if status == 416 and have:  # what we hold is not a start of this file
                part.unlink(missing_ok=True)
                count.add(-have)
                raise _Cut("the hub refused to resume")
            if status not in (200, 206):
                raise _Cut(f"the hub answered {status}")
            if status == 206:
                m = _RANGE.match(resp.headers.get("content-range", ""))
                if m is None:
                    raise _Bad("sent without a proper Content-Range")
                if int(m[3]) != entry.size:
                    raise _Bad(f"{int(m[3]):,} bytes according to the hub, not the "
                               f"{entry.size:,} its manifest lists")
                if int(m[1]) != have:
                    raise _Bad("sent from the wrong place when resumed")
                mode = "ab"
            else:
                count.add(-have)
                have = 0
                mode = "wb"
                length = resp.headers.get("content-length")
                if length is not None and length.isdigit() and int(length) != entry.size:
                    raise _Bad(f"{int(length):,} bytes according to the hub, not the "
                               f"{entry.size:,} its manifest lists")
            try:
                with part.open(mode) as out:
                    async for chunk in resp.aiter_bytes(READ):
                        if have + len(chunk) > entry.size:
                            raise _Bad(f"larger than the {entry.size:,} bytes its manifest "
                                       "lists")
                        out.write(chunk)
                        have += len(chunk)
                        count.add(len(chunk))
                    # no fsync here: the store syncs the file when it takes it
                    # (add_object), and a partial file is hashed before use anyway
                    out.flush()
            except OSError as err:
                count.add(-have)
                part.unlink(missing_ok=True)
                if _disk_full(err):
                    raise FetchError(f"the disk filled up while '{entry.path}' was "
                                     f"downloaded ({_mb(_free(part.parent))} free now); the "
                                     "partial file was removed and the running version is "
                                     "untouched — free some space and deploy again",
                                     entry.path) from err
                raise FetchError(f"cannot write '{entry.path}' to {part.parent} "
                                 f"({err.strerror}); the partial file was removed",
                                 entry.path) from err
    except httpx.TransportError as err:
        raise _Cut(f"{type(err).__name__}: {err}") from err


async def _fetch_one(client: httpx.AsyncClient, base_url: str, signer: Signer,
                     entry: FileEntry, store: ObjectStore, count: _Count, *, margin: int,
                     attempts: int, timeout: float) -> None:
    bad: list[str] = []
    cuts: list[str] = []
    while True:
        part = store.partial_path(entry.sha256)
        part.parent.mkdir(parents=True, exist_ok=True)
        have = _size(part)
        if have > entry.size:
            part.unlink()
            count.add(-have)
            have = 0
        need = entry.size - have + margin
        free = _free(part.parent)
        if free < need:
            raise FetchError(f"'{entry.path}' needs {_mb(entry.size - have)} plus a margin of "
                             f"{_mb(margin)} free on {part.parent}, which has {_mb(free)}; "
                             "nothing more was downloaded — free some space and deploy "
                             "again", entry.path)
        try:
            if have < entry.size or not part.exists():
                await _download(client, base_url, signer, entry, part, count, timeout)
            size = _size(part)
            if size != entry.size:
                raise _Bad(f"{size:,} bytes, not the {entry.size:,} its manifest lists")
            # the store hashes the file as it takes it (once: no second read here) and
            # deletes one that does not match
            try:
                await asyncio.to_thread(store.add_object, entry.sha256)
            except BundleError as err:
                raise _Bad("not the file its manifest lists (its SHA-256 differs)") from err
        except _Cut as err:
            cuts.append(str(err))
            if len(cuts) >= CUTS:
                raise FetchError(f"the download of '{entry.path}' broke off {len(cuts)} "
                                 f"times (last: {cuts[-1]}); the part fetched is kept and "
                                 "the next deploy resumes it", entry.path) from None
            await asyncio.sleep(min(0.2 * 2 ** len(cuts), 5.0))
            continue
        except _Bad as err:
            got = _size(part)
            part.unlink(missing_ok=True)
            count.add(-got)
            bad.append(str(err))
            if len(bad) >= attempts:
                raise FetchError(f"'{entry.path}' from the hub was refused {len(bad)} times "
                                 f"(last: {bad[-1]}); nothing of it was kept — the hub's "
                                 "copy may be damaged: publish the bundle again",
                                 entry.path) from None
            continue
        return


async def fetch_missing(client: httpx.AsyncClient, base_url: str, signer: Signer,
                        entries: Iterable[FileEntry], store: ObjectStore, *,
                        progress: Progress | None = None, margin: int | None = None,
                        attempts: int = ATTEMPTS, timeout: float = 60.0) -> int:
    """Fetch every file of ``entries`` into ``store``; the bytes downloaded.

    ``entries`` are the files the store lacks (``store.missing(manifest)``); a file
    listed under several paths is fetched once. ``progress(done, total)`` is called
    as bytes arrive (``done`` counts bytes already held in partial files too).
    ``margin``: the bytes to leave free (default: the store's ``margin``, else
    :data:`MARGIN`).
    Raises :class:`FetchError` naming the file and the reason; files fetched before
    the failure stay in the store (a later deploy does not fetch them again).
    """
    if margin is None:
        margin = int(getattr(store, "margin", MARGIN))
    unique: dict[str, FileEntry] = {}
    for e in entries:
        unique.setdefault(e.sha256, e)
    todo = list(unique.values())
    if not todo:
        return 0
    held = sum(min(_size(store.partial_path(e.sha256)), e.size) for e in todo)
    total = sum(e.size for e in todo)
    folder = store.partial_path(todo[0].sha256).parent
    folder.mkdir(parents=True, exist_ok=True)
    free = _free(folder)
    if free < total - held + margin:
        raise FetchError(f"the new version needs {_mb(total - held)} downloaded plus a margin "
                         f"of {_mb(margin)} free on {folder}, which has {_mb(free)}; nothing "
                         "was downloaded — free some space (or keep fewer versions) and "
                         "deploy again")
    count = _Count(held, total, progress=progress)
    for entry in todo:
        await _fetch_one(client, base_url, signer, entry, store, count, margin=margin,
                         attempts=attempts, timeout=timeout)
    return count.fetched


async def fetch_manifest(client: httpx.AsyncClient, base_url: str, signer: Signer,
                         bundle_id: int, *, timeout: float = 30.0) -> tuple[bytes, bytes]:
    """A published bundle's manifest.json and manifest.sig bytes, from the hub."""
    import base64
    import binascii

    path = f"{fleet.API}/bundles/{bundle_id}/manifest"
    try:
        resp = await client.get(base_url.rstrip("/") + path,
                                headers=signer("GET", path, b""), timeout=timeout)
    except httpx.HTTPError as err:
        raise FetchError(f"cannot reach the hub for bundle {bundle_id}'s manifest: "
                         f"{err}") from err
    if resp.status_code != 200:
        raise FetchError(f"the hub did not give bundle {bundle_id}'s manifest "
                         f"({resp.status_code}: {resp.text[:200]})")
    with contextlib.suppress(ValueError, KeyError, TypeError, binascii.Error):
        got = resp.json()
        return base64.b64decode(got["manifest"]), base64.b64decode(got["signature"])
    raise FetchError(f"the hub's answer for bundle {bundle_id}'s manifest is not "
                     "{manifest, signature} in base64")
