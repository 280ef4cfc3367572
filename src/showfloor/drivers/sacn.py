"""DMX lighting over sACN (ANSI E1.31): presets and fades as outputs.

The packets are the ``sacn`` package's (:class:`sacn.DataPacket`); this module
only decides when to send them, on a non-blocking UDP socket of its own, so a
preset leaves the station the moment the engine asks for it instead of at the
library thread's next frame. A device is one universe:

- ``{preset: NAME}`` sets the preset's channels at once (other channels keep
  their value); ``{preset: NAME, fade: MS}`` fades to them, linearly over MS
  milliseconds at ``fps`` frames a second;
- ``{channels: {CHANNEL: VALUE}}`` (with an optional ``fade``) does the same
  without a named preset; ``{blackout: true}`` takes every channel to 0.

Nothing is sent before the first action, so a station never darkens a rig it
was not asked to light. After it, the last frame is repeated once a second
(E1.31 6.6.1 lets a source slow to a keep-alive when nothing changes; receivers
drop a source after 2.5 s of silence), and on close three frames with the
Stream_Terminated option tell receivers the source is gone (E1.31 6.2.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import math
import secrets
import socket
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator
from sacn import DataPacket
from sacn.messages.data_packet import calculate_multicast_addr

from showfloor.drivers.base import Driver, DriverSettings, Host, Refusal
from showfloor.errors import DriverError

log = logging.getLogger(__name__)

#: E1.31's port (ACN_SDT_MULTICAST_PORT)
SACN_PORT = 5568
#: a frame is sent again after this long without a change (E1.31 6.6.1: 0.8–1 s)
KEEPALIVE_S = 1.0

Channel = Annotated[int, Field(ge=1, le=512)]
Level = Annotated[int, Field(ge=0, le=255)]


class SacnSettings(DriverSettings):
    """One sACN universe the station lights."""

    universe: int = Field(1, ge=1, le=63999, description="the DMX universe (1–63999)")
    destination: str = Field(
        "multicast",
        description="`multicast` (239.255.x.y for the universe, E1.31 9.3.1) or the IP address or "
        "host name of one receiver (unicast)")
    port: int = Field(SACN_PORT, ge=1, le=65535, description="the receivers' UDP port")
    interface: str | None = Field(
        None, description="the local IP address to send multicast from (default: the system's choice)")
    ttl: int = Field(8, ge=1, le=255, description="multicast time-to-live")
    priority: int = Field(100, ge=0, le=200, description="the sACN priority of this source (0–200)")
    fps: float = Field(40.0, gt=0, le=44, description="frames a second during a fade (DMX512 tops at 44)")
    source_name: str = Field("showfloor", max_length=63, description="the source name receivers show")
    presets: dict[str, dict[Channel, Level]] = Field(
        default_factory=dict, description="NAME → {CHANNEL: VALUE}: the looks that outputs name")

    @field_validator("presets", mode="before")
    @classmethod
    def _names_are_text(cls, value: Any) -> Any:
        # ``presets: {3: {...}}`` in YAML gives an int key; outputs may say ``preset: 3`` or "3"
        if isinstance(value, Mapping):
            return {str(key): channels for key, channels in value.items()}
        return value


def _fade_ms(action: Mapping[str, Any]) -> str | None:
    fade = action.get("fade", 0)
    if isinstance(fade, bool) or not isinstance(fade, int | float) or fade < 0 or not math.isfinite(fade):
        return f"`fade` must be a number of milliseconds (0 or more), not {fade!r}"
    return None


class Sacn(Driver):
    """One universe of DMX over sACN (outputs only)."""

    name: ClassVar[str] = "sacn"
    settings: ClassVar[type[DriverSettings]] = SacnSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        assert isinstance(config, SacnSettings)
        self.cfg = config
        self.levels: list[int] = [0] * 512
        self._sock: socket.socket | None = None
        self._address: tuple[str, int] | None = None
        self._packet = DataPacket(cid=tuple(secrets.token_bytes(16)), sourceName=config.source_name,
                                  universe=config.universe, priority=config.priority)
        self._started = False  # nothing goes out before the first action
        self._last_sent = 0.0
        self._fade: asyncio.Task[None] | None = None
        self._host: Host | None = None
        self._failing: str | None = None
        #: frames sent (for tests and /healthz figures)
        self.frames = 0

    # -- the profile --------------------------------------------------------------------------

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        """As the contract's; given the device's ``settings`` too, a preset it lacks is
        refused, with a fix (a near name, or where to add it)."""
        keys = set(action) - {"fade"}
        if len(keys) != 1 or not keys <= {"preset", "channels", "blackout"}:
            return ("an sACN action is one of {preset: NAME}, {channels: {CHANNEL: VALUE}} or "
                    f"{{blackout: true}}, each with an optional `fade: MS`; got {dict(action)!r}")
        if (problem := _fade_ms(action)) is not None:
            return problem
        if "preset" in action and not isinstance(action["preset"], str | int):
            return f"`preset` names one of the device's presets, not {action['preset']!r}"
        if ("preset" in action and isinstance(settings, SacnSettings)
                and str(action["preset"]) not in settings.presets):
            name = str(action["preset"])
            known = ", ".join(sorted(settings.presets)) or "none"
            near = difflib.get_close_matches(name, list(settings.presets), n=1, cutoff=0.6)
            fix = (f"did you mean '{near[0]}'?" if near else
                   f"add preset '{name}' under the device's `presets:` ({{CHANNEL: VALUE}}), "
                   "or name one it has")
            return Refusal(f"the device has no preset '{name}' (it has: {known})", fix)
        if "blackout" in action and action["blackout"] is not True:
            return f"`blackout` takes `true`, not {action['blackout']!r}"
        if "channels" in action:
            channels = action["channels"]
            if not isinstance(channels, Mapping) or not channels:
                return f"`channels` maps DMX channels (1–512) to values (0–255), not {channels!r}"
            for channel, value in channels.items():
                if isinstance(channel, bool) or not isinstance(channel, int) or not 1 <= channel <= 512:
                    return f"DMX channel {channel!r} is not one of 1–512"
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
                    return f"DMX channel {channel} is given {value!r}; a value is 0–255"
        return None

    def target(self, action: Mapping[str, Any]) -> dict[int, int]:
        """The channels ``action`` ends with (raises :class:`DriverError` for an unknown preset)."""
        if "blackout" in action:
            return dict.fromkeys(range(1, 513), 0)
        if "channels" in action:
            return {int(k): int(v) for k, v in action["channels"].items()}
        name = str(action["preset"])
        if name not in self.cfg.presets:
            known = ", ".join(sorted(self.cfg.presets)) or "none"
            raise DriverError(f"sACN device '{self.device}' has no preset '{name}' (it has: {known}); "
                              "add it under the device's `presets:`")
        return dict(self.cfg.presets[name])

    # -- the life of the device ---------------------------------------------------------------

    async def _open(self) -> None:
        if self._sock is not None:
            return
        cfg = self.cfg
        if cfg.destination == "multicast":
            address = calculate_multicast_addr(cfg.universe)
        else:
            infos = await asyncio.get_running_loop().getaddrinfo(
                cfg.destination, cfg.port, family=socket.AF_INET, type=socket.SOCK_DGRAM)
            address = str(infos[0][4][0])
            if self._sock is not None:  # opened by `send` or `run` while we looked the name up
                return
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            if cfg.destination == "multicast":
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, cfg.ttl)
                if cfg.interface:
                    where = socket.inet_aton(cfg.interface)
                    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, where)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        except OSError:
            sock.close()
            raise
        self._sock, self._address = sock, (address, cfg.port)

    def _send_frame(self, *, terminated: bool = False) -> None:
        """One data packet with the current levels, now (a UDP send never waits)."""
        if self._sock is None or self._address is None:
            return
        self._packet.dmxData = tuple(self.levels)
        self._packet.option_StreamTerminated = terminated
        try:
            self._sock.sendto(bytes(self._packet.getBytes()), self._address)
        except OSError as err:
            problem = (f"sACN device '{self.device}' cannot send to {self._address[0]}:{self._address[1]} "
                       f"({err.strerror or err}); check the network and `destination`")
            if problem != self._failing:
                self._failing = problem
                if self._host is not None:
                    self._host.state(connected=False, problem=problem)
            return
        finally:
            self._packet.sequence_increase()
        if self._failing is not None:
            self._failing = None
            if self._host is not None:
                self._host.state(connected=True)
        self.frames += 1
        self._last_sent = asyncio.get_running_loop().time()

    async def run(self, host: Host) -> None:
        self._host = host
        try:
            await self._open()
        except OSError as err:
            host.state(connected=False, problem=f"sACN device '{self.device}' cannot reach "
                       f"'{self.cfg.destination}' ({err}); check `destination`")
            raise DriverError(f"sACN device '{self.device}': {err}") from err
        host.state(connected=True)
        loop = asyncio.get_running_loop()
        while True:
            wait = KEEPALIVE_S
            if self._started and (self._fade is None or self._fade.done()):
                wait = self._last_sent + KEEPALIVE_S - loop.time()
                if wait <= 0:
                    self._send_frame()
                    wait = KEEPALIVE_S
            await asyncio.sleep(wait)

    async def send(self, action: Mapping[str, Any]) -> None:
        target = self.target(action)
        await self._open()
        if self._fade is not None and not self._fade.done():
            self._fade.cancel()  # a new look takes over from where the fade had got to
        self._started = True
        fade_ms = float(action.get("fade", 0))
        if fade_ms <= 0:
            for channel, value in target.items():
                self.levels[channel - 1] = value
            self._send_frame()
            return
        self._fade = asyncio.create_task(self._run_fade(target, fade_ms / 1000),
                                         name=f"sacn fade {self.device}")

    async def _run_fade(self, target: Mapping[int, int], seconds: float) -> None:
        """Linear from the current levels to ``target`` over ``seconds``, a frame each 1/fps."""
        loop = asyncio.get_running_loop()
        start = {channel: self.levels[channel - 1] for channel in target}
        began = loop.time()
        period = 1 / self.cfg.fps
        frame = 0
        while True:
            progress = min(1.0, (loop.time() - began) / seconds)
            for channel, end in target.items():
                first = start[channel]
                self.levels[channel - 1] = round(first + (end - first) * progress)
            self._send_frame()
            if progress >= 1.0:
                return
            frame += 1
            # the next frame at its own time, so a late one does not push all that follow
            await asyncio.sleep(max(0.0, began + frame * period - loop.time()))

    async def close(self) -> None:
        if self._fade is not None:
            self._fade.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fade
        if self._sock is not None:
            if self._started:
                for _ in range(3):  # E1.31 6.2.6: three frames with Stream_Terminated
                    self._send_frame(terminated=True)
            self._sock.close()
            self._sock = None

