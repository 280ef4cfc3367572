"""The OSC driver against liblo-tools: ``oscsend`` sends to it, ``oscdump`` receives from it."""

from __future__ import annotations

import asyncio
import queue
import shutil
import socket
import subprocess
import threading

import pytest
from pydantic import ValidationError

from showfloor.drivers.osc import Osc, OscSettings

from ._docs import documented_keys
from ._recording_host import RecordingHost, free_port

pytestmark = pytest.mark.skipif(
    shutil.which("oscsend") is None or shutil.which("oscdump") is None,
    reason="liblo-tools (oscsend, oscdump) is not installed",
)


def _oscsend(port: int, address: str, types: str, *values: str) -> None:
    subprocess.run(["oscsend", "127.0.0.1", str(port), address, types, *values], check=True, timeout=5)


def test_received_messages_become_events_and_wrong_types_are_dropped() -> None:
    async def main() -> None:
        port = free_port(socket.SOCK_DGRAM)
        settings = OscSettings.model_validate(
            {"listen_host": "127.0.0.1", "listen_port": port, "expect": {"/button/1": "number"}}
        )
        host, driver = RecordingHost(), Osc("console", settings)
        task = asyncio.create_task(driver.run(host))
        await host.until(lambda: host.connected, "the OSC port to open")

        await asyncio.to_thread(_oscsend, port, "/button/1", "i", "1")
        await asyncio.to_thread(_oscsend, port, "/button/1", "s", "oops")  # wrong type for /button/1
        await asyncio.to_thread(_oscsend, port, "/fader", "fs", "0.5", "ignored")
        await asyncio.to_thread(_oscsend, port, "/note", "m", "00904060")  # a MIDI message: no
        await asyncio.to_thread(_oscsend, port, "/name", "s", "hello")
        await asyncio.to_thread(_oscsend, port, "/go", "T")
        await asyncio.to_thread(_oscsend, port, "/bang", "")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"\x00garbage, not OSC\xff", ("127.0.0.1", port))

        await host.until(lambda: len(host.events) >= 5 and len(host.malformed_reports) >= 3, "all messages")
        got = [(event.address, event.value) for event in host.events]
        assert got == [("/button/1", 1), ("/fader", 0.5), ("/name", "hello"), ("/go", True), ("/bang", None)]
        assert all(event.kind == "message" and event.device == "console" for event in host.events)
        assert any("expected a number" in report for report in host.malformed_reports)
        assert any("tuple first argument" in report for report in host.malformed_reports)
        assert any("not OSC" in report for report in host.malformed_reports)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await driver.close()

    asyncio.run(main())


def test_outputs_arrive_at_oscdump() -> None:
    port = free_port(socket.SOCK_DGRAM)
    dump = subprocess.Popen(
        ["oscdump", "-L", str(port)], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert dump.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in dump.stdout or ()], daemon=True).start()
    try:
        settings = OscSettings.model_validate({"send_host": "127.0.0.1", "send_port": port})
        driver = Osc("lights", settings)
        action = {"send": {"address": "/lights/scene", "args": [3, "party", 0.5, True]}}
        assert Osc.check_action(action) is None

        async def main() -> str:
            # UDP: a message sent before oscdump listens is lost, so send until one is printed
            try:
                for _ in range(250):
                    await driver.send(action)
                    await asyncio.sleep(0.02)
                    if not lines.empty():
                        return lines.get()
                raise AssertionError("oscdump printed nothing in 5 s")
            finally:
                await driver.close()

        line = asyncio.run(main())
        # oscdump prints: TIMETAG ADDRESS TYPES ARGS…
        assert line.split()[1:] == ["/lights/scene", "isfT", "3", '"party"', "0.500000", "#T"], line
    finally:
        dump.kill()
        dump.wait(timeout=5)
        dump.stdout.close()


def test_settings() -> None:
    assert OscSettings.model_validate({"listen_port": 9000}).listen_host == "0.0.0.0"
    for bad in ({}, {"send_host": "10.0.0.1"}, {"listen_port": 9000, "expect": {"/a": "blob"}}):
        with pytest.raises(ValidationError):
            OscSettings.model_validate(bad)


def test_check_action() -> None:
    assert Osc.check_action({"send": {"address": "/a", "args": [1, "x"]}}) is None
    assert Osc.check_action({"send": {"address": "a"}}) is not None
    assert Osc.check_action({"send": {"address": "/a", "args": [[1]]}}) is not None
    assert Osc.check_action({"publish": {}}) is not None


def test_every_setting_is_documented() -> None:
    assert documented_keys("osc") == set(OscSettings.model_fields)
