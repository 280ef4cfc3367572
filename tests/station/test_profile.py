"""Station profiles: what they set, and how `check` reports their mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from showfloor.station.profile import load_profile

from ._support import DEMO, open_page, start_station


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "showfloor", "check", str(path), "--format",
                           "json"], capture_output=True, text=True, check=False)


def test_the_demo_profiles_load() -> None:
    for f in sorted((DEMO / "stations").glob("*.yaml")):
        profile, problems = load_profile(f)
        assert profile is not None, [str(p) for p in problems]
        assert problems == []


def test_a_profile_can_start_visits_elsewhere_and_tells_pages_its_display(
        tmp_path: Path) -> None:
    prof = tmp_path / "organs.yaml"
    prof.write_text(f"station: {{id: organs, name: Organs}}\nexhibit: {DEMO}\n"
                    "display: hologram-pyramid\nstart: organ_brain\n"
                    "pyramid: {gap: 0.3, mirror: false}\n"
                    "surfaces: [{id: panel, role: control}, {id: glass, role: display}]\n",
                    encoding="utf-8")
    st = start_station(prof, data=tmp_path / "d")
    try:
        page = open_page(st)
        welcome, _ = page.hello("panel")
        assert welcome["display"] == "hologram-pyramid"
        assert welcome["pyramid"] == {"faces": 4, "gap": 0.3, "mirror": False, "size": 1.0}
        page.input(type="start")
        assert page.until("view")["view"]["scene"] == "organ_brain"
        page.close()
    finally:
        st.stop()


def test_check_reports_profile_mistakes_at_their_place(tmp_path: Path) -> None:
    prof = tmp_path / "bad.yaml"
    prof.write_text(f"station: {{id: bad, name: Bad}}\nexhibit: {DEMO}\nlanguage: fr\n"
                    "start: organ_brian\nsurfaces: [{id: wall, role: display}]\n",
                    encoding="utf-8")
    out = json.loads(check(prof).stdout)
    problems = {(p["line"], p["severity"]): p for p in out["problems"] if p["file"] == str(prof)}
    assert "fr" in problems[(3, "error")]["message"]
    assert "organ_brain" in (problems[(4, "error")]["hint"] or "")
    assert problems[(5, "warning")]["message"].startswith("every surface is a display")
    assert out["ok"] is False
