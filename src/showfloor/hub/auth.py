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
from sqlalchemy import Connection, delete, select

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


def station_request(conn: Connection, method: str, target: str, headers: Mapping[str, str],
                    body: bytes, now: float) -> dict[str, Any]:
    """The station row a signed request comes from; raises :class:`AuthError`."""
    sid = headers.get(fleet.H_STATION.lower()) or headers.get(fleet.H_STATION)
    ts = headers.get(fleet.H_TIME.lower()) or headers.get(fleet.H_TIME)
    nonce = headers.get(fleet.H_NONCE.lower()) or headers.get(fleet.H_NONCE)
    sig = headers.get(fleet.H_SIGNATURE.lower()) or headers.get(fleet.H_SIGNATURE)
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
    if abs(when - now) > fleet.MAX_SKEW:
        raise AuthError(401, f"the request's time is {when - now:+.0f} s from the hub's "
                        "clock; sign with the hub's time (sent in every reply)")
    row = conn.execute(select(t.stations).where(t.stations.c.id == sid)).mappings().first()
    if row is None:
        raise AuthError(401, "unknown station; enrol it with a code from the hub")
    if row["revoked"] is not None:
        raise AuthError(401, "this station's identity was revoked; enrol it again")
    if not fleet.verify(row["public_key"], sig,
                        fleet.signed_text(method, target, sid, ts, nonce, body)):
        raise AuthError(401, "the signature does not match this station's key")
    fresh = conn.execute(t.insert_new(conn, t.nonces).values(
        station_id=sid, nonce=nonce, seen=now).returning(t.nonces.c.nonce)).first()
    if fresh is None:
        raise AuthError(401, "this request was already received (a replay)")
    return dict(row)


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
