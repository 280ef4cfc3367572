"""``model``: a glTF 2.0 model to turn around, with hotspots and a timeline.

A visitor orbits a model (a ``.glb``), opens hotspots anchored to its named
nodes, and scrubs a timeline ("years of use") whose keyframes blend the
model's morph targets and material colours; ranges of the timeline switch a
narration text. The page renders and scrubs; the engine keeps the state the
renderer is told: which hotspot is open and the timeline's settled value.
``docs/3d.md`` is the renderer's contract for the view drawn here.
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field

from showfloor.content.model import (
    AssetPath,
    Flow,
    Id,
    Model,
    PerLanguage,
    SceneBase,
    Text,
)
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
    STAY,
    Asset,
    LintContext,
    Option,
    Outcome,
    Runtime,
    SceneType,
    Where,
    media_assets,
)

#: A colour as the renderer takes it: ``#rrggbb`` (sRGB, like CSS).
Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$",
                              description="An sRGB colour written #rrggbb.")]
#: The name of something inside a glTF file (a node, a morph target, a material).
GltfName = Annotated[str, Field(min_length=1, max_length=128)]
Weight = Annotated[float, Field(ge=0, le=1)]


class Camera(Model):
    """Framing: the camera orbits the model's centre, never losing it.

    Distances are in multiples of the radius of the model's bounding sphere;
    angles in degrees (yaw 0 looks at the model's front, +Z; pitch > 0 from above).
    """

    distance: Annotated[float, Field(gt=0, le=100)] = 3.0
    yaw: Annotated[float, Field(ge=-180, le=180)] = 0.0
    pitch: Annotated[float, Field(ge=-89, le=89)] = 10.0
    fov: Annotated[float, Field(ge=10, le=120)] = 35.0
    min_distance: Annotated[float, Field(gt=0, le=100)] = 1.6
    max_distance: Annotated[float, Field(gt=0, le=100)] = 6.0
    min_pitch: Annotated[float, Field(ge=-89, le=89)] = -45.0
    max_pitch: Annotated[float, Field(ge=-89, le=89)] = 75.0


class ModelHotspot(Model):
    id: Id
    node: GltfName = Field(description="The glTF node the hotspot is anchored to.")
    label: Text
    detail: Detail
    source: Id | None = None


class MaterialLook(Model):
    """A material's colours at a keyframe (values not given keep the model's own)."""

    base_color: Colour | None = None
    roughness: Annotated[float, Field(ge=0, le=1)] | None = None
    emissive: Colour | None = None


class Keyframe(Model):
    at: float
    morph: dict[GltfName, Weight] = Field(default_factory=dict)
    material: dict[GltfName, MaterialLook] = Field(default_factory=dict)


class NarrationRange(Model):
    """A text (and narration) shown while the timeline's value is in [from, to)."""

    start: float = Field(alias="from")
    to: float
    text: Text
    narration: PerLanguage | None = None
    captions: PerLanguage | None = None


class Timeline(Model):
    id: Id
    label: Text
    min: float = 0.0
    max: float
    step: float = 1.0
    start: float | None = Field(default=None, description="Where it starts (default: min).")
    unit: Text | None = None
    keyframes: Annotated[list[Keyframe], Field(min_length=1)]
    narration: list[NarrationRange] = Field(default_factory=list)


class ModelScene(SceneBase):
    type: Literal["model"]
    model: AssetPath = Field(description="A glTF 2.0 binary (.glb) file.")
    body: Text | None = None
    camera: Camera = Field(default_factory=Camera)
    auto_rotate: Annotated[float, Field(ge=-90, le=90)] = Field(
        default=6.0, description="Degrees per second while nobody touches it (0: still).")
    background: Colour | None = None
    hotspots: list[ModelHotspot] = Field(default_factory=list)
    timeline: Timeline | None = None
    source: Id | None = None
    next: Flow


def error_at_key(ctx: LintContext, where: Where, message: str, hint: str | None,
                 code: str = "gltf") -> None:
    """An error at a mapping key (a morph target or material name), where ``check`` can."""
    add = getattr(ctx, "_add", None)
    if callable(add):
        add("error", where, message, hint, code, key=True)
    else:
        ctx.error(where, message, hint)


def did_you_mean(name: str, names: Sequence[str], what: str) -> str:
    near = difflib.get_close_matches(name, list(names), n=1)
    if near:
        return f"did you mean '{near[0]}'?"
    if names:
        shown = ", ".join(names[:12]) + (", …" if len(names) > 12 else "")
        return f"the model's {what}: {shown}"
    return f"the model has no {what}"


# -- the timeline, as the renderer must interpolate it -----------------------------
def snap(t: Timeline, value: float) -> float:
    """A settled value: clamped to [min, max] and snapped to the step grid from ``min``."""
    v = min(max(value, t.min), t.max)
    if t.step > 0:
        v = t.min + round((v - t.min) / t.step) * t.step
        v = min(max(v, t.min), t.max)
    return _tidy(v, t.step)


def _tidy(v: float, step: float) -> float:
    """Round away float noise from snapping (0.30000000000000004 → 0.3)."""
    decimals = 0
    if step > 0:
        text = f"{step:.10f}".rstrip("0")
        decimals = len(text.split(".")[1]) if "." in text else 0
    return float(round(v, decimals + 2)) + 0.0  # + 0.0: never -0.0


def active_range(t: Timeline, value: float) -> int | None:
    """The narration range that holds ``value``: [from, to), the last one also at ``to == max``."""
    for i, r in enumerate(t.narration):
        if r.start <= value < r.to or (value == r.to == t.max):
            return i
    return None


def _srgb_to_linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _linear_to_srgb(c: float) -> float:
    return c * 12.92 if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def lerp_colour(a: str, b: str, f: float) -> str:
    """Mix two ``#rrggbb`` colours in linear sRGB (three.js ``Color.lerp`` in its working space)."""
    out = []
    for i in (1, 3, 5):
        x, y = (_srgb_to_linear(int(c[i: i + 2], 16) / 255) for c in (a, b))
        out.append(round(_linear_to_srgb(x + (y - x) * f) * 255))
    return "#" + "".join(f"{max(0, min(255, v)):02x}" for v in out)


def sample(t: Timeline, value: float) -> dict[str, Any]:
    """The model's look at ``value``: the reference for the renderer's interpolation.

    Each channel — a morph target's weight, a material's ``base_color``,
    ``roughness`` or ``emissive`` — is interpolated linearly between the two
    keyframes around ``value`` *that give it*, and held before the first and
    after the last of them. A channel no keyframe gives keeps the model's own value.
    """
    frames = sorted(t.keyframes, key=lambda k: k.at)
    channels: dict[tuple[str, str, str], list[tuple[float, Any]]] = {}
    for k in frames:
        for name, w in k.morph.items():
            channels.setdefault(("morph", name, ""), []).append((k.at, w))
        for name, look in k.material.items():
            for prop in ("base_color", "roughness", "emissive"):
                v = getattr(look, prop)
                if v is not None:
                    channels.setdefault(("material", name, prop), []).append((k.at, v))
    out: dict[str, Any] = {"morph": {}, "material": {}}
    for (kind, name, prop), points in channels.items():
        v = _interpolate(points, value)
        if kind == "morph":
            out["morph"][name] = v
        else:
            out["material"].setdefault(name, {})[prop] = v
    return out


def _interpolate(points: list[tuple[float, Any]], x: float) -> Any:
    if x <= points[0][0]:
        return points[0][1]
    for (x0, a), (x1, b) in itertools.pairwise(points):
        if x0 <= x <= x1:
            f = 0.0 if x1 == x0 else (x - x0) / (x1 - x0)
            if isinstance(a, str):
                return lerp_colour(a, b, f)
            return a + (b - a) * f
    return points[-1][1]


# -- the scene type ----------------------------------------------------------------
class ModelType(SceneType):
    name = "model"
    model = ModelScene
    summary = "A 3-D glTF model to turn, with hotspots on its nodes and a morphing timeline."

    def assets(self, scene: Any) -> Iterable[Asset]:
        s: ModelScene = scene
        yield Asset(s.model, "model", ("model",))
        for i, h in enumerate(s.hotspots):
            yield from detail_assets(("hotspots", i, "detail"), h.detail)
        if s.timeline is not None:
            for i, r in enumerate(s.timeline.narration):
                yield from media_assets(("timeline", "narration", i), r.narration, r.captions)

    # -- lint ------------------------------------------------------------------
    def lint(self, scene: Any, ctx: LintContext) -> None:
        s: ModelScene = scene
        ctx.check_source(("source",), s.source)
        c = s.camera
        if not c.min_distance <= c.distance <= c.max_distance:
            ctx.error(("camera", "distance"), f"camera distance {c.distance:g} is outside "
                      f"min_distance {c.min_distance:g} … max_distance {c.max_distance:g}",
                      "keep min_distance ≤ distance ≤ max_distance")
        if not c.min_pitch <= c.pitch <= c.max_pitch:
            ctx.error(("camera", "pitch"), f"camera pitch {c.pitch:g} is outside "
                      f"min_pitch {c.min_pitch:g} … max_pitch {c.max_pitch:g}",
                      "keep min_pitch ≤ pitch ≤ max_pitch")
        lint_hotspots(ctx, s.id, s.hotspots)
        if s.timeline is not None:
            self._lint_timeline(s, s.timeline, ctx)
        self._lint_names(s, ctx)

    def _lint_timeline(self, s: ModelScene, t: Timeline, ctx: LintContext) -> None:
        at: Where = ("timeline",)
        if t.max <= t.min:
            ctx.error((*at, "max"), f"timeline max {t.max:g} is not above min {t.min:g}",
                      "the timeline runs from min up to max")
            return
        if t.step <= 0:
            ctx.error((*at, "step"), f"timeline step {t.step:g} must be above 0",
                      f"use e.g. 'step: {_nice_step(t)}'")
        elif t.step > t.max - t.min:
            ctx.error((*at, "step"), f"timeline step {t.step:g} is larger than the range "
                      f"{t.min:g} … {t.max:g}", f"use e.g. 'step: {_nice_step(t)}'")
        if t.start is not None:
            if not t.min <= t.start <= t.max:
                ctx.error((*at, "start"), f"timeline start {t.start:g} is outside "
                          f"{t.min:g} … {t.max:g}", "start within min … max")
            elif t.step > 0 and not math.isclose(snap(t, t.start), t.start, abs_tol=1e-9):
                ctx.warning((*at, "start"), f"timeline start {t.start:g} is not on a step "
                            f"of {t.step:g} from {t.min:g}", f"use {snap(t, t.start):g}")
        prev: float | None = None
        for i, k in enumerate(t.keyframes):
            where: Where = (*at, "keyframes", i, "at")
            if not t.min <= k.at <= t.max:
                ctx.error(where, f"keyframe at {k.at:g} is outside the timeline "
                          f"{t.min:g} … {t.max:g}", "keep keyframes within min … max")
            if prev is not None and k.at <= prev:
                ctx.error(where, f"keyframe at {k.at:g} comes after the keyframe at "
                          f"{prev:g}: keyframes must be in increasing order of 'at'",
                          "sort them by 'at', each at a different value")
            prev = k.at
        ranges = sorted(enumerate(t.narration), key=lambda r: (r[1].start, r[0]))
        for i, r in enumerate(t.narration):
            where = (*at, "narration", i)
            if r.to <= r.start:
                ctx.error((*where, "to"), f"narration range {r.start:g} … {r.to:g} is empty",
                          "'to' must be above 'from'")
            if r.start < t.min or r.to > t.max:
                ctx.error((*where, "from") if r.start < t.min else (*where, "to"),
                          f"narration range {r.start:g} … {r.to:g} is outside the timeline "
                          f"{t.min:g} … {t.max:g}", "keep ranges within min … max")
            lint_narration(ctx, where, r.narration, r.captions, f"{s.id}-{t.id}-{i + 1}")
        for (_, a), (ib, b) in itertools.pairwise(ranges):
            if b.start < a.to:
                ctx.error((*at, "narration", ib, "from"), f"narration range {b.start:g} … "
                          f"{b.to:g} overlaps range {a.start:g} … {a.to:g}",
                          f"start it at {a.to:g} or later (ranges are [from, to))")

    def _lint_names(self, s: ModelScene, ctx: LintContext) -> None:
        """Hotspot nodes, morph targets and materials named must be in the model."""
        from showfloor.content.gltf import GltfError, inspect

        path = Path(ctx.root) / s.model
        try:
            info = inspect(path)
        except (GltfError, OSError):
            return  # a missing or unreadable model is reported with the asset
        for i, h in enumerate(s.hotspots):
            if h.node not in info.nodes:
                ctx_error(ctx, ("hotspots", i, "node"), f"hotspot '{h.id}' is anchored to "
                          f"node '{h.node}', which model '{s.model}' does not have",
                          did_you_mean(h.node, info.nodes, "nodes"))
        if s.timeline is None:
            return
        reported: set[tuple[str, str]] = set()
        for i, k in enumerate(s.timeline.keyframes):
            for name in k.morph:
                if name not in info.morph_targets and ("morph", name) not in reported:
                    reported.add(("morph", name))
                    error_at_key(ctx, ("timeline", "keyframes", i, "morph", name),
                                 f"morph target '{name}' is not in model '{s.model}'",
                                 did_you_mean(name, info.morph_targets, "morph targets"))
            for name in k.material:
                if name not in info.materials and ("material", name) not in reported:
                    reported.add(("material", name))
                    error_at_key(ctx, ("timeline", "keyframes", i, "material", name),
                                 f"material '{name}' is not in model '{s.model}'",
                                 did_you_mean(name, info.materials, "materials"))

    # -- engine side -------------------------------------------------------------
    def enter(self, scene: Any, rt: Runtime) -> None:
        s: ModelScene = scene
        t = s.timeline
        rt.data.update(open=None, busy=None, opened=[],
                       value=snap(t, t.start if t.start is not None else t.min)
                       if t is not None else None)

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: ModelScene = scene
        d = rt.data
        timeline = None
        t = s.timeline
        if t is not None:
            timeline = {
                "id": t.id, "label": rt.text(t.label), "min": t.min, "max": t.max,
                "step": t.step, "unit": rt.text(t.unit), "value": d["value"],
                "active": active_range(t, d["value"]),
                "keyframes": [k.model_dump(mode="json", exclude_none=True) for k in t.keyframes],
                "narration": [{"from": r.start, "to": r.to, "text": rt.text(r.text),
                               "narration": (r.narration or {}).get(rt.lang),
                               "captions": (r.captions or {}).get(rt.lang)}
                              for r in t.narration],
            }
        return {
            "title": rt.text(s.title),
            "body": rt.text(s.body),
            "model": s.model,
            "camera": s.camera.model_dump(mode="json"),
            "auto_rotate": s.auto_rotate,
            "background": s.background,
            "hotspots": [{"id": h.id, "node": h.node, "label": rt.text(h.label),
                          "detail": detail_view(h.detail, rt), "source": h.source}
                         for h in s.hotspots],
            "open": d["open"],
            "timeline": timeline,
            "source": s.source,
        }

    def act(self, scene: Any, rt: Runtime, action: str, payload: Mapping[str, Any]) -> Outcome | None:
        s: ModelScene = scene
        d = rt.data
        if action == "advance":
            return rt.follow(s.next)
        if action == "hotspot":
            return act_on_hotspot(s.hotspots, rt, payload, panel_sets_busy=True)
        if action == "timeline" and s.timeline is not None:
            raw = payload.get("value")
            if isinstance(raw, bool) or not isinstance(raw, (int, float)) or \
                    not math.isfinite(raw):
                return None
            t = s.timeline
            if payload.get("timeline", t.id) != t.id:
                return None
            value = snap(t, float(raw))
            before = d["value"]
            d["value"] = value
            rt.record("timeline_set", timeline=t.id, value=value)
            i = active_range(t, value)
            if i is not None and i != active_range(t, before):
                r = t.narration[i]
                length = rt.duration((r.narration or {}).get(rt.lang))
                if length:
                    d["busy"] = rt.now + length
            return STAY
        return None

    def busy_until(self, scene: Any, rt: Runtime) -> float | None:
        return busy_mark(rt)

    def options(self, scene: Any, rt: Runtime) -> list[Option]:
        s: ModelScene = scene
        d = rt.data
        reading, opts = hotspot_options(rt, s.title, s.body, s.hotspots, most=3)
        t = s.timeline
        if t is not None:
            nxt = _next_stop(t, d["value"])
            if nxt is not None:
                i = active_range(t, d["value"])
                text = rt.text(t.narration[i].text) if i is not None else ""
                opts.append(Option("timeline", {"timeline": t.id, "value": nxt},
                                   read=reading + len(text or ""), label=f"timeline {nxt:g}"))
        opts.append(Option("advance", read=reading, label="advance"))
        return opts


def _next_stop(t: Timeline, value: float) -> float | None:
    """Where a simulated visitor moves the timeline next: the next range, then the end."""
    stops = sorted({snap(t, r.start) for r in t.narration} | {t.max})
    return next((v for v in stops if v > value), None)


def _nice_step(t: Timeline) -> str:
    span = t.max - t.min
    return f"{span / 10:g}" if span > 0 else "1"


def ctx_error(ctx: LintContext, where: Where, message: str, hint: str | None) -> None:
    """An error with the ``gltf`` code where ``check`` takes one."""
    add = getattr(ctx, "_add", None)
    if callable(add):
        add("error", where, message, hint, "gltf")
    else:
        ctx.error(where, message, hint)
