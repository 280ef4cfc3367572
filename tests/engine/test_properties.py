"""Properties of the engine under any sequence of inputs (hypothesis).

Driven on a small exhibit with every scene type and on the demo exhibit: the
engine never raises, never stays in a visit past idle timeout + countdown,
forgets a visit completely when it resets, ends every visit exactly once and
numbers its events in order.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.content.scenes.base import Option
from showfloor.engine import (
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    Engine,
    LanguageChanged,
    Phase,
    RecordEvent,
    Rejected,
    SendCue,
    Started,
    StillHere,
)
from showfloor.engine.clock import VirtualClock
from showfloor.engine.effects import Effect, ShowView
from showfloor.engine.state import digest

from .helpers import TINY, Station, load_exhibit

DEMO = Path(__file__).resolve().parents[2] / "examples" / "drug-prevention"
REASONS = {"completed", "timeout", "no_next", "no_branch", "missing_scene"}
LENGTH = 10.0
SETTINGS = settings(max_examples=400, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow])

Step = tuple[Any, ...]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Exhibit:
    return load_exhibit(tmp_path_factory.mktemp("tiny"), TINY)


@pytest.fixture(scope="module")
def demo() -> Exhibit:
    if not (DEMO / "exhibit.yaml").is_file():
        pytest.skip("the demo exhibit is absent")
    loaded = load(DEMO)
    if loaded.problems or loaded.exhibit is None:
        pytest.skip(f"the demo exhibit does not load cleanly ({len(loaded.problems)} problems)")
    return loaded.exhibit


def ids_of(exhibit: Exhibit) -> tuple[list[str], list[str], list[str]]:
    """Story choice ids, quiz question ids and quiz choice ids of an exhibit."""
    choices: set[str] = set()
    questions: set[str] = set()
    answers: set[str] = {"true", "false"}
    for scene in exhibit.scenes:
        for c in getattr(scene, "choices", None) or []:
            choices.add(c.id)
        for q in getattr(scene, "questions", None) or []:
            questions.add(q.id)
            answers.update(c.id for c in q.choices or [])
    return sorted(choices), sorted(questions), sorted(answers)


JUNK = ["nope", "zz", "attract", ""]
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3),
                   st.lists(st.sampled_from(["a", "b", "true", "x"]), max_size=3),
                   st.dictionaries(st.text(max_size=2), st.integers(), max_size=2))


def steps(exhibit: Exhibit) -> st.SearchStrategy[list[Step]]:
    choices, questions, answers = ids_of(exhibit)
    langs = [*exhibit.languages, "xx", "fr"]
    time = st.floats(0, 200, allow_nan=False, allow_infinity=False)
    step = st.one_of(
        st.tuples(st.just("tick"), time),
        st.tuples(st.just("wait"), time),  # time passes, no tick arrives
        st.tuples(st.just("wait"), time),
        st.tuples(st.just("valid"), st.integers(0, 20)),  # something the scene offers
        st.tuples(st.just("valid"), st.integers(0, 20)),
        st.tuples(st.just("choose"), st.sampled_from(choices + JUNK)),
        st.tuples(st.just("answer"), st.sampled_from(questions + JUNK),
                  st.lists(st.sampled_from(answers + JUNK), min_size=1, max_size=3)),
        st.just(("advance",)),
        st.tuples(st.just("lang"), st.sampled_from(langs)),
        st.just(("still",)),
        st.tuples(st.just("act"),
                  st.one_of(st.sampled_from(["answer", "choose", "advance", "start", "x"]),
                            st.text(min_size=1, max_size=6)),
                  st.dictionaries(st.sampled_from(["choice", "choices", "question", "k"]),
                                  VALUES, max_size=3)),
        st.just(("start",)),
        st.just(("start",)),
    )
    return st.lists(step, min_size=5, max_size=60)


def _from_option(opt: Option) -> Any:
    if opt.action == "advance":
        return Advanced()
    if opt.action == "choose":
        return ChoiceMade(str(opt.payload["choice"]))
    if opt.action == "answer":
        return AnswerGiven(str(opt.payload["question"]), tuple(opt.payload["choices"]))
    return Act(opt.action, dict(opt.payload))


class Checker:
    """Feeds steps to a station and checks the invariants after each one."""

    def __init__(self, exhibit: Exhibit) -> None:
        self.exhibit = exhibit
        self.station = Station(exhibit, length=LENGTH)
        self.engine = self.station.engine
        self.clock = self.station.clock
        [first] = [e.view for e in self.station.first if isinstance(e, ShowView)]
        assert first["lang"] == exhibit.default_language
        self.attract = digest(first)
        self.seq = max(e.seq for e in self.station.log)
        self.started: dict[str, int] = {}
        self.ended: Counter[str] = Counter()
        self.gone: set[str] = set()  # ids of visits that have ended
        start_scene = exhibit.scene(exhibit.start)
        self.start_sets = bool(start_scene and start_scene.set)

    # -- driving ----------------------------------------------------------
    def input_for(self, step: Step) -> Any:
        kind = step[0]
        if kind == "valid":
            s = self.engine.session
            if s is None or s.scene is None:
                return Started()
            opts = self.engine.types[s.scene.id].options(s.scene, s)
            return _from_option(opts[step[1] % len(opts)]) if opts else Advanced()
        if kind == "choose":
            return ChoiceMade(step[1])
        if kind == "answer":
            return AnswerGiven(step[1], tuple(step[2]))
        if kind == "advance":
            return Advanced()
        if kind == "lang":
            return LanguageChanged(step[1])
        if kind == "still":
            return StillHere()
        if kind == "act":
            return Act(step[1], step[2])
        assert kind == "start"
        return Started()

    def step(self, step: Step) -> None:
        if step[0] == "wait":
            self.clock.advance(step[1])
            return
        if step[0] == "tick":
            now = self.clock.now + step[1]
            self.check(self.station.tick(now), None)
            self.check_idle(now)
            return
        inp = self.input_for(step)
        self.check(self.station.feed(inp), inp)

    def finish(self) -> None:
        """Walk away: one late tick must end whatever visit is on."""
        self.check(self.station.tick(self.clock.now + 100_000), None)
        assert self.engine.session is None
        assert self.engine.phase is Phase.ATTRACT
        assert set(self.started) == set(self.ended)
        assert all(n == 1 for n in self.ended.values()), self.ended

    # -- checking ---------------------------------------------------------
    def check(self, effects: list[Effect], inp: Any) -> None:
        engine = self.engine
        after_end = False
        new_sessions: list[tuple[str, int, str]] = []
        for eff in effects:
            if isinstance(eff, RecordEvent):
                ev = eff.event
                assert ev.seq > self.seq, (ev.seq, self.seq)
                self.seq = ev.seq
                if ev.kind == "session_started":
                    assert ev.session is not None
                    assert ev.session not in self.started, "a session id was reused"
                    self.started[ev.session] = ev.seq
                elif ev.kind == "input" and ev.data["input"]["type"] == "start" \
                        and ev.data["input"]["session"] is not None:
                    new_sessions.append((ev.data["input"]["session"],
                                         ev.data["input"]["seed"], engine.lang))
                elif ev.kind == "session_ended":
                    assert ev.session in self.started
                    assert ev.data["reason"] in REASONS
                    self.ended[ev.session] += 1
                    self.gone.add(ev.session)
                    after_end = True
            elif isinstance(eff, SendCue):
                assert eff.name == "reset"
            elif isinstance(eff, ShowView):
                text = json.dumps(eff.view, ensure_ascii=False)
                for old in self.gone:
                    assert old not in text
                if after_end:
                    # the first view after a reset: the untouched attract view
                    assert eff.view["phase"] == "attract"
                    assert eff.view["lang"] == self.exhibit.default_language
                    assert digest(eff.view) == self.attract
                    after_end = False
        assert not after_end, "a session ended without showing attract again"
        # a reset that was due happened before the input was looked at; a new
        # visit starts fresh: default variables, same first view as on a new engine
        s = engine.session
        for sid, seed, _ in new_sessions:
            if s is not None and s.id == sid:
                self.check_fresh(sid, seed)
        # the phase and the view agree
        view = engine.view()
        assert view["phase"] == engine.phase.value
        assert ("overlay" in view) == (engine.phase is Phase.WARNING)
        assert (s is None) == (engine.phase is Phase.ATTRACT)
        if s is not None and inp is not None and not any(
                isinstance(e, Rejected) for e in effects):
            # any input a visit takes restarts the idle timer at the input's time
            assert engine.last_input == self.clock.now

    def check_fresh(self, sid: str, seed: int) -> None:
        engine = self.engine
        s = engine.session
        assert s is not None
        if not self.start_sets:
            assert s.vars == engine.defaults
        fresh = Engine(self.exhibit, clock=VirtualClock(0), media_length=lambda p: LENGTH)
        fresh.start()
        if s.lang != self.exhibit.default_language:
            fresh.feed(LanguageChanged(s.lang))
        fresh.feed(Started(sid, seed))
        assert fresh.snapshot()["vars"] == dict(s.vars)
        assert digest(fresh.view()) == digest(engine.view())

    def check_idle(self, now: float) -> None:
        engine = self.engine
        s = engine.session
        if s is None:
            return
        assert s.scene is not None
        busy = engine.types[s.scene.id].busy_until(s.scene, s)
        idle_from = max(engine.last_input, busy if busy is not None else engine.last_input)
        limit = idle_from + engine.idle_timeout + engine.idle_countdown
        assert now < limit + 1e-9, (now, limit, engine.phase)


def run_all(exhibit: Exhibit, plan: list[Step]) -> None:
    checker = Checker(exhibit)
    for step in plan:
        checker.step(step)
    checker.finish()


@SETTINGS
@given(data=st.data())
def test_any_inputs_on_the_small_exhibit(tiny: Exhibit, data: st.DataObject) -> None:
    run_all(tiny, data.draw(steps(tiny), label="steps"))


@SETTINGS
@given(data=st.data())
def test_any_inputs_on_the_demo_exhibit(demo: Exhibit, data: st.DataObject) -> None:
    run_all(demo, data.draw(steps(demo), label="steps"))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_mostly_valid_visits_reach_the_end(tiny: Exhibit, data: st.DataObject) -> None:
    """Visitors who mostly do what is offered get through; still every invariant holds."""
    step = st.one_of(st.tuples(st.just("valid"), st.integers(0, 5)),
                     st.tuples(st.just("tick"), st.floats(0, 15, allow_nan=False)))
    plan = data.draw(st.lists(step, min_size=20, max_size=80), label="steps")
    checker = Checker(tiny)
    for s in plan:
        checker.step(s)
    checker.finish()


def test_a_long_fixed_walk_through_every_scene_type(tiny: Exhibit) -> None:
    """A deterministic plan that visits every scene type, for the checker itself."""
    checker = Checker(tiny)
    plan: list[Step] = [("start",), ("tick", 10), ("valid", 0), ("valid", 0)]
    plan += [("valid", 0), ("valid", 0)] * 3  # answer, advance × 3
    plan += [("valid", 0), ("lang", "zh-CN"), ("tick", 5), ("tick", 20)]  # end → attract
    plan += [("start",), ("tick", 45), ("still",), ("wait", 100), ("start",), ("tick", 1)]
    for s in plan:
        checker.step(s)
    checker.finish()
    assert len(checker.started) == 3
    assert checker.engine.sessions == 3
