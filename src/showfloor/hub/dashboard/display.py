"""How the dashboard writes times, sizes and states for people ("12 s ago", "3.2 GB").

``static/dashboard.js`` writes the live cells of the halls page the same way;
keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from showfloor import hours
from showfloor.errors import ConfigError

#: the word shown for each station state (never colour alone)
STATE_LABEL = {
    "online": "online",
    "unused": "alive, unused",
    "closed": "closed",
    "stale": "stale",
    "offline": "offline",
    "never": "never seen",
    "revoked": "revoked",
}
#: a shape for each state, beside the word
STATE_ICON = {"online": "●", "unused": "◐", "closed": "■", "stale": "▲", "offline": "✕",
              "never": "○", "revoked": "⊘"}
#: what each state means, for the legend
STATE_HELP = {
    "online": "heard from within {online_within:g} s, open, in use",
    "unused": "alive, open and healthy, but idle for far longer than its usual quiet spell "
              "(3× its own, at least {unused_after:g} s)",
    "closed": "online, outside its opening hours (or its screen is off)",
    "stale": "heartbeats late: last heard {online_within:g}–{offline_after:g} s ago",
    "offline": "silent for more than {offline_after:g} s",
    "never": "enrolled, not heard from yet",
    "revoked": "its identity was revoked; it is refused",
}
COMMAND_LABEL = {"reload": "reload", "restart": "restart", "attract": "back to attract",
                 "attract_only": "attract only", "language": "language", "message": "message"}


def ago(at: float | None, now: float) -> str:
    """'12 s ago', '5 min ago', '3 h ago', '2 d ago' (or '—' for never)."""
    if at is None:
        return "—"
    s = max(now - float(at), 0.0)
    if s < 60:
        return f"{int(s)} s ago"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} d ago"


def duration(seconds: float | None) -> str:
    """'45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    if seconds is None:
        return "—"
    s = int(max(float(seconds), 0.0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(s // 3600, 24)
    return f"{d} d {h} h" if h else f"{d} d"


def hours_words(hours: float) -> str:
    """'24 hours', '1 hour', '30 minutes'."""
    if hours < 1:
        minutes = max(round(hours * 60), 1)
        return "1 minute" if minutes == 1 else f"{minutes} minutes"
    return "1 hour" if hours == 1 else f"{hours:g} hours"


def size(n: float | None) -> str:
    if n is None:
        return "—"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def zone(name: str | None) -> dt.tzinfo:
    try:
        return hours.zone(name or "UTC")
    except ConfigError:
        return dt.UTC


def local(at: float | None, tz: str | None, now: float) -> str:
    """A moment in a hall's time zone: '14:03:12' today, '2 Jun 14:03' this year."""
    if at is None:
        return "—"
    z = zone(tz)
    when = dt.datetime.fromtimestamp(float(at), z)
    today = dt.datetime.fromtimestamp(now, z)
    if when.date() == today.date():
        return when.strftime("%H:%M:%S")
    if when.year == today.year:
        return f"{when.day} {when:%b %H:%M}"
    return f"{when.day} {when:%b %Y %H:%M}"


def iso(at: float | None) -> str:
    if at is None:
        return ""
    return dt.datetime.fromtimestamp(float(at), dt.UTC).isoformat(timespec="seconds")


def full(at: float | None, tz: str | None) -> str:
    """'2026-06-02 14:03:12 Asia/Shanghai', for a tooltip."""
    if at is None:
        return ""
    return dt.datetime.fromtimestamp(float(at), zone(tz)).strftime("%Y-%m-%d %H:%M:%S ") + \
        (tz or "UTC")


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAY_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def clock_time(minutes: int) -> str:
    """Minutes since midnight as 'HH:MM'; a range's end at midnight is '24:00'."""
    if minutes == 24 * 60:
        return "24:00"
    h, m = divmod(minutes % (24 * 60), 60)
    return f"{h:02d}:{m:02d}"


def _week(hrs: Mapping[str, str]) -> dict[int, hours.Ranges] | None:
    try:
        return hours.parse(hrs)
    except ConfigError:
        return None


def opening(hrs: Mapping[str, str] | None) -> str:
    """Opening hours in words: 'Mon–Fri 08:00–17:30; Sat 09:00–12:00 and 13:00–16:00'."""
    if not hrs:
        return "always open"
    week = _week(hrs)
    if week is None:  # not valid (it was checked when saved): show it as it is
        return " · ".join(f"{day} {span}" for day, span in hrs.items())
    spans = [" and ".join("all day" if (a, b) == (0, 24 * 60) else
                          f"{clock_time(a)}–{clock_time(b)}" for a, b in week.get(d, []))
             for d in range(7)]
    if not any(spans):
        return "closed every day"
    if len(set(spans)) == 1:
        return "all day, every day" if spans[0] == "all day" else f"every day {spans[0]}"
    parts, first = [], 0
    for d in range(1, 8):
        if d < 7 and spans[d] == spans[first]:
            continue
        if spans[first]:
            days = DAY_SHORT[first] if d - 1 == first else \
                f"{DAY_SHORT[first]}–{DAY_SHORT[d - 1]}"
            parts.append(f"{days} {spans[first]}")
        first = d
    return "; ".join(parts)


def open_spell(hrs: Mapping[str, str] | None, tz: str | None, now: float
               ) -> tuple[bool, dt.datetime | None]:
    """Whether a place with these hours is open at ``now``, and when that next changes
    (wall time in ``tz``; None: not within the coming week)."""
    week = _week(hrs or {}) if hrs else None
    if not hrs or week is None:
        return True, None
    here = dt.datetime.fromtimestamp(now, zone(tz)).replace(tzinfo=None)
    midnight = here.replace(hour=0, minute=0, second=0, microsecond=0)
    spells: list[list[dt.datetime]] = []
    for n in range(-1, 9):
        day = midnight + dt.timedelta(days=n)
        for a, b in week.get(day.weekday(), []):
            start, end = day + dt.timedelta(minutes=a), day + dt.timedelta(minutes=b)
            if spells and start <= spells[-1][1]:
                spells[-1][1] = max(spells[-1][1], end)
            else:
                spells.append([start, end])
    horizon = midnight + dt.timedelta(days=8)
    for start, end in spells:
        if start <= here < end:
            return True, (end if end < horizon else None)
        if start > here:
            return False, start
    return False, None


def _at(when: dt.datetime, now: dt.datetime) -> str:
    days = (when.date() - now.date()).days
    if days == 1 and when.hour == 0 and when.minute == 0:
        return "at midnight"
    if days == 0:
        return f"at {when:%H:%M}"
    if days == 1:
        return f"tomorrow {when:%H:%M}"
    return f"{'next ' if days >= 7 else ''}{DAY_NAMES[when.weekday()]} {when:%H:%M}"


def hours_sentence(own: Mapping[str, str] | None, hall: Mapping[str, str] | None,
                   tz: str | None, now: float) -> str:
    """A station's hours as sentences: "Follows the hall's hours (always open). Open now." or
    "Own hours: Mon–Fri 08:00–17:00. Closed now — opens Monday 08:00."."""
    first = f"Own hours: {opening(own)}." if own else \
        f"Follows the hall's hours ({opening(hall)})."
    is_open, change = open_spell(own or hall, tz, now)
    here = dt.datetime.fromtimestamp(now, zone(tz)).replace(tzinfo=None)
    if is_open:
        second = "Open now." if change is None else f"Open now — closes {_at(change, here)}."
    else:
        second = "Closed now." if change is None else \
            f"Closed now — opens {_at(change, here)}."
    return f"{first} {second}"


def compact(value: Any, limit: int = 120) -> str:
    """A dict as 'key=value, …' (JSON values), cut to ``limit`` characters."""
    if not value:
        return ""
    if isinstance(value, Mapping):
        text = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
                         if v is not None)
    else:
        text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit - 1] + "…"


#: detail keys whose numbers are moments (Unix time), shown as times
_MOMENTS = ("at", "expires", "until", "when")


def details(value: Any, tz: str | None, now: float, limit: int = 160) -> str:
    """An audit line's details: like :func:`compact`, with moments as local times."""
    if isinstance(value, Mapping):
        value = {k: local(v, tz, now) if k in _MOMENTS and isinstance(v, (int, float))
                 and not isinstance(v, bool) else v for k, v in value.items()}
    return compact(value, limit)


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"


def who(actor: str | None) -> str:
    """'user:vera' → 'vera'; 'station:st_1' → 'station st_1'."""
    if not actor:
        return ""
    kind, _, name = actor.partition(":")
    if kind == "user":
        return name
    return f"{kind} {name}".strip()
