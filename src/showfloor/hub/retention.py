"""Retention: raw events older than ``retention_days`` are deleted once a day.

Every hub process runs :func:`loop`; once a day one of them does the work. It claims
the day with a compare-and-set ``UPDATE`` of the ``retention`` row of
``summary_marks`` (the row holds when the last purge ran), as hub/summaries.py claims
its ranges: a second process finds the row moved and does nothing.

What goes: rows of ``events`` whose ``wall`` is older than the cutoff (now −
retention_days), and only

- events the summaries have already read (received before the summary watermark and
  the last pass, less how far a pass looks back: :func:`summaries.overlap`), and
- for a visit's events, only once the visit has its ``session_summaries`` row and every
  event of it is older than the cutoff (its ``last_wall``): a visit's events go all
  together, never a visit that is not summarised yet;
- a boot's ``engine_started`` (it names the exhibit and version of the boot's visits),
  only once no visit of that boot is kept.

An event of a purged visit that arrives later still (a station offline for longer than
the retention period) makes the summaries summarise that visit again from what is left:
that one visit's summary then covers only the late events.

What stays: ``session_summaries``, ``session_answers``, ``competition_results`` and the
report rollups (every report is computed from them), the audit log, and everything
else. A competition's events are station events and go like the others; its row stays
(``hub/competitions.py`` keeps a row read again from fewer events as it was). The purge goes
station by station (those in ``stations``) in batches of :data:`BATCH` rows, each
batch its own short write transaction, so ingest waits at most one batch. Each purge
that deleted anything writes one audit line (``events.purged``: ``deleted``, ``until``
the cutoff, ``retention_days``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import Connection, and_, delete, exists, or_, select, update

from showfloor.hub import audit, summaries
from showfloor.hub import db as t
from showfloor.hub.state import in_background

if TYPE_CHECKING:
    from showfloor.hub.state import HubState

log = logging.getLogger("showfloor.hub.retention")

DAY = 86400.0
#: how often each hub process looks whether today's purge is due (seconds)
CHECK_SECONDS = 3600.0
#: the first look comes this long after the hub starts (a hub started for a moment,
#: such as a test's, leaves the database alone)
START_DELAY = 60.0
#: the most events one write transaction deletes
BATCH = 2000
#: the ``summary_marks`` row that holds when the last purge ran
MARK = "retention"


def claim(conn: Connection, now: float) -> bool:
    """Whether this process may purge now: a day since the last purge, and it won the row."""
    m = t.summary_marks.c
    row = conn.execute(select(m.watermark).where(m.key == MARK)).first()
    if row is None:
        conn.execute(t.insert_new(conn, t.summary_marks), {"key": MARK, "watermark": 0.0,
                                                          "updated": 0.0})
        row = conn.execute(select(m.watermark).where(m.key == MARK)).one()
    last = float(row[0])
    if now - last < DAY:
        return False
    won = conn.execute(update(t.summary_marks).where(m.key == MARK)
                       .where(m.watermark == last).values(watermark=now, updated=now))
    return won.rowcount == 1


def _safe(conn: Connection) -> float:
    """Events received before this have been read by the summaries."""
    m = t.summary_marks.c
    row = conn.execute(select(m.watermark, m.updated).where(m.key == summaries.MARK)).first()
    if row is None:
        return 0.0
    return min(float(row[0]), float(row[1])) - summaries.overlap(conn)


def _batch(conn: Connection, station: str, cutoff: float, safe: float, limit: int
           ) -> int:
    ev, s = t.events.c, t.session_summaries.c
    # a visit's events: once it is summarised and all of its events are old
    summarised = exists().where(s.station_id == ev.station_id).where(s.session == ev.session) \
        .where(s.last_wall < cutoff)
    # a boot's engine_started (which names the exhibit of its visits): once no visit of
    # that boot is young enough to be kept
    boot_young = exists().where(s.station_id == ev.station_id).where(s.boot == ev.boot) \
        .where(s.last_wall >= cutoff)
    ids = [i for (i,) in conn.execute(
        select(ev.id).where(ev.station_id == station).where(ev.wall < cutoff)
        .where(ev.received < safe)
        .where(or_(and_(ev.session.is_(None), ev.kind != "engine_started"),
                   and_(ev.session.is_(None), ev.kind == "engine_started", ~boot_young),
                   and_(ev.session.is_not(None), summarised)))
        .limit(limit))]
    if ids:
        conn.execute(delete(t.events).where(t.events.c.station_id == station)
                     .where(t.events.c.id.in_(ids)))
    return len(ids)


def purge(db: t.Database, now: float, days: int, *, batch: int = BATCH) -> int:
    """Delete the events older than ``days`` days (see the module); how many went.

    Writes one audit line when it deleted any.
    """
    cutoff = now - days * DAY
    with db.read() as conn:
        stations = [sid for (sid,) in conn.execute(select(t.stations.c.id)
                                                   .order_by(t.stations.c.id))]
        safe = _safe(conn)
    deleted = 0
    for sid in stations:
        while True:
            with db.write() as conn:
                n = _batch(conn, sid, cutoff, safe, batch)
            deleted += n
            if n < batch:
                break
    if deleted:
        with db.write() as conn:
            audit.record(conn, now, "hub", "events.purged", "events", deleted=deleted,
                         until=cutoff, retention_days=days)
    log.info("retention: deleted %d events older than %d days", deleted, days)
    return deleted


def run_daily(db: t.Database, now: float, days: int, *, batch: int = BATCH) -> int | None:
    """Today's purge if it is due and this process claimed it (else None)."""
    with db.write() as conn:
        if not claim(conn, now):
            return None
    return purge(db, now, days, batch=batch)


async def loop(state: HubState) -> None:
    """Every :data:`CHECK_SECONDS`, the daily purge when due (run by every hub process)."""
    await asyncio.sleep(START_DELAY)
    while True:
        try:
            await asyncio.to_thread(run_daily, state.db, time.time(),
                                    state.settings.retention_days)
        except Exception as err:  # noqa: BLE001 - the database may be restarting
            log.warning("purging old events failed: %s", err)
        await asyncio.sleep(CHECK_SECONDS)


def running(state: HubState) -> contextlib.AbstractAsyncContextManager[asyncio.Task[None]]:
    """The loop, for as long as the hub app lives (its lifespan)."""
    return in_background(loop(state))
