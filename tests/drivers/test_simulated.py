"""The simulated driver: a scripted device that records what it is sent."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from pydantic import ValidationError

from showfloor.drivers import driver, names, registry
from showfloor.drivers.simulated import Simulated, SimulatedSettings
from showfloor.engine.inputs import Advanced, ChoiceMade, Input
from showfloor.station.drivers import DriverHost
from showfloor.station.profile import StationProfile

from ._recording_host import RecordingHost


def test_the_registry_has_it() -> None:
    assert driver("simulated") is Simulated and "simulated" in registry()
    assert "keyboard" in names()  # a page driver: for check's hints, not started here
    assert driver("no-such-driver") is None


def test_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="extra"):
        SimulatedSettings.model_validate({"scirpt": []})
    with pytest.raises(ValidationError):
        SimulatedSettings.model_validate({"script": [{"after": -1}]})
    cfg = SimulatedSettings.model_validate(
        {"script": [{"after": 0.5, "value": "B1"}], "repeat": True})
    assert cfg.script[0].kind == "line" and cfg.repeat


def test_it_plays_its_script_in_time_and_repeats() -> None:
    cfg = SimulatedSettings.model_validate({"start_delay": 0.05, "repeat": True, "script": [
        {"after": 0.02, "kind": "line", "value": "B1"},
        {"after": 0.05, "kind": "presence", "value": True, "address": "hall/a/pir"}]})
    host = RecordingHost()

    async def main() -> float:
        sim = Simulated("panel", cfg)
        t0 = time.monotonic()
        task = asyncio.create_task(sim.run(host))
        await host.until(lambda: len(host.events) >= 4, "two rounds of the script")
        task.cancel()
        assert sim.runs == 1
        return host.events[1].t - t0

    second = asyncio.run(main())
    assert 0.11 <= second < 0.4  # start_delay + 0.02 + 0.05
    assert host.connected
    e = host.events
    assert [(x.device, x.kind, x.value, x.address) for x in e[:2]] == [
        ("panel", "line", "B1", ""), ("panel", "presence", True, "hall/a/pir")]
    assert e[2].value == "B1" and e[0].t < e[1].t < e[2].t


def test_it_records_what_it_is_sent_and_fails_on_request() -> None:
    sim = Simulated("lights", SimulatedSettings(keep=2))

    async def main() -> None:
        await sim.send({"preset": 3})
        await sim.send({"fade": {"to": 0, "ms": 500}})
        await sim.send({"preset": 4})
        with pytest.raises(RuntimeError, match="told to fail"):
            await sim.send({"fail": True})

    asyncio.run(main())
    assert list(sim.sent) == [{"preset": 4}, {"fail": True}]  # the latest `keep`
    assert Simulated.check_action({}) is not None and Simulated.check_action({"x": 1}) is None


def test_a_script_drives_the_mapping() -> None:
    """The simulated device through a DriverHost: its script becomes engine inputs."""
    profile = StationProfile.model_validate({
        "station": {"id": "s", "name": "S"},
        "devices": {"panel": {"driver": "simulated", "script": [
            {"after": 0.01, "value": "B1"}, {"after": 0.01, "value": "B9"},
            {"after": 0.01, "value": "B2"}]}},
        "inputs": [{"device": "panel", "match": "B1", "do": {"choose": "say_no"}},
                   {"device": "panel", "match": "B2", "do": "advance"}]})
    fed: list[Input] = []

    class Station:
        def device_context(self) -> dict[str, Any]:  # the story scene on screen offers say_no
            return {"phase": "session", "closed": False, "timeline": None,
                    "choices": {"say_no"}}

        async def device_input(self, inp: Input, device: str) -> bool:
            fed.append(inp)
            return True

        def passer_by(self, device: str, *, visit: bool, started: bool) -> None:
            raise AssertionError("no presence here")

    async def main() -> dict[str, Any]:
        host = DriverHost(profile, Station())
        await host.start()
        try:
            end = time.monotonic() + 3
            while len(fed) < 2 and time.monotonic() < end:
                await asyncio.sleep(0.005)
            return host.status()["panel"]
        finally:
            await host.stop()

    state = asyncio.run(main())
    assert fed == [ChoiceMade("say_no"), Advanced()]
    assert state["messages"] == 3 and state["connected"] and state["errors"] == 0
