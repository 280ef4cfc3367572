"""3-D, VR and hologram stations in Debian's Chromium (WebGL on SwiftShader, small viewports).

VR uses Meta's WebXR emulator `iwer`, injected by these tests only (it is an npm
devDependency, never served to a station page on its own).
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageChops, ImageStat
from playwright.sync_api import Browser, Page

from showfloor.content.load import load
from showfloor.content.scenes.model import sample
from station._support import DEMO, RunningStation, start_station

from ._browser import open_surface, touch_attract, view, wait_for

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "screenshots"
SMALL = {"width": 960, "height": 540}
IWER = """
window.__iwer = import('/vendor/iwer/build/iwer.module.js').then((m) => {
  const device = new m.XRDevice(m.metaQuest3);
  device.installRuntime({forceInstall: true});
  window.__device = device;
  return true;
});
"""
AIM = """([who, x, y, z]) => {
  const d = window.__device;
  const src = who === 'head' ? d : d.controllers[who];
  const p = src.position;
  let dx = x - p.x, dy = y - p.y, dz = z - p.z;
  const len = Math.hypot(dx, dy, dz); dx /= len; dy /= len; dz /= len;
  const yaw = Math.atan2(-dx, -dz), pitch = Math.asin(dy);
  const cy = Math.cos(yaw / 2), sy = Math.sin(yaw / 2), cp = Math.cos(pitch / 2), sp = Math.sin(pitch / 2);
  src.quaternion.set(cy * sp, sy * cp, -sy * sp, cy * cp);
}"""


def profile(tmp: Path, name: str, body: str, exhibit: Path = DEMO) -> Path:
    p = tmp / f"{name}.yaml"
    p.write_text(f"station: {{id: {name}, name: {name}}}\nexhibit: {exhibit}\n"
                 + textwrap.dedent(body), encoding="utf-8")
    return p


def facts(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.showfloor3d"))


def start_on_model(page: Page) -> None:
    touch_attract(page)
    page.wait_for_function("window.showfloor3d && window.showfloor3d.loaded", timeout=30000)
    page.wait_for_timeout(500)


def shot(page: Page, path: Path) -> Image.Image:
    page.screenshot(path=str(path))
    return Image.open(path).convert("RGB")


def test_the_model_scene_renders_and_its_timeline_changes_the_picture(
        browser: Browser, tmp_path: Path) -> None:
    st = start_station(profile(tmp_path, "organs", "start: organ_brain\n"), data=tmp_path / "d")
    try:
        page = open_surface(browser, st.port, viewport=SMALL)
        start_on_model(page)
        v = view(page)
        assert v["type"] == "model" and v["scene"] == "organ_brain"
        f = facts(page)
        assert f["mode"] == "2d" and f["triangles"] > 1000 and f["drawCalls"] >= 2
        before = shot(page, tmp_path / "t0.png")
        slider = page.get_by_role("slider")
        slider.focus()
        page.keyboard.press("End")
        tl = v["timeline"]
        page.wait_for_function(f"window.showfloor3d.timeline === {tl['max']}")
        page.wait_for_function(
            f"window.showfloor.lastView.timeline.value === {tl['max']}", timeout=5000)
        page.wait_for_timeout(600)
        after = shot(page, tmp_path / "t10.png")
        # morph weights are the keyframes' values at the end of the timeline
        ex = load(DEMO).exhibit
        assert ex is not None
        scene = ex.scene("organ_brain")
        want = sample(scene.timeline, float(tl["max"]))  # type: ignore[attr-defined]
        got = facts(page)["morph"]
        for name, weight in want["morph"].items():
            assert abs(got[name] - weight) < 0.01, (name, got, want)
        diff = ImageChops.difference(before, after)
        assert sum(ImageStat.Stat(diff).mean) / 3 > 1.0  # the picture changed visibly
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "t10.png", DOCS / "model-touch-10-years.png")
        # a hotspot is a real button; it opens its panel through the station
        label = v["hotspots"][0]["label"]
        page.get_by_role("button", name=label).first.click()
        page.wait_for_function(f"window.showfloor.lastView.open === '{v['hotspots'][0]['id']}'")
        assert facts(page)["openHotspot"] == v["hotspots"][0]["id"]
    finally:
        st.stop()


def test_an_immersive_session_selects_a_hotspot_and_taking_the_headset_off_resets(
        browser: Browser, tmp_path: Path) -> None:
    st = start_station(profile(tmp_path, "vr", """\
        display: vr
        start: organ_brain
        idle: {timeout: 10, countdown: 3}
        surfaces: [{id: headset, role: kiosk}]
        """), data=tmp_path / "d")
    try:
        context = browser.new_context(viewport={"width": 800, "height": 400})
        page = context.new_page()
        page.add_init_script(IWER)
        page.goto(f"http://127.0.0.1:{st.port}/?surface=headset")
        page.wait_for_function("window.showfloor && window.showfloor.connected")
        page.evaluate("window.__iwer")
        page.wait_for_function("window.showfloor3d.xrSupported", timeout=10000)
        enter = page.get_by_role("button", name="进入 VR")
        enter.click()
        page.wait_for_function("window.showfloor3d.xrSession", timeout=15000)
        page.wait_for_function("window.showfloor3d.xrPresenting === 'panel'", timeout=15000)
        # press "touch to start" with the right controller's trigger
        target = next(t for t in facts(page)["xrTargets"] if t["id"].startswith("button:"))
        page.evaluate(AIM, ["right", *target["at"]])
        page.wait_for_timeout(300)
        page.evaluate("window.__device.controllers.right.updateButtonValue('trigger', 1)")
        page.wait_for_timeout(200)
        page.evaluate("window.__device.controllers.right.updateButtonValue('trigger', 0)")
        page.wait_for_function("window.showfloor3d.xrPresenting === 'model'", timeout=20000)
        try:
            page.wait_for_function(
                "window.showfloor3d.xrTargets.some(t => t.id.startsWith('hotspot:'))",
                timeout=15000)
        except Exception:
            print("TARGETS", facts(page)["xrTargets"], facts(page)["xrPresenting"],
                  view(page)["scene"])
            raise
        hotspot = next(t for t in facts(page)["xrTargets"] if t["id"].startswith("hotspot:"))
        hid = hotspot["id"].split(":", 1)[1]
        page.evaluate(AIM, ["right", *hotspot["at"]])
        page.wait_for_timeout(300)
        page.evaluate("window.__device.controllers.right.updateButtonValue('trigger', 1)")
        page.wait_for_timeout(200)
        page.evaluate("window.__device.controllers.right.updateButtonValue('trigger', 0)")
        page.wait_for_function(f"window.showfloor.lastView.open === '{hid}'", timeout=10000)
        page.screenshot(path=str(tmp_path / "vr.png"))
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "vr.png", DOCS / "vr-model-hotspot.png")
        assert any(s.get("via") in ("controller", "ray", "trigger") or "controller" in str(s)
                   for s in facts(page)["selected"])
        # the visitor takes the headset off: the session ends, nothing more comes in
        page.evaluate("window.__device.activeSession && window.__device.activeSession.end()")
        page.wait_for_function("!window.showfloor3d.xrSession", timeout=10000)
        wait_for(page, phase="attract", timeout=40000)
        assert st.health()["phase"] == "attract"
        context.close()
    finally:
        st.stop()


def _marker_exhibit(tmp: Path) -> Path:
    """A copy of the demo whose brain scene shows an asymmetric marker model:
    a coral base below a blue cap, the same from every side."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import make_organs as mo

    ex = tmp / "ex"
    shutil.copytree(DEMO, ex)
    base_v, base_f = mo.uv_sphere(16, 24)
    base_v = (base_v * np.array([0.5, 0.35, 0.5]) + np.array([0.0, -0.35, 0.0])) * 0.1
    cap_v, cap_f = mo.uv_sphere(12, 18)
    cap_v = (cap_v * 0.22 + np.array([0.0, 0.45, 0.0])) * 0.1
    organ = mo.Organ(
        name="brain",
        parts=[mo.Part(base_v, base_f, "tissue", {"shrink": base_v * 0.97, "smooth": base_v}),
               mo.Part(cap_v, cap_f, "hindbrain", {"shrink": cap_v * 0.97, "smooth": cap_v})],
        materials={"tissue": ("#ff5030", 0.6), "hindbrain": ("#3060ff", 0.6)},
        target_names=("shrink", "smooth"),
        anchors={"frontal_lobe": ("tissue", (0.0, -0.03, 0.05)),
                 "hippocampus": ("tissue", (0.03, -0.04, 0.02)),
                 "cerebellum": ("tissue", (-0.03, -0.04, -0.02))},
    )
    (ex / "media" / "organs" / "brain.glb").write_bytes(mo.build_glb(organ))
    return ex


def test_the_pyramid_shows_four_views_turned_outwards_on_black(browser: Browser,
                                                              tmp_path: Path) -> None:
    ex = _marker_exhibit(tmp_path)
    st = start_station(profile(tmp_path, "pyr", """\
        display: hologram-pyramid
        start: organ_brain
        surfaces: [{id: panel, role: control}, {id: glass, role: display}]
        """, exhibit=ex), data=tmp_path / "d")
    try:
        panel = open_surface(browser, st.port, "panel", viewport=SMALL)
        glass = open_surface(browser, st.port, "glass", viewport={"width": 800, "height": 800})
        touch_attract(panel)
        glass.wait_for_function("window.showfloor3d && window.showfloor3d.loaded", timeout=30000)
        glass.wait_for_timeout(1500)
        assert facts(glass)["mode"] == "pyramid"
        assert glass.locator("button:visible").count() == 0  # no chrome on the glass
        img = shot(glass, tmp_path / "pyramid.png")
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "pyramid.png", DOCS / "hologram-pyramid.png")
        a = np.asarray(img).astype(int)
        h, w, _ = a.shape
        lit = a.sum(axis=2) > 60
        # true black around and in the middle
        assert a[: h // 20, : w // 20].max() < 8
        assert a[h // 2 - 5: h // 2 + 5, w // 2 - 5: w // 2 + 5].max() < 8
        # each view: the model's base (big) nearer the centre, its cap (small) further out,
        # i.e. every view is turned so that its "up" points away from the centre
        q1, q2, p1, p2 = int(w * 0.36), int(w * 0.64), int(h * 0.36), int(h * 0.64)
        views = {
            "top": lit[: h // 2, q1:q2].sum(axis=1)[::-1],  # outward = up
            "bottom": lit[h // 2:, q1:q2].sum(axis=1),      # outward = down
            "left": lit[p1:p2, : w // 2].sum(axis=0)[::-1],  # outward = left
            "right": lit[p1:p2, w // 2:].sum(axis=0),        # outward = right
        }
        for name, profile_ in views.items():
            runs: list[list[int]] = []
            for i, n in enumerate(profile_):
                if n and runs and runs[-1][1] == i - 1:
                    runs[-1][1] = i
                    runs[-1][2] += int(n)
                elif n:
                    runs.append([i, i, int(n)])
            assert len(runs) == 2, f"{name}: expected base and cap, found {len(runs)} parts"
            inner, outer = runs
            assert inner[2] > 2 * outer[2], f"{name}: the cap is not the outer part"
    finally:
        st.stop()


def test_the_fan_is_pure_black_with_the_model_centred(browser: Browser,
                                                      tmp_path: Path) -> None:
    st = start_station(profile(tmp_path, "fan", """\
        display: hologram-fan
        start: organ_heart
        surfaces: [{id: panel, role: control}, {id: fan, role: display}]
        """), data=tmp_path / "d")
    try:
        panel = open_surface(browser, st.port, "panel", viewport=SMALL)
        fan = open_surface(browser, st.port, "fan", viewport={"width": 640, "height": 640})
        touch_attract(panel)
        fan.wait_for_function("window.showfloor3d && window.showfloor3d.loaded", timeout=30000)
        fan.wait_for_timeout(1000)
        assert facts(fan)["mode"] == "fan"
        img = shot(fan, tmp_path / "fan.png")
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "fan.png", DOCS / "hologram-fan.png")
        a = np.asarray(img).astype(int).sum(axis=2)
        assert a[:20, :20].max() == 0 and a[-20:, -20:].max() == 0  # pure black corners
        lit = np.argwhere(a > 60)
        assert len(lit) > 500
        my, mx = lit.mean(axis=0)
        assert abs(mx - 320) < 60 and abs(my - 320) < 60  # centred
        assert fan.locator("button:visible").count() == 0
    finally:
        st.stop()


def test_a_display_surface_on_a_touch_station_keeps_model_controls_off(
        browser: Browser, tmp_path: Path, demo: RunningStation) -> None:
    st = start_station(profile(tmp_path, "proj", """\
        display: projector
        start: organ_lungs
        surfaces: [{id: panel, role: control}, {id: wall, role: display}]
        """), data=tmp_path / "d")
    try:
        panel = open_surface(browser, st.port, "panel", viewport=SMALL)
        wall = open_surface(browser, st.port, "wall", viewport=SMALL)
        touch_attract(panel)
        wall.wait_for_function("window.showfloor3d && window.showfloor3d.loaded", timeout=30000)
        assert panel.get_by_role("slider").count() == 1
        assert wall.locator("[data-sends]").count() == 0
    finally:
        st.stop()


def _still(page: Page) -> None:
    page.wait_for_function("window.showfloor3d && window.showfloor3d.loaded", timeout=60000)
    page.wait_for_function("!window.showfloor3d.rendering", timeout=20000)
    page.evaluate("document.querySelectorAll('audio, video').forEach(m => m.pause())")
    page.wait_for_timeout(800)


def test_model_and_panorama_scenes_look_as_designed(browser: Browser, tmp_path: Path) -> None:
    from .test_look import compare

    for scene in ("organ_heart", "calm_place"):
        st = start_station(profile(tmp_path, scene.replace("_", "-"), f"start: {scene}\n"),
                           data=tmp_path / f"d-{scene}")
        try:
            page = open_surface(browser, st.port, viewport=SMALL)
            page.mouse.click(900, 60)  # a touch on an empty corner of the attract screen
            wait_for(page, scene=scene)
            _still(page)
            assert facts(page)["type"] == view(page)["type"]
            path = tmp_path / f"{scene}.png"
            page.screenshot(path=str(path))
            compare(path, f"3d-{scene}")
        finally:
            st.stop()
