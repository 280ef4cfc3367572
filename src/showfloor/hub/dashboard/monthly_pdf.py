"""The monthly report as a PDF (``showfloor hub report --month M --pdf FILE``).

The page is the dashboard's ``/reports/monthly``, rendered here in process from the same
template and the same (suppressed) numbers, then opened in Chromium through Playwright
with print media and printed to A4. Chromium fetches nothing from the network: the page
and its files (``reports.css``, ``reports.js``, ECharts) are answered from the package by
a route on a made-up origin, under the dashboard's own Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import mimetypes
import os
import re
import time
from pathlib import Path
from typing import Any

from showfloor.analytics import privacy
from showfloor.errors import ShowfloorError
from showfloor.hub import db as hubdb
from showfloor.hub.dashboard import STATIC, render, reports
from showfloor.hub.dashboard.security import HEADERS, STATIC_URL
from showfloor.hub.settings import HubSettings
from showfloor.station import kiosk

#: the page's origin inside the printing browser (never looked up: every request is routed)
ORIGIN = "http://report.showfloor.invalid"
#: the longest the charts may take to draw (ms)
DRAW_TIMEOUT = 15000
#: the page's width while it is laid out: A4 (210 mm) less the @page margins, at 96 dpi
WIDTH = 705


class PrintError(ShowfloorError):
    """Chromium could not be found, started or made to print."""


def find_browser(given: str | None = None) -> str:
    """The Chromium to print with: ``given``, else the one the kiosk would start."""
    if given and not Path(given).is_file():
        raise PrintError(f"there is no browser at {given}; give the path of Chromium "
                         "(e.g. /usr/bin/chromium)")
    try:
        return kiosk.find_browser(given)
    except ShowfloorError as err:
        raise PrintError(f"{err} (it prints the PDF)") from None


def monthly_html(database: hubdb.Database, settings: HubSettings, month: str,
                 hall: str | None, locale: str = "EN") -> str:
    """The monthly page's HTML, as the dashboard serves it (a ReportError for bad input)."""
    k = privacy.check_k(settings.report_min_cell)
    with database.read() as conn:
        ctx = reports.monthly_context(conn, month, hall, k)
    return render.env.get_template("monthly.html").render(
        user=None, csrf="", path="/reports/monthly", now=time.time(), problem="",
        locale=locale, generated=dt.datetime.now(dt.UTC), **ctx)


def _file(path: str) -> Path | None:
    """The package file behind a URL path of the page (None: not one of its files)."""
    for prefix, root in ((reports.ECHARTS_URL + "/", reports.ECHARTS),
                         (STATIC_URL + "/", STATIC)):
        if path.startswith(prefix):
            target = (root / path[len(prefix):]).resolve()
            if target.is_relative_to(root.resolve()) and target.is_file():
                return target
            return None
    return None


def print_pdf(html: str, out: Path, *, browser: str | None = None) -> int:
    """Print the page to ``out`` (A4) and return its number of pages."""
    chromium = find_browser(browser)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        raise PrintError("printing a PDF needs Playwright: pip install 'showfloor[pdf]' "
                         "(or pip install playwright)") from None

    def answer(route: Route) -> None:
        url = route.request.url
        path = re.sub(r"[?#].*$", "", url[len(ORIGIN):]) if url.startswith(ORIGIN) else ""
        if path == "/reports/monthly":
            route.fulfill(status=200, body=html, headers={
                **HEADERS, "content-type": "text/html; charset=utf-8"})
            return
        found = _file(path)
        if found is None:
            route.fulfill(status=404, body="not found")
            return
        kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
        route.fulfill(status=200, body=found.read_bytes(), headers={
            **HEADERS, "content-type": kind})

    args = ["--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--font-render-hinting=none", "--force-color-profile=srgb"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--no-sandbox")  # Chromium refuses to start as root without it
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=chromium, args=args)
            try:
                page = b.new_page(viewport={"width": WIDTH, "height": 1000})
                page.route(ORIGIN + "/**", answer)
                page.emulate_media(media="print")
                page.goto(ORIGIN + "/reports/monthly", wait_until="load")
                _wait_drawn(page)
                data = page.pdf(format="A4", print_background=True,
                                prefer_css_page_size=True)
            finally:
                b.close()
    except PlaywrightError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PrintError(f"Chromium ({chromium}) could not print the report: "
                         f"{first[:300]}") from None
    try:
        out.write_bytes(data)
    except OSError as err:
        raise PrintError(f"cannot write {out} ({err.strerror})") from None
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def _wait_drawn(page: Any) -> None:
    """Until reports.js has drawn every chart (polled: the page's CSP forbids eval)."""
    deadline = time.monotonic() + DRAW_TIMEOUT / 1000
    while time.monotonic() < deadline:
        if page.evaluate("() => document.documentElement.dataset.charts !== undefined"):
            return
        time.sleep(0.02)
    raise PrintError("the report's charts were not drawn within "
                     f"{DRAW_TIMEOUT // 1000} s; nothing was written")
