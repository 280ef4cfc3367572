#!/usr/bin/env python3
"""Regenerate the media of the demo exhibit ``examples/drug-prevention``.

Everything is made here, deterministically; nothing is downloaded:

* images: calm flat illustrations drawn with Pillow (1920x1080 PNG, no text);
* narration: the scene text read by espeak-ng, encoded to Ogg Opus by opusenc;
* captions: WebVTT cues timed proportionally to the narration's length.

Each picture is drawn twice, here and in a fresh Python process, and written only if
both drawings are the same bytes. ``media/.pictures.json`` records the SHA-256 of each
PNG and what drew it (this script's SHA-256; Pillow, its zlib, Python, the machine):
``tests/content/test_demo_media.py`` checks the record instead of redrawing every
picture, and redraws a picture only where the record does not fit what would draw it now.

The narrated text is read from the exhibit's YAML (the ``body`` of media
scenes, the ``text`` of story scenes), so it is written only once.

Usage::

    .venv/bin/python scripts/make_demo_media.py            # everything
    .venv/bin/python scripts/make_demo_media.py --images   # images only
    .venv/bin/python scripts/make_demo_media.py --audio    # narration + captions

Needs the Debian packages ``espeak-ng`` and ``opus-tools`` for narration,
and showfloor's own dependencies (pillow, mutagen, webvtt-py, pyyaml).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import multiprocessing
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXHIBIT = ROOT / "examples" / "drug-prevention"
MEDIA = EXHIBIT / "media"
#: each picture's SHA-256 and what drew it (a dotfile: bundles leave it out)
RECORD = MEDIA / ".pictures.json"

# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

W, H = 1920, 1080
SS = 2  # supersampling factor for anti-aliased edges
GLOW_DIV = 8  # glows are drawn at 1/8 size, blurred, and scaled up (cheap + smooth)
MAX_IMAGE_BYTES = 1_500_000  # per picture; the touch budget is 8 MB

# Calm palette: deep navy / teal backgrounds, warm accents.
NAVY = (16, 30, 56)
NAVY_DEEP = (10, 20, 40)
TEAL_DARK = (14, 62, 76)
TEAL = (26, 104, 112)
TEAL_LIGHT = (72, 160, 158)
MINT = (128, 212, 188)
SKY = (142, 192, 226)
LAVENDER = (178, 166, 226)
AMBER = (246, 183, 90)
PEACH = (248, 196, 158)
CORAL = (240, 140, 110)
CREAM = (252, 238, 212)
SAND = (232, 200, 150)

Color = tuple[int, int, int]


def _mix(a: Color, b: Color, t: float) -> Color:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=False))  # type: ignore[return-value]


class Canvas:
    """A 1920x1080 drawing surface; coordinates are always in output pixels."""

    def __init__(self, top: Color, bottom: Color, mid: Color | None = None, mid_at: float = 0.5):
        from PIL import Image

        self.Image = Image
        self.img = self.vertical_gradient(top, bottom, mid, mid_at)

    # -- fills -------------------------------------------------------------
    def vertical_gradient(self, top: Color, bottom: Color, mid: Color | None = None,
                          mid_at: float = 0.5, box: tuple[int, int, int, int] | None = None):
        """An RGB image of the canvas size (or box size) with a vertical gradient."""
        Image = self.Image
        x0, y0, x1, y1 = box if box else (0, 0, W, H)
        h = max(1, y1 - y0)
        column = Image.new("RGB", (1, h))
        px = column.load()
        for y in range(h):
            t = y / max(1, h - 1)
            if mid is None:
                c = _mix(top, bottom, t)
            elif t < mid_at:
                c = _mix(top, mid, t / mid_at)
            else:
                c = _mix(mid, bottom, (t - mid_at) / (1 - mid_at))
            px[0, y] = c
        col = column.resize((1, h * SS), Image.BILINEAR)
        full = Image.new("RGB", (W * SS, H * SS), top)
        full.paste(col.resize(((x1 - x0) * SS, h * SS)), (x0 * SS, y0 * SS))
        return full

    # -- primitives ----------------------------------------------------------
    def _mask(self, draw_fn: Callable, scale: int):
        from PIL import ImageDraw

        m = self.Image.new("L", (W * scale, H * scale), 0)
        draw_fn(ImageDraw.Draw(m), scale)
        return m

    def shape(self, draw_fn: Callable, fill, alpha: int = 255, clip=None) -> None:
        """Paint `fill` (a colour or a full-size RGB image) through a shape.

        draw_fn(draw, k) draws with fill=255 on a mask; multiply coordinates by k.
        `clip` (a mask from `mask()`) limits painting to another shape.
        """
        from PIL import ImageChops

        mask = self._mask(draw_fn, SS)
        if clip is not None:
            mask = ImageChops.multiply(mask, clip)
        if alpha < 255:
            mask = mask.point(lambda v: v * alpha // 255)
        self.img.paste(fill, (0, 0), mask)

    def mask(self, draw_fn: Callable):
        """A full-resolution mask of a shape, for `clip=`."""
        return self._mask(draw_fn, SS)

    def glow(self, draw_fn: Callable, color: Color, blur: float, alpha: int = 255) -> None:
        """A soft light: shape drawn small, blurred, scaled up and screened on."""
        from PIL import ImageChops, ImageFilter

        k = 1 / GLOW_DIV
        small = self.Image.new("L", (W // GLOW_DIV, H // GLOW_DIV), 0)
        from PIL import ImageDraw

        draw_fn(ImageDraw.Draw(small), k)
        small = small.filter(ImageFilter.GaussianBlur(blur / GLOW_DIV))
        if alpha < 255:
            small = small.point(lambda v: v * alpha // 255)
        mask = small.resize((W * SS, H * SS), self.Image.BICUBIC)
        light = self.Image.new("RGB", mask.size, color)
        black = self.Image.new("RGB", mask.size, (0, 0, 0))
        layer = self.Image.composite(light, black, mask)
        self.img = ImageChops.screen(self.img, layer)

    # -- convenience -----------------------------------------------------------
    def circle(self, cx, cy, r, fill, alpha=255, clip=None):
        self.shape(lambda d, k: d.ellipse([(cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k], fill=255),
                   fill, alpha, clip)

    def ellipse(self, box, fill, alpha=255):
        self.shape(lambda d, k: d.ellipse([v * k for v in box], fill=255), fill, alpha)

    def rrect(self, box, radius, fill, alpha=255):
        self.shape(lambda d, k: d.rounded_rectangle([v * k for v in box], radius=radius * k, fill=255),
                   fill, alpha)

    def polygon(self, points, fill, alpha=255, clip=None):
        self.shape(lambda d, k: d.polygon([(x * k, y * k) for x, y in points], fill=255), fill, alpha, clip)

    def line(self, points, width, fill, alpha=255, clip=None):
        def fn(d, k):
            pts = [(x * k, y * k) for x, y in points]
            d.line(pts, fill=255, width=max(1, round(width * k)), joint="curve")
            r = width * k / 2
            for x, y in (pts[0], pts[-1]):
                d.ellipse([x - r, y - r, x + r, y + r], fill=255)
        self.shape(fn, fill, alpha, clip)

    def glow_circle(self, cx, cy, r, color, blur, alpha=255):
        self.glow(lambda d, k: d.ellipse([(cx - r) * k, (cy - r) * k, (cx + r) * k, (cy + r) * k], fill=255),
                  color, blur, alpha)

    def png(self) -> bytes:
        """The picture as a full-colour (RGB) PNG file; the same bytes on every run."""
        from PIL import Image

        out = self.img.resize((W, H), Image.LANCZOS)
        buf = io.BytesIO()
        # full colour: a 256-colour palette shows bands in the soft glows at full size
        out.save(buf, format="PNG", optimize=True)
        return buf.getvalue()

    def save(self, path: Path) -> int:
        """Write the picture as a full-colour (RGB) PNG; the same bytes on every run."""
        return write_png(self.png(), path)


def write_png(data: bytes, path: Path) -> int:
    if len(data) > MAX_IMAGE_BYTES:
        raise SystemExit(f"error: {path.name} is {len(data)} bytes, over {MAX_IMAGE_BYTES}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


# -- reusable pieces -----------------------------------------------------------

def smooth_curve(points: list[tuple[float, float]], steps: int = 16) -> list[tuple[float, float]]:
    """Catmull-Rom spline through points (open curve)."""
    pts = [points[0], *list(points), points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                0.5 * ((2 * p1[j]) + (-p0[j] + p2[j]) * t + (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t2
                       + (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t3)
                for j in range(2)))
    out.append(points[-1])
    return out  # type: ignore[return-value]


def hills(c: Canvas, base_y: float, amp: float, waves: float, phase: float, color: Color, alpha=255):
    pts = [(x, base_y + amp * math.sin(x / W * waves * math.tau + phase)
            + amp * 0.4 * math.sin(x / W * waves * 2.3 * math.tau + phase * 1.7))
           for x in range(0, W + 41, 40)]
    c.polygon([(0, H), *pts, (W, H)], color, alpha)


def stars(c: Canvas, rng: random.Random, n: int, y_max: float, color: Color = CREAM):
    for _ in range(n):
        x, y = rng.uniform(0, W), rng.uniform(0, y_max)
        r = rng.choice([1.5, 2, 2.5, 3])
        c.circle(x, y, r, color, rng.randint(90, 200))


def person(c: Canvas, x: float, ground: float, height: float, body: Color, head: Color = PEACH,
           hair: Color | None = None, arm: str | None = None, lean: float = 0.0, face: bool = True):
    """A friendly rounded figure: pill body, round head, simple calm face.

    x is the centre line, ground the feet line; arm is None, "wave" or "phone".
    """
    bw = height * 0.36
    head_r = height * 0.15
    body_top = ground - height * 0.66
    c.rrect((x - bw / 2, body_top, x + bw / 2, ground + bw * 0.3), bw / 2, body)
    hx, hy = x + lean, body_top - head_r * 1.05
    if hair:
        c.circle(hx, hy - head_r * 0.12, head_r * 1.08, hair)
    c.circle(hx, hy, head_r, head)
    if face:
        ink = (60, 52, 70)
        er = max(2.0, head_r * 0.09)
        look = lean * 0.6
        for side in (-1, 1):
            c.circle(hx + look + side * head_r * 0.36, hy + head_r * 0.02, er, ink)
        def smile(d, k, hx=hx + look, hy=hy, r=head_r):
            d.arc([(hx - r * 0.32) * k, (hy + r * 0.05) * k, (hx + r * 0.32) * k, (hy + r * 0.52) * k],
                  start=25, end=155, fill=255, width=max(1, round(r * 0.08 * k)))
        c.shape(smile, ink)
        c.circle(hx + look - head_r * 0.55, hy + head_r * 0.3, head_r * 0.13, CORAL, 70)
        c.circle(hx + look + head_r * 0.55, hy + head_r * 0.3, head_r * 0.13, CORAL, 70)
    if arm == "wave":
        c.line([(x + bw * 0.4, body_top + height * 0.12), (x + bw * 0.95, body_top - height * 0.12)],
               height * 0.09, body)
    elif arm == "phone":
        c.line([(x + bw * 0.3, body_top + height * 0.28), (x + bw * 0.62, body_top + height * 0.12)],
               height * 0.09, body)


def heart_points(cx: float, cy: float, size: float, n: int = 180) -> list[tuple[float, float]]:
    pts = []
    for i in range(n):
        t = i / n * math.tau
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        pts.append((cx + x * size / 32, cy - y * size / 32))
    return pts


def smooth_closed(points: list[tuple[float, float]], steps: int = 16) -> list[tuple[float, float]]:
    """Closed Catmull-Rom spline through points."""
    n = len(points)
    out = []
    for i in range(n):
        p0, p1, p2, p3 = points[i - 1], points[i], points[(i + 1) % n], points[(i + 2) % n]
        for s in range(steps):
            t = s / steps
            t2, t3 = t * t, t * t * t
            out.append(tuple(
                0.5 * ((2 * p1[j]) + (-p0[j] + p2[j]) * t + (2 * p0[j] - 5 * p1[j] + 4 * p2[j] - p3[j]) * t2
                       + (-p0[j] + 3 * p1[j] - 3 * p2[j] + p3[j]) * t3)
                for j in range(2)))
    return out  # type: ignore[return-value]


def inside(poly: list[tuple[float, float]], x: float, y: float) -> bool:
    """Point in polygon (ray casting)."""
    hit = False
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            hit = not hit
    return hit


# -- the pictures ---------------------------------------------------------------

def img_bubbles() -> Canvas:
    """Attract 1: soft overlapping circles, like a calm abstract logo field."""
    rng = random.Random(11)
    c = Canvas(NAVY_DEEP, TEAL_DARK, NAVY, 0.45)
    c.glow_circle(1400, 380, 320, TEAL, 260, 160)
    c.glow_circle(520, 760, 300, (60, 50, 110), 260, 140)
    cool = [TEAL_LIGHT, MINT, LAVENDER, SKY]
    for i in range(26):
        r = rng.choice([30, 50, 70, 100, 140, 180])
        x, y = rng.uniform(80, W - 80), rng.uniform(80, H - 80)
        if abs(x - W / 2) < 380 and abs(y - H / 2) < 300:
            continue  # keep the centre calm for the call to action
        c.circle(x, y, r, cool[i % len(cool)], rng.randint(35, 80))
    # a gentle cluster in the centre, with a warm light in it
    for (dx, dy, r, col) in [(-120, 20, 150, TEAL_LIGHT), (60, -60, 130, MINT), (90, 90, 110, AMBER),
                             (-30, 130, 80, PEACH)]:
        c.circle(W / 2 + dx, H / 2 + dy, r, col, 190)
    c.glow_circle(W / 2 + 90, H / 2 + 90, 90, AMBER, 90, 120)
    return c


def img_friends() -> Canvas:
    """Attract 2: a group of friends under a starry evening sky."""
    rng = random.Random(12)
    c = Canvas(NAVY_DEEP, TEAL, NAVY, 0.55)
    stars(c, rng, 90, 600)
    c.glow_circle(1520, 220, 70, CREAM, 140, 160)
    c.circle(1520, 220, 58, CREAM)
    hills(c, 820, 30, 1.2, 0.4, TEAL_DARK)
    hills(c, 900, 22, 1.7, 2.0, (12, 48, 60))
    ground = 930
    people = [(560, 300, CORAL, (70, 45, 40), None), (760, 340, TEAL_LIGHT, (40, 30, 30), "wave"),
              (960, 320, AMBER, (90, 60, 40), None), (1160, 350, LAVENDER, (30, 25, 30), None),
              (1360, 300, MINT, (60, 40, 30), "wave")]
    for x, h, col, hair, arm in people:
        person(c, x, ground, h, col, PEACH, hair, arm)
    c.glow_circle(960, 560, 520, AMBER, 300, 40)
    return c


def img_sunrise() -> Canvas:
    """Attract 3 and reflections: a sunrise over soft hills."""
    c = Canvas(NAVY, (250, 200, 150), (30, 96, 110), 0.45)
    cx, cy = 960, 780
    for i, r in enumerate([560, 440, 330]):
        c.circle(cx, cy, r, CREAM, 20 + 10 * i)
    c.glow_circle(cx, cy, 200, AMBER, 220, 220)
    c.circle(cx, cy, 170, (255, 214, 140))
    hills(c, 760, 40, 1.1, 0.9, (40, 110, 118))
    hills(c, 850, 34, 1.6, 2.4, TEAL)
    hills(c, 950, 26, 2.1, 4.0, TEAL_DARK)
    # a path of stepping stones towards the sun
    for x, y, w in [(960, 1040, 150), (990, 990, 120), (975, 950, 96), (960, 918, 76)]:
        c.ellipse((x - w / 2, y - w / 6, x + w / 2, y + w / 6), SAND, 200)
    return c


def img_sapling() -> Canvas:
    """Intro: a young tree growing, with glowing leaves."""
    rng = random.Random(14)
    c = Canvas(NAVY_DEEP, TEAL, NAVY, 0.5)
    stars(c, rng, 50, 420)
    c.glow_circle(960, 520, 360, TEAL_LIGHT, 300, 90)
    hills(c, 860, 24, 1.0, 1.3, TEAL_DARK)
    c.ellipse((660, 840, 1260, 940), (20, 80, 80))
    # trunk and branches
    trunk = smooth_curve([(960, 880), (955, 760), (968, 640), (960, 520)])
    c.line(trunk, 30, (150, 110, 80))
    for pts in ([(962, 700), (880, 620), (820, 560)], [(962, 660), (1050, 590), (1110, 540)],
                [(960, 560), (900, 480)], [(962, 590), (1030, 500)]):
        c.line(smooth_curve(pts), 14, (150, 110, 80))
    leaves = [(820, 560, 56), (1110, 540, 60), (900, 470, 52), (1030, 490, 56), (960, 440, 64),
              (860, 610, 40), (1060, 600, 42), (960, 360, 48)]
    cols = [MINT, TEAL_LIGHT, (150, 220, 170), MINT]
    for x, y, r in leaves:
        c.glow_circle(x, y, r, MINT, 60, 90)
    for i, (x, y, r) in enumerate(leaves):
        c.circle(x, y, r, cols[i % len(cols)], 235)
        c.circle(x - r * 0.3, y - r * 0.3, r * 0.35, CREAM, 60)
    # little sparkles = growth
    for _ in range(18):
        x, y = rng.uniform(700, 1220), rng.uniform(280, 700)
        c.glow_circle(x, y, 4, AMBER, 16, 200)
        c.circle(x, y, 3, CREAM)
    return c


def img_brain() -> Canvas:
    """An abstract brain (side view) of soft circles with glowing connection lines."""
    rng = random.Random(15)
    c = Canvas(NAVY_DEEP, TEAL_DARK, NAVY, 0.5)
    c.glow_circle(960, 500, 460, (70, 70, 160), 260, 130)
    outline = smooth_closed([(610, 600), (570, 470), (620, 350), (730, 265), (880, 215), (1040, 205),
                             (1190, 240), (1310, 320), (1375, 440), (1360, 560), (1290, 625), (1180, 640),
                             (1080, 625), (980, 665), (860, 690), (740, 680), (650, 650)])
    def poly(d, k):
        return d.polygon([(x * k, y * k) for x, y in outline], fill=255)
    clip = c.mask(poly)
    # stem and cerebellum behind
    c.line([(1080, 620), (1110, 700), (1120, 820)], 64, (110, 110, 180))
    c.ellipse((1120, 600, 1350, 740), (130, 125, 200))
    for i in range(5):
        c.shape(lambda d, k, i=i: d.arc([(1140 + i * 8) * k, (615 + i * 14) * k, (1330 - i * 8) * k,
                                         (725 - i * 6) * k], 200, 340, fill=255, width=round(4 * k)),
                (160, 155, 225), 120)
    # cerebrum: soft gradient body, textured with overlapping circles (clipped)
    c.glow(poly, LAVENDER, 60, 110)
    c.polygon(outline, c.vertical_gradient((190, 178, 236), (140, 138, 210)))
    for _ in range(40):
        x, y = rng.uniform(560, 1380), rng.uniform(200, 700)
        c.circle(x, y, rng.uniform(50, 110), rng.choice([(205, 195, 245), (150, 150, 220), (170, 185, 235)]),
                 rng.randint(40, 90), clip)
    # soft folds
    for pts in ([(700, 330), (790, 400), (760, 500), (850, 580)],
                [(900, 250), (950, 340), (1040, 360), (1080, 460)],
                [(1180, 290), (1160, 380), (1250, 450), (1240, 560)], [(660, 520), (760, 560), (900, 520)],
                [(980, 560), (1080, 520), (1180, 580)]):
        c.line(smooth_curve(pts, 12), 10, (120, 115, 190), 110, clip)
    # nodes inside the outline, linked by a spanning tree plus a few extra links
    nodes: list[tuple[float, float]] = []
    while len(nodes) < 30:
        x, y = rng.uniform(620, 1340), rng.uniform(240, 650)
        if inside(outline, x, y) and all((x - a) ** 2 + (y - b) ** 2 > 70 ** 2 for a, b in nodes):
            nodes.append((x, y))
    def dist(i, j):
        return (nodes[i][0] - nodes[j][0]) ** 2 + (nodes[i][1] - nodes[j][1]) ** 2
    in_tree, edges = {0}, []
    while len(in_tree) < len(nodes):
        i, j = min(((i, j) for i in in_tree for j in range(len(nodes)) if j not in in_tree),
                   key=lambda e: dist(*e))
        edges.append((i, j))
        in_tree.add(j)
    for i in range(0, len(nodes), 3):
        j = sorted((j for j in range(len(nodes)) if j != i), key=lambda j: dist(i, j))[1]
        if (i, j) not in edges and (j, i) not in edges:
            edges.append((i, j))

    def draw_edges(d, k, width):
        for i, j in edges:
            (x1, y1), (x2, y2) = nodes[i], nodes[j]
            d.line([(x1 * k, y1 * k), (x2 * k, y2 * k)], fill=255, width=max(1, round(width * k)))

    c.glow(lambda d, k: draw_edges(d, k, 28), AMBER, 16, 170)
    c.shape(lambda d, k: draw_edges(d, k, 4), CREAM, 230)
    for x, y in nodes:
        c.glow_circle(x, y, 22, AMBER, 26, 255)
        c.circle(x, y, 9, CREAM)
    for i, j in edges[::4]:  # signals travelling along connections
        (x1, y1), (x2, y2) = nodes[i], nodes[j]
        mx, my = x1 + (x2 - x1) * 0.4, y1 + (y2 - y1) * 0.4
        c.glow_circle(mx, my, 14, MINT, 24, 255)
        c.circle(mx, my, 6, (220, 255, 240))
    return c


def img_heart_lungs() -> Canvas:
    """Heart and lungs as simple soft shapes."""
    rng = random.Random(16)
    c = Canvas(NAVY, TEAL_DARK, None)
    cx = 960
    c.glow_circle(cx, 540, 440, TEAL, 280, 140)
    airway = (110, 170, 200)
    # windpipe + main bronchi
    c.line([(cx, 150), (cx, 400)], 46, (160, 205, 215))
    for side in (-1, 1):
        bronchus = smooth_curve([(cx, 395), (cx + side * 90, 440), (cx + side * 170, 470)], 8)
        c.line(bronchus, 30, (160, 205, 215))
    lung_grad = c.vertical_gradient((165, 215, 228), (96, 160, 196))
    for side in (-1, 1):
        pts = [(cx + side * 170, 230), (cx + side * 260, 280), (cx + side * 350, 420), (cx + side * 395, 600),
               (cx + side * 390, 770), (cx + side * 300, 835), (cx + side * 170, 825), (cx + side * 95, 760),
               (cx + side * 120, 620), (cx + side * 100, 470), (cx + side * 115, 320)]
        outline = smooth_closed(pts)
        clip = c.mask(lambda d, k, o=outline: d.polygon([(x * k, y * k) for x, y in o], fill=255))
        c.polygon(outline, lung_grad, 240)
        c.glow_circle(cx + side * 260, 380, 90, CREAM, 90, 70)
        # airway tree inside the lung
        tree = [[(cx + side * 150, 470), (cx + side * 230, 560), (cx + side * 290, 700)],
                [(cx + side * 230, 560), (cx + side * 320, 560), (cx + side * 360, 620)],
                [(cx + side * 200, 520), (cx + side * 250, 420), (cx + side * 250, 320)],
                [(cx + side * 250, 420), (cx + side * 320, 440)],
                [(cx + side * 290, 700), (cx + side * 250, 780)],
                [(cx + side * 290, 700), (cx + side * 350, 760)],
                [(cx + side * 230, 560), (cx + side * 170, 680)]]
        for i, ln in enumerate(tree):
            c.line(smooth_curve(ln, 8), 14 if i < 3 else 9, airway, 200, clip)
        for x, y in [ln[-1] for ln in tree]:
            c.circle(x, y, 12, (150, 200, 222), 220, clip)
    # heart in front: warm soft shape with gentle pulse rings
    hx, hy, size = cx + 40, 650, 280
    for r, a in ((250, 40), (200, 60)):
        c.shape(lambda d, k, r=r: d.ellipse([(hx - r) * k, (hy - r) * k, (hx + r) * k, (hy + r) * k],
                                             outline=255, width=round(5 * k)), AMBER, a)
    c.glow(lambda d, k: d.polygon([(x * k, y * k) for x, y in heart_points(hx, hy, size)], fill=255),
           CORAL, 90, 170)
    c.polygon(heart_points(hx, hy, size), c.vertical_gradient((250, 172, 132), (236, 126, 102)))
    c.glow_circle(hx - 60, hy - 60, 28, CREAM, 40, 160)
    # oxygen bubbles drifting in
    for _ in range(22):
        x = rng.choice([rng.uniform(260, 520), rng.uniform(1400, 1660)])
        y = rng.uniform(180, 900)
        r = rng.uniform(8, 24)
        c.circle(x, y, r, SKY, 110)
        c.circle(x - r * 0.3, y - r * 0.3, r * 0.3, CREAM, 140)
    return c


def img_liver() -> Canvas:
    """The liver as a soft warm shape, with 'cleaning' bubbles."""
    rng = random.Random(17)
    c = Canvas(NAVY_DEEP, TEAL, NAVY, 0.45)
    cx, cy = 960, 540
    c.glow_circle(cx, cy, 380, TEAL_LIGHT, 280, 90)
    # liver: a rounded wedge, big lobe on the left tapering to the right
    top = smooth_curve([(560, 520), (640, 380), (820, 320), (1040, 330), (1260, 360), (1400, 400)], 12)
    bottom = smooth_curve([(1400, 400), (1330, 470), (1180, 560), (1000, 660), (800, 720), (640, 690),
                           (560, 520)], 12)
    outline = top + bottom
    c.glow(lambda d, k: d.polygon([(x * k, y * k) for x, y in outline], fill=255), AMBER, 120, 110)
    grad = c.vertical_gradient((250, 200, 140), (222, 140, 96), box=(0, 0, W, H))
    c.polygon(outline, grad)
    # soft division between lobes + highlight
    c.line(smooth_curve([(1030, 335), (1000, 450), (960, 560)], 10), 8, (230, 160, 110), 160)
    c.ellipse((680, 400, 880, 470), CREAM, 70)
    # clean bubbles rising
    for _ in range(30):
        x = rng.uniform(560, 1400)
        y = rng.uniform(120, 330) if rng.random() < 0.6 else rng.uniform(740, 960)
        r = rng.uniform(6, 22)
        c.glow_circle(x, y, r, MINT, 30, 120)
        c.circle(x, y, r, MINT, 150)
        c.circle(x - r * 0.3, y - r * 0.3, r * 0.3, CREAM, 160)
    return c


def _party_room(c: Canvas, rng: random.Random):
    # wall + floor
    c.rrect((-20, 830, W + 20, H + 40), 0, (22, 44, 66))
    # string lights
    for y0, amp, phase in ((110, 60, 0.0), (190, 50, 1.4)):
        pts = [(x, y0 + amp * abs(math.sin(x / W * math.pi * 3 + phase))) for x in range(-20, W + 21, 20)]
        c.line(pts, 3, (90, 110, 130))
        bulbs = [pts[i] for i in range(3, len(pts), 6)]
        cols = [AMBER, MINT, PEACH, LAVENDER, SKY]
        for i, (x, y) in enumerate(bulbs):
            col = cols[i % len(cols)]
            c.glow_circle(x, y + 14, 12, col, 40, 220)
            c.circle(x, y + 14, 10, col)
    # bokeh
    for _ in range(18):
        c.circle(rng.uniform(0, W), rng.uniform(260, 700), rng.uniform(20, 60),
                 rng.choice([AMBER, MINT, LAVENDER, SKY]), 28)


def img_party() -> Canvas:
    """A birthday party: string lights, balloons, rounded figures."""
    rng = random.Random(18)
    c = Canvas(NAVY, TEAL_DARK, (24, 46, 84), 0.5)
    _party_room(c, rng)
    # balloons
    for x, y, col in ((240, 380, CORAL), (330, 330, AMBER), (1680, 360, MINT), (1590, 410, LAVENDER)):
        c.line(smooth_curve([(x, y + 70), (x + 12, y + 200), (x - 8, y + 320)], 8), 3, (200, 200, 210), 150)
        c.ellipse((x - 55, y - 70, x + 55, y + 70), col, 235)
        c.ellipse((x - 30, y - 45, x - 10, y - 15), CREAM, 110)
    # table with a cake
    c.rrect((1180, 760, 1560, 800), 16, (120, 90, 80))
    c.rrect((1300, 690, 1440, 760), 18, PEACH)
    c.rrect((1300, 690, 1440, 712), 10, CREAM)
    c.glow_circle(1370, 660, 10, AMBER, 40, 255)
    c.rrect((1364, 662, 1376, 692), 5, LAVENDER)
    # figures
    ground = 950
    for x, h, col, hair, arm in ((430, 300, TEAL_LIGHT, (50, 35, 30), "wave"),
                                 (640, 330, LAVENDER, (30, 25, 25), None),
                                 (860, 310, AMBER, (80, 55, 40), None),
                                 (1080, 340, MINT, (45, 30, 30), "wave"),
                                 (1660, 320, CORAL, (60, 40, 35), None)):
        person(c, x, ground, h, col, PEACH, hair, arm)
    # music notes as simple dots-with-stems (no text)
    for x, y in ((760, 420), (1010, 380), (1230, 460)):
        c.ellipse((x - 16, y + 40, x + 16, y + 64), CREAM, 160)
        c.rrect((x + 10, y - 20, x + 16, y + 52), 3, CREAM, 160)
    return c


def img_party_talk() -> Canvas:
    """Two friends talking, with empty speech bubbles (no text)."""
    rng = random.Random(19)
    c = Canvas(NAVY, TEAL_DARK, (24, 46, 84), 0.5)
    _party_room(c, rng)
    c.glow_circle(960, 640, 380, AMBER, 300, 70)
    ground = 1000
    person(c, 730, ground, 560, TEAL_LIGHT, PEACH, (40, 30, 30), None, lean=12)
    person(c, 1190, ground, 540, LAVENDER, (236, 184, 146), (70, 45, 35), None, lean=-12)
    # speech bubbles: rounded rectangles with a small tail, three soft dots
    for (x0, y0, x1, y1, bx, tip) in ((250, 250, 610, 390, 540, (630, 470)),
                                       (1300, 220, 1660, 360, 1370, (1280, 460))):
        c.rrect((x0, y0, x1, y1), 60, CREAM, 235)
        c.polygon([(bx - 32, y1 - 5), (bx + 32, y1 - 5), tip], CREAM, 235)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        for dx in (-60, 0, 60):
            c.circle(mx + dx, my, 16, (120, 150, 170))
    return c


def img_night_home() -> Canvas:
    """A quiet night street: a figure with a phone, a warm lit house."""
    rng = random.Random(20)
    c = Canvas(NAVY_DEEP, TEAL_DARK, NAVY, 0.6)
    stars(c, rng, 110, 560)
    c.glow_circle(300, 200, 70, CREAM, 140, 110)
    c.shape(lambda d, k: (d.ellipse([244 * k, 144 * k, 356 * k, 256 * k], fill=255),
                          d.ellipse([272 * k, 126 * k, 382 * k, 236 * k], fill=0)), CREAM)  # crescent
    hills(c, 800, 18, 0.8, 0.3, (16, 52, 64))
    c.rrect((-20, 880, W + 20, H + 40), 0, (20, 50, 60))
    # house
    hx = 1300
    c.rrect((hx, 520, hx + 440, 900), 24, (44, 78, 104))
    c.polygon([(hx - 40, 540), (hx + 220, 330), (hx + 480, 540)], (34, 62, 90))
    for wx in (hx + 50, hx + 290):
        c.glow(lambda d, k, wx=wx: d.rounded_rectangle([wx * k, 600 * k, (wx + 100) * k, 700 * k],
                                                       radius=14 * k, fill=255), AMBER, 70, 200)
        c.rrect((wx, 600, wx + 100, 700), 14, (255, 212, 140))
    c.glow(lambda d, k: d.rounded_rectangle([(hx + 175) * k, 740 * k, (hx + 265) * k, 900 * k], radius=16 * k,
                                            fill=255), AMBER, 90, 220)
    c.rrect((hx + 175, 740, hx + 265, 900), 16, (255, 200, 120))
    # path to the door
    c.polygon([(hx + 175, 900), (hx + 265, 900), (hx + 120, 1080), (hx - 60, 1080)], (46, 80, 90), 200)
    # street lamp
    c.rrect((880, 480, 896, 900), 8, (70, 100, 120))
    c.glow_circle(888, 470, 30, AMBER, 160, 150)
    c.circle(888, 470, 24, (255, 226, 170))
    # figure with a phone; soft glow on the face
    px, ground = 640, 960
    person(c, px, ground, 420, TEAL_LIGHT, PEACH, (45, 32, 30), "phone", lean=10)
    phx, phy = px + 60, ground - 0.66 * 420 + 0.1 * 420
    c.glow_circle(phx, phy, 40, SKY, 80, 200)
    c.rrect((phx - 20, phy - 32, phx + 20, phy + 32), 9, (200, 230, 250))
    # a small message "bubble" floating towards the house (no text)
    c.rrect((960, 300, 1110, 385), 32, MINT, 210)
    c.polygon([(985, 380), (1020, 380), (950, 425)], MINT, 210)
    for dx in (-36, 0, 36):
        c.circle(1035 + dx, 342, 9, (40, 90, 100), 200)
    return c


def img_school() -> Canvas:
    """Monday at school: daylight, a tree, two friends and a ball."""
    c = Canvas((40, 110, 140), (150, 206, 214), (80, 160, 180), 0.5)
    c.glow_circle(1600, 180, 90, CREAM, 200, 200)
    c.circle(1600, 180, 80, (255, 236, 190))
    for x, y, s in ((360, 200, 1.0), (900, 140, 0.8), (1250, 260, 0.7)):
        for dx, dy, r in ((0, 0, 50), (55, 10, 40), (-55, 12, 38), (25, -25, 38)):
            c.circle(x + dx * s * 1.4, y + dy * s * 1.4, r * s * 1.4, (236, 246, 248), 220)
    # school building
    c.rrect((240, 420, 1160, 860), 30, (238, 214, 176))
    c.rrect((560, 330, 840, 440), 26, (226, 196, 156))
    c.circle(700, 385, 34, TEAL_LIGHT)
    for row in range(2):
        for col in range(6):
            x = 300 + col * 140
            y = 480 + row * 170
            if 560 <= x <= 780 and row == 1:
                continue
            c.rrect((x, y, x + 90, y + 100), 14, (120, 180, 200))
    c.rrect((640, 680, 760, 860), 20, TEAL)
    # ground
    c.rrect((-20, 840, W + 20, H + 40), 0, (110, 170, 130))
    c.rrect((-20, 900, W + 20, H + 40), 0, (96, 156, 118))
    # tree
    c.rrect((1650, 560, 1690, 880), 18, (150, 110, 80))
    for dx, dy, r in ((0, -40, 130), (-90, 30, 100), (90, 30, 100), (0, 70, 110)):
        c.circle(1670 + dx, 520 + dy, r, (90, 170, 120))
    # two friends + a ball
    person(c, 1230, 1000, 360, CORAL, PEACH, (60, 40, 35), "wave")
    person(c, 1460, 1000, 340, LAVENDER, (236, 184, 146), (70, 45, 35), None)
    c.circle(1345, 980, 34, AMBER)
    c.line([(1315, 968), (1375, 992)], 3, (200, 130, 60))
    return c


IMAGES: dict[str, Callable[[], Canvas]] = {
    "bubbles": img_bubbles,
    "friends": img_friends,
    "sunrise": img_sunrise,
    "sapling": img_sapling,
    "brain": img_brain,
    "heart_lungs": img_heart_lungs,
    "liver": img_liver,
    "party": img_party,
    "party_talk": img_party_talk,
    "night_home": img_night_home,
    "school": img_school,
}


def render(name: str) -> bytes:
    """The PNG file of picture ``name``, as bytes."""
    return IMAGES[name]().png()


def script_digest() -> str:
    """The SHA-256 of this script, whose drawing code the pictures' bytes depend on."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def environment() -> str:
    """What else a picture's bytes depend on: Pillow, the zlib it compresses PNGs with,
    Python, the machine and its C library."""
    import PIL
    from PIL import features

    return (f"Pillow {PIL.__version__}, zlib {features.version('zlib')}, "
            f"{platform.python_implementation()} {sys.version_info[0]}.{sys.version_info[1]}, "
            f"{platform.machine()} {' '.join(platform.libc_ver())}")


def read_record(path: Path = RECORD) -> dict[str, dict[str, str]]:
    """``{name: {"sha256": ..., "script": ..., "drawn_with": ...}}`` from the record; empty
    if there is none."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["pictures"])
    except FileNotFoundError:
        return {}


def write_record(pictures: dict[str, dict[str, str]], path: Path = RECORD) -> None:
    data = {"about": "written by scripts/make_demo_media.py --images: each picture's SHA-256, "
                     "the script's SHA-256 and what else drew it; checked by "
                     "tests/content/test_demo_media.py",
            "pictures": {k: pictures[k] for k in sorted(pictures)}}
    # a new line at the end, and nothing that changes from run to run
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def make_images(only: Iterable[str] | None = None) -> None:
    """Draw the pictures, each twice — here and in a fresh process with another hash
    seed — and write one only if both drawings are the same bytes; then the record."""
    names = [n for n in IMAGES if not only or n in only]
    unknown = sorted(set(only or ()) - set(IMAGES))
    if unknown:
        sys.exit(f"error: no picture named {', '.join(unknown)}; the pictures: {', '.join(IMAGES)}")
    script, drawn_with = script_digest(), environment()
    record = {k: v for k, v in read_record().items() if k in IMAGES}
    seed = os.environ.get("PYTHONHASHSEED")
    # the other process hashes strings differently: a drawing that leans on set order differs
    os.environ["PYTHONHASHSEED"] = "2" if seed == "1" else "1"
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            theirs = {name: pool.submit(render, name) for name in names}
            for name in names:
                data = render(name)
                if theirs[name].result() != data:
                    pool.shutdown(wait=False, cancel_futures=True)
                    sys.exit(f"error: {name} is drawn differently each time (two drawings "
                             "differ); draw it from fixed seeds only, with no clock or set order")
                size = write_png(data, MEDIA / f"{name}.png")
                record[name] = {"sha256": hashlib.sha256(data).hexdigest(), "script": script,
                                "drawn_with": drawn_with}
                write_record(record)  # after each picture: the record never lags its PNG
                print(f"  image  media/{name}.png  {size / 1024:.0f} KiB")
    finally:
        if seed is None:
            os.environ.pop("PYTHONHASHSEED", None)
        else:
            os.environ["PYTHONHASHSEED"] = seed
    write_record(record)  # also when nothing was drawn: drops pictures the script no longer has


# --------------------------------------------------------------------------
# Narration and captions
# --------------------------------------------------------------------------

VOICES = {"zh-CN": ("cmn", 200), "en": ("en-gb", 155)}  # espeak-ng voice, words per minute
OPUS_BITRATE = "24"
MAX_CUE_SECONDS = 7.0
LINE_CHARS = {"zh-CN": 20, "en": 42}  # characters per line; at most two lines per cue
MIN_CUE_CHARS = {"zh-CN": 7, "en": 18}  # shorter cues are merged into a neighbour
PAUSE_WEIGHT = 3.0  # extra "characters" per chunk for the pause espeak makes at punctuation


def need_tools() -> None:
    missing = [t for t in ("espeak-ng", "opusenc") if shutil.which(t) is None]
    if missing:
        pkgs = {"espeak-ng": "espeak-ng", "opusenc": "opus-tools"}
        print(f"error: missing {', '.join(missing)}; install the Debian packages with:\n"
              f"  apt-get install {' '.join(pkgs[t] for t in missing)}", file=sys.stderr)
        sys.exit(1)


def load_scenes() -> tuple[list[dict], list[str]]:
    """The exhibit's scenes as plain data, read with showfloor's own YAML reader."""
    from showfloor.content._yaml import parse

    exhibit = parse((EXHIBIT / "exhibit.yaml").read_text(encoding="utf-8")).value
    scenes = list(exhibit.get("scenes") or [])
    for f in sorted((EXHIBIT / "scenes").glob("*.yaml")):
        data = parse(f.read_text(encoding="utf-8")).value
        if isinstance(data, dict):
            data = data.get("scenes") or []
        scenes.extend(data or [])
    return scenes, list(exhibit["languages"])


def _text_of(text) -> dict:
    return {k: v for k, v in (text or {}).items() if k != "id"}


def split_sentences(text: str, lang: str) -> list[str]:
    text = " ".join(text.split()) if lang != "zh-CN" else re.sub(r"\s+", "", text)
    if lang == "zh-CN":
        parts = re.split(r"(?<=[。！？])(?![”’」』])|(?<=[。！？][”’」』])", text)
    else:
        parts = re.split(r"(?<=[.!?])\s+|(?<=[.!?][”’\"])\s+", text)
    return [p.strip() for p in parts if p and p.strip()]


def _split_clauses(sentence: str, lang: str) -> list[str]:
    if lang == "zh-CN":
        parts = re.split(r"(?<=[，；：])", sentence)
    else:
        parts = re.split(r"(?<=[,;:])\s+", sentence)
    return [p for p in parts if p]


def _hard_split(piece: str, lang: str, max_chars: int) -> list[str]:
    """Split a clause with no commas into equal-ish parts (at spaces for English)."""
    n = math.ceil(len(piece) / max_chars)
    if lang == "zh-CN":
        step = math.ceil(len(piece) / n)
        return [piece[i:i + step] for i in range(0, len(piece), step)]
    width = math.ceil(len(piece) / n)
    while True:
        lines = textwrap.wrap(piece, width)
        if len(lines) <= n or width >= max_chars:
            return lines
        width += 1


def _partition(pieces: list[str], sep: str, limit: int) -> list[str]:
    """Group consecutive pieces into as few chunks as fit `limit`, as even as possible."""
    n = len(pieces)
    joined = lambda i, j: sep.join(pieces[i:j])  # noqa: E731
    # best[i] = (number of chunks, longest chunk, cut points) for pieces[i:]
    best: list[tuple[int, int, list[int]] | None] = [None] * (n + 1)
    best[n] = (0, 0, [])
    for i in range(n - 1, -1, -1):
        for j in range(i + 1, n + 1):
            length = len(joined(i, j))
            if length > limit and j > i + 1:
                break
            rest = best[j]
            assert rest is not None
            cand = (rest[0] + 1, max(length, rest[1]), [j] + rest[2])
            if best[i] is None or cand[:2] < best[i][:2]:  # type: ignore[index]
                best[i] = cand
    out, start = [], 0
    for cut in best[0][2]:  # type: ignore[index]
        out.append(joined(start, cut))
        start = cut
    return out


def chunk_text(text: str, lang: str, seconds_per_char: float) -> list[str]:
    """Sentences; a sentence too long for one cue is split at commas (then at spaces)."""
    max_chars = LINE_CHARS[lang] * 2
    limit = min(max_chars, int(MAX_CUE_SECONDS / seconds_per_char - PAUSE_WEIGHT))
    sep = "" if lang == "zh-CN" else " "
    chunks: list[str] = []
    for sentence in split_sentences(text, lang):
        if len(sentence) <= limit:
            chunks.append(sentence)
            continue
        pieces: list[str] = []
        for clause in _split_clauses(sentence, lang):
            if len(clause) <= limit:
                pieces.append(clause)
                continue
            for part in re.split(r"(?<=、)", clause) if lang == "zh-CN" else [clause]:
                pieces.extend(_hard_split(part, lang, limit) if len(part) > limit else [part])
        chunks.extend(_partition(pieces, sep, limit))
    # merge very short cues (hard to read in time) into a neighbour when they fit
    short = MIN_CUE_CHARS[lang]
    merged: list[str] = []
    for ch in chunks:
        if merged and (len(ch) < short or len(merged[-1]) < short) and len(merged[-1] + sep + ch) <= limit:
            merged[-1] = merged[-1] + sep + ch
        else:
            merged.append(ch)
    return merged


NO_LINE_START = "，。、；：！？”’）》」』…"
NO_LINE_END = "“‘（《「『"


def wrap_lines(chunk: str, lang: str) -> str:
    """At most two lines, balanced; Chinese never breaks before closing punctuation."""
    width = LINE_CHARS[lang]
    if len(chunk) <= width:
        return chunk
    if lang == "zh-CN":
        mid = len(chunk) / 2
        ok = [i for i in range(1, len(chunk))
              if chunk[i] not in NO_LINE_START and chunk[i - 1] not in NO_LINE_END]
        after_punct = [i for i in ok if chunk[i - 1] in "，、；：”。！？"
                       and max(i, len(chunk) - i) <= width]
        best = min(after_punct or ok, key=lambda i: abs(i - mid))
        return chunk[:best] + "\n" + chunk[best:]
    lines = math.ceil(len(chunk) / width)
    w = math.ceil(len(chunk) / lines)
    while len(textwrap.wrap(chunk, w)) > lines:
        w += 1
    return "\n".join(textwrap.wrap(chunk, w))


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def write_captions(text: str, lang: str, duration: float, path: Path) -> int:
    import webvtt

    flat = re.sub(r"\s+", "", text) if lang == "zh-CN" else " ".join(text.split())
    seconds_per_char = duration / max(1.0, len(flat))
    chunks = chunk_text(text, lang, seconds_per_char)
    weights = [len(ch) + PAUSE_WEIGHT for ch in chunks]
    total = sum(weights)
    vtt = webvtt.WebVTT()
    t = 0.0
    for ch, w in zip(chunks, weights, strict=False):
        end = t + duration * w / total
        vtt.captions.append(webvtt.Caption(_ts(t), _ts(min(end, duration)), wrap_lines(ch, lang)))
        t = end
    vtt.save(str(path))
    return len(chunks)


def speak(text: str, lang: str, out: Path) -> float:
    from mutagen import File as MutagenFile

    voice, speed = VOICES[lang]
    flat = re.sub(r"\s+", "", text) if lang == "zh-CN" else " ".join(text.split())
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "n.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), flat], check=True)
        subprocess.run(["opusenc", "--quiet", "--bitrate", OPUS_BITRATE, "--serial", "1",
                        "--comment", f"LANGUAGE={lang}", str(wav), str(out)], check=True)
    return float(MutagenFile(out).info.length)


def make_narration() -> None:
    need_tools()
    scenes, languages = load_scenes()
    for scene in scenes:
        narration = scene.get("narration")
        if not narration:
            continue
        sid = scene["id"]
        text = _text_of(scene.get("body") if scene.get("type") == "media" else scene.get("text"))
        captions = scene.get("captions") or {}
        for lang in languages:
            audio_rel, vtt_rel = narration.get(lang), captions.get(lang)
            expected = (f"media/{sid}.{lang}.opus", f"media/{sid}.{lang}.vtt")
            if (audio_rel, vtt_rel) != expected:
                sys.exit(f"error: scene {sid}: narration/captions for {lang} should be {expected}, "
                         f"the YAML says {(audio_rel, vtt_rel)}")
            if lang not in text:
                sys.exit(f"error: scene {sid}: no {lang} text to narrate")
            duration = speak(text[lang], lang, EXHIBIT / audio_rel)
            cues = write_captions(text[lang], lang, duration, EXHIBIT / vtt_rel)
            size = (EXHIBIT / audio_rel).stat().st_size
            print(f"  voice  {audio_rel}  {duration:5.1f} s  {size / 1024:.0f} KiB  {cues} cues")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", action="store_true", help="only (re)draw the images")
    ap.add_argument("--audio", action="store_true", help="only (re)make narration and captions")
    ap.add_argument("--only", nargs="*", help="image names to draw (with --images)")
    args = ap.parse_args()
    both = not args.images and not args.audio
    if args.audio or both:
        need_tools()  # fail early, before spending time on images
    MEDIA.mkdir(parents=True, exist_ok=True)
    if args.images or both:
        make_images(args.only)
    if args.audio or both:
        make_narration()
    total = sum(p.stat().st_size for p in MEDIA.iterdir() if p.is_file())
    print(f"media/: {total / 1024 / 1024:.2f} MiB in {len(list(MEDIA.iterdir()))} files")


if __name__ == "__main__":
    main()
