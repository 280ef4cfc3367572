"""The hub's command line: made things and refused things, each in one sentence."""

from __future__ import annotations

import os
import re
from pathlib import Path

from conftest import Cli

from ._support import SignedStation, start_hub


def test_hub_commands(cli: Cli, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/hub.sqlite"
    os.environ["SHOWFLOOR_HUB_PASSWORD"] = "short"
    try:
        weak = cli("hub", "create-admin", "ada", "--db", db)
        os.environ["SHOWFLOOR_HUB_PASSWORD"] = "a long enough password"
        made = cli("hub", "create-admin", "ada", "--db", db)
        again = cli("hub", "create-admin", "ada", "--db", db)
    finally:
        del os.environ["SHOWFLOOR_HUB_PASSWORD"]
    assert weak.returncode == 2 and "at least 10 characters" in weak.stderr
    assert made.returncode == 0 and "made admin 'ada'" in made.stdout
    assert again.returncode == 2 and "already a user 'ada'" in again.stderr

    zone = cli("hub", "hall", "Youth Hall", "--db", db, "--timezone", "Mars/Olympus")
    assert zone.returncode == 2 and "not a time zone" in zone.stderr
    hours = cli("hub", "hall", "Youth Hall", "--db", db, "--hours", '{"monday": "09:00-17:00"}')
    assert hours.returncode == 2 and "not a day" in hours.stderr
    hall = cli("hub", "hall", "Youth Hall", "--db", db, "--timezone", "Asia/Shanghai",
               "--hours", '{"mon-fri": "08:00-17:30"}')
    assert hall.returncode == 0 and hall.stdout.strip() == "youth-hall"

    nohall = cli("hub", "code", "--hall", "nope", "--db", db)
    assert nohall.returncode == 2 and "no hall 'nope'" in nohall.stderr
    code = cli("hub", "code", "--hall", "youth-hall", "--db", db).stdout.strip()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}", code)

    hub = start_hub(db)
    try:
        st = SignedStation(hub.url)
        assert st.enrol(code, profile="quiz").status_code == 200
        assert st.heartbeat(scene="quiz_3").status_code == 200
    finally:
        hub.stop()
    listing = cli("hub", "stations", "--db", db)
    assert st.station in listing.stdout and "quiz_3" in listing.stdout
    revoked = cli("hub", "revoke", st.station, "--db", db)
    assert revoked.returncode == 0
    twice = cli("hub", "revoke", st.station, "--db", db)
    assert twice.returncode == 2 and "Traceback" not in twice.stderr
