"""A real station process talking to a real hub process: store-and-forward, commands, hours.

Faults are real too: hubs and stations are killed with SIGKILL mid-upload, and
a station's log holds 50,000 events when its hub comes back.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from showfloor.engine.effects import Event
from showfloor.hub import commands as cmds
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment
from showfloor.station.store import EventStore
from station._support import DEMO, RunningStation, free_port, open_page, start_station

from ._support import RunningHub, make_code, start_hub

PROFILE = DEMO / "stations" / "touch.yaml"
FAST = ("--heartbeat", "1")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30, every: float = 0.1
             ) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s (last: {last!r})")


@pytest.fixture
def hub_db(db_url: str) -> str:
    """A fresh hub database, once on SQLite and once on PostgreSQL."""
    return db_url


def hub_count(url: str, station: str | None = None) -> int:
    db = hubdb.Database(url)
    try:
        with db.read() as conn:
            q = select(func.count()).select_from(hubdb.events)
            if station is not None:
                q = q.where(hubdb.events.c.station_id == station)
            return int(conn.execute(q).scalar_one())
    finally:
        db.dispose()


def station_rows(data: Path) -> tuple[int, int, set[str]]:
    """(all events, events not yet acknowledged, ids) in a station's own log."""
    con = sqlite3.connect(data / "events.sqlite")
    try:
        total = con.execute("SELECT count(*) FROM events").fetchone()[0]
        left = con.execute("SELECT count(*) FROM events WHERE uploaded = 0").fetchone()[0]
        ids = {r[0] for r in con.execute("SELECT id FROM events")}
    finally:
        con.close()
    return int(total), int(left), ids


def hub_ids(url: str, station: str) -> list[str]:
    db = hubdb.Database(url)
    try:
        with db.read() as conn:
            return [r[0] for r in conn.execute(select(hubdb.events.c.id)
                                               .where(hubdb.events.c.station_id == station))]
    finally:
        db.dispose()


def ident(data: Path) -> str:
    return str(json.loads((data / "hub.json").read_text())["station"])


def visit(st: RunningStation) -> None:
    """A short visit: touch to start, then leave it to the operator to end."""
    page = open_page(st)
    try:
        page.hello()
        page.input(type="start")
        page.until("view")
    finally:
        page.close()


def fill_log(data: Path, n: int) -> None:
    """A station log with ``n`` events written while its hub was away."""
    store = EventStore(data / "events.sqlite")
    store.register_boot("drug-prevention", "1", str(DEMO))
    for i in range(n):
        store.add(Event(i + 1, float(i), "scene_entered", "s" * 32, "intro", {"from": None}))
    assert store.flush(120)
    store.close()


def all_delivered(url: str, data: Path) -> Callable[[], bool]:
    def check() -> bool:
        total, left, _ = station_rows(data)
        return left == 0 and hub_count(url, ident(data)) == total
    return check


# -- a station joins its hub ---------------------------------------------------

def test_a_station_enrols_heartbeats_and_uploads(hub_db: str, tmp_path: Path) -> None:
    hub = start_hub(hub_db, None, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(hub_db), data=data)
    try:
        sid = ident(data)
        assert (data / "hub.key").stat().st_mode & 0o077 == 0  # the key is private

        def hb() -> dict[str, Any] | None:
            db = hubdb.Database(hub_db)
            try:
                with db.read() as conn:
                    row = conn.execute(select(hubdb.stations.c.heartbeat).where(
                        hubdb.stations.c.id == sid)).first()
            finally:
                db.dispose()
            return row[0] if row and row[0] else None

        first = wait_for("a heartbeat", hb)
        assert first["exhibit"] == "drug-prevention" and first["phase"] == "attract"
        assert first.get("kiosk") is None  # no kiosk supervisor has reported
        r = httpx.post(f"{st.url}/kiosk/report", json={
            "surface": "main", "event": "renderer_crashed", "reason": "oom", "rss_mb": 700})
        assert r.status_code == 204, r.text
        kiosk = wait_for("the kiosk summary at the hub", lambda: (hb() or {}).get("kiosk"))
        assert kiosk["counts"] == {"renderer_crashed": 1} and kiosk["rss_mb"] == 700
        assert kiosk["last"]["event"] == "renderer_crashed" and kiosk["fallback"] is False
        visit(st)
        beat = wait_for("a heartbeat in a visit", lambda: (h := hb()) and h["session_active"]
                        and h)
        assert beat["scene"] and beat["idle"] < 30
        wait_for("every event on the hub", all_delivered(hub_db, data))
        link = st.health()["hub"]
        assert link["station"] == sid and link["connected"] and link["uploaded"] > 0
        _total, _left, ids = station_rows(data)
        assert sorted(hub_ids(hub_db, sid)) == sorted(ids)
    finally:
        st.stop()
        hub.stop()
    # the identity is kept: the next start needs no code
    again = start_station(PROFILE, "--hub", hub.url, data=data)
    again.stop()


def test_starting_without_a_code_or_with_a_spent_one_is_one_sentence(
        tmp_path: Path, cli: Any) -> None:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hub = start_hub(url)
    try:
        r = cli("station", PROFILE, "--hub", hub.url, "--data", tmp_path / "a", "--port",
                str(free_port()))
        assert r.returncode == 2 and "not enrolled" in r.stderr and "--enrol" in r.stderr
        code = make_code(url)
        ok = start_station(PROFILE, "--hub", hub.url, "--enrol", code, data=tmp_path / "b")
        ok.stop()
        r = cli("station", PROFILE, "--hub", hub.url, "--enrol", code, "--data",
                tmp_path / "c", "--port", str(free_port()))
        assert r.returncode == 2 and "already used" in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        hub.stop()


# -- store and forward ---------------------------------------------------------

def test_hub_away_for_a_while_then_everything_arrives(hub_db: str, tmp_path: Path) -> None:

    port = free_port()
    hub = start_hub(hub_db, port, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(hub_db), data=data)
    try:
        hub.stop(signal.SIGKILL)
        visit(st)  # a visitor comes while the hub is down
        _total, left, _ = station_rows(data)
        assert left > 0
        hub = start_hub(hub_db, port, *FAST)
        wait_for("the backlog on the hub", all_delivered(hub_db, data), timeout=90)
    finally:
        st.stop()
        hub.stop()


def test_a_50000_event_backlog_arrives_in_bounded_batches(hub_db: str, tmp_path: Path
                                                         ) -> None:
    hub = start_hub(hub_db, None, *FAST)
    data = tmp_path / "station"
    code = make_code(hub_db)
    # enrol first (a station that was online once), then fill its log as if offline
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", code, data=data)
    st.stop()
    fill_log(data, 50_000)
    t0 = time.monotonic()
    st = start_station(PROFILE, "--hub", hub.url, data=data)
    try:
        wait_for("50,000 events on the hub", all_delivered(hub_db, data), timeout=240,
                 every=1)
        took = time.monotonic() - t0
        total, left, ids = station_rows(data)
        assert total >= 50_000 and left == 0
        sid = ident(data)
        got = hub_ids(hub_db, sid)
        assert len(got) == len(set(got)) == total and set(got) == ids
        print(f"50,000 events delivered in {took:.1f} s")
    finally:
        st.stop()
        hub.stop()


def test_the_hub_killed_mid_upload_stores_everything_once(hub_db: str, tmp_path: Path
                                                         ) -> None:

    port = free_port()
    hub = start_hub(hub_db, port, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(hub_db), data=data)
    st.stop()
    fill_log(data, 20_000)
    st = start_station(PROFILE, "--hub", hub.url, data=data)
    try:
        sid = ident(data)
        for _ in range(3):  # kill it while batches are on the wire, three times
            wait_for("an upload under way", lambda: hub_count(hub_db, sid) > 0, every=0.02)
            hub.stop(signal.SIGKILL)
            hub = start_hub(hub_db, port, *FAST)
        wait_for("all events on the hub", all_delivered(hub_db, data), timeout=120)
        got = hub_ids(hub_db, sid)
        assert len(got) == len(set(got)) == station_rows(data)[0]
    finally:
        st.stop()
        hub.stop()


def test_the_station_killed_mid_upload_loses_and_doubles_nothing(hub_db: str, tmp_path: Path
                                                                 ) -> None:
    hub = start_hub(hub_db, None, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(hub_db), data=data)
    st.stop()
    fill_log(data, 20_000)
    try:
        sid = ident(data)
        for _ in range(3):
            st = start_station(PROFILE, "--hub", hub.url, data=data)
            before = hub_count(hub_db, sid)
            wait_for("an upload under way", lambda b=before: hub_count(hub_db, sid) > b,
                     every=0.02)
            st.stop(signal.SIGKILL)
        st = start_station(PROFILE, "--hub", hub.url, data=data)
        wait_for("all events on the hub", all_delivered(hub_db, data), timeout=120)
        total, _left, ids = station_rows(data)
        got = hub_ids(hub_db, sid)
        assert len(got) == len(set(got)) == total and set(got) == ids
    finally:
        st.stop()
        hub.stop()


# -- commands and hours --------------------------------------------------------

@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[RunningHub, RunningStation, str]]:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hub = start_hub(url, None, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(url), data=data)
    yield hub, st, ident(data)
    st.stop()
    hub.stop()


def send(url: str, station: str, kind: str, args: dict[str, Any] | None = None) -> int:
    db = hubdb.Database(url)
    try:
        with db.write() as conn:
            return cmds.queue(conn, time.time(), station, kind, args or {}, "user:test", 600)
    finally:
        db.dispose()


def command_state(url: str, cid: int) -> tuple[str, str | None]:
    db = hubdb.Database(url)
    try:
        with db.read() as conn:
            row = conn.execute(select(hubdb.commands.c.state, hubdb.commands.c.result)
                               .where(hubdb.commands.c.id == cid)).one()
    finally:
        db.dispose()
    return str(row[0]), row[1]


def test_commands_are_carried_out_and_acknowledged(live: tuple[RunningHub, RunningStation,
                                                               str]) -> None:
    hub, st, sid = live
    wait_for("online", lambda: st.health().get("closed") is not None)
    visit(st)
    assert st.health()["phase"] == "session"
    t0 = time.monotonic()
    cid = send(hub.db, sid, "attract")
    wait_for("back in attract", lambda: st.health()["phase"] == "attract", timeout=5,
             every=0.02)
    assert time.monotonic() - t0 < 2.5  # made → carried out, with the long poll
    wait_for("acknowledged", lambda: command_state(hub.db, cid)[0] == "done")

    cid = send(hub.db, sid, "attract_only", {"on": True})
    wait_for("closed", lambda: st.health()["closed"] is True, timeout=5)
    wait_for("acknowledged", lambda: command_state(hub.db, cid)[0] == "done")
    send(hub.db, sid, "attract_only", {"on": False})
    wait_for("open again", lambda: st.health()["closed"] is False, timeout=5)

    cid = send(hub.db, sid, "language", {"lang": "en"})
    wait_for("English", lambda: st.health()["lang"] == "en", timeout=5)
    cid = send(hub.db, sid, "language", {"lang": "fr"})
    _state, result = wait_for("refused", lambda: (s := command_state(hub.db, cid))[0] ==
                             "failed" and s)
    assert "fr" in (result or "") and "zh-CN" in (result or "")

    cid = send(hub.db, sid, "message", {"text": {"en": "Closing in 10 minutes"},
                                        "seconds": 30})
    wait_for("shown", lambda: command_state(hub.db, cid) == ("done", "shown"))

    cid = send(hub.db, sid, "reload")
    wait_for("reloaded", lambda: command_state(hub.db, cid) == ("done", "reloaded"))

    # a final goes to a competition's host: this station hosts none, and says so
    cid = send(hub.db, sid, "final", {"final": 1, "competition": "class-quiz", "seed": 1,
                                      "start": time.time() + 60, "hub_now": time.time()})
    wait_for("refused", lambda: command_state(hub.db, cid) == (
        "failed", "this station hosts no competition (its profile has no competition:), so "
        "it cannot take part in a final"))

    cid = send(hub.db, sid, "restart")
    wait_for("the station exits asking for a restart", lambda: st.proc.poll() is not None,
             timeout=15)
    assert st.proc.returncode == 75
    assert command_state(hub.db, cid)[0] == "done"


def test_outside_opening_hours_the_station_closes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    db = hubdb.Database(url)
    hubdb.upgrade(db)
    now = time.gmtime()
    # open for one minute, twelve hours from now: closed now, whatever the time
    start = f"{(now.tm_hour + 12) % 24:02d}:00"
    end = f"{(now.tm_hour + 12) % 24:02d}:01"
    with db.write() as conn:
        enrolment.ensure_hall(conn, time.time(), "Test hall")
        enrolment.set_hours(conn, time.time(), "test", hall_id="test-hall",
                            opening_hours={"daily": f"{start}-{end}"}, timezone="UTC",
                            closed_mode="screen_off")
    db.dispose()
    hub = start_hub(url, None, *FAST)
    data = tmp_path / "station"
    st = start_station(PROFILE, "--hub", hub.url, "--enrol", make_code(url), data=data)
    try:
        wait_for("dark outside the hours", lambda: st.health()["screen"] == "off")
        cfg = json.loads((data / "hub-config.json").read_text())
        assert cfg["closed_mode"] == "screen_off"
        hub.stop()
        st.stop()
        # without its hub, the station still keeps its hours
        st = start_station(PROFILE, "--hub", hub.url, data=data)
        assert st.health()["screen"] == "off"
    finally:
        st.stop()
        hub.stop()
