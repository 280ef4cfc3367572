"""`showfloor preview`: content errors on the page, reload on a fix."""

from __future__ import annotations

import shutil
from pathlib import Path

from ._support import DEMO, open_page, start_station


def test_preview_shows_content_errors_and_reloads_when_fixed(tmp_path: Path) -> None:
    ex = tmp_path / "exhibit"
    shutil.copytree(DEMO, ex)
    st = start_station(ex, data=tmp_path, command="preview")
    try:
        page = open_page(st)
        welcome, view = page.hello()
        assert welcome["preview"] is True
        assert view["view"]["scene"] == "attract"
        story = ex / "scenes" / "20-story.yaml"
        good = story.read_text(encoding="utf-8")
        story.write_text(good.replace("goto: party_no\n", "goto: party_nope\n", 1), "utf-8")
        msg = page.until("problems", timeout=15)
        errors = [p for p in msg["problems"] if p["severity"] == "error"]
        assert any(p["file"] == "scenes/20-story.yaml" and p["line"] > 0 and
                   "party_nope" in p["message"] and "party_no" in (p["hint"] or "")
                   for p in errors), errors
        # while broken, inputs are refused but the page stays up
        page.input(type="start")
        assert "errors" in page.until("error")["reason"]
        story.write_text(good, encoding="utf-8")
        page.until("reload", timeout=15)
        page.close()
        again = open_page(st)
        _, view = again.hello()
        assert view["view"]["scene"] == "attract"
        again.input(type="start")
        assert again.until("view")["view"]["scene"] == "intro"
        again.close()
    finally:
        st.stop()


def test_preview_of_a_broken_exhibit_starts_and_shows_the_problems(tmp_path: Path) -> None:
    ex = tmp_path / "exhibit"
    shutil.copytree(DEMO, ex)
    (ex / "exhibit.yaml").write_text(
        (ex / "exhibit.yaml").read_text(encoding="utf-8").replace("start: intro", "start: intr"),
        encoding="utf-8")
    st = start_station(ex, data=tmp_path, command="preview")
    try:
        page = open_page(st)
        page.send("hello", surface="main")
        page.until("welcome")
        msg = page.until("problems")
        assert any("intr" in p["message"] and p["file"] == "exhibit.yaml"
                   for p in msg["problems"])
        page.close()
    finally:
        st.stop()
