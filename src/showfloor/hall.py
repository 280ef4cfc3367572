"""A whole hall on one machine: a hub and every station profile of an exhibit, enrolled.

``showfloor hall EXHIBIT`` is the quickest way to see a live fleet (the
README's demo), and a small hall's real set-up when one computer drives
several screens. It starts the hub, makes the hall and a first admin if
the database has none, enrols each station in ``EXHIBIT/stations/*.yaml``
with a fresh one-time code (only the first time: identities are kept in the
data folder), and keeps every process running: a station that asks for a
restart (exit status 75, the hub's ``restart`` command) or stops
unexpectedly is started again. It prints one address per surface of each
station. Ctrl+C (or ``SIGTERM``) stops the stations, then the hub — each in
its own process group, so the order is the hall's — and the hall exits 0.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from showfloor.errors import ShowfloorError
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment, users
from showfloor.station.profile import Surface, load_profile

RESTART = 75
#: a process that keeps failing faster than this is given up on
CRASH_WINDOW = 30.0


@dataclass
class Child:
    name: str
    args: list[str]
    url: str
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)
    given_up: bool = False

    def start(self) -> None:
        self.starts = [t for t in self.starts if time.monotonic() - t < CRASH_WINDOW]
        self.starts.append(time.monotonic())
        # a process group of its own: Ctrl+C in the terminal reaches the hall only, which
        # then stops the stations before the hub (a station whose hub went first would
        # say so while stopping)
        self.proc = subprocess.Popen([sys.executable, "-m", "showfloor", *self.args],
                                     stdout=subprocess.DEVNULL, process_group=0)


def _local_zone() -> str:
    tz = os.environ.get("TZ")
    if tz and "/" in tz:
        return tz.lstrip(":")
    with contextlib.suppress(OSError):
        text = Path("/etc/timezone").read_text().strip()
        if "/" in text:
            return text
    with contextlib.suppress(OSError):
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return "UTC"


def _wait_up(url: str, child: Child, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.proc is not None and child.proc.poll() is not None:
            raise ShowfloorError(f"{child.name} stopped at start (exit {child.proc.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise ShowfloorError(f"{child.name} did not answer on {url} within {seconds:g} s")


def surface_lines(station: str, url: str, surfaces: Sequence[Surface]) -> list[str]:
    """One line per surface of a station: its id, what it is for, and the page to open."""
    return [f"  {station:<20} {s.id:<10} {s.role:<8} {url}?surface={s.id}" for s in surfaces]


def run(exhibit: Path, *, port: int = 8700, data: Path, host: str = "127.0.0.1",
        hall_name: str = "Demo hall") -> None:
    """Run the hall until interrupted."""
    profiles = sorted((exhibit / "stations").glob("*.yaml"))
    if not profiles:
        raise ShowfloorError(f"{exhibit}/stations has no station profiles (*.yaml)")
    data.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(data / 'hub.sqlite').resolve()}"
    db = hubdb.Database(db_url)
    hubdb.upgrade(db)
    now = time.time()
    password_file = data / "admin-password.txt"
    with db.write() as conn:
        hall_id = enrolment.ensure_hall(conn, now, hall_name, timezone=_local_zone(),
                                        actor="hall")
        if not users.all_users(conn):
            password = secrets.token_urlsafe(12)
            users.create(conn, now, "admin", password, "admin", "hall")
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    hub_url = f"http://127.0.0.1:{port}"
    hub = Child("hub", ["hub", "--db", db_url, "--port", str(port), "--host", host],
                f"http://{shown}:{port}/")
    hub.start()
    children = [hub]
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP):  # the terminal closed: stop too
            signal.signal(signum, signal.default_int_handler)
        _wait_up(hub_url, hub)
        lines = []
        for i, path in enumerate(profiles, start=1):
            profile, problems = load_profile(path)
            if profile is None:
                raise ShowfloorError(f"{path}: {problems[0] if problems else 'not valid'}")
            sdata = data / "stations" / profile.station.id
            base = ["station", str(path), "--port", str(port + i), "--host", host,
                    "--data", str(sdata), "--hub", hub_url]
            args = list(base)
            if not (sdata / "hub.json").exists():
                with db.write() as conn:
                    code = enrolment.create_code(conn, time.time(), hall_id, "hall",
                                                 name=profile.station.name or
                                                 profile.station.id, ttl=600)
                args += ["--enrol", code]
            url = f"http://{shown}:{port + i}/"
            child = Child(profile.station.id, args, url)
            child.start()
            # the code is spent once it has enrolled: a restart must not reuse it
            child.args = base
            children.append(child)
            lines += surface_lines(profile.station.id, url, profile.surfaces)
        for child in children[1:]:
            _wait_up(child.url.replace(shown, "127.0.0.1").rstrip("/"), child)
        db.dispose()
        secret = password_file.read_text().strip() if password_file.exists() else "(yours)"
        print(f"\nshowfloor hall '{hall_name}': a hub and {len(children) - 1} stations, "
              "enrolled and live\n", flush=True)
        print(f"  {'dashboard':<41}{hub.url}   (user admin, password {secret})")
        print("\n".join(lines))
        print(f"\n  data: {data}   stop: Ctrl+C\n", flush=True)
        _supervise(children)
    finally:
        _stop(children)


def _supervise(children: list[Child]) -> None:
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    # a flag, not an exception: a signal must not land between starting a child and
    # remembering it
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    while not stopping:
        time.sleep(0.2)
        for child in children:
            proc = child.proc
            if proc is None or child.given_up or proc.poll() is None:
                continue
            if proc.returncode == RESTART:
                print(f"{child.name}: restarting (asked by the hub)", flush=True)
            elif len(child.starts) >= 5:
                print(f"{child.name} keeps stopping (exit {proc.returncode}); left stopped",
                      flush=True)
                child.given_up = True
                continue
            else:
                print(f"{child.name} stopped (exit {proc.returncode}); starting it again",
                      flush=True)
            child.start()


def _stop(children: list[Child]) -> None:
    """Stop the stations, then the hub (so no station asks a hub that is gone)."""
    for group in (children[1:], children[:1]):
        for child in group:
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        for child in group:
            if child.proc is not None:
                try:
                    child.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.proc.kill()
                    child.proc.wait()
