"""``panorama``: a 360° equirectangular image or video to look around in.

Hotspots sit at a direction (yaw, pitch). One opens a panel (``detail``);
one with ``goto`` leads to another scene — another panorama makes a virtual
tour, and the graph lint sees every such edge. ``docs/3d.md`` gives the view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from showfloor.content.media import image_size
from showfloor.content.model import AssetPath, Flow, Id, Model, PerLanguage, SceneBase, Text
from showfloor.content.scenes._choices import exactly_one
from showfloor.content.scenes._hotspots import (
    Detail,
    act_on_hotspot,
    busy_mark,
    detail_assets,
    detail_view,
    hotspot_options,
    lint_hotspots,
    lint_narration,
)
from showfloor.content.scenes.base import (
    Asset,
    Edge,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
    Where,
    flow_edges,
    media_assets,
)


class PanoramaHotspot(Model):
    id: Id
    yaw: float = Field(description="Degrees, -180 … 180; 0 is the middle of the image, "
                       "positive to the right.")
    pitch: float = Field(description="Degrees, -90 … 90; 0 is the horizon, positive up.")
    label: Text
    detail: Detail | None = None
    goto: Id | None = Field(default=None, description="A scene to go to (another panorama: "
                            "a virtual tour).")
    source: Id | None = None

    _one_thing = exactly_one("detail", "goto", "a panorama hotspot")


class PanoramaScene(SceneBase):
    type: Literal["panorama"]
    image: AssetPath | None = Field(default=None, description="An equirectangular image (2:1).")
    video: AssetPath | None = Field(default=None, description="An equirectangular video (2:1).")
    body: Text | None = None
    yaw: float = 0.0
    pitch: float = 0.0
    fov: Annotated[float, Field(ge=30, le=120)] = 75.0
    narration: PerLanguage | None = None
    captions: PerLanguage | None = None
    hotspots: list[PanoramaHotspot] = Field(default_factory=list)
    source: Id | None = None
    next: Flow

    _one_picture = exactly_one("image", "video", "a panorama")


class Panorama(SceneType):
    name = "panorama"
    model = PanoramaScene
    summary = "A 360° image or video to look around in, with hotspots; goto hotspots make tours."

    def edges(self, scene: Any) -> Iterable[Edge]:
        s: PanoramaScene = scene
        yield from flow_edges(s.next, ("next",))
        for i, h in enumerate(s.hotspots):
            if h.goto is not None:
                yield Edge(h.goto, ("hotspots", i, "goto"), None, f"hotspot {h.id}")

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: PanoramaScene = scene
        if s.image:
            yield Asset(s.image, "panorama", ("image",))
        if s.video:
            yield Asset(s.video, "video", ("video",))
        yield from media_assets((), s.narration, s.captions)
        for i, h in enumerate(s.hotspots):
            yield from detail_assets(("hotspots", i, "detail"), h.detail)

    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: PanoramaScene = scene
        ctx.check_source(("source",), s.source)
        _angles(ctx, (), s.yaw, s.pitch)
        langs = ctx.exhibit.languages
        if s.video:
            missing = [lang for lang in langs if lang not in (s.captions or {})]
            if missing:
                ctx.error(("captions",) if s.captions else ("video",),
                          f"video without captions in {', '.join(missing)}",
                          "add captions: {" + ", ".join(f"{m}: media/{s.id}.{m}.vtt"
                                                        for m in missing) + "}")
        lint_narration(ctx, (), s.narration, s.captions, s.id)
        lint_hotspots(ctx, s.id, s.hotspots)
        for i, h in enumerate(s.hotspots):
            at: Where = ("hotspots", i)
            _angles(ctx, at, h.yaw, h.pitch)
            if h.goto == s.id:
                ctx.warning((*at, "goto"), f"hotspot '{h.id}' goes to its own scene",
                            "point it at another scene")
        if s.image:
            _lint_shape(ctx, s.image)

    # -- engine side -------------------------------------------------------------
    def enter(self, scene: Any, rt: Runtime) -> None:
        s: PanoramaScene = scene
        rt.data.update(open=None, opened=[], busy=None)
        if s.narration:
            length = rt.duration(s.narration.get(rt.lang))
            rt.data["busy"] = rt.entered_at + length if length else None

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: PanoramaScene = scene
        return {
            "title": rt.text(s.title),
            "body": rt.text(s.body),
            "panorama": {"image": s.image, "video": s.video},
            "yaw": s.yaw,
            "pitch": s.pitch,
            "fov": s.fov,
            "narration": (s.narration or {}).get(rt.lang),
            "captions": (s.captions or {}).get(rt.lang),
            "hotspots": [{"id": h.id, "yaw": h.yaw, "pitch": h.pitch,
                          "label": rt.text(h.label), "detail": detail_view(h.detail, rt),
                          "goto": h.goto, "source": h.source} for h in s.hotspots],
            "open": rt.data["open"],
            "source": s.source,
        }

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        s: PanoramaScene = scene
        if action == "advance":
            return rt.follow(s.next)
        if action != "hotspot":
            return None
        return act_on_hotspot(s.hotspots, rt, payload, panel_sets_busy=False)

    def busy_until(self, scene: Any, rt: Runtime) -> float | None:
        return busy_mark(rt)

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: PanoramaScene = scene
        reading, opts = hotspot_options(rt, s.title, s.body, s.hotspots)
        opts.append(Option("advance", read=reading, label="advance"))
        return opts


def _angles(ctx: LintContext, at: Where, yaw: float, pitch: float) -> None:
    if not -180 <= yaw <= 180:
        wrapped = (yaw + 180) % 360 - 180
        ctx.error((*at, "yaw"), f"yaw {yaw:g} is outside -180 … 180",
                  f"use {wrapped:g} (the same direction)")
    if not -90 <= pitch <= 90:
        ctx.error((*at, "pitch"), f"pitch {pitch:g} is outside -90 … 90",
                  "90 looks straight up, -90 straight down")


def _lint_shape(ctx: LintContext, path: str) -> None:
    """An equirectangular image is twice as wide as it is high."""
    try:
        w, h = image_size(ctx.root / path)
    except (OSError, ValueError):
        return  # missing, unreadable or too large: reported with the asset
    if h and abs(w / h - 2) > 0.02:
        ctx.warning(("image",), f"panorama '{path}' is {w}×{h}: an equirectangular image "
                    "is twice as wide as it is high", "export the panorama at 2:1, e.g. 4096×2048")
