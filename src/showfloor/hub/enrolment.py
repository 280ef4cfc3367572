"""Halls, enrolment codes and station identities.

An operator makes a one-time code for a hall; a station trades it, with a
public key it made itself, for a station id. The hub stores only a hash of
each code, so its database never holds a usable one. Revoking a station
takes effect on its next request, in every hub process.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from sqlalchemy import Connection, insert, select, update

from showfloor import fleet
from showfloor.errors import ConfigError, ShowfloorError
from showfloor.hub import audit
from showfloor.hub import db as t

#: Crockford's base32: no I, L, O, U — easy to read aloud and type
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class EnrolError(ShowfloorError):
    """A code that cannot be used (unknown, used or expired)."""


def _hash(code: str) -> str:
    norm = re.sub(r"[\s-]", "", code).upper().replace("O", "0").replace("I", "1") \
        .replace("L", "1")
    return hashlib.sha256(norm.encode()).hexdigest()


def new_code() -> str:
    """A code like ``K7QM-2PXD-9FTR-WB3N`` (80 random bits)."""
    chars = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(chars[i:i + 4] for i in range(0, 16, 4))


def slug(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return s[:40] or "hall"


def ensure_hall(conn: Connection, now: float, name: str, *, hall_id: str | None = None,
                timezone: str = "UTC", opening_hours: dict[str, str] | None = None,
                closed_mode: str = "attract_only", actor: str = "hub") -> str:
    """The id of the hall with this id (made if missing, with these settings)."""
    from showfloor import hours

    hid = hall_id or slug(name)
    hours.zone(timezone)
    hours.parse(opening_hours or {})
    if closed_mode not in ("attract_only", "screen_off"):
        raise ConfigError(f"closed mode '{closed_mode}' is not one of attract_only, screen_off")
    found = conn.execute(select(t.halls.c.id).where(t.halls.c.id == hid)).first()
    if found is None:
        conn.execute(insert(t.halls).values(id=hid, name=name, timezone=timezone,
                                            opening_hours=opening_hours or {},
                                            closed_mode=closed_mode, created=now))
        audit.record(conn, now, actor, "hall.created", hid, name=name)
    return hid


def set_hours(conn: Connection, now: float, actor: str, *, hall_id: str | None = None,
              station_id: str | None = None, opening_hours: dict[str, str] | None,
              timezone: str | None = None, closed_mode: str | None = None) -> None:
    """Set the opening hours of a hall, or of one station (None: use the hall's)."""
    from showfloor import hours

    hours.parse(opening_hours or {})
    if station_id is not None:
        conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                     .values(opening_hours=opening_hours))
        audit.record(conn, now, actor, "station.hours", station_id, hours=opening_hours)
        return
    values: dict[str, Any] = {"opening_hours": opening_hours or {}}
    if timezone is not None:
        hours.zone(timezone)
        values["timezone"] = timezone
    if closed_mode is not None:
        if closed_mode not in ("attract_only", "screen_off"):
            raise ConfigError(f"closed mode '{closed_mode}' is not attract_only or screen_off")
        values["closed_mode"] = closed_mode
    conn.execute(update(t.halls).where(t.halls.c.id == hall_id).values(**values))
    audit.record(conn, now, actor, "hall.hours", hall_id or "", hours=opening_hours,
                 timezone=timezone, closed_mode=closed_mode)


def create_code(conn: Connection, now: float, hall_id: str, actor: str, *, name: str = "",
                ttl: float = 86400.0) -> str:
    """A new one-time enrolment code for a hall (shown once; only its hash is kept)."""
    if conn.execute(select(t.halls.c.id).where(t.halls.c.id == hall_id)).first() is None:
        raise ConfigError(f"there is no hall '{hall_id}'")
    code = new_code()
    conn.execute(insert(t.enrol_codes).values(code_hash=_hash(code), hall_id=hall_id,
                                              name=name, created=now, created_by=actor,
                                              expires=now + ttl))
    audit.record(conn, now, actor, "code.created", hall_id, name=name, expires=now + ttl)
    return code


def enrol(conn: Connection, now: float, req: fleet.EnrolRequest) -> dict[str, Any]:
    """Trade a code for a station identity; the code is spent."""
    if not fleet.public_key_ok(req.public_key):
        raise EnrolError("the public key is not a 32-byte Ed25519 key in base64url")
    h = _hash(req.code)
    row = conn.execute(select(t.enrol_codes).where(t.enrol_codes.c.code_hash == h)
                       .with_for_update()).mappings().first()
    if row is None:
        raise EnrolError("this enrolment code is not known to the hub; check it, or make "
                         "a new one on the dashboard")
    if row["used"] is not None:
        raise EnrolError("this enrolment code was already used; make a new one")
    if row["expires"] < now:
        raise EnrolError("this enrolment code has expired; make a new one")
    sid = "st_" + secrets.token_hex(6)
    name = row["name"] or req.name or req.profile
    res = conn.execute(update(t.enrol_codes).where(t.enrol_codes.c.code_hash == h)
                       .where(t.enrol_codes.c.used.is_(None))
                       .values(used=now, station_id=sid))
    if res.rowcount != 1:  # another request spent it a moment ago
        raise EnrolError("this enrolment code was already used; make a new one")
    conn.execute(insert(t.stations).values(id=sid, hall_id=row["hall_id"], name=name,
                                           profile=req.profile, public_key=req.public_key,
                                           enrolled=now))
    audit.record(conn, now, f"station:{sid}", "station.enrolled", sid, hall=row["hall_id"],
                 profile=req.profile)
    return {"station": sid, "hall": row["hall_id"], "name": name}


def revoke(conn: Connection, now: float, station_id: str, actor: str) -> bool:
    res = conn.execute(update(t.stations).where(t.stations.c.id == station_id)
                       .where(t.stations.c.revoked.is_(None)).values(revoked=now))
    if res.rowcount:
        audit.record(conn, now, actor, "station.revoked", station_id)
    return bool(res.rowcount)
