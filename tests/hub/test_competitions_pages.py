"""The competitions pages (``/competitions``, ``/competitions/{station}/{boot}/{seq}``) on
a real hub process (SQLite), a signed-in viewer, httpx.

The competitions are tests/analytics/_competitions.py's (hall h1 "Hall one", station
s9): A on Nov 2 at 10:00 (12 teams, 2 questions asked — one skipped — won by "Class
t1"), B on Nov 3 at 14:00 (4 teams, 1 question, won by "Class u1") and C on Nov 3 at
16:00 (2 teams, 1 question, not over). Hall h2 has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from analytics._competitions import build
from conftest import keep_for_docs
from e2e._browser import axe, launch
from showfloor.hub import db as t
from showfloor.hub import enrolment

from ._dashboard_support import browser_login, create_user, session
from ._support import RunningHub, start_hub


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    url = f"sqlite:///{tmp_path_factory.mktemp('competitions')}/hub.sqlite"
    db = t.Database(url)
    try:
        t.upgrade(db)
        build(db)
        with db.write() as conn:
            enrolment.ensure_hall(conn, 0.0, "Hall two", hall_id="h2", timezone="UTC")
    finally:
        db.dispose()
    create_user(url, "vic", "viewer")
    running = start_hub(url)
    try:
        yield running
    finally:
        running.stop()


def _rows(html: str, table: str) -> list[list[str]]:
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in
             re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)]


def test_the_list_per_hall_with_winners(hub: RunningHub) -> None:
    with session(hub.url, "vic") as client:
        every = client.get("/competitions")
        h1 = client.get("/competitions?hall=h1")
        h2 = client.get("/competitions?hall=h2")
    assert every.status_code == h1.status_code == h2.status_code == 200
    rows = _rows(every.text, "competitions")
    assert rows[0] == ["Hall", "Station", "Competition", "When", "Questions", "Teams",
                       "Winner"]
    # newest first: C (not over), B, A; questions asked (A's skipped one is not)
    assert [[r[0], r[1], r[2], r[4], r[5], r[6]] for r in rows[1:]] == [
        ["Hall one", "s9", "class-quiz", "1", "2", "not over"],
        ["Hall one", "s9", "class-quiz", "1", "4", "Class u1"],
        ["Hall one", "s9", "class-quiz", "2", "12", "Class t1"]]
    assert _rows(h1.text, "competitions") == rows
    assert 'id="competitions"' not in h2.text and "No competition here yet" in h2.text
    assert 'aria-current="page">Competitions<' in every.text


def test_each_row_links_to_its_board(hub: RunningHub) -> None:
    db = t.Database(hub.db)
    try:
        with db.read() as conn:
            c = t.competition_results.c
            seq = conn.execute(select(c.seq).where(c.teams == 12)).scalar_one()
    finally:
        db.dispose()
    link = f"/competitions/s9/cmp001/{seq}"
    with session(hub.url, "vic") as client:
        listing = client.get("/competitions").text
        board = client.get(link)
    assert f'href="{link}"' in listing
    assert board.status_code == 200
    rows = _rows(board.text, "board")
    assert rows[0] == ["Rank", "Team", "Points", "Right answers"]
    # t1 and t2 were right twice (q1, q3), t3 … t9 once, t10 … t12 never
    assert rows[1:4] == [["1", "Class t1", "200", "2"], ["2", "Class t2", "200", "2"],
                         ["3", "Class t3", "100", "1"]]
    assert rows[-1] == ["12", "Class t12", "0", "0"]
    assert len(rows) == 1 + 12


def test_bad_addresses_are_a_sentence(hub: RunningHub) -> None:
    with session(hub.url, "vic") as client:
        hall = client.get("/competitions?hall=nowhere")
        cursor = client.get("/competitions?before=soon")
        missing = client.get("/competitions/s9/cmp001/999999")
        word = client.get("/competitions/s9/cmp001/first")
    assert hall.status_code == 400 and "There is no hall &#39;nowhere&#39;" in hall.text
    assert cursor.status_code == 400 and "start again from the newest" in cursor.text
    assert missing.status_code == word.status_code == 404
    assert "has no competition" in missing.text


def test_a_page_older_than_the_newest(hub: RunningHub) -> None:
    db = t.Database(hub.db)
    try:
        with db.read() as conn:
            c = t.competition_results.c
            b_started = conn.execute(select(c.started).where(c.teams == 4)).scalar_one()
    finally:
        db.dispose()
    with session(hub.url, "vic") as client:
        older = client.get(f"/competitions?before={b_started!r}&hall=h1")
    assert older.status_code == 200
    assert [r[5] for r in _rows(older.text, "competitions")[1:]] == ["12"]  # only A
    assert "← Newest" in older.text


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


def test_both_pages_pass_axe_in_chromium(hub: RunningHub, browser: Browser,
                                        tmp_path: Path) -> None:
    page = browser_login(browser, hub.url, "vic")
    page.goto("/competitions?hall=h1")
    assert page.locator("#competitions tbody tr").count() == 3
    assert axe(page) == []
    shot = tmp_path / "competitions.png"
    page.screenshot(path=str(shot), full_page=True)
    keep_for_docs(shot, "hub-competitions")
    page.get_by_role("link", name="class-quiz").last.click()  # A, the oldest
    page.wait_for_selector("#board")
    assert page.locator("#board tbody tr").count() == 12
    assert axe(page) == []
