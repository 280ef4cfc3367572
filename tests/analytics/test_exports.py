"""CSV and Parquet exports of the report tables, with small numbers hidden (k = 5).

Ten visits on Monday 2026-11-02 to hall h1 (Asia/Shanghai, open 09:00-17:00), exhibit
``demo`` 0.1.0 (the quiz of ``showfloor new``: q1 true-false, answer ``true``; q2
single, answer ``check``), each starting at 10:00 + 5 min × (n − 1) local time:

======  =======  =====  ======================  ==========  =========  =====
visit   station  lang   scenes                  q1   q2     ends       dwell
======  =======  =====  ======================  ==========  =========  =====
v1-v3   s1       zh-CN  welcome quiz well_done  ✓    ✓      completed  100 110 120
v4-v5   s1       en     welcome quiz well_done  ✓    ✓      completed  130 140
v6-v7   s1       zh-CN  welcome quiz            ✗    ✗      timeout     45  40
v8      s1       en     welcome quiz            ✗    ✗      timeout     50
v9      s2       en     welcome quiz            ✓    ✗      timeout     60
v10     s2       en     welcome quiz            ✗    ✗      timeout     70
======  =======  =====  ======================  ==========  =========  =====

v10's session id is 32 hex digits (as a station makes them); the others are short.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from conftest import Cli
from showfloor.analytics import exports, metrics
from showfloor.analytics.privacy import Suppressed
from showfloor.hub import db as t
from showfloor.hub import summaries

from ._visits import Boot, local, setup_hall, store

MON = dt.date(2026, 11, 2)
TUE = dt.date(2026, 11, 3)
K = 5
F = metrics.Filter(hall="h1", start=MON, end=TUE)
HIDDEN = Suppressed(K)
V10 = "0123456789abcdef0123456789abcdef"
RIGHT = {"q1": ["true"], "q2": ["check"]}
WRONG = {"q1": ["false"], "q2": ["guess"]}


def visit(b: Boot, session: str, n: int, lang: str, q1: bool, q2: bool, done: bool,
          dwell: float) -> None:
    """One visit as the engine records it (scenes entered and left, answers, the end)."""
    wall = local(2026, 11, 2, 10, 5 * (n - 1))
    b.event("session_started", wall, session=session, scene="welcome", lang=lang)
    scenes = ["welcome", "quiz", "well_done"] if done else ["welcome", "quiz"]
    prev = None
    for i, sc in enumerate(scenes):
        w = wall + 10 * i
        b.event("scene_entered", w, session=session, scene=sc, **{"from": prev})
        if sc == "quiz":
            score = 0
            for pos, (q, right) in enumerate((("q1", q1), ("q2", q2)), 1):
                b.event("answered", w + pos, session=session, scene=sc, question=q,
                        kind="true-false" if q == "q1" else "single",
                        choices=(RIGHT if right else WRONG)[q], correct=right,
                        points=int(right), timed_out=False, position=pos)
                score += int(right)
            b.event("quiz_completed", w + 3, session=session, scene=sc, score=score, max=2,
                    correct=score, count=2, percent=50 * score, passed=score >= 1)
        if i + 1 < len(scenes) or done:
            b.event("scene_exited", w + 5, session=session, scene=sc, dwell=5.0)
        prev = sc
    if done:
        b.event("ending_shown", wall + 25, session=session, scene="well_done", message=0)
    b.event("session_ended", wall + dwell, session=session, scene=scenes[-1],
            reason="completed" if done else "timeout", duration=dwell,
            scenes=len(scenes))


def build(db: t.Database) -> None:
    setup_hall(db, "s1")
    setup_hall(db, "s2")
    b1, b2 = Boot("b1b1b1b1b1b1"), Boot("b2b2b2b2b2b2")
    b1.started(local(2026, 11, 2, 8, 55), version="0.1.0")
    b2.started(local(2026, 11, 2, 8, 56), version="0.1.0")
    for n, (lang, dwell) in enumerate([("zh-CN", 100), ("zh-CN", 110), ("zh-CN", 120),
                                       ("en", 130), ("en", 140)], 1):
        visit(b1, f"v{n}", n, lang, True, True, True, dwell)
    visit(b1, "v6", 6, "zh-CN", False, False, False, 45)
    visit(b1, "v7", 7, "zh-CN", False, False, False, 40)
    visit(b1, "v8", 8, "en", False, False, False, 50)
    visit(b2, "v9", 9, "en", True, False, False, 60)
    visit(b2, V10, 10, "en", False, False, False, 70)
    store(db, "s1", b1.out, time.time())
    store(db, "s2", b2.out, time.time())
    summaries.summarise_all(db)


@pytest.fixture(scope="module")
def hall(module_db_url: str) -> Iterator[t.Database]:
    db = t.Database(module_db_url)
    t.upgrade(db)
    build(db)
    yield db
    db.dispose()


@pytest.fixture(scope="module")
def made(hall: t.Database) -> dict[str, exports.Table]:
    with hall.read() as conn:
        return exports.tables(conn, F, K)


def rows(made: dict[str, exports.Table], name: str) -> list[dict[str, Any]]:
    tbl = made[name]
    return [dict(zip([c.name for c in tbl.columns], r, strict=True)) for r in tbl.rows]


def test_every_table_by_hand(made: dict[str, exports.Table]) -> None:
    assert list(made) == list(exports.NAMES)
    # 10 visits; s1 and s2 open 8 h on each of 2 days: 10 / 32; 5 of 10 reached the end;
    # dwell 40 45 50 60 70 | 100 110 120 130 140: median (70 + 100) / 2
    assert rows(made, "visits") == [{
        "visits": 10, "open_hours": 32.0, "visits_per_open_hour": 10 / 32, "reached_end": 5,
        "end_share": 0.5, "dwell_n": 10, "dwell_median_s": 85.0, "attraction": None}]
    assert rows(made, "visits_by_day") == [{"day": MON, "visits": 10},
                                           {"day": TUE, "visits": 0}]
    assert rows(made, "visits_by_hall") == [{"hall": "h1", "visits": 10}]
    # s2 has 2 (< 5); s1's 8 is hidden too, or 10 − 8 would give s2's 2 away
    assert rows(made, "visits_by_station") == [{"hall": "h1", "station": "s1", "visits": HIDDEN},
                                               {"hall": "h1", "station": "s2", "visits": HIDDEN}]
    surv = {r["after_s"]: r["share_still_engaged"] for r in rows(made, "dwell")}
    # after 60 s: 6 of 10 stay, so 4 left: small, hidden; after 90 s: 5 and 5
    assert (surv[0.0], surv[60.0], surv[90.0], surv[180.0]) == (1.0, HIDDEN, 0.5, 0.0)
    assert rows(made, "funnel") == [
        {"exhibit": "demo", "version": "0.1.0", "scene": s, "entered": e, "left": lft}
        for s, e, lft in (("welcome", 10, 0), ("quiz", 10, 5), ("well_done", 5, 0))]
    q = {r["question"]: r for r in rows(made, "questions")}
    # q1: 6 of 10 right (v1-v5, v9): 4 wrong is small, so right and share are hidden
    assert (q["q1"]["takers"], q["q1"]["correct"], q["q1"]["share_correct"]) == (10, HIDDEN,
                                                                                HIDDEN)
    # q2: 5 of 10; upper three (totals 2: v3 v4 v5) all right, lower three (v6 v7 v8) wrong
    assert (q["q2"]["correct"], q["q2"]["share_correct"], q["q2"]["discrimination"],
            q["q2"]["discrimination_n"]) == (5, 0.5, 1.0, 10)
    assert rows(made, "wrong_answers") == [
        {"exhibit": "demo", "version": "0.1.0", "scene": "quiz", "question": "q1", "rank": 1,
         "choices": "false", "visits": HIDDEN},
        {"exhibit": "demo", "version": "0.1.0", "scene": "quiz", "question": "q2", "rank": 1,
         "choices": "guess", "visits": 5}]
    assert rows(made, "gain") == []  # no pre/post quiz in this exhibit
    assert rows(made, "languages") == [{"lang": "en", "visits": 5}, {"lang": "zh-CN", "visits": 5}]
    heat = rows(made, "heatmap")
    assert len(heat) == 7 * 24
    assert [r for r in heat if r["visits"] != 0] == [
        {"weekday": 1, "weekday_name": "Mon", "hour": 10, "visits": 10}]
    assert rows(made, "attraction") == [{"visits": 10, "passers_by": None, "attraction": None}]
    assert rows(made, "unused") == [
        {"hall": "h1", "station": s, "alive_open_hours": 0, "unused_hours": 0} for s in ("s1", "s2")]


def test_the_tables_are_the_reports_numbers(hall: t.Database,
                                            made: dict[str, exports.Table]) -> None:
    with hall.read() as conn:
        rep = metrics.report(conn, F)
    assert rep["visits"] == rows(made, "visits")[0]["visits"]
    assert rep["dwell"]["median"] == rows(made, "visits")[0]["dwell_median_s"]
    assert rep["languages"] == {
        r["lang"]: r["visits"] for r in rows(made, "languages")}
    assert [(r["scene"], r["entered"], r["left"]) for r in rep["funnel"][("demo", "0.1.0")]] == [
        (r["scene"], r["entered"], r["left"]) for r in rows(made, "funnel")]


def test_csv_and_parquet_round_trip(made: dict[str, exports.Table], tmp_path: Path) -> None:
    for name, tbl in made.items():
        text = exports.csv_bytes(tbl).decode()
        back = list(csv.reader(io.StringIO(text)))
        assert back[0] == [c.name for c in tbl.columns]
        assert back[1:] == [[exports.csv_text(v) for v in r] for r in tbl.rows]
        exports.write_parquet(tbl, tmp_path / f"{name}.parquet")
        got = pq.read_table(tmp_path / f"{name}.parquet").to_pylist()
        assert len(got) == len(tbl.rows)
        for want, row in zip(tbl.rows, got, strict=True):
            for col, v in zip(tbl.columns, want, strict=True):
                if isinstance(v, Suppressed):
                    assert row[col.name] is None
                    assert row[f"{col.name}_suppressed"] is True
                else:
                    assert row[col.name] == v
                    if col.hideable:
                        assert row[f"{col.name}_suppressed"] is False
    stations = list(csv.reader(io.StringIO(exports.csv_bytes(made["visits_by_station"])
                                           .decode())))
    assert stations == [["hall", "station", "visits"], ["h1", "s1", "< 5"], ["h1", "s2", "< 5"]]
    q = {r["question"]: r for r in pq.read_table(tmp_path / "questions.parquet").to_pylist()}
    assert (q["q1"]["share_correct"], q["q1"]["share_correct_suppressed"]) == (None, True)
    assert (q["q2"]["share_correct"], q["q2"]["share_correct_suppressed"]) == (0.5, False)


def test_an_empty_range_is_header_only_files(hall: t.Database, tmp_path: Path) -> None:
    empty = metrics.Filter(start=dt.date(2026, 12, 1), end=dt.date(2026, 12, 31))
    when = dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.UTC)
    with hall.read() as conn:
        m = exports.export(conn, empty, K, {"csv": tmp_path, "parquet": tmp_path},
                           generated_at=when)["csv"]
    assert m["visits"] == 0
    assert m["generated_at"] == "2026-12-04T06:00:00+00:00"
    assert m["filters"]["start"] == "2026-12-01"
    assert {tbl["name"]: tbl["rows"] for tbl in m["tables"]} == dict.fromkeys(exports.NAMES, 0)
    assert (tmp_path / "languages.csv").read_bytes() == b"lang,visits\r\n"
    back = pq.read_table(tmp_path / "visits_by_day.parquet")
    assert back.num_rows == 0
    assert back.column_names == ["day", "visits", "visits_suppressed"]
    assert json.loads((tmp_path / "manifest.json").read_text()) == m
    with hall.read() as conn, pytest.raises(metrics.ReportError, match="below the floor"):
        exports.tables(conn, F, 4)
    assert "Visits: 0" in (tmp_path / "README.txt").read_text()


def test_cli_writes_a_folder_and_refuses_bad_filters(hall: t.Database, tmp_path: Path,
                                                      cli: Cli) -> None:
    if hall.url.get_backend_name() != "sqlite":
        pytest.skip("the command line is tested once, on SQLite")
    url = hall.url.render_as_string(hide_password=False)
    out = tmp_path / "out"
    done = cli("hub", "export", "--db", url, "--parquet", out, "--hall", "h1", "--from",
               "2026-11-02", "--to", "2026-11-03", "--min-cell", "5")
    assert done.returncode == 0, done.stderr
    assert f"wrote {len(exports.NAMES)} tables (parquet, 10 visits)" in done.stdout
    m = json.loads((out / "manifest.json").read_text())
    assert (m["k"], m["visits"], m["filters"]["hall"]) == (5, 10, "h1")
    langs = pq.read_table(out / "languages.parquet").to_pylist()
    assert [(r["lang"], r["visits"]) for r in langs] == [("en", 5), ("zh-CN", 5)]
    bad = cli("hub", "export", "--db", url, "--csv", out, "--from", "2026-11-03", "--to",
              "2026-11-02")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "swap the two dates" in bad.stderr
    with pytest.raises(metrics.ReportError, match="--from '2026-13-01' is not a day"):
        exports.parse_day("2026-13-01", "--from")


def test_the_dashboard_serves_each_table_to_a_viewer(hall: t.Database) -> None:
    import asyncio

    import httpx

    from hub._dashboard_support import PASSWORD, create_user, csrf_of
    from showfloor.hub.app import create_app
    from showfloor.hub.settings import HubSettings

    if hall.url.get_backend_name() != "sqlite":
        pytest.skip("the routes are tested once, on SQLite (the tables on both)")
    url = hall.url.render_as_string(hide_password=False)
    create_user(url, "vera", "viewer")
    app = create_app(HubSettings(db=url, report_min_cell=K))
    query = "?hall=h1&start=2026-11-02&end=2026-11-03"

    async def visit() -> dict[str, httpx.Response]:
        got: dict[str, httpx.Response] = {}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://hub") as c:
            got["anonymous"] = await c.get("/reports/export/languages.csv" + query)
            token = csrf_of((await c.get("/login")).text)
            got["login"] = await c.post("/login", data={
                "csrf": token, "username": "vera", "password": PASSWORD, "next": "/"})
            for key, path in {
                    "csv": "languages.csv" + query,
                    "parquet": "visits_by_station.parquet" + query,
                    "manifest": "manifest.json" + query,
                    "reversed": "languages.csv?start=2026-11-03&end=2026-11-02",
                    "no_table": "nowhere.csv", "no_format": "languages.xlsx",
                    "no_hall": "languages.csv?hall=nowhere"}.items():
                got[key] = await c.get("/reports/export/" + path)
        return got

    try:
        got = asyncio.run(visit())
    finally:
        app.state.hub.db.dispose()
    assert got["anonymous"].status_code == 303  # to the sign-in page
    assert got["login"].status_code == 303
    csv_got = got["csv"]
    assert csv_got.status_code == 200
    assert csv_got.headers["content-type"] == "text/csv; charset=utf-8"
    assert "languages-h1-2026-11-02_2026-11-03.csv" in csv_got.headers["content-disposition"]
    assert csv_got.content == b"lang,visits\r\nen,5\r\nzh-CN,5\r\n"
    assert got["parquet"].status_code == 200
    back = pq.read_table(io.BytesIO(got["parquet"].content)).to_pylist()
    assert [(r["station"], r["visits"], r["visits_suppressed"]) for r in back] == [
        ("s1", None, True), ("s2", None, True)]
    m = got["manifest"].json()
    assert (m["k"], m["visits"]) == (K, 10)
    assert [tbl["name"] for tbl in m["tables"]] == list(exports.NAMES)
    assert got["reversed"].status_code == 400
    assert "swap the two dates" in got["reversed"].text
    assert got["no_table"].status_code == got["no_format"].status_code == 404
    assert got["no_hall"].status_code == 400
    assert "no hall &#39;nowhere&#39;" in got["no_hall"].text
