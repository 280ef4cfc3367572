"""The station's DriverHost: runs the profile's devices and maps them to and from the engine.

- Every device's driver runs in **its own thread, with its own event loop**: a driver
  that blocks (a hung ``read``, a ``send`` that never returns, even a synchronous
  ``time.sleep``) holds only its own thread; the engine's loop never waits on it.
  Events come back with ``call_soon_threadsafe``; output actions go out with
  ``run_coroutine_threadsafe`` and a timeout the station's loop enforces.
- A driver whose ``run`` returns or raises is started again with backoff (1, 2, 4 …
  60 s; back to 1 s after it has run for a minute); each crash is logged once with a
  sentence, and the device's state (``/healthz`` "drivers", the hub heartbeat) says so.
- ``inputs:`` map device events to engine inputs, each mapping with a debounce (the
  same value again within ``debounce_ms`` of the last one is the same press) and a rate
  limit (``max_per_second``; the excess is dropped and logged once a minute).
- ``outputs:`` map engine moments (visit started/ended, scene entered, closing/opening,
  cues) to device actions, each sent as its own task with the mapping's timeout.

See docs/drivers.md.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from showfloor.drivers import PAGE_DRIVERS, broken, driver
from showfloor.drivers.base import DeviceEvent, Driver, action_problem
from showfloor.engine.effects import Effect, RecordEvent, SendCue
from showfloor.engine.inputs import Act, Advanced, ChoiceMade, Input, Started, StillHere
from showfloor.errors import DriverError, ShowfloorError
from showfloor.station.profile import (
    ActDo,
    AnswerDo,
    ChooseDo,
    CueWhen,
    InputMap,
    OutputMap,
    SceneWhen,
    StationProfile,
    TimelineDo,
)

log = logging.getLogger("showfloor.drivers")

#: restart delays: first, then doubled up to the last
BACKOFF = (1.0, 60.0)
#: a driver that ran this long before it stopped starts again from the first delay
STABLE_SECONDS = 60.0
#: how long one thread may hold the GIL while another waits for it (Python's default
#: is 5 ms): a device thread woken to send an output would otherwise wait up to that
#: long behind the station's loop drawing the same moment's view
SWITCH_INTERVAL = 0.001
#: device events waiting for the engine's loop, per device, before new ones are dropped
QUEUE_LIMIT = 2000
#: one log sentence per kind of problem per device at most this often
LOG_EVERY = 60.0
#: how long stop() waits for a driver's thread
STOP_SECONDS = 2.0


def backoff_delays(first: float = BACKOFF[0], most: float = BACKOFF[1]) -> Iterable[float]:
    """1, 2, 4 … ``most``, ``most``, … (the restart delays)."""
    d = first
    while True:
        yield d
        d = min(d * 2, most)


class Engine(Protocol):
    """What the host needs of the station (``Station`` has it)."""

    def device_context(self) -> dict[str, Any]: ...

    async def device_input(self, inp: Input, device: str) -> bool: ...

    def passer_by(self, device: str, *, visit: bool, started: bool) -> None: ...


class _Limiter:
    """One sentence per key at most every ``LOG_EVERY`` seconds."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def log(self, key: str, level: int, msg: str, *args: Any) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < LOG_EVERY:
                return False
            self._last[key] = now
        log.log(level, msg, *args)
        return True


@dataclass
class DeviceState:
    """One device's health, for ``/healthz`` and the heartbeat."""

    driver: str
    connected: bool = False
    last_message: float | None = None  # time.time() of the last device event
    messages: int = 0
    errors: int = 0
    malformed: int = 0
    dropped: int = 0  # events the mappings' debounce and rate limits held back
    restarts: int = 0
    sent: int = 0
    problem: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"driver": self.driver, "connected": self.connected,
                "last_message": None if self.last_message is None
                else round(self.last_message, 3),
                "messages": self.messages, "errors": self.errors,
                "malformed": self.malformed, "dropped": self.dropped,
                "restarts": self.restarts, "sent": self.sent, "problem": self.problem}


class _DeviceHost:
    """The :class:`~showfloor.drivers.base.Host` one driver sees (thread-safe)."""

    def __init__(self, owner: DriverHost, name: str, state: DeviceState) -> None:
        self.owner = owner
        self.name = name
        self.st = state
        self._queued = 0
        self._lock = threading.Lock()

    def received(self, event: DeviceEvent) -> None:
        if event.device != self.name:  # a device speaks for itself only
            event = dataclasses.replace(event, device=self.name)
        with self._lock:
            if self._queued >= QUEUE_LIMIT:
                self.st.dropped += 1
                flood = True
            else:
                self._queued += 1
                flood = False
        if flood:
            self.owner.limiter.log(f"{self.name}:queue", logging.WARNING,
                                   "device %s sends faster than the station can take its "
                                   "messages; the extra ones are dropped", self.name)
            return
        self.st.messages += 1
        self.st.last_message = time.time()
        self.owner.call_soon(self._deliver, event)

    def _deliver(self, event: DeviceEvent) -> None:
        with self._lock:
            self._queued -= 1
        self.owner.event(event)

    def state(self, *, connected: bool, problem: str | None = None) -> None:
        was = self.st.connected
        self.st.connected = connected
        self.st.problem = problem
        if not connected and problem:
            self.owner.limiter.log(f"{self.name}:state:{problem}", logging.WARNING,
                                   "device %s is not reachable: %s", self.name, problem)
        elif connected and not was:
            log.info("device %s (%s) is connected", self.name, self.st.driver)

    def malformed(self, what: str) -> None:
        self.st.malformed += 1
        self.owner.limiter.log(f"{self.name}:malformed", logging.WARNING,
                               "device %s sent a message that was dropped: %s", self.name,
                               what)

    def clock(self) -> float:
        return self.owner.clock()


@dataclass
class _Running:
    """One device's driver, its thread and its loop."""

    name: str
    driver: Driver
    state: DeviceState
    host: _DeviceHost
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    thread: threading.Thread | None = None
    task: asyncio.Task[None] | None = None


@dataclass
class _Gate:
    """Debounce and rate limit of one input mapping."""

    last_value: str | None = None
    last_seen: float = -1e18
    tokens: float = 0.0
    refilled: float = 0.0


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v)


class DriverHost:
    """Runs the devices of a profile for one station."""

    def __init__(self, profile: StationProfile, engine: Engine, *,
                 clock: Callable[[], float] = time.monotonic,
                 backoff: tuple[float, float] = BACKOFF) -> None:
        self.profile = profile
        self.engine = engine
        self.clock = clock
        self.backoff = backoff
        self.limiter = _Limiter()
        self.devices: dict[str, _Running] = {}
        #: every device of the profile the station runs (broken ones too; not the page's)
        self.states: dict[str, DeviceState] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gates = [_Gate() for _ in profile.inputs]
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inputs: asyncio.Queue[tuple[list[InputMap], DeviceEvent]] | None = None
        self._feeder: asyncio.Task[None] | None = None
        #: Python's thread switch interval before start() lowered it (put back by stop())
        self._switch_was: float | None = None

    # -- lifecycle ----------------------------------------------------------
    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._inputs = asyncio.Queue()
        self._feeder = asyncio.create_task(self._feed_loop())
        for name, dev in self.profile.devices.items():
            if dev.driver in PAGE_DRIVERS:
                continue  # the renderer page reads it (a keyboard wedge): nothing to run here
            st = self.states[name] = DeviceState(dev.driver)
            cls = driver(dev.driver)
            if cls is None:
                why = broken(dev.driver) or "no such driver is installed"
                st.problem = f"driver '{dev.driver}' cannot be used: {why}"
                st.errors += 1
                log.error("device %s: %s", name, st.problem)
                continue
            try:
                config = cls.settings.model_validate(dev.options())
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "settings"
                st.problem = f"setting {where}: {first['msg']}"
                st.errors += 1
                log.error("device %s is not started: %s", name, st.problem)
                continue
            try:
                drv = cls(name, config)
            except DriverError as err:  # one sentence: a password's variable is not set, …
                st.problem = str(err)
                st.errors += 1
                log.error("device %s is not started: %s", name, st.problem)
                continue
            except Exception as err:  # noqa: BLE001 (a third-party driver's constructor)
                st.problem = f"the driver could not be set up ({err})"
                st.errors += 1
                log.error("device %s is not started: %s", name, st.problem)
                continue
            run = _Running(name, drv, st, _DeviceHost(self, name, st))
            run.thread = threading.Thread(target=self._thread, args=(run,),
                                          name=f"device-{name}", daemon=True)
            self.devices[name] = run
            if sys.getswitchinterval() > SWITCH_INTERVAL:
                self._switch_was = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL)
            run.thread.start()

    async def stop(self) -> None:
        if self._feeder is not None:
            self._feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._feeder
        for t in list(self._tasks):
            t.cancel()
        for run in self.devices.values():
            with contextlib.suppress(RuntimeError):
                run.loop.call_soon_threadsafe(self._shutdown, run)
        deadline = time.monotonic() + STOP_SECONDS
        for run in self.devices.values():
            if run.thread is not None:
                await asyncio.to_thread(run.thread.join, max(0.0, deadline - time.monotonic()))
                if run.thread.is_alive():
                    log.warning("device %s did not stop within %g s; it is left behind",
                                run.name, STOP_SECONDS)
        if self._switch_was is not None:
            sys.setswitchinterval(self._switch_was)
            self._switch_was = None

    def _thread(self, run: _Running) -> None:
        asyncio.set_event_loop(run.loop)
        run.task = run.loop.create_task(self._supervise(run))
        try:
            run.loop.run_until_complete(run.task)
        except (asyncio.CancelledError, Exception):  # noqa: BLE001 (supervised: logged)
            pass
        finally:
            with contextlib.suppress(Exception):
                run.loop.run_until_complete(asyncio.wait_for(run.driver.close(), STOP_SECONDS))
            with contextlib.suppress(Exception):
                run.loop.close()

    def _shutdown(self, run: _Running) -> None:
        if run.task is not None:
            run.task.cancel()

    async def _supervise(self, run: _Running) -> None:
        delays = iter(backoff_delays(*self.backoff))
        while True:
            began = time.monotonic()
            try:
                await run.driver.run(run.host)
                why = "its driver stopped"
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 (any driver failure is a crash)
                why = f"its driver failed ({type(err).__name__}: {err})"
            run.state.errors += 1
            run.state.connected = False
            run.state.problem = why
            if time.monotonic() - began >= STABLE_SECONDS:
                delays = iter(backoff_delays(*self.backoff))
            delay = next(delays)
            self.limiter.log(f"{run.name}:crash", logging.WARNING,
                             "device %s: %s; starting it again in %g s", run.name, why, delay)
            await asyncio.sleep(delay)
            run.state.restarts += 1

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the station's loop (from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the station's loop is gone
            loop.call_soon_threadsafe(fn, *args)

    # -- inputs ---------------------------------------------------------------
    def event(self, ev: DeviceEvent) -> None:
        """A device event, on the station's loop: the first mapping that matches it. A
        ``choose`` mapping whose choice the scene on screen does not offer is passed over,
        so one button can choose a different choice in each scene.

        Which of those mappings applies is decided when the input is fed to the engine,
        after every input before it has been applied — so a second press that arrives
        while the first is still on its way chooses in the scene the first one led to,
        not in the one that was on screen when it came. The debounce and rate limit are
        those of the first mapping that matches (the button's)."""
        group: list[InputMap] = []
        first = -1
        for i, m in enumerate(self.profile.inputs):
            if m.device != ev.device or (m.kind is not None and m.kind != ev.kind) or \
                    (m.address is not None and m.address != ev.address) or \
                    (m.match is not None and _text(m.match) != _text(ev.value)):
                continue
            if first < 0:
                first = i
            group.append(m)
            if not isinstance(m.do, ChooseDo):
                break  # the mapping that takes the event whatever the scene
        if first < 0 or not self._pass(first, self.profile.inputs[first], ev):
            return
        if self._inputs is not None:
            self._inputs.put_nowait((group, ev))

    def _choose(self, group: list[InputMap]) -> InputMap | None:
        """The mapping of ``group`` that applies now (None: its choices are not on screen)."""
        offered: set[str] | None = None
        looked = False
        for m in group:
            if isinstance(m.do, ChooseDo):
                if not looked:
                    offered, looked = self.engine.device_context().get("choices"), True
                if offered is None or m.do.choose not in offered:
                    continue  # not on screen (or no choices at all): the next mapping
            return m
        return None

    def _pass(self, i: int, m: InputMap, ev: DeviceEvent) -> bool:
        g = self._gates[i]
        now = time.monotonic()
        value = _text(ev.value)
        bounce = value == g.last_value and (now - g.last_seen) * 1000 < m.debounce_ms
        g.last_value, g.last_seen = value, now
        st = self.states.get(ev.device)
        if bounce:
            if st is not None:
                st.dropped += 1
            return False
        rate = m.max_per_second
        g.tokens = min(max(1.0, rate), g.tokens + (now - g.refilled) * rate)
        g.refilled = now
        if g.tokens < 1:
            if st is not None:
                st.dropped += 1
            self.limiter.log(f"{ev.device}:rate:{i}", logging.WARNING,
                             "device %s sends input %d more than %g times a second (a stuck "
                             "button?); the extra ones are dropped", ev.device, i + 1, rate)
            return False
        g.tokens -= 1
        return True

    def _input(self, m: InputMap, ev: DeviceEvent) -> Input | None:
        do = m.do
        if do == "advance":
            return Advanced()
        if isinstance(do, ChooseDo):
            return ChoiceMade(do.choose)
        if isinstance(do, AnswerDo):
            return Act("answer", {"choice": do.answer})
        if isinstance(do, ActDo):
            return Act(do.act, dict(do.payload))
        if isinstance(do, TimelineDo):
            v = ev.value
            if isinstance(v, str):
                try:
                    v = float(v)
                except ValueError:
                    v = None
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                self.states[ev.device].malformed += 1
                self.limiter.log(f"{ev.device}:timeline", logging.WARNING,
                                 "device %s sent %r for a timeline, not a number; it is "
                                 "dropped", ev.device, ev.value)
                return None
            r = do.timeline
            share = min(1.0, max(0.0, (float(v) - r.min) / (r.max - r.min)))
            return Act("timeline", {"share": share})
        return None  # wake / presence: decided when fed (they depend on the phase)

    async def _feed_loop(self) -> None:
        assert self._inputs is not None
        while True:
            group, ev = await self._inputs.get()
            try:
                m = self._choose(group)
                if m is not None:
                    await self._feed(self._input(m, ev), m, ev)
            except Exception:  # one bad input never stops the feeder
                log.exception("device %s: the input from it could not be applied", ev.device)

    async def _feed(self, inp: Input | None, m: InputMap, ev: DeviceEvent) -> None:
        ctx = self.engine.device_context()
        if m.do in ("wake", "presence"):
            phase = ctx.get("phase")
            started = False
            if m.do == "wake" and phase == "attract" and not ctx.get("closed"):
                started = await self.engine.device_input(Started(), ev.device)
            elif m.do == "wake" and phase == "warning":
                await self.engine.device_input(StillHere(), ev.device)
            self.engine.passer_by(ev.device, visit=phase != "attract", started=started)
            return
        if isinstance(inp, Act) and inp.action == "timeline":
            tl = ctx.get("timeline")
            if tl is None:
                return  # no model timeline showing: nothing to turn
            lo, hi = tl
            inp = Act("timeline", {"value": lo + inp.payload["share"] * (hi - lo)})
        if inp is not None:
            await self.engine.device_input(inp, ev.device)

    # -- outputs --------------------------------------------------------------
    def moments(self, effects: Iterable[Effect]) -> None:
        """Engine effects -> the output actions they trigger (never waits)."""
        if not self.profile.outputs:
            return
        for eff in effects:
            if isinstance(eff, RecordEvent):
                e = eff.event
                if e.kind == "session_started":
                    self.moment("visit_started")
                elif e.kind == "session_ended":
                    self.moment("visit_ended")
                elif e.kind == "scene_entered" and e.scene:
                    self.moment(SceneWhen(scene=e.scene))
                elif e.kind == "closed":
                    self.moment("closing" if e.data.get("closed") else "opening")
            elif isinstance(eff, SendCue):
                self.moment(CueWhen(cue=eff.name))

    def moment(self, when: str | SceneWhen | CueWhen) -> int:
        """Send every output mapped to ``when``; how many were sent."""
        n = 0
        for out in self.profile.outputs:
            if out.when == when:
                n += self.send(out)
        return n

    def send(self, out: OutputMap) -> int:
        """Send one output action (1: sent; 0: no such running device). The action is
        handed to the device's loop now — before the station goes on to draw the moment's
        view, so the packet leaves in parallel — and a task of the station's loop waits
        for it with the mapping's timeout."""
        run = self.devices.get(out.device)
        if run is None:
            self.limiter.log(f"{out.device}:absent", logging.WARNING,
                             "output to device %s is skipped: the device is not running",
                             out.device)
            return 0
        fut = self._start(run, out)
        if fut is None:
            return 0
        task = asyncio.get_running_loop().create_task(self._finish(run, out, fut))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 1

    @staticmethod
    def _start(run: _Running, out: OutputMap) -> concurrent.futures.Future[None] | None:
        """``out``'s action, scheduled on the device's own loop (None: that loop is gone)."""
        coro: Coroutine[Any, Any, None] = run.driver.send(dict(out.do))
        try:
            return asyncio.run_coroutine_threadsafe(coro, run.loop)
        except RuntimeError:  # the device's loop is closed
            coro.close()
            return None

    async def _send(self, run: _Running, out: OutputMap) -> None:
        fut = self._start(run, out)
        if fut is not None:
            await self._finish(run, out, fut)

    async def _finish(self, run: _Running, out: OutputMap,
                      fut: concurrent.futures.Future[None]) -> None:
        try:
            await asyncio.wait_for(asyncio.wrap_future(fut), out.timeout)
            run.state.sent += 1
        except (TimeoutError, concurrent.futures.TimeoutError):
            fut.cancel()
            run.state.errors += 1
            run.state.problem = f"an output took longer than {out.timeout:g} s"
            self.limiter.log(f"{run.name}:timeout", logging.WARNING,
                             "device %s did not carry out %s within %g s; it was given up",
                             run.name, dict(out.do), out.timeout)
        except asyncio.CancelledError:
            fut.cancel()
            raise
        except Exception as err:  # noqa: BLE001 (any driver failure is reported)
            run.state.errors += 1
            run.state.problem = f"an output failed ({type(err).__name__}: {err})"
            self.limiter.log(f"{run.name}:send", logging.WARNING,
                             "device %s could not carry out %s: %s", run.name, dict(out.do),
                             err)

    async def action(self, device: str, do: Mapping[str, Any], timeout: float = 10) -> None:
        """An operator's action on a device, now (the hub's ``device`` command); raises
        :class:`ShowfloorError` with a sentence when it cannot be done."""
        run = self.devices.get(device)
        if run is None:
            known = ", ".join(sorted(self.devices)) or "none"
            raise ShowfloorError(f"this station runs no device '{device}' (it runs: {known})")
        why = action_problem(type(run.driver), do, run.driver.config)
        if why is not None:
            raise ShowfloorError(f"device {device}: {why}")
        out = OutputMap(when="opening", device=device, do=dict(do), timeout=timeout)
        errors = run.state.errors
        await self._send(run, out)
        if run.state.errors != errors:
            raise ShowfloorError(f"device {device}: {run.state.problem}")

    # -- health ---------------------------------------------------------------
    def status(self) -> dict[str, dict[str, Any]]:
        """Every device's state, by name (``/healthz`` "drivers")."""
        return {name: st.summary() for name, st in self.states.items()}

    def driver_of(self, name: str) -> Driver | None:
        """The running driver of device ``name`` (tests, the simulated driver's records)."""
        run = self.devices.get(name)
        return None if run is None else run.driver


def summarize(status: Mapping[str, Mapping[str, Any]], limit: int = 20) -> list[dict[str, Any]]:
    """The heartbeat's bounded view of :meth:`DriverHost.status` (``fleet.DriverNote``)."""
    out = []
    for name, s in sorted(status.items())[:limit]:
        out.append({"device": name[:64], "driver": str(s.get("driver", ""))[:64],
                    "connected": bool(s.get("connected")),
                    "last_message": s.get("last_message"),
                    "messages": int(s.get("messages") or 0),
                    "errors": int(s.get("errors") or 0),
                    "problem": None if not s.get("problem") else str(s["problem"])[:200]})
    return out
