"""Real station processes on loopback, and a small WebSocket client for them."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from websockets.sync.client import ClientConnection, connect

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "drug-prevention"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until(what: str, test: Callable[[], T], timeout: float = 20, every: float = 0.05) -> T:
    """Poll ``test`` until it returns something true, and return that; fail naming ``what``
    after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while True:
        got = test()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


def copy_data(src: Path, dest: Path) -> None:
    """Copy a station's data folder keeping its symbolic links and its hard links (a
    content store's version folders link their files to objects/)."""
    seen: dict[int, str] = {}
    for dirpath, dirnames, filenames in os.walk(src):
        rel = os.path.relpath(dirpath, src)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for n in dirnames + filenames:
            s, d = os.path.join(dirpath, n), os.path.join(dest, rel, n)
            st = os.lstat(s)
            if os.path.islink(s):
                os.symlink(os.readlink(s), d)
            elif n in filenames:
                if st.st_ino in seen:
                    os.link(seen[st.st_ino], d)
                else:
                    shutil.copy2(s, d)
                    seen[st.st_ino] = d


def run_killed(work: Callable[[], object], step: int | None) -> int:
    """Run ``work`` in a forked child that dies by SIGKILL at its ``step``-th change to the
    file system (the content store's ``STEP`` hook; None: no such kill). Returns the
    child's wait status. The child never returns into pytest."""
    from showfloor.station import content_store

    pid = os.fork()
    if pid == 0:
        try:
            steps = 0

            def count(what: str) -> None:
                nonlocal steps
                steps += 1
                if steps == step:
                    os.kill(os.getpid(), signal.SIGKILL)

            content_store.STEP = count
            work()
        finally:
            os._exit(3)
    return os.waitpid(pid, 0)[1]


@dataclass
class Running:
    """A showfloor server process (station or hub) on a loopback port."""

    proc: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/healthz", timeout=5)
        r.raise_for_status()
        return dict(r.json())

    def stop(self, sig: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            out, err = self.proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return (out or "") + (err or "")

    def wait_up(self, what: str, seconds: float = 30) -> None:
        """Until /healthz answers; raise with the process's output if it exits first."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{what} exited: {self.stop()}")
            try:
                self.health()
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{what} did not come up in {seconds:g} s")


def spawn(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``python -m showfloor ARGS`` in the background, output captured."""
    return subprocess.Popen([sys.executable, "-m", "showfloor", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


@dataclass
class RunningStation(Running):
    data: Path = Path()


def start_station(*args: str | Path, data: Path, port: int | None = None,
                  env: dict[str, str] | None = None, command: str = "station"
                  ) -> RunningStation:
    port = port or free_port()
    extra = ["--data", str(data)] if command == "station" else []
    proc = spawn(command, *args, "--port", str(port), *extra, env=env)
    st = RunningStation(proc, port, data)
    st.wait_up("station")
    return st


@dataclass
class Page:
    """A protocol client standing in for a browser page."""

    ws: ClientConnection
    seq: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)

    def send(self, kind: str, **body: Any) -> int:
        self.seq += 1
        self.ws.send(json.dumps({"v": 1, "seq": self.seq, "type": kind, **body}))
        return self.seq

    def raw(self, text: str) -> None:
        self.ws.send(text)

    def recv(self, timeout: float = 5) -> dict[str, Any]:
        msg = dict(json.loads(self.ws.recv(timeout=timeout)))
        self.log.append(msg)
        return msg

    def until(self, kind: str, timeout: float = 5) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.01, end - time.monotonic()))
            if msg["type"] == kind:
                return msg

    def input(self, mark: str | None = None, **inp: Any) -> int:
        return self.send("input", input=inp, mark=mark)

    def hello(self, surface: str = "main") -> tuple[dict[str, Any], dict[str, Any]]:
        self.send("hello", surface=surface)
        welcome = self.until("welcome")
        view = self.until("view")
        return welcome, view

    def close(self) -> None:
        self.ws.close()


def open_page(st: RunningStation) -> Page:
    client = connect(f"ws://127.0.0.1:{st.port}/ws", open_timeout=10)
    return Page(client.__enter__())
