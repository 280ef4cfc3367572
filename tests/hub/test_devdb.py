"""The throwaway PostgreSQL cluster: it runs SQL, keeps databases apart, drops them, cleans up."""

from __future__ import annotations

import socket

import pytest
import sqlalchemy as sa

from showfloor.hub.devdb import TempPostgres


def test_fresh_database_runs_sql(pg_url: str) -> None:
    engine = sa.create_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE visit (id serial PRIMARY KEY, station text NOT NULL)"))
            conn.execute(sa.text("INSERT INTO visit (station) VALUES ('touch'), ('kiosk')"))
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT station FROM visit ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    assert rows == ["touch", "kiosk"]


def test_databases_are_isolated_and_drop_removes_one(postgres: TempPostgres) -> None:
    first = sa.create_engine(postgres.create_database("t_isolation_a"))
    second = sa.create_engine(postgres.create_database("t_isolation_b"))
    try:
        with first.begin() as conn:
            conn.execute(sa.text("CREATE TABLE only_here (x int)"))
        assert sa.inspect(second).get_table_names() == []

        postgres.drop_database("t_isolation_a")  # also cuts `first`'s pooled connection
        first.dispose()
        with pytest.raises(sa.exc.OperationalError, match="t_isolation_a"), first.connect():
            pass
    finally:
        first.dispose()
        second.dispose()
        postgres.drop_database("t_isolation_a")
        postgres.drop_database("t_isolation_b")


def test_url_names_the_port_and_database(postgres: TempPostgres) -> None:
    assert postgres.url("hub") == f"postgresql+psycopg://showfloor@127.0.0.1:{postgres.port}/hub"


def test_stop_removes_the_cluster_and_is_safe_twice() -> None:
    pg = TempPostgres()
    pg.start()
    port, where = pg.port, pg._tmp
    assert where is not None
    assert where.is_dir()
    pg.stop()
    pg.stop()
    assert not where.exists()
    assert not pg.running
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
