"""The MQTT driver against a real ``mosquitto`` broker that the tests start on a free port.

The broker is killed and started again (same port) to prove the driver reconnects.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest

from showfloor.drivers.mqtt import Mqtt, MqttSettings
from showfloor.engine.inputs import Advanced, Input
from showfloor.station.drivers import DriverHost
from showfloor.station.profile import StationProfile

from ._docs import documented_keys
from ._recording_host import RecordingHost, free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

pytestmark = pytest.mark.skipif(not os.access(MOSQUITTO, os.X_OK), reason="mosquitto is not installed")


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], start_new_session=True, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                assert self.process.poll() is None, "mosquitto exited at start"
                assert time.monotonic() < deadline, "mosquitto did not listen within 5 s"
                time.sleep(0.005)

    def kill(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    running = Broker(tmp_path_factory.mktemp("mosquitto"))
    running.start()
    yield running
    running.kill()


def _driver(broker: Broker, **keys: object) -> Mqtt:
    settings = MqttSettings.model_validate(
        {"host": "127.0.0.1", "port": broker.port, "reconnect_min": 0.05, "reconnect_max": 0.2, **keys}
    )
    return Mqtt("broker", settings)


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_subscriptions_become_events_bad_payloads_are_dropped_and_publishes_arrive(broker: Broker) -> None:
    async def main() -> None:
        host = RecordingHost()
        driver = _driver(broker, subscribe=["hall/a/pir", "hall/a/knob/#"], payload="number")
        task = asyncio.create_task(driver.run(host))
        await host.until(lambda: host.connected, "the broker connection")
        async with aiomqtt.Client("127.0.0.1", broker.port) as other:
            await other.subscribe("hall/a/visit")
            await other.publish("hall/a/pir", "1")
            await other.publish("hall/a/pir", "someone")  # not a number: dropped
            await other.publish("hall/a/knob/1", b"\xff\xfe")  # not text: dropped
            await other.publish("hall/a/knob/1", "512.5")
            await other.publish("hall/b/pir", "1")  # not subscribed
            await host.until(lambda: len(host.events) >= 2 and len(host.malformed_reports) >= 2, "messages")
            assert [(event.address, event.value) for event in host.events] == [
                ("hall/a/pir", 1),
                ("hall/a/knob/1", 512.5),
            ]
            assert "not a number" in host.malformed_reports[0]
            assert "not UTF-8" in host.malformed_reports[1]

            action = {"publish": {"topic": "hall/a/visit", "payload": "start"}}
            assert Mqtt.check_action(action) is None
            await driver.send(action)
            message = await asyncio.wait_for(anext(aiter(other.messages)), 5)
            assert (message.topic.value, message.payload) == ("hall/a/visit", b"start")
        await _stop(task)

    asyncio.run(main())


def test_reconnects_with_backoff_when_the_broker_comes_back(broker: Broker) -> None:
    async def main() -> None:
        host = RecordingHost()
        driver = _driver(broker, subscribe=["hall/a/pir"])
        task = asyncio.create_task(driver.run(host))
        await host.until(lambda: host.connected, "the broker connection")

        broker.kill()
        await host.until(lambda: not host.connected, "the lost broker to be noticed")
        assert f"127.0.0.1:{broker.port}" in (host.states[-1][1] or "")
        with pytest.raises(Exception, match="not connected"):
            await driver.send({"publish": {"topic": "hall/a/visit", "payload": "start"}})
        tries = driver.attempts
        await asyncio.sleep(0.5)  # failed tries back off (0.05, 0.1, 0.2, 0.2 s): not a busy loop
        assert 2 <= driver.attempts - tries <= 6, driver.attempts - tries
        # reported once for the outage, not once per try
        assert [connected for connected, _ in host.states] == [True, False]

        await asyncio.to_thread(broker.start)
        await host.until(lambda: host.connected, "the reconnection")
        async with aiomqtt.Client("127.0.0.1", broker.port) as other:
            await other.publish("hall/a/pir", "1")
            await host.until(lambda: host.values == ["1"], "a message after the reconnection")
        await _stop(task)

    asyncio.run(main())


class Station:
    """A stand-in for the station behind the DriverHost: the inputs it is fed."""

    def __init__(self) -> None:
        self.fed: list[tuple[Input, str]] = []

    def device_context(self) -> dict[str, Any]:
        return {"phase": "session", "closed": False, "timeline": None}

    async def device_input(self, inp: Input, device: str) -> bool:
        self.fed.append((inp, device))
        return True

    def passer_by(self, device: str, *, visit: bool, started: bool) -> None:
        pass


def test_through_the_station_driver_host(broker: Broker) -> None:
    """The profile's mapping, both ways: a message -> advance; visit_started -> a publish."""

    async def main() -> None:
        profile = StationProfile.model_validate({
            "station": {"id": "s", "name": "S"},
            "devices": {"broker": {"driver": "mqtt", "host": "127.0.0.1", "port": broker.port,
                                   "subscribe": ["hall/a/#"], "reconnect_min": 0.05}},
            "inputs": [{"device": "broker", "address": "hall/a/next", "match": "go", "do": "advance"}],
            "outputs": [{"when": "visit_started", "device": "broker",
                         "do": {"publish": {"topic": "hall/a/visit", "payload": "start"}}}],
        })
        station = Station()
        host = DriverHost(profile, station)
        await host.start()
        try:
            deadline = time.monotonic() + 5
            while not host.status()["broker"]["connected"]:
                assert time.monotonic() < deadline, host.status()
                await asyncio.sleep(0.005)
            async with aiomqtt.Client("127.0.0.1", broker.port) as other:
                await other.subscribe("hall/a/visit")
                await other.publish("hall/a/next", "stop")  # not the mapped value
                await other.publish("hall/a/next", "go")
                while not station.fed:
                    assert time.monotonic() < deadline + 5, host.status()
                    await asyncio.sleep(0.005)
                assert station.fed == [(Advanced(), "broker")]
                assert host.moment("visit_started") == 1
                message = await asyncio.wait_for(anext(aiter(other.messages)), 5)
                assert (message.topic.value, message.payload) == ("hall/a/visit", b"start")
            assert host.status()["broker"]["messages"] >= 2
        finally:
            await host.stop()

    asyncio.run(main())


def test_check_action() -> None:
    assert Mqtt.check_action({"publish": {"topic": "a/b", "payload": 3, "retain": True}}) is None
    assert Mqtt.check_action({"publish": {"topic": "a/#", "payload": "x"}}) is not None
    assert Mqtt.check_action({"publish": {"topic": "a/b", "payload": [1]}}) is not None
    assert Mqtt.check_action({"send": {}}) is not None


def test_every_setting_is_documented() -> None:
    assert documented_keys("mqtt") == set(MqttSettings.model_fields)
