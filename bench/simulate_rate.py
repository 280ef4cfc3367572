"""`showfloor simulate` visitor-sessions per second on the demo (goal: ≥ 20,000).

Each profile is run on one worker process and on as many as the machine has
cores; the one-worker run is the baseline in the same process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEMO, median, percentile, table
from showfloor.content.lint import check
from showfloor.content.media import media_duration
from showfloor.engine.simulate import PROFILES, simulate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--exhibit", type=Path, default=DEMO)
    ap.add_argument("--visitors", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    report = check(args.exhibit)
    assert report.exhibit is not None, [str(p) for p in report.problems[:5]]
    assert report.ok, [str(p) for p in report.errors[:5]]
    ex, root = report.exhibit, report.root
    cores = os.cpu_count() or 1
    rows = []
    for profile in PROFILES:
        base = None
        for jobs in sorted({1, cores}):
            rates, steps = [], 0
            for r in range(args.repeat):
                t = time.perf_counter()
                rep = simulate(ex, args.visitors, profile=profile, seed=r,
                               media_length=lambda p: media_duration(root, p), jobs=jobs)
                dt = time.perf_counter() - t
                rates.append(args.visitors / dt)
                steps = rep.steps
            rate = median(rates)
            base = base or rate
            rows.append([profile, jobs, f"{rate:,.0f}", f"{percentile(rates, 0):,.0f}",
                         f"{steps / args.visitors:.1f}", f"{rate / base:.2f}"])
    table(f"simulate on {ex.id}: {args.visitors:,} visitors × {args.repeat} runs "
          "(goal ≥ 20,000 sessions/s)",
          ["profile", "workers", "sessions/s (median)", "slowest run", "steps/session",
           "× 1 worker"], rows)


if __name__ == "__main__":
    main()
