"""The fleet store: every table of the hub, and how to reach them.

SQLAlchemy Core on SQLite (the default: one file, one hub process) or
PostgreSQL (a large fleet; any number of hub processes). The hub keeps no
state anywhere else, so hub processes are interchangeable. The schema is
created and upgraded by Alembic (``hub/migrations``); ``tests/hub`` checks
that the migrations and these tables agree.

SQLite: WAL, ``synchronous=NORMAL`` (survives a killed process), and every
write transaction starts with ``BEGIN IMMEDIATE`` under one in-process lock,
so writers queue in order instead of sleeping in SQLite's busy handler.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    Double,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from showfloor.errors import ConfigError

metadata = MetaData()

halls = Table(
    "halls", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("opening_hours", JSON, nullable=False, default=dict),
    Column("closed_mode", String(20), nullable=False, default="attract_only"),
    Column("created", Double, nullable=False),
)

stations = Table(
    "stations", metadata,
    Column("id", String(64), primary_key=True),
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("profile", String(64), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("enrolled", Double, nullable=False),
    Column("revoked", Double),
    # opening hours of this station alone (NULL: the hall's)
    Column("opening_hours", JSON),
    # the last heartbeat, as received, and when
    Column("last_seen", Double),
    Column("heartbeat", JSON),
    Column("last_error", Text),
    Column("last_error_at", Double),
    # free labels an operator targets rollouts with (a JSON list of strings)
    Column("tags", JSON, nullable=False, default=list, server_default=text("'[]'")),
    # the station's last deploy report (POST /api/v1/deploy/status), as received
    Column("content", JSON),
    Index("stations_hall", "hall_id"),
)

enrol_codes = Table(
    "enrol_codes", metadata,
    Column("code_hash", String(64), primary_key=True),  # sha256 of the code: never the code
    Column("hall_id", String(64), ForeignKey("halls.id"), nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("created", Double, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("expires", Double, nullable=False),
    Column("used", Double),
    Column("station_id", String(64)),
)

nonces = Table(
    "nonces", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen", Double, nullable=False),
    Index("nonces_seen", "seen"),
)

events = Table(
    "events", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),  # made on the station: <boot>-<seq>
    Column("boot", String(40), nullable=False),
    Column("source", String(10), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("t", Double, nullable=False),
    Column("wall", Double, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("session", String(64)),
    Column("scene", String(128)),
    Column("data", JSON, nullable=False),
    Column("received", Double, nullable=False),
    Index("events_station_wall", "station_id", "wall"),
    Index("events_kind_wall", "kind", "wall"),
    Index("events_received", "received"),  # what hub/summaries.py has not read yet
)
# each ``engine_started`` a station sent (migration 0009), written by ingest beside the
# event: which exhibit and version a boot ran from which of its engine events on, looked
# up by (station, boot) when a visit is summarised (hub/summaries.py); never purged (no
# visitor in it)
boots = Table(
    "boots", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("boot", String(40), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("exhibit", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("wall", Double, nullable=False),
)

commands = Table(
    "commands", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("station_id", String(64), ForeignKey("stations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("args", JSON, nullable=False),
    Column("created", Double, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("expires", Double, nullable=False),
    # queued → delivered → done | failed; queued/delivered → expired | cancelled
    Column("state", String(12), nullable=False, default="queued"),
    Column("delivered", Double),
    Column("attempts", Integer, nullable=False, default=0),
    Column("finished", Double),
    Column("result", Text),
    Index("commands_station_state", "station_id", "state"),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Double, nullable=False),
    Column("actor", String(100), nullable=False),  # user:<name>, station:<id>, hub
    Column("action", String(40), nullable=False),
    Column("target", String(100), nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Index("audit_at", "at"),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(12), nullable=False),  # viewer | operator | admin
    Column("created", Double, nullable=False),
    Column("disabled", Double),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),  # "user:<name>" or "ip:<address>"
    Column("at", Double, nullable=False),
    Index("login_failures_key_at", "key", "at"),
)

bundles = Table(
    "bundles", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("exhibit", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("manifest", LargeBinary, nullable=False),  # manifest.json, the exact bytes signed
    Column("signature", LargeBinary, nullable=False),  # manifest.sig
    Column("key_id", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),  # the sum of its files' sizes
    Column("files", Integer, nullable=False),
    Column("published", Double, nullable=False),
    Column("published_by", String(100), nullable=False),
    UniqueConstraint("exhibit", "version", name="bundles_exhibit_version"),
)

# files by SHA-256: a row here means every chunk of the file is stored
objects = Table(
    "objects", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("stored", Double, nullable=False),
)

object_chunks = Table(
    "object_chunks", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("n", Integer, primary_key=True),  # byte n * 1 MiB of the file starts it
    Column("data", LargeBinary, nullable=False),  # at most 1 MiB
)

rollouts = Table(
    "rollouts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bundle_id", Integer, ForeignKey("bundles.id"), nullable=False),
    Column("target_kind", String(10), nullable=False),  # station | hall | tag | all
    Column("target", String(64), nullable=False, default=""),
    Column("canary", Integer, nullable=False, default=0),
    Column("canary_unit", String(10), nullable=False, default="stations"),  # or percent
    Column("healthy_seconds", Double, nullable=False),
    # canary → rolling → done; canary/rolling ⇄ halted; any → cancelled
    Column("state", String(12), nullable=False),
    Column("created", Double, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("halted_reason", Text),
    Column("updated", Double, nullable=False),
    Index("rollouts_state", "state"),
)

rollout_stations = Table(
    "rollout_stations", metadata,
    Column("rollout_id", Integer, ForeignKey("rollouts.id"), primary_key=True),
    Column("station_id", String(64), ForeignKey("stations.id"), primary_key=True),
    Column("stage", String(8), nullable=False),  # canary | rest
    # waiting (no command yet), queued, then as the station reports (fleet.DEPLOY_STATES)
    Column("state", String(12), nullable=False, default="waiting"),
    Column("progress", Double),
    Column("bytes", BigInteger),
    Column("reason", Text),
    Column("updated", Double, nullable=False),
    # the deploy command sent to it (NULL: none yet), and since when it reports running
    Column("command_id", Integer),
    Column("running_since", Double),
    # the version it ran when the rollout began (what a rollback goes back to)
    Column("previous", String(64)),
)

settings = Table(
    "settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# -- reports: one row per visit, kept by hub/summaries.py from the events (docs/reports.md)
session_summaries = Table(
    "session_summaries", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("session", String(64), primary_key=True),
    Column("hall_id", String(64), nullable=False),
    Column("boot", String(40), nullable=False),
    Column("exhibit", String(64), nullable=False),  # "" until its engine_started is known
    Column("version", String(64), nullable=False),
    Column("started", Double, nullable=False),  # wall time of session_started
    Column("ended", Double),  # wall time of session_ended (NULL: not ended, or not yet here)
    Column("dwell", Double),  # seconds from start to end (session_ended's duration)
    Column("end_reason", String(32)),  # session_ended's reason: completed, timeout, closed …
    Column("reached_end", Boolean, nullable=False),
    Column("lang", String(16)),  # the language the visit ended in
    Column("scenes", JSON, nullable=False),  # scene ids entered, in order
    Column("n_scenes", Integer, nullable=False),
    Column("last_scene", String(128)),
    Column("quizzes", JSON, nullable=False),  # scene → score, max, correct, count, role, measure
    Column("measure", String(64)),  # the learning measure of its pre/post quizzes, if any
    Column("pre_score", Integer),
    Column("post_score", Integer),
    Column("measure_max", Integer),
    Column("events", Integer, nullable=False),
    Column("first_wall", Double, nullable=False),  # the wall range of all its events
    Column("last_wall", Double, nullable=False),
    Column("updated", Double, nullable=False),
    # the ask terminal's questions: [outcome, entry or null] per ``asked`` event, in order
    Column("asks", JSON, nullable=False, default=list, server_default=text("'[]'")),
    Index("session_summaries_hall_started", "hall_id", "started"),
    Index("session_summaries_exhibit_started", "exhibit", "version", "started"),
    Index("session_summaries_boot", "station_id", "boot"),
)

session_answers = Table(
    "session_answers", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("session", String(64), primary_key=True),
    Column("scene", String(128), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("hall_id", String(64), nullable=False),
    Column("exhibit", String(64), nullable=False),
    Column("version", String(64), nullable=False),
    Column("started", Double, nullable=False),  # the visit's start (date filters)
    Column("choices", JSON, nullable=False),  # choice ids picked, sorted
    Column("correct", Boolean, nullable=False),
    Column("points", Integer, nullable=False),
    Column("role", String(8)),
    Column("measure", String(64)),
    Index("session_answers_question", "exhibit", "version", "scene", "question"),
)

# how far the summaries have read the events (by ``events.received``)
summary_marks = Table(
    "summary_marks", metadata,
    Column("key", String(32), primary_key=True),
    Column("watermark", Double, nullable=False),
    Column("updated", Double, nullable=False),
)

# -- report rollups: sums of the visit summaries per hall, exhibit version and local day
# ("d") or month ("m", keyed by its first day), kept by hub/summaries.py beside them
# (docs/hub.md "Reports at scale"); what analytics/metrics.py reads


def _rollup(name: str, *columns: Column[Any]) -> Table:
    return Table(
        name, metadata,
        Column("grain", String(1), primary_key=True),  # d: a day; m: a month
        Column("day", Date, primary_key=True),  # the day, or the month's first day
        Column("hall_id", String(64), primary_key=True),
        Column("exhibit", String(64), primary_key=True),
        Column("version", String(64), primary_key=True),
        *columns,
    )


report_visits = _rollup(
    "report_visits",
    Column("station_id", String(64), primary_key=True),
    Column("visits", Integer, nullable=False),
    Column("reached", Integer, nullable=False),  # reached an end
    Column("ended", Integer, nullable=False),  # have a dwell
    Column("events", Integer, nullable=False),
)
report_hours = _rollup(
    "report_hours",
    Column("weekday", Integer, primary_key=True, autoincrement=False),  # 0: Monday
    Column("hour", Integer, primary_key=True, autoincrement=False),
    Column("visits", Integer, nullable=False),
)
report_dwell = _rollup(
    "report_dwell",
    Column("seconds", Integer, primary_key=True, autoincrement=False),  # dwell, rounded up
    Column("visits", Integer, nullable=False),
)
report_langs = _rollup(
    "report_langs",
    Column("lang", String(16), primary_key=True),  # "" unknown
    Column("visits", Integer, nullable=False),
)
report_scenes = _rollup(
    "report_scenes",
    Column("scene", String(128), primary_key=True),
    Column("entered", Integer, nullable=False),
    Column("leaving", Integer, nullable=False),  # left there without reaching an end
    Column("position", Integer, nullable=False),  # the earliest place it was entered at
)
report_answers = _rollup(
    "report_answers",
    Column("scene", String(128), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("choices", String(512), primary_key=True),  # the sorted choice ids, as JSON
    Column("correct", Boolean, primary_key=True),
    Column("visits", Integer, nullable=False),
)
report_items = _rollup(  # the discrimination index: answers by their quiz's total
    "report_items",
    Column("scene", String(128), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("total", Integer, primary_key=True, autoincrement=False),  # -1: not completed
    Column("correct", Boolean, primary_key=True),
    Column("visits", Integer, nullable=False),
)
report_pairs = _rollup(  # learning gain: visits by pre and post score (-1: not taken)
    "report_pairs",
    Column("measure", String(64), primary_key=True),
    Column("maximum", Integer, primary_key=True, autoincrement=False),
    Column("pre", Integer, primary_key=True, autoincrement=False),
    Column("post", Integer, primary_key=True, autoincrement=False),
    Column("visits", Integer, nullable=False),
)
report_asks = _rollup(  # the ask terminal: questions and the visits asking them
    "report_asks",
    Column("outcome", String(16), primary_key=True),  # "": every outcome
    Column("entry", String(128), primary_key=True),  # "": every entry (and none)
    Column("asked", Integer, nullable=False),  # questions
    Column("visits", Integer, nullable=False),  # visits with at least one of them
)
# people passing a station (``passer_by``) per local day; attraction
report_presence = Table(
    "report_presence", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("hall_id", String(64), nullable=False),
    Column("passers", Integer, nullable=False),
)
# the UTC hours (wall // 3600) in which a station reported frame times: alive
station_hours = Table(
    "station_hours", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("hour", BigInteger, primary_key=True, autoincrement=False),
)
# per station and UTC month (keyed by its first day), one bit per hour of the month
# (bit i: the month's i-th UTC hour): ``alive`` as ``station_hours`` holds them, ``used``
# where a visit started; what alive-but-unused hours read for a long range
station_months = Table(
    "station_months", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("month", Date, primary_key=True),
    Column("alive", LargeBinary, nullable=False),
    Column("used", LargeBinary, nullable=False),
)
# -- competitions (docs/hub.md): one row per competition a station ran, kept by
# hub/competitions.py from its events, never purged; and their answers summed per
# question (a rollup like the ones above)
competition_results = Table(
    "competition_results", metadata,
    Column("station_id", String(64), primary_key=True),
    Column("boot", String(40), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # competition_started's
    Column("hall_id", String(64), nullable=False),
    Column("exhibit", String(64), nullable=False),  # "" until its engine_started is known
    Column("version", String(64), nullable=False),
    Column("competition", String(64), nullable=False),  # the content's competition id
    Column("final", String(64)),  # the cross-hall final it was a round of (NULL: none)
    Column("started", Double, nullable=False),  # wall time of competition_started
    Column("ended", Double),  # wall time of competition_ended (NULL: not over, or not here)
    Column("asked", Integer, nullable=False),  # questions closed (not skipped)
    Column("teams", Integer, nullable=False),  # teams playing at the start
    Column("board", JSON, nullable=False),  # [{team, name, rank, points, right}], first first
    Column("answers", JSON, nullable=False),  # [[question, correct, elapsed_ms]] closed ones
    Column("events", Integer, nullable=False),
    Column("first_wall", Double, nullable=False),  # the wall range of all its events
    Column("last_wall", Double, nullable=False),
    Column("updated", Double, nullable=False),
    Index("competition_results_hall_started", "hall_id", "started"),
)
report_contests = _rollup(  # competitions' answers per question, apart from visits
    "report_contests",
    Column("competition", String(64), primary_key=True),
    Column("question", String(128), primary_key=True),
    Column("correct", Boolean, primary_key=True),
    # a right answer's time from the reveal in whole tenths of a second; -1: a wrong one
    Column("tenths", Integer, primary_key=True, autoincrement=False),
    Column("answers", Integer, nullable=False),  # teams' answers
)
# a competition final across halls (docs/competition.md), scheduled from the dashboard:
# each hall's host stations get a ``final`` command; the board is worked out from the
# events that arrive (hub/finals.py)
finals = Table(
    "finals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("exhibit", String(64), nullable=False),
    Column("competition", String(64), nullable=False),  # the content's competition id
    Column("halls", JSON, nullable=False),  # hall ids, in the order chosen
    Column("start", Double, nullable=False),  # hub time (Unix seconds) of question 0
    Column("gap", Double, nullable=False),  # seconds between a close and the next reveal
    Column("seed", BigInteger, nullable=False),  # draws the same questions in every hall
    Column("created", Double, nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("state", String(12), nullable=False),  # scheduled | cancelled
    Index("finals_start", "start"),
)


def _dumps(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # e.g. an integer past 64 bits: the stdlib copes
        return json.dumps(value, ensure_ascii=False)


#: JSON columns through orjson (the stdlib encoder showed in the heartbeat profile)
_JSON: dict[str, Any] = {"json_serializer": _dumps, "json_deserializer": orjson.loads}


def insert_new(conn: Connection, table: Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and a bare file path; name the driver SQLAlchemy needs."""
    if "://" not in url:
        return f"sqlite:///{Path(url).resolve()}"
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Database:
    """The hub's connection to its store: ``read()`` and ``write()`` transactions."""

    def __init__(self, url: str, *, pool_size: int = 20) -> None:
        try:
            parsed = make_url(normalize_url(url))
        except ArgumentError as err:
            raise ConfigError(f"'{url}' is not a database URL; use a file path, "
                              "sqlite:///path or postgresql://user@host/db") from err
        self.url = parsed
        self.sqlite = parsed.get_backend_name() == "sqlite"
        self._write_lock = threading.Lock() if self.sqlite else None
        if self.sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            memory = parsed.database in (None, "", ":memory:")
            pool: dict[str, Any] = {"poolclass": NullPool} if memory else {
                "pool_size": pool_size, "max_overflow": pool_size}
            self.engine = create_engine(parsed, connect_args={"check_same_thread": False,
                                                              "timeout": 30}, **pool, **_JSON)
            self._writer = create_engine(parsed, connect_args={"check_same_thread": False,
                                                               "timeout": 30}, **_JSON)
            _sqlite_pragmas(self.engine, immediate=False)
            _sqlite_pragmas(self._writer, immediate=True)
        elif parsed.get_backend_name() == "postgresql":
            # no pre-ping (a round trip per checkout); old connections are recycled
            # instead, and a request that meets a dropped one fails once and is retried
            # by its station
            self.engine = create_engine(parsed, pool_size=pool_size, max_overflow=pool_size,
                                        pool_recycle=900, **_JSON)
            self._writer = self.engine
        else:
            raise ConfigError(f"the hub stores its data in SQLite or PostgreSQL, not "
                              f"{parsed.get_backend_name()}")

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction: committed on success, rolled back on any error."""
        lock = self._write_lock
        if lock is None:
            with self._writer.begin() as conn:
                yield conn
            return
        with lock, self._writer.begin() as conn:
            yield conn

    def check(self) -> None:
        """Connect once, turning a refused connection into one sentence."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except OperationalError as err:
            reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise ConfigError(f"cannot reach the hub database "
                              f"{self.url.render_as_string(hide_password=True)}: {reason}"
                              ) from err

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        """Copy the WAL into the database file (SQLite only; readers and writers go on)."""
        if not self.sqlite:
            return
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute(f"PRAGMA wal_checkpoint({mode})")  # type: ignore[union-attr]
        finally:
            raw.close()

    def dispose(self) -> None:
        if self.sqlite:
            with contextlib.suppress(OperationalError):
                self.checkpoint()
        self.engine.dispose()
        if self._writer is not self.engine:
            self._writer.dispose()


def _sqlite_pragmas(engine: Engine, *, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # the driver stays out; we say BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # no checkpoint in the middle of a request: the hub runs them in the background
        # (HubState), so a request never waits for the WAL to be copied and synced
        cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def upgrade(db: Database) -> None:
    """Bring the schema to the newest migration (safe with several hubs at once)."""
    from showfloor.hub.migrations import run_upgrade

    run_upgrade(db)
