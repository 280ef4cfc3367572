"""Fixtures for the browser tests: one Chromium per module, a demo station per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from station._support import DEMO, RunningStation, start_station

from ._browser import launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningStation]:
    st = start_station(DEMO, data=tmp_path / "data")
    yield st
    st.stop()
