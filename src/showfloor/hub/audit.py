"""The audit log: who did what to which station, and when. Append-only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from showfloor.hub import db as t


def record(conn: Connection, now: float, actor: str, action: str, target: str = "",
           **detail: Any) -> None:
    """Add one line (in the caller's transaction, so it commits with the change)."""
    conn.execute(insert(t.audit).values(at=now, actor=actor, action=action, target=target,
                                        detail=detail))


def recent(conn: Connection, limit: int = 200, target: str | None = None
           ) -> list[dict[str, Any]]:
    q = select(t.audit).order_by(t.audit.c.id.desc()).limit(limit)
    if target is not None:
        q = q.where(t.audit.c.target == target)
    return [dict(r) for r in conn.execute(q).mappings()]
