"""Station process start → attract screen painted in a page already waiting to reconnect.

Goal ≤ 1 s. A page is open on a station that is then stopped (the page keeps
trying to reconnect, as a kiosk does through a station restart); the clock
starts when the new station process is spawned and stops when the page has
drawn the attract view and a frame has gone by. Python's own start (imports)
is measured alone in the same run as the baseline.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import DEMO, median, percentile, table
from e2e._browser import ARGS, CHROMIUM, open_surface
from station._support import free_port, start_station


def spawn(port: int, data: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "showfloor", "station", str(DEMO), "--port",
                             str(port), "--data", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    port = free_port()
    imports = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import showfloor.station.server"], check=True)
        imports.append(time.perf_counter() - t)
    to_health, to_paint = [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        st = start_station(DEMO, data=Path(tmp), port=port)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = open_surface(browser, port, viewport={"width": 960, "height": 540})
        st.stop()
        try:
            for _ in range(args.runs):
                page.wait_for_function("!window.showfloor.connected", timeout=10000)
                time.sleep(0.5)  # the page is now retrying
                t0 = time.perf_counter()
                proc = spawn(port, tmp)
                try:
                    health_at = None
                    while health_at is None:
                        try:
                            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.2)
                            health_at = time.perf_counter() - t0
                        except httpx.HTTPError:
                            time.sleep(0.005)
                    page.wait_for_function(
                        "window.showfloor.connected && window.showfloor.state.scene === 'attract'"
                        " && document.querySelector('.scene') !== null", polling="raf",
                        timeout=15000)
                    page.evaluate("new Promise(r => requestAnimationFrame(() => r()))")
                    to_paint.append(time.perf_counter() - t0)
                    to_health.append(health_at)
                finally:
                    proc.terminate()
                    proc.wait(10)
        finally:
            browser.close()
    rows = [
        ["python -c 'import showfloor.station.server' (baseline)", f"{median(imports):.3f}",
         f"{percentile(imports, 99):.3f}"],
        ["spawn → /healthz answers", f"{median(to_health):.3f}", f"{percentile(to_health, 99):.3f}"],
        ["spawn → attract painted in the waiting page", f"{median(to_paint):.3f}",
         f"{percentile(to_paint, 99):.3f}"],
    ]
    table(f"station start to attract screen ({args.runs} restarts; goal ≤ 1 s)",
          ["what", "median s", "p99 s"], rows)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
