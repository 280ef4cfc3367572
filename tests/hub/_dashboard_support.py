"""Helpers for the dashboard tests: users, signed-in clients (httpx and Chromium), heartbeats."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx
from playwright.sync_api import Browser, Page

from showfloor.hub import db as hubdb
from showfloor.hub import users

from ._support import SignedStation

PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def create_admin_cli(db_url: str, name: str, password: str = PASSWORD) -> None:
    """An admin made the way an installer makes the first one: the command line."""
    env = {**os.environ, "SHOWFLOOR_HUB_PASSWORD": password}
    done = subprocess.run([sys.executable, "-m", "showfloor", "hub", "create-admin", name,
                           "--db", db_url], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def create_user(db_url: str, name: str, role: str, password: str = PASSWORD) -> int:
    db = hubdb.Database(db_url)
    try:
        with db.write() as conn:
            return users.create(conn, time.time(), name, password, role, "test")
    finally:
        db.dispose()


def sql(db_url: str, statement: Any, params: Any = None) -> list[Any]:
    """Run one statement on the hub's database (setup and checks only)."""
    db = hubdb.Database(db_url)
    try:
        with db.write() as conn:
            res = conn.execute(statement, params or {})
            return list(res.all()) if res.returns_rows else []
    finally:
        db.dispose()


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def login(base: str, name: str, password: str = PASSWORD) -> httpx.Client:
    """An httpx client with a signed-in dashboard session (close it when done)."""
    client = httpx.Client(base_url=base, timeout=15)
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"csrf": token, "username": name, "password": password,
                                    "next": "/"})
    assert r.status_code == 303, r.text
    return client


@contextlib.contextmanager
def session(base: str, name: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """``with session(url, "ada") as client:`` a signed-in httpx client."""
    client = login(base, name, password)
    try:
        yield client
    finally:
        client.close()


def try_login(client: httpx.Client, name: str, password: str) -> httpx.Response:
    """One sign-in attempt from a fresh session."""
    client.cookies.clear()
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf": token, "username": name, "password": password})


def open_page(browser: Browser, base: str, viewport: dict[str, int] | None = None,
              **context: Any) -> Page:
    """A fresh browser context (its own cookies); console errors are kept in page.errors."""
    ctx = browser.new_context(viewport=viewport or DESKTOP, base_url=base,
                              reduced_motion="reduce", **context)
    page = ctx.new_page()
    errors: list[str] = []
    # a refused sign-in (401) is logged as a failed load; what matters is scripts and CSP
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and
            not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def browser_login(browser: Browser, base: str, name: str, password: str = PASSWORD,
                  viewport: dict[str, int] | None = None, **context: Any) -> Page:
    page = open_page(browser, base, viewport, **context)
    page.goto("/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    return page


class Beating:
    """Heartbeats for a station from a thread, with fields a test may change as it goes."""

    def __init__(self, station: SignedStation, every: float = 0.4, **fields: Any) -> None:
        self.fields = dict(fields)
        self.every = every
        self.beats = 0
        self._station = SignedStation(station.base, station=station.station, key=station.key,
                                      boot=station.boot)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            r = self._station.heartbeat(**self.fields)
            assert r.status_code == 200, r.text
            self.beats += 1
            self._stop.wait(self.every)

    def __enter__(self) -> Beating:
        self._thread.start()
        deadline = time.monotonic() + 10
        while self.beats == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.beats, "no heartbeat got through"
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(10)
        self._station.client.close()

    def set(self, **fields: Any) -> None:
        """Change what the next heartbeats say, and wait until one has said it."""
        self.fields.update(fields)
        seen = self.beats
        deadline = time.monotonic() + 10
        while self.beats < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.02)
