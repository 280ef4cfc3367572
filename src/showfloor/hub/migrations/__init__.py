"""Alembic migrations of the fleet store, run by the hub at start.

``run_upgrade`` brings a database to the newest revision. On PostgreSQL it
holds an advisory lock meanwhile, so two hub processes started together
do not both try to create the tables.

A migration is self-contained: it writes out the tables as they are at its revision
and imports nothing from the application, so a later change to the application's
tables can never change an old migration. Where a migration needs the data filled in
by the application's code (the report rollups summed from the visits), it leaves a
row ``pending:<step>`` in ``summary_marks``; once the schema is at the newest revision,
``run_upgrade`` runs each pending step from :data:`DATA_STEPS`, in the same
transaction, and removes its row.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, delete, select

if TYPE_CHECKING:
    from showfloor.hub.db import Database

HERE = Path(__file__).resolve().parent
#: any constant: the key of the advisory lock held while migrating
LOCK_KEY = 7_411_063


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def _rollups(conn: Connection) -> None:
    from showfloor.hub.rollups import rebuild_rollups

    rebuild_rollups(conn)


def _station_months(conn: Connection) -> None:
    from showfloor.hub.rollups import rebuild_station_months

    rebuild_station_months(conn)


def _competitions(conn: Connection) -> None:
    from showfloor.hub.competitions import rebuild

    rebuild(conn)


#: the data steps a migration may ask for, in the order they run (``pending:<name>``);
#: ``rollups`` rebuilds ``station_months`` too
DATA_STEPS = {"rollups": _rollups, "station_months": _station_months,
              "competitions": _competitions}


def run_data_steps(conn: Connection) -> list[str]:
    """Run the data steps the migrations left pending; the names of those run."""
    from showfloor.hub.db import summary_marks

    m = summary_marks.c
    pending = {str(k).removeprefix("pending:") for (k,) in conn.execute(
        select(m.key).where(m.key.like("pending:%")))}
    ran = []
    for name, step in DATA_STEPS.items():
        if name in pending and not (name == "station_months" and "rollups" in ran):
            step(conn)
            ran.append(name)
    if pending:
        conn.execute(delete(summary_marks).where(m.key.like("pending:%")))
    return ran


def run_upgrade(db: Database, revision: str = "head") -> None:
    cfg = config()
    with db.write() as conn:
        if not db.sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        if revision == "head":
            run_data_steps(conn)
