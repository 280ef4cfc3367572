"""``quiz``: single-choice, multiple-choice and true/false questions.

A visitor answers, sees feedback that explains, and goes on; after the last
question a summary, then ``next``. Questions can be drawn from a pool and
shuffled (per session, from the session's seed, so a replay asks the same).
Results go into variables that later scenes can branch on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import Flow, Id, ImageRef, Model, SceneBase, Text, VarName
from showfloor.content.scenes.base import (
    STAY,
    Asset,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
)


class QuizChoice(Model):
    id: Id
    text: Text
    correct: bool = False
    feedback: Text | None = None


class Question(Model):
    id: Id
    kind: Literal["single", "multiple", "true-false"] = "single"
    prompt: Text
    image: ImageRef | None = None
    points: Annotated[int, Field(ge=0, le=1000)] = 1
    source: Id | None = None
    explanation: Text | None = None
    choices: list[QuizChoice] | None = None
    answer: bool | None = Field(
        default=None, description="For true-false questions written without choices.")
    feedback: dict[Literal["correct", "incorrect"], Text] | None = Field(
        default=None, description="Feedback by outcome, for questions without per-choice feedback.")

    @model_validator(mode="after")
    def _shape(self) -> Question:
        if self.kind == "true-false":
            if self.choices is None and self.answer is None:
                raise ValueError("a true-false question needs 'answer: true|false' (or two choices)")
            if self.choices is not None and self.answer is not None:
                raise ValueError("give 'answer' or 'choices', not both")
        else:
            if self.answer is not None:
                raise ValueError(f"'answer' is for true-false questions; this one is '{self.kind}'")
            if not self.choices:
                raise ValueError(f"a '{self.kind}' question needs 'choices'")
        return self


class QuizResults(Model):
    """Variables that receive the quiz's results when it is finished."""

    score: VarName | None = None
    percent: VarName | None = None
    passed: VarName | None = None
    correct: VarName | None = None


class QuizScene(SceneBase):
    type: Literal["quiz"]
    intro: Text | None = None
    shuffle: bool = False
    shuffle_choices: bool = False
    pool: Annotated[int, Field(ge=1)] | None = None
    time_limit: Annotated[float, Field(gt=0, le=600)] | None = None
    pass_mark: Annotated[float, Field(ge=0, le=100)] = 60
    results: QuizResults | None = None
    role: Literal["pre", "post"] | None = Field(
        default=None, description="This quiz is the 'pre' or 'post' test of a learning measure.")
    measure: Id | None = Field(
        default=None, description="The learning measure a 'pre' or 'post' quiz belongs to.")
    questions: Annotated[list[Question], Field(min_length=1)]
    next: Flow


TRUE = {"id": "ui.true", "zh-CN": "对", "zh-TW": "對", "en": "True"}
FALSE = {"id": "ui.false", "zh-CN": "错", "zh-TW": "錯", "en": "False"}


_TRUE_FALSE = {
    answer: [QuizChoice(id="true", text=TRUE, correct=answer is True),
             QuizChoice(id="false", text=FALSE, correct=answer is False)]
    for answer in (True, False)
}


def choices_of(q: Question) -> list[QuizChoice]:
    """A question's choices; true-false questions without choices get True/False."""
    if q.choices is not None:
        return q.choices
    return _TRUE_FALSE[bool(q.answer)]


class Quiz(SceneType):
    name = "quiz"
    model = QuizScene
    summary = "Single, multiple and true/false questions with feedback, points and a pass mark."

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: QuizScene = scene
        for i, q in enumerate(s.questions):
            yield from image_asset(q.image, ("questions", i, "image"), "quiz")

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: QuizScene = scene
        seen: dict[str, int] = {}
        for i, q in enumerate(s.questions):
            at = ("questions", i)
            if q.id in seen:
                ctx.error((*at, "id"), f"duplicate question id '{q.id}' in quiz '{s.id}'",
                          f"the first is question {seen[q.id] + 1}; rename one")
            seen.setdefault(q.id, i)
            ctx.check_source((*at, "source"), q.source)
            choices = choices_of(q)
            right = [c for c in choices if c.correct]
            if not right:
                ctx.error((*at, "choices") if q.choices else at,
                          f"question '{q.id}' has no correct answer",
                          "mark the right choice with 'correct: true'")
            elif q.kind == "single" and len(right) > 1:
                ctx.error((*at, "kind"), f"single-choice question '{q.id}' has "
                          f"{len(right)} correct answers", "use 'kind: multiple', or mark one")
            if q.kind == "true-false" and q.choices is not None and len(q.choices) != 2:
                ctx.error((*at, "choices"), f"true-false question '{q.id}' has "
                          f"{len(q.choices)} choices", "give exactly two, or use 'answer:'")
            if q.choices is not None and len(q.choices) < 2:
                ctx.error((*at, "choices"), f"question '{q.id}' has only one choice",
                          "give at least two choices")
            ids: dict[str, int] = {}
            texts: dict[tuple[str, str], int] = {}
            for j, c in enumerate(q.choices or []):
                if c.id in ids:
                    ctx.error((*at, "choices", j, "id"), f"duplicate choice id '{c.id}' in "
                              f"question '{q.id}'", f"the first is choice {ids[c.id] + 1}")
                ids.setdefault(c.id, j)
                for lang, t in c.text.items():
                    if lang == "id":
                        continue
                    key = (lang, " ".join(t.split()).casefold())
                    if key in texts:
                        ctx.error((*at, "choices", j, "text"), f"duplicate choice in question "
                                  f"'{q.id}': '{t}' ({lang}) is also choice {texts[key] + 1}",
                                  "make each choice say something different")
                        break
                    texts[key] = j
        if s.pool is not None and s.pool > len(s.questions):
            ctx.error(("pool",), f"pool of {s.pool} but only {len(s.questions)} questions",
                      f"use 'pool: {len(s.questions)}' or add questions")
        if s.results is not None:
            want = {"score": "int", "percent": "int", "passed": "bool", "correct": "int"}
            for what, kind in want.items():
                name = getattr(s.results, what)
                if name is None:
                    continue
                ctx.check_variable(("results", what), name)
                var = ctx.exhibit.variables.get(name)
                if var is not None and var.type != kind and not (
                        kind == "int" and var.type == "float"):
                    ctx.error(("results", what), f"results.{what} goes into '{name}', "
                              f"declared {var.type}", f"declare '{name}' as {kind}")
        _lint_measure(s, ctx)

    # -- engine side ----------------------------------------------------
    def enter(self, scene: Any, rt: Runtime) -> None:
        s: QuizScene = scene
        order = list(range(len(s.questions)))
        if s.shuffle:
            rt.rng.shuffle(order)
        if s.pool is not None:
            order = order[: s.pool]
        choice_order: list[list[int]] = []
        for qi in order:
            idx = list(range(len(choices_of(s.questions[qi]))))
            if s.shuffle_choices and s.questions[qi].kind != "true-false":
                rt.rng.shuffle(idx)
            choice_order.append(idx)
        rt.data.update(order=order, choice_order=choice_order, i=0, stage="question",
                       score=0, max=0, correct=0, last=None, shown=rt.entered_at)

    def _question(self, s: QuizScene, rt: Runtime) -> tuple[Question, list[QuizChoice]]:
        d = rt.data
        q = s.questions[d["order"][d["i"]]]
        all_choices = choices_of(q)
        return q, [all_choices[j] for j in d["choice_order"][d["i"]]]

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: QuizScene = scene
        d = rt.data
        out: dict[str, Any] = {"title": rt.text(s.title), "stage": d["stage"],
                               "count": len(d["order"]), "score": d["score"]}
        if d["stage"] == "summary":
            out.update(max=d["max"], correct=d["correct"], percent=_percent(d),
                       passed=_percent(d) >= s.pass_mark, worth=_worth(s, d["order"]))
            return out
        q, choices = self._question(s, rt)
        out["index"] = d["i"] + 1
        if s.intro and d["i"] == 0 and d["stage"] == "question":
            out["intro"] = rt.text(s.intro)  # said once, above the first question
        out["question"] = {
            "id": q.id, "kind": q.kind, "prompt": rt.text(q.prompt),
            "image": image_view(q.image, rt),
            "points": q.points, "source": q.source,
            "choices": [{"id": c.id, "text": rt.text(c.text)} for c in choices],
        }
        if s.time_limit and d["stage"] == "question":
            # the page counts down from what is left, so a page that (re)connects
            # late shows the same countdown (Engine.view(now) brings it up to date)
            out["time_limit"] = s.time_limit
            out["seconds_left"] = seconds_left(d["shown"] + s.time_limit, rt.now)
        if d["stage"] == "feedback":
            last = d["last"]
            picked = set(last["choices"])
            fb = [rt.text(c.feedback) for c in choices if c.id in picked and c.feedback]
            if not fb and q.feedback:
                fb = [rt.text(q.feedback.get("correct" if last["correct"] else "incorrect"))]
            out["answer"] = {
                "choices": last["choices"], "correct": last["correct"],
                "result": _result(q, choices, last),
                "timed_out": last["timed_out"], "points": last["points"],
                "right": [c.id for c in choices if c.correct],
                "feedback": [f for f in fb if f],
                "explanation": rt.text(q.explanation),
            }
        return out

    def _answer(self, s: QuizScene, rt: Runtime, picked: list[str], timed_out: bool) -> None:
        d = rt.data
        q, choices = self._question(s, rt)
        right = {c.id for c in choices if c.correct}
        correct = (not timed_out) and set(picked) == right
        points = q.points if correct else 0
        d["score"] += points
        d["max"] += q.points
        d["correct"] += 1 if correct else 0
        d["last"] = {"choices": picked, "correct": correct, "points": points,
                     "timed_out": timed_out}
        d["stage"] = "feedback"
        rt.record("answered", question=q.id, kind=q.kind, choices=picked, correct=correct,
                  points=points, timed_out=timed_out, position=d["i"] + 1, **_measure(s))

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        s: QuizScene = scene
        d = rt.data
        if action == "answer" and d["stage"] == "question":
            q, choices = self._question(s, rt)
            if payload.get("question", q.id) != q.id:
                return None  # an answer to a question no longer shown
            raw = payload.get("choices", payload.get("choice"))
            if isinstance(raw, str):
                picked = [raw]
            elif isinstance(raw, (list, tuple)):
                picked = list(raw)
            else:
                return None  # not a choice id or a list of them (a wire payload)
            valid = {c.id for c in choices}
            if not picked or any(not isinstance(p, str) or p not in valid for p in picked):
                return None
            if q.kind != "multiple" and len(picked) != 1:
                return None
            self._answer(s, rt, sorted(set(picked), key=picked.index), timed_out=False)
            return STAY
        if action == "advance":
            if d["stage"] == "feedback":
                if d["i"] + 1 < len(d["order"]):
                    d["i"] += 1
                    d["stage"] = "question"
                    d["last"] = None
                    d["shown"] = rt.now
                else:
                    self._finish(s, rt)
                return STAY
            if d["stage"] == "summary":
                return rt.follow(s.next)
        return None

    def _finish(self, s: QuizScene, rt: Runtime) -> None:
        d = rt.data
        d["stage"] = "summary"
        percent = _percent(d)
        passed = percent >= s.pass_mark
        rt.record("quiz_completed", score=d["score"], max=d["max"], correct=d["correct"],
                  count=len(d["order"]), percent=percent, passed=passed, **_measure(s))
        r = s.results
        if r is not None:
            values = {r.score: d["score"], r.percent: percent, r.passed: passed,
                      r.correct: d["correct"]}
            for name, value in values.items():
                if name is not None and name in rt.vars:
                    rt.vars[name] = value

    def deadline(self, scene: Any, rt: Runtime) -> float | None:
        s: QuizScene = scene
        if s.time_limit and rt.data["stage"] == "question":
            return float(rt.data["shown"] + s.time_limit)
        return None

    def expire(self, scene: Any, rt: Runtime) -> Outcome | None:
        self._answer(scene, rt, [], timed_out=True)
        return STAY

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: QuizScene = scene
        d = rt.data
        if d["stage"] == "summary":
            return [Option("advance", read=40)]
        q, choices = self._question(s, rt)
        if d["stage"] == "feedback":
            read = len(rt.text(q.explanation) or "") + 20
            return [Option("advance", read=read)]
        read = len(rt.text(q.prompt) or "") + sum(len(rt.text(c.text) or "") for c in choices)
        right = [c.id for c in choices if c.correct]
        opts = [Option("answer", {"question": q.id, "choices": [c.id]}, read=read,
                       correct=[c.id] == right, label=c.id) for c in choices]
        if q.kind == "multiple" and len(right) > 1:
            opts.append(Option("answer", {"question": q.id, "choices": right}, read=read,
                               correct=True, label="+".join(right)))
        return opts


def _measure(s: QuizScene) -> dict[str, str]:
    """The learning measure's fields for this quiz's events (none when it has no role)."""
    if s.role is None or s.measure is None:
        return {}
    return {"role": s.role, "measure": s.measure}


def max_scores(s: QuizScene) -> tuple[int, int]:
    """The least and the most points a visitor can be asked for (equal unless a shuffled
    pool draws from questions worth different points)."""
    points = [q.points for q in s.questions]
    if s.pool is None or s.pool >= len(points):
        return sum(points), sum(points)
    if not s.shuffle:
        first = sum(points[: s.pool])
        return first, first
    ordered = sorted(points)
    return sum(ordered[: s.pool]), sum(ordered[-s.pool:])


def languages_of(s: QuizScene) -> set[str]:
    """The languages a quiz's questions are written in."""
    return {lang for q in s.questions for lang in q.prompt if lang != "id"}


def _lint_measure(s: QuizScene, ctx: LintContext) -> None:
    """A learning measure: one 'pre' and one 'post' quiz, comparable with each other."""
    if s.role is None and s.measure is None:
        return
    if s.measure is None:
        ctx.error(("role",), f"quiz '{s.id}' has 'role: {s.role}' but no 'measure'",
                  f"name what it measures, e.g. 'measure: {s.id.replace('-', '_')}', and "
                  f"give the other quiz of the pair the same measure")
        return
    if s.role is None:
        ctx.error(("measure",), f"quiz '{s.id}' has 'measure: {s.measure}' but no 'role'",
                  "add 'role: pre' to the quiz before the exhibit's content, or "
                  "'role: post' to the one after it")
        return
    lo, hi = max_scores(s)
    if lo != hi:
        ctx.error(("pool",), f"quiz '{s.id}' ({s.role} of measure '{s.measure}') can be worth "
                  f"{lo} to {hi} points: its shuffled pool of {s.pool} draws from questions "
                  "worth different points, so its score cannot be compared",
                  "give its questions the same points, or drop 'pool' or 'shuffle'")
    pair = [o for o in ctx.exhibit.scenes
            if isinstance(o, QuizScene) and o.measure == s.measure and o.role is not None]
    mine = [o for o in pair if o.role == s.role]
    if mine[0] is not s:
        ctx.error(("role",), f"measure '{s.measure}' has a second '{s.role}' quiz: "
                  f"'{mine[0].id}' is its {s.role} quiz already",
                  f"a measure has one 'pre' and one 'post' quiz; give '{s.id}' another measure")
        return
    other_role = "post" if s.role == "pre" else "pre"
    others = [o for o in pair if o.role == other_role]
    if not others:
        unsure = any(isinstance(o, QuizScene) and o.measure == s.measure and o.role is None
                     for o in ctx.exhibit.scenes)  # that one is told it lacks a role
        if ctx.all_scenes and not unsure:
            ctx.error(("role",), f"quiz '{s.id}' is the {s.role} quiz of measure "
                      f"'{s.measure}', which has no {other_role} quiz",
                      f"add 'role: {other_role}' and 'measure: {s.measure}' to the quiz "
                      f"{'after' if s.role == 'pre' else 'before'} the content, or remove "
                      "'role' and 'measure' from this one")
        return
    if s.role != "post":
        return  # the pair is compared once, at the post quiz
    pre = others[0]
    pre_lo, pre_hi = max_scores(pre)
    if lo == hi and pre_lo == pre_hi and lo != pre_lo:
        ctx.error(("questions",), f"quiz '{s.id}' (post of measure '{s.measure}') is worth "
                  f"{lo} points but its pre quiz '{pre.id}' is worth {pre_lo}",
                  "give both quizzes the same maximum score (points, pool), so the "
                  "visitor's pre and post scores can be compared")
    mine_langs, pre_langs = languages_of(s), languages_of(pre)
    if mine_langs != pre_langs:
        ctx.error(("questions",), f"quiz '{s.id}' (post of measure '{s.measure}') is written "
                  f"in {', '.join(sorted(mine_langs))} but its pre quiz '{pre.id}' in "
                  f"{', '.join(sorted(pre_langs))}",
                  "write both quizzes in the same languages")


def seconds_left(deadline: float, now: float) -> float:
    """Seconds from ``now`` to ``deadline`` (never below 0), to the millisecond."""
    return round(max(0.0, deadline - now), 3)


def _result(q: Question, choices: list[QuizChoice], last: Mapping[str, Any]) -> str:
    """The verdict a visitor reads: correct, partly (some of the right ones, on a
    multiple-choice question), incorrect or timed_out."""
    if last["timed_out"]:
        return "timed_out"
    if last["correct"]:
        return "correct"
    right = {c.id for c in choices if c.correct}
    if q.kind == "multiple" and right & set(last["choices"]):
        return "partly"
    return "incorrect"


def _worth(s: QuizScene, order: list[int]) -> list[dict[str, int]]:
    """How many of the questions asked are worth other than 1 point, by points (most first):
    the summary says so, so that points and questions right add up for a visitor."""
    counts: dict[int, int] = {}
    for i in order:
        p = s.questions[i].points
        if p != 1:
            counts[p] = counts.get(p, 0) + 1
    return [{"points": p, "count": n} for p, n in sorted(counts.items(), reverse=True)]


def _percent(d: Mapping[str, Any]) -> int:
    return round(100 * d["score"] / d["max"]) if d["max"] else 0
