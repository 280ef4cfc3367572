"""A PJLink class 1 projector for tests, written from the published specification
(JBMIA "PJLink Specifications", class 1: §2 command format, §3 protocol, §4 POWR / INPT /
ERST / LAMP, the authentication procedure) — not from the driver, so the two can disagree.

- greets with ``PJLINK 0`` or, with a password, ``PJLINK 1 <8 random hex>``; the first
  command must then carry MD5(random + password) in front, else ``PJLINK ERRA`` and the
  connection is closed;
- ``POWR 1`` starts a warm-up of ``warmup`` seconds (the query answers 3, then 1);
  ``POWR 0`` a cool-down as long (2, then 0); during either, ``POWR`` and ``INPT``
  answer ``ERR3``; ``INPT`` in standby answers ``ERR3`` too; with ``failed`` set, every
  set command answers ``ERR4``;
- an unknown body answers ``ERR1``, a bad parameter ``ERR2``;
- ``received`` keeps every command line as it came (digest included), for the tests.

Run alone: ``python _pjlink_server.py PORT [PASSWORD]`` (prints ``ready``).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sys
import time


class Projector:
    def __init__(self, password: str | None = None, warmup: float = 0.3,
                 inputs: tuple[str, ...] = ("11", "31", "32")) -> None:
        self.password = password
        self.warmup = warmup
        self.inputs = inputs
        self.power = "0"  # 0 off, 1 on, 2 cooling, 3 warming
        self.input = "31"
        self.errors = "000000"
        self.lamp_hours = 1234
        self.received: list[str] = []
        self.refused_passwords = 0
        self.connections = 0
        self.failed = False  # True: set commands answer ERR4 (a lamp or fan failure)
        self._settle: float | None = None  # when warming/cooling ends
        self.server: asyncio.Server | None = None
        self.port = 0

    def _power_now(self) -> str:
        if self._settle is not None and time.monotonic() >= self._settle:
            self.power = "1" if self.power == "3" else "0"
            self._settle = None
        return self.power

    def answer(self, line: str) -> str:
        """The response line (without CR) to one command line (without digest and CR)."""
        if not line.startswith("%1") or len(line) < 7 or line[6] != " ":
            return "%1" + line[2:6] + "=ERR1" if line.startswith("%1") else "%1XXXX=ERR1"
        body, param = line[2:6].upper(), line[7:]
        power = self._power_now()
        busy = power in ("2", "3")
        if self.failed and param != "?":
            return f"%1{body}=ERR4"
        if body == "POWR":
            if param == "?":
                return f"%1POWR={power}"
            if param not in ("0", "1"):
                return "%1POWR=ERR2"
            if busy:
                return "%1POWR=ERR3"
            if param != power:
                self.power = "3" if param == "1" else "2"
                self._settle = time.monotonic() + self.warmup
            return "%1POWR=OK"
        if body == "INPT":
            if param == "?":
                return f"%1INPT={self.input}" if power == "1" else "%1INPT=ERR3"
            if param not in self.inputs:
                return "%1INPT=ERR2"
            if power != "1":
                return "%1INPT=ERR3"
            self.input = param
            return "%1INPT=OK"
        if body == "ERST" and param == "?":
            return f"%1ERST={self.errors}"
        if body == "LAMP" and param == "?":
            return f"%1LAMP={self.lamp_hours} {1 if power == '1' else 0}"
        if body in ("ERST", "LAMP"):
            return f"%1{body}=ERR2"
        return f"%1{body}=ERR1"

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        random = secrets.token_hex(4)
        writer.write(f"PJLINK 1 {random}\r".encode() if self.password else b"PJLINK 0\r")
        first = True
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(reader.readuntil(b"\r"), 30)  # §3: 30 s idle
                except (asyncio.IncompleteReadError, TimeoutError):
                    return
                line = raw.decode("ascii", "replace").rstrip("\r")
                self.received.append(line)
                if first and self.password:
                    expected = hashlib.md5((random + self.password).encode(),
                                           usedforsecurity=False).hexdigest()
                    if line[:32] != expected:
                        self.refused_passwords += 1
                        writer.write(b"PJLINK ERRA\r")
                        await writer.drain()
                        return
                    line = line[32:]
                first = False
                writer.write((self.answer(line) + "\r").encode())
                await writer.drain()
        finally:
            writer.close()

    async def start(self, port: int = 0) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", port)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def _main() -> None:
    projector = Projector(password=sys.argv[2] if len(sys.argv) > 2 else None)
    await projector.start(int(sys.argv[1]))
    print("ready", projector.port, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(_main())
