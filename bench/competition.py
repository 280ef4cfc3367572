"""Issue 10's goals for a competition in one hall, against a real station process.

40 protocol-level players in this process, each behind its own one-way latency
(0–300 ms, drawn per player) plus jitter (exponential, per message, never
reordering a direction, like TCP), each with a clock that is wrong by up to
±10 minutes. The latency is applied in the players' own send and receive paths
(a delaying link written here, not tc netem: this machine has no network
namespaces for an unprivileged run). One board with no added latency.

Measured, per question:
  A. reveal skew: when each player's page reveals, on the station's clock, minus
     the station's "reveal at T" (both are CLOCK_MONOTONIC on one machine, so the
     truth is known) — p99 |skew| goal ≤ 30 ms;
  B. the speed ranking: every player answers at a known true time after T (--gap
     ms apart, in a shuffled order; 5 ms puts 40 players within 200 ms); the station's elapsed_ms
     (from its event log) must order them as the true times do — goal ≥ 99 % of
     questions; and every answer recorded exactly once;
  C. the leaderboard view after the question closes reaches the board within
     50 ms of the close.

    python bench/competition.py [--players 40] [--questions 10] [--seconds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEMO, median, percentile, table
from showfloor.competition.clocksync import ClockSync

KEY = "bench-host-key"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Link:
    """One player's link: a base one-way delay plus jitter, order kept per direction."""

    base: float
    jitter: float
    rng: random.Random
    last_up: float = 0.0
    last_down: float = 0.0

    def up(self) -> float:
        t = max(time.monotonic() + self.base + self.rng.expovariate(1 / self.jitter),
                self.last_up)
        self.last_up = t
        return t

    def down(self) -> float:
        t = max(time.monotonic() + self.base + self.rng.expovariate(1 / self.jitter),
                self.last_down)
        self.last_down = t
        return t


@dataclass
class Player:
    name: str
    ws: ClientConnection
    link: Link | None
    skew: float  # this page's clock = time.monotonic() + skew
    # as the pages do (renderer/web/competition/common.js): the last 32 exchanges, the
    # mean offset of the 4 fastest
    sync: ClockSync = field(default_factory=lambda: ClockSync(keep=32))
    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    team: str | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() + self.skew

    async def send(self, kind: str, **body: Any) -> None:
        text = json.dumps({"type": kind, **body})
        if self.link is None:
            await self.ws.send(text)
            return
        at = self.link.up()

        async def later() -> None:
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await self.ws.send(text)
        self.tasks.append(asyncio.create_task(later()))

    async def reader(self) -> None:
        """Messages as they arrive, each stamped with when its delay is over (a delay
        line: messages in flight overlap, as on a network, but never overtake)."""
        line: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.tasks.append(asyncio.create_task(self._deliver(line)))
        async for text in self.ws:
            at = self.link.down() if self.link is not None else time.monotonic()
            line.put_nowait((at, str(text)))

    async def _deliver(self, line: asyncio.Queue[tuple[float, str]]) -> None:
        while True:
            at, text = await line.get()
            await asyncio.sleep(max(0.0, at - time.monotonic()))
            await self._take(json.loads(text))

    async def _take(self, msg: dict[str, Any]) -> None:
        if msg["type"] == "ping":
            await self.send("pong", n=msg["n"])
        elif msg["type"] == "sync":
            self.sync.add(msg["t0"], msg["t1"], msg["t2"], self.now())
        else:
            await self.inbox.put(msg)

    async def until(self, kind: str, timeout: float = 30, **match: Any) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            msg = await asyncio.wait_for(self.inbox.get(), max(0.01, end - time.monotonic()))
            if msg["type"] == kind and all((msg.get("view") or msg).get(k) == v
                                           for k, v in match.items()):
                return msg

    async def clock_sync(self, n: int = 8) -> None:
        """The pages' burst (8 exchanges 0.1 s apart), then one every half second."""
        for _ in range(n):
            await self.send("sync", t0=self.now())
            await asyncio.sleep(0.1)

        async def every() -> None:
            while True:
                await asyncio.sleep(0.5)
                await self.send("sync", t0=self.now())
        self.tasks.append(asyncio.create_task(every()))


async def open_player(url: str, name: str, link: Link | None, skew: float, role: str,
                      **hello: Any) -> Player:
    ws = await connect(url, open_timeout=20, max_size=2**22)
    p = Player(name, ws, link, skew)
    p.tasks.append(asyncio.create_task(p.reader()))
    await p.send("hello", role=role, **hello)
    await p.until("welcome")
    return p


def prepare(tmp: Path, seconds: float, questions: int, players: int) -> Path:
    exhibit = tmp / "exhibit"
    shutil.copytree(DEMO, exhibit, ignore=shutil.ignore_patterns("stations"))
    y = exhibit / "exhibit.yaml"
    text = y.read_text("utf-8").replace("    seconds: 20\n", f"    seconds: {seconds:g}\n")
    text = text.replace("    questions: 10\n", f"    questions: {questions}\n")
    y.write_text(text, "utf-8")
    profile = tmp / "competition.yaml"
    profile.write_text(f"""
station: {{id: bench-competition, name: Bench competition}}
exhibit: {exhibit}
surfaces: [{{id: main, role: kiosk}}]
competition: {{id: class-quiz, lead: 2, host_key_env: SF_BENCH_KEY}}
""", "utf-8")
    return profile


async def run(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="sf-bench-competition-"))
    profile = prepare(tmp, args.seconds, args.questions, args.players)
    port = free_port()
    data = tmp / "data"
    proc = subprocess.Popen([sys.executable, "-m", "showfloor", "station", str(profile),
                             "--port", str(port), "--data", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**__import__("os").environ, "SF_BENCH_KEY": KEY})
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
        url = f"ws://127.0.0.1:{port}/competition/ws"
        host = await open_player(url, "host", None, 0.0, "host", key=KEY)
        board = await open_player(url, "board", None, 0.0, "board")
        lobby = (await board.until("view"))["view"]
        code = lobby["code"]
        # more teams than the content lists: staff type them on the host
        for k in range(args.players):
            await host.send("add_team", name=f"Team {k + 1}")
        view = (await host.until("view"))["view"]
        while len(view["open"]) < args.players:
            view = (await host.until("view"))["view"]
        teams = [t["team"] for t in view["open"]][: args.players]
        players: list[Player] = []
        for k, team in enumerate(teams):
            link = Link(rng.uniform(0.0, 0.3), args.jitter, random.Random(rng.random()))
            p = await open_player(url, f"p{k}", link, rng.uniform(-600, 600), "player")
            # a page starts its clock exchanges as it connects, one page after another
            # as the class's teams join (not 40 bursts at once)
            p.tasks.append(asyncio.create_task(p.clock_sync()))
            await p.send("join", code=code, team=team)
            p.team = (await p.until("joined", timeout=30))["team"]
            players.append(p)
        await asyncio.sleep(args.lobby)  # the host starts a moment after the last team
        await host.send("begin")
        await board.until("view", phase="between")

        skews: list[float] = []
        errors: list[float] = []
        gaps: list[float] = []
        close_lag: list[float] = []
        ordered = 0
        once = 0
        pairs = pairs_right = 0
        for n in range(args.questions):
            await host.send("next")
            reveals: dict[str, float] = {}
            true_at: dict[str, float] = {}
            order = list(range(len(players)))
            rng.shuffle(order)
            offsets = {str(players[i].team): args.gap * rank for rank, i in enumerate(order)}

            async def view_of(p: Player, n: int = n, reveals: dict[str, float] = reveals
                              ) -> tuple[dict[str, Any], float]:
                v = (await p.until("view", phase="question", n=n))["view"]
                local = v["at"] - p.sync.offset  # "reveal at T" on this page's clock
                # the estimate's error, known here: the page's clock is monotonic + skew
                errors.append(abs(p.sync.offset + p.skew) * 1000)

                async def reveal() -> None:
                    await asyncio.sleep(max(0.0, local - p.now()))
                    assert p.team is not None
                    reveals[p.team] = time.monotonic() - v["at"]
                p.tasks.append(asyncio.create_task(reveal()))
                return v, local

            bview = (await board.until("view", phase="question", n=n))["view"]
            seen = await asyncio.gather(*(view_of(p) for p in players))
            # each answer at its known true time (the station's clock, which is this
            # machine's monotonic clock): T + 20 ms + gap × its rank, one after another
            # (sleep to a moment before, then wait out the rest exactly); the page's
            # elapsed_ms is what its own clock reads then, from its own reveal
            last = 0.0
            for i in order:
                p, (v, local) = players[i], seen[i]
                assert p.team is not None
                # never closer than the gap to the one before (a late wake-up pushes
                # the rest along: the true times stay known and a gap apart)
                target = max(v["at"] + (offsets[p.team] + 20) / 1000, last + args.gap / 1000)
                await asyncio.sleep(max(0.0, target - time.monotonic() - 0.002))
                while time.monotonic() < target:
                    pass
                ms = round((p.now() - local) * 1000)
                last = time.monotonic()
                true_at[p.team] = last - v["at"]
                ids = [c["id"] for c in v["question"]["choices"]]
                await p.send("answer", n=n, choices=[ids[0]], elapsed_ms=ms)
            deadline = bview["close_at"] + 0.5
            await board.until("view", phase="between", timeout=args.seconds + 10)
            close_lag.append(time.monotonic() - deadline)
            skews += list(reveals.values())
            mine: list[dict[str, Any]] = []
            for _ in range(20):  # the station's writer thread commits a moment later
                con = sqlite3.connect(data / "events.sqlite")
                rows = con.execute("SELECT data FROM events WHERE kind = 'answer_taken'"
                                   ).fetchall()
                con.close()
                mine = [g for g in (json.loads(r[0]) for r in rows) if g["n"] == n]
                if len(mine) >= len(players):
                    break
                await asyncio.sleep(0.1)
            teams_once = [g["team"] for g in mine]
            once += int(len(teams_once) == len(players) == len(set(teams_once)))
            station_order = [g["team"] for g in sorted(mine, key=lambda g: g["elapsed_ms"])]
            true_order = sorted(true_at, key=lambda t: true_at[t])
            gaps += [1000 * (true_at[b] - true_at[a]) for a, b in itertools.pairwise(true_order)]
            ordered += int(station_order == true_order)
            pos = {t: i for i, t in enumerate(station_order)}
            pairs += len(true_order) * (len(true_order) - 1) // 2
            pairs_right += sum(1 for i, a in enumerate(true_order) for b in true_order[i + 1:]
                               if pos.get(a, -1) < pos.get(b, -1))
        await host.send("end")
        await board.until("view", phase="ended")
        abs_skew = [abs(s) * 1000 for s in skews]
        lag = [x * 1000 for x in close_lag]
        table("Competition timing (bench/competition.py)",
              ["what", "n", "median", "p99", "max", "goal", ""],
              [["reveal |skew| ms", len(abs_skew), f"{median(abs_skew):.1f}",
                f"{percentile(abs_skew, 99):.1f}", f"{max(abs_skew):.1f}", "p99 ≤ 30",
                "PASS" if percentile(abs_skew, 99) <= 30 else "FAIL"],
               ["questions ranked in true order", args.questions, "", "",
                f"{ordered}/{args.questions}", "≥ 99 %",
                "PASS" if ordered >= 0.99 * args.questions else "FAIL"],
               ["pairs of answers in true order", pairs, "", "",
                f"{100 * pairs_right / max(1, pairs):.2f} %", "", ""],
               ["a page's clock offset error ms", len(errors), f"{median(errors):.2f}",
                f"{percentile(errors, 99):.2f}", f"{max(errors):.2f}", "", ""],
               ["true gap between answers in turn ms", len(gaps), f"{median(gaps):.2f}",
                f"min {min(gaps):.2f}", f"{max(gaps):.2f}", "", ""],
               ["questions with every answer once", args.questions, "", "",
                f"{once}/{args.questions}", "all", "PASS" if once == args.questions
                else "FAIL"],
               ["close → board view ms", len(lag), f"{median(lag):.1f}",
                f"{percentile(lag, 99):.1f}", f"{max(lag):.1f}", "≤ 50",
                "PASS" if max(lag) <= 50 else "FAIL"]])
        print(f"\n{args.players} players, one-way latency 0–300 ms each + jitter "
              f"(exponential, mean {args.jitter * 1000:g} ms), clocks ±600 s; "
              f"answers {args.gap} ms apart (all within {args.gap * (args.players - 1) + 20} ms)")
        for p in (host, board, *players):
            for t in p.tasks:
                t.cancel()
            await p.ws.close()
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--players", type=int, default=40)
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=4)
    ap.add_argument("--jitter", type=float, default=0.010, help="mean jitter, s")
    ap.add_argument("--gap", type=int, default=5,
                    help="ms between the players' true answer times (5: 40 within 200 ms)")
    ap.add_argument("--lobby", type=float, default=3.0,
                    help="seconds between the last team joining and the start")
    ap.add_argument("--seed", type=int, default=20261204)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
