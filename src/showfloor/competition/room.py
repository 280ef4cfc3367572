"""A competition at a station: the host, leaderboard and player pages and their WebSocket.

The station runs one :class:`Room` when its profile has ``competition:``. The room
owns the competition's engine (:mod:`showfloor.competition.engine`), turns page
messages into its inputs, sends every page the view, closes each question on time
(a task that sleeps until the deadline, not a poll), and records the engine's
events as station events (kind ``competition_input`` and the rest), so they reach
the hub like every other event. docs/competition.md is the protocol.

Players join with the code on the board and claim a team; the token they get back
resumes them after a reload (kept in the page's sessionStorage, forgotten with the
competition). Nothing about a player is kept but its team's name and scores.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import io
import json
import logging
import math
import os
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeGuard

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from showfloor.competition import engine as E
from showfloor.content.model import Exhibit
from showfloor.engine.effects import Effect, RecordEvent, Rejected, ShowView
from showfloor.errors import ShowfloorError
from showfloor.station.profile import CompetitionProfile

log = logging.getLogger("showfloor.competition")

#: the largest message a page may send (a join, an answer, a team name)
MAX_MESSAGE = 2048
#: wrong join codes one page may try before it is turned away
MAX_TRIES = 8
#: pings kept per page for its round trip (the most recent)
PINGS = 8
#: added to a page's longest recent round trip: how long an answer may have been on its way
SLACK_MARGIN = 0.25
ROLES = ("host", "board", "player")
#: the moments after which the pages' view may wait a little (answers), to be sent once
QUIET = frozenset({"competition_input", "answer_taken"})
#: how long it may wait, seconds
COALESCE = 0.1
#: the host page's key when the profile names no variable of its own (`showfloor hall`
#: sets it, so it can print the host's address)
HOST_KEY_ENV = "SHOWFLOOR_COMPETITION_HOST_KEY"


@dataclass(eq=False)
class Page:
    ws: WebSocket
    role: str | None = None
    team: str | None = None
    tries: int = 0
    rtts: deque[float] = field(default_factory=lambda: deque(maxlen=PINGS))
    pings: dict[int, float] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def slack(self) -> float:
        return (max(self.rtts) if self.rtts else 1.0) + SLACK_MARGIN

    async def send(self, kind: str, **body: Any) -> None:
        data = json.dumps({"type": kind, **body}, ensure_ascii=False, separators=(",", ":"))
        async with self.lock:
            await self.ws.send_text(data)


class Room:
    """One competition's pages at one station."""

    def __init__(self, exhibit: Exhibit, profile: CompetitionProfile, web: Path, *,
                 record: Callable[[float, str, Mapping[str, Any]], None] | None = None,
                 clock: Callable[[], float] = time.monotonic, key: str | None = None) -> None:
        self.exhibit = exhibit
        self.profile = profile
        self.web = web
        self.comp = E.competition(exhibit, profile.id)
        self.clock = clock
        self._sink = record
        env = (os.environ.get(profile.host_key_env) if profile.host_key_env else None) or \
            os.environ.get(HOST_KEY_ENV)
        #: the host page's key (``/competition/host?key=…``)
        self.key = key or env or secrets.token_urlsafe(9)
        self.pages: set[Page] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self._open()

    # -- a competition -----------------------------------------------------------

    def _open(self) -> None:
        """A new competition: a new engine, a new join code, the content's teams open."""
        self.engine = E.CompetitionEngine(self.exhibit, self.profile.id, t0=self.clock())
        self.code = f"{secrets.randbelow(10_000):04d}"
        self.tokens: dict[str, str] = {}
        langs = self.exhibit.languages
        #: teams a player can claim or that play: id -> name per language
        self.labels: dict[str, dict[str, str]] = {}
        for i, t in enumerate(self.comp.teams):
            self.labels[f"c{i + 1}"] = {lang: t.get(lang) or self._name(t) for lang in langs}
        self._typed = 0
        effects: list[Effect] = []
        for j, b in enumerate(self.profile.buzzers):
            team = f"b{j + 1}"
            self.labels[team] = dict.fromkeys(langs, b.name)
            effects += self.engine.feed(E.TeamJoined(team, b.name))
        self._keep(effects)

    def _name(self, text: Mapping[str, str]) -> str:
        d = self.exhibit.default_language
        return text.get(d) or next(v for k, v in text.items() if k != "id")

    def claimed(self) -> set[str]:
        return set(self.tokens.values()) | {f"b{j + 1}" for j in range(len(self.profile.buzzers))}

    # -- lifecycle -----------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._closer())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _closer(self) -> None:
        """Close each question at its deadline, and in a final begin and reveal on the
        hub's schedule (sleeps until the next of these; woken by changes)."""
        while True:
            d = self.engine.next_deadline()
            f = self._final_due()
            due = min((x for x in (d, f) if x is not None), default=None)
            wait = 1.0 if due is None else max(0.0, min(1.0, due - self.clock()))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            d = self.engine.next_deadline()
            if d is not None and self.clock() >= d:
                await self._apply(self.engine.feed(E.Tick(self.clock())))
            f = self._final_due()
            if f is not None and self.clock() >= f:
                await self._final_step()

    # -- a final across halls (docs/competition.md) ------------------------------------

    def _final_due(self) -> float | None:
        """When the final's next step is due on this clock (None: no final, or none due)."""
        eng = self.engine
        if eng.final is None:
            return None
        lead = self.profile.lead
        if eng.phase == "lobby":
            return eng.final.start - lead
        if eng.phase == "between":
            at = eng.scheduled(eng.next_n)
            return None if at is None else at - lead
        return None

    async def _final_step(self) -> None:
        eng = self.engine
        assert eng.final is not None
        if eng.phase == "lobby":
            effects = eng.feed(E.Begin(eng.final.seed))
            if any(isinstance(e, Rejected) for e in effects):
                log.warning("final %s: no team joined here by its start; it ends with none",
                            eng.final.final)
                effects = eng.feed(E.End())
            await self._apply(effects)
            return
        if eng.next_n >= len(eng.questions):
            await self._apply(eng.feed(E.End()))
            return
        # on time: the scheduled moment; a hall that paused (or opened late) reveals as
        # soon as it can, and its later rounds close late
        at = max(eng.scheduled(eng.next_n) or 0.0, self.clock() + self.profile.lead)
        await self._apply(eng.feed(E.Reveal(at)))

    async def open_final(self, args: Mapping[str, Any]) -> str:
        """The hub's ``final`` command: open this hall's lobby for the final.

        ``start`` and ``hub_now`` are hub times (Unix seconds); the final starts on this
        station's clock at ``start − (hub_now − now)``, ``now`` being this clock when the
        command arrived (hub and stations should keep their clocks by NTP)."""
        arrived = self.clock()
        final, comp = args.get("final"), args.get("competition")
        if comp != self.comp.id:
            raise ShowfloorError(f"this station hosts the competition '{self.comp.id}', "
                                 f"not '{comp}'")
        eng = self.engine
        if eng.final is not None and eng.final.final == final and eng.phase != "ended":
            return f"final {final} is already open here"  # a command delivered again
        if eng.phase == "ended":
            self._open()
            for p in self.pages:
                p.team = None
        start = float(args["start"]) - float(args["hub_now"]) + arrived
        effects = self.engine.feed(E.FinalOpened(
            int(args["final"]), str(args.get("name", "")), start, int(args["seed"]),
            float(args.get("gap", E.FINAL_GAP))))
        why = next((e.reason for e in effects if isinstance(e, Rejected)), None)
        if why is not None:
            raise ShowfloorError(why)
        await self._apply(effects)
        return f"final {final} opens here; it starts in {max(0.0, start - arrived):.1f} s"

    # -- effects ----------------------------------------------------------------------

    def _keep(self, effects: list[Effect]) -> None:
        if self._sink is None:
            return
        for e in effects:
            if isinstance(e, RecordEvent):
                self._sink(e.event.t, e.event.kind, e.event.data)

    async def _apply(self, effects: list[Effect], origin: Page | None = None) -> None:
        self._keep(effects)
        self._wake.set()
        for e in effects:
            if isinstance(e, Rejected) and origin is not None:
                await self._say(origin, e.reason)
        if not any(isinstance(e, ShowView) for e in effects):
            return
        moments = {e.event.kind for e in effects if isinstance(e, RecordEvent)}
        if moments <= QUIET:
            # an answer changes only "who has answered": 40 teams answering within a
            # fraction of a second make one view, not 40 (each to every page)
            self._soon()
        else:
            await self.broadcast()

    def _soon(self) -> None:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().call_later(COALESCE, self._flush)

    def _flush(self) -> None:
        self._pending = None
        self._flushing = asyncio.create_task(self.broadcast())

    def view_for(self, page: Page, base: dict[str, Any] | None = None) -> dict[str, Any]:
        v = dict(base) if base is not None else self.base_view()
        staff = page.role in ("host", "board")
        v["code"] = self.code if staff else None
        v["you"] = page.team if page.role == "player" else None
        return v

    def base_view(self) -> dict[str, Any]:
        """The view every page gets (before its own fields): worked out once a broadcast."""
        v = self.engine.view()
        names = {t: self.labels.get(t, {}) for t in self.engine.teams}
        for row in v["board"]:
            row["label"] = names.get(row["team"]) or {}
        for row in v["teams"]:
            row["label"] = names.get(row["team"]) or {}
        claimed = self.claimed()
        v["open"] = [{"team": t, "label": lab} for t, lab in self.labels.items()
                     if t not in claimed and t not in self.engine.removed]
        v["claimed"] = sorted(claimed & set(self.engine.teams))
        v["now"] = self.clock()
        return v

    async def broadcast(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        base = self.base_view()
        # the leaderboard first (everyone looks at it), then the host, then the players
        order = {"board": 0, "host": 1, "player": 2}
        pages = sorted((p for p in self.pages if p.role is not None),
                       key=lambda p: order.get(p.role or "", 3))
        results = await asyncio.gather(
            *(p.send("view", view=self.view_for(p, base)) for p in pages),
            return_exceptions=True)
        for page, r in zip(pages, results, strict=True):
            if isinstance(r, (WebSocketDisconnect, RuntimeError, OSError)):
                self.pages.discard(page)
            elif isinstance(r, BaseException):
                raise r

    async def _say(self, page: Page, reason: str) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
            await page.send("error", reason=reason)

    # -- the WebSocket --------------------------------------------------------------

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        page = Page(ws)
        self.pages.add(page)
        pinger = asyncio.create_task(self._pinger(page))
        try:
            while True:
                text = await ws.receive_text()
                received = self.clock()
                await self._message(page, text, received)
        except WebSocketDisconnect:
            pass
        finally:
            pinger.cancel()
            self.pages.discard(page)
            await self._left(page)

    async def _pinger(self, page: Page) -> None:
        """The station's own round trips to the page (``ping``/``pong``): how long an
        answer from it may have been on its way (never what the page says)."""
        n = 0
        with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError,
                                 asyncio.CancelledError):
            while True:
                n += 1
                page.pings[n] = self.clock()
                if len(page.pings) > PINGS:
                    page.pings.pop(min(page.pings))
                await page.send("ping", n=n)
                await asyncio.sleep(0.2 if n < 4 else 5.0)

    async def _left(self, page: Page) -> None:
        if page.role == "host" and self.engine.phase == "question" and \
                self.engine.final is None and not any(p.role == "host" for p in self.pages):
            # the last host page went: pause, so nothing is decided without staff (not in
            # a final: its schedule decides, and the hall must not fall behind the others)
            await self._apply(self.engine.feed(E.Pause(self.clock(), reason="host_left")))

    async def _message(self, page: Page, text: str, received: float) -> None:
        if len(text) > MAX_MESSAGE:
            await self._say(page, "that message is too long")
            return
        try:
            msg = json.loads(text)
        except ValueError:
            msg = None
        if not isinstance(msg, dict) or not isinstance(msg.get("type"), str):
            await self._say(page, "a message must be a JSON object with a type")
            return
        kind = msg["type"]
        if kind == "sync":
            t0 = msg.get("t0")
            if _number(t0):
                with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
                    await page.send("sync", t0=t0, t1=received, t2=self.clock())
            return
        if kind == "pong":
            n = msg.get("n")
            sent = page.pings.pop(n, None) if isinstance(n, int) else None
            if sent is not None:
                page.rtts.append(received - sent)
            return
        if kind == "hello":
            await self._hello(page, msg)
            return
        if page.role is None:
            await self._say(page, "say hello first")
            return
        handler = getattr(self, f"_{page.role}_{kind}", None)
        if handler is None:
            await self._say(page, self._not_for(page.role, kind))
            return
        await handler(page, msg, received)

    @staticmethod
    def _not_for(role: str, kind: str) -> str:
        if kind in ("answer", "buzz") and role != "player":
            return "a display cannot answer" if role == "board" and kind == "answer" \
                else "only a player's screen can answer"
        return f"a {role} page cannot send '{kind}'"

    async def _hello(self, page: Page, msg: Mapping[str, Any]) -> None:
        role = msg.get("role")
        if role not in ROLES:
            await self._say(page, "role must be host, board or player")
            return
        if role == "host":
            key = msg.get("key")
            if not isinstance(key, str) or not hmac.compare_digest(key, self.key):
                await self._say(page, "this page is for staff: open it with the host link")
                return
        page.role = role
        token = msg.get("token")
        if role == "player" and isinstance(token, str) and token in self.tokens:
            page.team = self.tokens[token]
        welcome: dict[str, Any] = {
            "role": role, "competition": {"id": self.comp.id, "title": dict(self.comp.title)},
            "languages": list(self.exhibit.languages),
            "default_language": self.exhibit.default_language, "lead": self.profile.lead,
            "team": page.team, "now": self.clock()}
        if role == "board":
            welcome["buzzers"] = [{"key": k, "team": f"b{j + 1}", "choice": i}
                                  for j, b in enumerate(self.profile.buzzers)
                                  for i, k in enumerate(b.keys)]
        await page.send("welcome", **welcome)
        await page.send("view", view=self.view_for(page))

    # player

    async def _player_join(self, page: Page, msg: Mapping[str, Any], received: float) -> None:
        if page.team is not None:
            await self._say(page, "this screen already plays for a team")
            return
        if page.tries >= MAX_TRIES:
            await self._say(page, "too many wrong codes; ask the host for help")
            return
        code = msg.get("code")
        if not isinstance(code, str) or not hmac.compare_digest(code.strip(), self.code):
            page.tries += 1
            await self._say(page, "that code is not right; look at the big screen")
            return
        team = msg.get("team")
        if not isinstance(team, str) or team not in self.labels or \
                team in self.engine.removed:
            await self._say(page, "pick one of the teams on the list")
            return
        if team in self.claimed():
            await self._say(page, "another screen already plays for that team; pick another")
            return
        effects: list[Effect] = []
        if team not in self.engine.teams:
            effects = self.engine.feed(E.TeamJoined(team, self._name(self.labels[team])))
            why = next((e.reason for e in effects if isinstance(e, Rejected)), None)
            if why is not None:
                await self._say(page, why)
                return
        token = secrets.token_urlsafe(16)
        self.tokens[token] = team
        page.team = team
        await page.send("joined", team=team, token=token)
        await self._apply(effects or [ShowView({})])

    async def _player_answer(self, page: Page, msg: Mapping[str, Any], received: float) -> None:
        if page.team is None:
            await self._say(page, "join a team first")
            return
        n, choices, ms = msg.get("n"), msg.get("choices"), msg.get("elapsed_ms")
        if not isinstance(n, int) or isinstance(n, bool) or not _number(ms) or \
                not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            await self._say(page, "an answer needs n, choices and elapsed_ms")
            return
        await self._apply(self.engine.feed(E.Answer(
            page.team, n, tuple(choices), int(ms), received, page.slack)), page)

    # board (buzzer boxes on its keyboard)

    async def _board_buzz(self, page: Page, msg: Mapping[str, Any], received: float) -> None:
        key, ms = msg.get("key"), msg.get("elapsed_ms")
        box = next(((j, b) for j, b in enumerate(self.profile.buzzers)
                    if isinstance(key, str) and key in b.keys), None)
        if box is None or not _number(ms):
            return  # a key no buzzer types: someone at the board's keyboard
        j, b = box
        now = self.engine.now
        if now is None or self.engine.phase != "question":
            return
        q = self.engine.questions[now.n]
        index = b.keys.index(str(key))
        if index >= len(q.choices):
            return
        await self._apply(self.engine.feed(E.Answer(
            f"b{j + 1}", now.n, (q.choices[index][0],), int(ms), received, page.slack)), page)

    # host

    async def _host_add_team(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        name = msg.get("name")
        if not isinstance(name, str):
            await self._say(page, "type a team name")
            return
        why = E.name_problem(self.comp, name)
        clean = " ".join(name.split())
        if why is None and any(clean.casefold() == v.casefold()
                               for lab in self.labels.values() for v in lab.values()):
            why = "there is already a team of that name"
        if why is None and len(self.labels) >= E.MAX_TEAMS + len(self.profile.buzzers) + 20:
            why = "no more teams can be added"
        if why is not None:
            await self._say(page, why)
            return
        self._typed += 1
        self.labels[f"h{self._typed}"] = dict.fromkeys(self.exhibit.languages, clean)
        await self.broadcast()

    async def _host_remove_team(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        team = msg.get("team")
        if not isinstance(team, str) or team not in self.labels:
            await self._say(page, "no such team")
            return
        for token in [k for k, v in self.tokens.items() if v == team]:
            del self.tokens[token]
        for p in self.pages:
            if p.team == team:
                p.team = None
        if team in self.engine.teams:
            await self._apply(self.engine.feed(E.TeamRemoved(team)), page)
        else:
            del self.labels[team]
            await self.broadcast()

    async def _in_final(self, page: Page) -> bool:
        """In a final the questions come on the hub's schedule, not the host's buttons."""
        if self.engine.final is None or self.engine.phase == "ended":
            return False
        await self._say(page, "this is a final: the questions come on the hub's schedule "
                        "(the host can pause, remove a team or end)")
        return True

    async def _host_begin(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        if await self._in_final(page):
            return
        await self._apply(self.engine.feed(E.Begin(secrets.randbits(32))), page)

    async def _host_next(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        if await self._in_final(page):
            return
        await self._apply(self.engine.feed(E.Reveal(self.clock() + self.profile.lead)), page)

    async def _host_resume(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        if self.engine.phase != "paused":
            await self._say(page, "nothing is paused")
            return
        await self._apply(self.engine.feed(E.Reveal(self.clock() + self.profile.lead)), page)

    async def _host_pause(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        await self._apply(self.engine.feed(E.Pause(self.clock())), page)

    async def _host_skip(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        if await self._in_final(page):
            return
        await self._apply(self.engine.feed(E.Skip()), page)

    async def _host_end(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        await self._apply(self.engine.feed(E.End()), page)

    async def _host_new(self, page: Page, msg: Mapping[str, Any], _: float) -> None:
        if self.engine.phase != "ended":
            await self._say(page, "end this competition first")
            return
        self._open()
        for p in self.pages:
            p.team = None
        await self.broadcast()

    # -- HTTP ---------------------------------------------------------------------

    def routes(self) -> list[Any]:
        from showfloor.station.security import page_headers

        folder = self.web / "competition"

        def page(name: str) -> Callable[[Request], Any]:
            async def serve(request: Request) -> Response:
                text = (folder / f"{name}.html").read_text("utf-8")
                return HTMLResponse(text, headers=page_headers(text))
            return serve

        async def qr(request: Request) -> Response:
            import segno

            url = f"{str(request.base_url).rstrip('/')}/competition/play?code={self.code}"
            out = io.BytesIO()
            segno.make(url, error="m").save(out, kind="svg", scale=8, border=2,
                                            dark="#000000", light="#ffffff")
            return Response(out.getvalue(), media_type="image/svg+xml",
                            headers={"Cache-Control": "no-store"})

        async def missing(request: Request) -> Response:
            return PlainTextResponse("no such page", status_code=404)

        return [Route("/competition/host", page("host")),
                Route("/competition/board", page("board")),
                Route("/competition/play", page("play")),
                Route("/competition/join.svg", qr),
                Route("/competition", missing),
                WebSocketRoute("/competition/ws", self.serve)]


def _number(x: object) -> TypeGuard[float]:
    """A finite JSON number (not true/false, not Infinity or NaN, and not absurdly large)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and \
        math.isfinite(x) and abs(x) < 1e12


def competition_urls(base: str, key: str) -> dict[str, str]:
    """The pages' addresses, for the station's and the hall's banners."""
    return {"host": f"{base}/competition/host?key={key}",
            "board": f"{base}/competition/board", "player": f"{base}/competition/play"}
