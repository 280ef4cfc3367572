"""The dashboard's Rollouts page in Chromium, delivering to the stations of ``make demo``.

The hall is the one ``make demo`` starts (``showfloor hall examples/drug-prevention``;
the package's ``hall`` fixture): its stations run the demo from their content stores, as
the hall packed, published and installed it (1.0.0). Its admin signs in with the password
the hall wrote, tags the two touch stations on their pages, publishes version 1.1.0 — a
copy of the demo with one caption changed, packed with the command the hall printed —
through the page's form, rolls it out to the tag (one canary first), watches each
station's progress move on the live page (no reload), sees both run 1.1.0 (their
/healthz) while the others keep 1.0.0, rolls back and sees them on 1.0.0 again. A small
Chromium page on each target's surface is its health signal. The pages are axe-core
clean; docs/screenshots/rollout-page.png comes from here (SHOWFLOOR_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from conftest import keep_for_docs
from hub._dashboard_support import browser_login
from station._support import DEMO

from ._browser import axe, open_surface
from ._hall import Hall

#: the stations the rollout goes to (by the tag), and their names on the dashboard
TARGETS = {"dp-totem": "Choose Well — portrait totem", "dp-touch": "Choose Well — touch screen"}
TAG = "touch"
#: their surfaces' pages: small, for speed (the totem is a portrait screen)
VIEWPORTS = {"dp-totem": {"width": 270, "height": 480}, "dp-touch": {"width": 480, "height": 270}}
PACK = re.compile(r"showfloor pack COPY --key (\S+) -o new\.showfloor")


def until(what: str, test: Callable[[], Any], timeout: float = 40) -> Any:
    end = time.monotonic() + timeout
    while True:
        got = test()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


def version(hall: Hall, station: str) -> str:
    """What the station runs, as its /healthz says."""
    r = httpx.get(f"http://127.0.0.1:{hall.station_port(station)}/healthz", timeout=10)
    return str(r.json()["version"])


def runs(hall: Hall, station: str, want: str) -> bool:
    return version(hall, station) == want


def rows(page: Page) -> list[str]:
    """Each station's progress as the live page shows it now."""
    cells = page.locator('[data-part="stations"] td[data-f="state"]')
    return [" ".join(t.split()) for t in cells.all_inner_texts()]


def new_version(hall: Hall, tmp_path: Path) -> Path:
    """Version 1.1.0 of the demo, one caption changed, packed as the hall's banner says."""
    key = PACK.search(hall.out)
    assert key is not None, hall.out
    copy = tmp_path / "drug-prevention"
    shutil.copytree(DEMO, copy)
    yaml = copy / "exhibit.yaml"
    yaml.write_text(yaml.read_text().replace("version: 1.0.0", "version: 1.1.0", 1))
    caption = copy / "media" / "intro.en.vtt"
    text = caption.read_text()
    caption.write_text(text.replace("Your body and brain", "Your body and your brain", 1))
    assert caption.read_text() != text
    out = tmp_path / "new.showfloor"
    done = subprocess.run([sys.executable, "-m", "showfloor", "pack", str(copy), "--key",
                           key.group(1), "-o", str(out)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "packed drug-prevention 1.1.0" in done.stdout, done.stdout
    return out


def test_an_operator_publishes_rolls_out_to_the_demo_hall_and_rolls_back(
        hall: Hall, browser: Browser, tmp_path: Path) -> None:
    for station in TARGETS:
        assert version(hall, station) == "1.0.0"  # from its content store, as installed
    bundle_file = new_version(hall, tmp_path)
    base = f"http://127.0.0.1:{hall.port}"
    surfaces = [open_surface(browser, hall.station_port(st), "main", viewport=VIEWPORTS[st])
                for st in TARGETS]
    page = browser_login(browser, base, "admin", hall.password)

    # the two touch stations get a tag on their own pages
    for name in TARGETS.values():
        page.goto("/")
        page.get_by_role("link", name=name, exact=True).click()
        page.get_by_role("textbox", name="Tags").fill(TAG)
        page.get_by_role("button", name="Save tags").click()
        expect(page.get_by_role("status")).to_contain_text("tags were saved")
        expect(page.locator('[data-f="tags"]')).to_have_text(TAG)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rollouts").click()
    expect(page.get_by_role("heading", name="Rollouts", level=1)).to_be_visible()
    expect(page.locator("tr[data-bundle]")).to_contain_text(["drug-prevention 1.0.0"])
    page.get_by_label("Bundle file").set_input_files(str(bundle_file))
    page.get_by_role("button", name="Publish").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("is published")
    published = re.search(r"Bundle (\d+) is published", status.inner_text())
    assert published is not None
    bid = published.group(1)
    expect(page.locator(f'tr[data-bundle="{bid}"]')).to_contain_text("1.1.0")
    assert axe(page) == []

    page.get_by_label("Bundle", exact=True).select_option(bid)
    page.get_by_label("stations tagged").check()
    page.get_by_label("Tag", exact=True).fill(TAG)
    page.get_by_label("Canaries first").fill("1")
    page.get_by_label("healthy for (seconds)").fill("2")
    page.get_by_role("button", name="Start the rollout").click()
    page.wait_for_url(re.compile(r"/rollouts/\d+\?created=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Rollout \d+: drug-prevention 1\.1\.0$"))

    # the live page follows the stations: note every progress it shows, no reload
    seen: list[tuple[str, ...]] = [tuple(rows(page))]

    def both(word: str) -> bool:
        now = tuple(rows(page))
        if now != seen[-1]:
            seen.append(now)
        return len(now) == len(TARGETS) and all(r.startswith(word) for r in now)

    until("both stations running on the page", lambda: both("running"), timeout=90)
    expect(page.locator('[data-f="rollout-state"]')).to_have_text("done", timeout=10000)
    assert len(seen) >= 2, seen  # it moved on screen
    assert seen[0][1] == "not sent yet", seen  # the second waited for the canary
    for station in TARGETS:
        assert version(hall, station) == "1.1.0"
    assert version(hall, "dp-vr") == "1.0.0"  # not tagged: not sent
    assert axe(page) == []
    page.evaluate("document.fonts.ready")
    shot = tmp_path / "rollout-page.png"
    page.screenshot(path=str(shot), full_page=True)
    keep_for_docs(shot, "rollout-page")

    page.get_by_role("button", name="Roll back").click()
    expect(page.get_by_role("status")).to_contain_text("signed rollback instruction")
    until("both stations rolled back on the page", lambda: both("rolled back"), timeout=90)
    expect(page.locator('[data-f="rollout-state"]')).to_have_text("cancelled")
    expect(page.locator('[data-f="halted-reason"]')).to_contain_text(
        "rolled back to 1.0.0 by user:admin")
    for station in TARGETS:
        until(f"{station} on 1.0.0 again", functools.partial(runs, hall, station, "1.0.0"))
    expect(page.get_by_role("button", name="Roll back")).to_have_count(0)
    assert page.errors == []  # type: ignore[attr-defined]
    for s in surfaces:
        assert s.js_errors == []  # type: ignore[attr-defined]
        s.context.close()
    page.context.close()
