"""Fixtures for station tests (helpers live in _support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ._support import DEMO, RunningStation, start_station


@pytest.fixture
def station(tmp_path: Path) -> Iterator[RunningStation]:
    st = start_station(DEMO, data=tmp_path / "data")
    yield st
    st.stop()
