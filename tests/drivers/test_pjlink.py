"""The PJLink driver against a PJLink projector written from the spec
(tests/drivers/_pjlink_server.py, a real TCP server on loopback), and Wake-on-LAN against
a UDP listener on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from showfloor.drivers.pjlink import PJLink, PJLinkError, PJLinkSettings, magic_packet
from showfloor.errors import DriverError

from ._pjlink_server import Projector
from ._recording_host import RecordingHost, free_port

MAC = "00:1b:44:11:3a:b7"


def driver(port: int, **keys: Any) -> PJLink:
    settings = {"host": "127.0.0.1", "port": port, "retry_every": 0.05, "timeout": 2, **keys}
    return PJLink("projector", PJLinkSettings.model_validate(settings))


def with_projector(scenario: Callable[[Projector], Awaitable[None]], **keys: Any) -> Projector:
    projector = Projector(**keys)

    async def main() -> None:
        await projector.start()
        try:
            await scenario(projector)
        finally:
            await projector.stop()

    asyncio.run(main())
    return projector


async def until(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_power_on_then_an_input_refused_while_warming_up_is_retried(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "showfloor.drivers.pjlink")

    async def scenario(projector: Projector) -> None:
        pj = driver(projector.port)
        await pj.send({"power": "on"})
        assert projector.power == "3"  # warming up
        began = time.monotonic()
        await pj.send({"input": "32"})  # ERR3 now; tried again until it is warm
        assert time.monotonic() - began < 0.5, "send returns at once; the retry is its own task"
        assert projector.input == "31"
        await until(lambda: projector.input == "32")
        assert time.monotonic() - began >= projector.warmup * 0.9
        status = await pj.query()
        assert status == {"power": "on", "input": "32", "errors": "000000", "lamp": "1234 1"}
        await pj.close()

    projector = with_projector(scenario, warmup=0.3)
    assert next(line for line in projector.received if "INPT 32" in line) == "%1INPT 32"
    assert projector.received.count("%1INPT 32") >= 2  # refused once at least, then done
    said = [r.getMessage() for r in caplog.records if "ERR3" in r.getMessage()]
    assert len(said) == 1, said  # one sentence, not one per try
    assert "cannot do INPT 32 now (ERR3, unavailable time" in said[0]
    assert "tried again every 0.05 s" in said[0]


def test_an_err3_retry_gives_up_after_retry_for(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(projector: Projector) -> None:
        pj = driver(projector.port, retry_for=0.2)
        await pj.send({"power": "on"})
        await pj.send({"power": "off"})  # warming for 5 s: never within 0.2 s
        await until(lambda: not pj._retries)
        assert projector.power == "3"

    with_projector(scenario, warmup=5)
    assert any("POWR 0 given up after 0.2 s" in r.getMessage() for r in caplog.records)


def test_password_authentication_per_the_spec() -> None:
    async def scenario(projector: Projector) -> None:
        pj = driver(projector.port, password="JBMIAProjectorLink")
        assert await pj.exchange("POWR ?") == ["0"]
        await pj.send({"power": "on"})
        assert projector.power == "3"

    projector = with_projector(scenario, password="JBMIAProjectorLink")
    assert projector.refused_passwords == 0
    first = projector.received[0]
    digest, command = first[:32], first[32:]
    assert re.fullmatch(r"[0-9a-f]{32}", digest) and command == "%1POWR ?"
    assert projector.received[1] == "%1POWR 1" or projector.received[1].endswith("%1POWR 1")


def test_a_wrong_password_is_erra_in_one_sentence_and_reported_once() -> None:
    host = RecordingHost()

    async def scenario(projector: Projector) -> None:
        pj = driver(projector.port, password="wrong", poll=0.05)
        with pytest.raises(PJLinkError, match=r"refused the password \(PJLINK ERRA\); set the "
                                              r"device's `password`") as caught:
            await pj.send({"power": "on"})
        assert caught.value.code == "ERRA"
        runner = asyncio.create_task(pj.run(host))
        await until(lambda: projector.refused_passwords >= 4)
        runner.cancel()
        no_password = driver(projector.port)
        with pytest.raises(PJLinkError, match="asks for a password; set the device's `password`"):
            await no_password.exchange("POWR ?")

    projector = with_projector(scenario, password="right")
    assert projector.power == "0"
    assert len(host.states) == 1, host.states  # polled again and again, reported once
    connected, problem = host.states[0]
    assert not connected and problem is not None and "PJLINK ERRA" in problem


@pytest.mark.parametrize(("setup", "action", "code", "sentence"), [
    ("on", {"input": "21"}, "ERR2", "refused the parameter of INPT 21 (ERR2, out of parameter)"),
    ("failed", {"power": "on"}, "ERR4", "reports a failure of the projector or display at POWR 1"),
    ("", "XYZW ?", "ERR1", "does not know the command XYZW ? (ERR1, undefined command)"),
])
def test_each_error_code_is_one_sentence(setup: str, action: Any, code: str, sentence: str) -> None:
    async def scenario(projector: Projector) -> None:
        projector.power = "1" if setup == "on" else "0"
        projector.failed = setup == "failed"
        pj = driver(projector.port)
        with pytest.raises(PJLinkError) as caught:
            await (pj.exchange(action) if isinstance(action, str) else pj.send(action))
        assert caught.value.code == code
        assert sentence in str(caught.value)
        assert str(caught.value).startswith("projector 'projector' (127.0.0.1:")
        assert not pj._retries  # only ERR3 is tried again

    with_projector(scenario)


def test_status_is_polled_and_changes_become_events() -> None:
    host = RecordingHost()

    async def scenario(projector: Projector) -> None:
        pj = driver(projector.port, poll=0.05)
        runner = asyncio.create_task(pj.run(host))
        await until(lambda: any(e.address == "power" for e in host.events))
        projector.power = "1"
        await until(lambda: any(e.address == "input" for e in host.events))
        runner.cancel()

    with_projector(scenario)
    assert host.states == [(True, None)]
    seen = [(e.kind, e.address, e.value) for e in host.events]
    assert seen[:3] == [("status", "power", "off"), ("status", "errors", "000000"),
                        ("status", "lamp", "1234 0")]
    assert ("status", "power", "on") in seen and ("status", "input", "31") in seen
    assert len(seen) == len(set(seen)), "only changes are events"
    assert not host.malformed_reports


def test_an_unreachable_projector_is_reported_and_polled_on() -> None:
    port = free_port()  # nothing listens there
    host = RecordingHost()
    pj = driver(port, poll=0.05)

    async def scenario() -> None:
        with pytest.raises(DriverError, match="cannot be reached"):
            await pj.send({"power": "off"})
        runner = asyncio.create_task(pj.run(host))
        await asyncio.sleep(0.3)
        runner.cancel()

    asyncio.run(scenario())
    assert len(host.states) == 1
    assert host.states[0][0] is False and "is it on the network" in (host.states[0][1] or "")


def test_wake_on_lan_sends_the_magic_packet() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(2)
        pj = driver(1, mac=MAC, wol_broadcast="127.0.0.1", wol_port=listener.getsockname()[1])
        asyncio.run(pj.send({"wake": True}))
        packet, _ = listener.recvfrom(1024)
    mac = bytes.fromhex(MAC.replace(":", ""))
    assert len(packet) == 102
    assert packet[:6] == b"\xff" * 6
    assert [packet[6 + 6 * i:12 + 6 * i] for i in range(16)] == [mac] * 16
    assert magic_packet("00-1B-44-11-3A-B7") == packet


def test_power_on_wakes_first_and_retries_while_the_projector_boots() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(2)
        projector = Projector()

        async def scenario() -> None:
            port = free_port()
            pj = driver(port, mac=MAC, wol_broadcast="127.0.0.1",
                        wol_port=listener.getsockname()[1])
            await pj.send({"power": "on"})  # asleep: the packet goes, POWR 1 is tried later
            await asyncio.sleep(0.1)
            await projector.start(port)  # it woke up
            await until(lambda: projector.power == "3")
            await projector.stop()
            await pj.close()

        asyncio.run(scenario())
        packet, _ = listener.recvfrom(1024)
    assert packet[:6] == b"\xff" * 6 and len(packet) == 102


def test_the_md5_digest_is_the_specs_example() -> None:
    # the PJLink specification's worked example of authentication: random number 498e4a67,
    # password JBMIAProjectorLink
    from showfloor.drivers.pjlink import auth_digest
    assert auth_digest("498e4a67", "JBMIAProjectorLink") == "5d8409bc1c3fa39749434aa3a5c38682"
    assert auth_digest("498e4a67", "x") == hashlib.md5(b"498e4a67x").hexdigest()


@pytest.mark.parametrize(("action", "problem"), [
    ({"power": "on"}, None), ({"power": "off"}, None), ({"input": "31"}, None),
    ({"input": 11}, None), ({"wake": True}, None),
    ({"power": "standby"}, "`power` is `on` or `off`"),
    ({"input": "60"}, "`input` is two digits"), ({"input": "30"}, "`input` is two digits"),
    ({"wake": "yes"}, "`wake` takes `true`"),
    ({"power": "on", "input": "31"}, "a PJLink action is one of"),
    ({"preset": 3}, "a PJLink action is one of"),
])
def test_actions_are_checked(action: dict[str, Any], problem: str | None) -> None:
    said = PJLink.check_action(action)
    assert said is None if problem is None else problem in (said or ""), said


@pytest.mark.parametrize("bad", [
    {}, {"host": "p", "mac": "00:11:22:33:44"}, {"host": "p", "password": "x" * 33},
    {"host": "p", "port": 0}, {"host": "p", "lamp": 1},
])
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        PJLinkSettings.model_validate(bad)


def test_every_key_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "drivers.md").read_text(encoding="utf-8")
    section = docs.split("### `pjlink`", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert rows == set(PJLink.settings.model_fields), rows ^ set(PJLink.settings.model_fields)
