"""Reading the dashboard's forms into checked values; a problem is one :class:`ConfigError`
sentence, shown next to its field."""

from __future__ import annotations

import functools
import json
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub import commands as cmds
from showfloor.hub.dashboard import display

#: the languages offered by name in the language and message forms
LANGUAGES = (("zh-CN", "中文 (zh-CN)"), ("en", "English (en)"))
_LANG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$")
EXAMPLE_HOURS = '{"mon-fri": "08:00-17:30", "sat": "09:00-12:00"}'
CLOSED_MODES = {"attract_only": "attract loop only", "screen_off": "screen off"}


def command(kind: str, form: dict[str, str]) -> dict[str, Any]:
    """A command's arguments from its form (checked again by the hub when queued)."""
    if kind == "attract_only":
        on = form.get("on", "")
        if on not in ("0", "1"):
            raise ConfigError("choose on or off for attract only")
        return {"on": on == "1"}
    if kind == "language":
        lang = form.get("lang_other", "").strip() or form.get("lang", "").strip()
        if not _LANG.match(lang):
            raise ConfigError(f"'{lang[:30]}' is not a language code; use one such as "
                              "zh-CN, en or fr")
        return {"lang": lang}
    if kind == "device":  # the station page's "Devices" form (devices.py)
        from showfloor.hub.dashboard.devices import command_args

        return command_args(form)
    if kind == "message":
        text = {code: form.get(f"text_{code}", "").strip() for code, _ in LANGUAGES}
        text = {k: v for k, v in text.items() if v}
        if not text:
            raise ConfigError("write the message in at least one language")
        try:
            seconds = float(form.get("seconds", "30") or "30")
        except ValueError:
            raise ConfigError(f"'{form.get('seconds', '')[:20]}' is not a number of seconds; "
                              "use 1 to 3600") from None
        if not 1 <= seconds <= 3600:
            raise ConfigError("a message is shown for 1 to 3600 seconds")
        return cmds.check_args(kind, {"text": text, "seconds": seconds})
    return cmds.check_args(kind, {})


def opening_hours(text: str) -> dict[str, str] | None:
    """Opening hours from a JSON object such as {"mon-fri": "08:00-17:30"}; '' is None."""
    if not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as err:
        raise ConfigError(f"this is not JSON ({getattr(err, 'msg', err)}); write it like "
                          f"{EXAMPLE_HOURS}") from None
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f"opening hours are a JSON object of days to times, like "
                          f"{EXAMPLE_HOURS}")
    hours.parse(value)
    return value


#: the most opening periods one day may have in the form (a lunch break makes two)
MAX_PERIODS = 6
#: the choices above the per-day fields: a hall is always open or open on its days; a
#: station follows its hall or has its own days. (value, words, whether the days apply)
HALL_HOURS_MODES = (("always", "Always open", False), ("week", "Open on these days", True))
STATION_HOURS_MODES = (("hall", "Use the hall's hours", False),
                       ("own", "Its own hours, on these days", True))
_TIME = re.compile(r"^(\d{2}):(\d{2})(:\d{2})?$")
_PERIOD_FIELD = re.compile(r"^(?:from|to)_[a-z]{3}_(\d+)$")


def hours_values(hrs: Mapping[str, str] | None, mode: str) -> dict[str, str]:
    """The opening-hours form's fields showing ``hrs``, with ``mode`` chosen."""
    values = {"hours_mode": mode}
    try:
        week = hours.parse(hrs or {})
    except ConfigError:
        week = {}
    for d, key in enumerate(hours.DAYS):
        spans = week.get(d, [])
        if spans:
            values[f"open_{key}"] = "1"
        for i, (a, b) in enumerate(spans, 1):
            values[f"from_{key}_{i}"] = display.clock_time(a)
            values[f"to_{key}_{i}"] = display.clock_time(b % (24 * 60))
        if len(spans) > 1:
            values["hours_split"] = "1"
    return values


def periods(values: Mapping[str, str]) -> int:
    """How many periods each day offers in the form: two, or as many as a day already has."""
    most = max((int(m.group(1)) for k, v in values.items()
                if v and (m := _PERIOD_FIELD.match(k))), default=0)
    return min(max(most, 2), MAX_PERIODS)


def _minutes(text: str, what: str) -> int:
    found = _TIME.match(text)
    if not found or int(found.group(1)) > 23 or int(found.group(2)) > 59:
        raise ConfigError(f"{what} '{text[:20]}' is not a time; write it as HH:MM, "
                          "e.g. 08:30")
    return int(found.group(1)) * 60 + int(found.group(2))


def week_hours(form: Mapping[str, str]) -> dict[str, str]:
    """Opening hours from the form's per-day fields, e.g. {"mon-fri": "08:00-17:00"}.

    A day not ticked as open is closed; with no day open the answer is
    {"daily": "closed"} (an empty map would mean always open).
    """
    split = form.get("hours_split") == "1"
    spans: list[str] = []
    for d, key in enumerate(hours.DAYS):
        name = display.DAY_NAMES[d]
        ranges: list[str] = []
        if form.get(f"open_{key}") == "1":
            for i in range(1, (MAX_PERIODS if split else 1) + 1):
                start = form.get(f"from_{key}_{i}", "").strip()
                end = form.get(f"to_{key}_{i}", "").strip()
                if not start and not end:
                    continue
                which = name if i == 1 else f"{name}'s period {i}"
                if not start or not end:
                    has, lacks = ("a closing", "opening") if end else ("an opening", "closing")
                    raise ConfigError(f"{which} has {has} time but no {lacks} time; give both, "
                                      "or clear both")
                a = _minutes(start, f"{which}'s opening time")
                b = _minutes(end, f"{which}'s closing time")
                if a == b and a != 0:
                    raise ConfigError(f"{which} opens and closes at {start[:5]}; give a closing "
                                      "time after the opening time, or 00:00 for midnight")
                ranges.append(f"{display.clock_time(a)}-"
                              f"{display.clock_time(b if b else 24 * 60)}")
            if not ranges:
                raise ConfigError(f"{name} is ticked as open but has no times; give it an "
                                  "opening and a closing time, or untick it")
        spans.append(", ".join(ranges))
    if not any(spans):
        return {"daily": "closed"}
    if len(set(spans)) == 1:
        return {"daily": spans[0]}
    out: dict[str, str] = {}
    first = 0
    for d in range(1, 8):
        if d < 7 and spans[d] == spans[first]:
            continue
        if spans[first]:
            days = hours.DAYS[first] if d - 1 == first else \
                f"{hours.DAYS[first]}-{hours.DAYS[d - 1]}"
            out[days] = spans[first]
        first = d
    hours.parse(out)
    return out


def hours_choice(form: Mapping[str, str], modes: tuple[tuple[str, str, bool], ...]
                 ) -> dict[str, str] | None:
    """The hours an opening-hours form chose: {} always open, None the hall's, or the days'.

    A form without the choice (a script's) may send the hours as JSON in ``hours``.
    """
    mode = form.get("hours_mode")
    if mode is None:
        return opening_hours(form.get("hours", ""))
    if mode not in {m for m, _words, _days in modes}:
        raise ConfigError(f"'{mode[:30]}' is not a choice here; choose "
                          f"{' or '.join(words for _m, words, _days in modes)}")
    if mode == "always":
        return {}
    if mode == "hall":
        return None
    return week_hours(form)


@functools.cache
def zones() -> list[str]:
    """IANA time zone names, for the pickers."""
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z or z == "UTC")


def timezone(text: str) -> str:
    name = text.strip()
    hours.zone(name)
    return name


def closed_mode(text: str) -> str:
    if text not in CLOSED_MODES:
        raise ConfigError(f"'{text[:30]}' is not a closed mode; choose attract_only or "
                          "screen_off")
    return text


def hall_name(text: str) -> str:
    name = text.strip()
    if not name:
        raise ConfigError("a hall needs a name")
    if len(name) > 200:
        raise ConfigError("a hall's name may have at most 200 characters")
    return name


def valid_hours(text: str, default: float) -> float:
    """An enrolment code's lifetime in hours (3 minutes to 30 days)."""
    if not text.strip():
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"'{text[:20]}' is not a number of hours") from None
    if not 0.05 <= value <= 720:
        raise ConfigError("a code may stay valid from 0.05 hours (3 minutes) to 720 hours "
                          "(30 days)")
    return value
