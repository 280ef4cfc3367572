"""The station's pages run only the station's own scripts, and exhibit files run none.

- every page (``/``, the surface chooser, ``/fallback``) carries a strict
  Content-Security-Policy header, and every response nosniff, no-referrer and DENY;
- in a real Chromium, the page loads and plays with no policy violation, and an inline
  script or ``eval`` put into it is refused;
- an SVG picture holding a script, an ``onload=`` and a ``javascript:`` link is drawn in
  its scene and runs nothing, neither there nor when its URL is opened on its own.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser

from e2e._browser import (
    is_csp_violation,
    launch,
    open_surface,
    touch_attract,
    wait_for,
)
from showfloor.station.app import WEB

from ._support import DEMO
from .test_operator import LiveStation

COMMON = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
          "x-frame-options": "DENY"}
#: what every page's policy must say (the issue's list)
STRICT = {"default-src": "'self'", "object-src": "'none'", "base-uri": "'none'",
          "frame-ancestors": "'none'", "form-action": "'none'"}


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


def assert_strict_page(r: httpx.Response) -> dict[str, list[str]]:
    assert r.status_code == 200, r.text
    for name, value in COMMON.items():
        assert r.headers[name] == value, name
    assert len(r.headers.get_list("content-security-policy")) == 1
    csp = directives(r.headers["content-security-policy"])
    for name, value in STRICT.items():
        assert csp[name] == [value], (name, csp.get(name))
    script = csp.get("script-src", csp["default-src"])
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, script
    assert all(s == "'self'" or s.startswith("'sha256-") or s == "'none'" for s in script)
    return csp


class Client:
    """GETs from a live station."""

    def __init__(self, st: LiveStation) -> None:
        self.url = st.url

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Client]:
    st = LiveStation(DEMO, tmp_path_factory.mktemp("csp"))
    yield Client(st)
    st.stop()


def test_the_page_sends_a_strict_policy_that_allows_its_import_map_by_hash(
        client: Client) -> None:
    r = client.get("/?surface=main")
    csp = assert_strict_page(r)
    assert "http-equiv" not in r.text  # the header rules: no <meta> policy beside it
    maps = re.findall(r'<script type="importmap">(.*?)</script>', r.text, re.S)
    assert len(maps) == 1
    digest = base64.b64encode(hashlib.sha256(maps[0].encode()).digest()).decode()
    assert csp["script-src"] == ["'self'", f"'sha256-{digest}'"]
    assert r.text == (WEB / "index.html").read_text("utf-8")
    assert r.headers["cache-control"] == "no-store"


def test_the_chooser_and_the_fallback_page_send_it_too(client: Client, tmp_path: Path) -> None:
    prof = tmp_path / "two.yaml"
    prof.write_text(f"station: {{id: two, name: Two}}\nexhibit: {DEMO}\n"
                    "surfaces: [{id: panel, role: control}, {id: glass, role: display}]\n",
                    encoding="utf-8")
    st = LiveStation(DEMO, tmp_path / "data", profile=prof)
    try:
        r = httpx.get(st.url + "/", timeout=10)
    finally:
        st.stop()
    assert "/?surface=glass" in r.text
    csp = assert_strict_page(r)
    assert len(csp["style-src"]) == 2 and csp["style-src"][1].startswith("'sha256-")
    fallback = client.get("/fallback")
    assert_strict_page(fallback)
    assert "<script" not in fallback.text


def test_every_response_is_nosniff_and_exhibit_files_are_sandboxed(
        client: Client) -> None:
    for path in ("/renderer/app.js", "/healthz", "/favicon.svg", "/exhibit/exhibit.yaml"):
        r = client.get(path)
        assert r.status_code == 200, path
        for name, value in COMMON.items():
            assert r.headers[name] == value, (path, name)
    csp = directives(client.get("/exhibit/exhibit.yaml").headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and "sandbox" in csp
    assert "script-src" not in csp


# -- in a real browser -----------------------------------------------------------------

#: a picture that would, if it ever ran, set a global, retitle the page and call home
SCRIPTED = """\
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="600" height="200" onload="window.__svgRan = 'onload'; fetch('/svg-ran?onload')">
  <script>window.__svgRan = 'script'; document.title = 'svg-ran';
    fetch('/svg-ran?script'); try { parent.__svgRan = 'parent' } catch (e) {}</script>
  <rect width="600" height="200" fill="#e61414"/>
  <a xlink:href="javascript:fetch('/svg-ran?link')"><text x="20" y="120">chart</text></a>
</svg>
"""
PLAIN = SCRIPTED.split("<script>")[0].replace(
    " onload=\"window.__svgRan = 'onload'; fetch('/svg-ran?onload')\"", "") + (
    '  <rect width="600" height="200" fill="#e61414"/>\n</svg>\n')

EXHIBIT = """\
format: 1
id: svg-picture
version: 1.0.0
title: {zh-CN: 图, en: A picture}
languages: [zh-CN, en]
default_language: zh-CN
attract: attract
start: chart
scenes:
  - id: attract
    type: attract
    loop: [{image: media/chart.svg, duration: 6}]
    call: {zh-CN: 触摸开始, en: Touch to start}
  - id: chart
    type: media
    title: {zh-CN: 图表, en: A chart}
    image: {src: media/chart.svg, fit: contain, alt: {zh-CN: 一张红色的图, en: A red chart}}
    body: {zh-CN: 看看这张图。, en: Look at this chart.}
    next: ending
  - id: ending
    type: end
    messages: [{text: {zh-CN: 再见, en: Goodbye}}]
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStation]:
    """A station whose SVG passed ``check`` as a plain picture and then gained a script
    on disk (check is one guard; the browser's policy is the other)."""
    tmp_path = tmp_path_factory.mktemp("svg")
    root = tmp_path / "exhibit"
    (root / "media").mkdir(parents=True)
    (root / "exhibit.yaml").write_text(EXHIBIT, "utf-8")
    svg = root / "media" / "chart.svg"
    svg.write_text(PLAIN, "utf-8")
    st = LiveStation(root, tmp_path / "data")
    svg.write_text(SCRIPTED, "utf-8")
    yield st
    st.stop()


def test_the_page_plays_under_its_policy_and_refuses_inline_script_and_eval(
        browser: Browser, scripted: LiveStation) -> None:
    page = open_surface(browser, scripted.port)
    touch_attract(page)
    wait_for(page, scene="chart")
    assert page.js_errors == []  # type: ignore[attr-defined]
    # something that slipped into the page still could not run
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.__inline = 1'; document.head.append(s);
        const i = document.createElement('img'); i.setAttribute('onerror', 'window.__inline = 2');
        i.src = 'data:,'; document.body.append(i); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__inline") == "undefined"
    # (from a task of the page's own: the DevTools protocol's evaluation itself is exempt)
    assert page.evaluate("""() => new Promise((done) => setTimeout(() => {
        try { done(globalThis.eval('"ran"')); } catch (e) { done(e.name); } }))""") == "EvalError"
    assert page.evaluate("""() => import('data:text/javascript,window.__inline=3')
                                  .then(() => 'ran', (e) => e.name)""") == "TypeError"
    assert page.evaluate("typeof window.__inline") == "undefined"
    refused = page.js_errors  # type: ignore[attr-defined]
    assert refused and all(is_csp_violation(t) for t in refused), refused
    page.context.close()
    scripted.call("end_visit")  # back to attract for the next test


def test_an_svg_with_script_is_drawn_and_runs_nothing_in_a_scene_or_opened_alone(
        browser: Browser, scripted: LiveStation) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 720}, reduced_motion="reduce")
    seen: list[str] = []
    context.on("request", lambda r: seen.append(r.url))  # every page of it, from the start
    page = context.new_page()
    page.goto(f"{scripted.url}/?surface=main")
    page.wait_for_function("window.showfloor && window.showfloor.connected")
    touch_attract(page)
    wait_for(page, scene="chart")
    picture = ".scene[data-scene='chart']:not(.scene--leaving) img[src$='chart.svg']"
    img = page.locator(picture)
    img.wait_for(state="visible")
    page.wait_for_function("(p) => { const i = document.querySelector(p); return i && i.complete; }",
                           arg=picture)
    assert img.evaluate("i => i.naturalWidth") == 600  # drawn, as a picture
    assert page.locator("object, embed, iframe, svg script").count() == 0
    page.wait_for_timeout(500)  # a script that ran would have fetched by now
    assert page.evaluate("window.__svgRan === undefined")
    assert page.title() != "svg-ran"
    # opened on its own, as a document: the exhibit's policy sandboxes it and forbids script
    direct = context.new_page()
    r = direct.goto(f"{scripted.url}/exhibit/media/chart.svg")
    assert r is not None and r.ok
    csp = directives(r.headers["content-security-policy"])
    assert csp["default-src"] == ["'none'"] and "sandbox" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    direct.wait_for_timeout(500)
    assert direct.evaluate("window.__svgRan === undefined")
    assert direct.title() != "svg-ran"
    assert direct.locator("rect").count() == 1  # it is the picture, shown
    direct.locator("text").click()  # the javascript: link goes nowhere
    direct.wait_for_timeout(300)
    ran = [u for u in seen if "svg-ran" in u]
    assert ran == [], ran
    assert any(u.endswith("/exhibit/media/chart.svg") for u in seen)
    context.close()
