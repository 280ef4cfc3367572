"""What one hub process holds: its settings, its database, its long-poll notifier."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import secrets
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from showfloor.hub import auth
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub.settings import HubSettings

MAINTAIN_SECONDS = 30.0
#: how often the SQLite WAL is copied into the database file, off the request path
CHECKPOINT_SECONDS = 1.0
#: worker threads for database work on PostgreSQL
THREADS = 8
log = logging.getLogger("showfloor.hub")


@dataclass(eq=False)
class HubState:
    settings: HubSettings
    db: t.Database
    notifier: cmds.Notifier = field(init=False)
    secret: str = ""
    #: run a full garbage collection this often (0: leave it to CPython); see server.quiet_gc
    full_gc_seconds: float = 0.0
    _last_gc: float = field(default_factory=time.monotonic)
    _maint: asyncio.Task[None] | None = None
    _checkpoints: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.notifier = cmds.Notifier(self.db)

    def load_secret(self) -> str:
        """The session-signing secret: the setting, or one shared through the database."""
        if self.settings.secret:
            self.secret = self.settings.secret
            return self.secret
        with self.db.write() as conn:
            row = conn.execute(select(t.settings.c.value)
                               .where(t.settings.c.key == "session_secret")).first()
            if row is None:
                value = secrets.token_urlsafe(48)
                conn.execute(t.insert_new(conn, t.settings).values(key="session_secret",
                                                                   value=value))
                row = conn.execute(select(t.settings.c.value)
                                   .where(t.settings.c.key == "session_secret")).one()
            self.secret = str(row[0])
        return self.secret

    async def start(self) -> None:
        if not self.db.sqlite:
            # a few busy threads beat forty fighting over the GIL: measured with
            # bench/hub_fleet.py (p99 at 1,000 stations on PostgreSQL)
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        await self.notifier.start()
        self._maint = asyncio.create_task(self._maintain())
        if self.db.sqlite:
            self._checkpoints = asyncio.create_task(self._checkpoint())

    async def stop(self) -> None:
        await self.notifier.stop()
        for task in (self._maint, self._checkpoints):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def maintain_once(self) -> None:
        now = time.time()
        with self.db.write() as conn:
            auth.prune_nonces(conn, now)
            cmds.expire(conn, now)

    async def _checkpoint(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_SECONDS)
            try:
                await asyncio.to_thread(self.db.checkpoint)
            except Exception as err:  # noqa: BLE001 - try again next time
                log.warning("SQLite checkpoint failed: %s", err)

    async def _maintain(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.maintain_once)
            except Exception as err:  # noqa: BLE001 - housekeeping never stops the hub
                log.warning("hub housekeeping failed: %s", err)
            self.collect_garbage()
            await asyncio.sleep(MAINTAIN_SECONDS)

    def collect_garbage(self, now: float | None = None) -> bool:
        """The scheduled full collection, when it is due; whether it ran."""
        now = time.monotonic() if now is None else now
        if self.full_gc_seconds <= 0 or now - self._last_gc < self.full_gc_seconds:
            return False
        t0 = time.perf_counter()
        found = gc.collect()
        self._last_gc = time.monotonic()
        log.info("full garbage collection: %d objects freed in %.0f ms", found,
                 (time.perf_counter() - t0) * 1000)
        return True


@contextlib.asynccontextmanager
async def in_background(work: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """``work`` as a task for as long as the block lives (a hub app's lifespan), then cancelled."""
    task = asyncio.create_task(work)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
