"""One visit: its anonymous id, its variables, and the scene it is in.

:class:`Session` is the :class:`~showfloor.content.scenes.base.Runtime` that
scene types see. It holds nothing about the visitor but a random id.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from showfloor.content import expr as expressions
from showfloor.content.model import Exhibit, ExprSource, Flow, SceneBase, Text, coerce
from showfloor.content.scenes.base import EndSession, Goto, Outcome, Value
from showfloor.errors import ExpressionError

if TYPE_CHECKING:
    from showfloor.engine.state import Engine

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class Session:
    """The state of one visit, and the runtime scene types act through."""

    __slots__ = (
        "answers",
        "data",
        "engine",
        "entered_at",
        "foreign",
        "id",
        "lang",
        "now",
        "path",
        "rng",
        "scene",
        "seed",
        "started_at",
        "vars",
    )

    def __init__(self, engine: Engine, session_id: str, seed: int, now: float,
                 lang: str, defaults: Mapping[str, Value]) -> None:
        self.engine = engine
        self.id = session_id
        self.seed = seed
        self.rng = random.Random(seed)
        self.vars: dict[str, Value] = dict(defaults)
        self.scene: SceneBase | None = None
        self.data: dict[str, Any] = {}
        self.entered_at = now
        self.started_at = now
        self.now = now
        self.lang = lang
        #: strings shown in another language than ``lang`` (a missing translation): text → language
        self.foreign: dict[str, str] = {}
        self.path: list[str] = []
        self.answers = 0

    # -- Runtime --------------------------------------------------------
    @property
    def exhibit(self) -> Exhibit:
        """The exhibit being shown (scene types look up what it declares: sources,
        other scenes' titles, the knowledge base)."""
        return self.engine.exhibit

    def text(self, text: Text | None) -> str | None:
        if text is None:
            return None
        s = text.get(self.lang)
        other = None
        if s is None:
            other = self.engine.default_language
            s = text.get(other)
            if s is None:
                other, s = next(((k, v) for k, v in text.items() if k != "id"), ("", ""))
        if "{" in s:
            v = self.vars
            s = PLACEHOLDER.sub(lambda m: _show(v.get(m.group(1), m.group(0))), s)
        if other and s:
            self.foreign[s] = other  # the page marks it, so a screen reader switches voice
        return s

    def truth(self, expr: ExprSource) -> bool:
        try:
            return self.engine.compiled(expr).truth(self.vars)
        except ExpressionError as err:
            self.record("error", what="condition", detail=str(err)[:200])
            return False

    def assign(self, sets: Mapping[str, ExprSource]) -> None:
        types = self.engine.var_types
        compiled = self.engine.compiled
        for name, source in sets.items():
            kind = types.get(name)
            if kind is None:
                continue
            try:
                value = compiled(source)(self.vars)
            except ExpressionError as err:
                self.record("error", what="set", variable=name, detail=str(err)[:200])
                continue
            self.vars[name] = coerce(kind, value)

    def follow(self, flow: Flow | None) -> Outcome:
        if flow is None:
            return EndSession("no_next")
        if isinstance(flow, str):
            return self.engine.goto(flow)
        for branch in flow:
            if branch.when is None or self.truth(branch.when):
                return self.engine.goto(branch.goto)
        self.record("error", what="flow", detail="no branch matched")
        return EndSession("no_branch")

    def record(self, kind: str, /, **data: Any) -> None:
        self.engine._record(kind, data)

    def duration(self, path: str | None) -> float | None:
        return self.engine.media_length(path) if path else None


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _goto_cache() -> Callable[[str], Goto]:
    cache: dict[str, Goto] = {}

    def get(target: str) -> Goto:
        g = cache.get(target)
        if g is None:
            g = cache[target] = Goto(target)
        return g

    return get


__all__ = ["Session", "expressions"]
