"""An accelerated soak of a demo station: visits as fast as a busy hall, memory sampled.

Starts ``showfloor station`` (the demo's touch profile, idle reset in 8 + 2 s) in a
temporary folder and opens its page in headless Debian Chromium at 480×270
(SwiftShader WebGL). Visits follow five routes in turn — the four organ models
(orbit, years slider, a hotspot) and the 360° panorama, the story, the quiz to the
end screen — by real taps and drags, and end by the idle reset or "back to start".
Every ``--sample-every`` visits: the JS heap after a forced GC, DOM nodes and
listeners (CDP Performance.getMetrics), the renderer and GPU processes' RSS
(/proc), the live WebGL objects. At the end: the table (start, after warm-up, end,
peak, least-squares slope over the second half per 1000 visits), crashes, and
whether the station recorded every visit (its event log and /healthz).

    .venv/bin/python bench/kiosk_soak.py --minutes 30 --csv /tmp/soak.csv

The shared code is tests/e2e/_soak.py (tests/e2e/test_soak.py runs 5 minutes of it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from e2e import _soak
from e2e._browser import ARGS, CHROMIUM


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="wall time of the visits")
    ap.add_argument("--visits", type=int, default=None, help="stop after this many visits")
    ap.add_argument("--csv", type=Path, default=None, help="write the memory curve here")
    ap.add_argument("--sample-every", type=int, default=10, help="visits between samples")
    ap.add_argument("--warmup", type=int, default=20, help="visits counted as warm-up")
    ap.add_argument("--profile", default="touch",
                    help="the demo station profile (examples/drug-prevention/stations/NAME.yaml)")
    ap.add_argument("--motion", action="store_true",
                    help="no reduced-motion preference: models turn by themselves, drawn "
                    "every frame (several times the CPU on SwiftShader)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="showfloor-soak-") as tmp, sync_playwright() as p:
        st = _soak.start_station(Path(tmp), args.profile)
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            started = time.monotonic()

            def progress(row: dict[str, float]) -> None:
                print(f"[{(time.monotonic() - started) / 60:5.1f} min] visits {row['visits']:5} "
                      f"heap {row['js_heap_mb']:6.1f} MB nodes {row['nodes']:5} listeners "
                      f"{row['listeners']:4} renderer {row['renderer_mb']:6.1f} MB gpu "
                      f"{row['gpu_mb']:6.1f} MB gl tex {row['gl_textures']} ctx "
                      f"{row['gl_live_contexts']} sessions {row['sessions']} crashes {row['crashes']}",
                      flush=True)

            soak = _soak.run(browser, st, seconds=args.minutes * 60, visits=args.visits,
                             sample_every=args.sample_every, csv_path=args.csv,
                             motion=args.motion, progress=progress)
            browser.close()
        finally:
            st.stop()
        soak.recorded = _soak.recorded(st.data)
    print("\n### kiosk soak\n")
    print(_soak.report(soak, args.warmup))
    print("\nthe curve (about every tenth of the run):\n")
    print(_soak.curve(soak))
    for f in soak.failures[:10]:
        print("failed:", f)
    for e in sorted(set(soak.errors))[:10]:
        print("page error:", e)


if __name__ == "__main__":
    main()
