"""``story``: text and an image, and choices that set variables and lead on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import (
    ExprSource,
    Flow,
    Id,
    ImageRef,
    Model,
    PerLanguage,
    SceneBase,
    Text,
)
from showfloor.content.scenes._choices import exactly_one
from showfloor.content.scenes.base import (
    Asset,
    Edge,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
    flow_edges,
    media_assets,
)


class Choice(Model):
    """A choice: its label, the variables it sets, where it leads."""

    id: Id
    label: Text
    set: dict[str, ExprSource] = Field(default_factory=dict)
    goto: Id | None = None
    next: Flow | None = None
    when: ExprSource | None = Field(
        default=None, description="Offer this choice only when the condition holds.")

    _one_way = exactly_one("goto", "next", "a choice")


class StoryScene(SceneBase):
    type: Literal["story"]
    text: Text
    image: ImageRef | None = None
    narration: PerLanguage | None = None
    captions: PerLanguage | None = None
    choices: Annotated[list[Choice], Field(min_length=1)]


class Story(SceneType):
    name = "story"
    model = StoryScene
    summary = "Text, an image and choices; a choice sets variables and goes to a scene."

    def edges(self, scene: Any) -> Iterable[Edge]:
        s: StoryScene = scene
        for i, c in enumerate(s.choices):
            label = f"choice {c.id}"
            if c.goto is not None:
                yield Edge(c.goto, ("choices", i, "goto"), c.when, label)
            else:
                for e in flow_edges(c.next, ("choices", i, "next"), label):
                    # a conditional choice only exists when its own condition holds
                    when = e.when if c.when is None else (
                        c.when if e.when is None else f"({c.when}) and ({e.when})")
                    yield Edge(e.target, e.where, when, e.label)

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: StoryScene = scene
        yield from image_asset(s.image, ("image",), "story")
        yield from media_assets((), s.narration, s.captions)

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: StoryScene = scene
        seen: dict[str, int] = {}
        for i, c in enumerate(s.choices):
            if c.id in seen:
                ctx.error(("choices", i, "id"), f"duplicate choice id '{c.id}' in scene '{s.id}'",
                          f"the first is choice {seen[c.id] + 1}; rename one")
            seen.setdefault(c.id, i)
            for name, expr in c.set.items():
                ctx.check_variable(("choices", i, "set", name), name)
                ctx.check_expr(("choices", i, "set", name), expr)
            if c.when is not None:
                ctx.check_expr(("choices", i, "when"), c.when)
        if s.narration:
            missing = [lang for lang in ctx.exhibit.languages if lang not in (s.captions or {})]
            if missing:
                ctx.error(("narration",), f"narration without captions in {', '.join(missing)}",
                          "add captions: {" + ", ".join(f"{m}: media/{s.id}.{m}.vtt"
                                                        for m in missing) + "}")
        if all(c.when is not None for c in s.choices):
            ctx.warning(("choices",), "every choice has a condition: a visitor may see none",
                        "leave at least one choice without 'when'")

    def _offered(self, s: StoryScene, rt: Runtime) -> list[Choice]:
        return [c for c in s.choices if c.when is None or rt.truth(c.when)]

    def enter(self, scene: Any, rt: Runtime) -> None:
        s: StoryScene = scene
        if s.narration:
            rt.data["ends"] = rt.entered_at + (rt.duration(s.narration.get(rt.lang)) or 0.0)

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: StoryScene = scene
        return {
            "title": rt.text(s.title),
            "text": rt.text(s.text),
            "image": image_view(s.image, rt),
            "narration": (s.narration or {}).get(rt.lang),
            "captions": (s.captions or {}).get(rt.lang),
            "choices": [{"id": c.id, "label": rt.text(c.label)} for c in self._offered(s, rt)],
        }

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        if action != "choose":
            return None
        s: StoryScene = scene
        wanted = payload.get("choice")
        for c in self._offered(s, rt):
            if c.id == wanted:
                rt.record("choice_made", choice=c.id)
                rt.assign(c.set)
                return rt.follow(c.goto if c.goto is not None else c.next)
        return None

    def busy_until(self, scene: Any, rt: Runtime) -> float | None:
        return rt.data.get("ends")

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: StoryScene = scene
        read = len(rt.text(s.text) or "")
        offered = self._offered(s, rt)
        read += sum(len(rt.text(c.label) or "") for c in offered)
        return [Option("choose", {"choice": c.id}, read=read, label=c.id) for c in offered]
