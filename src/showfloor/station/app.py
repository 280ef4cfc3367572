"""The station: the engine behind a WebSocket, the renderer's files, the event log.

One asyncio loop owns the engine (no locks): WebSocket messages and a
10 Hz ticker feed it, and its effects go out to every connected surface and
into the :class:`~showfloor.station.store.EventStore`.

The operator's commands (from the hub) are the ``async`` methods under
"operator commands": end a visit, close the station to visitors, set the
default language, show a short notice, turn the screens off and on, reload
the content from disk. Those that change what the engine accepts go through
the engine as recorded inputs, so a log replays; notices and the screen are
cues to the pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import html
import json
import logging
import math
import os
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from showfloor import __version__
from showfloor.competition.room import Room
from showfloor.content.lint import check
from showfloor.content.media import media_duration
from showfloor.content.model import Exhibit
from showfloor.content.scenes import registry
from showfloor.drivers.keyboard import page_mapping
from showfloor.engine.clock import monotonic
from showfloor.engine.effects import Effect, RecordEvent, Rejected, SendCue, ShowView
from showfloor.engine.inputs import (
    REASON,
    STATION_ONLY,
    Act,
    Closed,
    DefaultLanguageSet,
    Input,
    InputError,
    Tick,
    VisitEnded,
    from_json,
)
from showfloor.engine.state import PROTOCOL_VERSION, Engine, Phase
from showfloor.errors import ShowfloorError
from showfloor.station.drivers import DriverHost
from showfloor.station.kioskwatch import KioskWatch, kiosk_routes
from showfloor.station.profile import DEFAULT, StationProfile, Surface
from showfloor.station.security import SecurityHeaders, page_headers
from showfloor.station.store import EventStore
from showfloor.station.systemd import Watchdog

if TYPE_CHECKING:
    from showfloor.ask.service import AskService

RENDERER = Path(__file__).resolve().parent.parent / "renderer"
WEB = RENDERER / "web"
VENDOR = RENDERER / "node_modules"
FAVICON = WEB / "favicon.svg"
#: where a plug-in scene type's renderer module is served: /plugins/<type>.js
PLUGINS = "/plugins/"
log = logging.getLogger("showfloor.station")
TICK_SECONDS = 0.1
HEARTBEAT_SECONDS = 10.0
#: how often a page says ``beat`` (s): the kiosk supervisor reads a silent page as hung
BEAT_SECONDS = 2.0
#: The most bytes a page may send in one message.
MAX_MESSAGE = 16 * 1024
#: An operator's notice to visitors: how long it may show (s), how long it may be (characters).
MESSAGE_SECONDS = (1.0, 3600.0)
MESSAGE_CHARS = 500
#: A language code as a notice's key (``zh-CN``, ``en``): an id, never free text.
LANG_CODE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}")
#: Tests only (docs/station.md): the station ignores the pages' ``ready`` while it runs the
#: exhibit version named here, as if no page could draw it (the health check then fails).
TEST_NO_DRAW = "SHOWFLOOR_TEST_NO_DRAW"


@dataclass(eq=False)
class Connection:
    """One connected surface (browser page)."""

    ws: WebSocket
    surface: Surface | None = None
    out_seq: int = 0
    in_seq: int = 0
    errors: int = 0
    #: the station's clock when the page last sent anything (a beat or any other message)
    last_message: float = 0.0
    #: the station's clock when the page said hello (its exhibit is the one running since)
    joined: float = 0.0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, kind: str, **body: Any) -> None:
        self.out_seq += 1
        msg = {"v": PROTOCOL_VERSION, "seq": self.out_seq, "type": kind, **body}
        data = orjson.dumps(msg).decode()
        async with self.lock:
            await self.ws.send_text(data)


class Station:
    """Runs one exhibit for visitors on this machine's surfaces."""

    def __init__(self, exhibit: Exhibit, root: Path, *, profile: StationProfile = DEFAULT,
                 store: EventStore | None = None, clock: Callable[[], float] = monotonic,
                 preview: bool = False, seed: int | None = None) -> None:
        self.profile = profile
        #: a fixed seed makes every session's shuffles repeatable (demos, screenshots)
        self._seeds = random.Random(seed) if seed is not None else None
        self.root = root
        self.store = store
        self.clock = clock
        self.preview = preview
        self.connections: set[Connection] = set()
        self.problems: list[dict[str, Any]] = []
        self.started = clock()
        self.inputs = 0
        self.rejected = 0
        self.asset_errors = 0
        self.metrics: dict[str, Any] = {}
        #: what the kiosk supervisor reported (``POST /kiosk/report``)
        self.kiosk = KioskWatch()
        #: time.time() of the last visitor input the engine accepted (None: none yet)
        self.last_input_wall: float | None = None
        #: the link to a hub (:class:`~showfloor.station.uplink.Uplink`), when there is one
        self.uplink: Any = None
        #: new versions from the hub or a USB stick
        #: (:class:`~showfloor.station.delivery.DeliveryAgent`), when it runs from a content store
        self.delivery: Any = None
        #: the screens are on (False: black, no touches — outside opening hours)
        self.screen_on = True
        #: the default language the operator set (kept across a reload), if any
        self.language: str | None = None
        #: the operator's notice showing now: {text, seconds, until (clock)}
        self._notice: dict[str, Any] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._preload_cache: dict[tuple[str, str], list[str]] = {}
        #: the renderer modules of the plug-in scene types the exhibit uses, by type
        self.scene_modules: dict[str, Path] = {}
        #: what each surface last said it drew: surface id -> (scene id, station clock when
        #: it said so, when that page said hello)
        self.drawn: dict[str, tuple[str, float, float]] = {}
        self._drawn_changed: asyncio.Condition | None = None
        #: the last switch to another folder (switch_to): when, and how long until a page
        #: drew the new attract view (None: not yet)
        self.last_switch: dict[str, Any] | None = None
        #: the ask terminal's retriever, when the exhibit has a knowledge base
        self.ask: AskService | None = None
        self._ask_ready: asyncio.Task[Any] | None = None
        self.exhibit = exhibit
        self.engine = self._new_engine(exhibit)
        self._record(self.engine.start())
        #: the hall hardware of the profile (docs/drivers.md); None: the profile has none
        self.drivers: DriverHost | None = DriverHost(profile, self, clock=clock) \
            if profile.devices else None
        #: the knowledge competition this station runs (docs/competition.md), if any
        self.competition: Room | None = None
        if profile.competition is not None:
            self.competition = Room(exhibit, profile.competition, WEB, clock=clock,
                                    record=self._station_event)

    def _new_engine(self, exhibit: Exhibit, seq: int = 0) -> Engine:
        p = self.profile
        if p.language and p.language in exhibit.languages and p.language != \
                exhibit.default_language:
            exhibit = exhibit.model_copy(update={"default_language": p.language})
        if p.start and exhibit.scene(p.start) is not None and p.start != exhibit.start:
            exhibit = exhibit.model_copy(update={"start": p.start})
        root = self.root
        extra: dict[str, Any] = {}
        if self._seeds is not None:
            seeds = self._seeds
            extra["new_seed"] = lambda: seeds.getrandbits(32)
        engine = Engine(exhibit, clock=self.clock,
                        media_length=lambda path: media_duration(root, path),
                        idle_timeout=p.idle.timeout, idle_countdown=p.idle.countdown,
                        origin=str(root), seq=seq, **extra)
        if self.store is not None:
            self.store.register_boot(exhibit.id, exhibit.version, str(root), seq)
        self.scene_modules = scene_modules(exhibit)
        self.ask = self._new_ask(exhibit)
        return engine

    def _new_ask(self, exhibit: Exhibit) -> AskService | None:
        """The ask terminal's retriever (showfloor.ask), when the exhibit has a knowledge
        base; its index is cached under the data folder (else the user's cache)."""
        knowledge = getattr(exhibit, "knowledge", None)
        if knowledge is None or not knowledge.entries:
            return None
        from showfloor.ask.index import default_cache
        from showfloor.ask.service import AskService

        data = self.store.path.parent if self.store is not None else None
        keep = data / "ask.sqlite" if data is not None and self.profile.ask.keep_unanswered \
            else None
        return AskService(list(knowledge.entries), self.root,
                          data / "ask-cache" if data is not None else default_cache(),
                          unanswered=keep)

    def _station_event(self, t: float, kind: str, data: Mapping[str, Any]) -> None:
        if self.store is not None:
            self.store.station_event(t, kind, **data)
            if "final" in data and kind in ("question_closed", "final_opened") and \
                    self.uplink is not None:
                self.uplink.upload_now()  # the hub's combined board waits for it

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        # READY=1 goes out once uvicorn serves (server.StationServer.startup)
        self._ticker = asyncio.create_task(self._tick_loop())
        if self.ask is not None:
            # the ask index loads (or is built) beside the start: a question waits for it
            self._ask_ready = asyncio.create_task(asyncio.to_thread(self.ask.prepare))
            self._ask_ready.add_done_callback(_log_ask_failure)
        if self.drivers is not None:
            await self.drivers.start()
        if self.competition is not None:
            await self.competition.start()

    def freeze_startup(self) -> None:
        """Once the station serves and its ask index is ready: move everything start-up
        made (the content, the index, the modules) out of the garbage collector's walk,
        so a full collection during a visit no longer stops the loop for tens of ms
        walking objects that live as long as the process. A switch to another content
        version unfreezes them (:meth:`replace`), so the old version can be freed."""
        if self._ask_ready is not None and not self._ask_ready.done():
            self._ask_ready.add_done_callback(lambda _task: self.freeze_startup())
            return
        gc.collect()
        gc.freeze()

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
        if self.drivers is not None:
            await self.drivers.stop()
        if self.competition is not None:
            await self.competition.stop()
        if self.store is not None:
            self.store.flush(5)
            self.store.close()

    async def _tick_loop(self) -> None:
        # WATCHDOG=1 from this loop, at half of $WATCHDOG_USEC: a loop that stops turning
        # stops the pings, and systemd (or `showfloor hall`) restarts the station
        watchdog = Watchdog.from_env()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.clock()
            d = self.engine.next_deadline()
            if d is not None and d <= now:
                await self._apply(self.engine.feed(Tick(now)))
            watchdog.feed()

    # -- effects -----------------------------------------------------------
    def _record(self, effects: list[Effect]) -> None:
        if self.store is None:
            return
        for eff in effects:
            if isinstance(eff, RecordEvent):
                self.store.add(eff.event)

    async def _apply(self, effects: list[Effect], origin: Connection | None = None,
                     mark: Any = None, ref: int | None = None) -> None:
        self._record(effects)
        if self.drivers is not None:
            self.drivers.moments(effects)  # output actions, each its own task: never waits
        for eff in effects:
            if isinstance(eff, ShowView):
                await self._broadcast("view", view=eff.view, preload=self.preload(eff.view),
                                      mark=mark)
            elif isinstance(eff, SendCue):
                if eff.name == "reset":
                    self._notice = None  # a privacy reset clears the operator's notice too
                    await self._broadcast("reset", reason=eff.data.get("reason"))
                else:
                    await self._broadcast("cue", name=eff.name, data=dict(eff.data))
            elif isinstance(eff, Rejected) and origin is not None:
                self.rejected += 1
                await origin.send("error", reason=eff.reason, ref=ref)

    async def _broadcast(self, kind: str, **body: Any) -> None:
        for conn in list(self.connections):
            if conn.surface is None:
                continue
            try:
                await conn.send(kind, **body)
            except (WebSocketDisconnect, RuntimeError, OSError):
                self.connections.discard(conn)

    def preload(self, view: Mapping[str, Any]) -> list[str]:
        """Asset URLs of the scenes one step away (as each scene type predicts)."""
        key = (str(view.get("scene")), str(view.get("lang")))
        found = self._preload_cache.get(key)
        if found is not None:
            return found
        types = registry()
        scenes = {s.id: s for s in self.engine.exhibit.scenes}
        here = scenes.get(key[0])
        urls: list[str] = []
        if here is not None:
            targets = [e.target for e in types[here.type].edges(here)]
            if here.type == "attract":
                targets = [self.engine.exhibit.start]
            for t in dict.fromkeys(targets):
                sc = scenes.get(t)
                if sc is None:
                    continue
                for a in types[sc.type].assets(sc):
                    if a.lang in (None, key[1]):
                        urls.append(f"/exhibit/{a.path}")
        found = self._preload_cache[key] = list(dict.fromkeys(urls))
        return found

    def welcome(self, surface: Surface) -> dict[str, Any]:
        ex = self.engine.exhibit
        p = self.profile
        return {
            "station": {"id": p.station.id, "name": p.station.name},
            "surface": {"id": surface.id, "role": surface.role},
            "display": p.display,
            "orientation": p.orientation,
            "pyramid": p.pyramid.model_dump(),
            "fan": p.fan.model_dump(),
            "vr": p.vr.model_dump(),
            "exhibit": {"id": ex.id, "version": ex.version, "title": dict(ex.title),
                        "default_language": ex.default_language,
                        "sources": [{"id": s.id, "url": s.url, **_source_name(s.name, s.lang)}
                                    for s in ex.sources]},
            "assets": "/exhibit/",
            "scene_modules": {name: f"{PLUGINS}{name}.js" for name in self.scene_modules},
            "heartbeat": HEARTBEAT_SECONDS,
            "beat": BEAT_SECONDS,
            "preview": self.preview,
            # keyboard-wedge devices: the page maps their keys (drivers/keyboard.py)
            "keyboard": page_mapping(p.devices, p.inputs),
            # the ask terminal's help text and hotline (shown with 'help' answers)
            "ask": {"help": dict(p.ask.help), "hotline": p.ask.hotline},
            "version": __version__,
        }

    # -- a page ------------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        conn = Connection(ws, last_message=self.clock())
        self.connections.add(conn)
        try:
            while True:
                text = await ws.receive_text()
                conn.last_message = self.clock()
                await self._message(conn, text)
        except WebSocketDisconnect:
            pass
        finally:
            self.connections.discard(conn)
            if conn.surface is not None and self.store is not None:
                self.store.station_event(self.clock(), "surface_left", surface=conn.surface.id)

    async def _message(self, conn: Connection, text: str) -> None:
        if len(text) > MAX_MESSAGE:
            await self._error(conn, f"message of {len(text)} bytes is over the "
                              f"{MAX_MESSAGE}-byte limit", None)
            return
        try:
            msg = json.loads(text)
        except ValueError:
            await self._error(conn, "not JSON", None)
            return
        if not isinstance(msg, dict):
            await self._error(conn, "a message must be a JSON object", None)
            return
        seq = msg.get("seq")
        ref = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        if msg.get("v") != PROTOCOL_VERSION:
            await self._error(conn, f"protocol version {msg.get('v')!r} is not supported; "
                              f"this station speaks {PROTOCOL_VERSION}", ref)
            return
        if ref is None:
            await self._error(conn, "'seq' must be a whole number", None)
            return
        if ref <= conn.in_seq:
            await self._error(conn, f"message {ref} is out of order (last was {conn.in_seq})",
                              ref)
            return
        conn.in_seq = ref
        kind = msg.get("type")
        if kind == "hello":
            await self._hello(conn, msg)
            return
        if conn.surface is None:
            await self._error(conn, "say hello first", ref)
            return
        if kind == "input":
            await self._input(conn, msg, ref)
        elif kind == "ready":
            await self._ready(conn, msg)
        elif kind == "beat":
            pass  # a beat only says the page is alive: last_message is all it changes
        elif kind == "metrics":
            self._metrics(conn, msg)
        elif kind == "problem":
            self._problem(conn, msg)
        else:
            await self._error(conn, f"unknown message type {kind!r}; expected hello, input, "
                              "ready, beat, metrics or problem", ref)

    async def _error(self, conn: Connection, reason: str, ref: int | None) -> None:
        conn.errors += 1
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await conn.send("error", reason=reason, ref=ref)

    async def _hello(self, conn: Connection, msg: dict[str, Any]) -> None:
        wanted = msg.get("surface") or self.profile.surfaces[0].id
        surface = next((s for s in self.profile.surfaces if s.id == wanted), None)
        if surface is None:
            names = ", ".join(s.id for s in self.profile.surfaces)
            await self._error(conn, f"this station has no surface {wanted!r}; it has {names}",
                              msg.get("seq"))
            return
        conn.surface = surface
        conn.joined = self.clock()
        await conn.send("welcome", **self.welcome(surface))
        if not self.screen_on:
            # black before anything is drawn
            await conn.send("cue", name="screen", data={"on": False})
        if self.problems:
            await conn.send("problems", problems=self.problems)
            return
        view = self.engine.view(self.clock())  # a countdown in it goes on from now
        await conn.send("view", view=view, preload=self.preload(view), mark=None)
        message = self._message_now()
        if message is not None:
            await conn.send("cue", name="message", data=message)
        if self.store is not None:
            self.store.station_event(self.clock(), "surface_joined", surface=surface.id,
                                     role=surface.role)

    async def _input(self, conn: Connection, msg: dict[str, Any], ref: int) -> None:
        assert conn.surface is not None
        if conn.surface.role == "display":
            await self._error(conn, f"surface '{conn.surface.id}' is a display; it takes no "
                              "input", ref)
            return
        if self.problems:
            await self._error(conn, "the exhibit has errors; fix them first", ref)
            return
        try:
            inp = from_json(msg.get("input"))
        except InputError as err:
            await self._error(conn, str(err), ref)
            return
        if inp.type == "tick":
            await self._error(conn, "pages may not send ticks", ref)
            return
        if inp.type in STATION_ONLY:
            await self._error(conn, f"pages may not send '{inp.type}' inputs; only the "
                              "station's operator commands do", ref)
            return
        if not self.screen_on:
            await self._error(conn, "the screen is off: no input is taken until it is on", ref)
            return
        mark = msg.get("mark")
        if not isinstance(mark, (str, int)) or isinstance(mark, bool):
            mark = None
        if isinstance(inp, Act) and inp.action == "ask" and "text" in inp.payload:
            resolved = await self._ask(conn, inp, ref)
            if resolved is None:
                return
            inp = resolved
        await self._take(inp, conn, mark, ref)

    async def _ask(self, conn: Connection, inp: Act, ref: int) -> Act | None:
        """A typed question -> the retriever's outcome (off the event loop); the text
        stops here (docs/ask.md, "Privacy"). None: answered with an error instead."""
        text = inp.payload.get("text")
        if self.ask is None:
            await self._error(conn, "this exhibit has no knowledge base to ask", ref)
            return None
        if not isinstance(text, str):
            text = ""
        if not self.ask.allow(conn, self.clock()):
            await self._error(conn, "too many questions at once; one moment, then ask again",
                              ref)
            return None
        snap = self.engine.snapshot()
        scene = self.engine.exhibit.scene(snap["scene"]) if snap["scene"] else None
        if scene is None or scene.type != "ask":
            await self._error(conn, "no question can be asked on this screen", ref)
            return None
        from showfloor.ask.service import allowed_entries

        allowed = allowed_entries(scene, self.ask.entries)
        try:
            res = await asyncio.to_thread(self.ask.resolve, text, lang=snap["lang"],
                                          allowed=allowed)
        except Exception as err:  # noqa: BLE001 - a visitor never sees a traceback
            log.error("the ask terminal cannot answer: %s", err)
            await self._error(conn, "the ask terminal cannot answer just now; please ask a "
                              "member of staff", ref)
            return None
        via = inp.payload.get("via")
        return Act("ask", res.payload(via if via in ("typed", "chip") else "typed"))

    async def _take(self, inp: Input, origin: Connection | None = None, mark: Any = None,
                    ref: int | None = None) -> bool:
        """A visitor's input (from a page or a device): feed it, apply its effects."""
        self.inputs += 1
        effects = self.engine.feed(inp)
        accepted = not any(isinstance(e, Rejected) for e in effects)
        if accepted:
            self.last_input_wall = time.time()
        await self._apply(effects, origin, mark, ref)
        return accepted

    # -- hall hardware (station/drivers.py) ------------------------------------
    async def device_input(self, inp: Input, device: str) -> bool:
        """A mapped device input, taken like a page's (False: dropped or rejected)."""
        if self.problems or not self.screen_on or inp.type in STATION_ONLY:
            return False
        return await self._take(inp)

    def device_context(self) -> dict[str, Any]:
        """What a device mapping depends on: the phase, closed, the model timeline's range,
        the choices on screen."""
        snap = self.engine.snapshot()
        tl = None
        scene = self.engine.exhibit.scene(snap["scene"]) if snap["scene"] else None
        timeline = getattr(scene, "timeline", None)
        if timeline is not None:
            tl = (float(timeline.min), float(timeline.max))
        # the choice ids the scene on screen offers (None: it offers no choices)
        offered = getattr(scene, "choices", None)
        choices = {c.id for c in offered if getattr(c, "id", None)} \
            if isinstance(offered, list) else None
        return {"phase": snap["phase"], "closed": snap["closed"], "timeline": tl,
                "choices": choices}

    async def device_action(self, device: str, do: Mapping[str, Any]) -> str:
        """An operator's action on one of the station's devices (``projector: {power:
        on}``); raises :class:`ShowfloorError` with a sentence when it cannot be done."""
        if self.drivers is None:
            raise ShowfloorError("this station's profile has no devices")
        self._operator("device", device=device)
        await self.drivers.action(device, do)
        return f"{device}: done"

    def passer_by(self, device: str, *, visit: bool, started: bool) -> None:
        """A presence sensor saw someone: the ``passer_by`` event (attraction power)."""
        if self.store is not None:
            self.store.station_event(self.clock(), "passer_by", device=device, visit=visit,
                                     started=started)

    async def _ready(self, conn: Connection, msg: dict[str, Any]) -> None:
        """A page drew a view (``ready``, after the frame that shows it)."""
        assert conn.surface is not None
        scene = msg.get("scene")
        if not isinstance(scene, str):
            return
        hook = os.environ.get(TEST_NO_DRAW)
        if hook and hook == self.exhibit.version:
            return  # tests only: as if this version could not be drawn
        now = self.clock()
        self.drawn[conn.surface.id] = (scene, now, conn.joined)
        sw = self.last_switch
        if sw is not None and sw.get("drawn_after") is None and conn.joined >= sw["at"] and \
                scene == self.engine.exhibit.attract:
            sw["drawn_after"] = round(now - sw["at"], 3)
        cond = self._drawn_cond()
        async with cond:
            cond.notify_all()

    def _drawn_cond(self) -> asyncio.Condition:
        if self._drawn_changed is None:
            self._drawn_changed = asyncio.Condition()
        return self._drawn_changed

    async def wait_drawn(self, since: float, timeout: float) -> str | None:
        """Wait until a page loaded after ``since`` (station clock) draws the attract view.

        The id of the first surface that did, or None when none did within
        ``timeout`` seconds. A page that said hello before ``since`` does not
        count: it may still be showing what ran before.
        """

        def found() -> str | None:
            attract = self.engine.exhibit.attract
            for surface, (scene, _, joined) in self.drawn.items():
                if scene == attract and joined >= since:
                    return surface
            return None

        cond = self._drawn_cond()
        async with cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cond.wait_for(lambda: found() is not None), timeout)
        return found()

    def _metrics(self, conn: Connection, msg: dict[str, Any]) -> None:
        assert conn.surface is not None
        fields = {k: msg.get(k) for k in ("frames", "p50", "p99", "memory")
                  if isinstance(msg.get(k), (int, float)) and not isinstance(msg.get(k), bool)}
        self.metrics[conn.surface.id] = fields
        if self.store is not None and fields:
            self.store.station_event(self.clock(), "surface_metrics", surface=conn.surface.id,
                                     **fields)

    def _problem(self, conn: Connection, msg: dict[str, Any]) -> None:
        assert conn.surface is not None
        what = str(msg.get("what", "unknown"))[:40]
        path = msg.get("path")
        if what == "asset":
            self.asset_errors += 1
        if self.store is not None:
            self.store.station_event(
                self.clock(), "error", what=what, surface=conn.surface.id,
                path=str(path)[:200] if isinstance(path, str) else None,
                detail=str(msg.get("detail", ""))[:200])

    # -- operator commands (from the hub) -------------------------------------
    async def end_visit(self, reason: str = "operator") -> None:
        """Go to attract now: a visit in progress ends with ``reason``; nothing happens in attract."""
        if not isinstance(reason, str) or not REASON.fullmatch(reason):
            raise ShowfloorError(f"reason {reason!r} is not a short id such as 'operator' "
                                 "(a-z, 0-9, _ and -, at most 40 characters)")
        self._operator("end_visit", reason=reason)
        await self._feed(VisitEnded(reason))

    async def set_closed(self, closed: bool) -> None:
        """Close the station to visitors ("attract-only"), or open it again.

        While closed no visit can start, a visit in progress ends (reason
        ``closed``) and every page shows a calm notice in every language of
        the exhibit over the attract loop.
        """
        closed = bool(closed)
        self._operator("set_closed", closed=closed)
        await self._feed(Closed(closed))

    async def set_language(self, lang: str) -> None:
        """The station's default language from now on: the attract view and future visits."""
        offered = self.engine.languages
        if lang not in offered:
            raise ShowfloorError(f"language {lang!r} is not offered by exhibit "
                                 f"'{self.engine.exhibit.id}'; it offers {', '.join(offered)}")
        self._operator("set_language", lang=lang)
        self.language = lang
        await self._feed(DefaultLanguageSet(lang))

    async def show_message(self, text: Mapping[str, str], seconds: float = 30.0) -> None:
        """A short notice to visitors on every page, for ``seconds`` or until the next reset.

        ``text`` holds the notice per language code; each page shows it in its
        current language, else the exhibit's default, else any. ``seconds`` is
        clamped to 1..3600; each text is cut to 500 characters. The text goes
        to the pages only: it is never stored.
        """
        if not isinstance(text, Mapping) or not text:
            raise ShowfloorError("a message needs its text per language, such as "
                                 "{'zh-CN': '…', 'en': '…'}")
        clean: dict[str, str] = {}
        for code, words in text.items():
            if not isinstance(code, str) or not LANG_CODE.fullmatch(code):
                raise ShowfloorError(f"{code!r} is not a language code such as 'zh-CN' or 'en'")
            if not isinstance(words, str):
                raise ShowfloorError(f"the message in '{code}' must be text, "
                                     f"got {type(words).__name__}")
            words = " ".join(words.split())
            if len(words) > MESSAGE_CHARS:
                words = words[:MESSAGE_CHARS - 1].rstrip() + "…"
            if words:
                clean[code] = words
        if not clean:
            raise ShowfloorError("the message is empty in every language")
        try:
            secs = float(seconds)
        except (TypeError, ValueError) as err:
            raise ShowfloorError(f"seconds must be a number, got {seconds!r}") from err
        if math.isnan(secs):
            raise ShowfloorError("seconds must be a number, got NaN")
        secs = min(max(secs, MESSAGE_SECONDS[0]), MESSAGE_SECONDS[1])
        self._operator("show_message", langs=sorted(clean), seconds=secs)
        self._notice = {"text": clean, "seconds": secs, "until": self.clock() + secs}
        message = self._message_now()
        if message is not None:
            await self._broadcast("cue", name="message", data=message)

    async def set_screen(self, on: bool) -> None:
        """Screens off (outside opening hours) or on again.

        Off: every page shows pure black, takes no touch and pauses its sound,
        and a visit in progress ends (reason ``closed``; the pages are black
        before its reset arrives); the station refuses every input while off.
        On: the current view again.
        """
        on = bool(on)
        self._operator("set_screen", on=on)
        if on == self.screen_on:
            return
        self.screen_on = on
        # black first, so the end of a visit is never seen on the way out
        await self._broadcast("cue", name="screen", data={"on": on})
        if not on and self.engine.session is not None:
            await self._feed(VisitEnded("closed"))

    async def reload(self) -> None:
        """Re-read and re-check the exhibit folder; swap it in, or keep the running one.

        Raises :class:`ShowfloorError` with the first problems when the folder
        has errors; the running exhibit is untouched then.
        """
        try:
            report = await asyncio.to_thread(check, self.root, display=self.profile.display)
        except ShowfloorError as err:
            self._operator("reload", ok=False, errors=1)
            raise ShowfloorError(f"{self.root} cannot be loaded, so the running exhibit "
                                 f"stays: {err}") from err
        if report.exhibit is None or not report.ok:
            errors = report.errors
            self._operator("reload", ok=False, errors=len(errors))
            first = "; ".join(str(p) for p in errors[:3])
            more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
            raise ShowfloorError(f"{self.root} has {len(errors)} error(s), so the running "
                                 f"exhibit stays: {first}{more} — run 'showfloor check' on it")
        self._operator("reload", ok=True, exhibit=report.exhibit.id,
                       version=report.exhibit.version)
        if self.engine.session is not None:
            await self._feed(VisitEnded("reload"))
        await self.replace(report.exhibit, [])

    def idle(self) -> bool:
        """An idle moment: no visit, no idle countdown (the attract loop is showing)."""
        e = self.engine
        return e.session is None and e.phase is Phase.ATTRACT

    async def switch_to(self, root: Path, exhibit: Exhibit | None = None) -> float:
        """Run the exhibit in another folder (a new version): a fresh engine, pages reload.

        Only at an idle moment: during a visit or an idle countdown it raises
        :class:`ShowfloorError` and nothing changes. ``exhibit`` is the folder's
        checked content when the caller has it; else the folder is checked here
        and refused with its first problems. Records an ``operator`` event
        (``switch``) with the old and the new version; returns the station clock
        at the switch (what :meth:`wait_drawn` waits from).
        """
        if exhibit is None:
            try:
                report = await asyncio.to_thread(check, root, display=self.profile.display)
            except ShowfloorError as err:
                raise ShowfloorError(f"{root} cannot be loaded, so the running exhibit "
                                     f"stays: {err}") from err
            if report.exhibit is None or not report.ok:
                first = "; ".join(str(p) for p in report.errors[:3])
                raise ShowfloorError(f"{root} has {len(report.errors)} error(s), so the "
                                     f"running exhibit stays: {first}")
            exhibit = report.exhibit
        if not self.idle():
            raise ShowfloorError("a visit or an idle countdown is in progress; switch at the "
                                 "next idle moment")
        old = self.exhibit
        self.root = root
        self._operator("switch", exhibit=exhibit.id, version=exhibit.version,
                       previous_exhibit=old.id, previous=old.version)
        at = self.clock()
        self.last_switch = {"at": at, "exhibit": exhibit.id, "version": exhibit.version,
                            "previous": old.version, "drawn_after": None}
        await self.replace(exhibit, [])
        return at

    async def _feed(self, inp: Input) -> None:
        """Feed an input of the station's own (an operator command) and apply its effects."""
        await self._apply(self.engine.feed(inp))

    def _operator(self, action: str, **args: Any) -> None:
        """Record an operator command: its name and ids or numbers, never free text."""
        if self.store is not None:
            self.store.station_event(self.clock(), "operator", action=action, **args)

    def _message_now(self) -> dict[str, Any] | None:
        """The notice showing now, with the seconds it has left (None: none, or over)."""
        m = self._notice
        if m is None:
            return None
        left = m["until"] - self.clock()
        if left <= 0:
            self._notice = None
            return None
        return {"text": m["text"], "seconds": round(left, 1),
                "default": self.engine.default_language}

    # -- preview -----------------------------------------------------------
    async def replace(self, exhibit: Exhibit | None, problems: list[dict[str, Any]]) -> None:
        """Swap in new content (preview, reload): a fresh engine, or the problems to show.

        The operator's settings (closed, the default language) carry over to the
        new engine; its events continue the old one's numbering.
        """
        self.problems = problems
        if exhibit is None:
            await self._broadcast("problems", problems=problems)
            return
        gc.unfreeze()  # the old version's objects (frozen at start-up) can be freed now
        old = self.engine
        self.exhibit = exhibit
        self._preload_cache.clear()
        self.engine = self._new_engine(exhibit, seq=old.seq)
        self._record(self.engine.start())
        if self.language is not None and self.language in self.engine.languages:
            self._record(self.engine.feed(DefaultLanguageSet(self.language)))
        if old.closed:
            self._record(self.engine.feed(Closed(True)))
        await self._broadcast("reload")

    def status(self) -> dict[str, Any]:
        e = self.engine
        snap = e.snapshot()
        return {
            "station": self.profile.station.id,
            "exhibit": e.exhibit.id, "version": e.exhibit.version,
            "phase": snap["phase"], "scene": snap["scene"], "lang": snap["lang"],
            "sessions": e.sessions, "inputs": self.inputs, "rejected": self.rejected,
            "uptime": round(self.clock() - self.started, 1),
            "surfaces": sorted(c.surface.id for c in self.connections if c.surface),
            "asset_errors": self.asset_errors, "problems": len(self.problems),
            "events_written": self.store.written if self.store else None,
            "store": None if self.store is None else {
                "pending": self.store.pending, "errors": self.store.errors,
                "last_error": self.store.last_error},
            "closed": e.closed, "screen": "on" if self.screen_on else "off",
            "session_active": e.session is not None,
            "last_input_wall": self.last_input_wall,
            "hub": self.uplink.status() if self.uplink is not None else None,
            "switch": self.last_switch,
            "content": self.delivery.content() if self.delivery is not None else None,
            "kiosk": self.kiosk.summary(),
            "drivers": self.drivers.status() if self.drivers is not None else {},
        }


def scene_modules(exhibit: Exhibit) -> dict[str, Path]:
    """The renderer modules the exhibit's plug-in scene types bring (``SceneType.renderer``).

    A module file that is missing is left out, with a warning: the page then
    draws those scenes as calm generic panels rather than not at all.
    """
    types = registry()
    found: dict[str, Path] = {}
    for name in sorted({s.type for s in exhibit.scenes}):
        kind = types.get(name)
        path = kind.renderer_file() if kind is not None else None
        if path is None:
            continue
        if not path.is_file():
            log.warning("scene type '%s' names its renderer module %s, which is not there; "
                        "its scenes are drawn as plain panels — reinstall the package that "
                        "brings it", name, path)
            continue
        found[name] = path
    return found


ROLE_NAMES = {"kiosk": ("触摸屏", "touch screen: shows and takes touches"),
              "control": ("控制面板", "control panel: takes touches"),
              "display": ("显示屏", "display: shows, takes no touch")}


def chooser(profile: StationProfile) -> str:
    """The page at ``/`` of a station with several surfaces: a link to each."""
    e = html.escape
    items = []
    for s in profile.surfaces:
        zh, en = ROLE_NAMES[s.role]
        about = f'<span class="about">{e(s.description)}</span>' if s.description else ""
        items.append(f'<li><a href="/?surface={e(s.id)}"><b>{e(s.id)}</b>'
                     f'<span class="role"><span lang="zh-CN">{zh}</span> · '
                     f'<span lang="en">{en}</span></span>{about}'
                     f'<span class="url">/?surface={e(s.id)}</span></a></li>')
    name = e(profile.station.name)
    n = len(profile.surfaces)
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>{name} — showfloor</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
body {{ margin: 0; min-height: 100vh; background: #0f1e3a; color: #fff6e6;
  font: 20px/1.45 "Noto Sans CJK SC", "Noto Sans", sans-serif; }}
main {{ max-width: 46rem; margin: 0 auto; padding: 3rem 1.5rem; }}
h1 {{ font-size: 1.6rem; margin: 0 0 .5rem; }}
p {{ margin: 0 0 1.5rem; color: #d8e2f0; }}
ul {{ list-style: none; margin: 0; padding: 0; display: grid; gap: 1rem; }}
a {{ display: grid; gap: .2rem; padding: 1rem 1.25rem; border-radius: 14px;
  background: #1b3157; color: inherit; text-decoration: none; border: 2px solid #2d4b7c; }}
a:hover, a:focus-visible {{ border-color: #ffb76b; outline: none; }}
b {{ font-size: 1.3rem; color: #ffb76b; }}
.role, .about {{ color: #d8e2f0; }}
.url {{ font: .85rem/1.4 monospace; color: #b7c6dc; }}
</style>
</head>
<body>
<main>
<h1>{name}</h1>
<p><span lang="zh-CN">这个展位有 {n} 个画面。请在每块屏幕的浏览器中打开其中一个。</span><br>
<span lang="en">This station has {n} surfaces. Open one on each screen's browser.</span></p>
<ul>
{chr(10).join(items)}
</ul>
</main>
</body>
</html>
"""


def create_app(station: Station) -> Starlette:
    """The ASGI app: the page, the renderer's files, the exhibit's media, the WebSocket."""

    async def index(request: Request) -> Response:
        surfaces = station.profile.surfaces
        if len(surfaces) > 1 and not request.query_params.get("surface"):
            # which screen is this? the person setting it up picks
            page = chooser(station.profile)
            return HTMLResponse(page, headers=page_headers(page))
        # the policy is computed from the text sent (its import map's hash cannot drift)
        page = (WEB / "index.html").read_text("utf-8")
        return HTMLResponse(page, headers=page_headers(page))

    async def favicon(request: Request) -> Response:
        return FileResponse(FAVICON, media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})

    async def plugin(request: Request) -> Response:
        path = station.scene_modules.get(request.path_params["name"])
        if path is None:
            return PlainTextResponse("no such scene module", status_code=404)
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": "no-cache"})

    async def health(request: Request) -> Response:
        return JSONResponse(station.status())

    async def ask_vocab(request: Request) -> Response:
        """The ask terminal's pinyin words and phrasings (showfloor.ask.vocab)."""
        if station.ask is None:
            return PlainTextResponse("this exhibit has no knowledge base", status_code=404)
        body = await asyncio.to_thread(station.ask.vocab_json)
        return Response(body, media_type="application/json",
                        headers={"Cache-Control": "no-cache"})

    async def ws(websocket: WebSocket) -> None:
        await station.serve(websocket)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await station.start()
        try:
            yield
        finally:
            await station.stop()

    routes: list[Any] = [
        Route("/", index),
        Route("/healthz", health),
        Route("/ask/vocab.json", ask_vocab),
        Route("/favicon.ico", favicon),
        Route("/favicon.svg", favicon),
        Route(PLUGINS + "{name}.js", plugin),
        WebSocketRoute("/ws", ws),
        *kiosk_routes(station),
        *(station.competition.routes() if station.competition is not None else []),
        Mount("/renderer", StaticFiles(directory=WEB, check_dir=False), name="renderer"),
        Mount("/exhibit", app=ExhibitFiles(station), name="exhibit"),
    ]
    if VENDOR.is_dir():
        routes.append(Mount("/vendor", StaticFiles(directory=VENDOR), name="vendor"))
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])


class ExhibitFiles:
    """The running exhibit's files, from whichever folder the station runs now
    (:meth:`Station.switch_to` changes it)."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self._root: Path | None = None
        self._files: StaticFiles | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        root = self.station.root
        if self._files is None or root != self._root:
            self._files, self._root = StaticFiles(directory=root), root
        await self._files(scope, receive, send)


def _log_ask_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the ask terminal's index could not be loaded: %s", task.exception())


def _now() -> float:
    return time.time()


def _source_name(name: str | Mapping[str, str], lang: str | None) -> dict[str, Any]:
    """A source's name for the page: one string (with its language, when known), or a map
    from language to name without the text's ``id`` key."""
    if isinstance(name, str):
        return {"name": name, "lang": lang} if lang else {"name": name}
    return {"name": {k: v for k, v in name.items() if k != "id"}}
