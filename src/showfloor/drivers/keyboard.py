"""The keyboard-wedge driver: USB buttons, buzzers and RFID/QR readers that "type".

Such a device is a keyboard to the computer, so its keys reach the kiosk's
browser page, not the station process: the page does the mapping
(renderer/web/wedge.js) and sends the mapped input like a touch. The station
hands the page the profile's keyboard devices and their ``inputs:`` in the
``welcome`` message (``keyboard``)::

    devices:
      buzzer: {driver: keyboard}                       # a key per button
      reader: {driver: keyboard, sequence_ms: 40, min_length: 6}
    inputs:
      - {device: buzzer, match: "1", do: {choose: say_no}}    # the key "1"
      - {device: buzzer, match: F13, do: advance}             # a named key
      - {device: reader, match: "0004517233", do: wake}        # a card's code + Enter

A mapping's ``match`` is one key (one character, or a key name as
``KeyboardEvent.key`` gives it: ``F13``, ``PageDown``, ``Enter``, …) or, for a
reader, the code it types before Enter (``kind: code``; ``kind: key`` forces
one key). A code counts only when every key of it followed the previous one
within ``sequence_ms`` and Enter ended it: a person typing on a real keyboard
is slower, and is ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import Field, ValidationError

from showfloor.drivers.base import Driver, DriverSettings, Host

#: the event kinds a keyboard device gives (``kind:`` in an input mapping)
KINDS = ("key", "code")


class KeyboardSettings(DriverSettings):
    sequence_ms: Annotated[int, Field(ge=5, le=1000)] = Field(
        default=50, description="A reader's code: at most this many milliseconds between "
        "two keys of it (and before its Enter); slower typing is a person, and ignored.")
    min_length: Annotated[int, Field(ge=2, le=200)] = Field(
        default=4, description="A reader's code is at least this many keys long.")


class Keyboard(Driver):
    """Lives in the renderer page; the station process has nothing to run for it."""

    name: ClassVar[str] = "keyboard"
    settings: ClassVar[type[DriverSettings]] = KeyboardSettings

    async def run(self, host: Host) -> None:
        # nothing to connect to: the page reads the keys (the host starts no page driver)
        host.state(connected=True)
        await asyncio.Event().wait()

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        return "a keyboard device only types: it takes no output actions"


def page_mapping(devices: Mapping[str, Any], inputs: list[Any]) -> dict[str, Any]:
    """The ``keyboard`` field of ``welcome``: keyboard devices and their inputs.

    ``devices`` and ``inputs`` are the profile's (``Device``, ``InputMap``
    models); the page gets ``{devices: {NAME: {sequence_ms, min_length}},
    inputs: [{device, kind, match, do}]}``, empty when there is no keyboard device.
    """
    mine: dict[str, dict[str, Any]] = {}
    for name, dev in devices.items():
        if getattr(dev, "driver", None) != "keyboard":
            continue
        opts = dev.options() if hasattr(dev, "options") else {}
        try:
            cfg = KeyboardSettings.model_validate(opts)
        except ValidationError:
            continue  # check and the station's log say why; its keys stay unmapped
        mine[name] = cfg.model_dump()
    out: list[dict[str, Any]] = []
    for m in inputs:
        if m.device not in mine or m.match is None:
            continue
        do = m.do if isinstance(m.do, str) else m.do.model_dump()
        out.append({"device": m.device, "kind": m.kind, "match": str(m.match), "do": do})
    return {"devices": mine, "inputs": out}
