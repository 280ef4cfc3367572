"""The one small interface every hall-hardware driver implements.

A **driver** talks one protocol (serial, OSC, MQTT, sACN, PJLink, …). A station
profile names **devices** — instances of a driver with their own settings — and
maps what they send to engine inputs (``inputs:``) and engine cues to what they
should do (``outputs:``). Drivers are found by entry point (group
``showfloor.drivers``), like scene types.

The contract, for a driver author:

- ``Driver.settings`` is a pydantic model (:class:`DriverSettings`) of the keys
  a device of this driver takes in the profile (``devices: {NAME: {driver:
  serial, port: /dev/ttyACM0, …}}``); ``check`` validates them with
  file:line:column like any other profile key.
- :meth:`Driver.run` is the driver's life: connect, then read forever, giving
  each device message to ``host.received(...)`` as a :class:`DeviceEvent`. It
  never blocks the event loop (blocking I/O goes to a thread); it returns or
  raises only when the device is gone — the host logs it once, reports it and
  starts ``run`` again with backoff. A driver that cannot reach its device says
  so with ``host.state(connected=False, problem="…")`` and keeps trying.
- :meth:`Driver.send` carries out one output action (``{"preset": 3}``,
  ``{"power": "off"}``, …) checked against :meth:`Driver.check_action` when
  the profile is loaded. It must return within the host's send timeout; the
  host runs it as its own task, so a slow device never holds the engine.
- Malformed device messages are the driver's to drop: ``host.malformed(what)``
  logs them (once a minute per kind at most) and counts them.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

ENTRY_POINT_GROUP = "showfloor.drivers"


class DriverSettings(BaseModel):
    """The profile keys of one device (besides ``driver``); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DeviceEvent:
    """One thing a device said: which device, what kind, the value.

    ``kind`` is driver-defined and short (``line``, ``key``, ``button``,
    ``message``, ``presence``, ``value``); ``value`` is a string, number or
    bool (never bytes); ``address`` says where on the device it came from (an
    OSC address, an MQTT topic, a button number) or is empty. ``t`` is the
    station's monotonic clock when the driver received it.
    """

    device: str
    kind: str
    value: str | float | int | bool | None
    address: str = ""
    t: float = 0.0
    extra: Mapping[str, Any] = field(default_factory=dict)


class Refusal(str):
    """What :meth:`Driver.check_action` may return instead of a plain sentence: the
    sentence, and ``fix``, what to do about it (``check`` prints it as the hint)."""

    fix: str | None

    def __new__(cls, why: str, fix: str | None = None) -> Refusal:
        self = super().__new__(cls, why)
        self.fix = fix
        return self


def action_problem(cls: type[Driver], action: Mapping[str, Any],
                   settings: DriverSettings | None) -> str | None:
    """``cls.check_action(action, settings)``; a driver written before ``check_action``
    took ``settings`` (one argument) is asked without them."""
    try:
        takes = "settings" in inspect.signature(cls.check_action).parameters
    except (TypeError, ValueError):
        takes = False
    if takes:
        return cls.check_action(action, settings=settings)
    return cls.check_action(action)


class Host(Protocol):
    """What a driver may call on the station that runs it."""

    def received(self, event: DeviceEvent) -> None:
        """A device message (never blocks; mapped to an input by the profile)."""

    def state(self, *, connected: bool, problem: str | None = None) -> None:
        """The device is (not) reachable; ``problem`` is one sentence for operators."""

    def malformed(self, what: str) -> None:
        """A message the driver could not read was dropped (rate-limited log)."""

    def clock(self) -> float:
        """The station's monotonic clock."""


class Driver(abc.ABC):
    """One device of one protocol."""

    #: the name in ``devices: {NAME: {driver: <name>}}`` (the entry point's name)
    name: ClassVar[str]
    #: the settings model of this driver
    settings: ClassVar[type[DriverSettings]]

    def __init__(self, device: str, config: DriverSettings) -> None:
        self.device = device
        self.config = config

    @abc.abstractmethod
    async def run(self, host: Host) -> None:
        """Connect and read until the device is gone (then return or raise)."""

    async def send(self, action: Mapping[str, Any]) -> None:
        """Carry out one output action (already checked by :meth:`check_action`)."""
        raise NotImplementedError(f"the {self.name} driver has no outputs")

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        """Why ``action`` is not one this driver can do (None: it can); for ``check``.

        ``settings`` is the device's own validated settings when they are known (None
        when they are not, e.g. they have a mistake of their own), so an action can be
        checked against the device's vocabulary: an sACN preset the device does not
        define. Return a :class:`Refusal` to suggest a fix as well.
        """
        return f"the {cls.name} driver has no outputs"

    async def close(self) -> None:  # noqa: B027 (nothing to close by default)
        """Let go of the device (the station is stopping)."""
