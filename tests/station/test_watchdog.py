"""The watchdog and the start limit, as systemd applies them to showfloor-station@.service.

There is no systemd on the test machine (no bus, so neither a user instance nor
``systemd-run`` can run a unit), so the watchdog is proved with ``showfloor
hall``'s supervisor, which gives each station what systemd would (its own
``NOTIFY_SOCKET`` and ``WATCHDOG_USEC``) and acts as systemd does when the pings
stop: a real station process is SIGSTOPped and must be killed and replaced.
The station's side of the protocol is checked against a socket of the test's own.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest

from conftest import CORPUS
from hub.test_hall import free_run
from showfloor import hall
from showfloor.station.systemd import Notice, NotifySocket, Watchdog, parse, ping_period
from station._support import start_station

WATCHDOG = 3.0


# -- the notify protocol, without processes ---------------------------------------------

def test_the_ping_period_is_half_the_watchdog_interval_as_sd_notify_says() -> None:
    assert ping_period({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert ping_period({}) == 5.0  # not said: every 5 s
    assert ping_period({"WATCHDOG_USEC": "soon"}) == 5.0
    assert ping_period({"WATCHDOG_USEC": "0"}) == 5.0
    assert ping_period({"WATCHDOG_USEC": "1000"}) == 0.1  # no faster than the tick loop
    # WATCHDOG_PID names the process whose watchdog it is
    assert ping_period({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "42"}, pid=42) == 2.0
    assert ping_period({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "43"}, pid=42) is None

    now = [100.0]
    sent: list[str] = []
    dog = Watchdog(2.0, send=sent.append, clock=lambda: now[0])
    assert dog.feed() and sent == ["WATCHDOG=1"]  # at once, then once a period
    for step in (0.5, 0.5, 0.5):
        now[0] += step
        assert not dog.feed()
    now[0] += 0.5
    assert dog.feed() and len(sent) == 2
    assert not Watchdog(None, send=sent.append).feed()


def test_the_hall_hears_only_its_childs_own_messages(tmp_path: Path) -> None:
    assert parse(b"READY=1\nSTATUS=serving\nnonsense\n=x") == {"READY": "1",
                                                             "STATUS": "serving"}
    listener = NotifySocket(tmp_path / "n.sock")
    try:
        assert listener.receive() == []
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"READY=1\nSTATUS=up", str(listener.path))
            s.sendto(b"WATCHDOG=1", str(listener.path))
        got = listener.receive()
        # the kernel names the sender (SO_PASSCRED), as systemd's NotifyAccess=main needs
        assert got == [Notice({"READY": "1", "STATUS": "up"}, os.getpid()),
                       Notice({"WATCHDOG": "1"}, os.getpid())]
    finally:
        listener.close()
    assert not listener.path.exists()

    child = hall.Child("s1", [], "", watchdog=10.0, notify=cast(NotifySocket, object()))
    child.proc = cast(subprocess.Popen[bytes], types.SimpleNamespace(pid=500))
    child.started_at = child.last_ping = 0.0
    assert child.overdue(hall.START_TIMEOUT - 1) is None
    assert child.overdue(hall.START_TIMEOUT + 1) == (
        f"station s1 did not say it was ready within {hall.START_TIMEOUT:g} s")
    child.heard(Notice({"READY": "1"}, 501), 5.0)  # another process: not listened to
    assert not child.ready
    child.heard(Notice({"READY": "1"}, 500), 5.0)
    assert child.ready and child.overdue(14.9) is None
    assert child.overdue(15.1) == "station s1 stopped answering its watchdog for 10 s"
    child.heard(Notice({"WATCHDOG": "1"}, 500), 15.0)
    assert child.overdue(24.9) is None
    child.heard(Notice({"WATCHDOG": "trigger"}, 500), 16.0)
    assert child.overdue(16.0) is not None
    child.heard(Notice({"STOPPING": "1"}, 500), 17.0)  # stopping: no watchdog
    assert child.overdue(100.0) is None

    # the start limit: the fifth start within ten minutes is the last
    limited = hall.Child("s2", [], "")
    limited.starts = [0.0, 10.0, 20.0, 30.0]
    assert limited.may_start_again(40.0)
    limited.starts.append(40.0)
    assert not limited.may_start_again(50.0)
    assert limited.may_start_again(hall.START_LIMIT_INTERVAL + 0.5)  # the first has aged


# -- the station under systemd's rules ----------------------------------------------------

def test_a_station_says_ready_once_it_serves_pings_at_half_the_interval_and_says_stopping(
        tmp_path: Path) -> None:
    listener = NotifySocket(tmp_path / "notify.sock")
    st = start_station(CORPUS / "_valid", data=tmp_path / "d", env={
        "NOTIFY_SOCKET": str(listener.path), "WATCHDOG_USEC": "1000000"})
    try:
        heard: list[tuple[float, Notice]] = []

        def until(key: str, seconds: float = 15) -> float:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for n in listener.receive():
                    heard.append((time.monotonic(), n))
                for t, n in heard:
                    if key in n.fields:
                        return t
                time.sleep(0.02)
            pytest.fail(f"no {key} from the station; heard {[n for _, n in heard]}")

        until("READY")
        assert httpx.get(f"{st.url}/healthz", timeout=2).status_code == 200
        first = until("WATCHDOG")
        while time.monotonic() < first + 2.2:
            until("READY")  # reads on
        pings = [t for t, n in heard if n.fields.get("WATCHDOG") == "1" and t >= first]
        # WATCHDOG_USEC=1 s: a ping every 0.5 s (the old fixed 5 s would give one)
        assert 3 <= len(pings) <= 7, pings
        assert {n.pid for _, n in heard} == {st.proc.pid}
        assert not any("STOPPING" in n.fields for _, n in heard)
        st.proc.send_signal(signal.SIGTERM)
        until("STOPPING")
        # uvicorn ends by the signal it was sent, as systemd expects of a clean stop
        assert st.proc.wait(timeout=15) in (0, -signal.SIGTERM)
    finally:
        st.stop()
        listener.close()


# -- the hall's supervisor, with real processes ------------------------------------------
# One hall serves both tests (a hall takes a while to start): station wd-a (port + 1)
# runs, and wd-b (port + 2) finds its port taken by the test and fails at every start.

class Hall:
    """``showfloor hall`` on a small exhibit; its output read as it comes."""

    def __init__(self, exhibit: Path, data: Path, stations: int, watchdog: float,
                 taken: int) -> None:
        self.port = free_run(stations + 1)
        # station ``taken``'s port is held (bound and listening) before the hall starts
        self.blocker = socket.socket()
        self.blocker.bind(("127.0.0.1", self.port + taken))
        self.blocker.listen()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "showfloor", "hall", str(exhibit), "--port", str(self.port),
             "--data", str(data), "--watchdog", str(watchdog)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        #: when each line came (time.monotonic())
        self.times: list[float] = []
        #: the private folder of the stations' notify sockets, once known
        self.sockets: Path | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.times.append(time.monotonic())
            self.lines.append(line)

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.out:
            assert self.proc.poll() is None, f"the hall stopped: {self.out}"
            assert time.monotonic() < deadline, f"no {text!r} in: {self.out}"
            time.sleep(0.05)

    def station_pid(self, n: int) -> int | None:
        """The hall's child serving station ``n`` (1: the first profile), if one runs."""
        port = str(self.port + n).encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.proc.pid and b"station" in cmd and port in cmd:
                return int(entry.name)
        return None

    def healthy(self, n: int) -> bool:
        """``/healthz`` of the hub (0) or of station ``n`` answers."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.port + n}/healthz",
                             timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        self.blocker.close()


def small_exhibit(folder: Path, stations: list[str]) -> Path:
    shutil.copytree(CORPUS / "_valid", folder)
    (folder / "stations").mkdir()
    for sid in stations:
        (folder / "stations" / f"{sid}.yaml").write_text(
            f"station: {{id: {sid}, name: Test {sid}}}\nexhibit: ..\n"
            "surfaces:\n  - {id: main, role: kiosk}\n", "utf-8")
    return folder


@pytest.fixture(scope="module")
def a_hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    tmp = tmp_path_factory.mktemp("hall")
    h = Hall(small_exhibit(tmp / "ex", ["wd-a", "wd-b"]), tmp / "data", 2, WATCHDOG, taken=2)
    try:
        h.wait_for("stop: Ctrl+C")
        yield h
    finally:
        h.close()
    # Ctrl+C: every station stopped, the notify sockets' folder removed, exit 0
    assert h.proc.returncode == 0, h.out
    assert h.station_pid(1) is None and h.station_pid(2) is None
    assert h.sockets is None or not h.sockets.exists()


def _gone(pid: int) -> bool:
    """No such process, not even a zombie waiting to be reaped."""
    return not Path(f"/proc/{pid}").exists()


def test_a_stopped_station_is_killed_and_replaced_within_its_watchdog(a_hall: Hall) -> None:
    h = a_hall
    old = h.station_pid(1)
    assert old is not None and h.healthy(1)
    env = dict(line.split("=", 1) for line in
               Path(f"/proc/{old}/environ").read_text().split("\0") if "=" in line)
    assert env["WATCHDOG_USEC"] == "3000000"
    h.sockets = Path(env["NOTIFY_SOCKET"]).parent
    assert h.sockets.is_dir()
    restarts = h.out.count("stopped answering")
    os.kill(old, signal.SIGSTOP)
    stopped = time.monotonic()
    new: int | None = None
    while time.monotonic() < stopped + WATCHDOG + 30:
        new = h.station_pid(1)
        if new not in (None, old) and h.healthy(1):
            break
        time.sleep(0.05)
    took = time.monotonic() - stopped
    noticed = next((t for t, line in zip(h.times, h.lines, strict=False)
                    if "stopped answering" in line), stopped) - stopped
    print(f"SIGSTOP -> restart said {noticed:.2f} s, a new station answering /healthz "
          f"{took:.2f} s (watchdog {WATCHDOG:g} s)")
    assert new not in (None, old), h.out
    assert took < WATCHDOG + 15, h.out
    assert _gone(old)  # killed though stopped, and reaped
    assert "station wd-a stopped answering its watchdog for 3 s; restarting it" in h.out
    # the new one feeds its watchdog: still the same process a watchdog and a half on
    settle = time.monotonic() + WATCHDOG * 1.5
    while time.monotonic() < settle:
        assert h.station_pid(1) == new, h.out
        time.sleep(0.2)
    assert h.out.count("stopped answering") == restarts + 1
    assert h.proc.poll() is None


def test_a_station_that_keeps_failing_is_given_up_and_the_rest_run_on(a_hall: Hall) -> None:
    h = a_hall
    out = h.out
    # wd-b's port is taken: it stops at every start ("port … already in use", exit 2)
    assert out.count("station wd-b stopped (exit 2); restarting it") == \
        hall.START_LIMIT_BURST - 1, out
    assert ("station wd-b stopped (exit 2), and it has been started 5 times in 10 "
            "minutes: the hall gives up on it and leaves it stopped") in out
    assert "a hub and 1 station, enrolled and live" in out
    # the hub and the other station run on, and nothing starts wd-b again
    assert h.healthy(0) and h.healthy(1)
    assert h.station_pid(2) is None
    time.sleep(1)
    assert h.proc.poll() is None and h.station_pid(2) is None
    assert "station wd-a stopped (" not in h.out
