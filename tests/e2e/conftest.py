"""Fixtures for the browser tests: one Chromium per module, a demo station per test, and
``make demo``'s hall once for the whole package (test_newcomer, test_rollout_page)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from station._support import DEMO, RunningStation, start_station

from ._browser import launch
from ._hall import Hall, running_hall


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[RunningStation]:
    st = start_station(DEMO, data=tmp_path / "data")
    yield st
    st.stop()


@pytest.fixture(scope="package")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    """``showfloor hall examples/drug-prevention``, as ``make demo`` starts it: started
    once for the browser tests that use it, stopped after the last of them."""
    yield from running_hall(tmp_path_factory.mktemp("hall"))
