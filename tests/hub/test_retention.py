"""Retention: raw events older than retention_days go once a day; summaries stay.

The clock is moved by passing ``now``: NOW is 2026-09-01 12:00 in the hall, and

=========  =====  =======================  =================================  =========
boot       visit  started (days before)    events                             after
=========  =====  =======================  =================================  =========
b0         older  200                      engine_started + 5                 all gone
b1         old    181                      engine_started (181 d 1 h) + 5     5 gone
b1         young  179                      5                                  kept
(none)     —      181 / 179                surface_metrics, one each          181 gone
b9         late   181, not summarised yet  engine_started + 5                 kept
=========  =====  =======================  =================================  =========

b1's engine_started is older than the cutoff but kept: its boot still has a visit that
is kept (the summaries read the exhibit from it). "late" arrived after the summaries'
last pass, so it has no summary yet: it is never purged.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from analytics._visits import Boot, local, setup_hall, store
from conftest import Cli
from showfloor.analytics import metrics as m
from showfloor.errors import ConfigError
from showfloor.hub import audit, retention, summaries
from showfloor.hub import db as t
from showfloor.hub.settings import HubSettings

DAY = 86400.0
NOW = local(2026, 9, 1, 12)
VISIT = {"lang": "en", "scenes": ["intro", "end"], "reason": "completed", "dwell": 30.0}


@dataclass
class Purged:
    db: t.Database
    before: dict[str, Any]
    after: dict[str, Any]
    deleted: int | None
    again: int | None


def _visit(b: Boot, name: str, wall: float) -> None:
    b.visit(name, wall, **VISIT)  # session_started, 2 scene_entered, ending_shown, ended


def _events(db: t.Database) -> set[tuple[str, str | None, str]]:
    ev = t.events.c
    with db.read() as conn:
        return {(r.boot, r.session, r.kind) for r in conn.execute(
            select(ev.boot, ev.session, ev.kind))}


def _report(db: t.Database) -> dict[str, Any]:
    with db.read() as conn:
        return m.report(conn, m.Filter())


@pytest.fixture(scope="module")
def purged(module_db_url: str) -> Iterator[Purged]:
    db = t.Database(module_db_url)
    t.upgrade(db)
    setup_hall(db, enrolled=NOW - 300 * DAY)
    b0, b1, b9 = Boot("b0"), Boot("b1"), Boot("b9")
    b0.started(NOW - 200 * DAY - 3600)
    _visit(b0, "older", NOW - 200 * DAY)
    b1.started(NOW - 181 * DAY - 3600)
    _visit(b1, "old", NOW - 181 * DAY)
    _visit(b1, "young", NOW - 179 * DAY)
    for days in (181, 179):
        b1.event("surface_metrics", NOW - days * DAY, source="station", surface="main",
                 frames=60, p50=16.0, p99=20.0)
    for b in (b0, b1):  # each batch arrives a minute after its last event
        store(db, "s1", b.out, max(e["wall"] for e in b.out) + 60)
    summaries.summarise_all(db)
    # the "late" visit arrives after the last pass: not summarised yet
    b9.started(NOW - 181 * DAY - 60)
    _visit(b9, "late", NOW - 181 * DAY)
    store(db, "s1", b9.out, 4e9)
    before = _report(db)
    deleted = retention.run_daily(db, NOW, 180, batch=3)  # 4 batches for b0/b1's 12
    again = retention.run_daily(db, NOW + 3600, 180)  # the same day: not claimed
    yield Purged(db, before, _report(db), deleted, again)
    db.dispose()


def test_events_older_than_retention_are_purged_once_summarised(purged: Purged) -> None:
    # older: 6 (engine_started + 5), old: 5, its surface_metrics: 1
    assert purged.deleted == 12
    assert _events(purged.db) == {
        ("b1", None, "engine_started"),  # its boot's "young" visit is kept
        ("b1", "young", "session_started"), ("b1", "young", "scene_entered"),
        ("b1", "young", "ending_shown"), ("b1", "young", "session_ended"),
        ("b1", None, "surface_metrics"),  # the one 179 days old
        ("b9", None, "engine_started"), ("b9", "late", "session_started"),
        ("b9", "late", "scene_entered"), ("b9", "late", "ending_shown"),
        ("b9", "late", "session_ended"),
    }


def test_summaries_and_report_totals_survive_the_purge(purged: Purged) -> None:
    s = t.session_summaries
    with purged.db.read() as conn:
        kept = {r.session: r.exhibit for r in conn.execute(select(s.c.session, s.c.exhibit))}
    assert kept == {"older": "demo", "old": "demo", "young": "demo"}
    assert purged.before["visits"] == 3
    assert purged.after == purged.before


def test_one_purge_a_day_with_one_audit_line(purged: Purged) -> None:
    assert purged.again is None  # an hour later, the day's purge is done
    with purged.db.read() as conn:
        lines = [a for a in audit.recent(conn) if a["action"] == "events.purged"]
    assert len(lines) == 1
    assert lines[0]["actor"] == "hub"
    assert lines[0]["detail"] == {"deleted": 12, "until": NOW - 180 * DAY,
                                  "retention_days": 180}


def test_a_day_later_the_179_day_old_visit_goes_too(purged: Purged) -> None:
    # runs last in the module (it purges): two days on, "young" is 181 days old
    ev = t.events.c
    # engine_started, the 5 of "young" and the surface_metrics 179 days old
    assert retention.run_daily(purged.db, NOW + 2 * DAY, 180) == 7
    with purged.db.read() as conn:
        left = conn.execute(select(func.count()).select_from(t.events)
                            .where(ev.boot == "b1")).scalar_one()
    assert left == 0
    assert _report(purged.db) == purged.before


def test_two_hub_processes_one_claims_the_day(purged: Purged) -> None:
    # after the tests above: 10 days on, two processes look at the same moment
    go = threading.Barrier(2)
    won: list[bool] = []

    def look() -> None:
        go.wait()
        with purged.db.write() as conn:
            won.append(retention.claim(conn, NOW + 10 * DAY))

    threads = [threading.Thread(target=look) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    assert sorted(won) == [False, True]


# -- the settings ---------------------------------------------------------------------------

def test_settings_refuse_a_k_below_five_and_no_retention() -> None:
    assert (HubSettings().report_min_cell, HubSettings().retention_days) == (10, 180)
    assert HubSettings(report_min_cell=5).report_min_cell == 5
    with pytest.raises(ConfigError, match="report_min_cell is 4, but reports may not show "
                                          "numbers of fewer than 5 visits"):
        HubSettings(report_min_cell=4)
    with pytest.raises(ConfigError, match="retention_days is 0; raw events must be kept at "
                                          "least 1 day"):
        HubSettings(retention_days=0)


def test_the_hub_does_not_start_with_k_below_five(cli: Cli, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWFLOOR_HUB_REPORT_MIN_CELL", "3")
    done = cli("hub", "--db", tmp_path / "hub.sqlite", "--port", "1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().splitlines() == [
        "error: report_min_cell is 3, but reports may not show numbers of fewer than 5 "
        "visits (minors' privacy); use 5 or more (the default is 10)"]
