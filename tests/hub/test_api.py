"""The station API against a real hub process, on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from conftest import Cli
from showfloor import fleet
from showfloor.hub import commands as cmds
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment
from station._support import free_port

from ._support import RunningHub, SignedStation, make_code, start_hub


@pytest.fixture(scope="module")
def hub(module_db_url: str) -> Iterator[RunningHub]:
    h = start_hub(module_db_url)
    yield h
    h.stop()


@pytest.fixture
def db(hub: RunningHub) -> Iterator[hubdb.Database]:
    d = hubdb.Database(hub.db)
    yield d
    d.dispose()


@pytest.fixture
def station(hub: RunningHub) -> SignedStation:
    st = SignedStation(hub.url)
    r = st.enrol(make_code(hub.db))
    assert r.status_code == 200, r.text
    assert st.station.startswith("st_")
    return st


def stored(db: hubdb.Database, station: str) -> int:
    with db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(hubdb.events)
                                .where(hubdb.events.c.station_id == station)).scalar_one())


# -- enrolment -----------------------------------------------------------------

def test_a_code_enrols_once(hub: RunningHub) -> None:
    code = make_code(hub.db)
    a, b = SignedStation(hub.url), SignedStation(hub.url)
    assert a.enrol(code).status_code == 200
    r = b.enrol(code)
    assert r.status_code == 400
    assert "already used" in r.json()["detail"]


def test_unknown_and_expired_codes_are_refused(hub: RunningHub) -> None:
    st = SignedStation(hub.url)
    r = st.enrol("AAAA-BBBB-CCCC-DDDD")
    assert r.status_code == 400 and "not known" in r.json()["detail"]
    r = st.enrol(make_code(hub.db, ttl=-1))
    assert r.status_code == 400 and "expired" in r.json()["detail"]


def test_codes_are_forgiving_to_type(hub: RunningHub) -> None:
    code = make_code(hub.db)
    st = SignedStation(hub.url)
    assert st.enrol(code.lower().replace("-", " ")).status_code == 200


def test_only_a_hash_of_a_code_is_kept(hub: RunningHub, db: hubdb.Database) -> None:
    code = make_code(hub.db)
    with db.read() as conn:
        hashes = [r[0] for r in conn.execute(select(hubdb.enrol_codes.c.code_hash))]
    assert code not in hashes and all(len(h) == 64 for h in hashes)


# -- authentication ------------------------------------------------------------

def test_heartbeat_is_stored(station: SignedStation, db: hubdb.Database) -> None:
    r = station.heartbeat(scene="quiz_1", phase="session", session_active=True, fps=58.5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["config"]["closed_mode"] == "attract_only" and body["commands"] == 0
    assert float(r.headers[fleet.H_TIME.lower()]) == pytest.approx(time.time(), abs=5)
    with db.read() as conn:
        row = conn.execute(select(hubdb.stations).where(
            hubdb.stations.c.id == station.station)).mappings().one()
    assert row["heartbeat"]["scene"] == "quiz_1" and row["heartbeat"]["fps"] == 58.5
    assert row["last_seen"] == pytest.approx(time.time(), abs=5)


def test_unknown_station_is_401(hub: RunningHub) -> None:
    ghost = SignedStation(hub.url, station="st_000000000000")
    r = ghost.heartbeat()
    assert r.status_code == 401 and "unknown station" in r.json()["detail"]


def test_unsigned_request_is_401(hub: RunningHub) -> None:
    r = httpx.post(f"{hub.url}{fleet.API}/station/heartbeat", json={
        "boot": "b", "software": "x", "exhibit": "e", "version": "1", "uptime": 1,
        "outbox": 0})
    assert r.status_code == 401 and "not signed" in r.json()["detail"]


def test_a_station_cannot_speak_for_another(hub: RunningHub, station: SignedStation,
                                            db: hubdb.Database) -> None:
    other = SignedStation(hub.url)
    assert other.enrol(make_code(hub.db)).status_code == 200
    # A signs with its own key but claims to be B
    _req, r = station.signed("POST", f"{fleet.API}/station/events",
                             {"events": station.events(3)}, as_station=other.station)
    assert r.status_code == 401 and "signature" in r.json()["detail"]
    assert stored(db, other.station) == 0 and stored(db, station.station) == 0


def test_a_replayed_request_is_refused(station: SignedStation, db: hubdb.Database) -> None:
    req, r = station.signed("POST", f"{fleet.API}/station/events",
                            {"events": station.events(2)})
    assert r.status_code == 200
    again = station.send(req)
    assert again.status_code == 401 and "replay" in again.json()["detail"]
    assert stored(db, station.station) == 2


def test_an_altered_body_is_refused(station: SignedStation) -> None:
    req, _ = station.signed("POST", f"{fleet.API}/station/heartbeat", {
        "boot": "b", "software": "x", "exhibit": "e", "version": "1", "uptime": 1,
        "outbox": 0})
    tampered = httpx.Request("POST", req.url, headers={
        **{k: v for k, v in req.headers.items() if k.lower() != "content-length"},
        fleet.H_NONCE: secrets.token_hex(16)}, content=req.content.replace(b'"e"', b'"f"'))
    r = station.send(tampered)
    assert r.status_code == 401 and "signature" in r.json()["detail"]


def test_an_old_request_is_refused(station: SignedStation) -> None:
    _req, r = station.signed("POST", f"{fleet.API}/station/heartbeat", {
        "boot": "b", "software": "x", "exhibit": "e", "version": "1", "uptime": 1,
        "outbox": 0}, now=time.time() - 3600)
    assert r.status_code == 401 and "hub's clock" in r.json()["detail"]


def test_revoking_takes_effect_at_once(hub: RunningHub, station: SignedStation,
                                       db: hubdb.Database) -> None:
    assert station.heartbeat().status_code == 200
    with db.write() as conn:
        assert enrolment.revoke(conn, time.time(), station.station, "user:test")
    r = station.heartbeat()
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    assert station.upload(station.events(1)).status_code == 401


# -- events --------------------------------------------------------------------

def test_a_malformed_batch_names_the_event_and_stores_nothing(station: SignedStation,
                                                              db: hubdb.Database) -> None:
    evs = station.events(5)
    evs[3]["kind"] = "Not A Kind"
    r = station.upload(evs)
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert f"events[3] (id '{evs[3]['id']}')" in detail and "kind" in detail
    assert "nothing was stored" in detail
    assert stored(db, station.station) == 0


@pytest.mark.parametrize("bad", [
    {"events": "many"}, {"events": [{"id": "x"}]}, {"event": []}, [1, 2],
    {"events": [{}] * (fleet.MAX_BATCH + 1)},
])
def test_malformed_bodies_are_400(station: SignedStation, bad: object) -> None:
    _req, r = station.signed("POST", f"{fleet.API}/station/events", bad)
    assert r.status_code == 400, r.text
    assert r.json()["detail"]


def test_the_same_batch_twice_is_stored_once(station: SignedStation,
                                             db: hubdb.Database) -> None:
    evs = station.events(50)
    first = station.upload(evs)
    assert first.json() == {"stored": 50, "duplicates": 0, "ack": 50}
    second = station.upload(evs)  # signed anew: a retry, not a replay
    assert second.json() == {"stored": 0, "duplicates": 50, "ack": 50}
    mixed = station.upload(evs[25:] + station.events(10))
    assert mixed.json() == {"stored": 10, "duplicates": 25, "ack": 35}
    assert stored(db, station.station) == 60


def test_a_batch_is_stamped_when_it_is_written_not_when_it_came(station: SignedStation,
                                                                db: hubdb.Database) -> None:
    """``received`` is read inside the batch's write transaction: a batch that waited for
    the write lock is stamped after the wait. On SQLite the stamps then follow the order
    batches commit in, so the summaries look back only 2 s (hub/summaries.py)."""
    evs = station.events(3)
    with ThreadPoolExecutor(1) as pool:
        with db.write() as conn:  # what the hub's write waits for, held 1.5 s
            if not db.sqlite:  # the nonce the request spends first
                conn.exec_driver_sql("LOCK TABLE nonces IN EXCLUSIVE MODE")
            reply = pool.submit(station.upload, evs)
            time.sleep(1.5)
            released = time.time()
        r = reply.result(30)
    assert r.json() == {"stored": 3, "duplicates": 0, "ack": 3}
    ev = hubdb.events.c
    with db.read() as conn:
        got = [float(x) for (x,) in conn.execute(
            select(ev.received).where(ev.station_id == station.station)
            .where(ev.id.in_([e["id"] for e in evs])))]
    assert len(got) == 3
    assert min(got) >= released


def test_errors_in_events_become_the_last_error(station: SignedStation,
                                                db: hubdb.Database) -> None:
    evs = station.events(1, kind="error", data={"what": "asset", "path": "media/a.webm"})
    evs[0]["source"] = "station"
    assert station.upload(evs).status_code == 200
    with db.read() as conn:
        row = conn.execute(select(hubdb.stations.c.last_error).where(
            hubdb.stations.c.id == station.station)).one()
    assert row[0] == "asset: media/a.webm"


# -- commands ------------------------------------------------------------------

def queue(db: hubdb.Database, station: str, kind: str, args: dict[str, object] | None = None,
          ttl: float = 600) -> int:
    with db.write() as conn:
        return cmds.queue(conn, time.time(), station, kind, args or {}, "user:test", ttl)


def test_a_command_reaches_a_waiting_station_within_2_s(station: SignedStation,
                                                        db: hubdb.Database) -> None:
    got: dict[str, object] = {}

    def poll() -> None:
        t0 = time.monotonic()
        r = station.commands(wait=10)
        got["response"], got["at"] = r, time.monotonic() - t0

    th = threading.Thread(target=poll)
    th.start()
    time.sleep(0.5)  # the poll is waiting now
    made = time.monotonic()
    cid = queue(db, station.station, "message", {"text": {"en": "Closing soon"}, "seconds": 60})
    th.join(15)
    r = got["response"]
    assert isinstance(r, httpx.Response) and r.status_code == 200
    cmd = r.json()["commands"]
    assert [c["id"] for c in cmd] == [cid]
    assert cmd[0]["args"] == {"text": {"en": "Closing soon"}, "seconds": 60.0}
    assert time.monotonic() - made < 2.0
    assert station.ack(cid, True, "shown").status_code == 200
    with db.read() as conn:
        row = conn.execute(select(hubdb.commands).where(hubdb.commands.c.id == cid)
                           ).mappings().one()
        trail = [a["action"] for a in conn.execute(
            select(hubdb.audit.c.action).where(hubdb.audit.c.target == station.station)
            .order_by(hubdb.audit.c.id)).mappings()]
    assert row["state"] == "done" and row["result"] == "shown"
    assert trail[-2:] == ["command.message", "command.done"]


def _raw_poll(hub: RunningHub, station: SignedStation, wait: float) -> socket.socket:
    """A long poll sent over a bare socket, so a test can abandon it as a dead link would."""
    path = f"{fleet.API}/station/commands?wait={wait:g}"
    headers = station.key.headers(station.station, "GET", path, b"", time.time())
    sock = socket.create_connection(("127.0.0.1", hub.port), timeout=30)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}\r\n".encode())
    return sock


def _state_of(db: hubdb.Database, cid: int) -> str:
    with db.read() as conn:
        return str(conn.execute(select(hubdb.commands.c.state)
                                .where(hubdb.commands.c.id == cid)).scalar_one())


def test_a_new_poll_takes_over_from_one_left_hanging(hub: RunningHub, station: SignedStation,
                                                     db: hubdb.Database) -> None:
    """A link that died without a word leaves its poll held; the next poll must win."""
    old = _raw_poll(hub, station, 20)
    time.sleep(0.5)
    got: dict[str, httpx.Response] = {}
    th = threading.Thread(target=lambda: got.update(r=station.commands(wait=10)))
    th.start()
    # the old poll stands down at once, with nothing in it
    old.settimeout(3)
    answer = b""
    while b'"commands"' not in answer and (chunk := old.recv(65536)):
        answer += chunk
    old.close()
    assert answer.startswith(b"HTTP/1.1 200") and b'"commands":[]' in answer
    made = time.monotonic()
    cid = queue(db, station.station, "attract")
    th.join(15)
    assert [c["id"] for c in got["r"].json()["commands"]] == [cid]
    assert time.monotonic() - made < 2.0


def test_a_poll_whose_station_hung_up_takes_nothing(hub: RunningHub, station: SignedStation,
                                                    db: hubdb.Database) -> None:
    gone = _raw_poll(hub, station, 20)
    time.sleep(0.5)
    gone.close()  # the station restarted: its poll is still held at the hub
    time.sleep(0.3)
    cid = queue(db, station.station, "attract")
    time.sleep(1.5)  # long enough for the held poll to be woken
    assert _state_of(db, cid) == "queued"  # not handed to a dead connection
    assert [c["id"] for c in station.commands().json()["commands"]] == [cid]


def test_commands_wait_for_an_offline_station_until_they_expire(station: SignedStation,
                                                                db: hubdb.Database) -> None:
    keep = queue(db, station.station, "attract_only", {"on": True}, ttl=600)
    gone = queue(db, station.station, "reload", ttl=0.5)
    time.sleep(0.6)
    hb = station.heartbeat()
    assert hb.json()["commands"] == 1
    r = station.commands()
    assert [c["id"] for c in r.json()["commands"]] == [keep]
    assert station.commands().json()["commands"] == []  # delivered once
    with db.write() as conn:
        cmds.expire(conn, time.time())
        state = dict(conn.execute(select(hubdb.commands.c.id, hubdb.commands.c.state)).all())
    assert state[gone] == "expired" and state[keep] == "delivered"


def test_a_station_cannot_ack_another_stations_command(hub: RunningHub,
                                                       station: SignedStation,
                                                       db: hubdb.Database) -> None:
    other = SignedStation(hub.url)
    assert other.enrol(make_code(hub.db)).status_code == 200
    cid = queue(db, other.station, "attract")
    assert station.ack(cid).status_code == 404


@pytest.mark.parametrize(("kind", "args", "words"), [
    ("explode", {}, "not a command"),
    ("language", {}, "lang"),
    ("message", {"text": ""}, "text"),
    ("message", {"text": {"en": "x" * 501}}, "500"),
    ("message", {"text": "hi", "seconds": 0}, "seconds"),
    ("attract_only", {"on": "yes"}, "true or false"),
])
def test_bad_commands_are_refused_by_name(station: SignedStation, db: hubdb.Database,
                                          kind: str, args: dict[str, object],
                                          words: str) -> None:
    from showfloor.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        queue(db, station.station, kind, args)


# -- the schema ----------------------------------------------------------------

def test_migrations_match_the_tables(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = hubdb.Database(db_url)
    try:
        hubdb.upgrade(db)
        hubdb.upgrade(db)  # twice: nothing to do the second time
        with db.read() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), hubdb.metadata)
        assert diff == []
    finally:
        db.dispose()


def test_a_database_that_cannot_be_reached_is_one_sentence(cli: Cli) -> None:
    r = cli("hub", "--db", "postgresql://nobody@127.0.0.1:1/none", "--port",
            str(free_port()))
    assert r.returncode == 2
    assert "cannot reach the hub database" in r.stderr and "Traceback" not in r.stderr


def test_two_hubs_share_one_postgresql(pg_url: str) -> None:
    a, b = start_hub(pg_url), start_hub(pg_url)
    try:
        st = SignedStation(a.url)
        assert st.enrol(make_code(pg_url)).status_code == 200
        st.base = b.url  # the same station, now talking to the other hub
        assert st.heartbeat().status_code == 200
        req, r = st.signed("POST", f"{fleet.API}/station/events", {"events": st.events(5)})
        assert r.status_code == 200
        st.base = a.url
        replay = st.send(httpx.Request("POST", f"{a.url}{req.url.path}",
                                       headers=req.headers, content=req.content))
        assert replay.status_code == 401  # hub A knows hub B's nonce

        db = hubdb.Database(pg_url)
        got: dict[str, object] = {}
        th = threading.Thread(target=lambda: got.update(r=st.commands(wait=10)))
        th.start()
        time.sleep(0.5)  # waiting on hub A; the command is made through B's database
        t0 = time.monotonic()
        with db.write() as conn:
            cid = cmds.queue(conn, time.time(), st.station, "attract", {}, "user:test", 60)
        th.join(15)
        resp = got["r"]
        assert isinstance(resp, httpx.Response)
        assert [c["id"] for c in resp.json()["commands"]] == [cid]
        assert time.monotonic() - t0 < 2.0
        assert stored(db, st.station) == 5
        db.dispose()
    finally:
        a.stop()
        b.stop()
