"""The dashboard's Rollouts page in Chromium, with real stations doing the work.

An operator publishes a bundle through the page's form, rolls it out to the stations of
a demo hall (one canary first), watches each station's progress move on the live page
(no reload), and rolls back. The stations are real station processes running from their
content stores, each with a real Chromium surface (their health signal); they fetch,
check, switch and report through the signed API. The pages are axe-core clean; the
picture in docs/screenshots/rollout-page.png comes from here
(SHOWFLOOR_UPDATE_SCREENSHOTS=1).
"""

from __future__ import annotations

import functools
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect

from conftest import keep_for_docs
from hub._dashboard_support import browser_login, create_user
from hub._support import make_code, start_hub
from showfloor.content import bundle
from showfloor.content.scaffold import scaffold
from showfloor.hub import bundles as hub_bundles
from showfloor.hub import db as hubdb
from showfloor.station.content_store import ContentStore
from station._support import RunningStation, start_station

from ._browser import axe, open_surface

PROFILE = """\
station: {{id: {id}, name: {name}}}
idle: {{timeout: 30, countdown: 5}}
delivery: {{trust: [trust.txt], health_seconds: 20}}
"""
HALL = "Demo hall"


def until(what: str, test: Callable[[], Any], timeout: float = 40) -> Any:
    end = time.monotonic() + timeout
    while True:
        got = test()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)


def connected(st: RunningStation) -> bool:
    return bool(st.health()["hub"]["connected"])


def runs(st: RunningStation, version: str) -> bool:
    return bool(st.health()["version"] == version)


def rows(page: Page) -> list[str]:
    """Each station's progress as the live page shows it now."""
    cells = page.locator('[data-part="stations"] td[data-f="state"]')
    return [" ".join(t.split()) for t in cells.all_inner_texts()]


def test_an_operator_publishes_rolls_out_watches_and_rolls_back(
        tmp_path: Path, browser: Browser) -> None:
    publisher = bundle.new_key(tmp_path / "publisher.key")
    rollback_key = bundle.new_key(tmp_path / "rollback.key")
    src = scaffold(tmp_path / "src" / "ex")
    text = (src / "exhibit.yaml").read_text()
    bundles = {}
    for v in ("1.0.0", "1.1.0"):
        (src / "exhibit.yaml").write_text(text.replace("version: 0.1.0", f"version: {v}"))
        bundles[v] = tmp_path / f"ex-{v}.showfloor"
        bundle.pack(src, "ex", v, publisher, bundles[v])
    shutil.rmtree(tmp_path / "src")
    keys = {bundle.key_id(publisher.public_key()): publisher.public_key()}
    # the stations trust the publisher for bundles and the hub's key for rollbacks
    trust = "".join(bundle.public_text(k.public_key()) + "\n"
                    for k in (publisher, rollback_key))
    db_url = f"sqlite:///{tmp_path}/hub.sqlite"
    (tmp_path / "hub-trust.txt").write_text(bundle.public_text(publisher.public_key()) + "\n")
    hub = start_hub(db_url, None, "--heartbeat", "1", env={
        "SHOWFLOOR_HUB_TRUSTED_KEYS": str(tmp_path / "hub-trust.txt"),
        "SHOWFLOOR_HUB_ROLLBACK_KEY": str(tmp_path / "rollback.key")})
    db = hubdb.Database(db_url)
    stations: list[RunningStation] = []
    try:
        create_user(db_url, "otto", "operator")
        hub_bundles.publish(db, bundles["1.0.0"], "user:otto", keys)  # what the hall runs
        procs = []
        for i in (1, 2):
            prof = tmp_path / f"station{i}"
            prof.mkdir()
            (prof / "trust.txt").write_text(trust)
            (prof / "station.yaml").write_text(PROFILE.format(id=f"demo-{i}",
                                                              name=f"Demo {i}"))
            data = tmp_path / f"data{i}"
            store = ContentStore(data)
            first = store.install_bundle(bundles["1.0.0"], keys).name
            store.activate(first)
            store.confirm(first)
            procs.append((prof / "station.yaml", data,
                          make_code(db_url, hall=HALL, name=f"Demo {i}")))
        for profile, data, code in procs:
            stations.append(start_station(profile, "--hub", hub.url, "--enrol", code,
                                          data=data))
        surfaces = [open_surface(browser, st.port) for st in stations]
        for st in stations:
            until("enrolled", functools.partial(connected, st))

        page = browser_login(browser, hub.url, "otto")
        page.get_by_role("link", name="Rollouts").click()
        expect(page.get_by_role("heading", name="Rollouts", level=1)).to_be_visible()
        page.get_by_label("Bundle file").set_input_files(str(bundles["1.1.0"]))
        page.get_by_role("button", name="Publish").click()
        expect(page.get_by_role("status")).to_contain_text("Bundle 2 is published")
        expect(page.locator('tr[data-bundle="2"]')).to_contain_text("1.1.0")
        assert axe(page) == []

        page.get_by_label("Bundle", exact=True).select_option("2")
        page.get_by_label("the hall").check()
        page.get_by_label("Hall", exact=True).select_option(label=HALL)
        page.get_by_label("Canaries first").fill("1")
        page.get_by_label("healthy for (seconds)").fill("2")
        page.get_by_role("button", name="Start the rollout").click()
        page.wait_for_url("**/rollouts/1?created=1")
        expect(page.get_by_role("heading", level=1)).to_have_text("Rollout 1: ex 1.1.0")

        # the live page follows the stations: note every progress it shows, no reload
        seen: list[tuple[str, ...]] = [tuple(rows(page))]

        def both(word: str) -> bool:
            now = tuple(rows(page))
            if now != seen[-1]:
                seen.append(now)
            return all(r.startswith(word) for r in now)

        until("both stations running on the page", lambda: both("running"), timeout=90)
        expect(page.locator('[data-f="rollout-state"]')).to_have_text("done", timeout=10000)
        assert len(seen) >= 2, seen  # it moved on screen
        assert seen[0][1] == "not sent yet", seen  # the second waited for the canary
        for st in stations:
            assert st.health()["version"] == "1.1.0"
        assert axe(page) == []
        page.evaluate("document.fonts.ready")
        shot = tmp_path / "rollout-page.png"
        page.screenshot(path=str(shot), full_page=True)
        keep_for_docs(shot, "rollout-page")

        page.get_by_role("button", name="Roll back").click()
        expect(page.get_by_role("status")).to_contain_text("signed rollback instruction")
        until("both stations rolled back on the page", lambda: both("rolled back"),
              timeout=90)
        expect(page.locator('[data-f="rollout-state"]')).to_have_text("cancelled")
        expect(page.locator('[data-f="halted-reason"]')).to_contain_text(
            "rolled back to 1.0.0 by user:otto")
        for st in stations:
            until("1.0.0 running again", functools.partial(runs, st, "1.0.0"))
        expect(page.get_by_role("button", name="Roll back")).to_have_count(0)
        assert page.errors == []  # type: ignore[attr-defined]
        for s in surfaces:
            s.context.close()
        page.context.close()
    finally:
        for st in stations:
            st.stop()
        hub.stop()
        db.dispose()
