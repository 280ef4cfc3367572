"""Simulated visitors: walk thousands of paths through the engine on a virtual clock.

Each visitor follows a profile — how fast they read, how long they watch,
how often they know a quiz answer, how likely they are to walk away — and
acts only through the options the scene types offer, exactly as a person at
the screen could. The report shows what ``check`` cannot: scenes nobody
reaches, branches never taken in practice, dwell times, quiz scores, and how
many visits end or time out.
"""

from __future__ import annotations

import json
import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from showfloor.content.model import Exhibit
from showfloor.content.scenes import registry
from showfloor.content.scenes.base import Option
from showfloor.engine.clock import VirtualClock
from showfloor.engine.effects import RecordEvent
from showfloor.engine.inputs import (
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    Input,
    LanguageChanged,
    Started,
    Tick,
)
from showfloor.engine.state import Engine


@dataclass(frozen=True)
class Profile:
    """How a kind of visitor behaves. Reading speeds are characters per second."""

    name: str
    read_speed: tuple[float, float]  # range, per visitor
    react: tuple[float, float]  # seconds to decide after reading
    watch: float  # share of each media a visitor watches before going on (1: all)
    knows: float  # chance of answering a quiz question right
    leave: float  # chance, at each scene, of walking away without a word
    description: str


PROFILES: dict[str, Profile] = {
    "random": Profile("random", (6.0, 30.0), (0.5, 4.0), 0.6, 0.5, 0.04,
                      "a mix: any speed, choices at random, sometimes leaves"),
    "diligent": Profile("diligent", (5.0, 10.0), (1.0, 3.0), 1.0, 0.8, 0.005,
                        "reads everything, watches every video, knows most answers"),
    "hurried": Profile("hurried", (25.0, 60.0), (0.3, 1.2), 0.2, 0.5, 0.12,
                       "skims, skips media, often walks away"),
}


@dataclass
class Report:
    """What the simulated visitors did."""

    visitors: int
    profile: str
    seed: int
    scenes: list[str]
    reached: Counter[str] = field(default_factory=Counter)
    dwell: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    session_seconds: list[float] = field(default_factory=list)
    endings: Counter[str] = field(default_factory=Counter)
    scores: list[int] = field(default_factory=list)
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)
    never_taken: list[dict[str, Any]] = field(default_factory=list)
    choices: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    steps: int = 0

    def merge(self, other: Report) -> None:
        """Add another block's counts to this report."""
        self.reached.update(other.reached)
        for k, v in other.dwell.items():
            self.dwell[k].extend(v)
        self.session_seconds.extend(other.session_seconds)
        self.endings.update(other.endings)
        self.scores.extend(other.scores)
        self.edges.update(other.edges)
        self.choices.update(other.choices)
        self.errors.update(other.errors)
        self.steps += other.steps

    @property
    def completed(self) -> int:
        return self.endings.get("completed", 0)

    @property
    def timed_out(self) -> int:
        return self.endings.get("timeout", 0)

    def as_json(self) -> dict[str, Any]:
        n = max(self.visitors, 1)
        return {
            "visitors": self.visitors,
            "profile": self.profile,
            "seed": self.seed,
            "completed_share": self.completed / n,
            "timed_out_share": self.timed_out / n,
            "endings": dict(self.endings),
            "coverage": {s: self.reached.get(s, 0) / n for s in self.scenes},
            "never_reached": [s for s in self.scenes if not self.reached.get(s)],
            "dwell": {s: _stats(v) for s, v in self.dwell.items()},
            "session": _stats(self.session_seconds),
            "quiz_percent": _histogram(self.scores),
            "never_taken": self.never_taken,
            "errors": dict(self.errors),
        }


def _stats(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "median": 0.0, "p90": 0.0}
    values = sorted(values)
    return {"n": len(values), "median": statistics.median(values),
            "p90": values[min(len(values) - 1, int(0.9 * len(values)))]}


def _histogram(scores: list[int]) -> dict[str, int]:
    buckets = Counter(min(s // 10, 9) for s in scores)
    return {f"{b * 10}-{b * 10 + 9 if b < 9 else 100}": buckets.get(b, 0) for b in range(10)}


def _input(opt: Option) -> Input:
    if opt.action == "advance":
        return Advanced()
    if opt.action == "choose":
        return ChoiceMade(str(opt.payload["choice"]))
    if opt.action == "answer":
        return AnswerGiven(str(opt.payload["question"]), tuple(opt.payload["choices"]))
    return Act(opt.action, dict(opt.payload))


#: Visitors are simulated in blocks of this many, each with its own seed, so a
#: report is the same whatever the number of worker processes.
BLOCK = 1000


def simulate(
    exhibit: Exhibit,
    visitors: int,
    *,
    profile: str = "random",
    seed: int = 0,
    media_length: Callable[[str], float | None] | None = None,
    record: str | Path | None = None,
    origin: str | None = None,
    jobs: int = 1,
) -> Report:
    """Run ``visitors`` simulated visits and report what happened.

    With ``record``, every event (views included) is also written to that
    JSON-lines file, which ``showfloor replay`` can check (one engine, one
    process). ``jobs`` spreads blocks of visitors over worker processes; the
    report does not depend on it.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile '{profile}'")
    # media lengths are read once, here, so workers need no file access
    lengths: dict[str, float | None] = {}
    if media_length is not None:
        types = registry()
        for sc in exhibit.scenes:
            for asset in types[sc.type].assets(sc):
                if asset.path not in lengths:
                    lengths[asset.path] = media_length(asset.path)
    if record is not None:
        with Path(record).open("w", encoding="utf-8") as log:
            report = _run(exhibit, visitors, profile, f"{seed}", lengths, log, origin, "0")
        report.seed = seed
        return _finish(exhibit, report)
    blocks = [(i, min(BLOCK, visitors - i * BLOCK)) for i in range(-(-visitors // BLOCK))]
    work = [(exhibit, n, profile, f"{seed}:{i}", lengths, None, None, str(i))
            for i, n in blocks]
    if jobs > 1 and len(blocks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(min(jobs, len(blocks)),
                                 mp_context=multiprocessing.get_context(method)) as pool:
            parts = list(pool.map(_run_args, work))
    else:
        parts = [_run_args(w) for w in work]
    report = Report(visitors, profile, seed, [sc.id for sc in exhibit.scenes])
    for part in parts:
        report.merge(part)
    return _finish(exhibit, report)


def _run_args(args: tuple[Any, ...]) -> Report:
    return _run(*args)


def _finish(exhibit: Exhibit, report: Report) -> Report:
    """List the edges (flow branches, choices) never taken in practice."""
    types = registry()
    for sc in exhibit.scenes:
        for e in types[sc.type].edges(sc):
            if report.reached.get(sc.id) and not report.edges.get((sc.id, e.target)):
                report.never_taken.append({"scene": sc.id, "label": e.label,
                                           "target": e.target, "when": e.when})
    return report


def _run(exhibit: Exhibit, visitors: int, profile: str, seed: str,
         lengths: dict[str, float | None], log: Any, origin: str | None,
         block: str) -> Report:
    prof = PROFILES[profile]
    rng = random.Random(seed)
    clock = VirtualClock(0.0)
    counter = iter(range(1, 1 << 62))
    engine = Engine(exhibit, clock=clock, media_length=lengths.get, views=log is not None,
                    digests=log is not None, new_id=lambda: f"sim-{block}-{next(counter)}",
                    new_seed=lambda: rng.getrandbits(32), origin=origin)
    report = Report(visitors, profile, 0, [s.id for s in exhibit.scenes])
    types = registry()
    scene_types = {s.id: types[s.type] for s in exhibit.scenes}
    langs = exhibit.languages
    long_wait = engine.idle_timeout + engine.idle_countdown + 1.0
    reached, edges, dwell = report.reached, report.edges, report.dwell

    def consume(effects: list[Any]) -> None:
        for eff in effects:
            if eff.__class__ is not RecordEvent:
                continue
            ev = eff.event
            if log is not None:
                log.write(json.dumps(ev.as_json(), ensure_ascii=False) + "\n")
            kind = ev.kind
            scene = ev.scene or ""
            if kind == "scene_entered":
                reached[scene] += 1
                src = ev.data["from"]
                if src is not None:
                    edges[(src, scene)] += 1
            elif kind == "scene_exited":
                dwell[scene].append(ev.data["dwell"])
            elif kind == "session_ended":
                report.endings[ev.data["reason"]] += 1
                report.session_seconds.append(ev.data["duration"])
            elif kind == "quiz_completed":
                report.scores.append(ev.data["percent"])
            elif kind == "choice_made":
                report.choices[(scene, ev.data["choice"])] += 1
            elif kind == "error":
                report.errors[str(ev.data.get("what"))] += 1

    consume(engine.start())
    for _ in range(visitors):
        speed = rng.uniform(*prof.read_speed)
        clock.now += rng.uniform(5.0, 60.0)  # the next visitor walks up
        lang = langs[0] if rng.random() < 0.7 or len(langs) == 1 else rng.choice(langs[1:])
        if lang != engine.lang:
            consume(engine.feed(LanguageChanged(lang)))
        consume(engine.feed(Started()))
        report.steps += 1
        while True:
            s = engine.session
            if s is None:
                break
            scene = s.scene
            assert scene is not None
            st = scene_types[scene.id]
            if rng.random() < prof.leave * 0.25:
                # walks away: time runs on until the station resets
                while engine.session is not None:
                    d = engine.next_deadline()
                    clock.now = max(clock.now, d if d is not None else clock.now + long_wait)
                    consume(engine.feed(Tick(clock.now)))
                    report.steps += 1
                break
            options = st.options(scene, s)
            if not options:
                d = engine.next_deadline()
                clock.now = max(clock.now, d if d is not None else clock.now + long_wait)
                consume(engine.feed(Tick(clock.now)))
                report.steps += 1
                continue
            opt = _pick(options, prof, rng)
            think = opt.read / speed + rng.uniform(*prof.react)
            busy = st.busy_until(scene, s)
            if busy is not None and busy > clock.now:
                think = max(think, (busy - clock.now) * prof.watch)
            at = clock.now + think
            d = engine.next_deadline()
            if d is not None and d <= at:
                clock.now = max(clock.now, d)
                consume(engine.feed(Tick(clock.now)))
                report.steps += 1
                continue
            clock.now = at
            consume(engine.feed(_input(opt)))
            report.steps += 1
    return report


def _pick(options: list[Option], prof: Profile, rng: random.Random) -> Option:
    if len(options) == 1:
        return options[0]
    if options[0].correct is not None:
        right = [o for o in options if o.correct]
        wrong = [o for o in options if not o.correct]
        if right and (not wrong or rng.random() < prof.knows):
            return rng.choice(right)
        return rng.choice(wrong)
    return rng.choice(options)
