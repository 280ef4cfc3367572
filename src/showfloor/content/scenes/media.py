"""``media``: an image, video or audio with narration and captions per language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import AssetPath, Flow, Id, ImageRef, PerLanguage, SceneBase, Text
from showfloor.content.scenes.base import (
    Asset,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
    media_assets,
)

#: Seconds an image-only scene with ``advance: auto`` stays when no duration is given.
DEFAULT_IMAGE_SECONDS = 8.0


class MediaScene(SceneBase):
    type: Literal["media"]
    image: ImageRef | None = None
    video: AssetPath | None = None
    audio: AssetPath | None = None
    body: Text | None = None
    narration: PerLanguage | None = None
    captions: PerLanguage | None = None
    duration: Annotated[float, Field(gt=0, le=3600)] | None = None
    advance: Literal["auto", "button"] = "button"
    source: Id | None = None
    next: Flow

    @model_validator(mode="after")
    def _some_media(self) -> MediaScene:
        given = [k for k in ("image", "video", "audio") if getattr(self, k)]
        if len(given) > 1 and "image" in given and len(given) == 2 and "audio" in given:
            return self  # an image with a sound bed is fine
        if len(given) > 1:
            raise ValueError(f"give one of 'image', 'video' or 'audio', not {' and '.join(given)}")
        if not given and not self.body:
            raise ValueError("a media scene needs 'image', 'video', 'audio' or at least 'body'")
        return self


class Media(SceneType):
    name = "media"
    model = MediaScene
    summary = "An image, video or audio with narration and captions; auto-advance or a button."

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: MediaScene = scene
        yield from image_asset(s.image, ("image",), "media")
        for kind in ("video", "audio"):
            path = getattr(s, kind)
            if path:
                yield Asset(path, kind, (kind,))
        yield from media_assets((), s.narration, s.captions)

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: MediaScene = scene
        ctx.check_source(("source",), s.source)
        langs = ctx.exhibit.languages
        needs = []
        if s.video:
            needs.append("video")
        if s.narration:
            needs.append("narration")
        if s.audio:
            needs.append("audio")
        for what in needs:
            missing = [lang for lang in langs if lang not in (s.captions or {})]
            if missing:
                where = ("captions",) if s.captions else (what,)
                ctx.error(where, f"{what} without captions in {', '.join(missing)}",
                          "add captions: {" + ", ".join(f"{m}: media/{s.id}.{m}.vtt"
                                                        for m in missing) + "}")
        if s.narration:
            for lang in langs:
                if lang not in s.narration:
                    ctx.error(("narration",), f"narration missing in {lang}",
                              f"add '{lang}: media/{s.id}.{lang}.opus' under narration")
        if s.advance == "auto" and not s.duration and not s.video and not s.narration \
                and not s.audio:
            ctx.warning(("advance",), "auto-advance on an image with no 'duration'",
                        f"add 'duration:' (seconds); {DEFAULT_IMAGE_SECONDS:g} s is used")

    def length(self, s: MediaScene, rt: Runtime) -> float:
        """How long the scene's media plays, in seconds."""
        if s.duration:
            return s.duration
        best = 0.0
        for path in (s.video, s.audio, (s.narration or {}).get(rt.lang)):
            d = rt.duration(path)
            if d:
                best = max(best, d)
        return best or DEFAULT_IMAGE_SECONDS

    def enter(self, scene: Any, rt: Runtime) -> None:
        rt.data["ends"] = rt.entered_at + self.length(scene, rt)

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: MediaScene = scene
        return {
            "title": rt.text(s.title),
            "body": rt.text(s.body),
            "image": image_view(s.image, rt),
            "video": s.video,
            "audio": s.audio,
            "narration": (s.narration or {}).get(rt.lang),
            "captions": (s.captions or {}).get(rt.lang),
            "advance": s.advance,
            "source": s.source,
        }

    def deadline(self, scene: Any, rt: Runtime) -> float | None:
        s: MediaScene = scene
        ends: float = rt.data["ends"]
        return ends if s.advance == "auto" else None

    def expire(self, scene: Any, rt: Runtime) -> Outcome | None:
        return rt.follow(scene.next)

    def busy_until(self, scene: Any, rt: Runtime) -> float | None:
        return rt.data["ends"]  # type: ignore[no-any-return]

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        if action == "advance":
            return rt.follow(scene.next)
        return None

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: MediaScene = scene
        text = (rt.text(s.body) or "") + (rt.text(s.title) or "")
        return [Option("advance", read=len(text))]
