"""Operator commands for a hall's hardware from the dashboard ("Send to devices").

A real hub process on SQLite; three stations in one hall: a real station process whose
profile has a simulated ``projector`` (enrolled with a code, heartbeating its devices),
a signed stand-in whose heartbeat reports a PJLink ``projector``, and one that reports
only ``lights``. The pages are read with httpx (forms, CSRF and roles are what is
tested, not a browser); the real station carries the queued command out and answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub._dashboard_support import create_user, csrf_of, session, sql
from hub._support import RunningHub, SignedStation, close_clients, make_code, start_hub
from showfloor.errors import ConfigError
from showfloor.hub import db as t
from showfloor.hub.dashboard.devices import parse_action
from station._support import DEMO, RunningStation, start_station

HALL = "Hall D"
PROFILE = f"""\
station: {{id: hall-d-real, name: D1 real}}
exhibit: {DEMO}
devices:
  projector: {{driver: simulated}}
"""


def note(device: str, driver: str) -> dict[str, Any]:
    return {"device": device, "driver": driver, "connected": True, "messages": 0, "errors": 0}


class Hall:
    def __init__(self, hub: RunningHub, real: RunningStation, real_id: str, pj: SignedStation,
                 lights: SignedStation, hall_id: str) -> None:
        self.hub, self.real, self.real_id, self.pj, self.lights = hub, real, real_id, pj, lights
        self.id = hall_id

    def post(self, client: httpx.Client, url: str, **form: str) -> httpx.Response:
        token = csrf_of(client.get(f"/halls/{self.id}").text)
        return client.post(url, data={"csrf": token, **form})

    def commands(self) -> list[dict[str, Any]]:
        rows = sql(self.hub.db, select(t.commands).order_by(t.commands.c.id))
        return [dict(r._mapping) for r in rows]


def wait(what: str, check: Any, timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (got := check()):
            return got
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout:g} s")


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hall]:
    tmp = tmp_path_factory.mktemp("hall-devices")
    db = f"sqlite:///{tmp}/hub.sqlite"
    hub = start_hub(db, None, "--heartbeat", "1")
    prof = tmp / "station.yaml"
    prof.write_text(PROFILE, encoding="utf-8")
    real = start_station(prof, "--hub", hub.url, "--enrol", make_code(db, HALL, "D1 real"),
                         data=tmp / "station")
    pj, lights = SignedStation(hub.url), SignedStation(hub.url)
    try:
        for st, name, devices in ((pj, "D2 projector", [note("projector", "pjlink")]),
                                  (lights, "D3 lights", [note("lights", "sacn")])):
            assert st.enrol(make_code(db, HALL, name)).status_code == 200
            assert st.heartbeat(drivers=devices).status_code == 200
        create_user(db, "otto", "operator")
        create_user(db, "vera", "viewer")
        hall_id = sql(db, select(t.halls.c.id).where(t.halls.c.name == HALL))[0][0]

        def real_reports_its_projector() -> str | None:
            rows = sql(db, select(t.stations.c.id, t.stations.c.heartbeat).where(
                t.stations.c.hall_id == hall_id, t.stations.c.name == "D1 real"))
            return rows[0][0] if rows and (rows[0][1] or {}).get("drivers") else None

        real_id = wait("the real station's heartbeat with its devices",
                       real_reports_its_projector)
        yield Hall(hub, real, real_id, pj, lights, hall_id)
    finally:
        real.stop()
        hub.stop()
        close_clients()


def test_an_operator_sends_projectors_on_to_the_stations_that_have_one(hall: Hall) -> None:
    with session(hall.hub.url, "otto") as otto:
        page = otto.get(f"/halls/{hall.id}").text
        assert 'action="/halls/' + hall.id + '/devices"' in page
        assert "projector <span class=\"sub\">2 stations</span>" in page
        r = hall.post(otto, f"/halls/{hall.id}/devices", device="projector",
                      action="power on")
    assert r.status_code == 200, r.text
    done = hall.commands()
    assert sorted((c["station_id"], c["kind"]) for c in done) == sorted(
        [(hall.real_id, "device"), (hall.pj.station, "device")])
    assert all(c["args"] == {"device": "projector", "do": {"power": "on"}} for c in done)
    assert "Queued for 2 stations" in r.text
    skipped = r.text.split('data-f="skipped">', 1)[1].split("</p>", 1)[0]
    assert "D3 lights</a> (it reports no device &#39;projector&#39;)" in skipped
    assert "D1 real" not in skipped and "D2 projector" not in skipped
    # audited: one line per station's command, and the hall-wide send
    audit = [dict(r._mapping) for r in sql(hall.hub.db, select(t.audit).where(
        t.audit.c.action.in_(["hall.device", "command.device"])))]
    hall_line = [a for a in audit if a["action"] == "hall.device"]
    assert len(hall_line) == 1 and hall_line[0]["actor"] == "user:otto"
    assert hall_line[0]["target"] == hall.id
    assert sorted(hall_line[0]["detail"]["stations"]) == sorted(
        [hall.real_id, hall.pj.station])
    assert hall_line[0]["detail"]["skipped"] == [hall.lights.station]
    assert len([a for a in audit if a["action"] == "command.device"]) == 2
    # the real station carries it out (its simulated projector) and answers
    real_cmd = next(c for c in done if c["station_id"] == hall.real_id)

    def answered() -> dict[str, Any] | None:
        row = next(c for c in hall.commands() if c["id"] == real_cmd["id"])
        return row if row["state"] not in ("queued", "delivered") else None

    row = wait("the real station's answer", answered)
    assert (row["state"], row["result"]) == ("done", "projector: done"), row


def test_bad_actions_and_devices_are_one_sentence_next_to_the_form(hall: Hall) -> None:
    before = len(hall.commands())
    with session(hall.hub.url, "otto") as otto:
        odd = hall.post(otto, f"/halls/{hall.id}/devices", device="projector", action="power")
        fog = hall.post(otto, f"/halls/{hall.id}/devices", device="fog", action="power on")
        # the PJLink driver (installed on the hub too) refuses it; the simulated one takes it
        sideways = hall.post(otto, f"/halls/{hall.id}/devices", device="projector",
                             action='{"power": "sideways"}')
    assert odd.status_code == 400 and "is not KEY VALUE pairs" in odd.text
    assert 'id="err-device"' in odd.text and 'value="power"' in odd.text  # kept to put right
    assert fog.status_code == 400
    assert ("no station of this hall reports a device &#39;fog&#39;; the devices its "
            "stations report: lights, projector") in fog.text
    assert sideways.status_code == 200
    assert "D2 projector</a> (its pjlink driver refuses it: `power` is `on` or `off`" in \
        sideways.text
    new = hall.commands()[before:]
    assert [(c["station_id"], c["args"]["do"]) for c in new] == [
        (hall.real_id, {"power": "sideways"})]


def test_a_viewer_sees_no_form_and_cannot_post(hall: Hall) -> None:
    before = len(hall.commands())
    with session(hall.hub.url, "vera") as vera:
        page = vera.get(f"/halls/{hall.id}").text
        assert "Send to devices" not in page and "/devices\"" not in page
        r = hall.post(vera, f"/halls/{hall.id}/devices", device="projector",
                      action="power off")
    assert r.status_code == 403
    assert len(hall.commands()) == before


def test_the_station_page_sends_to_one_of_its_devices(hall: Hall) -> None:
    url = f"/stations/{hall.pj.station}"
    with session(hall.hub.url, "otto") as otto:
        page = otto.get(url).text
        assert '<option value="projector"' in page
        token = csrf_of(page)
        r = otto.post(f"{url}/commands", data={"csrf": token, "kind": "device",
                                               "device": "projector", "action": "input 31"})
        assert r.status_code == 303, r.text
        bad = otto.post(f"{url}/commands", data={"csrf": token, "kind": "device",
                                                 "device": "projector", "action": ""})
        assert bad.status_code == 400 and "write the action" in bad.text
    last = hall.commands()[-1]
    assert (last["station_id"], last["args"]) == (
        hall.pj.station, {"device": "projector", "do": {"input": 31}})
    with session(hall.hub.url, "otto") as otto:  # each station's form offers its own devices
        other = otto.get(f"/stations/{hall.lights.station}").text
    assert '<option value="lights"' in other and '<option value="projector"' not in other


def test_actions_read_as_words_or_json() -> None:
    assert parse_action("power off") == {"power": "off"}
    assert parse_action(" preset dark  fade 2000 ") == {"preset": "dark", "fade": 2000}
    assert parse_action("blackout true") == {"blackout": True}
    assert parse_action('{"publish": {"topic": "a/b", "payload": 1}}') == {
        "publish": {"topic": "a/b", "payload": 1}}
    for bad in ("", "power", "[1]", "{nope"):
        with pytest.raises(ConfigError):
            parse_action(bad)
