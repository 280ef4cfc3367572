"""Operator commands in the engine: closed ("attract-only"), the default language, ending a visit.

They are inputs like any other (recorded, replayable); pages never send them (the station
refuses them: tests/station/test_operator.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from showfloor.content.model import Exhibit
from showfloor.engine import Advanced, ChoiceMade, LanguageChanged, Phase, Started, StillHere
from showfloor.engine.inputs import (
    STATION_ONLY,
    Closed,
    DefaultLanguageSet,
    InputError,
    VisitEnded,
    from_json,
    to_json,
)
from showfloor.engine.replay import read_events, replay
from showfloor.engine.state import Transition

from .helpers import TINY, Station, cues, ended, events, kinds, load_exhibit, rejected, views

LENGTH = 10.0


@pytest.fixture
def tiny(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "tiny", TINY)


def in_story(tiny: Exhibit) -> Station:
    st = Station(tiny, length=LENGTH)
    st.feed(Started("v1", 1))
    st.tick(10)  # intro (10 s of media, auto) → story
    assert st.scene == "story"
    return st


# -- the wire ------------------------------------------------------------------

@pytest.mark.parametrize(("inp", "wire"), [
    (Closed(True), {"type": "closed", "closed": True}),
    (Closed(False), {"type": "closed", "closed": False}),
    (DefaultLanguageSet("zh-CN"), {"type": "default_language", "lang": "zh-CN"}),
    (VisitEnded("operator"), {"type": "end_visit", "reason": "operator"}),
    (VisitEnded("closed"), {"type": "end_visit", "reason": "closed"}),
])
def test_operator_inputs_round_trip_as_json(inp: object, wire: dict[str, object]) -> None:
    assert to_json(inp) == wire  # type: ignore[arg-type]
    assert from_json(json.loads(json.dumps(wire))) == inp
    assert wire["type"] in STATION_ONLY


@pytest.mark.parametrize(("wire", "says"), [
    ({"type": "closed"}, "true or false"),
    ({"type": "closed", "closed": "yes"}, "true or false"),
    ({"type": "closed", "closed": 1}, "true or false"),
    ({"type": "default_language"}, "'lang'"),
    ({"type": "default_language", "lang": ""}, "'lang'"),
    ({"type": "end_visit", "reason": "Bye, kids!"}, "short id"),
    ({"type": "end_visit", "reason": "x" * 41}, "short id"),
])
def test_malformed_operator_inputs_are_refused(wire: dict[str, object], says: str) -> None:
    with pytest.raises(InputError, match=says):
        from_json(wire)


def test_end_visit_reason_defaults_to_operator() -> None:
    assert from_json({"type": "end_visit"}) == VisitEnded("operator")


# -- closed ------------------------------------------------------------------------

def test_closed_refuses_a_start_and_says_why(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    out = st.feed(Closed(True), at=1)
    assert kinds(out) == ["input", "closed", "view"]
    (v,) = views(out)
    assert v["phase"] == "attract" and v["closed"] is True
    assert v["closed_notice"] == [{"lang": "en", "text": "This exhibit is closed now"},
                                  {"lang": "zh-CN", "text": "本展项现在暂停开放"}]
    assert st.engine.closed and st.engine.snapshot()["closed"] is True
    out = st.feed(Started(), at=2)
    (r,) = rejected(out)
    assert r.input_type == "start" and "closed" in r.reason
    assert events(out) == [] and views(out) == []
    assert st.engine.session is None and st.engine.sessions == 0
    assert st.engine.next_deadline() is None


def test_closing_ends_a_visit_with_reason_closed(tiny: Exhibit) -> None:
    st = in_story(tiny)
    st.feed(ChoiceMade("brave"), at=12)
    out = st.feed(Closed(True), at=13)
    assert kinds(out) == ["input", "scene_exited", "session_ended", "closed", "view"]
    (end,) = ended(out)
    assert end.data["reason"] == "closed" and end.session == "v1"
    assert [c.name for c in cues(out)] == ["reset"]
    assert cues(out)[0].data == {"reason": "closed"}
    (v,) = views(out)
    assert v["scene"] == "attract" and v["closed"] is True
    assert st.engine.phase is Phase.ATTRACT and st.engine.session is None
    # the reset cue comes before the closed attract view (pages clear first)
    assert out.index(cues(out)[0]) < out.index(next(e for e in out if hasattr(e, "view")))


def test_closing_during_the_idle_warning_ends_the_visit(tiny: Exhibit) -> None:
    st = in_story(tiny)
    st.tick(10 + 30 + 1)  # idle
    assert st.engine.phase is Phase.WARNING
    out = st.feed(Closed(True), at=42)
    assert ended(out)[0].data["reason"] == "closed"
    assert "still_here" not in kinds(out)  # an operator command is not the visitor coming back
    assert st.engine.phase is Phase.ATTRACT


def test_reopening_lets_visits_start_again(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    st.feed(Closed(True), at=1)
    out = st.feed(Closed(False), at=2)
    assert kinds(out) == ["input", "closed", "view"]
    assert events(out)[1].data == {"closed": False}
    (v,) = views(out)
    assert "closed" not in v and "closed_notice" not in v
    assert views(st.feed(Started("v2", 2), at=3))[0]["scene"] == "intro"


def test_closing_twice_changes_nothing(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    st.feed(Closed(True), at=1)
    out = st.feed(Closed(True), at=2)
    assert events(out) == [] and views(out) == []
    assert "already closed" in rejected(out)[0].reason
    out = Station(tiny, length=LENGTH).feed(Closed(False))
    assert "already open" in rejected(out)[0].reason


def test_the_closed_notice_follows_the_language_on_screen(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    st.feed(Closed(True), at=1)
    (v,) = views(st.feed(LanguageChanged("zh-CN"), at=2))  # a visitor may still switch
    assert v["lang"] == "zh-CN" and v["closed"] is True
    assert [line["lang"] for line in v["closed_notice"]] == ["zh-CN", "en"]


def test_the_closed_notice_can_be_overridden_by_the_exhibit(tmp_path: Path) -> None:
    doc = TINY.replace("idle: {timeout: 30", "ui:\n  closed: {en: Back tomorrow, zh-CN: 明天见}\n"
                       "idle: {timeout: 30", 1)
    st = Station(load_exhibit(tmp_path / "ui", doc), length=LENGTH)
    (v,) = views(st.feed(Closed(True)))
    assert [line["text"] for line in v["closed_notice"]] == ["Back tomorrow", "明天见"]


def test_views_of_an_open_station_do_not_change(tiny: Exhibit) -> None:
    """Nothing is added to an open station's views: their digests stay as they were."""
    st = Station(tiny, length=LENGTH)
    (first,) = views(st.first)
    assert "closed" not in first and "closed_notice" not in first
    assert "closed" not in first["ui"]


# -- default language -------------------------------------------------------------------

def test_default_language_changes_attract_now_and_later_visits(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    out = st.feed(DefaultLanguageSet("zh-CN"), at=1)
    assert kinds(out) == ["input", "default_language_set", "view"]
    assert events(out)[1].data == {"lang": "zh-CN"}
    (v,) = views(out)
    assert v["lang"] == "zh-CN" and v["scene"] == "attract"
    out = st.feed(Started("v1", 1), at=2)
    assert views(out)[0]["lang"] == "zh-CN"
    assert next(e for e in events(out) if e.kind == "session_started").data == {"lang": "zh-CN"}
    # a visitor switches to English; after the visit the station is back to Chinese
    st.feed(LanguageChanged("en"), at=3)
    out = st.feed(VisitEnded(), at=4)
    assert views(out)[-1]["lang"] == "zh-CN"


def test_default_language_during_a_visit_waits_for_the_reset(tiny: Exhibit) -> None:
    st = in_story(tiny)
    last_input = st.engine.last_input
    out = st.feed(DefaultLanguageSet("zh-CN"), at=15)
    assert kinds(out) == ["input", "default_language_set"]  # no view: the visit keeps English
    assert st.engine.lang == "en" and st.engine.last_input == last_input
    out = st.feed(VisitEnded(), at=16)
    assert views(out)[-1]["lang"] == "zh-CN"


def test_a_language_not_offered_is_refused_with_the_offered_ones(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    out = st.feed(DefaultLanguageSet("fr"), at=1)
    (r,) = rejected(out)
    assert "'fr' is not offered" in r.reason and "en, zh-CN" in r.reason
    assert events(out) == [] and st.engine.default_language == "en"
    assert "already" in rejected(st.feed(DefaultLanguageSet("en"), at=2))[0].reason


# -- ending a visit ------------------------------------------------------------------------

def test_end_visit_ends_it_like_an_idle_timeout(tiny: Exhibit) -> None:
    st = in_story(tiny)
    out = st.feed(VisitEnded("operator"), at=20)
    assert kinds(out) == ["input", "scene_exited", "session_ended", "view"]
    (end,) = ended(out)
    assert end.data == {"reason": "operator", "duration": 20.0, "scenes": 2}
    assert [c.data for c in cues(out)] == [{"reason": "operator"}]
    assert views(out)[0]["scene"] == "attract"
    assert st.engine.session is None and st.engine.phase is Phase.ATTRACT
    # the next visitor starts from the exhibit's defaults
    st.feed(Started("v2", 2), at=21)
    st.tick(31)
    assert st.vars["score"] == 0 and st.vars["brave"] is False


def test_end_visit_in_attract_does_nothing(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    out = st.feed(VisitEnded(), at=1)
    assert events(out) == [] and views(out) == [] and cues(out) == []
    assert "no visit" in rejected(out)[0].reason


def test_end_visit_with_free_text_as_reason_is_refused(tiny: Exhibit) -> None:
    st = in_story(tiny)
    out = st.feed(VisitEnded("Fire drill in hall B!"), at=12)
    assert events(out) == [] and "short id" in rejected(out)[0].reason
    assert st.engine.session is not None


def test_operator_inputs_do_not_answer_the_idle_warning(tiny: Exhibit) -> None:
    st = in_story(tiny)
    st.tick(41)
    assert st.engine.phase is Phase.WARNING
    st.feed(DefaultLanguageSet("zh-CN"), at=42)
    assert st.engine.phase is Phase.WARNING  # still counting down
    out = st.tick(41 + 10)
    assert ended(out)[0].data["reason"] == "timeout"


def test_transitions_are_named() -> None:
    assert {t.value for t in Transition} >= {"end_visit", "close", "open"}


# -- replay ---------------------------------------------------------------------------------

def test_a_log_with_operator_commands_replays(tiny: Exhibit, tmp_path: Path) -> None:
    st = Station(tiny, length=LENGTH)
    st.feed(DefaultLanguageSet("zh-CN"), at=1)
    st.feed(Started("v1", 11), at=2)
    st.tick(12)
    st.feed(ChoiceMade("shy"), at=13)
    st.feed(VisitEnded("operator"), at=14)
    st.feed(Started("v2", 12), at=20)
    st.tick(30)
    st.feed(Advanced(), at=31)  # nothing to advance on a story: refused, not recorded
    st.feed(Closed(True), at=32)
    st.feed(Started(), at=33)  # refused: closed
    st.feed(DefaultLanguageSet("en"), at=34)
    st.feed(Closed(False), at=40)
    st.feed(Started("v3", 13), at=41)
    st.feed(StillHere(), at=42)
    st.tick(200)
    log = st.log
    reasons = [e.data["reason"] for e in log if e.kind == "session_ended"]
    assert reasons == ["operator", "closed", "timeout"]
    path = tmp_path / "events.jsonl"
    path.write_text("".join(json.dumps(e.as_json()) + "\n" for e in log), encoding="utf-8")
    types = [e.data["input"]["type"] for e in read_events(path) if e.kind == "input"]
    assert {"default_language", "end_visit", "closed"} <= set(types)
    result = replay(tiny, read_events(path), media_length=lambda _p: LENGTH)
    assert result.ok, result.first_difference()
    assert len(result.got) == sum(e.kind == "view" for e in log) > 10
    assert result.sessions == 3


def test_a_tampered_operator_command_is_found(tiny: Exhibit) -> None:
    st = Station(tiny, length=LENGTH)
    st.feed(Closed(True), at=1)
    st.feed(Closed(False), at=5)
    log = list(st.log)
    i = next(i for i, e in enumerate(log) if e.kind == "input")
    del log[i]  # the station was never closed, so the reopen is refused: one view fewer
    result = replay(tiny, log, media_length=lambda _p: LENGTH)
    assert not result.ok
