"""Bundles on the hub, on SQLite and PostgreSQL: publish, store by hash, serve with Range;
and the station's per-file fetch against it (one-caption update, resume, fault test 3).

One hub per backend (uvicorn on loopback, in this process); the station side is
the real :func:`showfloor.station.fetch.fetch_missing` into a real
:class:`~showfloor.station.content_store.ContentStore`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select, update

from conftest import run_cli
from showfloor import fleet
from showfloor.content import bundle
from showfloor.content.bundle import FileEntry, parse_manifest
from showfloor.hub import bundles as store
from showfloor.hub import db as hubdb
from showfloor.hub import users
from showfloor.station.content_store import ContentStore
from showfloor.station.fetch import FetchError, fetch_missing
from station._fetch_support import ServedHub, make_bundle, proxy, serve_hub

from ._support import SignedStation, make_code

PASSWORD = "operator-password-1"


@dataclass
class Hub:
    served: ServedHub
    db: hubdb.Database
    station: SignedStation
    m: Material
    v1_id: int = 0

    @property
    def v1(self) -> Path:
        return self.m.v1

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def sign(self, method: str, path: str, body: bytes = b"") -> dict[str, str]:
        return self.station.key.headers(self.station.station, method, path, body, time.time())

    def get(self, path: str, **headers: str) -> httpx.Response:
        return self.station.client.get(self.url + path, headers={**self.sign("GET", path),
                                                                 **headers})

    def count(self, table: Any) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@dataclass
class Material:
    """Keys and bundles, made once for both backends."""

    folder: Path
    key: Any
    trust: Path
    v1: Path
    other: Path  # 1.0.0 again, with another caption
    stranger: Path  # signed by a key the hub does not trust
    v2: Path  # 1.0.1: one caption changed


@pytest.fixture(scope="module")
def material(tmp_path_factory: pytest.TempPathFactory) -> Material:
    folder = tmp_path_factory.mktemp("bundles")
    key = bundle.new_key(folder / "publisher.pem")
    trust = folder / "publisher.trust"
    trust.write_text(bundle.public_text(key.public_key()) + "\n")
    stranger = bundle.new_key(folder / "stranger.pem")
    return Material(folder, key, trust, make_bundle(folder, key, "1.0.0"),
                    make_bundle(folder, key, "1.0.0", caption="Other words"),
                    make_bundle(folder, stranger, "9.0.0"),
                    make_bundle(folder, key, "1.0.1", caption="Hello"))


@pytest.fixture(scope="module")
def hub(module_db_url: str, material: Material) -> Iterator[Hub]:
    db = hubdb.Database(module_db_url)
    hubdb.upgrade(db)
    with db.write() as conn:
        users.create(conn, time.time(), "op", PASSWORD, "operator", "test")
        users.create(conn, time.time(), "viewer", PASSWORD, "viewer", "test")
    served = serve_hub(module_db_url, trusted_keys=str(material.trust))
    st = SignedStation(served.url, client=httpx.Client(timeout=30))  # the module's own
    assert st.enrol(make_code(module_db_url)).status_code == 200
    try:
        yield Hub(served, db, st, material)
    finally:
        st.client.close()
        served.stop()
        db.dispose()


def _upload(hub: Hub, path: Path, user: str = "op", password: str = PASSWORD
            ) -> tuple[int, dict[str, Any]]:
    return store.upload(hub.url, path, user, password)


def _published(hub: Hub) -> int:
    """The id of bundle 1.0.0 (published now if no test did yet)."""
    if not hub.v1_id:
        status, body = _upload(hub, hub.v1)
        assert status in (200, 201), body
        hub.v1_id = body["bundle"]
    return hub.v1_id


def test_publish_stores_each_file_once_and_again_changes_nothing(hub: Hub) -> None:
    if hub.db.sqlite:  # the command line once (it does not depend on the backend)
        done = run_cli("hub", "publish", hub.v1, "--hub", hub.url, "--user", "op",
                       "--password-file", _password_file(hub))
        assert done.returncode == 0, done.stderr
        assert "published demo 1.0.0 as bundle" in done.stdout
        assert "4 files, 4 new, 4,601,600 bytes stored" in done.stdout
    else:
        status, body = _upload(hub, hub.v1)
        assert status == 201 and (body["files"], body["new_objects"], body[
            "bytes_stored"], body["existed"]) == (4, 4, 4_601_600, False)
    assert hub.v1.stat().st_size > fleet.MAX_BODY  # the upload is not held to that limit
    assert hub.count(hubdb.objects) == 4
    assert hub.count(hubdb.object_chunks) == 5 + 1 + 1 + 1  # big.bin is five chunks

    status, body = _upload(hub, hub.v1)
    hub.v1_id = body["bundle"]
    assert status == 200
    assert body["existed"] and body["new_objects"] == 0 and body["bytes_stored"] == 0
    assert hub.count(hubdb.bundles) == 1 and hub.count(hubdb.objects) == 4
    with hub.db.read() as conn:
        rows = conn.execute(select(hubdb.audit.c.actor, hubdb.audit.c.detail)
                            .where(hubdb.audit.c.action == "bundle_published")).all()
    assert [(r[0], r[1]["version"], r[1]["new_objects"]) for r in rows] == [
        ("user:op", "1.0.0", 4)]
    with hub.db.read() as conn:
        listed = store.list_bundles(conn)
    assert [(b["exhibit"], b["version"], b["files"], b["size"]) for b in listed] == [
        ("demo", "1.0.0", 4, 4_601_600)]


def _password_file(hub: Hub) -> Path:
    p = hub.m.folder / "password"
    p.write_text(PASSWORD + "\n")
    return p


def test_publish_refusals_store_nothing(hub: Hub) -> None:
    _published(hub)
    before = (hub.count(hubdb.bundles), hub.count(hubdb.objects))
    other = hub.m.other
    status, body = _upload(hub, other)
    assert status == 409 and "demo 1.0.0 is already published with other files" in \
        body["detail"]

    status, body = _upload(hub, hub.m.stranger)
    assert status == 422
    assert "which is not one of the 1 trusted key(s)" in body["detail"]

    assert _upload(hub, hub.v1, user="viewer")[0] == 403
    assert _upload(hub, hub.v1, password="wrong-password-1")[0] == 401
    unsigned = httpx.post(f"{hub.url}{fleet.API}/bundles", content=b"PK")
    assert unsigned.status_code == 401 and "Basic" in unsigned.headers["www-authenticate"]
    assert (hub.count(hubdb.bundles), hub.count(hubdb.objects)) == before

    if hub.db.sqlite:
        done = run_cli("hub", "publish", other, "--hub", hub.url, "--user", "op",
                       "--password-file", _password_file(hub))
        assert done.returncode == 1
        assert "already published with other files" in done.stderr


def test_station_gets_the_manifest_and_files_with_ranges(hub: Hub) -> None:
    bid = _published(hub)
    got = hub.get(f"{fleet.API}/bundles/{bid}/manifest")
    assert got.status_code == 200
    body = got.json()
    manifest = base64.b64decode(body["manifest"])
    m = parse_manifest(manifest)
    assert (body["bundle"], body["exhibit"], body["version"]) == (bid, "demo", "1.0.0")
    assert b'"algorithm": "ed25519"' in base64.b64decode(body["signature"])
    big = next(f for f in m.files if f.path == "media/big.bin")
    path = f"{fleet.API}/objects/{big.sha256}"

    whole = hub.get(path)
    assert whole.status_code == 200 and hashlib.sha256(whole.content).hexdigest() == big.sha256
    assert whole.headers["accept-ranges"] == "bytes"
    data = whole.content
    start = 1024 * 1024 - 10  # across the first chunk boundary
    part = hub.get(path, Range=f"bytes={start}-")
    assert part.status_code == 206 and part.content == data[start:]
    assert part.headers["content-range"] == f"bytes {start}-{big.size - 1}/{big.size}"
    mid = hub.get(path, Range="bytes=2097150-2097160")
    assert mid.status_code == 206 and mid.content == data[2097150:2097161]
    tail = hub.get(path, Range="bytes=-5")
    assert tail.status_code == 206 and tail.content == data[-5:]
    bad = hub.get(path, Range=f"bytes={big.size}-")
    assert bad.status_code == 416 and bad.headers["content-range"] == f"bytes */{big.size}"
    assert hub.get(f"{fleet.API}/objects/{'0' * 64}").status_code == 404
    assert hub.get(f"{fleet.API}/bundles/999999/manifest").status_code == 404
    assert httpx.get(hub.url + path).status_code == 401  # not signed by a station


def _fetch(hub: Hub, entries: list[FileEntry], cs: ContentStore, **proxy_args: Any
           ) -> tuple[int, Any]:
    async def run() -> tuple[int, Any]:
        async with proxy(hub.port, **proxy_args) as p, httpx.AsyncClient() as client:
            got = await fetch_missing(client, p.url, hub.sign, entries, cs, margin=0)
            return got, p
    return asyncio.run(run())


def _manifest(hub: Hub, bundle_id: int) -> Any:
    with hub.db.read() as conn:
        row = store.get_bundle(conn, bundle_id)
    assert row is not None
    return parse_manifest(row["manifest"])


def test_a_one_caption_update_moves_one_file(hub: Hub, tmp_path: Path) -> None:
    m1 = _manifest(hub, _published(hub))
    cs = ContentStore(tmp_path / "data")
    got, p = _fetch(hub, cs.missing(m1), cs)
    assert got == m1.total and not cs.missing(m1)
    status, body = _upload(hub, hub.m.v2)
    assert status == 201 and body["new_objects"] == 1 and body["bytes_stored"] == 1200
    m2 = _manifest(hub, body["bundle"])
    todo = cs.missing(m2)
    assert [f.path for f in todo] == ["text/captions.txt"]
    got, p = _fetch(hub, todo, cs)
    assert got == 1200 and not cs.missing(m2)
    assert len(p.requests) == 1 and 1200 < p.down < 1200 + 1024  # the file and its headers


def test_a_cut_download_resumes_where_it_stopped(hub: Hub, tmp_path: Path) -> None:
    m = _manifest(hub, _published(hub))
    big = next(f for f in m.files if f.path == "media/big.bin")
    cs = ContentStore(tmp_path / "data")
    got, p = _fetch(hub, [big], cs, cut_after=1_200_000)
    assert p.cuts == 1 and cs.has_object(big.sha256)
    asked = p.object_requests(big.sha256)
    assert len(asked) == 2 and "range: bytes=" not in asked[0].lower()
    resumed_from = int(asked[1].lower().split("range: bytes=")[1].split("-")[0])
    assert 0 < resumed_from <= 1_200_000
    # the second answer carries the rest only (what the cut lost on the wire aside)
    assert got == big.size and p.down - 1_200_000 < big.size - resumed_from + 4096


def _corrupt(conn: Any, sha: str, size: int, how: str) -> None:
    c = hubdb.object_chunks.c
    data = bytes(conn.execute(select(c.data).where(c.sha256 == sha).where(c.n == 0)
                              ).scalar_one())
    if how == "truncated":
        new, new_size = data[: size // 2], size // 2
    elif how == "flipped":
        new, new_size = data[:100] + bytes([data[100] ^ 1]) + data[101:], size
    elif how == "empty":
        new, new_size = b"", 0
    else:  # the hub says (and sends) more bytes than the manifest lists
        new, new_size = data + b"extra", size + 5
    conn.execute(update(hubdb.object_chunks).where(c.sha256 == sha).where(c.n == 0)
                 .values(data=new))
    conn.execute(update(hubdb.objects).where(hubdb.objects.c.sha256 == sha)
                 .values(size=new_size))


@pytest.mark.parametrize("how", ["truncated", "flipped", "empty", "wrong_size"])
def test_bad_bytes_from_the_hub_are_refused_three_times_then_named(
        hub: Hub, tmp_path: Path, how: str) -> None:
    m = _manifest(hub, _published(hub))
    medium = next(f for f in m.files if f.path == "media/medium.bin")
    with hub.db.read() as conn:
        keep = bytes(conn.execute(select(hubdb.object_chunks.c.data)
                                  .where(hubdb.object_chunks.c.sha256 == medium.sha256)
                                  ).scalar_one())
    with hub.db.write() as conn:
        _corrupt(conn, medium.sha256, medium.size, how)
    cs = ContentStore(tmp_path / "data")
    try:
        async def run() -> tuple[FetchError, Any]:
            async with proxy(hub.port) as p, httpx.AsyncClient() as client:
                with pytest.raises(FetchError) as caught:
                    await fetch_missing(client, p.url, hub.sign, [medium], cs, margin=0)
                return caught.value, p
        err, p = asyncio.run(run())
    finally:
        with hub.db.write() as conn:
            conn.execute(delete(hubdb.object_chunks)
                         .where(hubdb.object_chunks.c.sha256 == medium.sha256))
            conn.execute(hubdb.object_chunks.insert().values(sha256=medium.sha256, n=0,
                                                             data=keep))
            conn.execute(update(hubdb.objects).where(hubdb.objects.c.sha256 == medium.sha256)
                         .values(size=medium.size))
    assert err.path == "media/medium.bin"
    assert str(err).startswith("'media/medium.bin' from the hub was refused 3 times (last: ")
    assert len(p.object_requests(medium.sha256)) == 3  # bounded: no download loop
    assert not cs.has_object(medium.sha256)
    assert not cs.partial_path(medium.sha256).exists()


def test_the_hub_takes_publisher_keys_from_its_signed_trust_list(material: Material) -> None:
    from showfloor.content import trust

    root = bundle.new_key(material.folder / "root.pem")
    old, new = material.key, bundle.new_key(material.folder / "new-publisher.pem")
    ids = [bundle.key_id(k.public_key()) for k in (old, new)]
    v1 = trust.make_trust([trust.TrustKey(kid, k.public_key(), ("bundles",))
                           for kid, k in zip(ids, (old, new), strict=True)])
    first, second = material.folder / "trust-1.json", material.folder / "trust-2.json"
    trust.write_signed(first, v1.to_bytes(), trust.sign(v1.to_bytes(), [root]))
    v2 = trust.next_trust(v1, retire=[ids[0]])
    trust.write_signed(second, v2.to_bytes(), trust.sign(v2.to_bytes(), [root]))

    assert set(store.trusted_keys("", str(first))) == set(ids)
    bundle.verify(material.v1, store.trusted_keys("", str(first)))
    # rotated: the old key is refused although the plain trust list still names it
    keys = store.trusted_keys(str(material.trust), str(second))
    assert set(keys) == {ids[1]}
    with pytest.raises(bundle.BundleError):
        bundle.verify(material.v1, keys)
    with pytest.raises(store.PublishError, match="no trusted publisher keys"):
        store.trusted_keys("", "")
