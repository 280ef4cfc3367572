"""A whole knowledge competition in Chromium (docs/competition.md): the demo's competition
station (examples/drug-prevention/stations/competition.yaml), a host page, a board page
with its buzzer box (the keys the profile maps, typed on the board's keyboard) and three
player pages at tablet size. Players join with the code the board shows (a wrong code
first: the sentence); the host adds and removes a team (a blocked name: the sentence),
begins; three questions, some answered right and some wrong; a player page reloads in
the middle of a question and shows the time that is left; the buzzer answers twice
(refused); the host ends during the third question; the board's ranking and points are
those worked out here from docs/competition.md's scoring and the station's own record
of each answer's time; the podium. axe-core on the host, player and board pages, and the
screenshots in docs/screenshots/ (with SHOWFLOOR_UPDATE_SCREENSHOTS=1).

The exhibit is the demo's, with 12 s a question instead of 20 (the test's time).
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Browser, Page

from conftest import UPDATE_SCREENSHOTS, keep_for_docs
from showfloor.competition.engine import CQuestion, competition, question_bank
from showfloor.content.load import load
from station._support import DEMO, RunningStation, start_station

from ._browser import axe, is_csp_violation, settle

SECONDS = 12
KEY = "test-host-key-3141"
KEY_ENV = "SHOWFLOOR_TEST_COMPETITION_KEY"
#: the demo's scoring (exhibit.yaml, competitions: class-quiz)
CORRECT, SPEED_BONUS, STREAK = 100, 50, 10
PLAYER = {"width": 480, "height": 320}
HOST = {"width": 1024, "height": 640}
BOARD = {"width": 1280, "height": 720}


@pytest.fixture(scope="module")
def exhibit_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo exhibit with shorter questions, and its competition profile pointing at it
    (with the host key from the environment: the test knows it)."""
    tmp = tmp_path_factory.mktemp("competition")
    ex = tmp / "exhibit"
    shutil.copytree(DEMO, ex, ignore=shutil.ignore_patterns("stations"))
    text = (ex / "exhibit.yaml").read_text("utf-8")
    assert text.count("seconds: 20") == 1
    (ex / "exhibit.yaml").write_text(text.replace("seconds: 20", f"seconds: {SECONDS}"), "utf-8")
    profile = yaml.safe_load((DEMO / "stations" / "competition.yaml").read_text("utf-8"))
    profile["exhibit"] = str(ex)
    profile["competition"]["host_key_env"] = KEY_ENV
    path = tmp / "competition.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True), "utf-8")
    return path


@pytest.fixture(scope="module")
def station(exhibit_copy: Path, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[RunningStation]:
    st = start_station(exhibit_copy, data=tmp_path_factory.mktemp("cdata") / "data",
                       env={KEY_ENV: KEY})
    yield st
    st.stop()


@pytest.fixture(scope="module")
def bank(exhibit_copy: Path) -> dict[str, CQuestion]:
    loaded = load(exhibit_copy.parent / "exhibit")
    assert loaded.exhibit is not None
    return {q.id: q for q in question_bank(loaded.exhibit, competition(loaded.exhibit,
                                                                       "class-quiz"))}


# ---------------------------------------------------------------- helpers


def open_page(browser: Browser, url: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport, reduced_motion="reduce")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if is_csp_violation(m.text) else None)
    page.js_errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    return page


def ready(page: Page) -> None:
    page.wait_for_function("window.competition && window.competition.connected && "
                           "!!window.competition.view", timeout=20000)


def cview(page: Page) -> dict[str, Any]:
    return dict(page.evaluate("window.competition.view"))


def wait_view(page: Page, test: str, timeout: float = 20000) -> dict[str, Any]:
    """Until ``test`` (an expression of ``v``, the page's last view) holds."""
    page.wait_for_function(f"(() => {{ const v = window.competition.view; return !!v && ({test}); }})()",
                           timeout=timeout)
    return cview(page)


def revealed(page: Page, n: int) -> dict[str, Any]:
    """Until question ``n`` shows on this page (its own clock read the reveal moment)."""
    wait_view(page, f"v.phase === 'question' && v.n === {n}")
    page.wait_for_function("window.competition.countdown.revealed", timeout=10000)
    return cview(page)


def closed(page: Page, n: int) -> dict[str, Any]:
    return wait_view(page, f"v.phase === 'between' && v.result && v.result.n === {n}",
                     timeout=(SECONDS + 10) * 1000)


def answer(page: Page, q: CQuestion, right: bool) -> tuple[str, ...]:
    """Touch the answer (every right choice then Send, for a multiple-choice question)."""
    ids = [c for c, _ in q.choices]
    picks = sorted(q.right, key=ids.index) if right else [next(c for c in ids if c not in q.right)]
    for c in picks:
        page.locator(f".answer[data-choice='{c}']").click()
    if q.kind == "multiple":
        page.locator("[data-action='send']").click()
    page.locator(".sent", has_text=SENT[lang_of(page)]).wait_for(timeout=5000)
    return tuple(picks)


SENT = {"zh-CN": "答案已提交", "en": "Answer sent"}


def lang_of(page: Page) -> str:
    return str(page.evaluate("document.documentElement.lang"))


def seconds_shown(page: Page) -> int:
    text = page.locator(".q__secs").inner_text()
    return int("".join(ch for ch in text if ch.isdigit()))


def no_violations(page: Page, screen: str) -> None:
    found = axe(page)
    assert found == [], f"{screen}: axe-core found accessibility violations: {found}"


def shot(page: Page, tmp: Path, name: str) -> None:
    """docs/screenshots/NAME.png, with SHOWFLOOR_UPDATE_SCREENSHOTS=1 (else nothing: time)."""
    if not UPDATE_SCREENSHOTS:
        return
    settle(page)
    out = tmp / f"{name}.png"
    page.screenshot(path=str(out))
    keep_for_docs(out, name)


def bonus_points(elapsed_ms: int, run: int) -> int:
    """docs/competition.md: correct + round(speed_bonus × time left / seconds), half up,
    + streak × (right answers in a row − 1)."""
    limit = SECONDS * 1000
    left = max(0, limit - min(max(elapsed_ms, 0), limit))
    bonus = math.floor(SPEED_BONUS * left / limit + 0.5)
    return CORRECT + bonus + STREAK * (run - 1)


def taken(data: Path) -> list[dict[str, Any]]:
    """The station's record of the answers it took (elapsed_ms after its checks)."""
    with sqlite3.connect(data / "events.sqlite") as db:
        rows = db.execute("SELECT data FROM events WHERE kind = 'answer_taken' "
                          "ORDER BY wall, seq").fetchall()
    return [json.loads(r[0]) for r in rows]


# ---------------------------------------------------------------- the test


def test_a_whole_competition(browser: Browser, station: RunningStation,
                             bank: dict[str, CQuestion], tmp_path: Path) -> None:
    base = station.url
    # a page without the key is for staff only
    stranger = open_page(browser, f"{base}/competition/host?key=wrong", PLAYER)
    stranger.locator("h1", has_text="这个页面只供工作人员使用").wait_for(timeout=15000)
    assert stranger.locator("button").count() == 0
    stranger.context.close()

    host = open_page(browser, f"{base}/competition/host?key={KEY}", HOST)
    board = open_page(browser, f"{base}/competition/board", BOARD)
    players = [open_page(browser, f"{base}/competition/play", PLAYER),
               open_page(browser, f"{base}/competition/play?lang=en", PLAYER),
               open_page(browser, f"{base}/competition/play", PLAYER)]
    for p in (host, board, *players):
        ready(p)
    buzzers = board.evaluate("window.competition.welcome.buzzers")
    assert [b["key"] for b in buzzers] == ["1", "2", "3", "4"]  # stations/competition.yaml
    box = buzzers[0]["team"]

    # the host: a blocked team name gets the sentence; a good one is added, then removed
    host.locator("#team-name").fill("毒品队")
    host.locator("button[data-action='add_team']").click()
    host.locator(".error", has_text="这个队名不能使用，请换一个").wait_for()
    host.locator("#team-name").fill("火箭队")
    host.locator("button[data-action='add_team']").click()
    item = host.locator(".team-item", has_text="火箭队")
    item.wait_for()
    item.get_by_role("button", name="移除 火箭队").click()
    item.wait_for(state="detached")
    no_violations(host, "host lobby")

    # the board shows the join code; a wrong code gets the sentence, the right one joins
    code = board.locator(".lobby__code").inner_text().strip()
    assert code == cview(board)["code"] and code.isdigit()
    assert board.locator("img.lobby__qr").evaluate("img => img.complete && img.naturalWidth > 0")
    wrong = "0000" if code != "0000" else "1111"
    p0 = players[0]
    for d in wrong:
        p0.locator(f"button[data-digit='{d}']").click()
    first_open = cview(p0)["open"][0]["team"]
    p0.locator(f"button[data-team='{first_open}']").click()
    p0.locator(".error", has_text="加入码不对，请看大屏幕").wait_for()
    no_violations(p0, "player: join")
    p0.locator("button[data-key='clear']").click()
    teams = []
    for p in players:
        for d in code:
            p.locator(f"button[data-digit='{d}']").click()
        team = cview(p)["open"][0]["team"]
        p.locator(f"button[data-team='{team}']").click()
        wait_view(p, f"v.you === {json.dumps(team)}")
        teams.append(team)
    assert p0.locator(".error").inner_text() == ""
    assert p0.evaluate("Object.keys(sessionStorage)") == ["showfloor-competition-token"]
    assert p0.evaluate("localStorage.length") == 0
    wait_view(board, "v.teams.length === 4")
    assert board.locator(".lobby .chip").count() == 4

    host.locator("button[data-action='begin']").click()
    wait_view(host, "v.phase === 'between'")
    no_violations(players[1], "player: waiting")

    def question(n: int) -> CQuestion:
        host.locator("button[data-action='next']").click()
        v = revealed(board, n)
        return bank[v["question"]["id"]]

    # Q1: the first two teams right, the third wrong, the buzzer box wrong
    q = question(0)
    for p in players:
        revealed(p, 0)
    shot(board, tmp_path, "competition-board-zh")
    shot(players[0], tmp_path, "competition-player-zh")
    shot(players[1], tmp_path, "competition-player-en")
    shot(host, tmp_path, "competition-host-zh")
    picked = [*answer(players[0], q, right=True), *answer(players[1], q, right=True),
              *answer(players[2], q, right=False)]
    ids = [c for c, _ in q.choices]
    wrong_i = next(i for i, c in enumerate(ids[:4]) if c not in q.right)
    picked.append(ids[wrong_i])
    board.keyboard.press(buzzers[wrong_i]["key"])
    wait_view(board, "v.answered.length === 4")
    # answered: the buttons are locked; the box again: "this team has already answered"
    assert players[0].locator(".answer").first.is_disabled()
    board.keyboard.press(buzzers[wrong_i]["key"])
    board.locator(".toast", has_text="你们队已经作答了").wait_for()
    host.locator(".live", has_text="已作答 4 / 4").wait_for()
    r = closed(board, 0)["result"]
    assert sorted(r["correct"]) == sorted(teams[:2])
    players[0].locator("[data-verdict='you_right']").wait_for()
    players[2].locator("[data-verdict='you_wrong']").wait_for()
    # the board: the distribution with the right answer marked
    right_rows = board.locator(".dist-row.is-right")
    assert right_rows.count() == len(q.right)
    shown_counts = board.locator(".dist-row").evaluate_all(
        "rows => rows.map(r => [r.dataset.choice, r.querySelector('.dist-row__n').textContent])")
    assert {c: int(n.split()[0]) for c, n in shown_counts} == \
        {c: picked.count(c) for c in ids}  # teams that picked each choice

    # the host and the board in English for the next question (the board: ?lang=en)
    host.locator(".lang-btn").click()
    host.locator("button[data-action='next']", has_text="Next question").wait_for()
    board.goto(f"{base}/competition/board?lang=en")
    ready(board)

    # Q2: the first team right; the second wrong; the third reloads, then answers right;
    # the box right when one of its keys can be (a one-choice question)
    q = question(1)
    shown_at = time.monotonic()
    answer(players[0], q, right=True)
    answer(players[1], q, right=False)
    p2 = players[2]
    p2.wait_for_timeout(1500)
    # the page draws its countdown after it reloads: by then at least this long has gone
    # since the reveal (the board showed it no earlier than the station's moment)
    since = time.monotonic() - shown_at
    p2.reload()
    ready(p2)
    wait_view(p2, f"v.phase === 'question' && v.n === 1 && v.you === {json.dumps(teams[2])}")
    p2.wait_for_function("window.competition.countdown.revealed")
    p2.locator(".q__secs").wait_for()
    p2.wait_for_timeout(100)
    shown = seconds_shown(p2)
    assert shown <= math.ceil(SECONDS - since + 0.05), (shown, since)  # 50 ms: clock error
    assert shown < SECONDS  # not a countdown started afresh
    answer(p2, q, right=True)
    ids = [c for c, _ in q.choices]
    box_right = len(q.right) == 1 and ids.index(next(iter(q.right))) < len(buzzers)
    pick = ids.index(next(iter(q.right))) if box_right else \
        next(i for i, c in enumerate(ids[:4]) if c not in q.right)
    board.keyboard.press(buzzers[pick]["key"])
    wait_view(board, "v.answered.length === 4")
    no_violations(board, "board: question")
    shot(board, tmp_path, "competition-board-en")
    shot(host, tmp_path, "competition-host-en")
    closed(board, 1)
    board.locator(".dist").wait_for()  # the answers' distribution, for 5 s
    no_violations(board, "board: distribution")
    players[1].locator("[data-verdict='you_wrong']").wait_for()

    # Q3: the first team right, then the host ends the competition (it closes Q3 first)
    q = question(2)
    answer(players[0], q, right=True)
    no_violations(players[0], "player: answered")
    no_violations(host, "host: question")
    host.locator("button[data-action='end']").click()
    v = wait_view(board, "v.phase === 'ended'")
    board.locator(".podium").wait_for()

    # the board, worked out by hand from the station's record of each answer
    answers = taken(station.data)
    assert [(a["team"], a["n"]) for a in answers if a["team"] == teams[0]] == \
        [(teams[0], 0), (teams[0], 1), (teams[0], 2)]
    want_right = {teams[0]: 3, teams[1]: 1, teams[2]: 1, box: 1 if box_right else 0}
    got_right = {t: sum(1 for a in answers if a["team"] == t and a["correct"]) for t in want_right}
    assert got_right == want_right
    points = dict.fromkeys(want_right, 0)
    time_ms = dict.fromkeys(want_right, 0)
    for t in want_right:
        run = 0
        for n in range(3):
            a = next((a for a in answers if a["team"] == t and a["n"] == n), None)
            if a is None or not a["correct"]:
                run = 0
                continue
            run += 1
            points[t] += bonus_points(a["elapsed_ms"], run)
            time_ms[t] += a["elapsed_ms"]
    # ties: more points, more right answers, less time on the right answers, joined first
    joined = [box, *teams]
    order = sorted(want_right, key=lambda t: (-points[t], -want_right[t], time_ms[t],
                                              joined.index(t)))
    assert order[0] == teams[0]
    assert points[teams[0]] >= 3 * CORRECT + STREAK + 2 * STREAK  # the streak counted
    assert [(s["team"], s["points"], s["right"]) for s in v["board"]] == \
        [(t, points[t], want_right[t]) for t in order]
    # ... and the page draws it: the podium 2nd, 1st, 3rd from the left, then the rest
    names = {s["team"]: s["label"]["en"] for s in v["board"]}
    assert board.locator(".podium__name").all_inner_texts() == \
        [names[order[1]], names[order[0]], names[order[2]]]
    assert board.locator(".rest .rank-row__name").all_inner_texts() == [names[order[3]]]
    assert board.locator(".podium__points").all_inner_texts()[1] == f"{points[order[0]]} points"
    players[0].locator("[data-place='1']").wait_for()
    no_violations(board, "board: podium")
    for p in (host, board, *players):
        assert p.js_errors == [], p.js_errors  # type: ignore[attr-defined]
        p.context.close()


def test_the_pages_clock_estimate_is_the_reference_one(browser: Browser,
                                                       station: RunningStation) -> None:
    """common.js's ClockSync gives the offset and trusted exchanges that
    showfloor.competition.clocksync gives for the same exchanges (docs/competition.md says
    they are the same: the bench measures the Python one)."""
    import random

    from showfloor.competition.clocksync import ClockSync

    rng = random.Random(7)
    skew, base = 123.456, 0.120
    stamps = []
    for k in range(40):  # more than the 32 kept: the oldest go
        up, down = base + rng.expovariate(100), base + rng.expovariate(100)
        if k == 35:
            up += 0.5  # held up in a queue: never averaged in
        t1 = 1000.0 + k * 0.5 + up
        stamps.append((1000.0 + k * 0.5 + skew, t1, t1 + 0.0004, t1 + 0.0004 + down + skew))
    ref = ClockSync(keep=32)
    for s in stamps:
        ref.add(*s)
    page = open_page(browser, f"{station.url}/competition/board?lang=en", BOARD)
    try:
        got = page.evaluate("""async (stamps) => {
            const m = await import("/renderer/competition/common.js");
            const sync = new m.ClockSync();
            for (const s of stamps) sync.add(...s);
            return {offset: sync.offset, delays: sync.trusted().map((s) => s.delay)};
        }""", stamps)
    finally:
        page.context.close()
    assert [round(d, 9) for d in got["delays"]] == [round(s.delay, 9) for s in ref.trusted()]
    assert 2 <= len(got["delays"]) <= 4 and max(got["delays"]) < 0.3  # not the queued one
    assert abs(got["offset"] - ref.offset) < 1e-9
    assert abs(ref.offset + skew) < 0.01
