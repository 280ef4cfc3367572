"""Competition finals across halls on the hub: the combined board (a pure function, on a
fixture worked by hand), the ``finals`` table and its checks on both backends, and the
whole thing end to end — a real hub, three real host stations, one of them cut off from
the hub through a TCP proxy for a stretch of the final (docs/competition.md)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from websockets.sync.client import ClientConnection, connect

from conftest import keep_for_docs
from e2e._browser import axe, launch
from showfloor.competition.engine import competition, question_bank
from showfloor.content.load import load
from showfloor.errors import ConfigError
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub import enrolment
from showfloor.hub import finals as fi
from showfloor.hub.finals import Closed, Plan, combined
from station._support import DEMO, RunningStation, free_port, spawn, until

from ._dashboard_support import browser_login, create_user, csrf_of, session
from ._proxy import Proxy
from ._support import SignedStation, make_code, start_hub


def row(team: str, name: str, points: int, right: int) -> dict[str, Any]:
    return {"team": team, "name": name, "points": points, "right": right}


# start 1000, 10 s questions, 5 s apart: rounds close at 1010, 1025 and 1040;
# a round is late when it reaches the hub after 1020, 1035, 1050
PLAN = Plan(start=1000.0, gap=5.0, seconds=10.0, count=3)
HALLS = [("a", "North"), ("b", "South"), ("c", "East")]
CLOSED = [
    Closed("a", 0, (row("c1", "Sunrise", 140, 1), row("c2", "Galaxy", 0, 0)), 1020.0),
    Closed("a", 1, (row("c1", "Sunrise", 140, 1), row("c2", "Galaxy", 140, 1)), 1026.0),
    # the same round again (a second host in the hall, or a copy): the first counts
    Closed("a", 1, (row("c1", "Sunrise", 999, 9), row("c2", "Galaxy", 999, 9)), 1030.0),
    Closed("b", 0, (row("c1", "Pine", 140, 1), row("c2", "Waves", 140, 1)), 1021.5),
    Closed("b", 1, (row("c1", "Pine", 140, 2), row("c2", "Waves", 140, 1)), 1035.0),
    Closed("z", 0, (row("c1", "Stranger", 500, 5),), 1011.0),  # not a hall of this final
]


def test_the_combined_board_worked_by_hand() -> None:
    b = combined(PLAN, HALLS, CLOSED, now=1037.0)
    # each hall's latest board: North after round 1 (its first copy), South after round 1;
    # East has sent nothing. Ranked by points, right answers, hall id, team id
    assert [(r["rank"], r["hall"], r["team"], r["points"], r["right"], r["rounds"])
            for r in b["teams"]] == [
        (1, "b", "c1", 140, 2, 2),  # more right answers wins the tie at 140
        (2, "a", "c1", 140, 1, 2),  # 140 and 1 right: hall a before hall b,
        (3, "a", "c2", 140, 1, 2),  # c1 before c2
        (4, "b", "c2", 140, 1, 2),
    ]
    assert b["teams"][0]["name"] == "Pine" and b["teams"][0]["hall_name"] == "South"
    states = {h["hall"]: [r["state"] for r in h["rounds"]] for h in b["halls"]}
    assert states == {
        "a": ["on time", "on time", "to come"],  # 1020.0 is not after 1020: on time
        "b": ["late", "on time", "to come"],  # 1021.5 > 1020; 1035.0 is not after 1035
        "c": ["missing", "missing", "to come"],  # nothing by 1020 nor by 1035
    }
    assert [(h["in"], h["late"], h["missing"]) for h in b["halls"]] == \
        [(2, 0, 0), (2, 1, 0), (0, 0, 2)]
    assert [r["due"] for r in b["halls"][0]["rounds"]] == [1010.0, 1025.0, 1040.0]
    assert b["over"] is False and b["started"] is True and b["count"] == 3

    # after 1050 the last round is due everywhere: the result, each hall's gaps marked
    end = combined(PLAN, HALLS, CLOSED, now=1050.5)
    assert end["over"] is True
    assert [h["missing"] for h in end["halls"]] == [1, 1, 3]
    # the same events in another order give the same board
    assert combined(PLAN, HALLS, list(reversed(CLOSED)), now=1050.5) == end


def test_before_any_hall_reports_the_schedule_nothing_is_missing() -> None:
    b = combined(Plan(1000.0, 5.0, None, None), HALLS, [], now=5000.0)
    assert b["teams"] == [] and b["count"] == 0 and b["over"] is False
    assert all(h["rounds"] == [] for h in b["halls"])


# -- the table, on SQLite and PostgreSQL -------------------------------------------------


@pytest.fixture
def store(db_url: str) -> Iterator[t.Database]:
    db = t.Database(db_url)
    t.upgrade(db)
    yield db
    db.dispose()


def _station(conn: Any, sid: str, hall: str, competition: str | None) -> None:
    beat: dict[str, Any] = {"exhibit": "drug-prevention", "version": "1"}
    if competition:
        beat["competition"] = competition
    conn.execute(t.stations.insert().values(
        id=sid, hall_id=hall, name=sid, profile="p", public_key="k" * 43, enrolled=1.0,
        tags=[], heartbeat=beat, last_seen=time.time()))


def test_a_final_is_checked_stored_and_sent_to_each_halls_hosts(store: t.Database) -> None:
    now = time.time()
    with store.write() as conn:
        north = enrolment.ensure_hall(conn, now, "North")
        south = enrolment.ensure_hall(conn, now, "South")
        empty = enrolment.ensure_hall(conn, now, "Empty")
        _station(conn, "st_n_host", north, "class-quiz")
        _station(conn, "st_n_touch", north, None)
        _station(conn, "st_s_host", south, "class-quiz")
        _station(conn, "st_e_touch", empty, None)

    def refused(**kw: Any) -> str:
        args: dict[str, Any] = {"name": "District final", "competition": "class-quiz",
                                "halls": [north, south], "start": now + 60, "gap": 5.0,
                                "actor": "user:otto"}
        args.update(kw)
        with pytest.raises(ConfigError) as err, store.write() as conn:
            fi.create(conn, now, **args)
        return str(err.value)

    assert refused(halls=[]) == "choose at least one hall"
    assert refused(halls=["atlantis"]) == "there is no hall 'atlantis' on this hub"
    assert refused(start=now - 1) == "the start is in the past; pick a later time"
    assert "no station of these halls hosts a competition 'spelling-bee'" in \
        refused(competition="spelling-bee")
    assert refused(halls=[north, empty]) == ("the hall 'Empty' has no station that hosts "
                                             "'class-quiz'; leave it out or start its host "
                                             "station")
    assert refused(name="  ") == "give the final a name (at most 200 characters)"
    with pytest.raises(ConfigError, match="in the past"):
        fi.parse_start("2020-01-01T10:00", "UTC", now)
    with pytest.raises(ConfigError, match="is not a date and time"):
        fi.parse_start("tomorrow", "UTC", now)
    soon = round(now) + 3600
    text = dt.datetime.fromtimestamp(soon, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    assert fi.parse_start(text, "UTC", now) == soon  # a form's time is in the hub's zone
    assert fi.parse_start(text + "+08:00", "UTC", now - 8 * 3600) == soon - 8 * 3600

    with store.write() as conn:
        fid, sent = fi.create(conn, now, name=" District  final ", competition="class-quiz",
                              halls=[north, south, north], start=now + 60, gap=3.0,
                              actor="user:otto")
    assert sorted(sent) == ["st_n_host", "st_s_host"]  # the hosts only, once each
    with store.read() as conn:
        got = fi.load(conn, fid)
        assert got is not None
        assert (got["name"], got["halls"], got["gap"], got["state"], got["exhibit"]) == \
            ("District final", [north, south], 3.0, "scheduled", "drug-prevention")
        audit_rows = conn.execute(select(t.audit.c.action, t.audit.c.target)
                                  .where(t.audit.c.action == "final.scheduled")).all()
        assert [(a, tg) for a, tg in audit_rows] == [("final.scheduled", str(fid))]
    # the command goes out with the hub's time of its delivery, to map the start
    with store.write() as conn:
        taken = cmds.take(conn, "st_s_host", now + 2.5)
    assert [(c.kind, c.args["final"], c.args["seed"], c.args["start"], c.args["hub_now"])
            for c in taken] == [("final", fid, got["seed"], now + 60, now + 2.5)]

    # events that have arrived: the board reads only this final's, from its halls
    def closed(sid: str, seq: int, n: int, points: int, received: float,
               final: int = fid) -> dict[str, Any]:
        return {"station_id": sid, "id": f"b-s{seq}", "boot": "b", "source": "station",
                "seq": seq, "t": 1.0, "wall": received, "kind": "question_closed",
                "session": None, "scene": None, "received": received,
                "data": {"n": n, "final": final, "board": [row("c1", "Sunrise", points, 1)]}}

    with store.write() as conn:
        conn.execute(t.events.insert(), [
            {**closed("st_n_host", 1, 0, 0, now), "kind": "final_opened", "data": {
                "final": fid, "seconds": 10.0, "gap": 3.0, "count": 2, "start": 5.0}},
            closed("st_n_host", 2, 0, 140, now + 71),  # due now+70: on time
            closed("st_s_host", 2, 0, 130, now + 81),  # late (after now+80)
            closed("st_s_host", 3, 1, 500, now + 84, final=fid + 1),  # another final
        ])
        b = fi.board(conn, got, now + 84)
    assert b["plan"] == {"start": now + 60, "gap": 3.0, "seconds": 10.0, "count": 2}
    assert [(r["hall"], r["points"]) for r in b["teams"]] == [(north, 140), (south, 130)]
    assert [[r["state"] for r in h["rounds"]] for h in b["halls"]] == \
        [["on time", "to come"], ["late", "to come"]]


# -- end to end: a real hub, three real host stations, one cut off for a while -----------

SECONDS = 4  # each question (the demo's 20 s, shortened)
GAP = 2  # between questions: a round every 6 s
COUNT = 3  # questions in the final
KEY = "final-host-key"


def _ws(st: RunningStation, role: str, **hello: Any) -> ClientConnection:
    ws = connect(f"ws://127.0.0.1:{st.port}/competition/ws", open_timeout=10).__enter__()
    ws.send(json.dumps({"type": "hello", "role": role, **hello}))
    return ws


def _next(ws: ClientConnection, kind: str, timeout: float = 10) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        msg = dict(json.loads(ws.recv(timeout=max(0.01, end - time.monotonic()))))
        if msg["type"] == "ping":
            ws.send(json.dumps({"type": "pong", "n": msg["n"]}))
        if msg["type"] == kind:
            return msg


class Players:
    """Two teams at a hall's station, playing from a thread: ``c1`` answers every question
    right 200 ms after its reveal, ``c2`` wrong."""

    def __init__(self, st: RunningStation, right: dict[str, list[str]]) -> None:
        board = _ws(st, "board")
        code = _next(board, "view")["view"]["code"]
        board.close()
        self.right = right
        self.pages: dict[str, ClientConnection] = {}
        for team in ("c1", "c2"):
            ws = _ws(st, "player")
            _next(ws, "welcome")
            ws.send(json.dumps({"type": "join", "code": code, "team": team}))
            _next(ws, "joined")
            self.pages[team] = ws
        self.answered: dict[str, set[int]] = {"c1": set(), "c2": set()}
        self.problems: list[str] = []
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._play, args=(team,), daemon=True)
                        for team in self.pages]
        for th in self.threads:
            th.start()

    def _play(self, team: str) -> None:
        ws = self.pages[team]
        while not self.done.is_set():
            try:
                msg = _next(ws, "view", timeout=1)
            except TimeoutError:
                continue
            except Exception as err:
                self.problems.append(repr(err))
                return
            v = msg["view"]
            if v["phase"] == "ended":
                return
            if v["phase"] != "question" or v["n"] in self.answered[team]:
                continue
            n, q = v["n"], v["question"]
            right = self.right[q["id"]]
            pick = right if team == "c1" else \
                [next(c["id"] for c in q["choices"] if c["id"] not in right)]
            time.sleep(max(0.0, v["at"] - v["now"]) + 0.2)
            ws.send(json.dumps({"type": "answer", "n": n, "choices": pick,
                                "elapsed_ms": 200}))
            self.answered[team].add(n)

    def close(self) -> None:
        self.done.set()
        for th in self.threads:
            th.join(timeout=5)
        for ws in self.pages.values():
            ws.close()


def _exhibit(tmp: Path) -> Path:
    exhibit = tmp / "exhibit"
    shutil.copytree(DEMO, exhibit, ignore=shutil.ignore_patterns("stations"))
    text = (exhibit / "exhibit.yaml").read_text("utf-8")
    assert "    seconds: 20\n" in text and "    questions: 10\n" in text
    (exhibit / "exhibit.yaml").write_text(
        text.replace("    seconds: 20\n", f"    seconds: {SECONDS}\n")
            .replace("    questions: 10\n", f"    questions: {COUNT}\n"), "utf-8")
    return exhibit


def _live(client: httpx.Client, fid: int) -> dict[str, Any]:
    r = client.get(f"/finals/{fid}/live")
    assert r.status_code == 200, r.text
    return dict(r.json()["board"])


def _rounds(board: dict[str, Any]) -> dict[str, list[str]]:
    return {h["hall"]: [r["state"] for r in h["rounds"]] for h in board["halls"]}


def test_a_final_across_three_halls_with_one_cut_off(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hub = start_hub(url, None, "--heartbeat", "1")
    create_user(url, "otto", "operator")
    create_user(url, "vera", "viewer")
    exhibit = _exhibit(tmp_path)
    right = {q.id: sorted(q.right) for q in
             question_bank(load(exhibit).exhibit, competition(load(exhibit).exhibit,
                                                               "class-quiz"))}
    halls = ["Hall A", "Hall B", "Hall C"]  # ids hall-a, hall-b, hall-c
    proxies = [Proxy(hub.port) for _ in halls]
    procs: list[RunningStation] = []
    players: list[Players] = []
    try:
        for i, hall in enumerate(halls):
            profile = tmp_path / f"host{i}.yaml"
            profile.write_text(f"""
station: {{id: host-{i}, name: {hall} host}}
exhibit: {exhibit}
surfaces: [{{id: main, role: kiosk}}]
competition: {{id: class-quiz, lead: 0.5, host_key_env: SF_TEST_HOST_KEY}}
""", "utf-8")
            port = free_port()
            data = tmp_path / f"station{i}"
            proc = spawn("station", profile, "--hub", proxies[i].url, "--enrol",
                         make_code(url, hall=hall), "--port", str(port), "--data", str(data),
                         env={"SF_TEST_HOST_KEY": KEY})
            procs.append(RunningStation(proc, port, data))
        for st in procs:
            st.wait_up("station", 60)
        db = t.Database(url)
        ids = ["hall-a", "hall-b", "hall-c"]

        def hosts_known() -> bool:
            with db.read() as conn:
                return all(fi.hosts(conn, h, "class-quiz") for h in ids)

        until("every host station's heartbeat names its competition", hosts_known, 30)
        players = [Players(st, right) for st in procs]
        host_b = _ws(procs[1], "host", key=KEY)  # hall B's host page: it leaves mid-question
        _next(host_b, "welcome")

        with session(hub.url, "vera") as viewer:
            token = csrf_of(viewer.get("/finals").text)
            r = viewer.post("/finals", data={"csrf": token, "name": "x"})
            assert r.status_code == 403  # a viewer only looks
        with session(hub.url, "otto") as op:
            page = op.get("/finals").text
            assert "Schedule a final" in page and 'value="hall-c"' in page
            token = csrf_of(page)
            form = {"csrf": token, "name": "District final", "competition": "class-quiz",
                    "halls": ids, "gap": str(GAP)}
            r = op.post("/finals", data={**form, "start": "2020-01-01T10:00"})
            assert r.status_code == 400 and "is in the past" in r.text
            r = op.post("/finals", data={**form, "competition": "spelling-bee",
                                         "start": _at(time.time() + 60)})
            assert r.status_code == 400 and "no station of these halls hosts" in r.text
            start = round(time.time()) + 9
            r = op.post("/finals", data={**form, "start": _at(start)})
            assert r.status_code == 303, r.text
            fid = int(r.headers["location"].split("/")[2].split("?")[0])

            def delivered() -> bool:
                with db.read() as conn:
                    rows = conn.execute(select(t.commands.c.state, t.commands.c.result)
                                        .where(t.commands.c.kind == "final")).all()
                return len(rows) >= 3 and sum(s == "done" for s, _ in rows) == 3

            until("the final reached every hall's host", delivered, 8)
            with db.read() as conn:
                host_a = fi.hosts(conn, "hall-a", "class-quiz")[0]["id"]
            with db.write() as conn:  # (as a hub of another exhibit might send)
                wrong = cmds.queue(conn, time.time(), host_a, "final", {
                    "final": fid + 1, "competition": "spelling-bee", "seed": 1,
                    "start": start, "hub_now": time.time()}, "user:test", 60)

            def answer() -> tuple[str, str] | None:
                with db.read() as conn:
                    got = conn.execute(select(t.commands.c.state, t.commands.c.result)
                                       .where(t.commands.c.id == wrong)).one()
                return (str(got[0]), str(got[1])) if got[0] == "failed" else None

            assert until("the wrong final refused", answer, 8) == (
                "failed", "this station hosts the competition 'class-quiz', not 'spelling-bee'")
            proxies[2].cut()  # hall C loses the hub before its first question
            time.sleep(max(0.0, start + 2 - time.time()))
            host_b.close()  # in a final the hall does not pause for it (rounds on time)
            # rounds close at start+4, +10, +16; late after +14, +20, +26
            time.sleep(max(0.0, start + 14.5 - time.time()))
            mid = _live(op, fid)
            assert mid["plan"]["seconds"] == SECONDS and mid["count"] == COUNT
            states = _rounds(mid)
            assert states["hall-a"][:2] == states["hall-b"][:2] == ["on time", "on time"]
            assert states["hall-c"][:2] == ["missing", "to come"]
            assert {r["hall"] for r in mid["teams"]} == {"hall-a", "hall-b"}

            time.sleep(max(0.0, start + 21 - time.time()))
            proxies[2].mend()  # hall C's events arrive now (after the station's backoff)
            end = until("hall C's rounds at the hub",
                        lambda: (b := _live(op, fid))["over"] and
                        all(h["in"] == COUNT for h in b["halls"]) and b, 50)
            html = op.get(f"/finals/{fid}").text
        states = _rounds(end)
        assert states["hall-a"] == states["hall-b"] == ["on time"] * COUNT
        assert states["hall-c"][0] == "late"  # arrived after start+21 > start+14
        for h in end["halls"]:  # every mark agrees with when the round arrived
            for r in h["rounds"]:
                assert r["state"] == ("late" if r["received"] > r["due"] + fi.LATE_AFTER
                                      else "on time"), (h["hall"], r)
        # each hall's rounds reached the hub exactly once
        with db.read() as conn:
            got = conn.execute(select(t.events.c.station_id, t.events.c.data)
                               .where(t.events.c.kind == "question_closed")).all()
        per = sorted((sid, d["n"]) for sid, d in got if d.get("final") == fid)
        assert len(per) == len(set(per)) == 3 * COUNT
        db.dispose()
        # c1 right 200 ms in each time: 100 + round(50 × 3.8/4) = 148, then +10 and +20
        # for its streak: 148 + 158 + 168 = 474; c2 never right. Ties: hall, then team
        assert [(r["rank"], r["hall"], r["team"], r["points"], r["right"], r["rounds"])
                for r in end["teams"]] == [
            (1, "hall-a", "c1", 474, 3, 3), (2, "hall-b", "c1", 474, 3, 3),
            (3, "hall-c", "c1", 474, 3, 3), (4, "hall-a", "c2", 0, 0, 3),
            (5, "hall-b", "c2", 0, 0, 3), (6, "hall-c", "c2", 0, 0, 3)]
        assert "District final" in html and "Combined leaderboard" in html
        for p in players:
            assert p.problems == []
    finally:
        for p in players:
            p.close()
        for st in procs:
            st.stop()
        for px in proxies:
            px.close()
        hub.stop()


def _at(when: float) -> str:
    """A start as the form's field gives it (the hub's zone here is UTC)."""
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


# -- the pages in Chromium -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def test_the_finals_pages_in_chromium_follow_the_board(tmp_path: Path, browser: Browser
                                                        ) -> None:
    """An operator schedules a final with the form; the final's page shows the rounds as
    the halls' events arrive, without a reload; both pages are axe-core clean."""
    url = f"sqlite:///{tmp_path}/hub.sqlite"
    hub = start_hub(url, None)
    try:
        create_user(url, "otto", "operator")
        hosts = []
        for hall in ("North", "South"):
            st = SignedStation(hub.url)
            assert st.enrol(make_code(url, hall=hall), profile="host").status_code == 200
            assert st.heartbeat(competition="class-quiz").status_code == 200
            hosts.append(st)
        page = browser_login(browser, hub.url, "otto", bypass_csp=True)
        page.goto("/finals")
        expect(page.get_by_role("heading", name="Schedule a final")).to_be_visible()
        page.get_by_label("Name").fill("District final")
        page.get_by_label("Competition id").fill("class-quiz")
        page.get_by_label("North", exact=True).check()
        page.get_by_label("South", exact=True).check()
        page.get_by_label("Start (UTC)").fill(_at(time.time() - 60))
        page.get_by_role("button", name="Schedule the final").click()
        expect(page.locator(".error")).to_contain_text("is in the past")
        assert axe(page) == []
        start = time.time() + 5
        page.get_by_label("North", exact=True).check()
        page.get_by_label("South", exact=True).check()
        page.get_by_label("Start (UTC)").fill(_at(start))
        page.get_by_label("Seconds between questions").fill("1")
        page.get_by_role("button", name="Schedule the final").click()
        expect(page.get_by_role("status")).to_contain_text("The final is scheduled")
        fid = int(page.url.split("/finals/")[1].split("?")[0])
        # each host takes its command, as a station does, and reports like one
        for i, st in enumerate(hosts):
            cmd = st.commands().json()["commands"][0]
            assert cmd["kind"] == "final" and cmd["args"]["final"] == fid
            opened = st.events(1, kind="final_opened", source="station")
            opened[0]["data"] = {"final": fid, "name": "District final", "start": 1.0,
                                 "seconds": 3.0, "gap": 1.0, "count": 2}
            closed = st.events(1, kind="question_closed", source="station")
            closed[0]["data"] = {"final": fid, "n": 0, "board": [
                {"team": "c1", "name": f"Team {i}", "points": 140 - 10 * i,
                 "right": 1}]}
            assert st.upload(opened + closed).status_code == 200
        rounds = page.locator('[data-part="rounds"] tr[data-hall="north"] td')
        expect(rounds.first).to_contain_text("on time", timeout=10_000)
        board = page.locator('[data-part="board"] tbody tr')
        expect(board).to_have_count(2)
        expect(board.first).to_contain_text("Team 0")
        expect(board.first.locator('[data-f="points"]')).to_have_text("140")
        # round 2 closes at start + 3 + 1 + 3: missing 10 s after that, on the page
        expect(rounds.nth(1)).to_contain_text("missing", timeout=40_000)
        expect(page.locator('[data-f="final-state"]')).to_contain_text("the final result")
        assert axe(page) == []
        shot = tmp_path / "final.png"
        page.screenshot(path=str(shot), full_page=True)
        keep_for_docs(shot, "hub-final")
    finally:
        hub.stop()
