"""Fixtures for the browser tests: one Chromium per module, a demo station per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from station._support import DEMO, RunningStation, start_station

from ._browser import ARGS, CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run 'make test' (it installs Debian's chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningStation]:
    st = start_station(DEMO, data=tmp_path / "data")
    yield st
    st.stop()
