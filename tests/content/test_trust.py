"""The signed trust list: roles, retirement, root signatures (with a threshold), no
rollback to an older list, expiry — fault test 9 (key rotation) — the ``showfloor
trust`` commands, and a real hub handing the list to a station.

Keys, lists and bundles are made here, in temporary folders.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from conftest import CORPUS, Cli
from showfloor.content import bundle as b
from showfloor.content import trust as t
from showfloor.errors import BundleError

DAY = 86400


def kid(key: Ed25519PrivateKey) -> str:
    return b.key_id(key.public_key())


def pub(key: Ed25519PrivateKey) -> dict[str, Ed25519PublicKey]:
    return {kid(key): key.public_key()}


def tkey(key: Ed25519PrivateKey, *roles: str, status: str = "active") -> t.TrustKey:
    return t.TrustKey(kid(key), key.public_key(), roles or ("bundles",), status)


def signed(made: t.TrustList, *roots: Ed25519PrivateKey) -> tuple[bytes, bytes]:
    data = made.to_bytes()
    return data, t.sign(data, roots)


@pytest.fixture(scope="module")
def keys() -> dict[str, Ed25519PrivateKey]:
    return {name: Ed25519PrivateKey.generate()
            for name in ("root", "root2", "old", "new", "ops", "thief")}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Ed25519PrivateKey]
            ) -> dict[str, Path]:
    """The corpus base packed twice: signed by the old publisher key, and by the new one."""
    folder = tmp_path_factory.mktemp("bundles")
    out = {}
    for name in ("old", "new"):
        out[name] = folder / f"{name}.showfloor"
        b.pack(CORPUS / "_valid", "corpus-base", "1", keys[name], out[name])
    return out


# -- fault test 9: key rotation ----------------------------------------------------------

def test_after_rotation_the_retired_key_is_refused_and_the_new_one_accepted(
        tmp_path: Path, keys: dict[str, Ed25519PrivateKey], bundles: dict[str, Path]) -> None:
    root = keys["root"]
    v1 = t.make_trust([tkey(keys["old"], "bundles", "rollback")])
    store = t.TrustStore(tmp_path / "station" / "trust.json", pub(root))
    assert store.current() is None
    assert store.offer(*signed(v1, root)) is True
    before = store.keys_for("bundles")
    assert set(before) == {kid(keys["old"])}
    assert b.verify(bundles["old"], before).key_id == kid(keys["old"])
    with pytest.raises(BundleError, match="not one of the 1 trusted"):
        b.verify(bundles["new"], before)

    # rotation: the next version retires the old key and makes the new one active
    v2 = t.next_trust(v1, add=[tkey(keys["new"], "bundles")], retire=[kid(keys["old"])])
    assert v2.version == 2
    assert store.offer(*signed(v2, root)) is True
    assert store.offer(*signed(v2, root)) is False  # the same list again: nothing changes
    after = store.keys_for("bundles")
    assert set(after) == {kid(keys["new"])}
    for attempt in (lambda: b.verify(bundles["old"], after),
                    lambda: b.unpack(bundles["old"], tmp_path / "old-out", after)):
        with pytest.raises(BundleError) as refused:
            attempt()
        said = str(refused.value)
        assert kid(keys["old"]) in said and "retired in trust list version 2" in said
        assert "\n" not in said
    assert not (tmp_path / "old-out").exists()
    assert not list(tmp_path.glob(".old-out*"))
    assert b.unpack(bundles["new"], tmp_path / "new-out", after).key_id == kid(keys["new"])
    assert (tmp_path / "new-out" / "exhibit.yaml").is_file()
    # the retired key had the rollback role too: gone from there as well
    assert kid(keys["old"]) not in store.keys_for("rollback")

    # a plain trust-list file that still names the old key does not bring it back
    plain = tmp_path / "publisher.trust"
    plain.write_text(b.public_text(keys["old"].public_key()) + "\n")
    merged = store.keys_for("bundles", b.load_trusted([str(plain)]))
    with pytest.raises(BundleError, match="retired"):
        b.verify(bundles["old"], merged)

    # replaying version 1 (which trusts the old key) is refused, also after a restart
    for held in (store, t.TrustStore(store.path, pub(root))):
        assert held.current() is not None and held.current().version == 2  # type: ignore[union-attr]
        with pytest.raises(t.TrustError, match=r"version 1 is older than version 2"):
            held.offer(*signed(v1, root))
        assert held.current().version == 2  # type: ignore[union-attr]
    # a different list claiming the held version is refused too
    other = t.make_trust([tkey(keys["thief"])], version=2)
    with pytest.raises(t.TrustError, match="same version 2"):
        store.offer(*signed(other, root))
    # a retired key never comes back in a later version
    with pytest.raises(t.TrustError, match="never comes back"):
        t.next_trust(v2, add=[tkey(keys["old"])])


def test_a_list_not_signed_by_the_root_keys_is_refused(
        tmp_path: Path, keys: dict[str, Ed25519PrivateKey]) -> None:
    root, root2 = keys["root"], keys["root2"]
    store = t.TrustStore(tmp_path / "trust.json", pub(root))
    store.offer(*signed(t.make_trust([tkey(keys["old"])]), root))
    evil = t.make_trust([tkey(keys["thief"])], version=9)
    # signed by a publisher key (or any other key), not a root key
    with pytest.raises(t.TrustError, match=f"signed by key\\(s\\) {kid(keys['thief'])}, not a "
                       "root key"):
        store.offer(*signed(evil, keys["thief"]))
    # a root signature over other bytes
    data, sig = signed(t.make_trust([tkey(keys["new"])], version=9), root)
    with pytest.raises(t.TrustError, match=f"root key {kid(root)} does not match"):
        store.offer(data.replace(b'"bundles"', b'"rollback"'), sig)
    with pytest.raises(t.TrustError, match="signature file is not"):
        store.offer(data, b'{"format": 1}')
    assert store.current().version == 1  # type: ignore[union-attr]
    assert set(store.keys_for("bundles")) == {kid(keys["old"])}

    # a threshold of 2 of 2 root keys: one signature is not enough, two are
    roots = {**pub(root), **pub(root2)}
    two = t.make_trust([tkey(keys["new"])])
    data = two.to_bytes()
    with pytest.raises(t.TrustError, match="1 of the root keys, fewer than the 2 required"):
        t.parse_trust(data, t.sign(data, [root]), roots, threshold=2)
    with pytest.raises(t.TrustError, match="1 of the root keys, fewer than the 2 required"):
        t.parse_trust(data, t.sign(data, [root, root]), roots, threshold=2)  # not twice
    assert t.parse_trust(data, t.sign(data, [root, root2]), roots, threshold=2).version == 1
    with pytest.raises(t.TrustError, match="between 1 and the number of root keys"):
        t.parse_trust(data, t.sign(data, [root]), pub(root), threshold=2)


def test_an_expired_list_is_refused_and_an_expiring_one_stops_installs(
        tmp_path: Path, keys: dict[str, Ed25519PrivateKey], bundles: dict[str, Path]) -> None:
    root = keys["root"]
    now = time.time()
    store = t.TrustStore(tmp_path / "trust.json", pub(root))
    v1 = t.make_trust([tkey(keys["old"])], expires_days=10, now=now)
    store.offer(*signed(v1, root), now=now)
    stale = t.make_trust([tkey(keys["new"])], version=2, expires_days=1, now=now - 3 * DAY)
    with pytest.raises(t.TrustError, match=r"version 2 expired on .*version 1 stays in use"):
        store.offer(*signed(stale, root), now=now)
    assert store.current() == v1
    # the held list itself runs out: nothing new is installed, what runs keeps running
    later = now + 11 * DAY
    with pytest.raises(t.TrustError, match=r"version 1\) expired on .*nothing new is "
                       "installed.*what runs keeps running"):
        store.keys_for("bundles", now=later)
    assert b.verify(bundles["old"], store.keys_for("bundles", now=now)).trusted
    # a fresh version 2 ends it
    v2 = t.next_trust(v1, expires_days=30, now=later)
    assert store.offer(*signed(v2, root), now=later)
    assert set(store.keys_for("bundles", now=later)) == {kid(keys["old"])}


def _mutated(keys: dict[str, Ed25519PrivateKey], change: Any) -> bytes:
    data = json.loads(t.make_trust([tkey(keys["old"]), tkey(keys["new"], "rollback")]
                                   ).to_bytes())
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(("change", "said"), [
    (lambda d: d["keys"][0].update(roles=["bundles", "admin"]), "role 'admin', which is not known"),
    (lambda d: d["keys"].append(dict(d["keys"][0])), "twice"),
    (lambda d: d["keys"][0].update(id="0" * 16), "but its public key has id"),
    (lambda d: d["keys"][0].update(status="paused"), "status 'paused'"),
    (lambda d: d["keys"][0].update(roles=[]), "not a list of one or more"),
    (lambda d: d.update(version=True), "not a whole number"),
    (lambda d: d.update(version=0), "not a whole number"),
    (lambda d: d.update(format=2), "format 2"),
    (lambda d: d.update(expires="soon"), "'expires' is 'soon'"),
], ids=["unknown-role", "duplicate-id", "wrong-id", "unknown-status", "no-roles",
        "bool-version", "zero-version", "format", "expires"])
def test_a_malformed_list_is_refused_even_when_signed(
        keys: dict[str, Ed25519PrivateKey], change: Any, said: str) -> None:
    data = _mutated(keys, change)
    with pytest.raises(t.TrustError, match=said):
        t.parse_trust(data, t.sign(data, [keys["root"]]), pub(keys["root"]))


def test_keys_for_gives_only_active_keys_of_the_role_and_plain_keys_have_both(
        keys: dict[str, Ed25519PrivateKey]) -> None:
    listed = t.make_trust([tkey(keys["old"], "bundles"), tkey(keys["ops"], "rollback"),
                           tkey(keys["new"], "bundles", "rollback"),
                           tkey(keys["thief"], "bundles", "rollback", status="retired")])
    assert set(listed.keys_for("bundles")) == {kid(keys["old"]), kid(keys["new"])}
    assert set(listed.keys_for("rollback")) == {kid(keys["ops"]), kid(keys["new"])}
    assert listed.keys_for("rollback").retired == {kid(keys["thief"]): 1}
    with pytest.raises(t.TrustError, match="'admin' is not a role"):
        listed.keys_for("admin")
    plain = pub(keys["root2"])
    for role in t.ROLES:  # no signed list: plain keys serve both roles
        assert set(t.station_keys(None, plain, role)) == set(plain)
    assert set(t.station_keys(listed, plain, "rollback")) == {
        kid(keys["ops"]), kid(keys["new"]), kid(keys["root2"])}


# -- the command ---------------------------------------------------------------------------

def test_the_trust_commands_make_rotate_show_and_verify_a_list(tmp_path: Path,
                                                               cli: Cli) -> None:
    for name in ("root", "old", "new"):
        b.new_key(tmp_path / f"{name}.pem")
    old_id = kid(b.load_key(tmp_path / "old.pem"))
    new_id = kid(b.load_key(tmp_path / "new.pem"))
    (tmp_path / "old.trust").write_text(
        b.public_text(b.load_key(tmp_path / "old.pem").public_key()) + "\n")
    lst = tmp_path / "trust.json"
    made = cli("trust", "new", lst, "--root", tmp_path / "root.pem", "--bundles",
               tmp_path / "old.trust", "--rollback", tmp_path / "old.pem", "--note",
               "curator laptop", "--expires", "30", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "version 1: 1 active key(s)" in made.stdout
    assert f"{old_id}  active   bundles,rollback  curator laptop" in made.stdout
    rotated = cli("trust", "next", lst, "--root", tmp_path / "root.pem", "--bundles",
                  tmp_path / "new.pem", "--retire", old_id, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    listed = t.parse_trust(*t.read_signed(lst), pub(b.load_key(tmp_path / "root.pem")))
    assert listed.version == 2
    assert {(k.id, k.status) for k in listed.keys} == {(old_id, "retired"), (new_id, "active")}
    ok = cli("trust", "verify", lst, "--root", tmp_path / "root.pem", cwd=tmp_path)
    assert ok.returncode == 0 and "✓" in ok.stdout and "version 2" in ok.stdout, ok.stderr
    bad = cli("trust", "verify", lst, "--root", tmp_path / "old.trust", cwd=tmp_path)
    assert bad.returncode == 1
    assert "not a root key" in bad.stderr and bad.stderr.count("\n") == 1
    again = cli("trust", "new", lst, "--root", tmp_path / "root.pem", "--bundles",
                tmp_path / "new.pem", cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


# -- the hub hands it out ----------------------------------------------------------------

def test_a_hub_serves_its_trust_list_and_heartbeats_carry_its_version(
        tmp_path: Path, keys: dict[str, Ed25519PrivateKey]) -> None:
    from hub._support import SignedStation, close_clients, make_code, start_hub

    root = keys["root"]
    lst = tmp_path / "hub" / "trust.json"
    lst.parent.mkdir()
    v1 = t.make_trust([tkey(keys["old"])])
    t.write_signed(lst, *signed(v1, root))
    db = f"sqlite:///{tmp_path}/hub.sqlite"
    code = make_code(db)
    hub = start_hub(db, env={"SHOWFLOOR_HUB_TRUST": str(lst)})
    try:
        st = SignedStation(hub.url)
        assert st.enrol(code).status_code == 200
        beat = st.heartbeat()
        assert beat.status_code == 200 and beat.json()["config"]["trust_version"] == 1
        store = t.TrustStore(tmp_path / "station" / "trust.json", pub(root))
        got = httpx.get(f"{hub.url}/api/v1/trust", timeout=30)
        assert got.status_code == 200 and got.json()["version"] == 1
        assert base64.b64decode(got.json()["trust"]) == lst.read_bytes()
        assert store.wants(1) and store.offer_reply(got.json()) is True
        assert not store.wants(1) and not store.wants(None)

        # rotate on the hub: write the next version over the files
        t.write_signed(lst, *signed(t.next_trust(v1, add=[tkey(keys["new"])],
                                                 retire=[kid(keys["old"])]), root))
        deadline = time.monotonic() + 20
        while st.heartbeat().json()["config"]["trust_version"] != 2:
            assert time.monotonic() < deadline, "the hub never noticed the new trust list"
            time.sleep(0.2)
        assert store.wants(2)
        assert store.offer_reply(httpx.get(f"{hub.url}/api/v1/trust", timeout=30).json())
        assert set(store.keys_for("bundles")) == {kid(keys["new"])}

        # a broken list on the hub: the route says why, heartbeats carry no version
        lst.write_bytes(b"{not json")
        deadline = time.monotonic() + 20
        while (r := httpx.get(f"{hub.url}/api/v1/trust", timeout=30)).status_code != 503:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert "not JSON" in r.json()["detail"]
        assert st.heartbeat().json()["config"]["trust_version"] is None
    finally:
        close_clients()
        hub.stop()
