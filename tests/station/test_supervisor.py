"""The kiosk supervisor (``showfloor kiosk --launch``) against a real station and a real
headless Chromium: crash, hang, browser death, memory at an idle moment, the fallback,
and a SIGTERM that leaves nothing behind.

One station for the module (small limits in its profile); each test runs its own
supervisor, so crash counts start from zero. The page is crashed through CDP
(``Page.crash``) and hung with a real ``while (true) {}``, both from inside the
supervisor's own DevTools pipe through its test hooks (SIGUSR2, SIGUSR1), as no
other process can reach that pipe.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from showfloor.station.supervisor import (
    PROFILE_PREFIX,
    TEST_HOOKS,
    TEST_SCRIPT,
    browser_processes,
)

from ._support import RunningStation, open_page, start_station

pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(),
                                reason="needs Debian's Chromium")

HANG = 5  # kiosk.hang_seconds in the test profile (the page beats every 2 s)
PROFILE = """\
station: {{id: kiosk-test, name: kiosk supervisor test}}
exhibit: {exhibit}
display: touch
idle: {{timeout: 4, countdown: 0}}
surfaces:
  - {{id: main, role: kiosk}}
kiosk: {{hang_seconds: {hang}, memory_mb: 1, crash_limit: 1, crash_window_minutes: 1}}
"""


@pytest.fixture(scope="module")
def profile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kiosk")
    subprocess.run([sys.executable, "-m", "showfloor", "new", str(root / "exhibit")],
                   check=True, capture_output=True)
    path = root / "station.yaml"
    path.write_text(PROFILE.format(exhibit=root / "exhibit", hang=HANG))
    return path


@pytest.fixture(scope="module")
def station(profile: Path) -> Iterator[RunningStation]:
    st = start_station(profile, data=profile.parent / "data")
    yield st
    st.stop()


@dataclass
class Kiosk:
    """One ``showfloor kiosk --launch --headless`` process, its stderr in a file."""

    proc: subprocess.Popen[bytes]
    log: Path
    station: RunningStation

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def browser_pids(self) -> list[int]:
        return [int(p) for p in re.findall(r"the browser started \(pid (\d+)\)", self.text())]

    def state(self) -> dict[str, Any]:
        r = httpx.get(f"{self.station.url}/kiosk/state", params={"surface": "main"}, timeout=5)
        r.raise_for_status()
        return dict(r.json())

    def counts(self) -> dict[str, int]:
        return dict((self.station.health().get("kiosk") or {}).get("counts") or {})

    def until(self, what: str, test: Callable[[], Any], seconds: float = 20) -> float:
        """Poll ``test`` until true; the seconds it took (fails with the log)."""
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            if test():
                return time.monotonic() - start
            assert self.proc.poll() is None, f"the supervisor exited:\n{self.text()}"
            time.sleep(0.05)
        raise AssertionError(f"{what}: not within {seconds:g} s\n{self.text()}")

    def drawn(self, seconds: float = 30) -> float:
        return self.until("the station page connected", lambda: self.state()["connected"],
                          seconds)

    def stop(self) -> None:
        """SIGTERM, as systemctl stop sends: exit 0, no browser process, no profile."""
        pids = self.browser_pids()
        before = self.counts().get("supervisor_stopped", 0)
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        assert rc == 0, self.text()
        left = [p for leader in pids for p in browser_processes(leader)]
        assert not left, f"processes left behind: {[_describe(p) for p in left]}"
        profiles = list(Path("/tmp").glob(f"{PROFILE_PREFIX}{self.proc.pid}-*"))
        assert not profiles, f"profiles left behind: {profiles}"
        assert self.counts().get("supervisor_stopped", 0) == before + 1
        assert "the kiosk supervisor stopped" in self.text()


def _describe(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text()[:120]
    except OSError:
        return f"{pid} (gone)"


def start_kiosk(station: RunningStation, profile: Path, folder: Path, *extra: str) -> Kiosk:
    """A supervisor with its test hooks on; SIGUSR1 runs ``folder/page.js`` if there."""
    log = folder / "kiosk.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "showfloor", "kiosk", "--profile", str(profile),
             "--port", str(station.port), "--launch", "--headless", *extra],
            stdout=out, stderr=out,
            env={**os.environ, TEST_HOOKS: "1", TEST_SCRIPT: str(folder / "page.js")})
    k = Kiosk(proc, log, station)
    try:
        # its signal handlers are in place and its own browser is up before a test signals
        # it (the module's station may still see the previous test's page for a moment)
        k.until("the supervisor's test hooks", lambda: "test hooks on" in k.text(), 30)
        k.until("its browser", lambda: bool(k.browser_pids()), 30)
        k.drawn()
    except BaseException:
        end(k)
        raise
    return k


def end(k: Kiosk) -> None:
    if k.proc.poll() is None:
        k.proc.send_signal(signal.SIGTERM)
        try:
            k.proc.wait(30)
        except subprocess.TimeoutExpired:
            k.proc.kill()
            k.proc.wait()


@pytest.fixture
def launch(station: RunningStation, profile: Path, tmp_path: Path
           ) -> Iterator[Callable[..., Kiosk]]:
    started: list[Kiosk] = []

    def run(*extra: str) -> Kiosk:
        folder = tmp_path / f"kiosk{len(started)}"
        folder.mkdir()
        started.append(k := start_kiosk(station, profile, folder, *extra))
        return k

    yield run
    for k in started:
        end(k)


@pytest.fixture(scope="module")
def kiosk(station: RunningStation, profile: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Kiosk]:
    """One supervisor for the first two tests (a page that misbehaves, then a crash)."""
    k = start_kiosk(station, profile, tmp_path_factory.mktemp("shared"))
    yield k
    end(k)


def test_dialogs_are_dismissed_and_a_navigation_away_is_sent_back(kiosk: Kiosk) -> None:
    k = kiosk
    script = k.log.parent / "page.js"
    before = k.counts()
    script.write_text('alert("hi"); confirm("leave?"); prompt("name?"); 1')
    k.proc.send_signal(signal.SIGUSR1)
    # each dialog blocks the script until it is dismissed
    took = k.until("the script through", lambda: "the script returned" in k.text())
    assert took <= 2, f"three dialogs stood for {took:.1f} s"
    k.until("three dialogs reported", lambda: k.counts().get("dialog_dismissed", 0)
            >= before.get("dialog_dismissed", 0) + 3)
    assert "dismissed a dialog the page opened (prompt)" in k.text()
    script.write_text('location.href = "about:blank"; 1')
    k.proc.send_signal(signal.SIGUSR1)
    took = k.until("the navigation sent back", lambda: k.counts().get(
        "navigation_blocked", 0) > before.get("navigation_blocked", 0))
    k.drawn()
    assert "the page went to an address away from the station (about:)" in k.text()
    # the station's own address, but not its station page: sent back too
    before = k.counts()
    script.write_text('location.href = "/healthz"; 1')
    k.proc.send_signal(signal.SIGUSR1)
    k.until("the same-origin navigation sent back", lambda: k.counts().get(
        "navigation_blocked", 0) > before.get("navigation_blocked", 0))
    k.drawn()
    assert "the page went to /healthz on the station instead of its station page" in k.text()
    script.unlink()


def test_a_crashed_renderer_is_reloaded_within_5_s_and_reported(kiosk: Kiosk) -> None:
    k = kiosk
    before = k.counts()
    k.proc.send_signal(signal.SIGUSR2)  # Page.crash through the supervisor's CDP pipe
    start = time.monotonic()
    k.until("the crash reloaded", lambda: k.counts().get("page_reloaded", 0)
            > before.get("page_reloaded", 0))
    k.drawn()
    took = time.monotonic() - start
    assert took <= 5, f"the page came back {took:.1f} s after the crash"
    assert k.counts().get("renderer_crashed", 0) == before.get("renderer_crashed", 0) + 1
    assert "the page's renderer crashed" in k.text()
    assert k.proc.poll() is None
    k.stop()


def test_a_hung_page_is_killed_and_reloaded_within_hang_seconds_plus_5(
        launch: Callable[..., Kiosk]) -> None:
    k = launch()
    before = k.counts()
    k.proc.send_signal(signal.SIGUSR1)  # while (true) {} in the page
    start = time.monotonic()
    k.until("the hang noticed", lambda: k.counts().get("page_unresponsive", 0)
            > before.get("page_unresponsive", 0), HANG + 10)
    k.until("the hung page reloaded", lambda: "reloaded the page after the hang" in k.text())
    k.until("the page beating again", lambda: (s := k.state())["connected"]
            and s["beat_age"] is not None and s["beat_age"] < 2.5)
    took = time.monotonic() - start
    assert took <= HANG + 5, f"the hung page came back after {took:.1f} s"
    assert k.counts().get("renderer_crashed", 0) == before.get("renderer_crashed", 0), \
        "a hang we ended is not counted as a crash"
    k.stop()


def test_a_killed_browser_is_started_again(launch: Callable[..., Kiosk]) -> None:
    k = launch()
    before = k.counts()
    [first] = k.browser_pids()
    os.kill(first, signal.SIGKILL)
    k.until("a new browser", lambda: len(k.browser_pids()) == 2)
    k.until("the exit reported", lambda: k.counts().get("browser_exited", 0)
            > before.get("browser_exited", 0))
    k.until("the new page connected", lambda: k.state()["connected"])
    assert k.counts().get("browser_started", 0) == before.get("browser_started", 0) + 1
    assert "the browser exited with status -9" in k.text()
    k.until("the killed browser's children gone", lambda: not browser_processes(first))
    k.stop()


def test_over_the_memory_limit_the_page_is_reloaded_only_at_an_idle_moment(
        station: RunningStation, launch: Callable[..., Kiosk]) -> None:
    visitor = open_page(station)
    visitor.hello("main")
    visitor.input(type="start")
    visitor.until("view")

    def busy() -> bool:  # the visitor keeps touching (the idle timeout is 4 s)
        visitor.input(type="language", lang="en")
        try:
            while True:  # read what the station sends, so that it never waits on us
                visitor.recv(0.05)
        except TimeoutError:
            return False

    busy()
    k = launch("--memory-every", "1")
    assert not k.state()["idle"]
    before = k.counts().get("page_reloaded", 0)
    k.until("over the limit", lambda: busy() or "over the limit of 1 MB" in k.text())
    for _ in range(6):  # 3 s more of a visit
        busy()
        time.sleep(0.5)
    assert k.counts().get("page_reloaded", 0) == before, "reloaded during a visit"
    visitor.close()  # the visit times out after 4 s, then the page may be reloaded
    k.until("the idle reload", lambda: "reloaded the station page at an idle moment "
            "(renderer memory" in k.text(), 15)
    assert k.counts().get("page_reloaded", 0) == before + 1
    assert k.counts().get("memory", 0) >= 1
    k.drawn()
    k.stop()


def test_too_many_crashes_show_the_fallback_page(launch: Callable[..., Kiosk]) -> None:
    k = launch()
    before = k.counts().get("fallback_shown", 0)
    k.proc.send_signal(signal.SIGUSR2)
    k.until("first crash reloaded", lambda: "reloaded the station page after the crash"
            in k.text())
    k.drawn()
    k.proc.send_signal(signal.SIGUSR2)  # 2 crashes in the window, over crash_limit 1
    k.until("the fallback shown", lambda: k.counts().get("fallback_shown", 0) > before)
    assert k.station.health()["kiosk"]["fallback"] is True
    k.until("the station page gone", lambda: not k.state()["connected"])
    assert "showing the fallback page" in k.text()
    k.stop()
