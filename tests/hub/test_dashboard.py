"""The dashboard, driven the way an operator drives it: a real hub process, real stations
speaking the signed protocol, Debian's Chromium for the pages (and httpx where a browser
would not do what an attacker does)."""

from __future__ import annotations

import datetime as dt
import html
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import argon2
import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, insert, select, update

from conftest import keep_for_docs
from e2e._browser import axe, launch
from showfloor.hub import auth, enrolment
from showfloor.hub import commands as cmds
from showfloor.hub import db as t
from showfloor.hub.dashboard import display, forms, limits

from ._dashboard_support import (
    PASSWORD,
    PHONE,
    Beating,
    browser_login,
    create_admin_cli,
    create_user,
    csrf_of,
    login,
    open_page,
    session,
    sql,
    try_login,
)
from ._support import RunningHub, SignedStation, make_code, start_hub

QUICK = {"SHOWFLOOR_HUB_OFFLINE_AFTER": "3", "SHOWFLOOR_HUB_ONLINE_WITHIN": "1.5"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture(scope="module")
def hub(module_db_url: str) -> Iterator[RunningHub]:
    """One hub per backend for the module (quick thresholds): an admin, an operator, a viewer."""
    db = module_db_url
    running = start_hub(db, env=QUICK)
    try:
        create_admin_cli(db, "ada")
        create_user(db, "otto", "operator")
        create_user(db, "vera", "viewer")
        yield running
    finally:
        running.stop()


_names = iter(range(1, 10_000))


@pytest.fixture
def station(hub: RunningHub) -> Iterator[SignedStation]:
    """A freshly enrolled station in 'Test hall' (id test-hall)."""
    st = SignedStation(hub.url)
    r = st.enrol(make_code(hub.db, name=f"Station {next(_names)}"))
    assert r.status_code == 200, r.text
    yield st
    st.client.close()


def row(page: Page, station: SignedStation) -> Any:
    return page.locator(f'tr[data-station="{station.station}"]')


def cell(page: Page, station: SignedStation, field: str) -> Any:
    return row(page, station).locator(f'[data-f="{field}"]')


def midnight_utc() -> float:
    now = dt.datetime.now(dt.UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


# -- signing in ----------------------------------------------------------------------------


def test_pages_need_a_session_and_carry_security_headers(hub: RunningHub) -> None:
    with httpx.Client(base_url=hub.url, timeout=10) as anon:
        r = anon.get("/stations/st_x?tab=1")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=/stations/st_x%3Ftab%3D1"
        assert anon.get("/").headers["location"] == "/login?next=/"
        api = anon.get("/dashboard/api/fleet")
        assert api.status_code == 401
        assert "sign in" in api.json()["detail"]
        page = anon.get("/login")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == \
        "default-src 'self'; frame-ancestors 'none'"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "max-age=43200" in cookie
    # the station API is not the dashboard's: no session cookie, no CSP there
    health = httpx.get(f"{hub.url}/healthz", timeout=10)
    assert "set-cookie" not in health.headers
    assert "content-security-policy" not in health.headers
    paths = httpx.get(f"{hub.url}/openapi.json", timeout=10).json()["paths"]
    assert "/dashboard/api/fleet" in paths
    assert not {"/", "/login", "/logout", "/codes", "/audit", "/users"} & set(paths)
    assert not [p for p in paths if p.startswith(("/stations", "/halls"))]


def test_login_works_and_a_wrong_password_fails(hub: RunningHub, browser: Browser,
                                                station: SignedStation) -> None:
    page = open_page(browser, hub.url)
    page.goto(f"/stations/{station.station}")
    expect(page).to_have_url(f"{hub.url}/login?next=/stations/{station.station}")
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("user name or the password is not right")
    expect(page).to_have_url(f"{hub.url}/login")

    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{hub.url}/stations/{station.station}")  # `next` honoured
    expect(page.get_by_role("heading", level=1)).to_contain_text("Station")
    assert page.errors == []  # type: ignore[attr-defined]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{hub.url}/login")
    page.goto("/")
    expect(page).to_have_url(f"{hub.url}/login?next=/")
    page.context.close()


def test_logins_are_limited_per_user_and_address(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/hub.sqlite"
    running = start_hub(db, env={"SHOWFLOOR_HUB_LOGIN_LIMIT": "3"})
    try:
        create_user(db, "ada", "admin")
        with httpx.Client(base_url=running.url, timeout=15) as c:
            assert try_login(c, "ada", "wrong one").status_code == 401
            assert try_login(c, "ada", "wrong two").status_code == 401
            assert try_login(c, "ada", PASSWORD).status_code == 303  # clears the user's
            keys = dict(sql(db, select(t.login_failures.c.key, func.count())
                            .group_by(t.login_failures.c.key)))
            assert keys == {"ip:127.0.0.1": 2}

            last = try_login(c, "nobody", "wrong three")  # the address's third failure
            assert last.status_code == 401
            assert "paused" in last.text
            refused = try_login(c, "ada", PASSWORD)  # the right password, refused unchecked
            assert refused.status_code == 429
            assert "Try again in 15 minutes" in refused.text
            assert 800 < int(refused.headers["retry-after"]) <= 900
            # a refusal is not another failure (it would push the pause on and on)
            assert sql(db, select(func.count()).select_from(t.login_failures)
                       .where(t.login_failures.c.key == "ip:127.0.0.1"))[0][0] == 3
    finally:
        running.stop()


def test_an_unknown_user_costs_a_real_hash_check() -> None:
    # the decoy is checked for unknown names: it must cost what a real hash costs
    assert argon2.extract_parameters(limits.DECOY_HASH) == \
        argon2.extract_parameters(auth.hash_password("any password at all"))
    assert not auth.check_password(limits.DECOY_HASH, "")


def test_times_and_sizes_read_as_words() -> None:
    now = 1_800_000_000.0
    assert [display.ago(now - s, now) for s in (0.4, 12, 61, 7200, 3 * 86400)] == [
        "0 s ago", "12 s ago", "1 min ago", "2 h ago", "3 d ago"]
    assert display.ago(None, now) == "—"
    assert display.duration(5 * 3600 + 600) == "5 h 10 min"
    assert display.size(41_200_000_000) == "41.2 GB"
    assert display.hours_words(24) == "24 hours"
    assert display.hours_words(0.5) == "30 minutes"
    assert display.local(now, "Asia/Shanghai", now) == "16:00:00"
    assert display.details({"expires": now, "name": "Quiz"}, "UTC", now) == \
        'expires="08:00:00", name="Quiz"'
    assert display.opening({}) == "always open"


# -- the halls page ----------------------------------------------------------------------


def test_admin_sees_a_station_online_and_its_scene_change_live(
        hub: RunningHub, browser: Browser, station: SignedStation) -> None:
    today = station.events(2, kind="session_started")
    yesterday = station.events(1, kind="session_started", wall=midnight_utc() - 3600)
    assert station.upload(today + yesterday).json()["stored"] == 3
    with Beating(station, scene="intro", fps=59.8, outbox=4, session_active=True) as beat:
        page = browser_login(browser, hub.url, "ada")
        expect(cell(page, station, "state")).to_have_text("● online")
        expect(cell(page, station, "scene")).to_have_text("intro")
        expect(cell(page, station, "today")).to_have_text("2")
        expect(cell(page, station, "session")).to_have_text("in session")
        expect(cell(page, station, "fps")).to_have_text("60")
        expect(cell(page, station, "outbox")).to_have_text("4")
        expect(page.locator('[data-hall="test-hall"]')).to_contain_text("online")

        page.evaluate("window.notReloaded = true")
        beat.set(scene="quiz_2", session_active=False)
        expect(cell(page, station, "scene")).to_have_text("quiz_2", timeout=6000)
        expect(cell(page, station, "session")).to_have_text("—")
        assert page.evaluate("window.notReloaded") is True  # updated in place
        expect(cell(page, station, "state")).to_have_text("● online")
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()


def test_a_silent_station_shows_offline(hub: RunningHub, browser: Browser,
                                         station: SignedStation) -> None:
    assert station.heartbeat(scene="attract").status_code == 200
    page = browser_login(browser, hub.url, "vera")
    # offline_after is 3 s here: the live update turns it offline without a reload
    expect(cell(page, station, "state")).to_have_text("✕ offline", timeout=8000)
    expect(cell(page, station, "state").locator(".badge--offline")).to_be_visible()
    page.context.close()


# -- the station page: commands and roles ------------------------------------------------


def test_operator_sends_a_message_and_sees_it_done(hub: RunningHub, browser: Browser,
                                                   station: SignedStation) -> None:
    station.heartbeat(scene="attract")
    page = browser_login(browser, hub.url, "otto")
    page.goto(f"/stations/{station.station}")
    page.get_by_label("In 中文 (zh-CN)").fill("请到前台来")
    page.get_by_label("In English (en)").fill("Please come to the front desk")
    page.get_by_label("Show for (seconds)").fill("20")
    page.get_by_role("button", name="Show message").click()
    expect(page.get_by_role("status")).to_contain_text("is queued")

    got = station.commands(wait=5).json()["commands"]
    assert [(c["kind"], c["args"]) for c in got] == [("message", {
        "text": {"zh-CN": "请到前台来", "en": "Please come to the front desk"},
        "seconds": 20.0})]
    # the page follows the command by itself, and leaves a half-typed message alone
    page.evaluate("window.notReloaded = true")
    page.get_by_label("In English (en)").fill("half-typed")
    line = page.locator(f'tr[data-command="{got[0]["id"]}"]')
    expect(line).to_contain_text("delivered", timeout=8000)
    assert station.ack(got[0]["id"], ok=True, detail="shown").status_code == 200
    expect(line).to_contain_text("done", timeout=8000)
    expect(line).to_contain_text("otto")
    expect(line).to_contain_text("shown")
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_label("In English (en)")).to_have_value("half-typed")
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


#: a kiosk supervisor's summary, as a station sends it in its heartbeat
KIOSK = {"counts": {"renderer_crashed": 3, "page_unresponsive": 1, "page_reloaded": 2,
                    "fallback_shown": 1, "memory": 40},
         "last": {"event": "fallback_shown", "surface": "main", "reason": "crash_limit",
                  "at": time.time() - 120},
         "js_heap_mb": 96.6, "rss_mb": 812.4, "fallback": True}


def test_the_station_page_follows_the_station(hub: RunningHub, browser: Browser,
                                              station: SignedStation) -> None:
    with Beating(station, scene="intro", fps=58.0) as beat:
        page = browser_login(browser, hub.url, "vera")
        page.goto(f"/stations/{station.station}")
        details, events = page.locator('[data-part="details"]'), page.locator('[data-part="events"]')
        expect(details).to_contain_text("intro")
        expect(page.locator('[data-part="state"]')).to_have_text("● online")
        expect(events).to_contain_text("No events from this station yet")
        # a station without a kiosk supervisor (or from before them) sends no "kiosk"
        kiosk = details.locator('[data-f="kiosk"]')
        expect(kiosk).to_have_text("no report from a kiosk supervisor")
        page.evaluate("window.notReloaded = true")
        beat.set(scene="quiz_2", fps=31.0, kiosk=KIOSK)
        assert station.upload(station.events(1, kind="session_started", scene="quiz_2",
                                             data={"lang": "en"})).status_code == 200
        expect(details).to_contain_text("quiz_2", timeout=8000)
        expect(details).to_contain_text("31 fps")
        expect(events).to_contain_text("Visit started in en", timeout=8000)
        expect(events).to_contain_text("all 1")
        expect(kiosk).to_contain_text("3 crashes · 1 hang · 2 reloads · 0 browser restarts")
        expect(kiosk).to_contain_text("Last: fallback shown (crash_limit)")
        expect(kiosk).to_contain_text("Memory: renderer 812 MB, JS heap 97 MB")
        expect(kiosk.locator('[data-f="kiosk-fallback"]')).to_contain_text("fallback page")
        # the hub takes only the summary's own fields and event names
        bad = station.heartbeat(kiosk={**KIOSK, "counts": {"exploded": 1}})
        assert bad.status_code == 400 and "kiosk.counts" in bad.json()["detail"], bad.text
    # silent now: offline after 3 s here, shown without a reload
    expect(page.locator('[data-part="state"]')).to_have_text("✕ offline", timeout=12000)
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#live-text")).to_have_text("Live: updated every 5 s")
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_a_viewer_sees_no_forms_and_is_refused_if_it_posts(
        hub: RunningHub, browser: Browser, station: SignedStation) -> None:
    page = browser_login(browser, hub.url, "vera")
    page.goto(f"/stations/{station.station}")
    expect(page.get_by_role("heading", name="Send a command")).to_be_visible()
    assert page.locator("main form[method=post]").count() == 0
    expect(page.locator("#send")).to_contain_text("needs the operator role")
    page.goto("/codes")
    assert page.locator("main form[method=post]").count() == 0
    page.context.close()

    with session(hub.url, "vera") as c:
        token = csrf_of(c.get(f"/stations/{station.station}").text)
        r = c.post(f"/stations/{station.station}/commands",
                   data={"csrf": token, "kind": "restart"})
        assert r.status_code == 403
        assert "needs the operator role" in r.text
        assert c.post("/codes", data={"csrf": token, "hall": "test-hall"}).status_code == 403
        assert c.get("/users").status_code == 403
    assert station.commands().json()["commands"] == []


def test_every_command_form_carries_the_token_and_its_own_error(
        hub: RunningHub, station: SignedStation) -> None:
    with session(hub.url, "otto") as c:
        page = c.get(f"/stations/{station.station}").text
        token = csrf_of(page)
        forms_ = page.split(f'<form method="post" action="/stations/{station.station}'
                            '/commands" class="cmd">')[1:]
        assert len(forms_) == 4
        for form in forms_:
            form = form.split("</form>")[0]
            assert f'<input type="hidden" name="csrf" value="{token}">' in form
        legends = [f.split("<legend>")[1].split("</legend>")[0] for f in forms_]
        assert legends == ["Station", "Attract only", "Language", "Message on screen"]
        bad = c.post(f"/stations/{station.station}/commands",
                     data={"csrf": token, "kind": "language", "lang_other": "not a code"})
        assert bad.status_code == 400
        language = bad.text.split("<legend>Language</legend>")[1].split("</form>")[0]
        assert "&#39;not a code&#39; is not a language code" in language
        assert 'id="err-language"' in language and 'aria-invalid="true"' in language
    assert station.commands().json()["commands"] == []


def test_a_cross_site_post_is_refused(hub: RunningHub, station: SignedStation) -> None:
    with session(hub.url, "ada") as c:
        url = f"/stations/{station.station}/commands"
        no_token = c.post(url, data={"kind": "restart"})
        assert no_token.status_code == 403
        assert "security token" in no_token.text
        token = csrf_of(c.get("/").text)
        wrong = c.post(url, data={"kind": "restart", "csrf": token[:-2] + "xx"})
        assert wrong.status_code == 403
        elsewhere = c.post(url, data={"kind": "restart", "csrf": token},
                           headers={"Origin": "http://evil.example"})
        assert elsewhere.status_code == 403
        assert station.commands().json()["commands"] == []

        same = c.post(url, data={"kind": "restart", "csrf": token},
                      headers={"Origin": hub.url})
        assert same.status_code == 303
        assert [x["kind"] for x in station.commands().json()["commands"]] == ["restart"]


def test_the_session_is_new_at_login(hub: RunningHub) -> None:
    with httpx.Client(base_url=hub.url, timeout=10) as c:
        before = csrf_of(c.get("/login").text)
        r = c.post("/login", data={"csrf": before, "username": "ada", "password": PASSWORD})
        assert r.status_code == 303
        after = csrf_of(c.get("/").text)
        assert after != before
        # the old token is worth nothing now
        assert c.post("/logout", data={"csrf": before}).status_code == 403
        assert c.post("/logout", data={"csrf": after}).status_code == 303
        assert c.get("/").status_code == 303


# -- codes, audit, halls, users ----------------------------------------------------------


def test_an_enrolment_code_made_in_the_page_enrols_a_station(hub: RunningHub,
                                                              browser: Browser) -> None:
    make_code(hub.db)  # the hall exists
    page = browser_login(browser, hub.url, "otto")
    page.goto("/codes")
    page.get_by_label("Hall").select_option("test-hall")
    page.get_by_label("Station name").fill("Entrance screen")
    page.get_by_role("button", name="Make a code").click()
    code = page.locator("#made-code").inner_text().strip()
    line = page.locator("#made-command").inner_text()
    assert line == f"showfloor station PROFILE --hub {hub.url} --enrol {code}"

    st = SignedStation(hub.url)
    r = st.enrol(code)
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Entrance screen"
    assert st.enrol(code).status_code == 400  # once only

    page.goto("/codes")
    assert code not in page.content()
    first = page.locator("tbody tr").first
    expect(first).to_contain_text("used")
    expect(first).to_contain_text(st.station)
    expect(first).to_contain_text("Entrance screen")
    page.context.close()
    st.client.close()


def test_the_audit_log_shows_the_login_and_the_command(hub: RunningHub,
                                                       station: SignedStation) -> None:
    with session(hub.url, "otto") as c:
        token = csrf_of(c.get("/").text)
        r = c.post(f"/stations/{station.station}/commands",
                   data={"csrf": token, "kind": "language", "lang": "en",
                         "lang_other": "zh-HK"})
        assert r.status_code == 303
        page = c.get("/audit").text
        mine = c.get(f"/audit?target={station.station}").text
    assert "user.login" in page
    assert "user:otto" in page
    assert "command.language" in mine
    assert "zh-HK" in mine
    assert [x["args"] for x in station.commands().json()["commands"]] == [{"lang": "zh-HK"}]


def test_the_audit_log_is_paged(hub: RunningHub) -> None:
    sql(hub.db, insert(t.audit), [{"at": time.time(), "actor": "hub", "action": "test.filler",
                                   "target": f"n{i}", "detail": {}} for i in range(60)])
    with session(hub.url, "ada") as c:
        first = c.get("/audit").text
        assert "Older →" in first
        older = first.split('href="/audit?before=')[1].split('"')[0]
        second = c.get(f"/audit?before={older}")
    assert second.status_code == 200
    assert "← Newest" in second.text


def test_hall_settings_say_what_is_wrong_next_to_the_field(hub: RunningHub) -> None:
    make_code(hub.db)
    with session(hub.url, "ada") as c:
        token = csrf_of(c.get("/halls/test-hall").text)
        bad = c.post("/halls/test-hall", data={
            "csrf": token, "name": "Test hall", "timezone": "Mars/Olympus",
            "hours": '{"mon-fri": "8-17"}', "closed_mode": "attract_only"})
        assert bad.status_code == 400
        said = html.unescape(bad.text)
        assert "'Mars/Olympus' is not a time zone" in said
        assert "'8' is not a time; write it as HH:MM" in said
        assert 'id="err-timezone"' in bad.text and 'id="err-hours"' in bad.text
        assert "Mars/Olympus" in bad.text  # what was typed stays in the form

        ok = c.post("/halls/test-hall", data={
            "csrf": token, "name": "Test hall", "timezone": "Asia/Shanghai",
            "hours": '{"mon-fri": "08:00-17:30"}', "closed_mode": "screen_off"})
        assert ok.status_code == 303
        page = c.get(ok.headers["location"]).text
        assert "Saved" in page
        assert "Asia/Shanghai" in page
        # an operator reads the settings but gets no form, and a POST is refused
    with session(hub.url, "otto") as c:
        page = c.get("/halls/test-hall").text
        assert "needs the admin role" in page and 'name="hours"' not in page
        token = csrf_of(page)
        assert c.post("/halls/test-hall", data={"csrf": token}).status_code == 403
    sql(hub.db, update(t.halls).where(t.halls.c.id == "test-hall")
        .values(timezone="UTC", opening_hours={}, closed_mode="attract_only"))


def test_admin_makes_and_disables_a_user(hub: RunningHub) -> None:
    with session(hub.url, "ada") as c:
        token = csrf_of(c.get("/users").text)
        short = c.post("/users", data={"csrf": token, "username": "nina", "role": "viewer",
                                       "password": "short"})
        assert short.status_code == 400
        assert "at least 10 characters" in short.text
        made = c.post("/users", data={"csrf": token, "username": "nina", "role": "operator",
                                      "password": "a long enough password"})
        assert made.status_code == 303
        again = c.post("/users", data={"csrf": token, "username": "nina", "role": "viewer",
                                       "password": "a long enough password"})
        assert "already a user 'nina'" in html.unescape(again.text)
        nina = login(hub.url, "nina", "a long enough password")
        assert nina.get("/").status_code == 200

        uid = sql(hub.db, select(t.users.c.id).where(t.users.c.username == "nina"))[0][0]
        assert c.post(f"/users/{uid}/disable", data={"csrf": token}).status_code == 303
        assert nina.get("/").status_code == 303  # the session ends at once
        nina.close()
        with httpx.Client(base_url=hub.url, timeout=10) as fresh:
            assert try_login(fresh, "nina", "a long enough password").status_code == 401


def test_revoking_asks_first(hub: RunningHub, station: SignedStation) -> None:
    with session(hub.url, "ada") as c:
        ask = c.get(f"/stations/{station.station}/revoke")
        assert "Yes, revoke it" in ask.text
        token = csrf_of(ask.text)
        unconfirmed = c.post(f"/stations/{station.station}/revoke", data={"csrf": token})
        assert unconfirmed.headers["location"].endswith("/revoke")
        assert station.heartbeat().status_code == 200
        done = c.post(f"/stations/{station.station}/revoke",
                      data={"csrf": token, "confirm": "yes"})
        assert done.status_code == 303
        assert station.heartbeat().status_code == 401
        page = c.get(f"/stations/{station.station}").text
        assert "revoked" in page and "takes no commands" in page


# -- opening hours: the form and the sentence ----------------------------------------------


def test_opening_hours_read_as_sentences() -> None:
    wednesday_noon = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC).timestamp()
    assert display.hours_sentence(None, {}, "UTC", wednesday_noon) == \
        "Follows the hall's hours (always open). Open now."
    assert display.hours_sentence({"mon-fri": "08:00-17:00"}, {}, "UTC", wednesday_noon) == \
        "Own hours: Mon–Fri 08:00–17:00. Open now — closes at 17:00."
    assert display.hours_sentence({"mon": "08:00-17:00"}, {}, "UTC", wednesday_noon) == \
        "Own hours: Mon 08:00–17:00. Closed now — opens Monday 08:00."
    assert display.hours_sentence({"wed": "13:00-24:00"}, {}, "UTC", wednesday_noon) == \
        "Own hours: Wed 13:00–24:00. Closed now — opens at 13:00."
    # noon UTC is 20:00 in Shanghai: the hall's own time zone decides
    assert display.hours_sentence(None, {"daily": "09:00-17:00"}, "Asia/Shanghai",
                                  wednesday_noon) == \
        "Follows the hall's hours (every day 09:00–17:00). Closed now — opens tomorrow 09:00."
    assert display.opening({"mon-fri": "08:00-17:30", "sat": "09:00-12:00, 13:00-16:00"}) == \
        "Mon–Fri 08:00–17:30; Sat 09:00–12:00 and 13:00–16:00"
    assert display.opening({"daily": "closed"}) == "closed every day"
    # the form's fields and back give the same hours
    hours = {"mon-fri": "08:00-17:30", "sat": "09:00-12:00, 13:00-16:00", "sun": "22:00-02:00"}
    assert forms.week_hours(forms.hours_values(hours, "week")) == hours


def test_admin_sets_a_stations_own_hours_in_the_form(hub: RunningHub, browser: Browser,
                                                     station: SignedStation) -> None:
    station.heartbeat(scene="attract")
    page = browser_login(browser, hub.url, "ada", bypass_csp=True)
    page.goto(f"/stations/{station.station}")
    said = page.locator('[data-part="details"] [data-f="hours"]')
    expect(said).to_have_text("Follows the hall's hours (always open). Open now.")
    monday_opens = page.get_by_label("Monday opens at", exact=True)
    expect(monday_opens).to_be_hidden()  # the days wait until the station gets its own

    page.get_by_label("Its own hours, on these days").check()
    expect(page.get_by_label("Monday", exact=True)).to_be_visible()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"):
        page.get_by_label(day, exact=True).check()
        page.get_by_label(f"{day} opens at", exact=True).fill("08:00")
        page.get_by_label(f"{day} closes at", exact=True).fill("17:00")
    assert axe(page) == []
    page.get_by_role("button", name="Save hours").click()
    expect(page.get_by_role("status")).to_contain_text("opening hours were saved")
    expect(said).to_contain_text("Own hours: Mon–Fri 08:00–17:00. ")
    expect(said).to_have_text(display.hours_sentence({"mon-fri": "08:00-17:00"}, {}, "UTC",
                                                     time.time()))
    saved = sql(hub.db, select(t.stations.c.opening_hours)
                .where(t.stations.c.id == station.station))[0][0]
    assert saved == {"mon-fri": "08:00-17:00"}
    # the form shows them again, and the station gets them with its heartbeat
    expect(page.get_by_label("Its own hours, on these days")).to_be_checked()
    expect(page.get_by_label("Friday closes at", exact=True)).to_have_value("17:00")
    expect(page.get_by_label("Saturday", exact=True)).not_to_be_checked()
    assert station.heartbeat().json()["config"]["opening_hours"] == {"mon-fri": "08:00-17:00"}

    # a day ticked without times is refused, in a sentence beside the days
    page.get_by_label("Saturday", exact=True).check()
    page.get_by_role("button", name="Save hours").click()
    expect(page.locator("#err-hours")).to_have_text(
        "⚠ Saturday is ticked as open but has no times; give it an opening and a closing "
        "time, or untick it")
    expect(page.get_by_label("Saturday", exact=True)).to_be_checked()  # as it was sent

    page.goto(f"/stations/{station.station}")
    page.get_by_label("Use the hall's hours").check()
    expect(monday_opens).to_be_hidden()
    page.get_by_role("button", name="Save hours").click()
    expect(said).to_have_text("Follows the hall's hours (always open). Open now.")
    assert sql(hub.db, select(t.stations.c.opening_hours)
               .where(t.stations.c.id == station.station))[0][0] is None
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


def test_hall_hours_use_the_same_form(hub: RunningHub) -> None:
    make_code(hub.db)
    try:
        with session(hub.url, "ada") as c:
            page = c.get("/halls/test-hall").text
            assert 'aria-label="Monday opens at"' in page and 'name="hours_mode"' in page
            token = csrf_of(page)
            base = {"csrf": token, "name": "Test hall", "timezone": "UTC",
                    "closed_mode": "attract_only", "hours_mode": "week"}
            days: dict[str, str] = {}
            for d in ("mon", "tue", "wed", "thu", "fri"):
                days |= {f"open_{d}": "1", f"from_{d}_1": "09:00", f"to_{d}_1": "17:00"}
            lunch = {"open_sat": "1", "from_sat_1": "09:00", "to_sat_1": "12:00",
                     "from_sat_2": "13:00", "to_sat_2": "16:00", "hours_split": "1"}
            bad = c.post("/halls/test-hall", data=base | days | {"from_wed_1": "9"})
            assert bad.status_code == 400
            assert "Wednesday&#39;s opening time &#39;9&#39; is not a time" in bad.text
            ok = c.post("/halls/test-hall", data=base | days | lunch)
            assert ok.status_code == 303
            saved = sql(hub.db, select(t.halls.c.opening_hours)
                        .where(t.halls.c.id == "test-hall"))[0][0]
            assert saved == {"mon-fri": "09:00-17:00", "sat": "09:00-12:00, 13:00-16:00"}
            shown = c.get("/halls/test-hall").text
            assert 'name="from_sat_2" value="13:00"' in shown
            assert "Mon–Fri 09:00–17:00; Sat 09:00–12:00 and 13:00–16:00" in c.get("/").text
            always = c.post("/halls/test-hall", data=base | days | {"hours_mode": "always"})
            assert always.status_code == 303
    finally:
        sql(hub.db, update(t.halls).where(t.halls.c.id == "test-hall")
            .values(timezone="UTC", opening_hours={}, closed_mode="attract_only"))
    assert sql(hub.db, select(t.halls.c.opening_hours)
               .where(t.halls.c.id == "test-hall"))[0][0] == {}


# -- recent events: what an operator needs -------------------------------------------------


def _a_visit_and_noise(station: SignedStation, db: str) -> int:
    """Upload a start, a visit among ticks and views, surfaces, an error; answer a command."""
    now = time.time()

    def ev(kind: str, at: float, **extra: Any) -> dict[str, Any]:
        return station.events(1, kind=kind, wall=now - at, **extra)[0]

    events = [ev("engine_started", 300, seq=1, data={"exhibit": "demo", "version": "1.2"})]
    events += [ev("surface_joined", 290 - i, source="station",
                  data={"surface": "touch-1", "role": "touch"}) for i in range(3)]
    events += [ev("surface_left", 286 - i, source="station", data={"surface": "touch-1"})
               for i in range(2)]
    events.append(ev("session_started", 200, session="visit-1", data={"lang": "zh-CN"}))
    events += [ev("input", 199 - i, session="visit-1",
                  data={"input": {"type": "tick", "now": 5.0 + i}}) for i in range(5)]
    events += [ev("view", 190 - i, session="visit-1",
                  data={"scene": "intro", "digest": f"d1ge5t{i}"}) for i in range(3)]
    events.append(ev("session_ended", 8, session="visit-1",
                     data={"reason": "completed", "duration": 192.4, "scenes": 5}))
    events.append(ev("error", 5, source="station",
                     data={"what": "asset", "detail": "missing q12.mp3"}))
    assert station.upload(events).status_code == 200
    database = t.Database(db)
    try:
        with database.write() as conn:
            cid = cmds.queue(conn, now, station.station, "language", {"lang": "en"},
                             "user:otto", 3600)
    finally:
        database.dispose()
    assert [c["id"] for c in station.commands().json()["commands"]] == [cid]
    assert station.upload([ev("command", 1, source="station",
                              data={"id": cid, "command": "language"})]).status_code == 200
    assert station.ack(cid, ok=True, detail="language en").status_code == 200
    return cid


def test_recent_events_say_what_happened_in_words(hub: RunningHub, browser: Browser,
                                                  station: SignedStation) -> None:
    cid = _a_visit_and_noise(station, hub.db)
    page = browser_login(browser, hub.url, "vera", bypass_csp=True)
    page.goto(f"/stations/{station.station}")
    events = page.locator('[data-part="events"]')
    lines = events.locator("li")
    expect(lines).to_have_count(6)
    expect(lines.nth(0)).to_contain_text(f"Command {cid}: language done — language en")
    expect(lines.nth(1)).to_contain_text("Error (asset) missing q12.mp3")
    expect(lines.nth(2)).to_contain_text("Visit ended after 3 min 12 s in zh-CN · finished · "
                                         "5 scenes")
    expect(lines.nth(3)).to_contain_text("Visit started in zh-CN")
    expect(lines.nth(4)).to_contain_text("Surfaces joined 3× and left 2× touch-1")
    expect(lines.nth(5)).to_contain_text("Station started demo version 1.2")
    for noise in ("tick", "digest", "d1ge5t", "input", "view"):
        expect(events.locator("ol")).not_to_contain_text(noise)
    assert axe(page) == []

    page.get_by_role("link", name="Show raw events").click()
    expect(page).to_have_url(f"{hub.url}/stations/{station.station}/events")
    raw = page.get_by_role("region", name="Table of raw events")
    expect(raw).to_contain_text("d1ge5t2")
    expect(raw).to_contain_text('"type": "tick"')
    expect(raw.locator("tbody tr")).to_have_count(18)
    assert axe(page) == []
    assert page.errors == []  # type: ignore[attr-defined]
    page.context.close()


# -- PostgreSQL ------------------------------------------------------------------------------


def test_smoke_on_postgresql(pg_url: str) -> None:
    running = start_hub(pg_url)
    try:
        create_user(pg_url, "ada", "admin")
        st = SignedStation(running.url)
        assert st.enrol(make_code(pg_url, name="Quiz wall")).status_code == 200
        assert st.heartbeat(scene="quiz_1").status_code == 200
        with session(running.url, "ada") as c:
            page = c.get("/").text
            assert "Quiz wall" in page and "quiz_1" in page and "online" in page
            assert c.get("/dashboard/api/fleet").json()[0]["stations"][0]["scene"] == "quiz_1"
        st.client.close()
    finally:
        running.stop()


# -- how it looks --------------------------------------------------------------------------


def _showcase(db: str, base: str) -> dict[str, SignedStation]:
    """A believable fleet: two halls, stations in every state, commands, events."""
    plan: list[tuple[str, str, str, dict[str, Any], int]] = [
        ("Youth drug-prevention hall", "VR: the brain, 10 years on", "vr", {
            "scene": "brain_10y", "session_active": True, "fps": 72.0, "language": "zh-CN",
            "idle": 4.0, "usual_quiet": 600.0, "uptime": 5 * 3600 + 600,
            "disk_free": 41_200_000_000, "exhibit": "drug-prevention", "version": "1.4.0",
            "software": "showfloor 0.1.0"}, 0),
        ("Youth drug-prevention hall", "Knowledge quiz", "touch", {
            "scene": "quiz_question_3", "session_active": True, "fps": 60.0, "outbox": 2},
         22),
        ("Youth drug-prevention hall", "Story: the offer", "touch", {
            "scene": "attract", "idle": 5400.0, "usual_quiet": 900.0, "fps": 60.0}, 3),
        ("Youth drug-prevention hall", "Ask a question", "kiosk", {
            "scene": "ask_home", "outbox": 37}, 9),
        ("Youth drug-prevention hall", "Hologram: the heart", "hologram", {
            "scene": "heart_5y"}, 6),
        ("Youth drug-prevention hall", "Entrance screen", "touch", {}, 0),
        ("Science centre annex", "Projector wall", "projector", {
            "scene": "attract", "closed": True, "screen": "off"}, 0),
        ("Science centre annex", "Button panel", "panel", {"scene": "attract", "fps": 30.0},
         11),
    ]
    now = time.time()
    database = t.Database(db)
    try:
        with database.write() as conn:
            youth = enrolment.ensure_hall(conn, now, "Youth drug-prevention hall",
                                          timezone="Asia/Shanghai")
            annex = enrolment.ensure_hall(conn, now, "Science centre annex",
                                          timezone="Europe/London",
                                          opening_hours={"mon-fri": "09:00-17:00"})
            codes = [enrolment.create_code(conn, now, youth if hall.startswith("Youth")
                                           else annex, "user:ada", name=name)
                     for hall, name, *_ in plan]
    finally:
        database.dispose()
    out: dict[str, SignedStation] = {}
    for (_hall, name, profile, beat, sessions), code in zip(plan, codes, strict=True):
        st = SignedStation(base)
        assert st.enrol(code, profile=profile).status_code == 200
        out[name] = st
        if name == "Entrance screen":
            continue
        assert st.heartbeat(**beat).status_code == 200
        if sessions:
            st.upload(st.events(sessions, kind="session_started",
                                wall=time.time() - 600))
    ask = out["Ask a question"]
    ask.heartbeat(scene="ask_home", outbox=37, errors=[
        {"at": now - 300, "what": "asset", "detail": "missing answers/zh-CN/q12.mp3"}])
    sql(db, update(t.stations).where(t.stations.c.id == ask.station)
        .values(last_seen=now - 25))
    sql(db, update(t.stations).where(t.stations.c.id == out["Hologram: the heart"].station)
        .values(last_seen=now - 3 * 3600))

    vr = out["VR: the brain, 10 years on"]

    def ev(kind: str, ago: float, **extra: Any) -> dict[str, Any]:
        return vr.events(1, kind=kind, wall=now - ago, **extra)[0]

    events = [ev("engine_started", 5 * 3600, seq=1,
                 data={"exhibit": "drug-prevention", "version": "1.4.0"}),
              ev("surface_joined", 5 * 3600 - 5, source="station",
                 data={"surface": "headset", "role": "touch"})]
    for ago, left in ((5 * 3600 - 900, True), (5 * 3600 - 880, False), (5 * 3600 - 300, True),
                      (5 * 3600 - 290, False)):
        events.append(ev("surface_left" if left else "surface_joined", ago, source="station",
                         data={"surface": "headset"}))
    # 13 visits so far today (in the hall's time zone), then the one in progress
    shanghai = dt.datetime.now(display.zone("Asia/Shanghai"))
    midnight = shanghai.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    first = max(midnight + 60, now - 7200)
    gap = (now - 300 - first) / 13
    for i in range(13):
        visit, begun = f"s{i:02d}c0ffee{i:04d}", now - (first + gap * i)
        length = gap * (0.5 + 0.03 * i)
        lang = "en" if i % 4 == 1 else "zh-CN"
        events += [ev("session_started", begun, session=visit, data={"lang": lang}),
                   ev("view", begun - 1, session=visit,
                      data={"scene": "brain_intro", "digest": f"9c1f0a77e2d4b6{i:02d}"}),
                   ev("session_ended", begun - length, session=visit, data={
                       "reason": "timeout" if i % 5 == 2 else "completed",
                       "duration": length, "scenes": 2 if i % 5 == 2 else 6})]
    events.append(ev("session_started", 270, session="s7f3a91c2d4e", data={"lang": "zh-CN"}))
    story = [("scene_entered", "brain_intro", {}),
             ("choice_made", "brain_intro", {"choice": "look_closer"}),
             ("scene_entered", "brain_5y", {}), ("hotspot", "brain_5y", {"id": "prefrontal"}),
             ("scene_entered", "brain_10y", {})]
    for i, (kind, scene, data) in enumerate(story):
        events.append(ev(kind, 240 - 30 * i, scene=scene, data=data, session="s7f3a91c2d4e"))
        events.append(ev("input", 239 - 30 * i, session="s7f3a91c2d4e",
                         data={"input": {"type": "tick", "now": 1000.0 + i}}))
    vr.upload(events)
    database = t.Database(db)
    try:
        with database.write() as conn:
            cmds.queue(conn, now - 1800, vr.station, "language", {"lang": "zh-CN"},
                       "user:otto", 3600)
            cmds.queue(conn, now - 60, vr.station, "message", {
                "text": {"zh-CN": "十分钟后闭馆", "en": "Closing in ten minutes"},
                "seconds": 30}, "user:otto", 3600)
    finally:
        database.dispose()
    for c in vr.commands().json()["commands"][:1]:
        vr.upload([ev("command", 1795, source="station",
                      data={"id": c["id"], "command": "language"}),
                   ev("default_language_set", 1794, data={"lang": "zh-CN"})])
        vr.ack(c["id"], ok=True, detail="language set to zh-CN")
    return out


def test_screenshots_and_accessibility(tmp_path: Path, browser: Browser) -> None:
    db = f"sqlite:///{tmp_path}/hub.sqlite"
    running = start_hub(db)
    try:
        create_user(db, "ada", "admin")
        fleet = _showcase(db, running.url)
        vr = fleet["VR: the brain, 10 years on"]
        page = browser_login(browser, running.url, "ada", bypass_csp=True)
        expect(cell(page, fleet["Story: the offer"], "state")).to_have_text("◐ alive, unused")
        expect(cell(page, fleet["Ask a question"], "state")).to_have_text("▲ stale")
        expect(cell(page, fleet["Hologram: the heart"], "state")).to_have_text("✕ offline")
        expect(cell(page, fleet["Entrance screen"], "state")).to_have_text("○ never seen")
        expect(cell(page, fleet["Projector wall"], "state")).to_have_text("■ closed")
        expect(cell(page, vr, "today")).to_have_text("14")
        def shoot(name: str, full: bool = False) -> None:
            page.evaluate("document.fonts.ready")
            shot = tmp_path / f"{name}.png"
            page.screenshot(path=str(shot), full_page=full)
            keep_for_docs(shot, name)

        for name in ("hub-halls", "hub-station"):
            if name == "hub-station":
                page.goto(f"/stations/{vr.station}")
                expect(page.locator("tr[data-command]").first).to_contain_text("queued")
                expect(page.locator('[data-part="events"] li').first).to_contain_text(
                    "Visit started in zh-CN")
            assert axe(page) == []
            shoot(name, full=name == "hub-station")
        for path in ("/halls/science-centre-annex", f"/stations/{vr.station}/events"):
            page.goto(path)
            assert axe(page) == [], path

        page.set_viewport_size(PHONE)
        page.goto("/")
        # every station's state is on screen at phone width, without scrolling the table
        states = page.locator('td[data-f="state"]')
        expect(states).to_have_count(8)
        for i in range(states.count()):
            box = states.nth(i).bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], \
                f"station {i}'s state is off screen at phone width: {box}"
        assert axe(page) == []
        shoot("hub-halls-phone")
        for path in ("/", f"/stations/{vr.station}", f"/stations/{vr.station}/events",
                     "/halls/science-centre-annex", "/codes", "/audit"):
            page.goto(path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} scrolls sideways on a phone"
        assert page.errors == []  # type: ignore[attr-defined]
        page.context.close()
    finally:
        running.stop()
