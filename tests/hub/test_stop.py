"""Stopping: Ctrl+C on a hub holding long polls, and on ``showfloor hall`` (``make demo``).

uvicorn waits for every open request before it stops; a held long poll kept
it waiting until its graceful timeout, which then cancelled the polls with
"Cancel N running task(s)" and a page of tracebacks each. Now the hub answers
its polls as soon as it is told to stop, the hall stops its stations before
the hub, and a stop is quick and quiet, with exit status 0 (a stop that was
asked for is not a failure; docs/cli.md).
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from hub._support import SignedStation, make_code, start_hub
from hub.test_hall import start_hall
from showfloor.hub import db as hubdb
from station._support import DEMO

#: a stop that waited for uvicorn's graceful timeout (3 s on the hub) takes longer than
#: this; a loaded test machine still stops well within it
QUICK = 3.0


def quiet(out: str) -> None:
    assert "Traceback" not in out, out
    assert not re.search(r"Cancel \d+ running task", out), out
    assert "ERROR" not in out, out


def test_ctrl_c_answers_the_held_long_polls_and_stops_at_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hub = start_hub(url)
    station = SignedStation(hub.url)
    assert station.enrol(make_code(url)).status_code == 200
    got: dict[str, httpx.Response] = {}
    poll = threading.Thread(target=lambda: got.update(r=station.commands(wait=25)))
    poll.start()
    time.sleep(1.0)  # the poll is held now
    assert "r" not in got
    t0 = time.monotonic()
    hub.proc.send_signal(signal.SIGINT)
    try:
        stdout, stderr = hub.proc.communicate(timeout=20)
    finally:
        hub.stop()  # only if it is still running
    took = time.monotonic() - t0
    out = stdout + stderr
    poll.join(10)
    # the poll was answered, with nothing in it (not cut off)
    assert got["r"].status_code == 200 and got["r"].json()["commands"] == []
    assert hub.proc.returncode == 0, out
    assert took < QUICK, f"the hub took {took:.1f} s to stop"
    quiet(out)


def test_ctrl_c_stops_the_whole_hall_quickly_and_quietly(tmp_path: Path) -> None:
    data = tmp_path / "hall"
    # a session of its own, as a terminal's foreground job: Ctrl+C signals its group
    proc, _port, out = start_hall(data, new_session=True)
    assert proc.stdout is not None
    try:
        deadline = time.monotonic() + 120
        assert "enrolled and live" in out, out
        db = hubdb.Database(f"sqlite:///{data / 'hub.sqlite'}")
        n = len(list((DEMO / "stations").glob("*.yaml")))
        try:
            while time.monotonic() < deadline:
                with db.read() as conn:
                    seen = conn.execute(select(hubdb.stations.c.id).where(
                        hubdb.stations.c.last_seen.is_not(None))).all()
                if len(seen) == n:
                    break
                time.sleep(0.5)
            assert len(seen) == n, out
        finally:
            db.dispose()
        time.sleep(2)  # every station's long poll is held at the hub now
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in the terminal does
        rest, _ = proc.communicate(timeout=30)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    out += rest
    assert proc.returncode == 0, out
    assert took < QUICK, f"the hall took {took:.1f} s to stop:\n{rest}"
    quiet(out)
    assert rest.strip() == "", rest  # nothing at all is said on the way out
    # and nothing of it is left running
    assert running(str(data)) == []


def running(word: str) -> list[str]:
    """The command lines of the processes that have ``word`` in theirs."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if word in args:
            found.append(args)
    return found
