"""What a newcomer sees first: ``make demo``'s addresses, the pages behind them, the icons.

The hall prints one address per surface of each station; every one of them
must open a page that draws its station's attract screen — with no failed
request (the favicon included) and nothing in the console.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from station._plugins import exhibit as plugin_exhibit
from station._plugins import install as install_plugin
from station._support import DEMO, start_station

from ._browser import LANDSCAPE, state, touch_attract, wait_for
from ._hall import Hall  # the fixture `hall` (conftest.py): one hall for the package


class Watched:
    """A page's console errors and failed requests, as a browser's devtools would show them."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        self.asked: dict[str, int] = {}
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(
            f"failed: {r.url} ({r.failure})"))
        page.on("response", self._response)

    def _console(self, msg: ConsoleMessage) -> None:
        if msg.type == "error":
            self.problems.append(f"console: {msg.text}")

    def _response(self, resp: Response) -> None:
        self.asked[resp.url] = resp.status
        if resp.status >= 400:
            self.problems.append(f"{resp.status}: {resp.url}")


def watched(browser: Browser) -> Watched:
    context = browser.new_context(viewport=LANDSCAPE, reduced_motion="reduce")
    return Watched(context.new_page())


def attract_drawn(page: Page) -> dict[str, object]:
    """Wait until the page is connected and its attract screen is on it."""
    page.wait_for_function("window.showfloor && window.showfloor.connected", timeout=20000)
    s = wait_for(page, phase="attract", type="attract", timeout=20000)
    # drawn by the attract module, or as a title on a hologram's display surface
    page.wait_for_selector("#stage section #scene-title", state="attached", timeout=20000)
    return s


def test_the_hall_prints_one_address_per_surface(hall: Hall) -> None:
    from showfloor.station.profile import load_profile

    want = []
    for path in sorted((DEMO / "stations").glob("*.yaml")):
        profile, _ = load_profile(path)
        assert profile is not None
        want += [(profile.station.id, s.id, s.role) for s in profile.surfaces]
    assert sorted(s[:3] for s in hall.surfaces) == sorted(want), hall.out
    for _, surface, _, url in hall.surfaces:
        assert url.endswith(f"/?surface={surface}")


def test_the_hall_prints_the_competition_pages_and_they_open(hall: Hall,
                                                             browser: Browser) -> None:
    """The demo's competition station: host (with its key), leaderboard and player."""
    lines = re.findall(r"^  dp-competition\s+competition (host|board|player)\s+(http://\S+)$",
                       hall.out, re.M)
    urls = dict(lines)
    assert sorted(urls) == ["board", "host", "player"], hall.out
    assert re.search(r"/competition/host\?key=[\w-]{8,}$", urls["host"]), urls
    for role in ("host", "board"):
        w = watched(browser)
        try:
            w.page.goto(urls[role])
            # the page connected and drew the lobby (the host's key was right: a wrong
            # one shows only "this page is for staff")
            w.page.wait_for_function(
                "document.body.dataset.connection === 'open' && "
                "document.querySelector('#app main, #app section') !== null", timeout=20000)
            assert "for staff" not in (w.page.text_content("body") or "")
            w.page.wait_for_timeout(300)
            assert w.problems == [], (role, w.problems)
        finally:
            w.page.context.close()


def test_every_printed_address_draws_its_attract_screen(hall: Hall, browser: Browser) -> None:
    assert hall.surfaces, hall.out
    for station, surface, role, url in hall.surfaces:
        w = watched(browser)
        try:
            w.page.goto(url)  # as printed: http://localhost:PORT/?surface=ID
            s = attract_drawn(w.page)
            assert (s["surface"], s["role"]) == (surface, role), (station, s)
            assert w.page.locator("#status").is_hidden(), w.page.locator("#status").text_content()
            w.page.wait_for_timeout(300)  # late requests (the icon) have come back
            assert w.problems == [], (station, surface, w.problems)
            icon = [u for u in w.asked if "favicon" in u]
            assert icon and all(w.asked[u] == 200 for u in icon), (url, w.asked)
        finally:
            w.page.context.close()


def test_a_bare_address_opens_the_one_surface_or_lists_them(hall: Hall, browser: Browser
                                                            ) -> None:
    ports = {st: int(re.search(r":(\d+)/", url).group(1))  # type: ignore[union-attr]
             for st, _, _, url in hall.surfaces}
    # one surface (the VR headset): the page is that surface
    w = watched(browser)
    try:
        w.page.goto(f"http://localhost:{ports['dp-vr']}/")
        assert attract_drawn(w.page)["surface"] == "headset"
        assert w.problems == [], w.problems
    finally:
        w.page.context.close()
    # two (a projector and its panel): a page that links to each
    w = watched(browser)
    try:
        w.page.goto(f"http://localhost:{ports['dp-projector']}/")
        links = w.page.get_by_role("link")
        assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
            "/?surface=panel", "/?surface=wall"]
        assert "panel" in links.first.inner_text() and "control" in links.first.inner_text()
        links.nth(1).click()
        assert attract_drawn(w.page)["surface"] == "wall"
        assert w.problems == [], w.problems
    finally:
        w.page.context.close()


def test_the_hub_pages_have_an_icon_and_no_failed_request(hall: Hall, browser: Browser
                                                          ) -> None:
    w = watched(browser)
    try:
        w.page.goto(f"http://localhost:{hall.port}/login")
        w.page.wait_for_selector("form", timeout=10000)
        w.page.wait_for_timeout(500)
        assert w.problems == [], w.problems
        icon = f"http://localhost:{hall.port}/favicon.svg"
        assert w.asked.get(icon) == 200, w.asked
        for path in ("/favicon.ico", "/favicon.svg"):
            r = w.page.request.get(f"http://localhost:{hall.port}{path}")
            assert r.status == 200 and r.headers["content-type"] == "image/svg+xml"
            assert r.text().startswith("<svg")
    finally:
        w.page.context.close()


def test_a_plug_in_scene_type_is_drawn_by_its_own_module(tmp_path: Path, browser: Browser
                                                        ) -> None:
    env = install_plugin(tmp_path / "site")
    st = start_station(plugin_exhibit(tmp_path / "ex"), data=tmp_path / "data", env=env)
    w = watched(browser)
    try:
        w.page.goto(f"http://127.0.0.1:{st.port}/")
        attract_drawn(w.page)
        touch_attract(w.page)
        wait_for(w.page, type="poster", timeout=15000)
        poster = w.page.locator("section.plugin-poster[data-plugin=poster]")
        poster.wait_for(state="visible", timeout=15000)
        assert poster.locator("h1").inner_text() == "来自插件的海报"
        colour = poster.evaluate("el => getComputedStyle(el).backgroundColor")
        assert colour == "rgb(42, 127, 98)"
        assert w.page.locator("section.generic").count() == 0  # not the fallback panel
        poster.get_by_role("button").click()  # its own button sends its own input
        wait_for(w.page, type="end", timeout=15000)
        assert w.problems == [], w.problems
        assert state(w.page)["phase"] == "session"
    finally:
        w.page.context.close()
        st.stop()
