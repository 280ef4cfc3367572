"""Reading the dashboard's forms into checked values; a problem is one :class:`ConfigError`
sentence, shown next to its field."""

from __future__ import annotations

import functools
import json
import re
import zoneinfo
from typing import Any

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub import commands as cmds

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
