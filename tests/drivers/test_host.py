"""The station's DriverHost: mapping, outputs, supervision, the hang proof, /healthz.

One real station (uvicorn, the real app, real SQLite, in this process: LiveStation)
runs the demo with a profile of simulated and deliberately broken devices; device
events are handed to the host exactly as a driver hands them (``Host.received``
from the driver's own thread). The debounce, rate-limit and backoff tests drive a
DriverHost alone, with a recording stand-in for the station.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar, Literal

import pytest

from showfloor.drivers import registry
from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host
from showfloor.drivers.simulated import Simulated
from showfloor.engine.inputs import Act, ChoiceMade, Input, Started
from showfloor.fleet import Heartbeat
from showfloor.station.drivers import DriverHost, backoff_delays, summarize
from showfloor.station.profile import StationProfile
from station._support import DEMO, open_page, until
from station.test_operator import LiveStation

#: released at the end of the module: the stuck driver's run and send block on it
RELEASE = threading.Event()


class StuckSettings(DriverSettings):
    block: Literal["run", "send"]


class Stuck(Driver):
    """A driver that hangs its own thread (blocks, not awaits) in ``run`` or ``send``."""

    name: ClassVar[str] = "stuck"
    settings: ClassVar[type[DriverSettings]] = StuckSettings
    sends: ClassVar[int] = 0

    async def run(self, host: Host) -> None:
        host.state(connected=True)
        assert isinstance(self.config, StuckSettings)
        if self.config.block == "run":
            RELEASE.wait(60)  # a blocking read that never returns
        await asyncio.Event().wait()

    async def send(self, action: Mapping[str, Any]) -> None:
        Stuck.sends += 1
        RELEASE.wait(60)

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        return None


class Crashy(Driver):
    """A driver that fails at once, every time; it notes when each run began."""

    name: ClassVar[str] = "crashy"
    settings: ClassVar[type[DriverSettings]] = DriverSettings
    starts: ClassVar[list[float]] = []

    async def run(self, host: Host) -> None:
        Crashy.starts.append(time.monotonic())
        raise OSError("no such device")


PROFILE = """\
station: {id: hall-hw, name: Hall hardware}
exhibit: EXHIBIT
start: party
devices:
  panel: {driver: simulated}
  pir: {driver: simulated}
  lights: {driver: simulated}
  stuck: {driver: stuck, block: run}
  hung: {driver: stuck, block: send}
  gone: {driver: no-such-driver}
inputs:
  - {device: panel, match: B1, do: {choose: say_no}}
  - {device: panel, match: B1, do: {choose: next_day}}   # the same button, the next scene
  - {device: panel, match: B2, do: advance}
  - {device: pir, kind: presence, match: 1, do: wake, debounce_ms: 0}
outputs:
  - {when: visit_started, device: lights, do: {preset: 1}}
  - {when: {scene: party_no}, device: lights, do: {preset: 3}}
  - {when: {scene: party_no}, device: stuck, do: {power: "on"}, timeout: 0.3}
  - {when: {scene: party_no}, device: hung, do: {power: "on"}, timeout: 0.3}
  - {when: visit_ended, device: lights, do: {preset: 0}}
  - {when: closing, device: lights, do: {power: "off"}}
  - {when: opening, device: lights, do: {power: "on"}}
"""


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStation]:
    tmp = tmp_path_factory.mktemp("hw")
    prof = tmp / "station.yaml"
    prof.write_text(PROFILE.replace("EXHIBIT", str(DEMO)), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(registry(), "stuck", Stuck)
        st = LiveStation(DEMO, tmp / "data", prof)
        try:
            yield st
        finally:
            RELEASE.set()
            st.stop()


def press(live: LiveStation, device: str, value: str, kind: str = "line") -> None:
    """What a driver does with a device message: Host.received, from its own thread."""
    hosts = live.station.drivers
    assert hosts is not None
    run = hosts.devices[device]
    run.loop.call_soon_threadsafe(run.host.received, DeviceEvent(device, kind, value))


def sent(live: LiveStation, device: str) -> list[dict[str, Any]]:
    assert live.station.drivers is not None
    drv = live.station.drivers.driver_of(device)
    assert isinstance(drv, Simulated)
    return list(drv.sent)


def test_device_events_drive_a_visit_and_outputs_follow(live: LiveStation) -> None:
    assert live.health()["phase"] == "attract"
    press(live, "pir", "1", kind="presence")  # someone walks up: the visit starts at party
    until("the visit to start", lambda: live.health()["scene"] == "party", 5)
    until("lights preset 1", lambda: {"preset": 1} in sent(live, "lights"), 5)
    press(live, "panel", "B7")  # mapped to nothing: ignored
    press(live, "panel", "B1")  # choose say_no
    until("scene party_no", lambda: live.health()["scene"] == "party_no", 5)
    until("lights preset 3", lambda: {"preset": 3} in sent(live, "lights"), 5)
    # the same button again (a person's second press, not a bounce within the button's
    # 50 ms debounce): say_no is not on screen now, so its next mapping, next_day
    time.sleep(0.06)
    press(live, "panel", "B1")
    until("scene party_after", lambda: live.health()["scene"] == "party_after", 5)
    press(live, "pir", "1", kind="presence")  # in a visit: counted, starts nothing
    until("two passers-by", lambda: len(live.events("passer_by")) == 2, 5)
    p = [e["data"] for e in live.events("passer_by")]
    assert p == [{"device": "pir", "visit": False, "started": True},
                 {"device": "pir", "visit": True, "started": False}]
    live.call("set_closed", True)  # the visit ends, the station closes
    until("lights off", lambda: sent(live, "lights")[-2:] == [{"preset": 0}, {"power": "off"}],
          5)
    press(live, "pir", "1", kind="presence")  # closed: no visit starts
    until("a third passer-by", lambda: len(live.events("passer_by")) == 3, 5)
    assert live.events("passer_by")[-1]["data"]["started"] is False
    assert live.health()["phase"] == "attract"
    live.call("set_closed", False)
    until("lights on", lambda: sent(live, "lights")[-1] == {"power": "on"}, 5)


def test_a_hung_driver_never_slows_the_engine(live: LiveStation) -> None:
    """``stuck`` blocks its thread in run (from the start), ``hung`` in send (party_no's
    output, given up after 0.3 s); a page's inputs and /healthz still answer at once."""
    live.call("end_visit", "operator")
    before = {n: live.health()["drivers"][n]["errors"] for n in ("stuck", "hung")}
    page = open_page(live)  # type: ignore[arg-type]
    try:
        page.hello()
        page.input(type="start")
        assert page.until("view")["view"]["scene"] == "party"
        page.input(type="choose", choice="say_no")  # enters party_no: stuck.send blocks
        assert page.until("view")["view"]["scene"] == "party_no"
        until("hung to block in send", lambda: Stuck.sends >= 1, 5)
        times = []
        for _ in range(5):  # back and forth while the driver is blocked in run and send
            t = time.monotonic()
            page.input(type="language", lang="en")
            page.until("view", timeout=2)
            times.append(time.monotonic() - t)
            t = time.monotonic()
            live.health()
            times.append(time.monotonic() - t)
        assert max(times) < 0.25, times
    finally:
        page.close()
    for name in ("stuck", "hung"):
        until("the send timeout",
              lambda n=name: live.health()["drivers"][n]["errors"] > before[n], 5)  # type: ignore[misc]
        d = live.health()["drivers"][name]
        assert d["connected"] is True and "longer than 0.3 s" in d["problem"], d


def test_healthz_and_heartbeat_report_every_device(live: LiveStation) -> None:
    press(live, "panel", "B7")  # unmapped: counted all the same
    press(live, "panel", "B8")
    until("two messages", lambda: live.health()["drivers"]["panel"]["messages"] >= 2, 5)
    drivers = live.health()["drivers"]
    assert set(drivers) == {"panel", "pir", "lights", "stuck", "hung", "gone"}
    panel = drivers["panel"]
    assert panel["driver"] == "simulated" and panel["connected"] is True
    assert panel["messages"] >= 2 and panel["last_message"] > time.time() - 600
    assert drivers["lights"]["errors"] == 0 and drivers["lights"]["problem"] is None
    gone = drivers["gone"]
    assert gone["connected"] is False and "no-such-driver" in gone["problem"]
    notes = summarize(drivers)
    hb = Heartbeat(boot="b1", software="x", exhibit="e", version="1", uptime=1, outbox=0,
                   drivers=notes)
    assert [n.device for n in hb.drivers] == ["gone", "hung", "lights", "panel", "pir", "stuck"]
    # the hub's station page shows them (the dashboard's own template, rendered here)
    from showfloor.hub.dashboard.render import env

    now = time.time()
    st = {"heartbeat": hb.model_dump(), "exhibit": "e", "version": "1", "scene": None,
          "session_active": False, "sessions_today": 0, "last_seen": now, "last_error": None,
          "language": "en", "idle": None, "usual_quiet": None, "kiosk": None, "fps": None,
          "outbox": 0, "uptime": 5, "disk_free": 1000, "screen": "on", "closed": False,
          "software": "x", "enrolled": now}
    html = env.get_template("_station_details.html").render(
        st=st, now=now, tz="UTC", content=None, tags=[], hours_sentence="")
    row = html.split('data-f="drivers">', 1)[1].split("</dd>", 1)[0]
    assert 'class="err">gone</span>' in row and "no-such-driver" in row
    assert "panel</span> <span class=\"sub\">simulated</span> connected" in row


def test_an_operator_makes_a_device_act(live: LiveStation) -> None:
    """The hub's ``device`` command: checked at the hub, carried out by the station."""
    from showfloor.errors import ConfigError, ShowfloorError
    from showfloor.hub.commands import check_args

    args = check_args("device", {"device": "lights", "do": {"power": "on"}})
    assert args == {"device": "lights", "do": {"power": "on"}}
    for bad in ({"device": "Lights!", "do": {"x": 1}}, {"device": "lights", "do": {}}):
        with pytest.raises(ConfigError, match="device takes"):
            check_args("device", bad)
    assert live.call("device_action", "lights", {"preset": 9}) == "lights: done"
    assert sent(live, "lights")[-1] == {"preset": 9}
    with pytest.raises(ShowfloorError, match="no device 'projector'"):
        live.call("device_action", "projector", {"power": "on"})
    with pytest.raises(ShowfloorError, match="told to fail"):
        live.call("device_action", "lights", {"fail": True})
    with pytest.raises(ShowfloorError, match="at least one key"):
        live.call("device_action", "lights", {})
    ops = [e["data"] for e in live.events("operator") if e["data"]["action"] == "device"]
    assert ops[-1] == {"action": "device", "device": "lights"}


# -- the host alone --------------------------------------------------------------------


class Recorder:
    """A stand-in for the station: what the host feeds it."""

    def __init__(self, phase: str = "session") -> None:
        self.fed: list[tuple[Input, str]] = []
        self.phase = phase

    def device_context(self) -> dict[str, Any]:
        return {"phase": self.phase, "closed": False, "timeline": (0.0, 10.0)}

    async def device_input(self, inp: Input, device: str) -> bool:
        self.fed.append((inp, device))
        return True

    def passer_by(self, device: str, *, visit: bool, started: bool) -> None:
        pass


def _profile(inputs: list[dict[str, Any]], devices: dict[str, Any] | None = None
             ) -> StationProfile:
    return StationProfile.model_validate({
        "station": {"id": "s", "name": "S"},
        "devices": devices or {"panel": {"driver": "simulated"}},
        "inputs": inputs})


async def _settle(rec: Recorder, n: int, timeout: float = 2) -> None:
    end = time.monotonic() + timeout
    while len(rec.fed) < n and time.monotonic() < end:
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.02)  # and nothing more


def test_debounce_and_rate_limit(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        rec = Recorder()
        host = DriverHost(_profile([
            # a wide window: on a loaded machine two 1 ms sleeps can be 50 ms apart
            {"device": "panel", "match": "B1", "do": "advance", "debounce_ms": 500},
            {"device": "panel", "kind": "value", "do": {"timeline": {"min": 0, "max": 100}},
             "debounce_ms": 0, "max_per_second": 5}]), rec)
        await host.start()
        try:
            for _ in range(100):  # a bouncing / stuck button: B1 every millisecond
                host.event(DeviceEvent("panel", "line", "B1"))
                await asyncio.sleep(0.001)
            await _settle(rec, 1)
            assert len(rec.fed) == 1  # one press
            await asyncio.sleep(0.6)
            host.event(DeviceEvent("panel", "line", "B1"))  # a real second press
            await _settle(rec, 2)
            assert len(rec.fed) == 2
            for i in range(200):  # a knob flooding the station: 5 a second pass
                host.event(DeviceEvent("panel", "value", i % 100))
            host.event(DeviceEvent("panel", "value", "not a number"))
            await _settle(rec, 7)
            timeline = [inp for inp, _ in rec.fed
                        if isinstance(inp, Act) and inp.action == "timeline"]
            assert len(timeline) == 5
            assert [t.payload["value"] for t in timeline] == [0.0, 0.1, 0.2, 0.3, 0.4]
            assert host.states["panel"].dropped >= 99 + 195
        finally:
            await host.stop()

    with caplog.at_level(logging.WARNING, "showfloor.drivers"):
        asyncio.run(main())
    floods = [r for r in caplog.records if "stuck button" in r.getMessage()]
    assert len(floods) == 1, [r.getMessage() for r in caplog.records]  # logged once


def test_a_crashing_driver_is_restarted_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    assert [d for _, d in zip(range(8), backoff_delays(), strict=False)] == [
        1, 2, 4, 8, 16, 32, 60, 60]
    Crashy.starts.clear()

    async def main() -> dict[str, Any]:
        host = DriverHost(_profile([], {"door": {"driver": "crashy"}}), Recorder(),
                          backoff=(0.05, 0.2))
        await host.start()
        try:
            end = time.monotonic() + 5
            while len(Crashy.starts) < 5 and time.monotonic() < end:
                await asyncio.sleep(0.01)
            return host.status()["door"]
        finally:
            await host.stop()

    with pytest.MonkeyPatch.context() as mp, caplog.at_level(logging.WARNING):
        mp.setitem(registry(), "crashy", Crashy)
        state = asyncio.run(main())
    gaps = [b - a for a, b in zip(Crashy.starts, Crashy.starts[1:], strict=False)][:4]
    assert len(gaps) == 4, Crashy.starts
    for gap, want in zip(gaps, (0.05, 0.1, 0.2, 0.2), strict=True):
        assert want * 0.9 <= gap <= want + 0.15, gaps
    assert state["connected"] is False and state["errors"] >= 4 and state["restarts"] >= 4
    assert "OSError: no such device" in state["problem"]
    crashes = [r for r in caplog.records if "starting it again" in r.getMessage()]
    assert len(crashes) == 1  # one sentence, not one per crash


class SlowStory(Recorder):
    """A two-scene story that takes 30 ms to apply a choice (a station under load)."""

    def __init__(self) -> None:
        super().__init__()
        self.choices = {"to_pong"}

    def device_context(self) -> dict[str, Any]:
        return {"phase": "session", "closed": False, "timeline": None,
                "choices": set(self.choices)}

    async def device_input(self, inp: Input, device: str) -> bool:
        await asyncio.sleep(0.03)
        self.fed.append((inp, device))
        assert isinstance(inp, ChoiceMade) and inp.choice in self.choices
        self.choices = {"to_ping"} if inp.choice == "to_pong" else {"to_pong"}
        return True


def test_a_press_on_its_way_chooses_in_the_scene_the_one_before_leads_to() -> None:
    """One button, a different choice in each scene: three presses 5 ms apart, each
    arriving before the one before it is applied, choose pong, ping, pong."""
    async def main() -> list[str]:
        rec = SlowStory()
        host = DriverHost(_profile([
            {"device": "panel", "match": "A", "do": {"choose": "to_pong"}, "debounce_ms": 0},
            {"device": "panel", "match": "A", "do": {"choose": "to_ping"}, "debounce_ms": 0},
        ]), rec)
        await host.start()
        try:
            for _ in range(3):
                host.event(DeviceEvent("panel", "line", "A"))
                await asyncio.sleep(0.005)
            await _settle(rec, 3, timeout=2)
        finally:
            await host.stop()
        return [inp.choice for inp, _ in rec.fed if isinstance(inp, ChoiceMade)]

    assert asyncio.run(main()) == ["to_pong", "to_ping", "to_pong"]


def test_a_knob_turns_a_model_timeline_and_a_buzzer_answers() -> None:
    """Through a real Station (no server): the knob's 0-1023 spreads over the organ
    scene's timeline (0-10 years, step 1); in the quiz a buzzer answers the question."""
    from showfloor.content.lint import check
    from showfloor.station.app import Station

    report = check(DEMO)
    assert report.exhibit is not None

    def station(start: str, inputs: list[dict[str, Any]]) -> Station:
        prof = StationProfile.model_validate({
            "station": {"id": "s", "name": "S"}, "start": start,
            "devices": {"knob": {"driver": "simulated"}}, "inputs": inputs})
        # a fixed seed: the quiz's questions come in the same order every time
        return Station(report.exhibit, report.root, profile=prof, seed=7)  # type: ignore[arg-type]

    async def poll(cond: Callable[[], bool], timeout: float) -> None:
        end = time.monotonic() + timeout
        while not cond() and time.monotonic() < end:
            await asyncio.sleep(0.005)

    async def main() -> tuple[list[Any], list[Any]]:
        values, answers = [], []
        st = station("organ_brain", [{"device": "knob", "kind": "value", "debounce_ms": 0,
                                      "do": {"timeline": {"min": 0, "max": 1023}}}])
        assert st.drivers is not None
        await st.drivers.start()
        try:
            await st._take(Started())
            for raw in (512, "1023", "n/a", 0):
                fed = st.inputs
                st.drivers.event(DeviceEvent("knob", "value", raw))
                await poll(functools.partial(lambda f: st.inputs > f, fed),
                           0.2 if raw == "n/a" else 3)
                values.append(st.device_context()["timeline"])
                values.append(st.engine.view().get("timeline", {}).get("value"))
        finally:
            await st.drivers.stop()
        peek = station("quiz", [])
        await peek._take(Started())
        first = peek.engine.view()["question"]["choices"][0]["id"]
        st = station("quiz", [{"device": "knob", "match": "A", "do": {"answer": first}}])
        assert st.drivers is not None
        await st.drivers.start()
        try:
            await st._take(Started())
            st.drivers.event(DeviceEvent("knob", "line", "A"))
            await poll(lambda: "answer" in st.engine.view(), 3)
            answers.append(st.engine.view().get("answer", {}).get("choices"))
            answers.append(first)
        finally:
            await st.drivers.stop()
        return values, answers

    values, answers = asyncio.run(main())
    assert values[0] == (0.0, 10.0)
    assert values[1::2] == [5.0, 10.0, 10.0, 0.0]  # "n/a" is dropped: the value stays
    assert answers[0] == [answers[1]]
