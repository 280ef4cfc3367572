"""Who is asking: stations by signature, operators by password.

A station request passes only if its station exists and is not revoked,
its timestamp is within :data:`~showfloor.fleet.MAX_SKEW` of the hub's
clock, its nonce is new, and the Ed25519 signature over method, path,
station id, time, nonce and body checks out with the key the hub kept at
enrolment. The nonce is stored in the same transaction as the request's
own writes, so a replay is refused even by another hub process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, delete, func, select

from showfloor import fleet
from showfloor.hub import db as t

ROLES = ("viewer", "operator", "admin")
_NONCE = re.compile(r"^[0-9a-f]{32}$")
_hasher = PasswordHasher()


class AuthError(Exception):
    """A request that is not who it says it is (401) or may not do this (403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _lookup_statement() -> Any:
    """One query for everything a signed request needs to know about its station."""
    st, hall, c = t.stations, t.halls, t.commands
    pending = (select(func.count()).select_from(c)
               .where(c.c.station_id == st.c.id).where(c.c.state == "queued")
               .where(c.c.expires > bindparam("now")).scalar_subquery())
    return (select(st.c.id, st.c.hall_id, st.c.public_key, st.c.revoked,
                   st.c.opening_hours, st.c.last_error_at, hall.c.timezone,
                   hall.c.opening_hours.label("hall_hours"), hall.c.closed_mode,
                   pending.label("pending"))
            .join(hall, hall.c.id == st.c.hall_id).where(st.c.id == bindparam("sid")))


_LOOKUP = _lookup_statement()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    return headers.get(name.lower()) or headers.get(name)


def check_station(conn: Connection, method: str, target: str, headers: Mapping[str, str],
                  body: bytes, now: float) -> dict[str, Any]:
    """The station a signed request comes from (read only); raises :class:`AuthError`.

    The caller then spends the nonce with :func:`spend_nonce` in its write
    transaction, so a request is accepted at most once in any hub process.
    """
    sid = _header(headers, fleet.H_STATION)
    ts = _header(headers, fleet.H_TIME)
    nonce = _header(headers, fleet.H_NONCE)
    sig = _header(headers, fleet.H_SIGNATURE)
    if not (sid and ts and nonce and sig):
        raise AuthError(401, "this request is not signed by a station; it needs the "
                        f"{fleet.H_STATION}, {fleet.H_TIME}, {fleet.H_NONCE} and "
                        f"{fleet.H_SIGNATURE} headers")
    if not _NONCE.match(nonce):
        raise AuthError(401, "the nonce must be 32 hex digits")
    try:
        when = float(ts)
    except ValueError:
        raise AuthError(401, f"the time '{ts[:40]}' is not a number of seconds") from None
    if not abs(when - now) <= fleet.MAX_SKEW:
        raise AuthError(401, f"the request's time is {when - now:+.0f} s from the hub's "
                        "clock; sign with the hub's time (sent in every reply)")
    row = conn.execute(_LOOKUP, {"sid": sid[:64], "now": now}).mappings().first()
    if row is None:
        raise AuthError(401, "unknown station; enrol it with a code from the hub")
    if row["revoked"] is not None:
        raise AuthError(401, "this station's identity was revoked; enrol it again")
    if not fleet.verify(row["public_key"], sig,
                        fleet.signed_text(method, target, sid, ts, nonce, body)):
        raise AuthError(401, "the signature does not match this station's key")
    return {**row, "nonce": nonce}


_SPEND: dict[str, Any] = {}


def spend_nonce(conn: Connection, station: Mapping[str, Any], now: float) -> None:
    """Record the request's nonce; a nonce seen before is a replay (401)."""
    stmt = _SPEND.get(conn.dialect.name)
    if stmt is None:
        stmt = _SPEND[conn.dialect.name] = t.insert_new(conn, t.nonces).values(
            station_id=bindparam("sid"), nonce=bindparam("nonce"), seen=bindparam("seen")
        ).returning(t.nonces.c.nonce)
    fresh = conn.execute(stmt, {"sid": station["id"], "nonce": station["nonce"],
                                "seen": now}).first()
    if fresh is None:
        raise AuthError(401, "this request was already received (a replay)")


def station_request(conn: Connection, method: str, target: str, headers: Mapping[str, str],
                    body: bytes, now: float) -> dict[str, Any]:
    """:func:`check_station` and :func:`spend_nonce` in one (write) transaction."""
    station = check_station(conn, method, target, headers, body, now)
    spend_nonce(conn, station, now)
    return station


def prune_nonces(conn: Connection, now: float) -> int:
    """Forget nonces too old to be accepted again anyway."""
    res = conn.execute(delete(t.nonces).where(t.nonces.c.seen < now - 2 * fleet.MAX_SKEW))
    return int(res.rowcount or 0)


# -- operators -----------------------------------------------------------------

def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < 10:
        return "a password needs at least 10 characters"
    if len(password) > 200:
        return "a password may have at most 200 characters"
    return None


def username_problem(name: str) -> str | None:
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", name):
        return ("a user name has 2–64 letters, digits or . _ @ - "
                f"('{name[:40]}' does not)")
    return None
