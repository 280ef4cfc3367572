"""What a station's last heartbeat says about it: one of a few named states."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub.settings import HubSettings

#: Assumed usual quiet spell of a station that has no history yet (seconds).
UNKNOWN_QUIET = 40 * 60.0
#: Errors reported within this many seconds make a station not "healthy".
RECENT_ERROR = 600.0


class StationState(Enum):
    ONLINE = "online"
    UNUSED = "unused"  # alive, open and healthy, but nobody has touched it for far too long
    CLOSED = "closed"  # online, outside its opening hours
    STALE = "stale"  # heartbeats late
    OFFLINE = "offline"
    NEVER = "never"  # enrolled, not heard from yet
    REVOKED = "revoked"


def is_open(hall: dict[str, Any], station: dict[str, Any], at: float) -> bool:
    """Whether the station's opening hours (its own, else its hall's) include ``at``."""
    hrs = station.get("opening_hours") or hall.get("opening_hours") or {}
    try:
        return hours.is_open(hrs, str(hall.get("timezone") or "UTC"),
                             dt.datetime.fromtimestamp(at, dt.UTC))
    except ConfigError:
        return True


def classify(hall: dict[str, Any], station: dict[str, Any], now: float,
             cfg: HubSettings) -> StationState:
    """The state of one station row (with its hall row) at ``now``."""
    if station.get("revoked"):
        return StationState.REVOKED
    seen = station.get("last_seen")
    if seen is None:
        return StationState.NEVER
    age = now - float(seen)
    if age > cfg.offline_after:
        return StationState.OFFLINE
    if age > cfg.online_within:
        return StationState.STALE
    hb = station.get("heartbeat") or {}
    if not is_open(hall, station, now) or hb.get("closed") or hb.get("screen") == "off":
        return StationState.CLOSED
    if unused(hb, station, now, cfg):
        return StationState.UNUSED
    return StationState.ONLINE


def unused(hb: dict[str, Any], station: dict[str, Any], now: float, cfg: HubSettings) -> bool:
    """Open and healthy, but idle far longer than its own usual quiet time."""
    idle = hb.get("idle")
    if idle is None or hb.get("session_active"):
        return False
    err_at = station.get("last_error_at")
    if err_at is not None and now - float(err_at) < RECENT_ERROR:
        return False  # an unhealthy station is reported as that, not as unused
    usual = hb.get("usual_quiet")
    threshold = max(3 * float(usual if usual is not None else UNKNOWN_QUIET), cfg.unused_after)
    return float(idle) > threshold
