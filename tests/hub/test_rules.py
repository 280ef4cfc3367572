"""Opening hours, station states and hub settings: the rules, without servers."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from showfloor import hours
from showfloor.errors import ConfigError
from showfloor.hub.settings import SETTINGS, HubSettings
from showfloor.hub.status import StationState, classify

ROOT = Path(__file__).resolve().parents[2]
SH = "Asia/Shanghai"


def at(day: int, hh: int, mm: int = 0, tz: str = SH) -> dt.datetime:
    """A moment on a weekday of the week of 2026-11-30 (a Monday), local time."""
    monday = dt.datetime(2026, 11, 30, hh, mm, tzinfo=hours.zone(tz))
    return monday + dt.timedelta(days=day)


@pytest.mark.parametrize(("when", "open_"), [
    (at(0, 7, 59), False), (at(0, 8, 0), True), (at(0, 17, 29), True),
    (at(0, 17, 30), False), (at(4, 12), True), (at(5, 10), True), (at(5, 12, 30), False),
    (at(5, 13), True), (at(6, 12), False),
])
def test_opening_hours(when: dt.datetime, open_: bool) -> None:
    week = {"mon-fri": "08:00-17:30", "sat": "09:00-12:00, 13:00-16:00"}
    assert hours.is_open(week, SH, when) is open_


def test_hours_past_midnight_and_overrides() -> None:
    late = {"daily": "22:00-02:00", "sun": "closed"}
    assert hours.is_open(late, SH, at(0, 23))
    assert hours.is_open(late, SH, at(1, 1, 30))  # Monday's evening, on Tuesday
    assert not hours.is_open(late, SH, at(1, 2, 0))
    assert not hours.is_open(late, SH, at(6, 23))  # Sunday is closed...
    assert hours.is_open(late, SH, at(6, 1))  # ...but Saturday's night runs into it


def test_hours_are_read_in_the_halls_zone() -> None:
    week = {"daily": "09:00-17:00"}
    noon_utc = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)  # 12:00 in Shanghai
    assert hours.is_open(week, SH, noon_utc)
    assert not hours.is_open(week, "Europe/London", noon_utc)  # 04:00 there


def test_no_hours_means_always_open() -> None:
    assert hours.is_open({}, "UTC", at(6, 3))


@pytest.mark.parametrize(("week", "words"), [
    ({"monday": "08:00-17:00"}, "not a day"),
    ({"mon": "8-17"}, "not a time"),
    ({"mon": "08:00"}, "a start and an end"),
    ({"mon": "25:00-26:00"}, "not a time of day"),
])
def test_bad_hours_say_what_is_wrong(week: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        hours.parse(week)


def test_bad_zone_is_named() -> None:
    with pytest.raises(ConfigError, match="Asia/Shanghai"):
        hours.zone("Mars/Olympus")


CFG = HubSettings(db="unused.sqlite")
HALL = {"timezone": "UTC", "opening_hours": {}}
NOW = 1_800_000_000.0


def station(**over: object) -> dict[str, object]:
    base: dict[str, object] = {"revoked": None, "last_seen": NOW - 2, "last_error_at": None,
                               "opening_hours": None,
                               "heartbeat": {"idle": 30.0, "usual_quiet": 120.0}}
    base.update(over)
    return base


@pytest.mark.parametrize(("row", "state"), [
    (station(), StationState.ONLINE),
    (station(last_seen=NOW - 30), StationState.STALE),
    (station(last_seen=NOW - 600), StationState.OFFLINE),
    (station(last_seen=None), StationState.NEVER),
    (station(revoked=NOW - 5), StationState.REVOKED),
    (station(heartbeat={"idle": 3600.0, "usual_quiet": 120.0}), StationState.UNUSED),
    # its own quiet is long (a quiet corner): an hour idle is normal there
    (station(heartbeat={"idle": 3600.0, "usual_quiet": 1800.0}), StationState.ONLINE),
    # idle, but in a visit, or broken: not "unused"
    (station(heartbeat={"idle": 3600.0, "usual_quiet": 120.0, "session_active": True}),
     StationState.ONLINE),
    (station(heartbeat={"idle": 3600.0, "usual_quiet": 120.0}, last_error_at=NOW - 60),
     StationState.ONLINE),
    # never-used history: 40 min assumed, so 2 h is the threshold
    (station(heartbeat={"idle": 3600.0}), StationState.ONLINE),
    (station(heartbeat={"idle": 8000.0}), StationState.UNUSED),
    (station(heartbeat={"idle": 5.0, "closed": True}), StationState.CLOSED),
    (station(opening_hours={"mon": "00:00-00:01"}), StationState.CLOSED),
])
def test_station_states(row: dict[str, object], state: StationState) -> None:
    assert classify(HALL, row, NOW, CFG) is state


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "hub.md").read_text()
    for name, _type, _default, help_ in SETTINGS:
        assert re.search(rf"^\| `{name}` \|", doc, re.M), f"docs/hub.md lacks setting {name}"
        assert help_


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOWFLOOR_HUB_HEARTBEAT", "2.5")
    monkeypatch.setenv("SHOWFLOOR_HUB_LOGIN_LIMIT", "3")
    cfg = HubSettings.from_env(db="x.sqlite")
    assert cfg.heartbeat == 2.5 and cfg.login_limit == 3 and cfg.db == "x.sqlite"
    monkeypatch.setenv("SHOWFLOOR_HUB_HEARTBEAT", "often")
    with pytest.raises(ConfigError, match="SHOWFLOOR_HUB_HEARTBEAT"):
        HubSettings.from_env()
