"""Five minutes of a busy hall at the demo station: memory stays bounded, every visit recorded.

The 5-minute version of ``bench/kiosk_soak.py`` (the shared code: ``_soak.py``). Visits
walk the organ models, the panorama, the story and the quiz by real taps, drags and the
years slider, and end by the idle reset or the end screen. Memory is read on the
attract screen after each few visits, after a forced GC, so what a visit leaves behind
adds up from sample to sample.

Bounds, from the soaks run for issue 15 (480×270, SwiftShader, 2 busy cores): after the
first round of routes the attract screen holds about 263 DOM nodes and 58 listeners at
every sample, the JS heap 5.5–6.2 MB, the renderer 425–465 MB RSS, and no live WebGL
object. A leak found on the way (an element handle the harness kept per visit) added
26 nodes and 4 listeners a visit: 15 visits put it 400 nodes over, well past the bounds
below, which leave room for about one scene's worth of noise. The renderer's RSS grows
by about 1 MB a visit in the 40-minute soak (JS heap and DOM flat, native memory); the
bound here (+25 % + 50 MB over 5 minutes) catches a leak of about 10 MB a visit, not this.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from . import _soak

#: the whole test takes about this long (the issue asks for a 5-minute soak in `make test`)
DURATION = 300
#: for starting the station, loading the page, the last visit's end and stopping
SETUP = 30
#: one round of the five routes: what a page holds after it is its steady state
WARMUP = 5
SAMPLE_EVERY = 3


@pytest.mark.timeout(DURATION + 180)
def test_five_minutes_of_visits_keep_memory_bounded_and_every_visit_recorded(
        browser: Browser, tmp_path: Path) -> None:
    started = time.monotonic()
    st = _soak.start_station(tmp_path)
    try:
        soak = _soak.run(browser, st, seconds=DURATION - SETUP - (time.monotonic() - started),
                         sample_every=SAMPLE_EVERY)
    finally:
        st.stop()
    soak.recorded = _soak.recorded(st.data)
    table = _soak.report(soak, WARMUP) + "\n\n" + _soak.curve(soak, points=len(soak.samples))
    print(table)

    assert soak.crashes == 0, table
    assert soak.errors == [], soak.errors
    assert soak.visits >= 2 * WARMUP, f"too few visits to judge: {table}"
    # a "failure" is the harness giving up after 30 s on the attract screen (a model load
    # holding a busy machine's main thread); the station still records that visit, which
    # the next assertions check
    assert len(soak.failures) <= soak.visits // 4, soak.failures
    # the station's log and its /healthz hold every visit made, each started and ended
    assert soak.recorded["started"] == soak.visits, table
    assert soak.recorded["ended"] == soak.visits, table
    assert soak.health_sessions == soak.visits, table
    assert soak.loaded > 0, f"no 3-D scene was ever drawn: {table}"

    # samples taken before the page was back to the attract screen alone hold a scene on its
    # way out (a model load outlasting the wait on a slow machine): judge only settled ones,
    # and the last sample must be settled — a scene that never leaves is itself a leak
    assert soak.samples[-1]["settled"], f"the page never went back to the attract screen alone: {table}"
    after = [s for s in soak.samples if s["visits"] >= WARMUP and s["settled"]]
    assert len(after) >= 2, table
    warm, end = after[0], after[-1]
    # on the attract screen every 3-D scene has been disposed: nothing of WebGL is alive
    for s in soak.samples[1:]:
        if not s["settled"]:
            continue
        assert (s["gl_live_contexts"], s["gl_textures"], s["gl_buffers"]) == (0, 0, 0), s
    # what a visit leaves behind does not add up
    assert end["nodes"] <= warm["nodes"] + 100, table
    assert end["listeners"] <= warm["listeners"] + 20, table
    assert end["js_heap_mb"] <= warm["js_heap_mb"] * 1.5 + 1, table
    assert end["renderer_mb"] <= warm["renderer_mb"] * 1.25 + 50, table
    # the slope of DOM nodes per visit over the second half: one point per visit count (the
    # last sample at it — the end of the run takes several at the same count while the page
    # settles, and the first of them can still hold a scene fading out, 150 nodes high), and
    # a robust slope (the median of the pairwise slopes), which one such sample cannot tip
    last: dict[int, int] = {}
    for s in after:
        if s["visits"] >= soak.visits / 2:
            last[s["visits"]] = s["nodes"]
    # a repeated-median slope shrugs off one outlier only when it has five points or more
    # (with three, one late-settling sample at the end tips it: 263, 261, 340 read as 13
    # nodes a visit); a shorter run is judged by the bounds above, which a leak of about
    # 12 nodes a visit or more breaks over the ~10 visits after the warm-up
    if len(last) >= 5:
        assert _soak.robust_slope(sorted(last.items())) < 5, table
    assert max(s["renderer_mb"] for s in after) < 1500, table  # the kiosk's default limit
