"""The ask terminal's report section (metrics.asks, privacy._asks), worked out by hand.

Hall h1, station s1, on Nov 2 (stored through the hub's real ingest, summarised):

=========  ===============================================  =========
visits     asked                                            questions
=========  ===============================================  =========
a01-a08    answer "sky"                                     8
a09-a11    answer "sky", answer "moon"                      6
a12        refused, refused                                 2
a13        refused, refused, safety "helpline"              3
=========  ===============================================  =========

19 questions from 13 visits: answer 14 (11 visits), refused 4 (2 visits), safety 1
(1 visit), help 0; entries sky 11 (11 visits), moon 3 (3), helpline 1 (1).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from typing import Any

import pytest

from showfloor.analytics import exports
from showfloor.analytics import metrics as m
from showfloor.analytics import privacy as p
from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store

K = 10
S = p.Suppressed(K)


def _ask(b: Boot, session: str, wall: float, outcome: str, entry: str | None) -> None:
    b.event("asked", wall, session=session, scene="ask", outcome=outcome, entry=entry,
            bucket=None, via="chip", lang="zh-CN")


def _build(db: t.Database) -> None:
    setup_hall(db)
    b = Boot("ask001")
    b.started(local(2026, 11, 2, 8))
    for i in range(1, 14):
        name, w = f"a{i:02d}", local(2026, 11, 2, 9, 2 * i)
        b.event("session_started", w, session=name, scene="ask", lang="zh-CN")
        if i <= 11:
            _ask(b, name, w + 1, "answer", "sky")
        if 9 <= i <= 11:
            _ask(b, name, w + 2, "answer", "moon")
        if i >= 12:
            _ask(b, name, w + 1, "refused", None)
            _ask(b, name, w + 2, "refused", None)
        if i == 13:
            _ask(b, name, w + 3, "safety", "helpline")
        b.event("session_ended", w + 60, session=name, scene="ask", reason="timeout",
                duration=60.0, scenes=1)
    store(db, "s1", b.out, time.time())
    summaries.summarise_all(db)


def _row(part: str, outcome: str, entry: str, q: Any, n: Any, share: Any) -> dict[str, Any]:
    return {"part": part, "outcome": outcome, "entry": entry, "questions": q,
            "visits": n, "share": share}


def test_the_ask_section_by_hand_and_hidden(db_url: str) -> None:
    db = t.Database(db_url)
    try:
        t.upgrade(db)
        _build(db)
        with db.read() as conn:
            got = m.asks(conn, m.Filter(hall="h1"))
            by_station = m.asks(conn, m.Filter(station="s1"))
            report = m.report(conn, m.Filter(hall="h1"))
            none = m.asks(conn, m.Filter(hall="h1", start=dt.date(2026, 11, 3),
                                         end=dt.date(2026, 11, 3)))
    finally:
        db.dispose()
    want = [_row("all", "", "", 19, 13, 1.0),
            _row("outcome", "answer", "", 14, 11, 14 / 19),
            _row("outcome", "refused", "", 4, 2, 4 / 19),  # share refused: 4 of 19
            _row("outcome", "safety", "", 1, 1, 1 / 19),
            _row("outcome", "help", "", 0, 0, 0.0),
            _row("entry", "answer", "sky", 11, 11, 11 / 19),
            _row("entry", "answer", "moon", 3, 3, 3 / 19),
            _row("entry", "safety", "helpline", 1, 1, 1 / 19)]
    assert got == want
    assert by_station == want  # one station: read from its summaries, the same sums
    assert report["sections"]["ask"] == want
    assert none == []  # no question asked on Nov 3
    # k = 10: refused (2 visits) and safety (1) are hidden, and as neither has 10
    # visits, answer too (19 − the visible outcomes must not give them back); moon's 3
    # visits take sky with it; helpline goes with safety. Help's 0 is shown.
    shown = p.suppress_report({"visits": 13, "sections": {"ask": got}}, K)
    assert shown["sections"]["ask"] == [
        _row("all", "", "", 19, 13, 1.0),
        _row("outcome", "answer", "", S, S, S),
        _row("outcome", "refused", "", S, S, S),
        _row("outcome", "safety", "", S, S, S),
        _row("outcome", "help", "", 0, 0, 0.0),
        _row("entry", "answer", "sky", S, S, S),
        _row("entry", "answer", "moon", S, S, S),
        _row("entry", "safety", "helpline", S, S, S)]


def test_ask_outcomes_hide_together_until_one_has_k_visits() -> None:
    # 55 questions of 40 visits: answer 40 (30 visits), refused 12 (10), safety 3 (2),
    # help 0. Safety alone would be 55 − 40 − 12 = 3: refused (the fewest visible
    # visits) goes with it, and 10 ≥ k visits are among the hidden. Answer's entries
    # (sky 25 / 20 visits, moon 15 / 12) are both k or more: shown
    rows = [_row("all", "", "", 55, 40, 1.0), _row("outcome", "answer", "", 40, 30, 40 / 55),
            _row("outcome", "refused", "", 12, 10, 12 / 55),
            _row("outcome", "safety", "", 3, 2, 3 / 55), _row("outcome", "help", "", 0, 0, 0.0),
            _row("entry", "answer", "sky", 25, 20, 25 / 55),
            _row("entry", "answer", "moon", 15, 12, 15 / 55),
            _row("entry", "safety", "call", 3, 2, 3 / 55)]
    got = p.suppress_report({"visits": 60, "sections": {"ask": rows}}, K)["sections"]["ask"]
    assert got == [rows[0], rows[1], _row("outcome", "refused", "", S, S, S),
                   _row("outcome", "safety", "", S, S, S), rows[4], rows[5], rows[6],
                   _row("entry", "safety", "call", S, S, S)]
    # fewer than k visits asked anything: the whole section is hidden
    small = p.suppress_report({"visits": 60, "sections": {"ask": [
        _row("all", "", "", 12, 6, 1.0), _row("outcome", "help", "", 0, 0, 0.0)]}}, K)
    assert small["sections"]["ask"] == [_row("all", "", "", S, S, S),
                                        _row("outcome", "help", "", S, S, S)]
    assert p.suppress_report({"visits": 0, "sections": {"ask": []}}, K)["sections"] == {
        "ask": []}


@pytest.mark.parametrize("k", [5, 10])
def test_no_outcome_is_the_total_minus_the_shown_ones(k: int) -> None:
    rng = random.Random(k)
    for _ in range(300):
        visits = {o: rng.choice([0, 1, 2, 4, 7, 9, 10, 12, 30]) for o in m.ASK_OUTCOMES}
        rows = [_row("all", "", "", 0, sum(visits.values()), 1.0)] + [
            _row("outcome", o, "", 2 * n, n, 0.0) for o, n in visits.items()]
        got = p.suppress_report({"visits": 100, "sections": {"ask": rows}}, k)
        hid = [r for r, g in zip(rows[1:], got["sections"]["ask"][1:], strict=True)
               if p.is_suppressed(g["visits"])]
        shown = [r for r, g in zip(rows[1:], got["sections"]["ask"][1:], strict=True)
                 if not p.is_suppressed(g["visits"]) and r["visits"]]
        if hid and not p.is_suppressed(got["sections"]["ask"][0]["visits"]):
            # two or more hidden, with k visits among them — or every visit asking is
            # among them (the total, shown, is at least k visits)
            assert len(hid) >= 2
            assert max(int(r["visits"]) for r in hid) >= k or not shown


def test_the_ask_table_is_exported_hidden_as_on_the_page(db_url: str) -> None:
    db = t.Database(db_url)
    try:
        t.upgrade(db)
        _build(db)
        with db.read() as conn:
            made = exports.tables(conn, m.Filter(hall="h1"), K, ["asks"])
    finally:
        db.dispose()
    tbl = made["asks"]
    assert [c.name for c in tbl.columns] == ["part", "outcome", "entry", "questions",
                                             "visits", "share"]
    # as in the report above, k = 10: only all questions and help's 0 are shown
    assert tbl.rows == [
        ("all", "", "", 19, 13, 1.0), ("outcome", "answer", "", S, S, S),
        ("outcome", "refused", "", S, S, S), ("outcome", "safety", "", S, S, S),
        ("outcome", "help", "", 0, 0, 0.0), ("entry", "answer", "sky", S, S, S),
        ("entry", "answer", "moon", S, S, S), ("entry", "safety", "helpline", S, S, S)]
    assert exports.csv_bytes(tbl).decode().splitlines()[:3] == [
        "part,outcome,entry,questions,visits,share", "all,,,19,13,1.0",
        "outcome,answer,,< 10,< 10,< 10"]
