"""Rollouts on a real hub (SQLite and PostgreSQL): canaries first, a failing canary halts,
a hub killed mid-rollout is carried on by the next, rollback instructions are signed,
viewers only look. Stations enrol and report through the real signed API with their own
keys; operators use the dashboard's forms over HTTP (fault test 8 of issue 12)."""

from __future__ import annotations

import functools
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from showfloor import fleet
from showfloor.content import bundle, rollback
from showfloor.errors import BundleError
from showfloor.hub import bundles as store
from showfloor.hub import commands as cmds
from showfloor.hub import db as t

from ._dashboard_support import create_user, csrf_of, session, sql
from ._support import RunningHub, SignedStation, make_code, start_hub

#: quick: canaries count as online for 30 s after a heartbeat
QUICK = {"SHOWFLOOR_HUB_ONLINE_WITHIN": "30"}


def wait_for(what: str, check: Callable[[], Any], seconds: float = 20) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def publish(db_url: str, tmp: Path, key: Any, version: str, exhibit: str = "demo") -> int:
    """A tiny signed bundle, published straight into the hub's database (as the API does)."""
    folder = tmp / f"{exhibit}-{version}"
    folder.mkdir(parents=True)
    (folder / "exhibit.yaml").write_text(f"id: {exhibit}\nversion: '{version}'\n")
    (folder / "caption.txt").write_text(f"caption of {version}\n")
    out = tmp / f"{exhibit}-{version}.showfloor"
    bundle.pack(folder, exhibit, version, key, out)
    db = t.Database(db_url)
    try:
        t.upgrade(db)
        return store.publish(db, out, "user:test", {bundle.key_id(key.public_key()):
                                                    key.public_key()})
    finally:
        db.dispose()


def enrol(hub: RunningHub, hall: str, n: int) -> list[SignedStation]:
    out = []
    for i in range(n):
        st = SignedStation(hub.url)
        r = st.enrol(make_code(hub.db, hall=hall, name=f"{hall} {i + 1}"))
        assert r.status_code == 200, r.text
        assert st.heartbeat(version="1.0").status_code == 200
        out.append(st)
    return out


def report(st: SignedStation, rollout: int | None, state: str, **extra: Any) -> None:
    body = {"rollout": rollout, "bundle": None, "exhibit": "demo", "version": "2.0",
            "state": state, **extra}
    r = st.signed("POST", f"{fleet.API}/deploy/status", body)[1]
    assert r.status_code == 204, r.text


def deploys(st: SignedStation) -> list[dict[str, Any]]:
    """The deploy/rollback commands waiting for a station (taken, as a station takes them)."""
    r = st.commands()
    assert r.status_code == 200, r.text
    return [c for c in r.json()["commands"] if c["kind"] in ("deploy", "rollback")]


def start_rollout(client: httpx.Client, bundle_id: int, hall: str, canary: int = 1,
                  healthy: float = 1) -> int:
    token = csrf_of(client.get("/rollouts").text)
    r = client.post("/rollouts", data={
        "csrf": token, "bundle": str(bundle_id), "target_kind": "hall", "target_hall": hall,
        "canary": str(canary), "canary_unit": "stations", "healthy_seconds": str(healthy)})
    assert r.status_code == 303, r.text
    return int(r.headers["location"].split("/")[2].split("?")[0])


def rollout_row(db_url: str, rid: int) -> Any:
    return sql(db_url, select(t.rollouts).where(t.rollouts.c.id == rid))[0]


def station_rows(db_url: str, rid: int) -> dict[str, Any]:
    rs = t.rollout_stations.c
    return {r.station_id: r for r in sql(db_url, select(t.rollout_stations)
                                         .where(rs.rollout_id == rid))}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("keys")
    return {"publisher": bundle.new_key(folder / "publisher.key"),
            "rollback_path": folder / "rollback.key",
            "rollback": bundle.new_key(folder / "rollback.key")}


@pytest.fixture(scope="module")
def hub(module_db_url: str, keys: dict[str, Any]) -> Iterator[RunningHub]:
    """One hub per backend for the module, with a rollback key; an operator and a viewer."""
    env = {**QUICK, "SHOWFLOOR_HUB_ROLLBACK_KEY": str(keys["rollback_path"])}
    running = start_hub(module_db_url, env=env)
    running.env = env  # type: ignore[attr-defined]  # for a test that restarts it
    try:
        create_user(module_db_url, "otto", "operator")
        create_user(module_db_url, "vera", "viewer")
        yield running
    finally:
        running.stop()


def test_a_failing_canary_halts_the_rollout_and_the_rest_get_nothing(
        hub: RunningHub, keys: dict[str, Any], tmp_path: Path) -> None:
    bid = publish(hub.db, tmp_path, keys["publisher"], "2.0", exhibit="halting")
    canary, *rest = enrol(hub, "Halting hall", 3)
    with session(hub.url, "otto") as otto:
        rid = start_rollout(otto, bid, "halting-hall", canary=1, healthy=1)
        got = wait_for("the canary's deploy command", lambda: deploys(canary))
        assert got[0]["args"] == {"rollout": rid, "bundle": bid, "exhibit": "halting",
                                  "version": "2.0"}
        report(canary, rid, "downloading", progress=0.5, bytes=10)
        report(canary, rid, "failed", reason="the attract view was not drawn within 60 s")
        halted = wait_for("the rollout to halt",
                          lambda: (row := rollout_row(hub.db, rid)).state == "halted" and row)
        assert "the attract view was not drawn" in halted.halted_reason
        assert canary.station in halted.halted_reason
        time.sleep(1.2)  # more passes of the loop: still nothing for the rest
        for st in rest:
            assert deploys(st) == []
        rows = station_rows(hub.db, rid)
        assert [rows[st.station].state for st in rest] == ["waiting", "waiting"]
        assert all(rows[st.station].command_id is None for st in rest)
        page = otto.get(f"/rollouts/{rid}").text
        assert "halted" in page and "the attract view was not drawn" in page
        # a report for a rollout the hub does not know is still the station's news
        report(rest[0], 999_999, "running")
        content = sql(hub.db, select(t.stations.c.content)
                      .where(t.stations.c.id == rest[0].station))[0][0]
        assert content["state"] == "running" and content["rollout"] == 999_999
        actions = [a for (a,) in sql(hub.db, select(t.audit.c.action)
                                     .where(t.audit.c.target == f"rollout:{rid}"))]
        assert actions[:1] == ["rollout.created"]
        assert "deploy.failed" in actions and "rollout.halted" in actions


def test_rollback_sends_instructions_the_stations_can_verify(
        hub: RunningHub, keys: dict[str, Any], tmp_path: Path) -> None:
    publish(hub.db, tmp_path, keys["publisher"], "1.0", exhibit="rolling")
    bid = publish(hub.db, tmp_path, keys["publisher"], "1.1", exhibit="rolling")
    stations = enrol(hub, "Rollback hall", 2)
    with session(hub.url, "otto") as otto:
        rid = start_rollout(otto, bid, "rollback-hall", canary=0)
        for st in stations:
            wait_for("a deploy command", functools.partial(deploys, st))
            report(st, rid, "running")
        wait_for("the rollout to finish", lambda: rollout_row(hub.db, rid).state == "done")
        token = csrf_of(otto.get(f"/rollouts/{rid}").text)
        r = otto.post(f"/rollouts/{rid}/rollback", data={"csrf": token})
        assert r.status_code == 303, r.text
    trusted = {bundle.key_id(keys["rollback"].public_key()): keys["rollback"].public_key()}
    for st in stations:
        cmd = wait_for("the rollback command", functools.partial(deploys, st))[0]
        assert cmd["kind"] == "rollback" and cmd["args"]["rollout"] == rid
        data, sig = rollback.decode(cmd["args"])
        got = rollback.verify(data, sig, trusted, now=time.time())
        assert (got.exhibit, got.from_version, got.to_version) == ("rolling", "1.1", "1.0")
        # one byte changed, or another key: refused
        with pytest.raises(BundleError, match="not signed by a trusted rollback key"):
            rollback.verify(data.replace(b'"to":"1.0"', b'"to":"0.1"'), sig, trusted,
                            now=time.time())
        with pytest.raises(BundleError, match="not signed"):
            rollback.verify(data, sig, {"other": keys["publisher"].public_key()},
                            now=time.time())
        with pytest.raises(BundleError, match="expired"):
            rollback.verify(data, sig, trusted, now=time.time() + 2 * rollback.TTL)
    ro = rollout_row(hub.db, rid)
    assert ro.state == "cancelled" and ro.halted_reason.startswith("rolled back to 1.0")
    audit = sql(hub.db, select(t.audit.c.actor, t.audit.c.detail)
                .where(t.audit.c.action == "rollout.rolled_back"))
    assert audit[-1][0] == "user:otto" and audit[-1][1]["rollout"] == rid


def test_viewers_see_progress_and_cannot_act(hub: RunningHub, keys: dict[str, Any],
                                             tmp_path: Path) -> None:
    bid = publish(hub.db, tmp_path, keys["publisher"], "3.0", exhibit="viewing")
    (st,) = enrol(hub, "Viewing hall", 1)
    with session(hub.url, "otto") as otto:
        rid = start_rollout(otto, bid, "viewing-hall", canary=0)
    wait_for("a deploy command", lambda: deploys(st))
    report(st, rid, "downloading", progress=0.42, bytes=4200)
    with session(hub.url, "vera") as vera:
        page = vera.get(f"/rollouts/{rid}")
        assert page.status_code == 200
        assert "downloading 42 %" in page.text
        assert "/halt" not in page.text and "/rollback" not in page.text
        live = vera.get(f"/rollouts/{rid}/live").json()["parts"]
        assert "downloading 42 %" in live["stations"]
        token = csrf_of(page.text)
        for path in (f"/rollouts/{rid}/halt", f"/rollouts/{rid}/rollback", "/rollouts",
                     f"/stations/{st.station}/tags"):
            assert vera.post(path, data={"csrf": token, "bundle": str(bid)}).status_code == \
                403, path
        r = vera.post("/rollouts/publish", data={"csrf": token},
                      files={"bundle": ("x.showfloor", b"PK")})
        assert r.status_code == 403
    assert rollout_row(hub.db, rid).state == "rolling"


def test_canaries_first_then_the_rest_even_across_a_killed_hub(
        hub: RunningHub, keys: dict[str, Any], tmp_path: Path) -> None:
    bid = publish(hub.db, tmp_path, keys["publisher"], "2.0", exhibit="canaries")
    canary, *rest = enrol(hub, "Canary hall", 3)
    with session(hub.url, "otto") as otto:
        rid = start_rollout(otto, bid, "canary-hall", canary=1, healthy=2)
    assert wait_for("the canary's deploy", lambda: deploys(canary))[0]["kind"] == "deploy"
    assert [deploys(st) for st in rest] == [[], []]
    report(canary, rid, "verified")
    report(canary, rid, "running")
    assert rollout_row(hub.db, rid).state == "canary"
    # kill -9 mid-rollout (the canary is running, not yet healthy long enough); a new hub
    # process on the same database takes over (and serves the module's later tests)
    hub.stop(signal.SIGKILL)
    second = start_hub(hub.db, env=hub.env)  # type: ignore[attr-defined]
    hub.proc, hub.port = second.proc, second.port
    for st in (canary, *rest):
        st.base = hub.url
    assert canary.heartbeat(version="2.0").status_code == 200  # still online
    got = wait_for("the rest's deploys", lambda: [deploys(st) for st in rest]
                   if rollout_row(hub.db, rid).state == "rolling" else None)
    assert all(len(g) == 1 and g[0]["args"]["rollout"] == rid for g in got)
    assert deploys(canary) == []  # the new hub did not send the canary its version again
    for st in rest:
        report(st, rid, "running")
    wait_for("the rollout to be done", lambda: rollout_row(hub.db, rid).state == "done")
    rows = station_rows(hub.db, rid)
    assert sorted(r.stage for r in rows.values()) == ["canary", "rest", "rest"]
    assert all(r.state == "running" for r in rows.values())
    c = t.commands.c
    sent = sql(hub.db, select(c.station_id).where(c.kind == "deploy")
               .where(c.args["rollout"].as_integer() == rid))
    assert sorted(s for (s,) in sent) == sorted(st.station for st in (canary, *rest))


def test_tags_pick_a_rollouts_stations(hub: RunningHub, keys: dict[str, Any],
                                       tmp_path: Path) -> None:
    bid = publish(hub.db, tmp_path, keys["publisher"], "1.0", exhibit="tagged")
    a, b = enrol(hub, "Tag hall", 2)
    with session(hub.url, "otto") as otto:
        token = csrf_of(otto.get(f"/stations/{a.station}").text)
        r = otto.post(f"/stations/{a.station}/tags", data={"csrf": token,
                                                          "tags": "vr, floor-2 vr"})
        assert r.status_code == 303
        bad = otto.post(f"/stations/{b.station}/tags", data={"csrf": token, "tags": "no/slash"})
        assert bad.status_code == 400 and "is not a tag" in bad.text
        r = otto.post("/rollouts", data={
            "csrf": token, "bundle": str(bid), "target_kind": "tag", "target_tag": "floor-2",
            "canary": "50", "canary_unit": "percent", "healthy_seconds": "0"})
        assert r.status_code == 303, r.text
        rid = int(r.headers["location"].split("/")[2].split("?")[0])
    assert list(station_rows(hub.db, rid)) == [a.station]
    assert station_rows(hub.db, rid)[a.station].stage == "canary"
    assert wait_for("the deploy", lambda: deploys(a))
    assert deploys(b) == []
    # a deploy command that ends without a word from its station (here: cancelled on the
    # station's page) fails that station, and a canary's failure halts the rollout
    c = t.commands.c
    ((cid,),) = sql(hub.db, select(c.id).where(c.station_id == a.station)
                    .where(c.kind == "deploy"))
    db = t.Database(hub.db)
    try:
        with db.write() as conn:
            assert cmds.cancel(conn, time.time(), cid, "user:otto")
    finally:
        db.dispose()
    halted = wait_for("the rollout to halt",
                      lambda: (row := rollout_row(hub.db, rid)).state == "halted" and row)
    assert "its deploy command was cancelled" in halted.halted_reason
