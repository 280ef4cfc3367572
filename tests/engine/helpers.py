"""Shared helpers for the engine tests: tiny exhibits written into a folder."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.engine import Engine
from showfloor.engine.clock import VirtualClock
from showfloor.engine.effects import Effect, Event, RecordEvent, Rejected, SendCue, ShowView

#: A valid 1×1 transparent PNG.
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)

#: A small exhibit with every built-in scene type, in two languages.
TINY = """
format: 1
id: tiny
version: 1.0.0
title: {en: Tiny, zh-CN: 小}
languages: [en, zh-CN]
default_language: en
idle: {timeout: 30, countdown: 10}
attract: attract
start: intro
variables:
  score: {type: int, default: 0}
  brave: {type: bool, default: false}
  mood: {type: str, default: calm}
  quiz_score: {type: int, default: 0}
  quiz_percent: {type: int, default: 0}
  quiz_passed: {type: bool, default: false}
scenes:
  - id: attract
    type: attract
    loop: [{image: media/a.png, duration: 5}]
    call: {en: Touch to start, zh-CN: 触摸开始}
  - id: intro
    type: media
    image: media/a.png
    body: {en: "Hello, you feel {mood}", zh-CN: "你好，你感到 {mood}"}
    duration: 10
    advance: auto
    next: story
  - id: story
    type: story
    text: {en: "Score {score}", zh-CN: "得分 {score}"}
    choices:
      - id: brave
        label: {en: Be brave, zh-CN: 勇敢}
        set: {brave: true, score: score + 2, mood: "'bold'"}
        goto: info
      - id: shy
        label: {en: Stay shy, zh-CN: 害羞}
        set: {score: score + 1}
        next:
          - {when: score > 100, goto: secret}
          - {goto: info}
  - id: info
    type: media
    image: media/a.png
    body: {en: "You scored {score}", zh-CN: "你得了 {score} 分"}
    duration: 20
    advance: button
    next: quiz
  - id: quiz
    type: quiz
    title: {en: Quiz, zh-CN: 测验}
    time_limit: 20
    pass_mark: 60
    results: {score: quiz_score, percent: quiz_percent, passed: quiz_passed}
    questions:
      - id: q1
        prompt: {en: One?, zh-CN: 一？}
        choices:
          - {id: a, text: {en: A, zh-CN: 甲}, correct: true}
          - {id: b, text: {en: B, zh-CN: 乙}}
      - id: q2
        kind: multiple
        points: 2
        prompt: {en: Two?, zh-CN: 二？}
        choices:
          - {id: a, text: {en: A, zh-CN: 甲}, correct: true}
          - {id: b, text: {en: B, zh-CN: 乙}, correct: true}
          - {id: c, text: {en: C, zh-CN: 丙}}
      - id: q3
        kind: true-false
        prompt: {en: Three?, zh-CN: 三？}
        answer: false
    next:
      - {when: quiz_percent >= 60, goto: good_end}
      - {goto: end}
  - id: secret
    type: end
    messages: [{text: {en: Secret, zh-CN: 秘密}}]
  - id: good_end
    type: end
    duration: 15
    messages:
      - {when: brave, text: {en: "Brave and right: {quiz_score}", zh-CN: "勇敢又正确 {quiz_score}"}}
      - {text: {en: "Right: {quiz_score}", zh-CN: "正确 {quiz_score}"}}
  - id: end
    type: end
    duration: 15
    messages:
      - {when: score > 100, text: {en: Never, zh-CN: 从不}}
      - {text: {en: "Try again ({quiz_percent}%)", zh-CN: "再试一次 {quiz_percent}%"}}
"""


def write_exhibit(root: Path, doc: str | Mapping[str, Any]) -> Path:
    """Write ``exhibit.yaml`` (from YAML text or a dict) and a 1-px PNG per image named."""
    root.mkdir(parents=True, exist_ok=True)
    if isinstance(doc, str):
        text = textwrap.dedent(doc)
    else:
        text = yaml.safe_dump(dict(doc), allow_unicode=True, sort_keys=False)
    (root / "exhibit.yaml").write_text(text, encoding="utf-8")
    media = root / "media"
    media.mkdir(exist_ok=True)
    for name in ("a.png", "b.png"):
        (media / name).write_bytes(PNG_1PX)
    return root


def load_exhibit(root: Path, doc: str | Mapping[str, Any] = TINY) -> Exhibit:
    loaded = load(write_exhibit(root, doc))
    assert loaded.problems == [], [str(p) for p in loaded.problems]
    assert loaded.exhibit is not None
    return loaded.exhibit


def make_engine(exhibit: Exhibit, *, length: float = 10.0, now: float = 0.0,
                ids: Iterable[str] | None = None, **kw: Any) -> tuple[Engine, VirtualClock]:
    clock = VirtualClock(now)
    extra: dict[str, Any] = dict(kw)
    if ids is not None:
        it = iter(ids)
        extra["new_id"] = lambda: next(it)
    media_length: Callable[[str], float | None] = lambda _p: length  # noqa: E731
    return Engine(exhibit, clock=clock, media_length=media_length, **extra), clock


def events(effects: Iterable[Effect]) -> list[Event]:
    return [e.event for e in effects if isinstance(e, RecordEvent)]


def kinds(effects: Iterable[Effect]) -> list[str]:
    return [e.kind for e in events(effects)]


def views(effects: Iterable[Effect]) -> list[Mapping[str, Any]]:
    return [e.view for e in effects if isinstance(e, ShowView)]


def rejected(effects: Iterable[Effect]) -> list[Rejected]:
    return [e for e in effects if isinstance(e, Rejected)]


def cues(effects: Iterable[Effect]) -> list[SendCue]:
    return [e for e in effects if isinstance(e, SendCue)]


def ended(effects: Iterable[Effect]) -> list[Event]:
    return [e for e in events(effects) if e.kind == "session_ended"]


class Station:
    """An engine on a virtual clock, with every recorded event kept in ``log``."""

    def __init__(self, exhibit: Exhibit, *, length: float = 10.0, now: float = 0.0,
                 **kw: Any) -> None:
        self.engine, self.clock = make_engine(exhibit, length=length, now=now, **kw)
        self.log: list[Event] = []
        self.first = self.engine.start()
        self.log += events(self.first)

    def feed(self, inp: Any, at: float | None = None) -> list[Effect]:
        """Feed ``inp`` (at clock time ``at``; a Tick moves the clock to its ``now``)."""
        from showfloor.engine import Tick

        if at is not None:
            self.clock.set(at)
        if isinstance(inp, Tick):
            self.clock.set(inp.now)
        out = self.engine.feed(inp)
        self.log += events(out)
        return out

    def tick(self, now: float) -> list[Effect]:
        from showfloor.engine import Tick

        return self.feed(Tick(now))

    @property
    def scene(self) -> str:
        return str(self.engine.snapshot()["scene"])

    @property
    def vars(self) -> dict[str, Any]:
        return dict(self.engine.snapshot()["vars"] or {})

    @property
    def view(self) -> dict[str, Any]:
        return self.engine.view()


#: Flow conditions, conditional choices, placeholders, narration and injected lengths.
BRANCH = """
format: 1
id: branch
version: "1"
title: {en: Branch}
languages: [en]
default_language: en
idle: {timeout: 30, countdown: 10}
attract: attract
start: pick
variables:
  score: {type: int, default: 0}
  flag: {type: bool, default: false}
scenes:
  - id: attract
    type: attract
    loop: [{image: media/a.png, duration: 5}]
    call: {en: Touch}
  - id: pick
    type: story
    text: {en: "Pick ({score}, {flag}) {nope}"}
    narration: {en: media/pick.en.opus}
    captions: {en: media/pick.en.vtt}
    choices:
      - {id: zero, label: {en: Zero}, goto: route}
      - {id: one, label: {en: One}, set: {score: 1}, goto: route}
      - {id: two, label: {en: Two}, set: {score: 2, flag: true}, goto: route}
      - {id: lost, label: {en: Lost}, set: {score: -1}, goto: strict}
      - {id: hidden, label: {en: Hidden}, when: flag, goto: route}
  - id: route
    type: media
    audio: media/route.opus
    body: {en: Routing}
    advance: auto
    next:
      - {when: score >= 2, goto: high}
      - {when: score >= 1, goto: mid}
      - {goto: low}
  - id: strict
    type: media
    body: {en: Strict}
    next:
      - {when: score > 0, goto: high}
  - {id: high, type: end, messages: [{text: {en: High}}]}
  - {id: mid, type: end, messages: [{text: {en: Mid}}]}
  - {id: low, type: end, messages: [{text: {en: Low}}]}
"""

#: A quiz drawn from a pool, shuffled, with shuffled choices.
POOL = """
format: 1
id: pool
version: "1"
title: {en: Pool}
languages: [en]
default_language: en
attract: attract
start: quiz
scenes:
  - id: attract
    type: attract
    loop: [{image: media/a.png, duration: 5}]
    call: {en: Touch}
  - id: quiz
    type: quiz
    shuffle: true
    shuffle_choices: true
    pool: 3
    questions:
""" + "".join(
    f"""      - id: q{i}
        prompt: {{en: Question {i}}}
        choices:
          - {{id: a, text: {{en: A{i}}}, correct: true}}
          - {{id: b, text: {{en: B{i}}}}}
          - {{id: c, text: {{en: C{i}}}}}
          - {{id: d, text: {{en: D{i}}}}}
""" for i in range(1, 9)) + """    next: done
  - {id: done, type: end, messages: [{text: {en: Done}}]}
"""
