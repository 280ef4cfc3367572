"""The scene-type interface: what a scene type brings, and what it is given.

A scene type is one class with a pydantic ``model`` (its schema) and a few
methods. The content side asks it for its flow ``edges`` (graph lint,
simulation), its ``assets`` (asset lint, preloading) and its own ``lint``
rules. The engine asks it to ``enter`` a scene, draw a ``view``, handle an
``act``\\ ion from the visitor and say when a ``deadline`` falls. The engine
never looks inside a scene; a new scene type plugs in without touching it.

Actions are plain strings with a JSON payload (``"choose", {"choice": "a"}``)
— the same shape the renderer sends over the wire.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from showfloor.content.model import Exhibit, ExprSource, Flow, SceneBase, Text

Value = int | float | bool | str
#: A path inside the content tree, e.g. ("choices", 2, "goto").
Where = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Edge:
    """A way out of a scene: to ``target``, when ``when`` holds (None: always).

    ``where`` points at the scene id in the YAML, for error positions.
    ``label`` names the edge for reports ("choice say_no", "branch 2").
    """

    target: str
    where: Where
    when: ExprSource | None = None
    label: str = "next"


@dataclass(frozen=True, slots=True)
class Asset:
    """A file a scene needs: its ``kind`` is image, panorama (an equirectangular image),
    video, audio, narration, captions or model; ``check`` applies the display's budget
    for that kind."""

    path: str
    kind: str
    where: Where
    lang: str | None = None
    #: a picture: how it was given (its path, or an ``Image``) and the frame it is shown
    #: in (media, story, quiz, end, detail, attract), for ``check``'s alt and crop rules
    image: Any = field(default=None, compare=False, hash=False)
    frame: str | None = field(default=None, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Option:
    """Something a visitor can do now, for simulated visitors.

    ``read`` is how much text (characters) a visitor reads before doing it;
    ``correct`` marks a right quiz answer (None where it does not apply).
    """

    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    read: int = 0
    correct: bool | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class Goto:
    """Leave the scene for ``target`` (a scene id)."""

    target: str


@dataclass(frozen=True, slots=True)
class Stay:
    """The visitor's action changed the scene's own state: draw it again."""


@dataclass(frozen=True, slots=True)
class EndSession:
    """The visit is over: back to attract. ``reason`` is recorded."""

    reason: str = "completed"


Outcome = Goto | Stay | EndSession
STAY = Stay()


class Runtime(Protocol):
    """What the engine gives a scene type while one of its scenes is on."""

    now: float
    lang: str
    vars: dict[str, Value]
    data: dict[str, Any]
    rng: random.Random
    entered_at: float

    @property
    def exhibit(self) -> Exhibit:
        """The exhibit being shown, read-only (sources, scene titles, the knowledge base)."""

    def text(self, text: Text | None) -> str | None:
        """``text`` in the current language, with ``{variables}`` filled in."""

    def truth(self, expr: ExprSource) -> bool:
        """Whether a condition holds now."""

    def assign(self, sets: Mapping[str, ExprSource]) -> None:
        """Evaluate and assign ``set:`` expressions to variables."""

    def follow(self, flow: Flow | None) -> Outcome:
        """Where a flow leads now (EndSession when no branch matches)."""

    def record(self, kind: str, /, **data: Any) -> None:
        """Record an event of this scene (choice ids, scores — never free text)."""

    def duration(self, path: str | None) -> float | None:
        """The length in seconds of a media file, when known."""


class LintContext(Protocol):
    """What ``showfloor check`` gives a scene type's own lint rules."""

    exhibit: Exhibit
    root: Path

    @property
    def all_scenes(self) -> bool:
        """Whether ``exhibit`` holds every scene: false when some were left out for a
        mistake of their own, so a rule about other scenes should not say one is missing."""

    def error(self, where: Where, message: str, hint: str | None = None) -> None: ...

    def warning(self, where: Where, message: str, hint: str | None = None) -> None: ...

    def check_source(self, where: Where, source_id: str | None) -> None:
        """A cited source id must be declared in ``sources``."""

    def check_expr(self, where: Where, expr: ExprSource) -> None:
        """A condition must parse and name only declared variables."""

    def check_variable(self, where: Where, name: str) -> None:
        """A variable name must be declared."""

    def duration(self, path: str | None) -> float | None:
        """The length in seconds of a media file, when it can be read."""


class SceneType:
    """Base of scene types. Subclasses set ``name`` and ``model``.

    Override what your scene needs; the defaults suit a scene that shows
    something and goes on when the visitor advances.
    """

    name: ClassVar[str]
    model: ClassVar[type[SceneBase]]
    #: A terminal scene ends the session (``end``); the graph lint treats it as an exit.
    terminal: ClassVar[bool] = False
    #: One line for ``showfloor schema`` / docs.
    summary: ClassVar[str] = ""
    #: The ES module that draws this type in the browser, as a path relative to the
    #: file that defines the class (``"timeline.js"``): the station serves it at
    #: ``/plugins/<name>.js`` and names it in ``welcome.scene_modules``. None: the page
    #: has its own module (the built-in types) or draws the generic panel.
    renderer: ClassVar[str | None] = None

    @classmethod
    def renderer_file(cls) -> Path | None:
        """Where :attr:`renderer` is on disk (None: the type brings no module)."""
        if cls.renderer is None:
            return None
        return Path(inspect.getfile(cls)).resolve().parent / cls.renderer

    # -- content side ---------------------------------------------------
    def edges(self, scene: SceneBase) -> Iterable[Edge]:
        """The flow edges out of ``scene``."""
        return flow_edges(getattr(scene, "next", None), ("next",))

    def assets(self, scene: SceneBase) -> Iterable[Asset]:
        """The files ``scene`` uses, for lint and preloading."""
        return ()

    def lint(self, scene: SceneBase, ctx: LintContext) -> None:
        """Rules of this scene type beyond its schema."""

    # -- engine side ----------------------------------------------------
    def enter(self, scene: SceneBase, rt: Runtime) -> None:
        """Set up ``rt.data`` when a visitor arrives at ``scene``."""

    def view(self, scene: SceneBase, rt: Runtime) -> dict[str, Any]:
        """What the renderer draws: resolved strings, asset paths, state."""
        return {}

    def act(
        self, scene: SceneBase, rt: Runtime, action: str, payload: Mapping[str, Any]
    ) -> Outcome | None:
        """Handle a visitor's action; None when it does not apply here."""
        if action == "advance":
            return rt.follow(getattr(scene, "next", None))
        return None

    def deadline(self, scene: SceneBase, rt: Runtime) -> float | None:
        """When the scene moves on by itself (auto-advance, a time limit)."""
        return None

    def expire(self, scene: SceneBase, rt: Runtime) -> Outcome | None:
        """What happens at the deadline."""
        return None

    def busy_until(self, scene: SceneBase, rt: Runtime) -> float | None:
        """Until when the visitor is busy watching; the idle timer waits for it."""
        return None

    def options(self, scene: SceneBase, rt: Runtime) -> list[Option]:
        """What a visitor can do now (for ``showfloor simulate``)."""
        return [Option("advance")]


def flow_edges(flow: Flow | None, where: Where, label: str = "next") -> list[Edge]:
    """The edges of a ``next:``/``goto:`` flow value found at ``where``."""
    if flow is None:
        return []
    if isinstance(flow, str):
        return [Edge(flow, where, None, label)]
    return [
        Edge(b.goto, (*where, i, "goto"), b.when, f"{label} branch {i + 1}")
        for i, b in enumerate(flow)
    ]


def media_assets(
    where: Where, narration: Mapping[str, str] | None, captions: Mapping[str, str] | None
) -> list[Asset]:
    """Narration and caption files, one per language."""
    out: list[Asset] = []
    for lang, path in (narration or {}).items():
        out.append(Asset(path, "narration", (*where, "narration", lang), lang))
    for lang, path in (captions or {}).items():
        out.append(Asset(path, "captions", (*where, "captions", lang), lang))
    return out
