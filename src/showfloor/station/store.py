"""The station's local event log: real SQLite, WAL, one writer.

Every event the engine records, and the station's own (surfaces coming and
going, renderer frame times, missing assets), goes into one table with an id
made here (``<boot>-<seq>``), so a later upload to the hub can be
acknowledged and de-duplicated by id. Writes are grouped: a writer thread
commits whatever is queued as soon as the previous commit is done, with
``synchronous=FULL`` so a committed event survives a power cut; the event
loop never waits for the disk.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from showfloor.engine.effects import Event

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id       TEXT PRIMARY KEY,          -- <boot>-<seq>: unique, made on the station
    boot     TEXT NOT NULL,             -- one id per station process start
    source   TEXT NOT NULL,             -- engine | station
    seq      INTEGER NOT NULL,
    t        REAL NOT NULL,             -- monotonic seconds (engine time)
    wall     REAL NOT NULL,             -- Unix time when written (may be wrong on a board without a clock)
    kind     TEXT NOT NULL,
    session  TEXT,                      -- anonymous session id, or NULL
    scene    TEXT,
    data     TEXT NOT NULL,             -- JSON: ids and numbers, never free text
    uploaded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS events_boot ON events (boot, source, seq);
CREATE INDEX IF NOT EXISTS events_session ON events (session);
CREATE INDEX IF NOT EXISTS events_upload ON events (uploaded) WHERE uploaded = 0;
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, wall);
CREATE TABLE IF NOT EXISTS boots (
    boot     TEXT PRIMARY KEY,          -- one row per station process start
    started  REAL NOT NULL,
    exhibit  TEXT NOT NULL,             -- the exhibit it runs: the one it started with,
    version  TEXT NOT NULL,             -- then the one each reload brought
    path     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS loads (      -- every exhibit a boot ran: its start, then each reload
    boot     TEXT NOT NULL,
    n        INTEGER NOT NULL,          -- 1: the start, 2: the first reload, ...
    at       REAL NOT NULL,             -- Unix time
    seq      INTEGER NOT NULL,          -- the engine events after this number are this exhibit's
    exhibit  TEXT NOT NULL,
    version  TEXT NOT NULL,
    path     TEXT NOT NULL,
    PRIMARY KEY (boot, n)
);
"""

_STOP = object()
#: the most events one commit takes: a small one still fits on a nearly full disk
MAX_GROUP = 500


class EventStore:
    """Append-only event log with a single writer thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.boot = uuid.uuid4().hex[:12]
        self._queue: queue.Queue[Any] = queue.Queue()
        self._station_seq = 0
        self._loads = 0
        self.written = 0
        #: failed commits so far, and the last reason (a full disk, say); the events
        #: stay queued in memory and are written once the disk takes them again
        self.errors = 0
        self.last_error: str | None = None
        self._held = 0
        self._errors: deque[tuple[float, dict[str, Any]]] = deque(maxlen=20)
        self._idle = threading.Event()
        self._idle.set()
        con = self._connect()
        con.executescript(SCHEMA)
        con.close()
        self._thread = threading.Thread(target=self._writer, name="showfloor-store",
                                        daemon=True)
        self._thread.start()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                              check_same_thread=False)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        return con

    def register_boot(self, exhibit: str, version: str, path: str, seq: int = 0) -> None:
        """Record the exhibit this boot runs: at the start, and again after every reload.

        ``seq`` is the engine's last event number before it (0 at the start).
        """
        self._loads += 1
        self._idle.clear()
        self._queue.put(("boot", (self.boot, time.time(), exhibit, version, path, seq,
                                  self._loads)))

    def add(self, event: Event, source: str = "engine") -> None:
        """Queue an engine event (the caller never waits for the disk)."""
        row = (f"{self.boot}-{source[0]}{event.seq}", self.boot, source, event.seq, event.t,
               time.time(), event.kind, event.session, event.scene,
               json.dumps(dict(event.data), ensure_ascii=False, separators=(",", ":")))
        self._idle.clear()
        self._queue.put(("event", row))
        if event.kind == "error":
            self._errors.append((row[5], dict(event.data)))

    def recent_errors(self, within: float = 600.0) -> list[tuple[float, dict[str, Any]]]:
        """The errors recorded in the last ``within`` seconds (wall time, data), oldest first."""
        since = time.time() - within
        return [e for e in list(self._errors) if e[0] >= since]

    def station_event(self, t: float, kind: str, /, **data: Any) -> None:
        """Queue an event of the station itself (not the engine's)."""
        self._station_seq += 1
        self.add(Event(self._station_seq, t, kind, None, None, data), source="station")

    def _fail(self, err: sqlite3.Error) -> None:
        self.errors += 1
        if str(err) != self.last_error:  # say it once, not every retry
            self._errors.append((time.time(), {"what": "store", "detail": str(err)[:200]}))
        self.last_error = str(err)

    def _open(self) -> sqlite3.Connection:
        """The writer's connection; a disk that refuses is retried, never the end of it."""
        while True:
            try:
                return self._connect()
            except sqlite3.Error as err:
                self._fail(err)
                time.sleep(0.5)

    def _writer(self) -> None:
        con = self._open()
        held: list[Any] = []  # taken from the queue, not yet committed: kept in order
        try:
            while True:
                if not held:
                    held.append(self._queue.get())
                while len(held) < MAX_GROUP:
                    try:
                        held.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                self._held = len(held)
                stop = any(b is _STOP for b in held)
                rows = [b[1] for b in held if b is not _STOP and b[0] == "event"]
                boots = [b[1] for b in held if b is not _STOP and b[0] == "boot"]
                try:
                    con.execute("BEGIN IMMEDIATE")
                    for boot, at, exhibit, version, path, seq, n in boots:
                        con.execute("INSERT OR IGNORE INTO boots VALUES (?,?,?,?,?)",
                                    (boot, at, exhibit, version, path))
                        con.execute("UPDATE boots SET exhibit = ?, version = ?, path = ? "
                                    "WHERE boot = ?", (exhibit, version, path, boot))
                        con.execute("INSERT OR IGNORE INTO loads VALUES (?,?,?,?,?,?,?)",
                                    (boot, n, at, seq, exhibit, version, path))
                    if rows:
                        con.executemany(
                            "INSERT OR IGNORE INTO events (id, boot, source, seq, t, wall, kind,"
                            " session, scene, data) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
                    con.execute("COMMIT")
                    self.written += len(rows)
                    self.last_error = None
                except sqlite3.Error as err:
                    self._fail(err)
                    with contextlib.suppress(sqlite3.Error):
                        con.execute("ROLLBACK")
                    # a failed commit leaves its frames in the WAL: give the disk back
                    with contextlib.suppress(sqlite3.Error):
                        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    # keep what is held and try again shortly (a full disk may clear)
                    time.sleep(0.5)
                    continue
                held = []
                self._held = 0
                if self._queue.empty():
                    self._idle.set()
                if stop:
                    return
        finally:
            with contextlib.suppress(sqlite3.Error):
                con.close()

    @property
    def pending(self) -> int:
        """Events (and boots) queued or held but not yet committed."""
        return self._queue.qsize() + self._held

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued is committed."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    # -- reading (a separate connection: readers never block the writer) --
    def _reader(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def count(self, kind: str | None = None) -> int:
        with self._reader() as con:
            if kind is None:
                return int(con.execute("SELECT count(*) FROM events").fetchone()[0])
            return int(con.execute("SELECT count(*) FROM events WHERE kind = ?",
                                   (kind,)).fetchone()[0])


def boots(path: str | Path) -> list[dict[str, Any]]:
    """The station process starts recorded in a log, oldest first.

    Each: ``boot``, ``started``, the ``exhibit``, ``version`` and ``path`` it runs
    (or ran last: a reload changes them), and ``loads``, every exhibit it ran in
    order — ``{at, seq, exhibit, version, path}``, the start first, then each
    reload; its engine events after ``seq`` are that exhibit's.
    """
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        found = [dict(r) for r in con.execute("SELECT * FROM boots ORDER BY started")]
        loads: dict[str, list[dict[str, Any]]] = {}
        has_loads = con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                                "name = 'loads'").fetchone() is not None
        if has_loads:  # a log written before reloads were recorded has none
            for r in con.execute("SELECT boot, at, seq, exhibit, version, path FROM loads "
                                 "ORDER BY boot, n"):
                load = dict(r)
                loads.setdefault(load.pop("boot"), []).append(load)
        for b in found:
            b["loads"] = loads.get(b["boot"]) or [
                {"at": b["started"], "seq": 0, "exhibit": b["exhibit"],
                 "version": b["version"], "path": b["path"]}]
        return found
    finally:
        con.close()


def engine_events(path: str | Path, boot: str | None = None) -> Iterator[Event]:
    """The engine's events of one boot (the last by default), in order: a replayable log."""
    con = sqlite3.connect(path)
    try:
        if boot is None:
            row = con.execute("SELECT boot FROM boots ORDER BY started DESC LIMIT 1").fetchone()
            if row is None:
                return
            boot = row[0]
        sql = ("SELECT seq, t, kind, session, scene, data FROM events "
               "WHERE boot = ? AND source = 'engine'")
        for seq, t, kind, sess, scene, data in con.execute(sql + " ORDER BY seq", (boot,)):
            yield Event(seq, t, kind, sess, scene, json.loads(data))
    finally:
        con.close()
