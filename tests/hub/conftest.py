"""Fixtures for hub tests: a fresh, empty database per test, in SQLite and in PostgreSQL.

``db_url`` runs a test once per backend; ``pg_url`` is for tests that need
PostgreSQL itself. The PostgreSQL cluster is one per test session, started on
first use, so a run that selects only ``[sqlite]`` tests starts no server.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from showfloor.hub.devdb import TempPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """The session's throwaway PostgreSQL cluster (``make unit`` installs the server)."""
    with TempPostgres() as pg:
        yield pg


def _fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    pg: TempPostgres = request.getfixturevalue("postgres")
    name = f"t_{secrets.token_hex(6)}"
    url = pg.create_database(name)
    yield url
    pg.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database, once in SQLite and once in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hub.sqlite"
    else:
        yield from _fresh_database(request)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    """Like ``db_url``, but one database per test module and backend (for a module's hub)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('hub')}/hub.sqlite"
    else:
        yield from _fresh_database(request)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database."""
    yield from _fresh_database(request)


@pytest.fixture(autouse=True)
def _close_station_clients() -> Iterator[None]:
    yield
    from ._support import close_clients

    close_clients()
