"""Hotspots, as the ``model`` and ``panorama`` scene types share them.

A hotspot has an ``id``, a ``label``, an optional ``source`` and opens a
panel (:class:`Detail`: a text, and optionally a picture and narration with
captions); a panorama hotspot may instead go to a scene (``goto``). What is
the same in both scene types lives here once: the panel's model, its assets
and view, the lint of a list of hotspots, the ``hotspot`` action, and what a
simulated visitor can do with hotspots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from showfloor.content._images import image_asset, image_view
from showfloor.content.model import ImageRef, Model, PerLanguage, Text
from showfloor.content.scenes.base import (
    STAY,
    Asset,
    LintContext,
    Option,
    Outcome,
    Runtime,
    Where,
    media_assets,
)


class Detail(Model):
    """What a hotspot opens: a text, and optionally an image and narration."""

    text: Text
    image: ImageRef | None = None
    narration: PerLanguage | None = None
    captions: PerLanguage | None = None


class Hotspot(Protocol):
    """What the shared code reads of a model or panorama hotspot."""

    @property
    def id(self) -> str: ...

    @property
    def label(self) -> Text: ...

    @property
    def detail(self) -> Detail | None: ...

    @property
    def source(self) -> str | None: ...


def detail_assets(where: Where, d: Detail | None) -> list[Asset]:
    if d is None:
        return []
    out = image_asset(d.image, (*where, "image"), "detail")
    return out + media_assets(where, d.narration, d.captions)


def lint_narration(ctx: LintContext, where: Where, narration: PerLanguage | None,
                   captions: PerLanguage | None, stem: str) -> None:
    """Narration in every language, with captions in every language (as ``media``)."""
    if not narration:
        return
    langs = ctx.exhibit.languages
    missing = [lang for lang in langs if lang not in (captions or {})]
    if missing:
        ctx.error((*where, "captions") if captions else (*where, "narration"),
                  f"narration without captions in {', '.join(missing)}",
                  "add captions: {" + ", ".join(f"{m}: media/{stem}.{m}.vtt"
                                                for m in missing) + "}")
    for lang in langs:
        if lang not in narration:
            ctx.error((*where, "narration"), f"narration missing in {lang}",
                      f"add '{lang}: media/{stem}.{lang}.opus' under narration")


def detail_view(d: Detail | None, rt: Runtime) -> dict[str, Any] | None:
    if d is None:
        return None
    return {"text": rt.text(d.text), "image": image_view(d.image, rt),
            "narration": (d.narration or {}).get(rt.lang),
            "captions": (d.captions or {}).get(rt.lang)}


def lint_hotspots(ctx: LintContext, scene_id: str, hotspots: Sequence[Hotspot]) -> None:
    """Hotspot ids are unique in their scene; sources are declared; panels' narration is captioned."""
    seen: dict[str, int] = {}
    for i, h in enumerate(hotspots):
        at: Where = ("hotspots", i)
        if h.id in seen:
            ctx.error((*at, "id"), f"duplicate hotspot id '{h.id}' in scene '{scene_id}'",
                      f"the first is hotspot {seen[h.id] + 1}; rename one")
        seen.setdefault(h.id, i)
        ctx.check_source((*at, "source"), h.source)
        if h.detail is not None:
            lint_narration(ctx, (*at, "detail"), h.detail.narration, h.detail.captions,
                           f"{scene_id}-{h.id}")


def act_on_hotspot(hotspots: Sequence[Hotspot], rt: Runtime, payload: Mapping[str, Any], *,
                   panel_sets_busy: bool) -> Outcome | None:
    """The ``hotspot`` action: ``{id}`` opens a hotspot's panel, ``{id: null}`` closes it.

    A hotspot with a ``goto`` leaves for that scene instead. Opening a panel
    records ``hotspot_opened`` (not again while it is open) and keeps the
    visitor busy while its narration plays. With ``panel_sets_busy`` (the
    model scene) the panel alone says how busy the visitor is: opening one
    without narration, or closing it, ends an earlier busy time; without it
    (the panorama, whose own narration may be playing) they leave it as it is.
    """
    if "id" not in payload:
        return None
    d = rt.data
    wanted = payload["id"]
    if wanted is None:
        if d["open"] is None:
            return None
        d["open"] = None
        if panel_sets_busy:
            d["busy"] = None
        return STAY
    h = next((h for h in hotspots if h.id == wanted), None)
    if h is None:
        return None
    goto: str | None = getattr(h, "goto", None)
    if goto is not None:
        rt.record("hotspot_opened", hotspot=h.id)
        return rt.follow(goto)
    if d["open"] != h.id:
        d["open"] = h.id
        if h.id not in d["opened"]:
            d["opened"].append(h.id)
        rt.record("hotspot_opened", hotspot=h.id)
        assert h.detail is not None
        length = rt.duration((h.detail.narration or {}).get(rt.lang))
        if length:
            d["busy"] = rt.now + length
        elif panel_sets_busy:
            d["busy"] = None
    return STAY


def hotspot_options(rt: Runtime, title: Text | None, body: Text | None,
                    hotspots: Sequence[Hotspot], most: int | None = None
                    ) -> tuple[int, list[Option]]:
    """What a simulated visitor reads on the scene now, and the hotspots not yet opened.

    The reading is the title, the body and the open panel's text; each
    hotspot adds its label. ``most`` keeps only the first few hotspots.
    """
    d = rt.data
    reading = len(rt.text(title) or "") + len(rt.text(body) or "")
    opened = next((h for h in hotspots if h.id == d["open"]), None)
    if opened is not None and opened.detail is not None:
        reading += len(rt.text(opened.detail.text) or "")
    opts = [Option("hotspot", {"id": h.id}, read=reading + len(rt.text(h.label) or ""),
                   label=f"hotspot {h.id}")
            for h in hotspots if h.id not in d["opened"]][:most]
    return reading, opts


def busy_mark(rt: Runtime) -> float | None:
    """Until when a panel's (or the scene's) narration keeps the visitor busy."""
    busy: float | None = rt.data.get("busy")
    return busy
