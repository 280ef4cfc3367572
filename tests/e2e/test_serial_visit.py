"""A serial "button" drives a whole story visit, seen in Chromium.

The station's profile maps an Arduino-like board on a serial port (a socat
pseudo-terminal pair; the test writes the board's lines at the other end) to the
demo's story: B0 is the start button, B1 the one big button — a different choice
in each scene, and "next" where a scene has none. The page shows every step.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from drivers.test_serial import PtyPair
from station._support import DEMO, RunningStation, start_station, until

from ._browser import open_surface, wait_for

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")

PROFILE = """
station: {{id: serial-visit, name: Big button}}
exhibit: {demo}
start: party
idle: {{timeout: 600, countdown: 10}}
surfaces: [{{id: main, role: kiosk}}]
devices:
  panel: {{driver: serial, port: {port}, framing: lines}}
inputs:
  - {{device: panel, match: B0, do: wake}}
  - {{device: panel, match: B1, do: {{choose: say_no}}}}
  - {{device: panel, match: B1, do: {{choose: next_day}}}}
  - {{device: panel, match: B1, do: {{choose: check_in}}}}
  - {{device: panel, match: B1, do: advance}}
"""


@pytest.fixture
def board(tmp_path: Path) -> Iterator[PtyPair]:
    pair = PtyPair(tmp_path)
    pair.plug()
    yield pair
    pair.unplug()


def test_a_serial_button_plays_the_story_from_the_party_to_the_quiz(
        tmp_path: Path, board: PtyPair, browser: Browser) -> None:
    (tmp_path / "station.yaml").write_text(
        PROFILE.format(demo=DEMO, port=board.dev), encoding="utf-8")
    st: RunningStation = start_station(tmp_path / "station.yaml", data=tmp_path / "data")
    fd = os.open(board.peer, os.O_RDWR | os.O_NOCTTY)
    try:
        until("the board connected", lambda: st.health()["drivers"]["panel"]["connected"])
        page = open_surface(browser, st.port)
        wait_for(page, phase="attract", timeout=15000)

        def press(line: str) -> None:
            time.sleep(0.06)  # a person's pace: not within the button's 50 ms debounce
            os.write(fd, f"{line}\r\n".encode())

        press("B0")  # the start button: a visit begins at the party
        wait_for(page, phase="session", scene="party", timeout=10000)
        # the one big button, scene after scene: each press the next step of the story
        for scene in ("party_no", "party_after", "reflect_strong", "quiz"):
            press("B1")
            wait_for(page, scene=scene, timeout=10000)
        press("garbage \x00\xff")  # noise on the line: dropped, the visit goes on
        health = st.health()
        panel = health["drivers"]["panel"]
        assert panel["messages"] >= 5 and health["scene"] == "quiz"
        assert page.evaluate("window.showfloor.state.phase") == "session"
    finally:
        os.close(fd)
        st.stop()
    # the station recorded the visitor's choices as it does for touches
    con = sqlite3.connect(tmp_path / "data" / "events.sqlite")
    try:
        rows = con.execute("SELECT data FROM events WHERE kind = 'choice_made' ORDER BY rowid")
        chosen = [json.loads(r[0])["choice"] for r in rows]
    finally:
        con.close()
    assert chosen == ["say_no", "next_day", "check_in"]
