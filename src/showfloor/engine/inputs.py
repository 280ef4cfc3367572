"""Inputs: small frozen dataclasses, each named for what happened.

Every input has a wire ``type`` (the renderer and the event log use it) and
turns into JSON and back, so a recorded session can be fed again exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from showfloor.errors import ShowfloorError


class InputError(ShowfloorError):
    """An input message that is malformed or unknown."""


@dataclass(frozen=True, slots=True)
class Started:
    """A visitor touched the attract screen. ``session``/``seed`` are filled in by the engine."""

    type: ClassVar[str] = "start"
    session: str | None = None
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class ChoiceMade:
    """A visitor picked a choice in a story."""

    type: ClassVar[str] = "choose"
    choice: str


@dataclass(frozen=True, slots=True)
class AnswerGiven:
    """A visitor answered a quiz question with one or more choice ids."""

    type: ClassVar[str] = "answer"
    question: str
    choices: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Advanced:
    """A visitor pressed "next" / "continue" (or touched an end screen)."""

    type: ClassVar[str] = "advance"


@dataclass(frozen=True, slots=True)
class LanguageChanged:
    """A visitor switched language."""

    type: ClassVar[str] = "language"
    lang: str


@dataclass(frozen=True, slots=True)
class StillHere:
    """A visitor answered "Are you still there?"."""

    type: ClassVar[str] = "still_here"


@dataclass(frozen=True, slots=True)
class Act:
    """Any other action a scene type understands (``action`` + JSON ``payload``)."""

    type: ClassVar[str] = "act"
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed: the clock reads ``now`` (seconds, monotonic)."""

    type: ClassVar[str] = "tick"
    now: float


@dataclass(frozen=True, slots=True)
class Closed:
    """The operator closed the station to visitors ("attract-only"), or opened it again.

    While closed no visit can start and a visit in progress ends (reason ``closed``).
    Only the station feeds it (an operator command); pages may not send it.
    """

    type: ClassVar[str] = "closed"
    closed: bool


@dataclass(frozen=True, slots=True)
class DefaultLanguageSet:
    """The operator set the station's default language (attract and future visits).

    Only the station feeds it; pages may not send it.
    """

    type: ClassVar[str] = "default_language"
    lang: str


@dataclass(frozen=True, slots=True)
class VisitEnded:
    """The operator ended the visit in progress (``reason`` is a short id, never free text).

    Only the station feeds it; pages may not send it.
    """

    type: ClassVar[str] = "end_visit"
    reason: str = "operator"


Input = (Started | ChoiceMade | AnswerGiven | Advanced | LanguageChanged | StillHere | Act | Tick
         | Closed | DefaultLanguageSet | VisitEnded)

#: Input types only the station itself feeds (operator commands, time): pages may not send them.
STATION_ONLY = frozenset({"tick", Closed.type, DefaultLanguageSet.type, VisitEnded.type})

#: A reason a visit ended: a short id (recorded in ``session_ended``), never free text.
REASON = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def to_json(inp: Input) -> dict[str, Any]:
    """An input as a JSON object with its wire ``type``."""
    out: dict[str, Any] = {"type": inp.type}
    if isinstance(inp, Started):
        out.update(session=inp.session, seed=inp.seed)
    elif isinstance(inp, ChoiceMade):
        out["choice"] = inp.choice
    elif isinstance(inp, AnswerGiven):
        out.update(question=inp.question, choices=list(inp.choices))
    elif isinstance(inp, (LanguageChanged, DefaultLanguageSet)):
        out["lang"] = inp.lang
    elif isinstance(inp, Act):
        out.update(action=inp.action, payload=dict(inp.payload))
    elif isinstance(inp, Tick):
        out["now"] = inp.now
    elif isinstance(inp, Closed):
        out["closed"] = inp.closed
    elif isinstance(inp, VisitEnded):
        out["reason"] = inp.reason
    return out


def _str(d: Mapping[str, Any], key: str) -> str:
    v = d.get(key)
    if not isinstance(v, str) or not v or len(v) > 200:
        raise InputError(f"input '{d.get('type')}' needs '{key}' as a short text, got {v!r}")
    return v


def from_json(d: Any) -> Input:
    """Parse an input from JSON, raising :class:`InputError` with a plain message."""
    if not isinstance(d, Mapping):
        raise InputError(f"an input must be a JSON object, got {type(d).__name__}")
    kind = d.get("type")
    if kind == "start":
        session = d.get("session")
        seed = d.get("seed")
        if session is not None and not isinstance(session, str):
            raise InputError("'session' must be text")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise InputError("'seed' must be a whole number")
        return Started(session, seed)
    if kind == "choose":
        return ChoiceMade(_str(d, "choice"))
    if kind == "answer":
        raw = d.get("choices", d.get("choice"))
        choices = [raw] if isinstance(raw, str) else raw
        if not isinstance(choices, list) or not choices or len(choices) > 50 or not all(
                isinstance(c, str) and 0 < len(c) <= 200 for c in choices):
            raise InputError("input 'answer' needs 'choices': a list of choice ids")
        return AnswerGiven(_str(d, "question"), tuple(choices))
    if kind == "advance":
        return Advanced()
    if kind == "language":
        return LanguageChanged(_str(d, "lang"))
    if kind == "still_here":
        return StillHere()
    if kind == "act":
        payload = d.get("payload", {})
        if not isinstance(payload, Mapping):
            raise InputError("input 'act' needs 'payload' as a JSON object")
        return Act(_str(d, "action"), dict(payload))
    if kind == "tick":
        now = d.get("now")
        if not isinstance(now, (int, float)) or isinstance(now, bool):
            raise InputError("input 'tick' needs 'now' as a number")
        return Tick(float(now))
    if kind == "closed":
        closed = d.get("closed")
        if not isinstance(closed, bool):
            raise InputError(f"input 'closed' needs 'closed' as true or false, got {closed!r}")
        return Closed(closed)
    if kind == "default_language":
        return DefaultLanguageSet(_str(d, "lang"))
    if kind == "end_visit":
        reason = d.get("reason", "operator")
        if not isinstance(reason, str) or not REASON.fullmatch(reason):
            raise InputError(f"input 'end_visit' needs 'reason' as a short id such as "
                             f"'operator' (a-z, 0-9, _ and -), got {reason!r}")
        return VisitEnded(reason)
    known = ("start, choose, answer, advance, language, still_here, act, tick, closed, "
             "default_language, end_visit")
    raise InputError(f"unknown input type {kind!r}; expected one of {known}")
