"""Engine steps per second on one core (goal: ≥ 200,000).

A step is one ``Engine.feed``. The inputs are real: simulated visitors walk
the demo exhibit once with recording on, and the recorded inputs (touches,
answers, ticks that moved something) are fed again to fresh engines in three
modes. A tick with nothing due — what a station sends between touches, ten
times a second — is measured too, since it is most of what an engine sees.
Latencies are per step (µs); throughput is steps over total time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEMO, median, percentile, table
from showfloor.content.lint import check
from showfloor.content.media import media_duration
from showfloor.engine.clock import VirtualClock
from showfloor.engine.inputs import Input, Tick, from_json
from showfloor.engine.replay import read_events
from showfloor.engine.simulate import simulate
from showfloor.engine.state import Engine


def recorded_inputs(exhibit: Any, root: Path, visitors: int) -> list[tuple[float, Input]]:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "events.jsonl"
        simulate(exhibit, visitors, seed=7, media_length=lambda p: media_duration(root, p),
                 record=log)
        return [(e.t, from_json(e.data["input"])) for e in read_events(log) if e.kind == "input"]


def run(exhibit: Any, root: Path, inputs: list[tuple[float, Input]], **mode: Any
        ) -> tuple[list[float], float]:
    clock = VirtualClock(0.0)
    engine = Engine(exhibit, clock=clock, media_length=lambda p: media_duration(root, p),
                    **mode)
    engine.start()
    lat: list[float] = []
    feed = engine.feed
    now = time.perf_counter_ns
    gc.disable()
    total0 = now()
    for t, inp in inputs:
        clock.now = t
        t0 = now()
        feed(inp)
        lat.append((now() - t0) / 1000)
    total = (now() - total0) / 1e9
    gc.enable()
    return lat, total


def idle_ticks(exhibit: Any, root: Path, n: int) -> tuple[list[float], float]:
    """Ticks in a session with nothing due: the engine checks one deadline and returns."""
    from showfloor.engine.inputs import Started

    clock = VirtualClock(0.0)
    engine = Engine(exhibit, clock=clock, media_length=lambda p: media_duration(root, p))
    engine.start()
    engine.feed(Started())
    ticks = [Tick(i * 1e-6) for i in range(n)]
    lat: list[float] = []
    now = time.perf_counter_ns
    gc.disable()
    total0 = now()
    for tick in ticks:
        t0 = now()
        engine.feed(tick)
        lat.append((now() - t0) / 1000)
    total = (now() - total0) / 1e9
    gc.enable()
    return lat, total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--exhibit", type=Path, default=DEMO)
    ap.add_argument("--visitors", type=int, default=3000)
    args = ap.parse_args()
    report = check(args.exhibit)
    assert report.exhibit is not None, [str(p) for p in report.problems[:5]]
    assert report.ok, [str(p) for p in report.errors[:5]]
    ex, root = report.exhibit, report.root
    inputs = recorded_inputs(ex, root, args.visitors)
    rows = []
    lat, total = idle_ticks(ex, root, 200_000)
    base = len(lat) / total
    rows.append(["tick, nothing due", len(lat), f"{median(lat):.2f}", f"{percentile(lat, 99):.2f}",
                 f"{base:,.0f}", "1.00"])
    modes = [
        ("visitor input, station (views + digests + events)", {}),
        ("visitor input, no view digests", {"digests": False}),
        ("visitor input, simulate (no views)", {"views": False, "digests": False}),
    ]
    for name, mode in modes:
        lat, total = run(ex, root, inputs, **mode)
        rate = len(lat) / total
        rows.append([name, len(lat), f"{median(lat):.2f}", f"{percentile(lat, 99):.2f}",
                     f"{rate:,.0f}", f"{rate / base:.3f}"])
    # a station's real mix: 10 ticks a second between touches (a touch every ~4 s)
    ticks_per_input = 40
    lat_in, _ = run(ex, root, inputs)
    lat_tick, _ = idle_ticks(ex, root, 100_000)
    mean_in = sum(lat_in) / len(lat_in)
    mean_tick = sum(lat_tick) / len(lat_tick)
    mix = (1 + ticks_per_input) / ((mean_in + ticks_per_input * mean_tick) / 1e6)
    rows.append([f"station mix (1 input : {ticks_per_input} ticks)", "—", "—", "—",
                 f"{mix:,.0f}", f"{mix / base:.3f}"])
    table(f"engine steps on {ex.id} ({len(inputs):,} recorded inputs from {args.visitors:,} "
          "simulated visitors; one core; goal ≥ 200,000 steps/s)",
          ["step", "n", "median µs", "p99 µs", "steps/s", "× tick rate"], rows)


if __name__ == "__main__":
    main()
