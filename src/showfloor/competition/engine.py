"""A competition's state machine: pure, like the visitor engine (docs/competition.md).

Inputs come from the station (the host's buttons, the players' answers, the clock);
effects go out: views to draw, events to record, refusals to say. Every input the
engine takes is recorded as a ``competition_input`` event, so the log alone gives
the same competition again (:func:`replay`), and the board is always
:func:`showfloor.competition.rules.standings` of the answers taken.

Time is the station's monotonic clock, in seconds. A question is revealed at a
time ``at`` the station picks a little in the future, so every surface can show
it at the same moment on its own clock; an answer carries the page's time since
that reveal, checked against when it arrived (it cannot be later than its arrival,
nor earlier than its arrival less the surface's measured delay: such claims are
clamped and marked).

Single-visitor rules (idle warning, reset) do not apply: only the host ends a
competition.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from showfloor.competition.rules import Standing, Taken, standings
from showfloor.content.model import Competition, Exhibit, Text
from showfloor.content.scenes.quiz import Question, QuizScene, choices_of
from showfloor.engine.effects import Effect, Event, RecordEvent, Rejected, ShowView
from showfloor.errors import ContentError

#: most teams in one competition
MAX_TEAMS = 40
#: fewest teams a competition starts with
MIN_TEAMS = 2
#: answers still arriving this long after time is up are taken (if given in time)
GRACE = 0.5
#: seconds between one question's close and the next one's reveal in a final, unless the
#: hub says otherwise (the board shows the answers meanwhile)
FINAL_GAP = 5.0


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class TeamJoined:
    type: ClassVar[str] = "team_joined"
    team: str
    name: str


@dataclass(frozen=True, slots=True)
class TeamRemoved:
    type: ClassVar[str] = "team_removed"
    team: str


@dataclass(frozen=True, slots=True)
class Begin:
    """The host starts: the questions are drawn with ``seed``."""

    type: ClassVar[str] = "begin"
    seed: int


@dataclass(frozen=True, slots=True)
class Reveal:
    """Show the next question at station time ``at`` (or resume a paused one)."""

    type: ClassVar[str] = "reveal"
    at: float


@dataclass(frozen=True, slots=True)
class Answer:
    """A team's answer to question ``n``: ``elapsed_ms`` since the reveal on the page's
    clock, ``received`` the station's time it arrived, ``slack`` the surface's measured
    round trip (the most the answer can have been on its way)."""

    type: ClassVar[str] = "answer"
    team: str
    n: int
    choices: tuple[str, ...]
    elapsed_ms: int
    received: float
    slack: float = 0.0


@dataclass(frozen=True, slots=True)
class Pause:
    type: ClassVar[str] = "pause"
    now: float
    reason: str = "host"


@dataclass(frozen=True, slots=True)
class Skip:
    """Drop the question on show (it counts for nobody), or the next one."""

    type: ClassVar[str] = "skip"


@dataclass(frozen=True, slots=True)
class End:
    type: ClassVar[str] = "end"


@dataclass(frozen=True, slots=True)
class Tick:
    type: ClassVar[str] = "tick"
    now: float


@dataclass(frozen=True, slots=True)
class FinalOpened:
    """The hub scheduled a final across halls (docs/competition.md): this lobby is its
    hall's. ``start`` is the final's start on this station's clock; question ``i`` is
    revealed at ``start + i × (seconds + gap)``; the questions are drawn with ``seed``."""

    type: ClassVar[str] = "final_opened"
    final: int
    name: str
    start: float
    seed: int
    gap: float = FINAL_GAP


CInput = TeamJoined | TeamRemoved | Begin | Reveal | Answer | Pause | Skip | End | Tick | \
    FinalOpened
_TYPES: dict[str, type[Any]] = {c.type: c for c in (TeamJoined, TeamRemoved, Begin, Reveal,
                                                     Answer, Pause, Skip, End, Tick,
                                                     FinalOpened)}


def to_json(inp: CInput) -> dict[str, Any]:
    out: dict[str, Any] = {"type": inp.type}
    for name in inp.__dataclass_fields__:
        v = getattr(inp, name)
        out[name] = list(v) if isinstance(v, tuple) else v
    return out


def from_json(d: Mapping[str, Any]) -> CInput:
    cls = _TYPES[str(d["type"])]
    # only the input's own fields (an input recorded in a final also carries "final")
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()
          if k != "type" and k in cls.__dataclass_fields__}
    inp: CInput = cls(**kw)
    return inp


# ---------------------------------------------------------------- the questions


@dataclass(frozen=True, slots=True)
class CQuestion:
    id: str
    pool: str
    kind: str
    prompt: Text
    choices: tuple[tuple[str, Text], ...]
    right: frozenset[str]


def question_bank(exhibit: Exhibit, comp: Competition) -> list[CQuestion]:
    """Every question of the competition's pools, in content order."""
    out: list[CQuestion] = []
    for pool in comp.pools:
        scene = exhibit.scene(pool)
        if not isinstance(scene, QuizScene):
            raise ContentError(f"competition '{comp.id}': '{pool}' is not a quiz scene")
        for q in scene.questions:
            out.append(_question(pool, q))
    return out


def _question(pool: str, q: Question) -> CQuestion:
    cs = choices_of(q)
    return CQuestion(q.id, pool, q.kind, q.prompt, tuple((c.id, c.text) for c in cs),
                     frozenset(c.id for c in cs if c.correct))


def competition(exhibit: Exhibit, comp_id: str) -> Competition:
    for c in exhibit.competitions:
        if c.id == comp_id:
            return c
    raise ContentError(f"the exhibit has no competition '{comp_id}'")


def name_problem(comp: Competition, name: str) -> str | None:
    """Why a team name cannot be used (None: it can)."""
    n = " ".join(name.split())
    if not n:
        return "a team name cannot be empty"
    if len(n) > comp.team_name_max:
        return f"a team name has at most {comp.team_name_max} characters"
    if any(ord(ch) < 32 for ch in n):
        return "a team name cannot hold control characters"
    low = n.casefold()
    if any(w.casefold() in low for w in comp.blocked_words):
        return "that team name is not allowed here; pick another"
    return None


# ---------------------------------------------------------------- the machine


@dataclass(slots=True)
class _Now:
    n: int
    at: float  # the current reveal (or resume)
    used_ms: int  # time already used before this reveal (after a pause)
    close_at: float
    answers: dict[str, Taken] = field(default_factory=dict)
    picks: dict[str, tuple[str, ...]] = field(default_factory=dict)


class CompetitionEngine:
    """One competition at one station. Feed it inputs; it returns effects."""

    def __init__(self, exhibit: Exhibit, comp_id: str, t0: float = 0.0) -> None:
        self.exhibit = exhibit
        self.comp = competition(exhibit, comp_id)
        self.bank = question_bank(exhibit, self.comp)
        self.phase = "lobby"  # lobby | between | question | paused | ended
        self.teams: dict[str, str] = {}  # id -> name, in join order
        self.removed: set[str] = set()
        self.questions: list[CQuestion] = []
        self.asked: list[int] = []
        self.skipped: list[int] = []
        self.taken: list[Taken] = []
        self.next_n = 0
        self.now: _Now | None = None
        self.paused_left = 0.0
        self.last: dict[str, Any] | None = None  # the last closed question's results
        self.t = t0
        self._seq = 0
        self.seed: int | None = None
        #: the final across halls this competition is its hall's part of (None: none)
        self.final: FinalOpened | None = None

    # -- reading

    @property
    def seconds(self) -> float:
        return self.comp.seconds

    def board(self) -> list[Standing]:
        teams = [t for t in self.teams if t not in self.removed]
        return standings(self.comp.scoring, self.seconds, teams, self.asked, self.taken)

    def next_deadline(self) -> float | None:
        return self.now.close_at + GRACE if self.phase == "question" and self.now else None

    def scheduled(self, n: int) -> float | None:
        """When question ``n`` of a final is due to be revealed (None: not in a final)."""
        f = self.final
        return None if f is None else f.start + n * (self.seconds + f.gap)

    def final_count(self) -> int:
        """How many questions a final here asks (as many as the competition's, or the bank)."""
        return min(self.comp.questions, len(self.bank))

    def view(self) -> dict[str, Any]:
        board = [{"team": s.team, "name": self.teams[s.team], "rank": s.rank,
                  "points": s.points, "right": s.right} for s in self.board()]
        v: dict[str, Any] = {
            "type": "competition", "competition": self.comp.id, "title": self.comp.title,
            "phase": self.phase, "count": len(self.questions) or self.comp.questions,
            "seconds": self.seconds, "board": board,
            "teams": [{"team": t, "name": n} for t, n in self.teams.items()
                      if t not in self.removed],
            "n": None, "question": None, "at": None, "close_at": None, "used_ms": 0,
            "answered": [], "result": self.last, "final": None,
        }
        if self.final is not None:
            v["final"] = {"final": self.final.final, "name": self.final.name,
                          "start": self.final.start, "gap": self.final.gap}
        if self.now is not None and self.phase in ("question", "paused"):
            q = self.questions[self.now.n]
            v.update(n=self.now.n, question=_public(q), answered=sorted(self.now.answers),
                     used_ms=self.now.used_ms)
            if self.phase == "question":
                v.update(at=self.now.at, close_at=self.now.close_at)
        if self.phase == "ended":
            v["podium"] = board[:3]
        return v

    # -- feeding

    def feed(self, inp: CInput) -> list[Effect]:
        handler = getattr(self, "_" + inp.type)
        why: str | None = handler(inp, dry=True)
        if why is not None:
            return [Rejected(inp.type, why)]
        if isinstance(inp, Tick):
            self.t = max(self.t, inp.now)
        out: list[Effect] = []
        if not isinstance(inp, Tick) or self._due(inp.now):
            out.append(self._record("competition_input", to_json(inp)))
        out.extend(handler(inp, dry=False) or [])
        return out

    def _record(self, kind: str, data: Mapping[str, Any]) -> RecordEvent:
        self._seq += 1
        out = dict(data)
        if self.final is not None:  # every event of a final says which (the hub's board)
            out["final"] = self.final.final
        return RecordEvent(Event(self._seq, self.t, kind, None, None, out))

    def _show(self) -> ShowView:
        return ShowView(self.view())

    # each handler: with dry=True say why the input does not apply (or None);
    # with dry=False apply it and return the effects.

    def _team_joined(self, i: TeamJoined, dry: bool) -> Any:
        if dry:
            if self.phase == "ended":
                return "the competition is over"
            if i.team in self.teams:
                return "that team has already joined"
            if len(self.teams) - len(self.removed) >= MAX_TEAMS:
                return f"this competition is full ({MAX_TEAMS} teams)"
            return name_problem(self.comp, i.name)
        self.teams[i.team] = " ".join(i.name.split())
        return [self._record("team_joined", {"team": i.team, "name": self.teams[i.team]}),
                self._show()]

    def _team_removed(self, i: TeamRemoved, dry: bool) -> Any:
        if dry:
            return None if i.team in self.teams and i.team not in self.removed \
                else "no such team"
        self.removed.add(i.team)
        return [self._record("team_removed", {"team": i.team}), self._show()]

    def _begin(self, i: Begin, dry: bool) -> Any:
        if dry:
            if self.phase != "lobby":
                return "the competition has already begun"
            # a hall of a final may send one team (the others play in other halls)
            least = 1 if self.final is not None else MIN_TEAMS
            if len(self.teams) - len(self.removed) < least:
                return f"a competition needs at least {least} " + \
                    ("team" if least == 1 else "teams")
            return None
        rng = random.Random(i.seed)
        self.questions = rng.sample(self.bank, self.final_count())
        self.seed = i.seed
        self.phase = "between"
        return [self._record("competition_started", {
            "competition": self.comp.id, "questions": [q.id for q in self.questions],
            "teams": [t for t in self.teams if t not in self.removed]}), self._show()]

    def _reveal(self, i: Reveal, dry: bool) -> Any:
        if dry:
            if self.phase == "paused":
                return None
            if self.phase != "between":
                return "no question can be shown now"
            if self.next_n >= len(self.questions):
                return "every question has been asked"
            return None
        if self.phase == "paused" and self.now is not None:
            self.now.at = i.at
            self.now.close_at = i.at + self.paused_left
            self.phase = "question"
            return [self._record("competition_resumed", {"n": self.now.n, "at": i.at}),
                    self._show()]
        n = self.next_n
        self.next_n += 1
        self.now = _Now(n, i.at, 0, i.at + self.seconds)
        self.phase = "question"
        return [self._record("question_revealed", {"n": n, "question": self.questions[n].id,
                                                  "at": i.at}), self._show()]

    def _answer(self, i: Answer, dry: bool) -> Any:
        now = self.now
        if dry:
            if self.phase not in ("question", "paused") or now is None or i.n != now.n:
                if i.n in self.asked:
                    return "time was up"
                return "that question is not on show"
            if i.team not in self.teams or i.team in self.removed:
                return "no such team"
            if i.team in now.answers:
                return "this team has already answered"
            if self.phase == "paused":
                return "the competition is paused"
            q = self.questions[now.n]
            ids = {c for c, _ in q.choices}
            if not i.choices or any(c not in ids for c in i.choices) or \
                    len(set(i.choices)) != len(i.choices):
                return "not a choice of this question"
            if q.kind != "multiple" and len(i.choices) != 1:
                return "this question takes one choice"
            if i.received < now.at:
                return "that question is not on show yet"
            if self._elapsed(i, now)[0] > round(self.seconds * 1000):
                return "time was up"
            return None
        assert now is not None
        elapsed, clamped = self._elapsed(i, now)
        q = self.questions[now.n]
        taken = Taken(i.team, now.n, frozenset(i.choices) == q.right, elapsed)
        now.answers[i.team] = taken
        now.picks[i.team] = tuple(i.choices)
        self.taken.append(taken)
        data = {"team": i.team, "n": now.n, "question": q.id, "choices": list(i.choices),
                "correct": taken.correct, "elapsed_ms": elapsed}
        if clamped:
            data["clamped_from"] = i.elapsed_ms
        return [self._record("answer_taken", data), self._show()]

    def _elapsed(self, i: Answer, now: _Now) -> tuple[int, bool]:
        """The answer's time since the reveal, on the station's reckoning."""
        latest = round((i.received - now.at) * 1000)
        earliest = max(0, latest - round(max(i.slack, 0.0) * 1000))
        claimed = min(max(i.elapsed_ms, earliest), latest)
        return now.used_ms + claimed, claimed != i.elapsed_ms

    def _pause(self, i: Pause, dry: bool) -> Any:
        if dry:
            return None if self.phase == "question" else "nothing to pause"
        assert self.now is not None
        left = max(0.0, self.now.close_at - i.now)
        self.paused_left = left
        self.now.used_ms = round((self.seconds - left) * 1000)
        self.phase = "paused"
        return [self._record("competition_paused", {"n": self.now.n, "reason": i.reason}),
                self._show()]

    def _skip(self, i: Skip, dry: bool) -> Any:
        if dry:
            if self.phase in ("question", "paused"):
                return None
            if self.phase == "between" and self.next_n < len(self.questions):
                return None
            return "nothing to skip"
        if self.now is not None and self.phase in ("question", "paused"):
            n = self.now.n
            self.taken = [t for t in self.taken if t.n != n]
            self.now = None
        else:
            n = self.next_n
            self.next_n += 1
        self.skipped.append(n)
        self.phase = "between"
        return [self._record("question_skipped", {"n": n, "question": self.questions[n].id}),
                self._show()]

    def _end(self, i: End, dry: bool) -> Any:
        if dry:
            return None if self.phase != "ended" else "the competition is over"
        out: list[Effect] = []
        if self.phase == "question":
            out.extend(self._close())
        elif self.phase == "paused" and self.now is not None:
            self.taken = [t for t in self.taken if t.n != self.now.n]
            self.now = None
        self.phase = "ended"
        out.append(self._record("competition_ended", {
            "board": [{"team": s.team, "rank": s.rank, "points": s.points, "right": s.right}
                      for s in self.board()],
            "asked": len(self.asked)}))
        out.append(self._show())
        return out

    def _final_opened(self, i: FinalOpened, dry: bool) -> Any:
        if dry:
            if self.final is not None:
                return f"this competition is already part of final {self.final.final}"
            if self.phase != "lobby":
                return "a competition is under way here; end it before a final can open"
            if not 0 <= i.gap <= 600:
                return "the gap between a final's questions is 0 to 600 seconds"
            return None
        self.final = i
        return [self._record("final_opened", {
            "final": i.final, "name": i.name, "start": i.start, "seconds": self.seconds,
            "gap": i.gap, "count": self.final_count()}), self._show()]

    def _due(self, now: float) -> bool:
        d = self.next_deadline()
        return d is not None and now >= d

    def _tick(self, i: Tick, dry: bool) -> Any:
        if dry:
            return None
        if self._due(i.now):
            return [*self._close(), self._show()]
        return []

    def _close(self) -> list[Effect]:
        now = self.now
        assert now is not None
        q = self.questions[now.n]
        dist = {c: 0 for c, _ in q.choices}
        for picks in now.picks.values():
            for c in picks:
                dist[c] += 1
        self.asked.append(now.n)
        self.last = {"n": now.n, "question": _public(q), "right": sorted(q.right),
                     "distribution": dist, "answered": len(now.answers),
                     "correct": sorted(t for t, a in now.answers.items() if a.correct)}
        self.now = None
        self.phase = "between"
        data: dict[str, Any] = {
            "n": self.last["n"], "question": q.id, "distribution": dist,
            "answered": self.last["answered"], "correct": self.last["correct"]}
        if self.final is not None:  # the hall's standings, for the hub's combined board
            data["board"] = [{"team": s.team, "name": self.teams[s.team], "points": s.points,
                              "right": s.right} for s in self.board()]
        return [self._record("question_closed", data)]


def _public(q: CQuestion) -> dict[str, Any]:
    """A question as the pages draw it: never which choice is right (until it closes)."""
    return {"id": q.id, "kind": q.kind, "prompt": dict(q.prompt),
            "choices": [{"id": c, "text": dict(t)} for c, t in q.choices]}


def replay(exhibit: Exhibit, comp_id: str, events: Iterable[Event]) -> CompetitionEngine:
    """A new engine fed every ``competition_input`` of a recorded log."""
    eng = CompetitionEngine(exhibit, comp_id)
    for e in events:
        if e.kind == "competition_input":
            eng.t = e.t
            eng.feed(from_json(e.data))
    return eng


def seq_of(effects: Sequence[Effect]) -> list[Event]:
    return [e.event for e in effects if isinstance(e, RecordEvent)]
