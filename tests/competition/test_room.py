"""A competition at a real station process, over its WebSocket (protocol-level pages)."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from showfloor.competition.clocksync import ClockSync
from showfloor.competition.rules import Taken, standings
from showfloor.content.model import Scoring
from station._support import DEMO, RunningStation, start_station

KEY = "test-host-key-123"


@dataclass
class Client:
    ws: ClientConnection
    log: list[dict[str, Any]] = field(default_factory=list)
    sync: ClockSync = field(default_factory=ClockSync)

    def send(self, kind: str, **body: Any) -> None:
        self.ws.send(json.dumps({"type": kind, **body}))

    def recv(self, timeout: float = 5) -> dict[str, Any]:
        msg = dict(json.loads(self.ws.recv(timeout=timeout)))
        if msg["type"] == "ping":  # answer the station's round trips at once
            self.send("pong", n=msg["n"])
        self.log.append(msg)
        return msg

    def until(self, kind: str, timeout: float = 5, **match: Any) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            msg = self.recv(max(0.01, end - time.monotonic()))
            if msg["type"] == kind and all(
                    (msg.get("view") or msg).get(k) == v for k, v in match.items()):
                return msg

    def view(self, timeout: float = 5, **match: Any) -> dict[str, Any]:
        return self.until("view", timeout, **match)["view"]

    def clock_sync(self, n: int = 6) -> None:
        for _ in range(n):
            t0 = time.time()
            self.send("sync", t0=t0)
            got = self.until("sync")
            self.sync.add(got["t0"], got["t1"], got["t2"], time.time())

    def close(self) -> None:
        self.ws.close()


SECONDS = 4


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStation]:
    tmp = tmp_path_factory.mktemp("competition")
    # the demo, with 4-second questions so the test does not wait 20 s for each
    exhibit = tmp / "exhibit"
    shutil.copytree(DEMO, exhibit, ignore=shutil.ignore_patterns("stations"))
    text = (exhibit / "exhibit.yaml").read_text("utf-8")
    assert "    seconds: 20\n" in text
    (exhibit / "exhibit.yaml").write_text(text.replace("    seconds: 20\n",
                                                       f"    seconds: {SECONDS}\n"), "utf-8")
    profile = tmp / "competition.yaml"
    profile.write_text(f"""
station: {{id: test-competition, name: Test competition}}
exhibit: {exhibit}
surfaces: [{{id: main, role: kiosk}}]
competition:
  id: class-quiz
  lead: 0.5
  host_key_env: SF_TEST_HOST_KEY
  buzzers:
    - {{name: Buzz, keys: ["1", "2", "3", "4"]}}
""", "utf-8")
    st = start_station(profile, data=tmp / "data", env={"SF_TEST_HOST_KEY": KEY})
    yield st
    st.stop()


def client(st: RunningStation, role: str, **hello: Any) -> tuple[Client, dict[str, Any]]:
    c = Client(connect(f"ws://127.0.0.1:{st.port}/competition/ws", open_timeout=10)
               .__enter__())
    c.send("hello", role=role, **hello)
    welcome = c.until("welcome")
    return c, welcome


def refusal(c: Client, timeout: float = 5) -> str:
    return str(c.until("error", timeout)["reason"])


def test_the_pages_are_served_with_a_policy_and_the_qr_code(station: RunningStation) -> None:
    for name in ("host", "board", "play"):
        r = httpx.get(f"{station.url}/competition/{name}", timeout=10)
        assert r.status_code == 200, name
        assert "script-src 'self'" in r.headers["content-security-policy"]
    qr = httpx.get(f"{station.url}/competition/join.svg", timeout=10)
    assert qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content


def test_a_whole_competition_over_the_protocol(station: RunningStation) -> None:
    """Host, board (with a buzzer box) and three players: joining, refusals, two
    questions answered at known times on each page's own clock, the board scored as
    docs/competition.md says, a pause and a resume, the end, and a player resuming."""
    stranger, _ = client(station, "board")
    stranger.send("hello", role="host", key="guess")
    assert refusal(stranger) == "this page is for staff: open it with the host link"
    stranger.close()

    host, _ = client(station, "host", key=KEY)
    board, welcome = client(station, "board")
    assert [b["key"] for b in welcome["buzzers"]] == ["1", "2", "3", "4"]
    lobby = board.view()
    code = lobby["code"]
    assert lobby["phase"] == "lobby" and len(code) == 4
    content_teams = [t["team"] for t in lobby["open"]]
    assert len(content_teams) == 6 and lobby["claimed"] == ["b1"]

    p0, _ = client(station, "player")
    assert p0.view()["code"] is None  # a player's page never sees the code
    p0.send("join", code="0000" if code != "0000" else "1111", team=content_teams[0])
    assert refusal(p0) == "that code is not right; look at the big screen"
    p0.send("join", code=code, team=content_teams[0])
    token0 = p0.until("joined")["token"]
    p1, _ = client(station, "player")
    p1.send("join", code=code, team=content_teams[0])
    assert refusal(p1) == "another screen already plays for that team; pick another"
    p1.send("join", code=code, team=content_teams[1])
    p1.until("joined")
    host.send("add_team", name="Stupid team")
    assert refusal(host) == "that team name is not allowed here; pick another"
    host.send("add_team", name="Team Twelve")
    typed = next(t["team"] for t in host.view()["open"] if t["label"]["en"] == "Team Twelve")
    p2, _ = client(station, "player")
    p2.send("join", code=code, team=typed)
    p2.until("joined")
    board.send("answer", n=0, choices=["x"], elapsed_ms=1)
    assert refusal(board) == "a display cannot answer"
    players = {content_teams[0]: p0, content_teams[1]: p1, typed: p2}
    for c in (*players.values(), board):
        c.clock_sync()
    host.send("begin")
    assert host.view(phase="between")["count"] == 10

    taken: list[Taken] = []
    for n in range(2):
        host.send("next")
        views = {id(c): c.view(phase="question", n=n) for c in (*players.values(), board)}
        at = views[id(board)]["at"]
        assert {v["at"] for v in views.values()} == {at}
        assert views[id(board)]["close_at"] - at == SECONDS
        question = views[id(board)]["question"]
        assert "right" not in json.dumps(question)
        ids = [c["id"] for c in question["choices"]]
        # (page, team, choice, ms after the reveal on the page's own clock)
        plan = [(c, team, ids[(k + n) % len(ids)], 400 + 300 * k)
                for k, (team, c) in enumerate(players.items())]
        plan.append((board, "b1", ids[n % 2], 1500))  # buzzer key "1" or "2"
        for c, _team, choice, ms in sorted(plan, key=lambda x: x[3]):
            time.sleep(max(0.0, c.sync.to_local(at) + ms / 1000 - time.time()))
            if c is board:
                c.send("buzz", key=str(1 + ids.index(choice)), elapsed_ms=ms)
            else:
                c.send("answer", n=n, choices=[choice], elapsed_ms=ms)
        p0.send("answer", n=n, choices=[ids[0]], elapsed_ms=2000)
        assert refusal(p0) == "this team has already answered"
        if n == 1:  # a pause keeps the time left; the host resumes
            host.send("pause")
            paused = board.view(phase="paused")
            # the buzz went 1.5 s after the reveal on the board's clock, as far as its
            # estimate of the station's clock can tell (its error bound)
            assert paused["at"] is None
            assert paused["used_ms"] > 1500 - 1000 * board.sync.error
            host.send("resume")
            resumed = board.view(phase="question", n=1)
            left = resumed["close_at"] - resumed["at"]
            assert SECONDS - paused["used_ms"] / 1000 - 0.01 <= left <= \
                SECONDS - 1.5 + board.sync.error
        closed = board.view(timeout=SECONDS + 5, phase="between")
        result = closed["result"]
        assert result["n"] == n and result["answered"] == 4
        right = set(result["right"])
        # right only with every right choice and no other (a "multiple" question may be drawn)
        taken += [Taken(team, n, {choice} == right, ms) for _, team, choice, ms in plan]
        assert sorted(result["correct"]) == sorted(t.team for t in taken if t.n == n
                                                   and t.correct)
        # each page's claim was its real time since the reveal: the station kept it
        # (to within the clock estimate and a millisecond of rounding)
        want = standings(Scoring(correct=100, speed_bonus=50, streak=10), SECONDS,
                         [*players, "b1"], list(range(n + 1)), taken)
        got = {r["team"]: r for r in closed["board"]}
        for s in want:
            assert got[s.team]["right"] == s.right
            assert abs(got[s.team]["points"] - s.points) <= 2, (s, got[s.team])
    host.send("end")
    ended = board.view(phase="ended")
    assert [r["rank"] for r in ended["board"]] == [1, 2, 3, 4]
    assert [r["team"] for r in ended["podium"]] == [r["team"] for r in ended["board"][:3]]
    # a reloaded player page resumes its team with its token
    p0.close()
    again, welcome = client(station, "player", token=token0)
    assert welcome["team"] == content_teams[0]
    for c in (again, host, board, p1, p2):
        c.close()


def test_bad_messages_get_a_sentence_and_the_page_goes_on(station: RunningStation) -> None:
    page, _ = client(station, "player")
    page.ws.send("this is not json")
    assert refusal(page) == "a message must be a JSON object with a type"
    page.ws.send(json.dumps({"type": "answer", "pad": "x" * 4000}))
    assert refusal(page) == "that message is too long"
    page.ws.send('{"type": "sync", "t0": Infinity}')  # not a number a clock can read
    page.send("answer", n=0, choices=["a"], elapsed_ms=1)
    assert refusal(page) == "join a team first"  # the Infinity got no answer, and no harm
    page.clock_sync(2)  # and the clock exchanges still work
    assert page.sync.ready is False and page.sync.delay < 1.0
    host, _ = client(station, "host", key=KEY)
    host.send("add_team", name=12345)
    assert refusal(host) == "type a team name"
    host.send("remove_team", team="nobody")
    assert refusal(host) == "no such team"
    page.send("begin")
    assert refusal(page) == "a player page cannot send 'begin'"
    for c in (page, host):
        c.close()
