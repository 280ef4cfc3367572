"""A headed X display (Xvfb) for the kiosk tests, and what a test can see and do on it.

Debian's ``xvfb``, ``xdotool`` and ``openbox`` (``make test`` installs them, see
scripts/ensure-kiosk-tools.sh). Everything started here runs in its own process
group and is killed with it; nothing outside the test's temporary folder is
written.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TOOLS = ("Xvfb", "xdotool", "xwininfo")
SCREEN = (1280, 800)


def need_tools(*extra: str) -> None:
    missing = [t for t in (*TOOLS, *extra) if shutil.which(t) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run 'make test' (it installs Debian's "
                    "xvfb, xdotool and openbox)")


def free_display() -> int:
    for n in range(90 + os.getpid() % 50, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :399")


def kill_group(proc: subprocess.Popen[bytes], grace: float = 5) -> None:
    """SIGTERM the process group of ``proc`` (started with a session of its own), then KILL."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


@contextlib.contextmanager
def xvfb(log: Path) -> Iterator[str]:
    """A fresh Xvfb screen of SCREEN; yields its DISPLAY (":N")."""
    for _ in range(3):
        n = free_display()
        with log.open("ab") as out:
            proc = subprocess.Popen(
                ["Xvfb", f":{n}", "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                 "-nolisten", "tcp", "-noreset"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{n}").exists() and X(f":{n}").ok():
                break
            time.sleep(0.05)
        if proc.poll() is None:
            break
    else:
        raise RuntimeError(f"Xvfb did not start: {log.read_text()[-500:]}")
    try:
        yield f":{n}"
    finally:
        kill_group(proc)


@dataclass
class X:
    """xdotool and xwininfo on one display."""

    display: str
    wm: bool = False  # a window manager runs (focus by activating)

    def run(self, *args: str, check: bool = False) -> str:
        r = subprocess.run(list(args), env={**os.environ, "DISPLAY": self.display},
                           capture_output=True, text=True, timeout=15)
        if check and r.returncode:
            raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def ok(self) -> bool:
        try:
            return subprocess.run(["xdpyinfo" if shutil.which("xdpyinfo") else "xwininfo",
                                   *([] if shutil.which("xdpyinfo") else ["-root"])],
                                  env={**os.environ, "DISPLAY": self.display},
                                  capture_output=True, timeout=5).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args)

    def windows(self, cls: str = "chromium") -> list[int]:
        """The visible windows of a WM_CLASS bigger than 20×20 px: the browser's windows
        and the dialogs it draws (GTK print and file dialogs have its class too)."""
        out = self.xdotool("search", "--onlyvisible", "--class", cls)
        shown = []
        for w in (int(w) for w in out.split()):
            with contextlib.suppress(KeyError, ValueError):
                _, _, width, height = self.geometry(w)
                if width > 20 and height > 20:
                    shown.append(w)
        return shown

    def name(self, window: int) -> str:
        return self.xdotool("getwindowname", str(window)).strip()

    def geometry(self, window: int) -> tuple[int, int, int, int]:
        out = self.xdotool("getwindowgeometry", "--shell", str(window))
        vals = dict(line.split("=", 1) for line in out.split())
        return int(vals["X"]), int(vals["Y"]), int(vals["WIDTH"]), int(vals["HEIGHT"])

    def focus(self, window: int) -> None:
        self.xdotool("windowactivate" if self.wm else "windowfocus", "--sync", str(window))

    def key(self, window: int, combo: str) -> None:
        self.focus(window)
        self.xdotool("key", "--clearmodifiers", combo)

    def click(self, window: int, x: int, y: int, button: int = 1) -> None:
        self.xdotool("mousemove", "--window", str(window), str(x), str(y), "click",
                     str(button))

    def drag(self, window: int, start: tuple[int, int], end: tuple[int, int]) -> None:
        """Press on ``start``, move in steps (so Chromium starts a drag), release on ``end``
        (window coordinates; ``end`` may lie outside the window)."""
        self.xdotool("mousemove", "--window", str(window), str(start[0]), str(start[1]),
                     "mousedown", "1")
        x0, y0, _, _ = self.geometry(window)
        for i in range(1, 11):
            x = start[0] + (end[0] - start[0]) * i // 10
            y = start[1] + (end[1] - start[1]) * i // 10
            self.xdotool("mousemove", str(x0 + x), str(y0 + y))
            time.sleep(0.03)
        time.sleep(0.1)
        self.xdotool("mouseup", "1")

    def park_pointer(self) -> None:
        self.xdotool("mousemove", str(SCREEN[0] - 1), str(SCREEN[1] - 1))


@dataclass
class Targets:
    """The browser's page targets from the DevTools HTTP listing (``/json/list``) of a
    loopback debugging port found in the browser's command line; None without one."""

    port: int | None = None
    pids: list[int] = field(default_factory=list)

    @staticmethod
    def find(launcher: int) -> Targets:
        """The debugging port of the Chromium that the process ``launcher`` started."""
        parents: dict[int, int] = {}
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    stat = (proc / "stat").read_text()
                    parents[int(proc.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        family, grew = {launcher}, True
        while grew:
            more = {pid for pid, ppid in parents.items() if ppid in family} - family
            family |= more
            grew = bool(more)
        pids = []
        for pid in sorted(family):
            try:
                args = [a.decode(errors="replace")
                        for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
            except OSError:
                continue
            if any(a.startswith("--type=") for a in args):
                continue
            for a in args:
                if a.startswith("--remote-debugging-port="):
                    pids.append(pid)
                    port = int(a.split("=", 1)[1]) or _active_port(args)
                    if port:
                        return Targets(port, pids)
        return Targets(None, pids)

    def pages(self) -> list[dict[str, str]] | None:
        if self.port is None:
            return None
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list",
                                        timeout=3) as r:
                listing = json.load(r)
        except OSError:
            return None
        # Chromium's own UI surfaces (the omnibox popup, ...) are WebUI pages on
        # chrome://*.top-chrome/, preloaded in no tab: not pages a visitor can reach
        return [t for t in listing if t.get("type") == "page"
                and ".top-chrome/" not in str(t.get("url", ""))]


def _active_port(args: list[str]) -> int | None:
    for a in args:
        if a.startswith("--user-data-dir="):
            f = Path(a.split("=", 1)[1]) / "DevToolsActivePort"
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(f.read_text().split()[0])
    return None
