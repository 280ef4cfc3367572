"""Opening hours: when a hall (or one station) is open to visitors.

Written as a small map of days to time ranges, in the hall's time zone::

    {"mon-fri": "08:00-17:30", "sat": "09:00-12:00, 13:00-16:00"}

Days are ``mon`` … ``sun``, a range of them (``mon-fri``) or ``daily``; a
later key overrides an earlier one for the days they share. A day that no
key names is closed. An empty map means always open. ``22:00-02:00`` runs
past midnight into the next day. Stations evaluate their hours themselves,
so a station without the hub still closes on time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from showfloor.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Ranges = list[tuple[int, int]]  # minutes since midnight, end may pass 1440


def _minutes(text: str, where: str) -> int:
    hh, sep, mm = text.strip().partition(":")
    if not sep or not hh.isdigit() or not mm.isdigit() or len(mm) != 2:
        raise ConfigError(f"opening hours {where}: '{text.strip()}' is not a time; "
                          "write it as HH:MM, e.g. 08:30")
    h, m = int(hh), int(mm)
    if h > 24 or m > 59 or (h == 24 and m):
        raise ConfigError(f"opening hours {where}: '{text.strip()}' is not a time of day")
    return h * 60 + m


def _days(key: str) -> list[int]:
    k = key.strip().lower()
    if k == "daily":
        return list(range(7))
    a, sep, b = k.partition("-")
    if a not in DAYS or (sep and b not in DAYS):
        raise ConfigError(f"opening hours: '{key}' is not a day; use mon, tue, wed, thu, "
                          "fri, sat, sun, a range like mon-fri, or daily")
    i, j = DAYS.index(a), DAYS.index(b) if sep else DAYS.index(a)
    return [(i + n) % 7 for n in range((j - i) % 7 + 1)]


def parse(hours: Mapping[str, str]) -> dict[int, Ranges]:
    """Weekday (0 = Monday) → open ranges; raises :class:`ConfigError` naming the mistake."""
    week: dict[int, Ranges] = {}
    for key, value in hours.items():
        ranges: Ranges = []
        text = str(value).strip()
        if text.lower() not in ("", "closed"):
            for part in text.split(","):
                start, sep, end = part.partition("-")
                if not sep:
                    raise ConfigError(f"opening hours for '{key}': '{part.strip()}' needs a "
                                      "start and an end, e.g. 09:00-17:00")
                a, b = _minutes(start, f"for '{key}'"), _minutes(end, f"for '{key}'")
                if b <= a:
                    b += 24 * 60  # past midnight
                ranges.append((a, b))
        for d in _days(key):
            week[d] = ranges
    return week


def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(f"'{name}' is not a time zone; use an IANA name such as "
                          "Asia/Shanghai or Europe/London") from err


def is_open(hours: Mapping[str, str], tz: str, at: dt.datetime) -> bool:
    """Whether a place with these hours is open at the (aware) moment ``at``."""
    if not hours:
        return True
    week = parse(hours)
    local = at.astimezone(zone(tz))
    minute = local.hour * 60 + local.minute
    today, yesterday = local.weekday(), (local.weekday() - 1) % 7
    if any(a <= minute < b for a, b in week.get(today, [])):
        return True
    # a range of yesterday that runs past midnight
    return any(b > 1440 and minute < b - 1440 for _a, b in week.get(yesterday, []))
