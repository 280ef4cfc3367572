"""Typed questions are never kept, unless a hall switches on ``ask: {keep_unanswered:
true}`` in its station profile: then a refused question's text, scrubbed, goes to
``<data>/ask.sqlite`` for curators (``showfloor ask review``) and is deleted after
:data:`KEEP_DAYS` days.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from showfloor.ask import text as T

KEEP_DAYS = 30
DAY = 86400.0
_SCRUBS = (
    # e-mail addresses
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE), "[email]"),
    # Chinese resident ID card numbers: 17 digits and a digit or X
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[id]"),
    # phone numbers: +86 138 0013 8000, 010-12345678, (555) 123-4567, 12355
    (re.compile(r"\+?\(?\d[\d\s().-]{5,}\d"), "[number]"),
    # any other run of 3 digits or more (house numbers, codes, ages are kept: 2 digits)
    (re.compile(r"\d{3,}"), "[number]"),
)


def scrub(text: str) -> str:
    """The question without e-mail addresses, ID-card numbers, phone numbers or digit runs
    (normalised first, so full-width digits are caught too)."""
    out = T.normalise(text)
    for pattern, mark in _SCRUBS:
        out = pattern.sub(mark, out)
    return out


@dataclass(frozen=True, slots=True)
class Group:
    text: str
    count: int
    langs: tuple[str, ...]
    first: float
    last: float
    related: str | None


class UnansweredStore:
    """The refused questions of one station, scrubbed (real SQLite, WAL, one writer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS unanswered (at REAL NOT NULL, "
                       "lang TEXT NOT NULL, text TEXT NOT NULL, related TEXT)")
            db.execute("CREATE INDEX IF NOT EXISTS unanswered_at ON unanswered(at)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5, isolation_level=None)

    def add(self, text: str, lang: str, related: str | None = None,
            now: float | None = None) -> str | None:
        """Keep a scrubbed refused question; the text kept (None: nothing left to keep)."""
        clean = scrub(text)
        if not any(c.isalnum() for c in clean.replace("[number]", "").replace("[email]", "")
                   .replace("[id]", "")):
            return None
        at = time.time() if now is None else now
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO unanswered VALUES (?, ?, ?, ?)", (at, lang, clean, related))
            db.execute("DELETE FROM unanswered WHERE at < ?", (at - KEEP_DAYS * DAY,))
            db.execute("COMMIT")
        return clean

    def purge(self, now: float | None = None) -> int:
        """Delete what is older than :data:`KEEP_DAYS` days; how many went."""
        at = time.time() if now is None else now
        with closing(self._connect()) as db:
            cur = db.execute("DELETE FROM unanswered WHERE at < ?", (at - KEEP_DAYS * DAY,))
            return cur.rowcount

    def groups(self, now: float | None = None) -> list[Group]:
        """The kept questions grouped by their text (case and spacing aside), most asked
        first; older than :data:`KEEP_DAYS` days are purged first."""
        self.purge(now)
        with closing(self._connect()) as db:
            rows = db.execute("SELECT text, lang, at, related FROM unanswered").fetchall()
        found: dict[str, list[tuple[str, str, float, str | None]]] = {}
        for text, lang, at, related in rows:
            found.setdefault(" ".join(str(text).split()), []).append((text, lang, at, related))
        out = [Group(key, len(v), tuple(sorted({r[1] for r in v})), min(r[2] for r in v),
                     max(r[2] for r in v), next((r[3] for r in v if r[3]), None))
               for key, v in found.items()]
        return sorted(out, key=lambda g: (-g.count, -g.last, g.text))

    def __iter__(self) -> Iterator[tuple[float, str, str]]:
        with closing(self._connect()) as db:
            yield from db.execute("SELECT at, lang, text FROM unanswered ORDER BY at")
