"""Login rate limiting: failed sign-ins per user name and per address, in the database.

Failures are rows of ``login_failures`` keyed ``user:<name>`` and
``ip:<address>``, so every hub process sees the same counts. With
``login_limit`` failures for either key in the last :data:`WINDOW` seconds,
a sign-in is refused before its password is even checked; a success clears
the user's failures (not the address's).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select

from showfloor.hub import db as t

WINDOW = 15 * 60.0


def keys(username: str, address: str) -> list[str]:
    return [f"user:{username[:64]}", f"ip:{address[:64]}"]


def _times(conn: Connection, key: str, now: float) -> list[float]:
    c = t.login_failures.c
    return [float(r[0]) for r in conn.execute(
        select(c.at).where(c.key == key).where(c.at > now - WINDOW).order_by(c.at))]


def blocked_until(conn: Connection, keys: list[str], limit: int, now: float) -> float | None:
    """When sign-in may be tried again, or None if it may be tried now."""
    limit = max(limit, 1)
    until: float | None = None
    for key in keys:
        times = _times(conn, key, now)
        if len(times) >= limit:
            # the count drops below the limit when this failure leaves the window
            free = times[len(times) - limit] + WINDOW
            until = free if until is None else max(until, free)
    return until


def failed(conn: Connection, keys: list[str], limit: int, now: float) -> int:
    """Record a failure under every key; how many tries are left before the pause."""
    c = t.login_failures.c
    conn.execute(delete(t.login_failures).where(c.at <= now - WINDOW))
    conn.execute(insert(t.login_failures), [{"key": k, "at": now} for k in keys])
    most = max(int(conn.execute(select(func.count()).select_from(t.login_failures)
                                .where(c.key == k).where(c.at > now - WINDOW)).scalar_one())
               for k in keys)
    return max(max(limit, 1) - most, 0)


def succeeded(conn: Connection, username: str) -> None:
    conn.execute(delete(t.login_failures).where(t.login_failures.c.key == f"user:{username}"))
#: An argon2 hash (the hub's parameters) of a random password nobody kept. An unknown
#: user name is checked against it, so it costs as long as a known one.
DECOY_HASH = ("$argon2id$v=19$m=65536,t=3,p=4$7jxfUWqLW30sBWu7S57DbQ$"
              "PfhULAZ93t8SFz3352oqyS5j4gceBaAVo0rf1hYI810")
