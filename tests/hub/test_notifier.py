"""The long-poll notifier: which queued commands wake which polls (commands.Notifier)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from showfloor import fleet
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub import enrolment

from ._support import make_code


def _stations(db: t.Database, url: str, n: int) -> list[str]:
    out = []
    for i in range(n):
        code = make_code(url)
        with db.write() as conn:
            got = enrolment.enrol(conn, time.time(), fleet.EnrolRequest(
                code=code, public_key=fleet.StationKey.generate().public(), profile=f"s{i}"))
        out.append(str(got["station"]))
    return out


def test_a_command_that_commits_after_a_larger_id_still_wakes_its_poll(pg_url: str) -> None:
    """PostgreSQL hands out ids before commit: id 2 can be visible before id 1."""
    db = t.Database(pg_url)
    try:
        t.upgrade(db)
        slow, quick = _stations(db, pg_url, 2)
        notifier = cmds.Notifier(db)
        notifier._seen.append((time.monotonic(), notifier._max_id()))
        with db.engine.connect() as held:  # an operator whose transaction is slow to commit
            tx = held.begin()
            late = cmds.queue(held, time.time(), slow, "attract", {}, "test", 60)
            with db.write() as conn:
                early = cmds.queue(conn, time.time(), quick, "attract", {}, "test", 60)
            assert early > late
            assert [cid for cid, _ in notifier.scan()] == [early]
            tx.commit()
        # the larger id was seen first; the smaller one, now committed, is still news
        assert (late, slow) in notifier.scan()
        # once taken, a command wakes nobody any more
        with db.write() as conn:
            assert [c.id for c in cmds.take(conn, slow, time.time())] == [late]
            cmds.take(conn, quick, time.time())
        assert notifier.scan() == []
    finally:
        db.dispose()


def test_the_floor_trails_by_the_lookback(tmp_path: Path) -> None:
    notifier = cmds.Notifier(t.Database(f"sqlite:///{tmp_path}/hub.sqlite"))
    notifier.db.dispose()
    notifier._seen.extend([(0.0, 5), (4.0, 9), (8.0, 12)])
    assert notifier.floor(9.0) == 5  # nothing seen 10 s ago yet but the first
    assert notifier.floor(14.5) == 9  # seen at 4.0, at least 10 s before 14.5
    assert notifier.floor(100.0) == 12  # always keeps the newest


def test_a_waiting_poll_is_woken_by_a_command_queued_in_the_database(db_url: str) -> None:
    db = t.Database(db_url)
    try:
        t.upgrade(db)
        (sid,) = _stations(db, db_url, 1)

        async def scenario() -> float:
            notifier = cmds.Notifier(db)
            await notifier.start()
            try:
                waiting = asyncio.create_task(notifier.wait(sid, 10))
                await asyncio.sleep(0.1)
                t0 = time.monotonic()
                with db.write() as conn:  # as another hub process would
                    cmds.queue(conn, time.time(), sid, "attract", {}, "test", 60)
                await waiting
                return time.monotonic() - t0
            finally:
                await notifier.stop()

        took = asyncio.run(scenario())
        assert took < 1.0, f"woken after {took:.2f} s"
    finally:
        db.dispose()
