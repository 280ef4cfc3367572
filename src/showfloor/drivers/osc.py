"""OSC over UDP (show controllers, TouchOSC panels, media servers), both directions.

Packets are read and built with python-osc. Each received message (bundles
are opened, their time tags ignored: a message is an input now) becomes a
``message`` event: ``address`` is the OSC address, ``value`` the first argument
(None when there is none). A packet that is not OSC, a first argument that is
not a number, string or bool (a blob, a MIDI message, …), or one whose type is
not the one ``expect`` names for its address, is dropped and counted through
``host.malformed``.

Outputs: ``{send: {address: /lights/scene, args: [3]}}`` sends one message to
``send_host``:``send_port``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket, ParseError

from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host
from showfloor.errors import DriverError

Kind = Literal["number", "string", "bool", "none", "any"]


class OscSettings(DriverSettings):
    """The profile keys of an OSC device."""

    listen_host: str = Field("0.0.0.0", description="the address to receive on")
    listen_port: int | None = Field(
        None, ge=1, le=65535, description="the UDP port to receive on (none: send only)"
    )
    send_host: str | None = Field(None, description="where outputs go: host name or address")
    send_port: int | None = Field(None, ge=1, le=65535, description="where outputs go: UDP port")
    expect: dict[str, Kind] = Field(
        default_factory=dict,
        description="OSC address -> the type its first argument must have (others are dropped)",
    )

    @model_validator(mode="after")
    def _a_direction(self) -> OscSettings:
        if (self.send_host is None) != (self.send_port is None):
            raise ValueError("send_host and send_port go together: give both, or neither")
        if self.listen_port is None and self.send_host is None:
            raise ValueError(
                "an OSC device needs listen_port (to receive), send_host and send_port (to send), or both"
            )
        return self


def _kind(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, driver: Osc, host: Host) -> None:
        self.driver = driver
        self.host = host
        self.lost: asyncio.Future[Exception | None] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.driver._received(data, addr, self.host)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP "port unreachable" for something we sent: nothing to do

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


class Osc(Driver):
    """One OSC peer: a port we listen on and/or a host:port we send to."""

    name: ClassVar[str] = "osc"
    settings: ClassVar[type[DriverSettings]] = OscSettings
    config: OscSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        self._out: asyncio.DatagramTransport | None = None
        self._in: asyncio.DatagramTransport | None = None

    async def run(self, host: Host) -> None:
        cfg = self.config
        if cfg.listen_port is None:
            host.state(connected=True)
            await asyncio.Event().wait()  # send only: nothing to read, ever
            return
        loop = asyncio.get_running_loop()
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _Protocol(self, host), local_addr=(cfg.listen_host, cfg.listen_port)
            )
        except OSError as err:
            raise DriverError(
                f"OSC device '{self.device}' cannot listen on {cfg.listen_host}:{cfg.listen_port} ({err})"
            ) from err
        self._in = transport
        host.state(connected=True)
        try:
            exc = await protocol.lost
        finally:
            transport.close()
            self._in = None
        raise DriverError(f"OSC device '{self.device}' stopped listening ({exc})")

    def _received(self, data: bytes, addr: tuple[str | Any, int], host: Host) -> None:
        now = host.clock()
        try:
            messages = [timed.message for timed in OscPacket(data).messages]
        except ParseError:
            host.malformed(f"a UDP packet from {addr[0]} to OSC device '{self.device}' that is not OSC")
            return
        for message in messages:
            params = message.params
            value = params[0] if params else None
            kind = _kind(value)
            if kind not in ("none", "bool", "number", "string"):
                host.malformed(
                    f"OSC message {message.address} to device '{self.device}' has a {kind} first argument"
                    " (expected a number, string or bool)"
                )
                continue
            expected = self.config.expect.get(message.address, "any")
            if expected != "any" and expected != kind:
                host.malformed(
                    f"OSC message {message.address} to device '{self.device}' has a {kind} first argument"
                    f" (expected a {expected})"
                )
                continue
            host.received(DeviceEvent(self.device, "message", value, address=message.address, t=now))

    async def send(self, action: Mapping[str, Any]) -> None:
        cfg = self.config
        if cfg.send_host is None or cfg.send_port is None:
            raise DriverError(f"OSC device '{self.device}' has no send_host/send_port to send to")
        spec = action["send"]
        builder = OscMessageBuilder(address=spec["address"])
        for arg in spec.get("args", []):
            builder.add_arg(arg)
        data = builder.build().dgram
        if self._out is None or self._out.is_closing():
            loop = asyncio.get_running_loop()
            self._out, _ = await loop.create_datagram_endpoint(
                asyncio.DatagramProtocol, remote_addr=(cfg.send_host, cfg.send_port)
            )
        self._out.sendto(data)

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        usage = "an OSC output is {send: {address: /PATH, args: [NUMBER, TEXT or BOOL, …]}}"
        spec = action.get("send")
        if set(action) != {"send"} or not isinstance(spec, Mapping):
            return usage
        address = spec.get("address")
        if not isinstance(address, str) or not address.startswith("/"):
            return f"{usage}; the address must start with '/'"
        args = spec.get("args", [])
        if set(spec) - {"address", "args"} or not isinstance(args, list):
            return usage
        if not all(isinstance(arg, bool | int | float | str) for arg in args):
            return f"{usage}; got args {args!r}"
        return None

    async def close(self) -> None:
        for transport in (self._out, self._in):
            if transport is not None:
                transport.close()
        self._out = self._in = None
