"""Serial devices (Arduino boards, button boxes) through pyserial-asyncio.

Two framings: ``lines`` (the device prints one message per line, ``B1\\n``;
each line is a ``line`` event whose value is its text) and ``bytes`` (each
byte is a message, a ``byte`` event whose value is the byte's number). Bytes
that cannot be a message — a line that is not printable text or is longer than
``max_line``, a byte not in ``accept`` — are dropped and counted through
``host.malformed``. A port that disappears (the board is unplugged) is reported
and reopened every ``reopen_every`` seconds until it returns.

Outputs: ``{write: "LED 1"}`` writes the text to the device (with a newline in
``lines`` framing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

import serial_asyncio
from pydantic import Field, model_validator

from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host
from showfloor.errors import DriverError


class SerialSettings(DriverSettings):
    """The profile keys of a serial device."""

    port: str = Field(description="the device path, e.g. /dev/ttyACM0 or a /dev/serial/by-id/ link")
    baud: int = Field(9600, gt=0, description="the line speed in bits per second")
    framing: Literal["lines", "bytes"] = Field(
        "lines", description="lines: one message per text line; bytes: one message per byte"
    )
    max_line: int = Field(256, gt=0, description="longest line in bytes; longer ones are dropped")
    accept: list[Annotated[int, Field(ge=0, le=255)]] | None = Field(
        None, description="bytes framing: the byte values that are messages (others are dropped)"
    )
    reopen_every: float = Field(
        1.0, gt=0, description="seconds between tries to open a missing port again"
    )

    @model_validator(mode="after")
    def _accept_is_for_bytes(self) -> SerialSettings:
        if self.accept is not None and self.framing != "bytes":
            raise ValueError("accept lists byte values, so it needs framing: bytes")
        return self


def _text(raw: bytes) -> str | None:
    """The printable text of one line, or None when it is not text."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.rstrip("\r")
    if not text.isprintable():
        return None
    return text.strip()


class Serial(Driver):
    """One serial port."""

    name: ClassVar[str] = "serial"
    settings: ClassVar[type[DriverSettings]] = SerialSettings
    config: SerialSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        self._writer: asyncio.StreamWriter | None = None

    async def run(self, host: Host) -> None:
        cfg = self.config
        problem_said: str | None = None
        while True:
            try:
                reader, writer = await serial_asyncio.open_serial_connection(url=cfg.port, baudrate=cfg.baud)
            except (OSError, ValueError) as err:  # SerialException is an OSError
                problem = (
                    f"serial port {cfg.port} cannot be opened ({err});"
                    f" trying again every {cfg.reopen_every:g} s"
                )
                if problem_said is None:  # once per outage, not once per try
                    host.state(connected=False, problem=problem)
                    problem_said = problem
                await asyncio.sleep(cfg.reopen_every)
                continue
            problem_said = None
            self._writer = writer
            host.state(connected=True)
            try:
                await self._read(reader, host)
                gone = f"serial port {cfg.port} closed (device unplugged?); reopening"
            except (OSError, asyncio.IncompleteReadError) as err:
                gone = f"serial port {cfg.port} went away ({err}); reopening"
            finally:
                self._writer = None
                writer.close()
            host.state(connected=False, problem=gone)
            problem_said = gone
            await asyncio.sleep(cfg.reopen_every)

    async def _read(self, reader: asyncio.StreamReader, host: Host) -> None:
        cfg = self.config
        buffer = bytearray()
        overflow = False
        accept = set(cfg.accept) if cfg.accept is not None else None
        while True:
            chunk = await reader.read(4096)
            if not chunk:
                return
            now = host.clock()
            if cfg.framing == "bytes":
                for byte in chunk:
                    if accept is not None and byte not in accept:
                        host.malformed(f"byte {byte} from serial device '{self.device}' is not in accept")
                        continue
                    host.received(DeviceEvent(self.device, "byte", byte, t=now))
                continue
            buffer += chunk
            while True:
                end = buffer.find(b"\n")
                if end < 0:
                    if len(buffer) > cfg.max_line:
                        overflow = True
                        buffer.clear()
                    break
                raw = bytes(buffer[:end])
                del buffer[: end + 1]
                if overflow or len(raw) > cfg.max_line:
                    overflow = False
                    host.malformed(
                        f"a line longer than {cfg.max_line} bytes from serial device '{self.device}'"
                    )
                    continue
                text = _text(raw)
                if text is None:
                    host.malformed(f"a line of non-text bytes from serial device '{self.device}'")
                    continue
                if text:
                    host.received(DeviceEvent(self.device, "line", text, t=now))

    async def send(self, action: Mapping[str, Any]) -> None:
        writer = self._writer
        if writer is None:
            raise DriverError(
                f"serial port {self.config.port} is not open, so '{action['write']}' was not sent"
            )
        data = str(action["write"]).encode("utf-8")
        if self.config.framing == "lines":
            data += b"\n"
        writer.write(data)
        await writer.drain()

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        if set(action) != {"write"} or not isinstance(action["write"], str | int):
            return "a serial output is {write: TEXT}"
        return None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
