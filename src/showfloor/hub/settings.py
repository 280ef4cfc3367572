"""The hub's settings, declared once: name, type, default, help.

``showfloor hub --help``, docs/hub.md and the environment variables
(``SHOWFLOOR_HUB_<NAME>``) all come from :data:`SETTINGS`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from showfloor.analytics.privacy import DEFAULT_MIN_CELL, FLOOR
from showfloor.errors import ConfigError


def default_db() -> str:
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return str(base / "showfloor" / "hub.sqlite")


_TYPES: dict[str, Any] = {"str": str, "float": float, "int": int}


@dataclass(frozen=True)
class HubSettings:
    db: str = field(default_factory=default_db, metadata={
        "help": "where the hub keeps everything: a SQLite file path, sqlite:///PATH, or "
                "postgresql://USER@HOST/DB for a large fleet (then any number of hubs)"})
    heartbeat: float = field(default=5.0, metadata={
        "help": "seconds between a station's heartbeats (told to each station)"})
    online_within: float = field(default=15.0, metadata={
        "help": "a station heard from within this many seconds is online"})
    offline_after: float = field(default=60.0, metadata={
        "help": "a station silent this long is offline (between the two: stale)"})
    unused_after: float = field(default=900.0, metadata={
        "help": "the shortest silence (seconds) that can make an open, healthy station "
                "'alive but unused'; the threshold is 3x the station's own usual quiet time"})
    command_ttl: float = field(default=3600.0, metadata={
        "help": "seconds a command waits for an offline station before it expires"})
    enrol_ttl: float = field(default=86400.0, metadata={
        "help": "seconds an enrolment code stays valid"})
    poll_wait: float = field(default=25.0, metadata={
        "help": "the longest a station's command long poll is held open (seconds)"})
    login_limit: int = field(default=5, metadata={
        "help": "failed logins per user or address in 15 minutes before logins are refused"})
    trusted_keys: str = field(default="", metadata={
        "help": "the publisher keys a bundle must be signed with to be published: "
                "trust-list files (what 'showfloor keys show' prints, one key a line) or "
                "public keys, separated by commas. Empty: publishing is refused"})
    rollback_key: str = field(default="", metadata={
        "help": "the Ed25519 private key file (from 'showfloor keys new') that signs "
                "rollback instructions; stations trust its public half with the role "
                "'rollback'. Empty: the rollback button is refused"})
    trust: str = field(default="", metadata={
        "help": "a signed trust list (trust.json, its trust.json.sig beside it) the hub hands "
                "to stations at /api/v1/trust; re-read when it changes; empty: none"})
    secret: str = field(default="", metadata={
        "help": "signs dashboard sessions; empty: one is made and kept in the database "
                "(so several hubs share it)"})
    report_min_cell: int = field(default=DEFAULT_MIN_CELL, metadata={
        "help": "reports hide every number counting fewer than this many visits (shown "
                "as '< 10'), in pages, PDFs and exports; at least 5"})
    retention_days: int = field(default=180, metadata={
        "help": "raw events older than this many days are deleted once a day (visit "
                "summaries and reports are kept); at least 1"})
    public_url: str = field(default="", metadata={
        "help": "the hub's address as people and other systems reach it, e.g. "
                "https://hub.example.org; xAPI exports name their anonymous accounts and "
                "activities under it. Empty: https://showfloor.invalid"})

    def __post_init__(self) -> None:
        if self.report_min_cell < FLOOR:
            raise ConfigError(f"report_min_cell is {self.report_min_cell}, but reports may "
                              f"not show numbers of fewer than {FLOOR} visits (minors' "
                              f"privacy); use {FLOOR} or more (the default is "
                              f"{DEFAULT_MIN_CELL})")
        if self.retention_days < 1:
            raise ConfigError(f"retention_days is {self.retention_days}; raw events must be "
                              "kept at least 1 day (the default is 180)")

    @classmethod
    def from_env(cls, **given: Any) -> HubSettings:
        """Explicit values, then ``$SHOWFLOOR_HUB_<NAME>``, then the defaults."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if given.get(f.name) is not None:
                values[f.name] = given[f.name]
                continue
            env = os.environ.get(f"SHOWFLOOR_HUB_{f.name.upper()}")
            if env is None:
                continue
            convert = _TYPES[str(f.type)]
            try:
                values[f.name] = convert(env)
            except ValueError as err:
                raise ConfigError(f"$SHOWFLOOR_HUB_{f.name.upper()} is '{env}', which is not "
                                  f"a {f.type}") from err
        return cls(**values)


#: (name, type, default, help) of every setting, for --help and the docs
SETTINGS: list[tuple[str, str, Any, str]] = [
    (f.name, str(f.type), f.default if f.name != "db" else "~/.local/share/showfloor/hub.sqlite",
     f.metadata["help"]) for f in fields(HubSettings)]
