"""The station as a process: ports, the event log across restarts and kills, systemd."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ._support import DEMO, free_port, open_page, start_station

ENV = {k: v for k, v in os.environ.items() if k != "SHOWFLOOR_DEBUG"}


def run(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "showfloor", *map(str, args)], env=ENV,
                          capture_output=True, text=True, timeout=timeout, check=False)


def play_a_visit(port: int) -> int:
    """Start, advance through the intro media, leave; return how many views came back."""
    from ._support import RunningStation

    page = open_page(RunningStation(None, port, Path()))  # type: ignore[arg-type]
    page.hello()
    views = 0
    page.input(type="start")
    page.until("view")
    views += 1
    for _ in range(3):
        page.input(type="advance")
        page.until("view")
        views += 1
    page.input(type="language", lang="en")
    page.until("view")
    page.close()
    return views + 1


def test_a_second_station_on_a_busy_port_gets_one_plain_sentence(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run("station", DEMO, "--port", str(port), "--data", tmp_path)
    assert r.returncode != 0
    assert f"port {port}" in r.stderr and "already in use" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_a_broken_exhibit_is_refused_with_its_errors(tmp_path: Path) -> None:
    broken = tmp_path / "ex"
    shutil.copytree(DEMO, broken, ignore=shutil.ignore_patterns("media"))
    r = run("station", broken, "--port", str(free_port()), "--data", tmp_path / "d")
    assert r.returncode != 0
    assert "error" in r.stderr and "missing" not in r.stdout
    assert "does not exist" in r.stderr  # the missing media, by file:line
    assert "Traceback" not in r.stderr


def test_events_survive_a_restart_and_replay_to_the_same_views(tmp_path: Path) -> None:
    data = tmp_path / "data"
    st = start_station(DEMO, data=data)
    play_a_visit(st.port)
    st.stop()
    st2 = start_station(DEMO, data=data)
    play_a_visit(st2.port)
    st2.stop()
    boots = [json.loads(line) for line in run("events", data, "--boots").stdout.splitlines()]
    assert len(boots) == 2
    for boot in boots:
        log = tmp_path / f"{boot['boot']}.jsonl"
        out = run("events", data, "--boot", boot["boot"])
        assert out.returncode == 0, out.stderr
        log.write_text(out.stdout, encoding="utf-8")
        kinds = [json.loads(line)["kind"] for line in out.stdout.splitlines()]
        assert kinds[0] == "engine_started" and "session_started" in kinds
        replay = run("replay", log)
        assert replay.returncode == 0, replay.stderr
        assert "views match" in replay.stdout


def test_kill_9_loses_no_committed_event_and_leaves_a_sound_log(tmp_path: Path) -> None:
    data = tmp_path / "data"
    st = start_station(DEMO, data=data)
    play_a_visit(st.port)
    # wait until the station says everything it recorded is written
    deadline = time.monotonic() + 10
    written = -1
    while time.monotonic() < deadline:
        now = st.health()["events_written"]
        if now == written:
            break
        written = now
        time.sleep(0.3)
    st.stop(signal.SIGKILL)
    con = sqlite3.connect(data / "events.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    stored = con.execute("SELECT count(*) FROM events").fetchone()[0]
    assert stored == written
    kinds = {k for (k,) in con.execute("SELECT DISTINCT kind FROM events")}
    assert {"engine_started", "session_started", "scene_entered", "view", "input"} <= kinds
    # nothing about the visitor but an anonymous id
    sessions = {s for (s,) in con.execute("SELECT DISTINCT session FROM events") if s}
    assert len(sessions) == 1 and len(next(iter(sessions))) == 32
    con.close()


def test_asset_problems_from_a_page_are_recorded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    st = start_station(DEMO, data=data)
    page = open_page(st)
    page.hello()
    page.send("problem", what="asset", path="/exhibit/media/gone.png", detail="404")
    page.send("metrics", frames=600, p50=16.6, p99=21.0)
    page.input(type="start")
    page.until("view")
    assert st.health()["asset_errors"] == 1
    page.close()
    st.stop()
    con = sqlite3.connect(data / "events.sqlite")
    rows = con.execute("SELECT kind, data FROM events WHERE source = 'station'").fetchall()
    kinds = [k for k, _ in rows]
    assert "error" in kinds and "surface_metrics" in kinds and "surface_joined" in kinds
    err = json.loads(next(d for k, d in rows if k == "error"))
    assert err["what"] == "asset" and err["path"] == "/exhibit/media/gone.png"


def test_the_station_tells_systemd_it_is_ready_and_alive(tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(sock_path))
        sock.settimeout(15)
        st = start_station(DEMO, data=tmp_path / "d", env={"NOTIFY_SOCKET": str(sock_path)})
        try:
            got = set()
            deadline = time.monotonic() + 15
            while {"READY=1", "WATCHDOG=1"} - got and time.monotonic() < deadline:
                got.add(sock.recv(256).decode())
            assert {"READY=1", "WATCHDOG=1"} <= got
        finally:
            st.stop()


def test_kiosk_prints_a_locked_down_chromium(tmp_path: Path) -> None:
    r = run("kiosk", "--profile", DEMO / "stations" / "projector.yaml", "--surface", "wall",
            "--browser", "/usr/bin/chromium")
    assert r.returncode == 0, r.stderr
    line = r.stdout.strip()
    for flag in ("--kiosk", "--disable-pinch", "--overscroll-history-navigation=0",
                 "--block-new-web-contents", "--noerrdialogs", "--incognito",
                 "--disable-session-crashed-bubble", "--autoplay-policy=no-user-gesture-required"):
        assert flag in line
    assert "http://localhost:8700/?surface=wall&cursor=0" in line
    policy = json.loads(run("kiosk", "--policy").stdout)
    assert policy["PrintingEnabled"] is False and policy["AllowFileSelectionDialogs"] is False
    # never "DeveloperToolsAvailability": 2, which refuses the kiosk supervisor's own
    # DevTools session too (--kiosk already refuses the DevTools window)
    assert "DeveloperToolsAvailability" not in policy
    # Chromium's URL filter format: scheme://host[:port][/path], a port is a number or left
    # out (every port); "localhost:*" is refused by Chromium, and then "*" blocks the exhibit
    assert policy["URLBlocklist"] == ["*", "chrome://*", "file://*"]
    assert set(policy["URLAllowlist"]) == {"http://localhost", "http://127.0.0.1"}
    for entry in policy["URLAllowlist"]:
        assert re.fullmatch(r"https?://[a-z0-9.\-]+(:\d{1,5})?(/\S*)?", entry), entry
    bad = run("kiosk", "--profile", DEMO / "stations" / "projector.yaml", "--surface", "x")
    assert bad.returncode != 0 and "no surface 'x'" in bad.stderr


def test_deploy_units_restart_and_feed_a_watchdog() -> None:
    root = Path(__file__).resolve().parents[2] / "deploy"
    station = (root / "showfloor-station@.service").read_text()
    assert "Type=notify" in station and "WatchdogSec=" in station
    assert "Restart=always" in station
    kiosk = (root / "showfloor-kiosk@.service").read_text()
    assert "showfloor kiosk" in kiosk and "Restart=always" in kiosk
