"""The escape battery: a child at a real headed kiosk tries every way out.

A headed Debian Chromium under Xvfb (no window manager: the kiosk session runs
the browser alone), started by ``showfloor kiosk --launch`` exactly as the
systemd unit does, shows a station whose exhibit starts on an ``escape`` scene
(a test plug-in, tests/plugins/showfloor_plugin_escape). The test presses keys
and clicks through X (xdotool), and taps the scene's buttons that make the page
itself try to leave. After each attempt a kiosk that held shows exactly one
browser window and nothing else Chromium draws, exactly one page target on the
station's URL (read from the supervisor's DevTools listing when it has a port),
a station page that still answers a tap (its title counts the taps: a dialog,
another tab or another page would not answer), and a surface connected to the
station. A guard that puts things back in time (the page sent back, a closed
tab, a restarted browser) counts as held; the table says which.

The battery runs twice: the kiosk flags alone (the escapes are counted and
reported) and with the managed policy installed (no escapes). The policy is
installed only for the kiosk's own processes: ``unshare --mount`` binds a
temporary copy of /etc/chromium over /etc/chromium (root only; without it the
file goes into /etc/chromium/policies/managed for the run and is removed after).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from showfloor.errors import ShowfloorError
from showfloor.station import kiosk
from station._plugins import install
from station._support import ROOT, free_port

from ._xvfb import SCREEN, Targets, X, kill_group, need_tools, xvfb

PIC = ROOT / "tests" / "corpus" / "_valid" / "media" / "pic.png"
CHROMIUM = "/usr/bin/chromium"

EXHIBIT = """\
format: 1
id: escape-battery
version: 1.0.0
title: {zh-CN: 逃逸测试, en: Escape battery}
languages: [zh-CN, en]
default_language: zh-CN
attract: attract
start: board
idle: {timeout: 3600, countdown: 10}
scenes:
  - id: attract
    type: attract
    loop:
      - {image: media/pic.png, duration: 6}
    call: {zh-CN: 触摸开始, en: Touch to start}
  - id: board
    type: escape
    heading: {zh-CN: 试试离开, en: Try to get out}
    next: ending
  - id: ending
    type: end
    messages:
      - text: {zh-CN: 谢谢, en: Thank you}
"""

#: The escape scene's controls, in escape.js's order; slot i is centred at
#: (110 + (i % 5) * 200, 155 + (i // 5) * 90) in the window.
SLOTS = ["ping", "window_open", "location_file", "location_chrome", "location_blank",
         "print", "alert", "blank_link", "drag_link", "drag_image"]


def slot(name: str) -> tuple[int, int]:
    i = SLOTS.index(name)
    return 110 + (i % 5) * 200, 155 + (i // 5) * 90


KEYS = ["ctrl+n", "ctrl+t", "ctrl+shift+n", "ctrl+o", "ctrl+p", "ctrl+s", "ctrl+l", "ctrl+h",
        "ctrl+j", "ctrl+u", "F11", "F12", "ctrl+shift+i", "ctrl+shift+j", "ctrl+shift+c",
        "ctrl+shift+Delete", "alt+Left", "alt+Home", "Escape", "shift+Escape", "alt+F4",
        "ctrl+w", "ctrl+q", "ctrl+shift+w"]
MOUSE = ["right-click", "middle-click link", "drag link out", "drag link onto page",
         "drag image out", "drag image onto page"]
PAGE = ["window_open", "blank_link", "location_file", "location_chrome", "location_blank",
        "print", "alert"]
ATTEMPTS = KEYS + MOUSE + [f"page: {p}" for p in PAGE]


def write_plugin_site(site: Path) -> dict[str, str]:
    """The escape plug-in's entry point in a temporary site folder."""
    return install(site, "showfloor_plugin_escape", "escape = showfloor_plugin_escape:Escape")


@dataclass
class Station:
    proc: subprocess.Popen[bytes]
    port: int

    @property
    def surface_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/?surface=main"

    def connected(self) -> bool:
        """The station sees a connected page of surface main (/kiosk/state, else /healthz)."""
        base = f"http://127.0.0.1:{self.port}"
        try:
            r = httpx.get(f"{base}/kiosk/state", params={"surface": "main"}, timeout=3)
            if r.status_code == 200:
                return bool(r.json().get("connected"))
            return "main" in httpx.get(f"{base}/healthz", timeout=3).json().get("surfaces", [])
        except httpx.HTTPError:
            return False


@dataclass
class Outcome:
    """One attempt's end: "held" (nothing happened), "put back" (a guard restored the
    station page in time: a tab closed, the page sent back or reloaded, the browser
    started again), "notice" (Chromium's own notice over the page, such as "DevTools not
    allowed", until Esc or a tap on OK: something else drawn over the exhibit, so an
    escape too), or "escaped"."""

    attempt: str
    verdict: str
    seen: str
    seconds: float  # from the attempt to the verdict

    @property
    def escaped(self) -> bool:
        return self.verdict in ("escaped", "notice")


class Kiosk:
    """``showfloor kiosk --launch`` on the Xvfb display, in its own process group."""

    def __init__(self, x: X, station: Station, tmp: Path, policy_root: Path | None) -> None:
        self.x, self.station, self.tmp, self.policy_root = x, station, tmp, policy_root
        self.proc: subprocess.Popen[bytes] | None = None
        self.window = 0
        self.targets = Targets()
        self.restarted = False  # during this attempt
        # The supervisor talks to the browser over a pipe only it holds; to count page
        # targets and read their URLs the test adds a loopback port it only lists (GET
        # /json/list, never attaching). The production kiosk has no port. As root,
        # Chromium needs --no-sandbox (the supervisor adds it too).
        wrapper = tmp / "chromium"
        sandbox = "--no-sandbox " if os.geteuid() == 0 else ""
        wrapper.write_text(f'#!/bin/sh\nexec {CHROMIUM} {sandbox}--remote-debugging-port=0 '
                           '"$@"\n')
        wrapper.chmod(0o755)
        self.browser = str(wrapper)

    def start(self) -> None:
        cmd = [sys.executable, "-m", "showfloor", "kiosk", "--launch", "--browser",
               self.browser, self.station.surface_url]
        if self.policy_root is not None:
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" /etc/chromium && exec "$@"', str(self.policy_root),
                   *cmd]
        with (self.tmp / "kiosk.log").open("ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True,
                                         env={**os.environ, "DISPLAY": self.x.display})
        self.window = 0
        self.on_board(60)

    def stop(self) -> None:
        if self.proc is not None:
            kill_group(self.proc)
            self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def on_board(self, seconds: float) -> None:
        """Wait for the browser window, touch the attract screen, until the board is up."""
        deadline = time.monotonic() + seconds
        touched = 0.0
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("the kiosk exited: "
                                   + (self.tmp / "kiosk.log").read_text()[-800:])
            wins = self.x.windows()
            if len(wins) == 1:
                self.window = wins[0]
                name = self.x.name(self.window)
                if name.startswith("escape-battery"):
                    assert self.proc is not None
                    self.targets = Targets.find(self.proc.pid)
                    self.x.park_pointer()
                    return
                if (self.station.connected() and time.monotonic() - touched > 1.5):
                    _, _, w, h = self.x.geometry(self.window)
                    self.x.click(self.window, w // 2, h // 2)
                    touched = time.monotonic()
            time.sleep(0.1)
        raise RuntimeError(f"the kiosk's board did not show in {seconds:g} s: windows "
                           f"{[self.x.name(w) for w in self.x.windows()]}")

    def answers(self, seconds: float = 1.5) -> bool:
        """Tap the ping button; the page counts the taps in its title."""
        name = self.x.name(self.window)
        if not name.startswith("escape-battery"):
            return False
        want = f"escape-battery {int(name.split()[1]) + 1}"
        self.x.click(self.window, *slot("ping"))
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if self.x.name(self.window).startswith(want):
                    return True
                time.sleep(0.05)
            return False
        finally:
            self.x.park_pointer()

    def state(self) -> tuple[str, str]:
        """("held" | "put back" | "notice" | "escaped", what was seen) right now."""
        if not self.alive():
            return "escaped", "the kiosk launcher exited"
        wins = self.x.windows()
        if len(wins) != 1:
            names = [self.x.name(w) or "(untitled)" for w in wins]
            return "escaped", f"{len(wins)} windows: {', '.join(names) or 'none'}"
        put_back = []
        assert self.proc is not None
        now = Targets.find(self.proc.pid)
        if now.pids != self.targets.pids:  # the supervisor started the browser again
            self.restarted = True
        if now.pids != self.targets.pids or self.targets.port is None:
            self.targets = now
        if self.restarted:
            put_back.append("browser restarted")
        self.window = wins[0]
        pages = self.targets.pages()
        if pages is not None:
            if len(pages) != 1:
                return "escaped", f"{len(pages)} page targets"
            if pages[0].get("url") != self.station.surface_url:
                return "escaped", f"the page is at {pages[0].get('url')}"
        name = self.x.name(self.window)
        if not name.startswith("escape-battery"):
            if not name.startswith("showfloor"):
                return "escaped", f"the window shows '{name}'"
            # the station page, started afresh on its attract screen: back to the board
            put_back.append("" if put_back else "page reloaded")
            try:
                self.on_board(15)
            except RuntimeError as err:
                return "escaped", str(err)
        if not self.answers():
            if not self.x.name(self.window).startswith("escape-battery"):
                return "escaped", "the page is reloading"  # settle() waits for it
            # something over the page: Chromium's own notice takes Escape (or a tap on OK)
            self.x.key(self.window, "Escape")
            if self.answers():
                return "notice", "a notice over the page until Esc or a tap on OK"
            return "escaped", "the page does not answer a tap"
        if not self.station.connected():
            return "escaped", "the station sees no page"
        return ("put back", ", ".join(p for p in put_back if p)) if put_back else ("held", "")

    def settle(self, first: float = 0.6, poll: float = 2.0) -> tuple[str, str]:
        """Give the attempt time to take effect, then poll for the kiosk to hold: 2 s, or
        up to 20 s while the browser is being started again or the page reloads."""
        self.restarted = False
        time.sleep(first)
        start = time.monotonic()
        while True:
            verdict = self.state()
            now = time.monotonic()
            if verdict[0] != "escaped":
                return verdict
            wins = self.x.windows()
            name = self.x.name(wins[0]) if len(wins) == 1 else ""
            coming_back = self.alive() and (not wins or name.startswith(
                ("Untitled", "showfloor", "127.0.0.1", "localhost")))
            if now - start > (20 if coming_back else poll):
                return verdict
            time.sleep(0.2)

    def recover(self) -> None:
        """Back to one window on the board: close what else is open, else restart."""
        if self.alive():
            for w in self.x.windows():
                if w != self.window:
                    self.x.key(w, "Escape")
                    with contextlib.suppress(RuntimeError):
                        self.x.key(w, "ctrl+w")
            for combo in ("Escape", "alt+Left", "ctrl+w"):
                time.sleep(0.3)
                if self.x.windows() == [self.window] and self.answers():
                    return
                if self.window in self.x.windows():
                    self.x.key(self.window, combo)
            time.sleep(0.5)
            if self.alive() and self.x.windows() == [self.window] and self.answers():
                return
        self.restart()

    def attempt(self, name: str) -> None:
        x, w = self.x, self.window
        width, height = x.geometry(w)[2:]
        middle = (width // 2, height // 2 + 150)
        if name in KEYS:
            x.key(w, name)
        elif name == "right-click":
            x.click(w, *middle, button=3)
        elif name == "middle-click link":
            x.click(w, *slot("drag_link"), button=2)
        elif name.startswith("drag"):
            start = slot("drag_link" if "link" in name else "drag_image")
            end = (SCREEN[0] - 5, SCREEN[1] - 5) if name.endswith("out") else middle
            x.drag(w, start, end)
        else:
            page = name.removeprefix("page: ")
            x.click(w, *slot(page))
        x.park_pointer()


def battery(k: Kiosk, label: str) -> list[Outcome]:
    outcomes = []
    t0 = time.monotonic()
    for name in ATTEMPTS:
        t = time.monotonic()
        k.attempt(name)
        verdict, seen = k.settle()
        outcomes.append(Outcome(name, verdict, seen, time.monotonic() - t))
        if verdict == "escaped":
            k.recover()
    escaped = [o for o in outcomes if o.escaped]
    lines = [f"escape battery, {label}: {len(escaped)} of {len(outcomes)} attempts escaped "
             f"({time.monotonic() - t0:.0f} s)",
             f"  {'attempt':<24} {'escaped':<8} {'verdict':<9} {'s':>4}  what was seen"]
    lines += [f"  {o.attempt:<24} {'YES' if o.escaped else 'no':<8} "
              f"{o.verdict:<9} {o.seconds:4.1f}  {o.seen}" for o in outcomes]
    print("\n".join(lines))
    return outcomes


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[X, Station, Path]]:
    need_tools()
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium)")
    tmp = tmp_path_factory.mktemp("escape")
    ex = tmp / "exhibit"
    (ex / "media").mkdir(parents=True)
    shutil.copy(PIC, ex / "media" / "pic.png")
    (ex / "exhibit.yaml").write_text(EXHIBIT, encoding="utf-8")
    env = write_plugin_site(tmp / "site")
    port = free_port()
    with (tmp / "station.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "showfloor", "station", str(ex),
                                 "--port", str(port), "--data", str(tmp / "data")],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                                env={**os.environ, **env})
    station = Station(proc, port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the station did not start: "
                                       + (tmp / "station.log").read_text()[-800:]) from None
                time.sleep(0.1)
        with xvfb(tmp / "xvfb.log") as display:
            yield X(display), station, tmp
    finally:
        kill_group(proc)


@contextlib.contextmanager
def policy_installed(tmp: Path) -> Iterator[Path | None]:
    """Yields the folder to bind over /etc/chromium (None: the policy is in /etc itself
    for the run). Skips when neither can be done."""
    etc = tmp / "etc-chromium"
    if Path("/etc/chromium").is_dir():
        shutil.copytree("/etc/chromium", etc, symlinks=True)
    else:
        etc.mkdir()
    kiosk.install_policy(etc / "policies" / "managed")
    probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                            'mount --bind "$0" /etc/chromium', str(etc)],
                           capture_output=True, text=True) if shutil.which("unshare") and \
        Path("/etc/chromium").is_dir() else None
    if probe is not None and probe.returncode == 0:
        yield etc
        return
    # no private mount namespace: the file in /etc only while the battery runs
    real = Path("/etc/chromium/policies/managed/showfloor-test.json")
    made = [p for p in (real.parent.parent.parent, real.parent.parent, real.parent)
            if not p.exists()]
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        real.write_text(kiosk.policy_json())
    except OSError as err:
        pytest.skip(f"cannot install a Chromium policy for the test: no private mount "
                    f"namespace ({probe.stderr.strip() if probe else 'no unshare'}) and "
                    f"{real.parent} is not writable ({err.strerror})")
    try:
        yield None
    finally:
        real.unlink(missing_ok=True)
        for p in reversed(made):
            with contextlib.suppress(OSError):
                p.rmdir()


def fills_the_screen(k: Kiosk) -> None:
    """With no window manager the supervisor sizes the window to the screen: Chromium's
    default is 1050×780. (Chromium takes one pixel off each way from a window of exactly
    the screen's size, so the supervisor asks for one row more: its last row lies under
    the screen's bottom edge.)"""
    x, y, w, h = k.x.geometry(k.window)
    assert (x, y, w) == (0, 0, SCREEN[0]) and h in (SCREEN[1], SCREEN[1] + 1), \
        f"the kiosk window is {w}×{h} at {x},{y} on a {SCREEN[0]}×{SCREEN[1]} screen"


def run_battery(rig: tuple[X, Station, Path], label: str, policy_root: Path | None
                ) -> list[Outcome]:
    x, station, tmp = rig
    run = tmp / label.replace(" ", "-")
    run.mkdir()
    k = Kiosk(x, station, run, policy_root)
    try:
        k.start()
        fills_the_screen(k)
        outcomes = battery(k, label)
        fills_the_screen(k)  # and after the restarts along the way
        return outcomes
    finally:
        k.stop()


def test_with_the_kiosk_flags_alone_escapes_are_counted(rig: tuple[X, Station, Path]
                                                        ) -> None:
    outcomes = run_battery(rig, "flags only", None)
    # measured, not a goal: the flags alone cannot stop these (see deploy/README.md)
    escaped = [o.attempt for o in outcomes if o.escaped]
    assert len(outcomes) == len(ATTEMPTS)
    assert escaped, "the flags alone held against everything: is the battery still biting?"


def test_with_the_managed_policy_nothing_escapes(rig: tuple[X, Station, Path]) -> None:
    _, _, tmp = rig
    with policy_installed(tmp) as root:
        outcomes = run_battery(rig, "with policy", root)
    escaped = [f"{o.attempt} ({o.verdict}: {o.seen})" for o in outcomes if o.escaped]
    assert not escaped, f"{len(escaped)} escapes with the policy: {escaped}"


def test_policy_install_writes_the_file_atomically(tmp_path: Path) -> None:
    where = tmp_path / "policies" / "managed"
    r = subprocess.run([sys.executable, "-m", "showfloor", "kiosk", "--policy", "--install",
                        "--policy-dir", str(where)], capture_output=True, text=True)
    target = where / "showfloor.json"
    assert r.returncode == 0 and str(target) in r.stdout
    assert json.loads(target.read_text()) == kiosk.POLICY
    assert target.stat().st_mode & 0o777 == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["showfloor.json"]
    (tmp_path / "file").write_text("")
    with pytest.raises(ShowfloorError, match="cannot write"):
        kiosk.install_policy(tmp_path / "file" / "managed")
    # (--install without --policy writes the systemd units: tests/test_wheel.py)


def test_policy_url_filter_lets_the_station_through() -> None:
    # Chromium's URL filter has no port wildcard: "http://localhost:*" is invalid, ignored,
    # and then "*" blocks the station page itself
    allow: list[str] = kiosk.POLICY["URLAllowlist"]
    assert all(":*" not in a and a.count(":") == 1 for a in allow)
    assert "*" in kiosk.POLICY["URLBlocklist"]

