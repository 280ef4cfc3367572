"""The keyboard driver's station side (the page's side: tests/e2e/test_wedge.py), and the
mapping lint where the corpus (tests/corpus/*/stations/) does not reach: a profile checked
on its own, a driver whose package is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

import showfloor.drivers
from conftest import CORPUS
from showfloor.content.lint import check_profile
from showfloor.drivers.keyboard import Keyboard, page_mapping
from showfloor.station.profile import StationProfile


def profile(**extra: object) -> StationProfile:
    return StationProfile.model_validate({"station": {"id": "s", "name": "S"}, **extra})


def test_the_page_gets_only_the_keyboard_devices_and_their_inputs() -> None:
    p = profile(
        devices={"panel": {"driver": "simulated"},
                 "reader": {"driver": "keyboard", "sequence_ms": 30},
                 "buzzer": {"driver": "keyboard"}},
        inputs=[{"device": "panel", "match": "B1", "do": "advance"},
                {"device": "reader", "match": 4517233, "do": "wake"},
                {"device": "buzzer", "match": "F13", "kind": "key",
                 "do": {"choose": "say_no"}},
                {"device": "buzzer", "do": "advance"}])  # no match: nothing to type
    got = page_mapping(p.devices, p.inputs)
    assert got["devices"] == {"reader": {"sequence_ms": 30, "min_length": 4},
                              "buzzer": {"sequence_ms": 50, "min_length": 4}}
    assert got["inputs"] == [
        {"device": "reader", "kind": None, "match": "4517233", "do": "wake"},
        {"device": "buzzer", "kind": "key", "match": "F13", "do": {"choose": "say_no"}}]
    assert page_mapping({}, []) == {"devices": {}, "inputs": []}


def test_a_keyboard_takes_no_output_actions() -> None:
    assert Keyboard.check_action({"light": "on"}) == (
        "a keyboard device only types: it takes no output actions")


def test_a_profile_checked_alone_reports_its_mapping_at_its_own_path(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(f"""station: {{id: s, name: S}}
exhibit: {CORPUS / "_valid"}
devices:
  panel: {{driver: simulated, bogus: 1}}
inputs:
  - {{device: panel, match: B1, do: {{answer: c}}}}
outputs:
  - {{when: {{scene: ending}}, device: panel, do: {{}}}}
""", "utf-8")
    report = check_profile(path)
    got = sorted((p.line, p.column, p.message) for p in report.errors)
    assert [p.file for p in report.errors] == [str(path)] * 3, report.errors
    assert got[0][:2] == (4, 30) and "'bogus'" in got[0][2]
    assert got[1][:2] == (6, 45) and "answers 'c', which no scene offers" in got[1][2]
    assert got[2][:2] == (8, 48) and "at least one key" in got[2][2]


def test_a_driver_whose_package_is_missing_says_so(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(showfloor.drivers._broken, "dmx",
                        "its module cannot be imported (No module named 'sacn')")
    path = tmp_path / "station.yaml"
    path.write_text(f"station: {{id: s, name: S}}\nexhibit: {CORPUS / '_valid'}\n"
                    "devices:\n  lights: {driver: dmx}\n", "utf-8")
    (err,) = check_profile(path).errors
    assert (err.line, err.column) == (4, 20)
    assert "uses driver 'dmx', but its module cannot be imported (No module named 'sacn')" \
        in err.message
    assert err.hint and "install" in err.hint


def test_a_keyboard_input_that_can_never_fire_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(f"station: {{id: s, name: S}}\nexhibit: {CORPUS / '_valid'}\n"
                    "devices:\n  keys: {driver: keyboard}\n"
                    "inputs:\n  - {device: keys, do: advance}\n"
                    "  - {device: keys, match: '1', do: presence}\n", "utf-8")
    report = check_profile(path)
    assert report.errors == []
    got = [(p.line, p.column, p.message) for p in report.warnings]
    assert got[0][:2] == (6, 5) and "has no 'match'" in got[0][2]
    assert got[1][:2] == (7, 36) and "cannot do presence or timeline" in got[1][2]
