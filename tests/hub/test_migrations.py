"""The migrations (hub/migrations): self-contained, and step by step they make the
same database as the application's tables created fresh, on both backends.
"""

from __future__ import annotations

import ast
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select

from showfloor.hub import db as hubdb
from showfloor.hub.migrations import HERE, config, run_upgrade

VERSIONS = sorted((HERE / "versions").glob("0*.py"))


def test_no_migration_imports_the_application() -> None:
    # a later change to the application's tables must never change an old migration
    assert len(VERSIONS) >= 6
    for path in VERSIONS:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
        assert {n for n in imported if n.split(".")[0] == "showfloor"} == set(), path.name


def _schema(url: str) -> dict[str, Any]:
    """Every table as the database describes it: columns, keys, indexes."""
    db = hubdb.Database(url)
    try:
        with db.read() as conn:
            ins = inspect(conn)
            out: dict[str, Any] = {}
            for name in sorted(ins.get_table_names()):
                if name == "alembic_version":
                    continue
                out[name] = {
                    "columns": [(c["name"], str(c["type"]), c["nullable"])
                                for c in ins.get_columns(name)],
                    "primary": ins.get_pk_constraint(name)["constrained_columns"],
                    "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                                      for i in ins.get_indexes(name)),
                    "unique": sorted(tuple(u["column_names"])
                                     for u in ins.get_unique_constraints(name)),
                    "foreign": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                       tuple(f["referred_columns"]))
                                      for f in ins.get_foreign_keys(name)),
                }
            return out
    finally:
        db.dispose()


@pytest.fixture
def second_url(db_url: str, request: pytest.FixtureRequest, tmp_path: Path
               ) -> Iterator[str]:
    """Another empty database on the same backend as ``db_url``."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/fresh.sqlite"
        return
    pg = request.getfixturevalue("postgres")
    name = f"t_{secrets.token_hex(6)}"
    url = pg.create_database(name)
    yield url
    pg.drop_database(name)


def test_migrated_step_by_step_equals_created_fresh(db_url: str, second_url: str) -> None:
    revisions = [s.revision for s in ScriptDirectory.from_config(config()).walk_revisions()]
    assert revisions[-1] == "0001"
    stepped = hubdb.Database(db_url)
    try:
        for rev in reversed(revisions):  # one transaction per revision, oldest first
            run_upgrade(stepped, rev)
        run_upgrade(stepped)  # at head: only the data steps left to run
    finally:
        stepped.dispose()
    fresh = hubdb.Database(second_url)
    try:
        with fresh.write() as conn:
            hubdb.metadata.create_all(conn)
    finally:
        fresh.dispose()
    got, want = _schema(db_url), _schema(second_url)
    assert len(want) == len(hubdb.metadata.tables)
    assert want["station_months"]["primary"] == ["station_id", "month"]
    assert got == want


def test_0009_copies_the_stored_engine_starts_into_boots(db_url: str) -> None:
    # a hub upgraded from 0008 with a year of events: each engine_started becomes a
    # ``boots`` row, the one place a visit's exhibit is now looked up
    db = hubdb.Database(db_url)
    try:
        run_upgrade(db, "0008")
        ev = hubdb.events
        with db.write() as conn:
            conn.execute(ev.insert(), [
                {"station_id": "s1", "id": f"b1-e{n}", "boot": "b1", "source": "engine",
                 "seq": n, "t": 0.0, "wall": 100.0 + n, "kind": kind, "session": None,
                 "scene": None, "data": data, "received": 1.0}
                for n, kind, data in (
                    (1, "engine_started", {"exhibit": "x", "version": "1.0.0"}),
                    (2, "session_started", {"lang": "en"}),
                    (9, "engine_started", {"exhibit": "x", "version": "1.1.0"}),
                    (10, "engine_started", {}))])
        run_upgrade(db)
        b = hubdb.boots.c
        with db.read() as conn:
            got = conn.execute(select(b.station_id, b.boot, b.seq, b.exhibit, b.version, b.wall)
                               .order_by(b.seq)).all()
        assert [tuple(r) for r in got] == [("s1", "b1", 1, "x", "1.0.0", 101.0),
                                           ("s1", "b1", 9, "x", "1.1.0", 109.0),
                                           ("s1", "b1", 10, "", "", 110.0)]
    finally:
        db.dispose()
