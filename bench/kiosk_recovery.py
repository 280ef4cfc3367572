"""Kiosk supervisor recovery: renderer crash → page drawn again; hung page → drawn again.

Goals: a crash ≤ 5 s; a hang ≤ T + 5 s (T: the profile's ``kiosk.hang_seconds``,
default 10). Each run starts ``showfloor kiosk --launch --headless`` on the demo
exhibit (its first crash in the window, so no back-off), crashes the page's
renderer through CDP (``Page.crash``, the supervisor's SIGUSR2 test hook), then
hangs the page with ``while (true) {}`` (SIGUSR1). The clock starts at the signal
and stops when the station has the page back: the supervisor reported
``page_reloaded`` and a page of the surface has said hello again (a new
WebSocket, so the attract view was sent to a page that runs again).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import DEMO, median, percentile, table
from showfloor.station.supervisor import TEST_HOOKS
from station._support import RunningStation, start_station

PROFILE = """\
station: {{id: bench-kiosk, name: kiosk recovery bench}}
exhibit: {exhibit}
display: touch
surfaces:
  - {{id: main, role: kiosk}}
kiosk: {{hang_seconds: {hang}, memory_mb: 0, crash_limit: 100, crash_window_minutes: 1}}
"""


def state(st: RunningStation) -> dict[str, Any]:
    return dict(httpx.get(f"{st.url}/kiosk/state", params={"surface": "main"}, timeout=5).json())


def reloads(st: RunningStation) -> int:
    return int(((st.health().get("kiosk") or {}).get("counts") or {}).get("page_reloaded", 0))


def until(test: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + seconds
    while not test():
        if time.monotonic() > end:
            raise RuntimeError(f"not within {seconds:g} s")
        time.sleep(0.02)


def recovery(st: RunningStation, kiosk: subprocess.Popen[bytes], sig: int,
             seconds: float) -> float:
    """Seconds from ``sig`` to the page reloaded and connected again."""
    before = reloads(st)
    start = time.monotonic()
    kiosk.send_signal(sig)
    until(lambda: reloads(st) > before, seconds)
    until(lambda: bool(state(st)["connected"]), seconds)
    return time.monotonic() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--hang-seconds", type=float, default=10)
    args = ap.parse_args()
    crash: list[float] = []
    hang: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "station.yaml"
        profile.write_text(PROFILE.format(exhibit=DEMO, hang=args.hang_seconds))
        st = start_station(profile, data=Path(tmp) / "data")
        try:
            for _ in range(args.runs):
                kiosk = subprocess.Popen(
                    [sys.executable, "-m", "showfloor", "kiosk", "--profile", str(profile),
                     "--port", str(st.port), "--launch", "--headless"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env={**os.environ, TEST_HOOKS: "1"})
                try:
                    until(lambda: bool(state(st)["connected"]), 60)
                    time.sleep(1)  # the attract scene settles
                    crash.append(recovery(st, kiosk, signal.SIGUSR2, 30))
                    time.sleep(1)
                    hang.append(recovery(st, kiosk, signal.SIGUSR1, args.hang_seconds + 30))
                finally:
                    kiosk.send_signal(signal.SIGTERM)
                    kiosk.wait(30)
        finally:
            st.stop()
    rows = [("renderer crash → drawn again", f"{median(crash):.2f}",
             f"{percentile(crash, 99):.2f}", "≤ 5"),
            (f"hung page (T = {args.hang_seconds:g} s) → drawn again", f"{median(hang):.2f}",
             f"{percentile(hang, 99):.2f}", f"≤ {args.hang_seconds + 5:g}")]
    table(f"Kiosk recovery, seconds ({args.runs} runs, headless Chromium, demo exhibit)",
          ["fault", "median", "p99", "goal"], rows)


if __name__ == "__main__":
    main()
