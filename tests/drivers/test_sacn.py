"""The sACN driver against a separate receiver process (the ``sacn`` package's receiver,
tests/drivers/_sacn_receiver.py): presets arrive, a fade passes through its middle, and
the profile's settings and actions are checked."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from showfloor.drivers.sacn import Sacn, SacnSettings
from showfloor.errors import DriverError
from showfloor.station.drivers import DriverHost
from showfloor.station.profile import SceneWhen, StationProfile

from ._recording_host import RecordingHost, free_port

RECEIVER = Path(__file__).with_name("_sacn_receiver.py")
UNIVERSE = 7


class Receiver:
    """The receiver process and the frames it printed (read by a thread)."""

    def __init__(self, port: int) -> None:
        self.proc = subprocess.Popen([sys.executable, str(RECEIVER), str(port), str(UNIVERSE)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     start_new_session=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"
        self.frames: list[dict[str, Any]] = []
        self.availability: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            said = json.loads(line)
            if "availability" in said:
                self.availability.append(said["availability"])
            else:
                self.frames.append(said)

    def wait_for(self, check: Any, timeout: float = 3.0) -> dict[str, Any]:
        """The first frame printed (since ``frames`` was last cleared) whose data pass ``check``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for frame in list(self.frames):
                if check(frame["dmx"]):
                    return frame
            time.sleep(0.005)
        raise AssertionError(f"no frame matched; last: {self.frames[-1:]}")

    def stop(self) -> None:
        os.killpg(self.proc.pid, 9)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    rx = Receiver(free_port(socket.SOCK_DGRAM))
    try:
        yield rx
    finally:
        rx.stop()


def make(port: int, **extra: Any) -> Sacn:
    settings = SacnSettings.model_validate({
        "universe": UNIVERSE, "destination": "127.0.0.1", "port": port, "fps": 40,
        "presets": {3: {1: 255, 2: 128}, "dark": {1: 0, 2: 0}, "half": {5: 100}}, **extra})
    return Sacn("lights", settings)


def receiver_port(rx: Receiver) -> int:
    return int(rx.proc.args[2])  # type: ignore[index]


def test_presets_and_a_fade_arrive_at_a_separate_receiver(receiver: Receiver) -> None:
    host = RecordingHost()
    driver = make(receiver_port(receiver))
    latencies: list[float] = []

    async def scenario() -> None:
        runner = asyncio.create_task(driver.run(host))
        await asyncio.sleep(0)
        # a preset by number (YAML's `3:`) arrives whole, the other channels untouched at 0
        await driver.send({"preset": 3})
        await asyncio.to_thread(receiver.wait_for, lambda d: d[:3] == [255, 128, 0])
        assert receiver.availability == ["available"]
        # output → packet at the receiver, on loopback (the issue's ≤ 5 ms p99 goal)
        for i in range(40):
            value = 10 + i
            receiver.frames.clear()
            sent = time.monotonic()
            await driver.send({"channels": {4: value}})
            got = await asyncio.to_thread(receiver.wait_for, lambda d, v=value: d[3] == v)
            latencies.append(got["t"] - sent)
        # a fade of 600 ms to `dark`: down through its middle, never back up, at about fps
        receiver.frames.clear()
        began = time.monotonic()
        await driver.send({"preset": "dark", "fade": 600})
        end = await asyncio.to_thread(receiver.wait_for, lambda d: d[0] == 0 and d[1] == 0)
        took = end["t"] - began
        ones = [f["dmx"][0] for f in receiver.frames if f["t"] <= end["t"]]
        assert any(96 <= v <= 160 for v in ones), ones  # passes through the middle (127)
        assert ones == sorted(ones, reverse=True), ones
        assert 0.55 <= took <= 1.2, took
        assert len(ones) >= 15, f"{len(ones)} frames in a 600 ms fade at 40 fps"
        # a new look interrupts a running fade and starts from where it had got to
        await driver.send({"preset": "half", "fade": 2000})
        await asyncio.sleep(0.1)
        await driver.send({"blackout": True})
        await asyncio.to_thread(receiver.wait_for, lambda d: d[4] == 0 and d[:4] == [0, 0, 0, 0])
        await asyncio.sleep(0.1)
        assert driver.levels[4] == 0  # the cancelled fade did not go on writing
        runner.cancel()
        await driver.close()
        deadline = time.monotonic() + 2
        while receiver.availability[-1:] != ["timeout"] and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert host.states == [(True, None)]
    assert receiver.availability[:2] == ["available", "timeout"], "close sends Stream_Terminated"
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"sACN output → receiver: median {statistics.median(latencies) * 1000:.2f} ms, "
          f"p99 {p99 * 1000:.2f} ms over {len(latencies)}")
    assert p99 < 0.05, latencies


def test_an_unknown_preset_is_one_sentence_and_nothing_is_sent(receiver: Receiver) -> None:
    driver = make(receiver_port(receiver))

    async def scenario() -> None:
        with pytest.raises(DriverError, match=r"no preset '9' \(it has: 3, dark, half\)"):
            await driver.send({"preset": 9})

    asyncio.run(scenario())
    assert driver.frames == 0


@pytest.mark.parametrize(("action", "problem"), [
    ({"preset": 3}, None),
    ({"preset": "warm", "fade": 1500}, None),
    ({"channels": {1: 255, 512: 0}, "fade": 0}, None),
    ({"blackout": True, "fade": 200}, None),
    ({"preset": 3, "blackout": True}, "an sACN action is one of"),
    ({"fade": 100}, "an sACN action is one of"),
    ({"power": "on"}, "an sACN action is one of"),
    ({"preset": 3, "fade": -1}, "`fade` must be a number of milliseconds"),
    ({"preset": 3, "fade": "slow"}, "`fade` must be a number of milliseconds"),
    ({"channels": {513: 1}}, "DMX channel 513 is not one of 1–512"),
    ({"channels": {1: 256}}, "a value is 0–255"),
    ({"channels": {}}, "`channels` maps DMX channels"),
    ({"blackout": False}, "`blackout` takes `true`"),
])
def test_actions_are_checked(action: dict[str, Any], problem: str | None) -> None:
    said = Sacn.check_action(action)
    assert said is None if problem is None else problem in (said or ""), said


def test_given_the_settings_an_unknown_preset_is_named() -> None:
    settings = SacnSettings.model_validate({"presets": {3: {1: 255}, "dark": {1: 0}}})
    assert Sacn.check_action({"preset": 3}, settings) is None
    assert Sacn.check_action({"preset": "4"}, settings) == "the device has no preset '4' (it has: 3, dark)"


@pytest.mark.parametrize("bad", [
    {"universe": 0}, {"universe": 64000}, {"priority": 201}, {"presets": {1: {0: 1}}},
    {"presets": {1: {1: 300}}}, {"fps": 0}, {"colour": "red"},
])
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        SacnSettings.model_validate(bad)


def test_defaults_are_multicast_on_the_e131_port() -> None:
    settings = SacnSettings.model_validate({"presets": {"3": {1: 255}}})
    assert (settings.destination, settings.port, settings.universe) == ("multicast", 5568, 1)
    assert settings.presets == {"3": {1: 255}}


class Station:
    """A stand-in for the station behind the DriverHost (outputs only here)."""

    def device_context(self) -> dict[str, Any]:
        return {"phase": "session", "closed": False, "timeline": None}

    async def device_input(self, inp: Any, device: str) -> bool:
        raise AssertionError("an sACN device sends no inputs")

    def passer_by(self, device: str, *, visit: bool, started: bool) -> None:
        pass


def test_a_scene_entry_lights_a_preset_through_the_station_driver_host(receiver: Receiver) -> None:
    """The profile's `outputs:` on the station's DriverHost (the driver in its own thread)."""

    async def main() -> None:
        profile = StationProfile.model_validate({
            "station": {"id": "s", "name": "S"},
            "devices": {"lights": {"driver": "sacn", "universe": UNIVERSE, "destination": "127.0.0.1",
                                   "port": receiver_port(receiver), "presets": {3: {1: 17, 2: 34}}}},
            "outputs": [{"when": {"scene": "party"}, "device": "lights", "do": {"preset": 3}}],
        })
        host = DriverHost(profile, Station())
        await host.start()
        try:
            await wait_until(lambda: host.status()["lights"]["connected"])
            receiver.frames.clear()
            assert host.moment(SceneWhen(scene="party")) == 1
            await asyncio.to_thread(receiver.wait_for, lambda d: d[:2] == [17, 34])
            await wait_until(lambda: host.status()["lights"]["sent"] == 1)
        finally:
            await host.stop()

    asyncio.run(main())


async def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_every_key_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "drivers.md").read_text(encoding="utf-8")
    section = docs.split("### `sacn`", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert rows == set(Sacn.settings.model_fields), rows ^ set(Sacn.settings.model_fields)
