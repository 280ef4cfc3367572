"""Alembic migrations of the fleet store, run by the hub at start.

``run_upgrade`` brings a database to the newest revision. On PostgreSQL it
holds an advisory lock meanwhile, so two hub processes started together
do not both try to create the tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from showfloor.hub.db import Database

HERE = Path(__file__).resolve().parent
#: any constant: the key of the advisory lock held while migrating
LOCK_KEY = 7_411_063


def config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def run_upgrade(db: Database, revision: str = "head") -> None:
    cfg = config()
    with db.write() as conn:
        if not db.sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
