"""The keyboard-wedge driver (drivers/keyboard.py, renderer/web/wedge.js) in Chromium:
a reader's code typed fast and ended by Enter, and a buzzer's single key, become the
profile's inputs; the same code typed at a person's pace does nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from station._support import DEMO, RunningStation, open_page, start_station

from ._browser import open_surface, wait_for

CARD = "0004517233"   # an RFID card as a reader types it (then Enter)
ANSWER = "777777"    # a QR code on a printed card

PROFILE = f"""
station: {{id: wedge, name: Keyboard wedge}}
exhibit: {DEMO}
start: party
idle: {{timeout: 600, countdown: 10}}
surfaces: [{{id: main, role: kiosk}}]
devices:
  reader: {{driver: keyboard, sequence_ms: 150, min_length: 6}}
  buzzer: {{driver: keyboard}}
inputs:
  - {{device: reader, match: "{CARD}", do: wake}}
  - {{device: reader, match: "{ANSWER}", do: {{choose: say_no}}}}
  - {{device: buzzer, match: "3", do: {{choose: check_in}}}}
  - {{device: buzzer, match: "3", do: {{choose: next_day}}}}
"""


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStation]:
    folder = tmp_path_factory.mktemp("wedge")
    (folder / "station.yaml").write_text(PROFILE, "utf-8")
    st = start_station(folder / "station.yaml", data=folder / "data")
    yield st
    st.stop()


def keyed(page: Page) -> int:
    return int(page.evaluate("window.showfloor.keyed"))


def test_codes_and_keys_become_inputs_and_slow_typing_does_not(
        station: RunningStation, browser: Browser) -> None:
    page = open_surface(browser, station.port)
    wait_for(page, phase="attract", timeout=15000)
    page.wait_for_selector("section.attract", state="visible", timeout=15000)

    # the reader: the card's code, fast, then Enter -> wake: a visit starts at the party
    page.keyboard.type(CARD)
    page.keyboard.press("Enter")
    wait_for(page, phase="session", scene="party", timeout=10000)
    assert keyed(page) == 1

    # the same kind of code typed by a person (slower than sequence_ms): ignored
    page.keyboard.type(ANSWER, delay=400)
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    assert page.evaluate("window.showfloor.state.scene") == "party"
    assert keyed(page) == 1

    # typed by the reader: the mapped choice
    page.keyboard.type(ANSWER)
    page.keyboard.press("Enter")
    wait_for(page, scene="party_no", timeout=10000)
    assert keyed(page) == 2

    # a code nobody mapped is swallowed (its Enter presses no focused button)
    page.keyboard.type("123456789")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert page.evaluate("window.showfloor.state.scene") == "party_no"

    # the buzzer's key "3": check_in is not on screen, so its next mapping, the next day
    page.keyboard.press("3")
    wait_for(page, scene="party_after", timeout=10000)
    assert keyed(page) == 3
    # the same key where check_in is offered: it is taken (on to a reflection scene)
    page.keyboard.press("3")
    wait_for(page, scene="reflect_strong", timeout=10000)
    assert keyed(page) == 4
    assert page.js_errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_the_welcome_carries_the_keyboard_mapping(station: RunningStation) -> None:
    client = open_page(station)
    try:
        welcome, _ = client.hello()
    finally:
        client.close()
    kb = welcome["keyboard"]
    assert kb["devices"] == {"reader": {"sequence_ms": 150, "min_length": 6},
                             "buzzer": {"sequence_ms": 50, "min_length": 4}}
    assert [(m["device"], m["match"], m["do"]) for m in kb["inputs"]] == [
        ("reader", CARD, "wake"), ("reader", ANSWER, {"choose": "say_no"}),
        ("buzzer", "3", {"choose": "check_in"}), ("buzzer", "3", {"choose": "next_day"})]
