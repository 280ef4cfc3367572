"""``attract``: looping media and a "touch to start" call, when nobody is there."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import AssetPath, ImageRef, Model, SceneBase, Text
from showfloor.content.scenes.base import Asset, Edge, LintContext, Option, Runtime, SceneType


class LoopItem(Model):
    """One item of the attract loop: an image shown for ``duration``, or a video."""

    image: ImageRef | None = None
    video: AssetPath | None = None
    duration: Annotated[float, Field(gt=0, le=600)] | None = None

    @model_validator(mode="after")
    def _one_media(self) -> LoopItem:
        if (self.image is None) == (self.video is None):
            raise ValueError("give exactly one of 'image' or 'video'")
        return self


class AttractScene(SceneBase):
    type: Literal["attract"]
    loop: Annotated[list[LoopItem], Field(min_length=1)]
    call: Text


class Attract(SceneType):
    name = "attract"
    model = AttractScene
    summary = "Looping media and a 'touch to start' call, shown when nobody is there."

    def edges(self, scene: Any) -> Iterable[Edge]:
        return ()

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: AttractScene = scene
        for i, item in enumerate(s.loop):
            yield from image_asset(item.image, ("loop", i, "image"), "attract")
            if item.video:
                yield Asset(item.video, "video", ("loop", i, "video"))

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: AttractScene = scene
        for i, item in enumerate(s.loop):
            if item.image and item.duration is None:
                ctx.warning(("loop", i), "an image in the attract loop has no 'duration'",
                            "add 'duration: 6' (seconds); 8 s is used meanwhile")

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: AttractScene = scene
        return {
            "title": rt.text(s.title),
            "loop": [
                {"image": image_view(i.image, rt), "video": i.video, "duration": i.duration or 8.0}
                for i in s.loop
            ],
            "call": rt.text(s.call),
        }

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> None:
        return None  # starting a session is the engine's business

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        return [Option("start")]
