"""The typed exhibit model (package format version 1).

The models here are the single source of truth for the format: the loader
validates YAML against them, ``showfloor schema`` generates the JSON Schema
from them, and ``docs/format.md`` describes them. Scene types add their own
models (subclasses of :class:`SceneBase`) through the scene-type registry.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

FORMAT_VERSION = 1

#: An identifier a curator writes: scene ids, choice ids, question ids.
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)]
#: A variable name: it appears in conditions, so it is an identifier.
VarName = Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*$", max_length=64)]
#: A language tag such as ``zh-CN`` or ``en`` (BCP 47, simplified).
Lang = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]


class TextMarker:
    """Marks the :data:`Text` type, so walkers can find every visible string."""

    def __repr__(self) -> str:
        return "TEXT"


TEXT = TextMarker()

#: A visible string: language -> text, with an optional stable ``id`` key.
Text = Annotated[
    dict[str, str],
    TEXT,
    Field(
        description="A visible string: a map from language (zh-CN, en, …) to text. "
        "An optional 'id' key pins the string's stable id.",
        json_schema_extra={"minProperties": 1},
    ),
]
#: A path inside the exhibit folder, such as ``media/brain.png``.
AssetPath = Annotated[str, Field(min_length=1, max_length=255)]
#: Where a flow goes: a scene id, or branches tried in order.
ExprSource = Annotated[
    str | int | float | bool,
    Field(description="An expression: numbers, 'strings', true/false, variables, "
          "+ - * / // %, == != < <= > >=, and/or/not, parentheses."),
]
#: Per-language file paths (narration, captions).
PerLanguage = dict[str, AssetPath]


class Model(BaseModel):
    """Base of every content model: unknown keys are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class Branch(Model):
    """One branch of a flow: go to ``goto`` when ``when`` holds (or always)."""

    when: ExprSource | None = None
    goto: Id


Flow = Annotated[
    Id | list[Branch],
    Field(description="The next scene: a scene id, or a list of {when, goto} "
          "tried in order (a branch without 'when' is the default)."),
]


class Source(Model):
    """Where facts come from. Scenes and questions cite sources by id."""

    id: Id
    name: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]


class Audience(Model):
    """The ages an exhibit is written for."""

    min_age: Annotated[int, Field(ge=0, le=120)]
    max_age: Annotated[int, Field(ge=0, le=120)]


class Idle(Model):
    """No input for ``timeout`` seconds → a ``countdown`` → reset to attract."""

    timeout: Annotated[float, Field(gt=0, le=3600)] = 60
    countdown: Annotated[float, Field(ge=0, le=600)] = 15


class Variable(Model):
    """A typed variable, reset to its default at the start of every session."""

    type: Literal["int", "float", "bool", "str"]
    default: int | float | bool | str | None = None
    description: str | None = None


class SceneBase(Model):
    """What every scene has. Scene types subclass this with their own fields."""

    id: Id
    type: str
    title: Text | None = None
    set: dict[str, ExprSource] = Field(
        default_factory=dict,
        description="Variables assigned on entering the scene (values are expressions).",
    )


class Exhibit(Model):
    """An exhibit: ``exhibit.yaml`` plus the scenes of ``scenes/*.yaml``."""

    format: Literal[1] = Field(description="Package format version.")
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    version: Annotated[str, Field(min_length=1, max_length=32)]
    title: Text
    description: Text | None = None
    languages: Annotated[list[Lang], Field(min_length=1)]
    default_language: Lang
    audience: Audience | None = None
    sources: list[Source] = Field(default_factory=list)
    idle: Idle = Field(default_factory=Idle)
    attract: Id
    start: Id
    variables: dict[VarName, Variable] = Field(default_factory=dict)
    ui: dict[Id, Text] = Field(default_factory=dict)
    scenes: list[SerializeAsAny[SceneBase]] = Field(default_factory=list)

    def scene(self, scene_id: str) -> SceneBase | None:
        for s in self.scenes:
            if s.id == scene_id:
                return s
        return None


def variable_default(var: Variable) -> int | float | bool | str:
    """The value a variable starts each session with."""
    if var.default is not None:
        return coerce(var.type, var.default)
    return ZERO[var.type]


#: The value of each variable type when nothing else is known.
ZERO: dict[str, int | float | bool | str] = {"int": 0, "float": 0.0, "bool": False, "str": ""}


def coerce(kind: str, value: Any) -> int | float | bool | str:
    """Convert ``value`` to a variable's declared type, never raising."""
    try:
        if kind == "int":
            if isinstance(value, str):
                return int(float(value))
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "bool":
            return bool(value)
        return value if isinstance(value, str) else _str(value)
    except (TypeError, ValueError, OverflowError):
        return ZERO[kind]


def _str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
