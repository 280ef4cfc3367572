"""``showfloor hall``: the README's demo — a hub and every station of the demo, live."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from showfloor.hub import commands as cmds
from showfloor.hub import db as hubdb
from station._support import DEMO, free_port


def free_run(n: int) -> int:
    """The first of ``n`` consecutive free ports, below the ephemeral range (so a
    client connection elsewhere in the run cannot be holding one of them)."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 30_000)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
        return base
    return free_port()


def start_hall(data: Path, *, new_session: bool = False) -> tuple[subprocess.Popen[str], int, str]:
    """``showfloor hall`` on the demo, on a free run of ports, data in ``data``.

    Returns the process, its first port and what it printed up to "stop: Ctrl+C"
    (or all it printed before it gave up or 120 s passed). ``new_session`` puts it in
    a process group of its own, as a terminal's foreground job, so that Ctrl+C can
    be sent to the group.
    """
    port = free_run(len(list((DEMO / "stations").glob("*.yaml"))) + 1)
    proc = subprocess.Popen([sys.executable, "-m", "showfloor", "hall", str(DEMO), "--port",
                             str(port), "--data", str(data)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env={**os.environ},
                            start_new_session=new_session)
    assert proc.stdout is not None
    out = ""
    deadline = time.monotonic() + 120
    while "stop: Ctrl+C" not in out and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out += line
    return proc, port, out


def test_the_demo_hall_comes_up_enrolled_and_live(tmp_path: Path) -> None:
    data = tmp_path / "hall"
    proc, port, out = start_hall(data)
    deadline = time.monotonic() + 120
    try:
        assert "enrolled and live" in out, out
        password = re.search(r"user admin, password (\S+)\)", out)
        assert password is not None
        profiles = sorted(p.stem for p in (DEMO / "stations").glob("*.yaml"))
        db = hubdb.Database(f"sqlite:///{data / 'hub.sqlite'}")

        def beating() -> dict[str, str]:
            with db.read() as conn:
                return {r.profile: r.id for r in conn.execute(
                    select(hubdb.stations.c.profile, hubdb.stations.c.id)
                    .where(hubdb.stations.c.last_seen.is_not(None)))}

        while len(beating()) < len(profiles) and time.monotonic() < deadline:
            time.sleep(0.5)
        live = beating()
        assert len(live) == len(profiles)

        # the printed password opens the dashboard, which lists every station
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", follow_redirects=True) as c:
            form = c.get("/login").text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None
            page = c.post("/login", data={"username": "admin", "password": password.group(1),
                                          "csrf": token.group(1)})
            assert page.status_code == 200
            fleet = c.get("/dashboard/api/fleet").json()
        states = {s["profile"]: s["state"] for h in fleet for s in h["stations"]}
        assert set(states) == set(live) and set(states.values()) <= {"online", "unused"}

        # a station told to restart exits with 75 and the hall starts it again
        sid = next(iter(live.values()))
        with db.write() as conn:
            cid = cmds.queue(conn, time.time(), sid, "restart", {}, "user:test", 60)

        def restarted() -> bool:
            with db.read() as conn:
                state = conn.execute(select(hubdb.commands.c.state)
                                     .where(hubdb.commands.c.id == cid)).scalar_one()
            return state == "done" and "restarting" in out

        while not restarted() and time.monotonic() < deadline:
            line = proc.stdout.readline()
            out += line
        assert restarted(), out
        db.dispose()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
