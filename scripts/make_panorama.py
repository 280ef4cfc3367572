#!/usr/bin/env python3
"""Draw the demo's 360° panorama: ``examples/drug-prevention/media/meadow-360.png``.

A calm, stylised meadow at sunrise — sky, soft hills, a path, trees, a lake
and a picnic blanket — as one 2048×1024 **equirectangular** image, with no
text. Column ``x`` is yaw ``x / W * 360 - 180`` (yaw 0, straight ahead, in
the middle; positive yaw to the right); row ``y`` is pitch ``90 - y / H * 180``
(the horizon in the middle). The left and right edges meet seamlessly.

The features sit where the panorama scene's hotspots point
(``scenes/15-organs.yaml``): the path at yaw 0, the trees at yaw −70, the
picnic blanket at yaw 70 and the lake at yaw 180 — see :data:`FEATURES`.

Deterministic (the same bytes every run). Usage::

    .venv/bin/python scripts/make_panorama.py [--out PATH]

Needs numpy and Pillow.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "drug-prevention" / "media" / "meadow-360.png"
W, H = 2048, 1024

#: Where each feature is, as (yaw, pitch) in degrees — the hotspots use these.
FEATURES = {
    "path": (0.0, -20.0),
    "trees": (-70.0, 6.0),
    "blanket": (70.0, -14.0),
    "lake": (180.0, -6.0),
    "sun": (0.0, 14.0),
}

Colour = tuple[int, int, int]
ZENITH: Colour = (58, 74, 140)
SKY_LOW: Colour = (246, 196, 170)
SUN_GLOW: Colour = (255, 222, 170)
CREAM: Colour = (252, 238, 212)
HILL_FAR: Colour = (150, 150, 200)
HILL_NEAR: Colour = (96, 150, 150)
MEADOW: Colour = (120, 186, 150)
MEADOW_DEEP: Colour = (40, 96, 96)
PATH: Colour = (236, 206, 160)
LAKE: Colour = (142, 192, 226)
TRUNK: Colour = (150, 110, 96)
CANOPY: Colour = (84, 160, 128)
BLANKET: Colour = (240, 150, 120)


def _mix(a: np.ndarray, b: Colour | np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (np.asarray(b, dtype=np.float64) - a) * t[..., None]


def _ang(yaw: np.ndarray, pitch: np.ndarray, y0: float, p0: float) -> np.ndarray:
    """Angular distance (degrees) from each pixel's direction to (y0, p0)."""
    a, b = np.radians(pitch), np.radians(p0)
    d = np.radians(yaw - y0)
    cos = np.sin(a) * np.sin(b) + np.cos(a) * np.cos(b) * np.cos(d)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def _wrap(yaw: np.ndarray, centre: float) -> np.ndarray:
    """Yaw relative to ``centre``, in [-180, 180)."""
    return (yaw - centre + 180) % 360 - 180


def draw() -> np.ndarray:
    xs = (np.arange(W) + 0.5) / W * 360 - 180
    ys = 90 - (np.arange(H) + 0.5) / H * 180
    yaw, pitch = np.meshgrid(xs, ys)
    img = np.zeros((H, W, 3))

    # sky: deep blue above, warm near the horizon, a glow around the low sun
    t = np.clip(1 - pitch / 70, 0, 1) ** 2.2
    img[:] = _mix(np.broadcast_to(np.asarray(ZENITH, float), img.shape).copy(), SKY_LOW, t)
    sun_y, sun_p = FEATURES["sun"]
    glow = np.exp(-((_ang(yaw, pitch, sun_y, sun_p) / 38) ** 2))
    img = _mix(img, SUN_GLOW, 0.75 * glow)
    img = _mix(img, CREAM, (_ang(yaw, pitch, sun_y, sun_p) < 4.5).astype(float))
    # soft clouds: stretched along the horizon
    rng = np.random.default_rng(360)
    band = slice(int(H * (90 - 56) / 180), int(H * (90 - 4) / 180))  # rows where clouds are
    by, bp, sky = yaw[band], pitch[band], img[band]
    for _ in range(9):
        cy, cp = rng.uniform(-180, 180), rng.uniform(14, 42)
        for k in range(4):
            dy = _wrap(by, cy + k * rng.uniform(4, 9)) / rng.uniform(11, 18)
            dp = (bp - cp - rng.uniform(-1.5, 1.5)) / rng.uniform(2.4, 3.6)
            puff = np.exp(-(dy * dy + dp * dp) ** 1.5)
            sky = _mix(sky, (255, 240, 232), 0.55 * puff)
    img[band] = sky

    # hills: periodic in yaw, so the seam is invisible
    r = np.radians(yaw)
    far = 5.5 + 2.2 * np.sin(2 * r + 0.7) + 1.3 * np.sin(5 * r + 2.1) + 0.6 * np.sin(11 * r)
    near = 1.8 + 1.6 * np.sin(3 * r + 1.9) + 0.8 * np.sin(7 * r + 0.4)
    haze = np.clip((far - pitch) / 3, 0, 1)
    img = _mix(img, HILL_FAR, (pitch < far) * (0.85 + 0.15 * haze))
    img = _mix(img, HILL_NEAR, (pitch < near).astype(float))

    # the meadow below, darker towards the feet
    ground = pitch < np.minimum(near, 0.0) - 0.8
    depth = np.clip(-pitch / 90, 0, 1) ** 0.8
    meadow = _mix(np.broadcast_to(np.asarray(MEADOW, float), img.shape).copy(), MEADOW_DEEP,
                  depth)
    img = np.where(ground[..., None], meadow, img)

    # the lake behind (yaw 180): an ellipse on the ground
    ly, lp = FEATURES["lake"]
    lake = (_wrap(yaw, ly) / 42) ** 2 + ((pitch - lp) / 4.5) ** 2 < 1
    shimmer = 0.08 * np.sin(pitch * 9.0) * np.cos(yaw * 0.6)
    img = np.where(lake[..., None], _mix(np.broadcast_to(np.asarray(LAKE, float),
                                                         img.shape).copy(),
                                         CREAM, np.clip(0.15 + shimmer, 0, 1)), img)

    # the path ahead (yaw 0): wide at the feet, narrowing to the horizon
    half = 1.2 + 40 * np.clip(-pitch / 90, 0, 1) ** 1.3
    path = (np.abs(_wrap(yaw, FEATURES["path"][0] + 4 * np.sin(np.radians(pitch) * 6))) < half) \
        & ground & (pitch < -1.5)
    img = np.where(path[..., None], _mix(img, PATH, np.full(yaw.shape, 0.85)), img)

    # the picnic blanket (yaw 70): a soft checked quad
    by, bp = FEATURES["blanket"]
    du, dv = _wrap(yaw, by) / 11, (pitch - bp) / 3.2
    blanket = (np.abs(du) < 1) & (np.abs(dv) < 1)
    checks = ((np.floor(du * 3) + np.floor(dv * 3)) % 2 == 0).astype(float)
    img = np.where(blanket[..., None], _mix(np.broadcast_to(np.asarray(BLANKET, float),
                                                            img.shape).copy(),
                                            CREAM, 0.55 * checks), img)

    # trees: round canopies on short trunks, in two groups
    ty = FEATURES["trees"][0]
    band = slice(int(H * (90 - 25) / 180), int(H * (90 + 2) / 180))  # rows where trees are
    by, bp, row = yaw[band], pitch[band], img[band]
    for cy, size in ((ty - 9, 1.0), (ty, 1.25), (ty + 10, 0.9), (120, 1.0), (131, 0.8),
                     (-150, 0.85), (-160, 0.7), (38, 0.7)):
        base = -1.0
        trunk = (np.abs(_wrap(by, cy)) < 0.9 * size) & (bp > base) & (bp < base + 6 * size)
        row = np.where(trunk[..., None], np.asarray(TRUNK, float), row)
        d = np.hypot(_wrap(by, cy) / (5.5 * size), (bp - base - 8.5 * size) / (5.5 * size))
        light = np.clip(0.5 + 0.5 * (_wrap(by, cy) * -0.1 + (bp - base - 8.5 * size) * 0.1),
                        0, 1)
        canopy = _mix(np.broadcast_to(np.asarray(CANOPY, float), row.shape).copy(),
                      MEADOW, 0.5 * light)
        row = np.where((d < 1)[..., None], canopy, row)
    img[band] = row

    # little flowers in the grass
    fy = rng.uniform(-180, 180, 900)
    fp = -rng.uniform(3, 60, 900) ** 1.0
    colours = [(252, 238, 212), (246, 183, 90), (178, 166, 226), (240, 140, 110)]
    out = np.clip(np.round(img), 0, 255).astype(np.uint8)
    for i, (a, b) in enumerate(zip(fy, fp, strict=True)):
        x = int((a + 180) / 360 * W) % W
        y = int((90 - b) / 180 * H)
        if not ground[min(y, H - 1), x] or path[min(y, H - 1), x] or lake[min(y, H - 1), x]:
            continue
        s = max(1, int(3 * (-b / 60)))
        out[y: y + s, x: x + s] = colours[i % len(colours)]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    from PIL import Image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    pixels = draw()
    im = Image.fromarray(pixels, "RGB")
    # full colour: a 256-colour palette bands the sky's gradients (and is no smaller here)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    im.save(args.out, optimize=True)
    print(f"{args.out.name}: {W}×{H}, {args.out.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
