"""Pictures in scenes: what the renderer is sent, and what ``check`` says about them.

A picture is given as a file path or as an :class:`~showfloor.content.model.Image`
(``src``, ``alt``, ``decorative``, ``fit``, ``focus``). Scene types call
:func:`image_asset` for their asset list and :func:`image_view` for their view;
``check`` calls :func:`lint_image` once it knows a picture's size in pixels.

Two rules, both warnings:

* an informative picture (in a media, story, quiz or end scene, or a hotspot's
  panel — not the attract loop's backdrop) without ``alt`` and not marked
  ``decorative: true``;
* ``fit: cover`` (the default) that would crop more than :data:`CROP_WARN_SHARE`
  of an informative picture's width or height in its frame, for the screen
  orientation(s) the exhibit is shown in. Saying ``fit: cover`` explicitly, or
  marking the picture decorative, accepts the crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from showfloor.content.model import Exhibit, Image, image_src
from showfloor.content.scenes.base import Asset, Runtime, Where

#: ``fit: cover`` may cut this share of a picture's width (or height) before ``check`` warns.
CROP_WARN_SHARE = 0.30

#: The width/height of each kind of picture frame on a 1920×1080 screen and a
#: 1080×1920 one, as the renderer lays them out for a visitor's screen (kiosk
#: role, normal text size). Measured in Chromium; tests/e2e/test_images.py keeps
#: this table honest. Story and media frames change a little with the amount of
#: text; these are the typical shapes.
FRAMES: dict[str, dict[str, float]] = {
    "media": {"landscape": 1.08, "portrait": 4 / 3},
    "story": {"landscape": 1.19, "portrait": 4 / 3},
    "quiz": {"landscape": 4 / 3, "portrait": 16 / 9},
    "end": {"landscape": 16 / 9, "portrait": 9 / 16},
    "detail": {"landscape": 16 / 9, "portrait": 16 / 9},
    "attract": {"landscape": 16 / 9, "portrait": 9 / 16},
}
FRAME_NAMES = {"media": "media scene", "story": "story scene", "quiz": "quiz question",
               "end": "end scene", "detail": "hotspot's panel", "attract": "attract loop"}
#: Frames whose pictures tell something (the attract loop is a backdrop).
INFORMATIVE = frozenset({"media", "story", "quiz", "end", "detail"})
ORIENTATIONS = ("landscape", "portrait")


def image_asset(ref: str | Image | None, where: Where, frame: str) -> list[Asset]:
    """The asset of a picture at ``where`` (its file is at ``where`` + src when a mapping)."""
    src = image_src(ref)
    if src is None:
        return []
    at = where if isinstance(ref, str) else (*where, "src")
    return [Asset(src, "image", at, image=ref, frame=frame)]


def image_view(ref: str | Image | None, rt: Runtime) -> dict[str, Any] | None:
    """What the renderer draws for a picture: its file, alt text (this language), fit, focus."""
    if ref is None:
        return None
    if isinstance(ref, str):
        return {"src": ref, "alt": None, "decorative": False, "fit": "cover",
                "focus": [0.5, 0.5]}
    return {"src": ref.src, "alt": rt.text(ref.alt) if ref.alt is not None else None,
            "decorative": ref.decorative, "fit": ref.fit, "focus": list(ref.focus_xy)}


def crop_share(width: int, height: int, frame: float) -> float:
    """How much of a ``width``×``height`` picture ``fit: cover`` cuts off in a frame of that shape."""
    if width <= 0 or height <= 0 or frame <= 0:
        return 0.0
    picture = width / height
    return 1 - (frame / picture if picture > frame else picture / frame)


class _Linter(Protocol):
    exhibit: Exhibit

    def _add(self, severity: str, where: Where, message: str, hint: str | None,
             code: str) -> None: ...


@dataclass(frozen=True)
class _Crop:
    share: float
    orientation: str
    side: str


def lint_image(lt: _Linter, a: Asset, width: int, height: int,
               orientations: tuple[str, ...] = ("landscape",)) -> None:
    """The alt and crop rules for one picture of ``width``×``height`` pixels."""
    if a.frame not in INFORMATIVE:
        return
    ref = a.image
    img = ref if isinstance(ref, Image) else None
    decorative = img is not None and img.decorative
    at = a.where[:-1] if img is not None else a.where  # the picture, not its src
    if not decorative and (img is None or img.alt is None):
        langs = ", ".join(f"{lang}: …" for lang in lt.exhibit.languages)
        example = f"{{src: {a.path}, alt: {{{langs}}}}}"
        lt._add("warning", at, f"picture '{a.path}' has no 'alt' text: screen readers "
                "cannot say what it shows",
                f"write it as {example} saying what it shows, or add 'decorative: true' "
                "if it only decorates" if img is None else
                "add 'alt:' with a short text in each language saying what it shows, or "
                "'decorative: true' if it only decorates", "alt")
    if decorative or (img is not None and (img.fit == "contain" or "fit" in img.model_fields_set)):
        return
    worst: _Crop | None = None
    for o in orientations:
        frame = FRAMES[a.frame].get(o)
        if frame is None:
            continue
        share = crop_share(width, height, frame)
        if worst is None or share > worst.share:
            side = "sides" if width / height > frame else "top and bottom"
            worst = _Crop(share, o, side)
    if worst is None or worst.share <= CROP_WARN_SHARE:
        return
    lt._add("warning", at, f"picture '{a.path}' ({width}×{height}) is cropped to fill its frame "
            f"in the {FRAME_NAMES[a.frame]}: {round(worst.share * 100)}% of it is cut off at "
            f"the {worst.side} on a {worst.orientation} screen (more than "
            f"{round(CROP_WARN_SHARE * 100)}%)",
            "add 'fit: contain' to show it whole, or 'fit: cover' with a 'focus' such as "
            "[0.5, 0.3] if cropping it is fine", "crop")


def screen_orientations(root: Path) -> tuple[str, ...]:
    """The orientations of the station profiles kept with an exhibit (``stations/*.yaml``).

    An exhibit checked on its own is judged for every screen it is set up for;
    without profiles, for a landscape screen.
    """
    from showfloor.station.profile import load_profile

    found: set[str] = set()
    folder = root / "stations"
    if folder.is_dir():
        for f in sorted(folder.glob("*.y*ml")):
            profile, _ = load_profile(f)
            if profile is not None:
                found.add(profile.orientation)
    return tuple(o for o in ORIENTATIONS if o in found) or ("landscape",)
