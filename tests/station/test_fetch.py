"""The station's fetch on a small real disk (a 1 MB tmpfs): the download half of fault test 6.

The hub (SQLite; the hub is only the source here — both backends are in
tests/hub/test_bundles.py) runs in this process on loopback; the station side is
the real fetch into a real content store on the tmpfs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from showfloor.content import bundle
from showfloor.content.bundle import FileEntry, Manifest, parse_manifest
from showfloor.hub import bundles as store
from showfloor.hub import db as hubdb
from showfloor.station.content_store import ContentStore
from showfloor.station.fetch import FetchError, fetch_missing

from ._fetch_support import ServedHub, make_bundle, proxy, serve_hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[tuple[ServedHub, Any, Manifest]]:
    folder = tmp_path_factory.mktemp("fetch")
    url = f"sqlite:///{folder}/hub.sqlite"
    key = bundle.new_key(folder / "publisher.pem")
    trusted = {bundle.key_id(key.public_key()): key.public_key()}
    db = hubdb.Database(url)
    hubdb.upgrade(db)
    done = store.store_bundle(db, make_bundle(folder, key, "1.0.0"), "test", trusted)
    with db.read() as conn:
        row = store.get_bundle(conn, done.bundle)
    assert row is not None
    served = serve_hub(url)
    from hub._support import SignedStation, make_code

    st = SignedStation(served.url, client=httpx.Client(timeout=30))
    assert st.enrol(make_code(url)).status_code == 200

    def sign(method: str, path: str, body: bytes = b"") -> dict[str, str]:
        return st.key.headers(st.station, method, path, body, time.time())
    try:
        yield served, sign, parse_manifest(row["manifest"])
    finally:
        st.client.close()
        served.stop()
        db.dispose()


def _entry(manifest: Manifest, path: str) -> FileEntry:
    return next(f for f in manifest.files if f.path == path)


async def _fetch(served: ServedHub, sign: Any, entries: list[FileEntry], cs: ContentStore,
                 **kw: Any) -> tuple[int | FetchError, Any]:
    port = int(served.url.rsplit(":", 1)[1])
    async with proxy(port) as p, httpx.AsyncClient() as client:
        try:
            return await fetch_missing(client, p.url, sign, entries, cs, **kw), p
        except FetchError as err:
            return err, p


def test_too_little_space_is_refused_before_anything_is_downloaded(
        hub: tuple[ServedHub, Any, Manifest], tiny_disk: Path) -> None:
    served, sign, manifest = hub
    cs = ContentStore(tiny_disk)  # its margin (16 MiB) does not fit on a 1 MB disk
    medium = _entry(manifest, "media/medium.bin")
    err, p = asyncio.run(_fetch(served, sign, [medium], cs))
    assert isinstance(err, FetchError)
    assert str(err).startswith("the new version needs 0.3 MB downloaded plus a margin of "
                               "16.8 MB free on ")
    assert p.requests == []  # the hub was not even asked
    assert not any(cs.partial.iterdir())


def test_a_disk_that_fills_up_mid_download_loses_the_partial_file_only(
        hub: tuple[ServedHub, Any, Manifest], tiny_disk: Path) -> None:
    served, sign, manifest = hub
    cs = ContentStore(tiny_disk, margin=0)
    caption = _entry(manifest, "text/captions.txt")
    got, _ = asyncio.run(_fetch(served, sign, [caption], cs))
    assert got == caption.size and cs.has_object(caption.sha256)
    filler = tiny_disk / "other-writer.log"

    def fill(done: int, total: int) -> None:  # something else takes the rest of the disk
        if filler.exists():
            return
        with filler.open("wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass

    medium = _entry(manifest, "media/medium.bin")
    err, p = asyncio.run(_fetch(served, sign, [medium], cs, progress=fill))
    assert isinstance(err, FetchError) and err.path == "media/medium.bin"
    assert str(err).startswith("the disk filled up while 'media/medium.bin' was downloaded")
    assert len(p.object_requests(medium.sha256)) == 1  # a full disk is not retried
    assert not cs.partial_path(medium.sha256).exists() and not cs.has_object(medium.sha256)
    assert cs.has_object(caption.sha256) and filler.stat().st_size > 0  # nothing else touched
    filler.unlink()
    got, _ = asyncio.run(_fetch(served, sign, [medium], cs))  # space back: it goes through
    assert got == medium.size and cs.has_object(medium.sha256)
