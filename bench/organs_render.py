"""Organ scenes: frames per second and frame-time p99 in 2-D and VR stereo, model load to
first frame, draw calls and triangles.

Headless Chromium renders WebGL on SwiftShader (the CPU) here: compare scenes and
versions with each other, never with a headset. The 2-D rows orbit the model by
dragging for a few seconds; the VR rows run an emulated Quest 3 (npm `iwer`) session.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import DEMO, median, percentile, table
from e2e._browser import ARGS, CHROMIUM
from e2e.test_3d import IWER
from station._support import start_station

ORGANS = ["organ_brain", "organ_heart", "organ_lungs", "organ_liver"]
FRAMES = """(ms) => new Promise((resolve) => {
    const out = []; let last = null; const end = performance.now() + ms;
    const tick = (t) => { if (last !== null) out.push(t - last); last = t;
        if (t < end) requestAnimationFrame(tick); else resolve(out); };
    requestAnimationFrame(tick);
})"""


def measure_2d(page: Page, w: int, h: int, seconds: float) -> list[float]:
    page.mouse.move(w * 0.3, h * 0.5)
    page.mouse.down()
    frames = page.evaluate_handle(FRAMES, seconds * 1000)
    for i in range(int(seconds * 20)):
        page.mouse.move(w * 0.3 + (i % 40) * 4, h * 0.5)
        page.wait_for_timeout(50)
    page.mouse.up()
    return list(frames.json_value())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    rows: list[list[Any]] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for organ in ORGANS:
            for mode in ("2d", "vr"):
                prof = Path(tmp) / f"{organ}-{mode}.yaml"
                prof.write_text(f"station: {{id: b-{mode}, name: bench}}\nexhibit: {DEMO}\n"
                                f"start: {organ}\ndisplay: {'vr' if mode == 'vr' else 'touch'}\n"
                                "idle: {timeout: 600, countdown: 10}\n", encoding="utf-8")
                st = start_station(prof, data=Path(tmp) / f"d-{organ}-{mode}")
                ctx = browser.new_context(viewport={"width": args.width, "height": args.height})
                page = ctx.new_page()
                if mode == "vr":
                    page.add_init_script(IWER)
                page.goto(f"http://127.0.0.1:{st.port}/")
                page.wait_for_function("window.showfloor && window.showfloor.connected")
                t0 = page.evaluate("performance.now()")
                page.mouse.click(args.width // 2, args.height // 2)
                page.wait_for_function("window.showfloor3d && window.showfloor3d.loaded",
                                       timeout=60000)
                load_ms = page.evaluate(
                    "new Promise(r => requestAnimationFrame(() => r(performance.now())))") - t0
                facts = page.evaluate("window.showfloor3d")
                if mode == "2d":
                    frames = measure_2d(page, args.width, args.height, args.seconds)
                else:
                    page.evaluate("window.__iwer")
                    page.get_by_role("button", name="进入 VR").first.click()
                    page.wait_for_function("window.showfloor3d.xrPresenting === 'model'",
                                           timeout=30000)
                    n0 = page.evaluate("window.showfloor3d.frames")
                    s0 = page.evaluate("performance.now()")
                    page.wait_for_timeout(int(args.seconds * 1000))
                    n1 = page.evaluate("window.showfloor3d.frames")
                    s1 = page.evaluate("performance.now()")
                    fps = (n1 - n0) / ((s1 - s0) / 1000)
                    frames = [1000 / fps] * max(1, n1 - n0) if fps else [0.0]
                fps = 1000 / median(frames) if frames and median(frames) else 0.0
                rows.append([organ.removeprefix("organ_"), mode, f"{fps:.1f}",
                             f"{median(frames):.1f}",
                             f"{percentile(frames, 99):.1f}" if mode == "2d" else "—",
                             f"{load_ms:.0f}", facts.get("drawCalls"), facts.get("triangles")])
                ctx.close()
                st.stop()
        browser.close()
    table(f"organ scenes in headless Chromium / SwiftShader at {args.width}×{args.height} "
          "(VR: emulated Quest 3, both eyes)",
          ["organ", "mode", "fps", "frame median ms", "frame p99 ms", "touch → model on screen ms",
           "draw calls", "triangles"], rows)


if __name__ == "__main__":
    main()
