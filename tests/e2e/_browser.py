"""Debian's Chromium driven by Playwright, and helpers to walk a station like a visitor."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Frame, JSHandle, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic", "--autoplay-policy=no-user-gesture-required",
    "--force-color-profile=srgb", "--hide-scrollbars", "--font-render-hinting=none",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "src" / "showfloor" / "renderer" / "node_modules" / "axe-core" / "axe.min.js"

def _wait_for_function(self: Page | Frame, expression: str, *, arg: Any = None,
                       timeout: float | None = None, polling: Any = None) -> JSHandle:
    """``wait_for_function`` without ``eval``: poll the expression over the DevTools protocol.

    Playwright's own ``wait_for_function`` runs its predicate with ``eval()`` inside the page,
    which the station page's Content-Security-Policy forbids (no ``'unsafe-eval'``, on
    purpose); ``evaluate`` goes through the DevTools protocol and is not subject to it.
    Installed on Playwright's ``Page`` and ``Frame`` for every test that imports this module.
    """
    body = expression.strip()
    test = (f"(arg) => !!(({body})(arg))" if _FUNCTION.match(body) else f"() => !!({body})")
    timeout = 30000 if timeout is None else timeout
    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if self.evaluate(test, arg):  # one round trip a poll
                return self.evaluate_handle(expression, arg)
        except PlaywrightError as err:
            if "Execution context was destroyed" not in str(err):
                raise  # a navigation is retried, as Playwright's own wait does
        if timeout != 0 and time.monotonic() > deadline:
            raise PlaywrightTimeoutError(f"Timeout {timeout}ms exceeded waiting for {expression}")
        time.sleep(0.015)


#: an arrow function or a function expression (called with ``arg``), not a plain expression
_FUNCTION = re.compile(r"^(async\b|function\b|\(?[\w\s,]*\)?\s*=>)")


Page.wait_for_function = _wait_for_function  # type: ignore[assignment,method-assign]
Frame.wait_for_function = _wait_for_function  # type: ignore[assignment,method-assign]


def launch() -> Iterator[Browser]:
    """Debian's Chromium for a test module (the body of each suite's ``browser`` fixture)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}


def is_csp_violation(text: str) -> bool:
    """Whether a console message is the browser refusing something the page's policy forbids."""
    return "Content Security Policy" in text


def open_surface(browser: Browser, port: int, surface: str = "main",
                 viewport: dict[str, int] | None = None, reduced_motion: bool = True) -> Page:
    context = browser.new_context(viewport=viewport or LANDSCAPE,
                                  reduced_motion="reduce" if reduced_motion else "no-preference")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if is_csp_violation(m.text) else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(f"http://127.0.0.1:{port}/?surface={surface}")
    page.wait_for_function("window.showfloor && window.showfloor.connected", timeout=15000)
    return page


def state(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.showfloor.state"))


def view(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.showfloor.lastView"))


def wait_for(page: Page, timeout: float = 10000, **want: Any) -> dict[str, Any]:
    """Wait until window.showfloor.state has every field of ``want``."""
    cond = " && ".join(f"s[{json.dumps(k)}] === {json.dumps(v)}" for k, v in want.items())
    page.wait_for_function(f"(() => {{ const s = window.showfloor.state; return {cond}; }})()",
                           timeout=timeout)
    return state(page)


def touch_attract(page: Page, surface: str = "section.attract") -> None:
    """Touch the attract screen once it is drawn, and wait for the visit to begin.

    The view reaches ``window.showfloor.state`` before its scene module has drawn it, so a
    touch straight after connecting can land on nothing; wait for the drawn screen first.
    """
    wait_for(page, phase="attract", timeout=15000)
    page.wait_for_selector(surface, state="visible", timeout=15000)
    size = page.viewport_size or LANDSCAPE
    page.mouse.click(size["width"] // 2, size["height"] // 2)
    wait_for(page, phase="session", timeout=15000)


def press(page: Page, name: str) -> None:
    """Press the visible button with this accessible name, as a visitor would."""
    page.get_by_role("button", name=name, exact=True).first.click()


def advance(page: Page) -> None:
    press(page, view(page)["ui"]["next"])


def settle(page: Page) -> None:
    """Pause narration half a second in and wait for fonts and two frames: a still picture."""
    page.evaluate("""async () => {
        // paused inside the first caption cue, so the caption bar shows its first line
        for (const m of document.querySelectorAll('audio, video')) {
            m.pause(); try { m.currentTime = 0.5; } catch (e) {}
        }
        await document.fonts.ready;
        await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    }""")
    page.wait_for_timeout(700)


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations (WCAG 2.0/2.1/2.2 A and AA rules) on the page as it is."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated over the DevTools protocol: an inline <script> would break the page's CSP
        page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate("""async () => (await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',
                                         'best-practice']}
    })).violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                              nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))""")
    return list(result)
