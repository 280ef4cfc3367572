"""The serial driver against a socat pseudo-terminal pair with a peer script at the other end.

Unplugging is killing socat (both pseudo-terminals and their links vanish);
plugging back is starting it again on the same paths.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from showfloor.drivers.serial import Serial, SerialSettings

from ._docs import documented_keys
from ._recording_host import RecordingHost

PEER = Path(__file__).with_name("_serial_peer.py")

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is not installed")


class PtyPair:
    """``dev``: where the station's driver opens; ``peer``: the device's end."""

    def __init__(self, folder: Path) -> None:
        self.dev = folder / "ttyDEV"
        self.peer = folder / "ttyPEER"
        self.process: subprocess.Popen[bytes] | None = None

    def plug(self) -> None:
        self.process = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.dev}", f"pty,raw,echo=0,link={self.peer}"],
            start_new_session=True,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while not (self.dev.exists() and self.peer.exists()):
            assert time.monotonic() < deadline, "socat did not create its pseudo-terminals"
            time.sleep(0.005)

    def unplug(self) -> None:
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None
        # socat killed hard leaves its links behind; a real unplug removes the device node
        self.dev.unlink(missing_ok=True)
        self.peer.unlink(missing_ok=True)

    def device_writes(self, data: bytes, *, read: bool = False) -> subprocess.Popen[str]:
        args = [sys.executable, str(PEER), str(self.peer), data.hex()] + (["--read"] if read else [])
        out = subprocess.PIPE if read else subprocess.DEVNULL
        return subprocess.Popen(args, stdout=out, text=True, start_new_session=True)


@pytest.fixture
def pty(tmp_path: Path) -> Iterator[PtyPair]:
    pair = PtyPair(tmp_path)
    pair.plug()
    yield pair
    pair.unplug()


def _driver(pair: PtyPair, **keys: object) -> Serial:
    settings = SerialSettings.model_validate({"port": str(pair.dev), "reopen_every": 0.05, **keys})
    return Serial("panel", settings)


async def _started(driver: Serial, host: RecordingHost) -> asyncio.Task[None]:
    task = asyncio.create_task(driver.run(host))
    await host.until(lambda: host.connected, "the port to open")
    return task


async def _stop(driver: Serial, task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await driver.close()


def test_lines_become_events_garbage_is_dropped_and_writes_reach_the_device(pty: PtyPair) -> None:
    async def main() -> None:
        host, driver = RecordingHost(), _driver(pty, max_line=32)
        task = await _started(driver, host)
        data = b"B1\n\x00\xff\xfe\x07\n" + b"X" * 100 + b"\nB2\r\n\n  B3  \n"
        device = pty.device_writes(data, read=True)
        assert device.stdout is not None
        assert device.stdout.readline().strip() == "ready"
        await host.until(lambda: len(host.events) >= 3, "three lines")
        assert host.values == ["B1", "B2", "B3"]
        assert all(event.kind == "line" and event.device == "panel" for event in host.events)
        assert len(host.malformed_reports) == 2
        assert "non-text" in host.malformed_reports[0]
        assert "longer than 32" in host.malformed_reports[1]
        await driver.send({"write": "LED 1"})
        out, _ = await asyncio.to_thread(device.communicate, timeout=5)
        assert out.strip() == "LED 1"
        await _stop(driver, task)

    asyncio.run(main())


def test_byte_framing_keeps_accepted_bytes(pty: PtyPair) -> None:
    async def main() -> None:
        host, driver = RecordingHost(), _driver(pty, framing="bytes", accept=[0x41, 0x42])
        task = await _started(driver, host)
        pty.device_writes(b"A\xffB\x00A").wait(timeout=5)
        await host.until(lambda: len(host.events) >= 3, "three bytes")
        assert host.values == [0x41, 0x42, 0x41]
        assert [event.kind for event in host.events] == ["byte"] * 3
        assert len(host.malformed_reports) == 2
        await _stop(driver, task)

    asyncio.run(main())


def test_an_unplugged_port_is_reported_and_reopened_when_it_returns(pty: PtyPair) -> None:
    async def main() -> None:
        host, driver = RecordingHost(), _driver(pty)
        task = await _started(driver, host)
        pty.device_writes(b"B1\n").wait(timeout=5)
        await host.until(lambda: host.values == ["B1"], "the first line")

        pty.unplug()
        await host.until(lambda: not host.connected, "the unplug to be noticed")
        assert str(pty.dev) in (host.states[-1][1] or "")
        with pytest.raises(Exception, match="not open"):
            await driver.send({"write": "LED 1"})
        await asyncio.sleep(0.2)  # a few failed reopen tries: reported once, not once per try
        assert [connected for connected, _ in host.states] == [True, False]

        pty.plug()
        await host.until(lambda: host.connected, "the port to be reopened")
        pty.device_writes(b"B2\n").wait(timeout=5)
        await host.until(lambda: host.values == ["B1", "B2"], "a line after the replug")
        await _stop(driver, task)

    asyncio.run(main())


def test_settings() -> None:
    assert SerialSettings.model_validate({"port": "/dev/ttyACM0"}).framing == "lines"
    for bad in ({"port": "/dev/ttyACM0", "accept": [65]}, {"port": "x", "framing": "bytes", "accept": [256]},
                {"port": "x", "parity": "odd"}, {}):
        with pytest.raises(ValidationError):
            SerialSettings.model_validate(bad)


def test_check_action() -> None:
    assert Serial.check_action({"write": "LED 1"}) is None
    assert Serial.check_action({"write": ["LED"]}) is not None
    assert Serial.check_action({"power": "on"}) is not None


def test_every_setting_is_documented() -> None:
    assert documented_keys("serial") == set(SerialSettings.model_fields)
