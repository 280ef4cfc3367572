"""Projectors over PJLink class 1, and Wake-on-LAN for those asleep on the network.

Written from the published PJLink specification (JBMIA, "PJLink Specifications",
class 1). Sections 2-4 are numbered as in the contents of Version 1.00 (2005-11-24) and
Version 1.04 (2013-12-10): 2 Command Format (2.1 command line, 2.2 response line, 2.3
set, 2.4 get commands), 3 Protocol, 4 Command Description. The authentication section
follows the commands; its number was not confirmed, so it is named by its title:

- §2 Command format: a command is ``%1`` + a 4-letter body + a space + a parameter
  + CR (``%1POWR 1\\r``), 136 bytes at most; a query's parameter is ``?``. A response
  is ``%1`` + the body + ``=`` + the result + CR (``%1POWR=OK``), and a set command
  answers ``OK`` or an error: ``ERR1`` undefined command, ``ERR2`` out of parameter,
  ``ERR3`` unavailable time, ``ERR4`` projector/display failure.
- §3 Protocol: TCP port 4352; on connecting, the projector greets with ``PJLINK 0``
  (no authentication) or ``PJLINK 1 <random number>`` (8 characters); one command, one
  response; the projector closes a connection idle for 30 s, so this driver opens one
  per exchange and closes it after.
- §4 Command description: ``POWR`` (1 on, 0 off; the query answers 0 off, 1 on,
  2 cooling, 3 warm-up), ``INPT`` (two digits: the type 1 RGB, 2 video, 3 digital,
  4 storage, 5 network, then the number 1–9), ``ERST ?`` (six digits: fan, lamp,
  temperature, cover open, filter, other; each 0 fine, 1 warning, 2 error), ``LAMP ?``
  (pairs of lamp hours and 0/1 lamp off/on). While the projector warms up or cools
  down it answers ``ERR3`` to ``POWR`` and ``INPT``.
- Security (the authentication procedure): with ``PJLINK 1 <random>``, the first command is preceded by the 32
  lowercase hex digits of MD5(random number + password); a wrong digest is answered
  ``PJLINK ERRA`` and the connection is closed.

Wake-on-LAN (AMD's "Magic Packet" white paper): a UDP datagram of six bytes 0xFF and
then the MAC address sixteen times, broadcast (here to ``wol_broadcast:wol_port``).

Outputs: ``{power: "on" | "off"}``, ``{input: "31"}``, ``{wake: true}``. An action
the projector answers with ``ERR3`` is tried again every ``retry_every`` seconds for
up to ``retry_for`` seconds (a projector warming up is the common case); each error
code gives operators one sentence. Status (``POWR ?``, ``INPT ?``, ``ERST ?``,
``LAMP ?``) is polled every ``poll`` seconds and each change becomes a device event
(kind ``status``, address ``power`` / ``input`` / ``errors`` / ``lamp``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import socket
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from showfloor.drivers._secrets import one_of, resolve
from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host
from showfloor.errors import DriverError

log = logging.getLogger(__name__)

PJLINK_PORT = 4352
POWER = {"0": "off", "1": "on", "2": "cooling", "3": "warming"}
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}$")
_INPUT = re.compile(r"^[1-5][1-9]$")

#: each PJLink error, as one sentence ({who}: the device; {what}: the command)
ERRORS = {
    "ERR1": "{who} does not know the command {what} (ERR1, undefined command)",
    "ERR2": "{who} refused the parameter of {what} (ERR2, out of parameter); check the input "
            "number against the projector's inputs",
    "ERR3": "{who} cannot do {what} now (ERR3, unavailable time: warming up or cooling down)",
    "ERR4": "{who} reports a failure of the projector or display at {what} (ERR4); look at the "
            "projector",
    "ERRA": "{who} refused the password (PJLINK ERRA); set the device's `password` to the "
            "projector's PJLink password",
}


class PJLinkError(DriverError):
    """The projector answered an error code (``code``: ERR1 … ERR4, ERRA)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


class PJLinkSettings(DriverSettings):
    """One projector."""

    host: str = Field(description="the projector's IP address or host name")
    port: int = Field(PJLINK_PORT, ge=1, le=65535, description="its PJLink TCP port")
    password: str | None = Field(None, max_length=32,
                                 description="its PJLink password (when it asks for one; in "
                                 "plain text: prefer `password_env` or `password_file`)")
    password_env: str | None = Field(None, description="the environment variable that holds "
                                     "the password (instead of `password`)")
    password_file: str | None = Field(None, description="an absolute path to a file that "
                                      "holds the password (instead of `password`)")
    timeout: float = Field(2.0, gt=0, le=30, description="seconds to wait for the projector (an "
                           "output may wait for one status exchange first: keep twice this "
                           "under the output's `timeout`)")
    poll: float = Field(30.0, ge=0, description="seconds between status queries (0: never)")
    retry_every: float = Field(10.0, gt=0, description="seconds between tries of an action "
                               "refused with ERR3 (warming up, cooling down)")
    retry_for: float = Field(120.0, ge=0, description="seconds after which such an action is given up")
    mac: str | None = Field(None, description="the projector's MAC address, for Wake-on-LAN "
                            "(`{wake: true}`, and before `{power: on}`)")
    wol_broadcast: str = Field("255.255.255.255", description="where the Wake-on-LAN packet goes")
    wol_port: int = Field(9, ge=1, le=65535, description="the Wake-on-LAN UDP port")

    @model_validator(mode="after")
    def _one_password(self) -> PJLinkSettings:
        one_of("password", self.password, self.password_env, self.password_file)
        return self

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        if value is not None and not _MAC.match(value):
            raise ValueError(f"'{value}' is not a MAC address like 00:11:22:33:44:55")
        return value


def magic_packet(mac: str) -> bytes:
    """The Wake-on-LAN packet: 6 × 0xFF, then the MAC address 16 times."""
    raw = bytes.fromhex(re.sub(r"[:-]", "", mac))
    if len(raw) != 6:
        raise ValueError(f"'{mac}' is not a MAC address")
    return b"\xff" * 6 + raw * 16


def auth_digest(random: str, password: str) -> str:
    """PJLink authentication: MD5 of the random number followed by the password, 32 lowercase hex."""
    return hashlib.md5((random + password).encode("ascii"), usedforsecurity=False).hexdigest()


class PJLink(Driver):
    """One projector over PJLink class 1."""

    name: ClassVar[str] = "pjlink"
    settings: ClassVar[type[DriverSettings]] = PJLinkSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        assert isinstance(config, PJLinkSettings)
        self.cfg = config
        self.who = f"projector '{device}' ({config.host}:{config.port})"
        #: the password, from the profile, the environment or a file (DriverError: missing)
        self.password = resolve(device, "password", config.password, config.password_env,
                                config.password_file)
        if self.password is not None and len(self.password) > 32:
            raise DriverError(f"{self.who}: its password is longer than PJLink's 32 characters")
        self.status: dict[str, str] = {}
        self._host: Host | None = None
        self._lock = asyncio.Lock()  # one exchange at a time: projectors take one connection
        self._retries: set[asyncio.Task[None]] = set()
        self._said: set[str] = set()

    # -- the profile --------------------------------------------------------------------------

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        if len(action) != 1 or not set(action) <= {"power", "input", "wake"}:
            return ("a PJLink action is one of {power: on}, {power: off}, {input: \"31\"} or "
                    f"{{wake: true}}; got {dict(action)!r}")
        if "power" in action and action["power"] not in ("on", "off", True, False):
            return f"`power` is `on` or `off`, not {action['power']!r}"
        if "input" in action and not _INPUT.match(str(action["input"])):
            return (f"`input` is two digits, the type (1 RGB, 2 video, 3 digital, 4 storage, "
                    f"5 network) and the number (1–9), like \"31\"; not {action['input']!r}")
        if "wake" in action and action["wake"] is not True:
            return f"`wake` takes `true`, not {action['wake']!r}"
        return None

    # -- one exchange -------------------------------------------------------------------------

    async def exchange(self, *commands: str) -> list[str]:
        """Connect, authenticate if asked, send each command (``POWR 1``), return the results.

        Raises :class:`PJLinkError` for an error answer (the results before it are lost),
        :class:`DriverError` when the projector cannot be reached or says nothing readable.
        """
        async with self._lock:
            try:
                return await asyncio.wait_for(self._exchange(commands), self.cfg.timeout)
            except TimeoutError as err:
                raise DriverError(f"{self.who} did not answer within {self.cfg.timeout:g} s") from err
            except OSError as err:
                raise DriverError(f"{self.who} cannot be reached ({err.strerror or err}); is it on "
                                  "the network, and is PJLink enabled?") from err

    async def _exchange(self, commands: tuple[str, ...]) -> list[str]:
        reader, writer = await asyncio.open_connection(self.cfg.host, self.cfg.port)
        try:
            greeting = (await reader.readuntil(b"\r")).decode("ascii", "replace").strip()
            prefix = ""
            if greeting == "PJLINK 0":
                pass
            elif greeting.startswith("PJLINK 1 ") and len(greeting) == len("PJLINK 1 ") + 8:
                if not self.password:
                    raise PJLinkError("ERRA", f"{self.who} asks for a password; set the device's "
                                      "`password` to the projector's PJLink password")
                prefix = auth_digest(greeting[len("PJLINK 1 "):], self.password)
            elif greeting == "PJLINK ERRA":
                raise PJLinkError("ERRA", ERRORS["ERRA"].format(who=self.who, what=""))
            else:
                raise DriverError(f"{self.who} greeted with {greeting[:40]!r}, not PJLink's "
                                  "'PJLINK 0' or 'PJLINK 1 <random>'; check `host` and `port`")
            results: list[str] = []
            for command in commands:
                body = command.split(" ", 1)[0]
                writer.write(f"{prefix}%1{command}\r".encode("ascii"))
                prefix = ""  # authentication: the digest goes before the first command only
                await writer.drain()
                try:
                    line = (await reader.readuntil(b"\r")).decode("ascii", "replace").strip()
                except asyncio.IncompleteReadError as err:
                    raise DriverError(f"{self.who} closed the connection after {command!r}") from err
                if line == "PJLINK ERRA":
                    raise PJLinkError("ERRA", ERRORS["ERRA"].format(who=self.who, what=command))
                head = f"%1{body}="
                if not line.upper().startswith(head):
                    raise DriverError(f"{self.who} answered {command!r} with {line[:40]!r}, not "
                                      f"'{head}…'")
                result = line[len(head):]
                if result in ERRORS:
                    raise PJLinkError(result, ERRORS[result].format(who=self.who, what=command))
                results.append(result)
            return results
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    # -- status -------------------------------------------------------------------------------

    async def query(self) -> dict[str, str]:
        """POWR ?, INPT ?, ERST ?, LAMP ? (a projector in standby may refuse INPT and LAMP)."""
        found: dict[str, str] = {}
        for key, command in (("power", "POWR ?"), ("input", "INPT ?"), ("errors", "ERST ?"),
                             ("lamp", "LAMP ?")):
            try:
                (value,) = await self.exchange(command)
            except PJLinkError as err:
                if err.code == "ERRA":
                    raise
                continue  # ERR1 (no lamp), ERR3 (in standby): that status is not known now
            found[key] = POWER.get(value, value) if key == "power" else value
        return found

    async def run(self, host: Host) -> None:
        self._host = host
        if self.cfg.poll <= 0:
            host.state(connected=True)
            await asyncio.Event().wait()  # outputs only: nothing to read
        problem: str | None = "not yet asked"
        while True:
            try:
                found = await self.query()
            except DriverError as err:
                if str(err) != problem:
                    problem = str(err)
                    host.state(connected=False, problem=problem)
            else:
                if problem is not None:
                    problem = None
                    host.state(connected=True)
                for key, value in found.items():
                    if self.status.get(key) != value:
                        self.status[key] = value
                        host.received(DeviceEvent(self.device, "status", value, address=key,
                                                  t=host.clock()))
            await asyncio.sleep(self.cfg.poll)

    # -- outputs ------------------------------------------------------------------------------

    def _say(self, sentence: str) -> None:
        """Once per sentence (the host logs state problems; this logs the rest)."""
        if sentence not in self._said:
            self._said.add(sentence)
            log.warning("%s", sentence)

    async def wake(self) -> None:
        if self.cfg.mac is None:
            raise DriverError(f"{self.who} has no `mac`, so it cannot be woken (Wake-on-LAN); "
                              "add the projector's MAC address to the device")
        packet = magic_packet(self.cfg.mac)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            try:
                sock.sendto(packet, (self.cfg.wol_broadcast, self.cfg.wol_port))
            except OSError as err:
                raise DriverError(f"{self.who}: the Wake-on-LAN packet to {self.cfg.wol_broadcast}:"
                                  f"{self.cfg.wol_port} could not be sent ({err})") from err

    async def send(self, action: Mapping[str, Any]) -> None:
        if "wake" in action:
            await self.wake()
            return
        if "power" in action:
            on = action["power"] in ("on", True)
            command = "POWR 1" if on else "POWR 0"
            if on and self.cfg.mac is not None:
                await self.wake()  # a projector in network standby answers only once woken
        else:
            command = f"INPT {action['input']}"
        try:
            await self.exchange(command)
        except PJLinkError as err:
            if err.code != "ERR3":
                raise
            self._later(command, str(err))
        except DriverError as err:
            if command != "POWR 1" or self.cfg.mac is None:
                raise
            self._later(command, str(err))  # just woken: its network may take a while

    def _later(self, command: str, why: str) -> None:
        """Try ``command`` again every ``retry_every`` s for ``retry_for`` s (its own task)."""
        log.warning("%s; it is tried again every %g s for %g s", why, self.cfg.retry_every,
                    self.cfg.retry_for)
        task = asyncio.create_task(self._retry(command), name=f"pjlink retry {self.device} {command}")
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    async def _retry(self, command: str) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.cfg.retry_for
        last = ""
        while loop.time() + self.cfg.retry_every <= give_up:
            await asyncio.sleep(self.cfg.retry_every)
            try:
                await self.exchange(command)
            except DriverError as err:
                if isinstance(err, PJLinkError) and err.code not in ("ERR3",):
                    self._say(str(err))
                    return
                last = str(err)
                continue
            log.info("%s: %s done after waiting", self.who, command)
            return
        log.warning("%s: %s given up after %g s (%s)", self.who, command, self.cfg.retry_for, last)

    async def close(self) -> None:
        for task in list(self._retries):
            task.cancel()
        for task in list(self._retries):
            with contextlib.suppress(asyncio.CancelledError):
                await task
