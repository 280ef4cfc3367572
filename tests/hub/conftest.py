"""Fixtures for hub tests.

The databases (``db_url``: SQLite and PostgreSQL; ``module_db_url``; ``pg_url``) and the
session's one PostgreSQL cluster (``postgres``) are in tests/conftest.py, shared with the
station tests that talk to a hub.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _close_station_clients() -> Iterator[None]:
    yield
    from ._support import close_clients

    close_clients()
