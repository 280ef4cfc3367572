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


def opening(hrs: Mapping[str, str] | None) -> str:
    """Opening hours in one line: 'mon-fri 08:00-17:30 · sat 09:00-12:00'."""
    if not hrs:
        return "always open"
    return " · ".join(f"{day} {span}" for day, span in hrs.items())


def hours_json(hrs: Mapping[str, str] | None) -> str:
    return json.dumps(dict(hrs or {}), ensure_ascii=False)


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
