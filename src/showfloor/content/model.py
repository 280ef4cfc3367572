"""The typed exhibit model (package format version 1).

The models here are the single source of truth for the format: the loader
validates YAML against them, ``showfloor schema`` generates the JSON Schema
from them, and ``docs/format.md`` describes them. Scene types add their own
models (subclasses of :class:`SceneBase`) through the scene-type registry.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny, model_validator
from pydantic.json_schema import SkipJsonSchema

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
    name: Annotated[str, Field(min_length=1)] | Text = Field(
        description="The source's name: one string for every language, or a map from "
        "language to name (a language missing from the map falls back, marked as such).")
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    lang: Lang | None = Field(
        default=None, description="The language of a name written as one string (such as "
        "en), so screen readers read it with the right voice on pages in other languages.")

    @model_validator(mode="after")
    def _lang_of_plain_name(self) -> Source:
        if self.lang is not None and not isinstance(self.name, str):
            raise ValueError("'lang' is for a name written as one string; a name given per "
                             "language already says its languages")
        return self


#: Named focus points of a picture, for ``fit: cover``: where its middle of interest is.
FOCUS_POINTS: dict[str, tuple[float, float]] = {
    "center": (0.5, 0.5), "top": (0.5, 0.0), "bottom": (0.5, 1.0),
    "left": (0.0, 0.5), "right": (1.0, 0.5),
    "top-left": (0.0, 0.0), "top-right": (1.0, 0.0),
    "bottom-left": (0.0, 1.0), "bottom-right": (1.0, 1.0),
}
Share = Annotated[float, Field(ge=0, le=1)]
#: A focus point: ``[x, y]`` (0 … 1 from the left and the top) or a named position.
Focus = Annotated[
    tuple[Share, Share] | Literal["center", "top", "bottom", "left", "right", "top-left",
                                  "top-right", "bottom-left", "bottom-right"],
    Field(description="The point of the picture that stays in view when 'cover' crops it: "
          "[x, y] from 0 to 1 (left/top to right/bottom), or center, top, bottom, left, "
          "right, top-left, top-right, bottom-left, bottom-right."),
]


class Image(Model):
    """A picture, how it fills its frame, and what it shows for people who cannot see it."""

    src: AssetPath = Field(description="The picture file, such as media/brain.png.")
    alt: Text | None = Field(
        default=None, description="What the picture shows, for screen readers (a translated "
        "text). Informative pictures need it; decorative ones do not.")
    decorative: bool = Field(
        default=False, description="true: the picture only decorates; screen readers skip it.")
    fit: Literal["cover", "contain"] = Field(
        default="cover", description="cover: fill the frame, cropping what sticks out; "
        "contain: show the whole picture, with calm bands where the shapes differ.")
    focus: Focus = "center"

    @model_validator(mode="after")
    def _alt_or_decorative(self) -> Image:
        if self.decorative and self.alt is not None:
            raise ValueError("a decorative picture has no 'alt': drop 'alt', or drop "
                             "'decorative: true' if the picture tells something")
        return self

    @property
    def focus_xy(self) -> tuple[float, float]:
        """The focus point as (x, y) shares of the picture's width and height."""
        f = self.focus
        return FOCUS_POINTS[f] if isinstance(f, str) else (float(f[0]), float(f[1]))


#: A picture: a file path (``media/x.png``), or a mapping with ``src``, ``alt``, ``fit``…
ImageRef = Annotated[
    AssetPath | Image,
    Field(description="A picture: a file path, or {src, alt, decorative, fit, focus}."),
]


def image_src(ref: str | Image | None) -> str | None:
    """The file of a picture given either way."""
    if ref is None or isinstance(ref, str):
        return ref
    return ref.src


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


#: A knowledge-base entry id: stable, unique across the exhibit (events record it).
EntryId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
#: A tag of knowledge-base entries (an ``ask`` scene may keep to some tags).
Tag = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]


class MoreImage(Model):
    """An entry's ``more``: a picture shown beside the answer."""

    image: AssetPath = Field(description="The picture file, such as media/lungs.png.")
    alt: Text | None = Field(default=None, description="What the picture shows, for screen "
                             "readers (a translated text).")


class KnowledgeEntry(Model):
    """One reviewed answer of the knowledge base (``knowledge/*.yaml``)."""

    id: EntryId = Field(description="Stable id, unique across the exhibit: events record it.")
    kind: Literal["answer", "safety", "help"] = Field(
        default="answer", description="answer: a normal entry; safety: the content's calm, "
        "fixed answer to questions about obtaining, using or hiding drugs; help: shown with "
        "the hall's help text and hotline (worry, a friend in trouble).")
    questions: dict[Lang, list[Annotated[str, Field(min_length=1, max_length=200)]]] = Field(
        description="Ways a visitor asks this, per language (at least 3 per language).")
    answer: Text = Field(description="The answer, per language, within the display's "
                         "answer budget.")
    more: Id | MoreImage | None = Field(
        default=None, description="Where to go for depth: a scene id, or {image, alt}.")
    source: Id | None = Field(default=None, description="The id of one of the exhibit's "
                              "sources.")
    reviewed_by: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="Who reviewed the entry (a person or a team).")
    reviewed_on: date = Field(description="When it was last reviewed (YYYY-MM-DD).")
    tags: list[Tag] = Field(default_factory=list, description="Tags, for ask scenes that "
                            "keep to some of them.")


class Topic(Model):
    """One ``knowledge/*.yaml`` file: a topic (for "browse by topic") and its entries."""

    id: Id
    title: Text
    entries: list[KnowledgeEntry] = Field(default_factory=list)


class Knowledge(Model):
    """The knowledge base: the topics of ``knowledge/*.yaml``, in file-name order."""

    topics: list[Topic] = Field(default_factory=list)

    @cached_property
    def entries(self) -> list[KnowledgeEntry]:
        """Every entry, in file order."""
        return [e for t in self.topics for e in t.entries]

    @cached_property
    def by_id(self) -> dict[str, KnowledgeEntry]:
        """Entries by id (the first, when an id is used twice)."""
        out: dict[str, KnowledgeEntry] = {}
        for e in self.entries:
            out.setdefault(e.id, e)
        return out

    def entry(self, entry_id: str) -> KnowledgeEntry | None:
        return self.by_id.get(entry_id)

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)


class AskSettings(Model):
    """Exhibit-wide settings of the knowledge base (``ask:`` in exhibit.yaml)."""

    review_max_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=365, description="check warns about entries reviewed longer ago than this.")


class Scoring(Model):
    """Points for one question: ``correct`` for a right answer, plus a speed bonus that
    falls linearly from ``speed_bonus`` (answered at once) to 0 (answered as time runs out),
    plus ``streak`` for each right answer in a row after the first."""

    correct: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=100, description="Points for a right answer.")
    speed_bonus: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=50, description="Most bonus points for speed (a right answer given at once); "
        "0 turns the bonus off.")
    streak: Annotated[int, Field(ge=0, le=10_000)] = Field(
        default=0, description="Points for each right answer in a row after the first "
        "(0: no streaks).")


class Competition(Model):
    """A knowledge competition: which quiz questions, how many, how long, how scored."""

    id: Id
    title: Text
    pools: Annotated[list[Id], Field(min_length=1)] = Field(
        description="Quiz scenes whose questions the competition draws from.")
    questions: Annotated[int, Field(ge=1, le=200)] = Field(
        default=10, description="How many questions one competition asks.")
    seconds: Annotated[float, Field(ge=3, le=300)] = Field(
        default=20, description="Time to answer each question, in seconds.")
    scoring: Scoring = Field(default_factory=Scoring)
    teams: list[Text] = Field(
        default_factory=list,
        description="Team names the host can pick from (never a student's name).")
    team_name_max: Annotated[int, Field(ge=2, le=40)] = Field(
        default=16, description="Longest team name staff may type, in characters.")
    blocked_words: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(
        default_factory=list,
        description="Words a typed team name may not contain (case is ignored).")


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
    same_in_all_languages: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list,
        description="Names and terms written the same in every language (people, places, "
        "brands, commands): a text made only of these is not reported as untranslated.")
    ask: AskSettings = Field(default_factory=AskSettings,
                             description="Settings of the knowledge base (knowledge/*.yaml).")
    competitions: list[Competition] = Field(
        default_factory=list,
        description="Knowledge competitions for teams (docs/competition.md).")
    scenes: list[SerializeAsAny[SceneBase]] = Field(default_factory=list)
    #: The knowledge base, loaded from ``knowledge/*.yaml`` (not a key of exhibit.yaml).
    knowledge: SkipJsonSchema[Knowledge | None] = None

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
