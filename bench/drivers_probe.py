"""A station process with timing probes, for bench/drivers_latency.py (not for production).

``python bench/drivers_probe.py OUT.jsonl station PROFILE --port … --data …`` runs
``showfloor station …`` exactly as the CLI does, with the station's DriverHost wrapped:

- every device event is noted with ``time.monotonic()`` as the host receives it from its
  driver (``Host.received``, on the driver's thread: after the driver has read and parsed
  the message, before anything of the station's) — the driver's receive time;
- an event-loop lag probe runs on the station's own loop: it sleeps ``TICK`` and notes
  how late it woke (``loop.time()`` after the sleep minus the time it asked for);
- every output action is noted twice: when the station hands it to the device's loop
  (``DriverHost._start``, on the station's loop) and when the driver's ``send`` begins
  on the device's own thread;
- every garbage collection that held the process over 2 ms (``gc.callbacks``).

Every half second the notes are appended to OUT.jsonl as JSON lines: ``{"recv":
[device, kind, address, value, t]}``, ``{"lag": [t, seconds_late]}``, ``{"out":
[device, handed, began]}`` and ``{"gc": [t, seconds, generation]}`` (t:
CLOCK_MONOTONIC, which the bench process shares). The probe's own cost: one list
append per device event and output, one timer every ``TICK``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

TICK = 0.005


def install(out: Path) -> None:
    from showfloor.drivers.base import DeviceEvent
    from showfloor.station import drivers as host_mod

    notes: list[dict[str, Any]] = []
    base_received = host_mod._DeviceHost.received
    base_start = host_mod.DriverHost.start

    def received(self: Any, event: DeviceEvent) -> None:
        notes.append({"recv": [self.name, event.kind, event.address,
                               host_mod._text(event.value), time.monotonic()]})
        base_received(self, event)

    async def probe() -> None:
        loop = asyncio.get_running_loop()
        flushed = loop.time()
        while True:
            asked = loop.time() + TICK
            await asyncio.sleep(TICK)
            woke = loop.time()
            notes.append({"lag": [time.monotonic(), max(0.0, woke - asked)]})
            if woke - flushed >= 0.5:
                flushed = woke
                flush()

    def flush() -> None:
        nonlocal notes
        taken, notes = notes, []
        if taken:
            with out.open("a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(n) + "\n" for n in taken))

    gc_began: dict[str, float] = {}

    def gc_note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_began["t"] = time.monotonic()
        elif "t" in gc_began:
            took = time.monotonic() - gc_began.pop("t")
            if took > 0.002:
                notes.append({"gc": [time.monotonic(), took, info.get("generation", -1)]})

    gc.callbacks.append(gc_note)
    tasks: set[asyncio.Task[None]] = set()

    async def start(self: Any) -> None:
        await base_start(self)
        tasks.add(asyncio.get_running_loop().create_task(probe()))

    def start_output(run: Any, out: Any) -> Any:
        dispatched = time.monotonic()
        send = run.driver.send

        async def timed() -> None:
            notes.append({"out": [run.name, dispatched, time.monotonic()]})
            await send(dict(out.do))

        coro = timed()
        try:
            return asyncio.run_coroutine_threadsafe(coro, run.loop)
        except RuntimeError:
            coro.close()
            return None

    host_mod._DeviceHost.received = received  # type: ignore[method-assign]
    host_mod.DriverHost._start = staticmethod(start_output)  # type: ignore[method-assign,assignment]
    host_mod.DriverHost.start = start  # type: ignore[method-assign]


def main() -> None:
    out = Path(sys.argv[1])
    install(out)
    sys.argv = ["showfloor", *sys.argv[2:]]
    from showfloor.cli import run

    run()


if __name__ == "__main__":
    main()
