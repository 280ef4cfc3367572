"""The simulated driver: a device that plays a script, and records what it is sent.

For ``showfloor preview``, the demo and the docs (a "big button" panel without the
panel), and the test peer of the profile mapping::

    devices:
      panel:
        driver: simulated
        script:                       # events, each `after` seconds after the previous
          - {after: 2, kind: line, value: B1}
          - {after: 1.5, kind: line, value: B2, address: ""}
        repeat: false                 # play the script again and again
        start_delay: 0                # seconds before the first event

Every output action sent to it is kept in :attr:`Simulated.sent` (the latest
``keep`` of them) and logged at debug level; ``{fail: true}`` as an action raises
(to try the host's error reporting), ``{hang: SECONDS}`` sleeps that long.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host

log = logging.getLogger(__name__)

Value = str | int | float | bool | None


class Step(BaseModel):
    """One scripted device event."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: Annotated[float, Field(ge=0, le=86_400)] = Field(
        default=1, description="Seconds after the previous event (or the start).")
    kind: Annotated[str, Field(min_length=1, max_length=32)] = "line"
    value: Value = None
    address: Annotated[str, Field(max_length=200)] = ""


class SimulatedSettings(DriverSettings):
    script: list[Step] = Field(default_factory=list, description="The events to play.")
    repeat: bool = Field(default=False, description="Play the script again when it ends.")
    start_delay: Annotated[float, Field(ge=0, le=86_400)] = Field(
        default=0, description="Seconds before the script starts.")
    keep: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=100, description="How many sent actions to remember.")


class Simulated(Driver):
    """Plays ``script``; remembers every action it is sent."""

    name: ClassVar[str] = "simulated"
    settings: ClassVar[type[DriverSettings]] = SimulatedSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        assert isinstance(config, SimulatedSettings)
        self.cfg = config
        #: the actions this device was sent, oldest first
        self.sent: deque[dict[str, Any]] = deque(maxlen=config.keep)
        #: how many times :meth:`run` started (restarts included)
        self.runs = 0

    async def run(self, host: Host) -> None:
        self.runs += 1
        host.state(connected=True)
        await asyncio.sleep(self.cfg.start_delay)
        while True:
            for step in self.cfg.script:
                await asyncio.sleep(step.after)
                host.received(DeviceEvent(self.device, step.kind, step.value, step.address,
                                          host.clock()))
            if not self.cfg.repeat or not self.cfg.script:
                break
        await asyncio.Event().wait()  # the script is done; the device stays connected

    async def send(self, action: Mapping[str, Any]) -> None:
        self.sent.append(dict(action))
        log.debug("simulated device %s was sent %s", self.device, dict(action))
        if action.get("fail"):
            raise RuntimeError("the simulated device was told to fail")
        hang = action.get("hang")
        if isinstance(hang, (int, float)) and not isinstance(hang, bool) and hang > 0:
            await asyncio.sleep(float(hang))

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        if not action:
            return "an action for the simulated driver must have at least one key"
        return None
