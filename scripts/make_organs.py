#!/usr/bin/env python3
"""Generate the demo's 3-D organs: ``examples/drug-prevention/media/organs/*.glb``.

Four calm, stylised, low-poly organs (brain, heart, lungs, liver), made from
code so that anyone can regenerate, change or audit them:

* geometry: numpy and ``trimesh`` (spheres, tubes), deformed by smooth functions;
* file: glTF 2.0 binary written with ``pygltflib`` — positions, normals,
  indices, and two **morph targets** per organ (POSITION and NORMAL deltas,
  named in ``mesh.extras.targetNames`` as three.js reads them), with
  ``mesh.weights`` at 0 (the healthy organ);
* two named PBR materials per organ in the demo's soft palette (no blood red);
* named child nodes on the surface, the anchors of the scene's hotspots.

The output is deterministic: the same bytes on every run (positions are
rounded to 10 µm, normals to 1e-5, before they are written). Every file
must pass the Khronos glTF validator with no errors: ``showfloor check``
runs it.

Usage::

    .venv/bin/python scripts/make_organs.py               # all four
    .venv/bin/python scripts/make_organs.py brain heart   # some
    .venv/bin/python scripts/make_organs.py --preview /tmp/organs   # + PNG previews

Needs ``numpy``, ``trimesh`` and ``pygltflib`` (showfloor's dev dependencies).
"""

from __future__ import annotations

import argparse
import struct
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "examples" / "drug-prevention" / "media" / "organs"
GENERATOR = "showfloor scripts/make_organs.py"

Array = np.ndarray


# ---------------------------------------------------------------------------
# Parts and organs
# ---------------------------------------------------------------------------
@dataclass
class Part:
    """A closed surface drawn with one material, and where each morph target moves it."""

    verts: Array
    faces: Array
    material: str
    targets: dict[str, Array] = field(default_factory=dict)  # name -> moved vertices


@dataclass
class Organ:
    name: str
    parts: list[Part]
    materials: dict[str, tuple[str, float]]  # name -> (sRGB hex, roughness)
    target_names: tuple[str, str]
    anchors: dict[str, tuple[str, tuple[float, float, float]]]  # node -> (material, near)


# ---------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------
def icosphere(subdivisions: int) -> tuple[Array, Array]:
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=1.0)
    return np.asarray(m.vertices, dtype=np.float64), np.asarray(m.faces, dtype=np.int64)


def uv_sphere(n_lat: int, n_lon: int) -> tuple[Array, Array]:
    """A unit sphere of ``n_lat - 1`` rings with single pole vertices (no degenerate faces)."""
    theta = np.linspace(0, np.pi, n_lat + 1)[1:-1]
    phi = np.linspace(0, 2 * np.pi, n_lon, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.sin(p), np.cos(t), np.sin(t) * np.cos(p)], axis=-1)
    verts = np.concatenate([[[0.0, 1.0, 0.0]], ring.reshape(-1, 3), [[0.0, -1.0, 0.0]]])
    rings = n_lat - 1
    faces: list[tuple[int, int, int]] = []

    def at(r: int, c: int) -> int:
        return 1 + r * n_lon + (c % n_lon)

    for c in range(n_lon):
        faces.append((0, at(0, c), at(0, c + 1)))
    for r in range(rings - 1):
        for c in range(n_lon):
            a, b, cc, d = at(r, c), at(r, c + 1), at(r + 1, c), at(r + 1, c + 1)
            faces += [(a, cc, b), (b, cc, d)]
    south = len(verts) - 1
    for c in range(n_lon):
        faces.append((south, at(rings - 1, c + 1), at(rings - 1, c)))
    return verts, _outward(verts, np.array(faces, dtype=np.int64))


def _outward(verts: Array, faces: Array) -> Array:
    """Faces wound so the closed surface's normals point out."""
    if trimesh.Trimesh(verts, faces, process=False).volume < 0:
        return faces[:, ::-1].copy()
    return faces


def curve(points: Sequence[Sequence[float]], n: int) -> Array:
    """``n`` points along a Catmull-Rom spline through ``points``."""
    p = np.asarray(points, dtype=np.float64)
    p = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    segs = len(p) - 3
    out = []
    for i in range(n):
        u = i / (n - 1) * segs
        k = min(int(u), segs - 1)
        t = u - k
        p0, p1, p2, p3 = p[k], p[k + 1], p[k + 2], p[k + 3]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return np.array(out)


def tube(path: Array, radii: Array, segments: int) -> tuple[Array, Array, Array]:
    """A closed tube (end caps) along ``path``; returns verts, faces and each vertex's axis point."""
    n = len(path)
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    # parallel-transport frames: no twisting along the tube
    up = np.array([0.0, 0.0, 1.0]) if abs(tangents[0][2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    normal = np.cross(tangents[0], up)
    normal /= np.linalg.norm(normal)
    frames = []
    for i in range(n):
        if i:
            normal = normal - tangents[i] * np.dot(normal, tangents[i])
            normal /= np.linalg.norm(normal)
        frames.append((normal, np.cross(tangents[i], normal)))
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    verts, axis = [], []
    for i in range(n):
        a, b = frames[i]
        for t in ang:
            verts.append(path[i] + radii[i] * (np.cos(t) * a + np.sin(t) * b))
            axis.append(path[i])
    faces: list[tuple[int, int, int]] = []
    for i in range(n - 1):
        for j in range(segments):
            a, b = i * segments + j, i * segments + (j + 1) % segments
            c, d = a + segments, b + segments
            faces += [(a, b, c), (b, d, c)]
    start, end = len(verts), len(verts) + 1
    verts += [path[0], path[-1]]
    axis += [path[0], path[-1]]
    last = (n - 1) * segments
    for j in range(segments):
        faces.append((start, (j + 1) % segments, j))
        faces.append((end, last + j, last + (j + 1) % segments))
    v = np.array(verts)
    return v, _outward(v, np.array(faces, dtype=np.int64)), np.array(axis)


def normals_of(verts: Array, faces: Array) -> Array:
    """Unit vertex normals: the area-weighted sum of the faces around each vertex."""
    tri = verts[faces]
    fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    n = np.zeros_like(verts)
    for k in range(3):
        np.add.at(n, faces[:, k], fn)
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def gauss(p: Array, centre: Sequence[float], width: float) -> Array:
    d2 = np.sum((p - np.asarray(centre)) ** 2, axis=1)
    return np.exp(-d2 / (width * width))


def smooth_noise(p: Array, seed: int, waves: int = 5, k: float = 2.6) -> Array:
    """A smooth, deterministic 3-D field: a sum of plane waves."""
    rng = np.random.default_rng(seed)
    out = np.zeros(len(p))
    for _ in range(waves):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        out += np.sin(k * rng.uniform(0.7, 1.3) * (p @ d) + rng.uniform(0, 2 * np.pi))
    return out / np.sqrt(waves)


def smoothstep(a: float, b: float, x: Array) -> Array:
    t = np.clip((x - a) / (b - a), 0, 1)
    return t * t * (3 - 2 * t)


def rotation(axis: Sequence[float], degrees: float) -> Array:
    return np.asarray(trimesh.transformations.rotation_matrix(np.radians(degrees), axis)[:3, :3])


# ---------------------------------------------------------------------------
# The organs
# ---------------------------------------------------------------------------
def brain() -> Organ:
    # cerebrum: one sphere shaped into two hemispheres with soft folds
    p, faces = icosphere(4)
    x, y, z = p.T
    shape = p * np.array([0.068, 0.057, 0.086])
    shape[:, 0] *= 1 - 0.10 * z
    shape[:, 1] *= np.where(y < 0, 0.72, 1.0) * (1 - 0.05 * z)
    # temporal lobes: low, at the sides, towards the front
    for side in (-1, 1):
        shape += (gauss(p, (side * 0.85, -0.5, 0.15), 0.45) * 0.010)[:, None] * \
            np.array([side, -0.4, 0.0])
    normal = normals_of(shape, faces)
    fissure = 0.011 * np.exp(-(x / 0.09) ** 2) * smoothstep(-0.55, 0.1, y)
    warp = p + 0.25 * np.stack([smooth_noise(p, s, 3, 1.7) for s in (11, 12, 13)], axis=1)
    bands = np.cos(2 * np.pi * 2.0 * smooth_noise(warp, 7, 5, 2.2))
    fold = 0.0022 * bands * (1 - np.exp(-(x / 0.07) ** 2))
    base = shape + normal * (fold - fissure)[:, None]
    centre = np.array([0.0, 0.0, 0.0])
    shrink = centre + (base - centre) * 0.95 + normal * (
        -0.6 * fissure - 0.0012 * (1 - bands) * (1 - np.exp(-(x / 0.07) ** 2)))[:, None]
    smooth = base - normal * (0.7 * fold)[:, None]
    cerebrum = Part(base, faces, "tissue", {"shrink": shrink, "smooth": smooth})

    # cerebellum: tucked under the back, with fine parallel folds
    q, qf = icosphere(3)
    cb = q * np.array([0.047, 0.025, 0.031]) + np.array([0.0, -0.036, -0.052])
    qn = normals_of(cb, qf)
    folia = 0.0010 * np.sin(q[:, 1] * 9.0 + 0.6 * q[:, 2]) - 0.004 * np.exp(-(q[:, 0] / 0.12) ** 2)
    cb_base = cb + qn * folia[:, None]
    cerebellum = Part(cb_base, qf, "hindbrain", {
        "shrink": centre + (cb_base - centre) * 0.95,
        "smooth": cb_base - qn * (0.7 * 0.0010 * np.sin(q[:, 1] * 9.0 + 0.6 * q[:, 2]))[:, None],
    })

    path = curve([(0, -0.018, -0.020), (0, -0.050, -0.026), (0, -0.088, -0.030)], 9)
    sv, sf, saxis = tube(path, np.linspace(0.0135, 0.0095, len(path)), 14)
    stem = Part(sv, sf, "hindbrain", {"shrink": centre + (sv - centre) * 0.95,
                                      "smooth": sv.copy()})
    _ = saxis
    return Organ("brain", [cerebrum, cerebellum, stem],
                 {"tissue": ("#f2b8b5", 0.62), "hindbrain": ("#e9a89f", 0.6)},
                 ("shrink", "smooth"),
                 {"frontal_lobe": ("tissue", (0.03, 0.035, 0.08)),
                  "hippocampus": ("tissue", (0.07, -0.03, 0.005)),
                  "cerebellum": ("hindbrain", (0.03, -0.05, -0.085))})


def heart() -> Organ:
    p, faces = icosphere(4)
    x, y, z = p.T
    # canonical frame: apex down (-y), front +z
    s = p.copy()
    s[:, 1] *= np.where(y > 0, 0.82, 1.18)
    taper = 1 - 0.42 * np.clip(-y, 0, 1) ** 1.6
    s[:, 0] *= taper
    s[:, 2] *= taper * 0.86
    s += (gauss(p, (-0.62, 0.55, 0.15), 0.45) * 0.16)[:, None] * np.array([-1.0, 0.35, 0.2])
    s += (gauss(p, (0.35, 0.6, -0.55), 0.45) * 0.13)[:, None] * np.array([0.3, 0.3, -1.0])
    shape = s * 0.047
    normal = normals_of(shape, faces)
    groove = 0.0035 * np.exp(-((x - 0.12 + 0.25 * y) / 0.1) ** 2) * smoothstep(0.1, 0.6, z)
    base = shape - normal * groove[:, None]
    enlarge = base * np.array([1.08, 1.05, 1.08]) + normal * (0.002 * (1 - taper))[:, None]
    strain = base + normal * (0.0045 * gauss(p, (0.55, -0.45, 0.2), 0.55))[:, None]
    turn = rotation((0, 0, 1), 32) @ rotation((1, 0, 0), -18)
    body = Part(base @ turn.T, faces, "tissue", {"enlarge": enlarge @ turn.T,
                                                 "strain": strain @ turn.T})

    vessels = []
    specs = [  # path through points, radius at start and end
        ([(0.004, 0.012, 0.004), (0.002, 0.055, 0.006), (0.011, 0.080, -0.004),
          (0.029, 0.078, -0.022), (0.034, 0.050, -0.030)], 0.0125, 0.0115),  # aorta
        ([(0.016, 0.012, 0.018), (0.024, 0.050, 0.022), (0.034, 0.066, 0.014)],
         0.0115, 0.0105),  # pulmonary trunk
        ([(-0.026, 0.012, -0.004), (-0.027, 0.050, -0.006), (-0.028, 0.075, -0.008)],
         0.0095, 0.0090),  # superior vena cava
    ]
    for pts, r0, r1 in specs:
        path = curve(pts, 16 if len(pts) > 3 else 9)
        v, f, _axis = tube(path, np.linspace(r0, r1, len(path)), 16)
        vessels.append(Part(v, f, "vessels", {"enlarge": v * np.array([1.04, 1.02, 1.04]),
                                              "strain": v.copy()}))
    return Organ("heart", [body, *vessels],
                 {"tissue": ("#ee9f8a", 0.55), "vessels": ("#c2aee0", 0.5)},
                 ("enlarge", "strain"),
                 {"left_ventricle": ("tissue", (0.045, -0.03, 0.03)),
                  "aorta": ("vessels", (0.012, 0.1, -0.004)),
                  "right_atrium": ("tissue", (-0.045, 0.02, 0.02))})


def lungs() -> Organ:
    parts: list[Part] = []
    for side in (-1, 1):  # -1: the right lung (the viewer's left), +1: the left lung
        p, faces = uv_sphere(34, 44)
        x, y, z = p.T
        s = p.copy()
        s[:, 0] *= 1 - 0.36 * np.clip(y, 0, 1) ** 2
        s[:, 2] *= 1 - 0.36 * np.clip(y, 0, 1) ** 2
        medial = side * x < 0
        s[:, 0] *= np.where(medial, 0.5, 1.0)
        s[:, 1] += 0.32 * np.exp(-(x * x + z * z) / 0.25) * smoothstep(-0.6, -0.95, y)
        if side > 0:  # the cardiac notch
            s -= (gauss(p, (-0.75, -0.35, 0.55), 0.5) * 0.28)[:, None] * np.array([-1.0, 0, 0.6])
        shape = s * np.array([0.064 * (0.92 if side > 0 else 1.0), 0.115, 0.08])
        shape[:, 0] += side * 0.064
        normal = normals_of(shape, faces)
        fissures = [(0.0, 0.78, 0.62, -0.05)] + ([(0.0, 0.96, -0.28, 0.18)] if side < 0 else [])
        depth = np.zeros(len(p))
        for a, b, c, off in fissures:
            dist = p @ np.array([a, b, c]) / np.linalg.norm([a, b, c]) - off
            depth += 0.0024 * np.exp(-(dist / 0.05) ** 2) * (side * x > -0.2)
        base = shape - normal * depth[:, None]
        centre = np.array([side * 0.064, -0.02, 0.0])
        shrink = centre + (base - centre) * np.array([0.95, 0.90, 0.95])
        parts.append(Part(base, faces, "tissue", {"shrink": shrink, "narrow": base.copy()}))

    airway = [
        ([(0.0, 0.205, 0.0), (0.0, 0.15, 0.002), (0.0, 0.092, 0.006)], 0.0095, 0.0092, 14),
        ([(0.0, 0.098, 0.006), (-0.024, 0.07, 0.004), (-0.05, 0.028, 0.0)], 0.0072, 0.0058, 9),
        ([(0.0, 0.098, 0.006), (0.026, 0.066, 0.004), (0.05, 0.022, 0.0)], 0.0068, 0.0055, 9),
    ]
    for pts, r0, r1, n in airway:
        path = curve(pts, n)
        radii = np.linspace(r0, r1, n)
        if r0 > 0.009:  # the trachea's rings of cartilage
            radii = radii * (1 + 0.06 * np.cos(np.linspace(0, 6 * 2 * np.pi, n)))
        v, f, axis = tube(path, radii, 14)
        parts.append(Part(v, f, "airway", {"shrink": v.copy(),
                                           "narrow": axis + (v - axis) * 0.78}))
    return Organ("lungs", parts,
                 {"tissue": ("#f4b9b6", 0.7), "airway": ("#f6dcc6", 0.55)},
                 ("shrink", "narrow"),
                 {"trachea": ("airway", (0.0, 0.165, 0.02)),
                  "bronchi": ("airway", (0.024, 0.08, 0.02)),
                  "air_sacs": ("tissue", (0.115, -0.06, 0.045))})


def liver() -> Organ:
    p, faces = icosphere(4)
    x, y, z = p.T
    s = p.copy()
    left = (x + 1) / 2  # 0 at the right lobe, 1 at the thin tip of the left lobe
    thick = 1.0 - 0.68 * left ** 1.25
    s[:, 1] = np.where(y < 0, y * 0.6, y) * thick + (1 - thick) * 0.45
    s[:, 1] += 0.45 * np.clip(z, 0, 1) * np.clip(-y, 0, 1)  # the thin front edge
    s[:, 2] *= 1.0 - 0.3 * left
    shape = s * np.array([0.105, 0.07, 0.076])
    normal = normals_of(shape, faces)
    groove = 0.0035 * np.exp(-((x - 0.12) / 0.07) ** 2) * smoothstep(0.2, 0.8, z)
    base = shape - normal * groove[:, None]
    centre = np.array([0.0, 0.01, 0.0])
    swell = centre + (base - centre) * 1.07 + normal * (0.004 * (1 - thick) + 0.002)[:, None]
    bumps = np.cos(34 * p[:, 0]) * np.cos(30 * p[:, 1] + 1.0) * np.cos(32 * p[:, 2] + 2.0)
    scar = centre + (base - centre) * 0.95 + normal * (0.0014 * bumps)[:, None]
    tissue = Part(base, faces, "tissue", {"swell": swell, "scar": scar})

    q, qf = icosphere(2)
    gb = q * np.array([0.013, 0.012, 0.03])
    gb[:, 2] *= 1 + 0.25 * (q[:, 2] > 0) * q[:, 2]  # pear: rounder fundus at the front
    gb = gb @ rotation((1, 0, 0), 18).T + np.array([-0.028, -0.024, 0.05])
    gb_centre = gb.mean(axis=0)
    gallbladder = Part(gb, qf, "gallbladder", {
        "swell": gb + (gb_centre - centre) * 0.07 + np.array([0.0, -0.003, 0.003]),
        "scar": gb + (gb_centre - centre) * -0.05,
    })
    return Organ("liver", [tissue, gallbladder],
                 {"tissue": ("#e89c80", 0.55), "gallbladder": ("#9fd3b8", 0.45)},
                 ("swell", "scar"),
                 {"right_lobe": ("tissue", (-0.065, 0.05, 0.03)),
                  "left_lobe": ("tissue", (0.075, 0.04, 0.02)),
                  "gallbladder": ("gallbladder", (-0.03, -0.035, 0.09))})


ORGANS: dict[str, Callable[[], Organ]] = {
    "brain": brain, "heart": heart, "lungs": lungs, "liver": liver}


# ---------------------------------------------------------------------------
# Writing glTF 2.0 binary
# ---------------------------------------------------------------------------
def srgb_to_linear(hex_colour: str) -> list[float]:
    out = []
    for i in (1, 3, 5):
        c = int(hex_colour[i: i + 2], 16) / 255
        out.append(round(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4, 5))
    return out


class _Blob:
    """The binary chunk: each array in its own 4-byte-aligned buffer view."""

    def __init__(self) -> None:
        import pygltflib

        self.g = pygltflib
        self.data = bytearray()
        self.views: list[object] = []
        self.accessors: list[object] = []

    def add(self, array: Array, component: int, kind: str, target: int,
            minmax: bool = False) -> int:
        raw = array.tobytes()
        while len(self.data) % 4:
            self.data.append(0)
        self.views.append(self.g.BufferView(buffer=0, byteOffset=len(self.data),
                                            byteLength=len(raw), target=target))
        self.data += raw
        acc = self.g.Accessor(bufferView=len(self.views) - 1, componentType=component,
                              count=len(array), type=kind)
        if minmax:
            acc.min = [float(v) for v in array.min(axis=0)]
            acc.max = [float(v) for v in array.max(axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1


def _positions(v: Array) -> Array:
    return np.round(v, 5).astype(np.float32)


def _normals(n: Array) -> Array:
    return np.round(n, 5).astype(np.float32)


def build_glb(organ: Organ) -> bytes:
    """The organ as glTF 2.0 binary bytes (deterministic)."""
    import pygltflib as g

    blob = _Blob()
    materials = list(organ.materials)
    primitives = []
    placed: dict[str, tuple[Array, Array]] = {}
    for mat in materials:
        parts = [pt for pt in organ.parts if pt.material == mat]
        verts, faces, targets = [], [], {t: [] for t in organ.target_names}
        offset = 0
        for pt in parts:
            verts.append(pt.verts)
            faces.append(pt.faces + offset)
            offset += len(pt.verts)
            for t in organ.target_names:
                targets[t].append(pt.targets.get(t, pt.verts))
        v = np.concatenate(verts)
        f = np.concatenate(faces)
        pos = _positions(v)
        nrm = _normals(normals_of(pos.astype(np.float64), f))
        placed[mat] = (pos.astype(np.float64), nrm.astype(np.float64))
        attrs = g.Attributes(
            POSITION=blob.add(pos, g.FLOAT, g.VEC3, g.ARRAY_BUFFER, minmax=True),
            NORMAL=blob.add(nrm, g.FLOAT, g.VEC3, g.ARRAY_BUFFER))
        index_type = np.uint16 if len(v) < 65536 else np.uint32
        indices = blob.add(f.reshape(-1).astype(index_type),
                           g.UNSIGNED_SHORT if index_type is np.uint16 else g.UNSIGNED_INT,
                           g.SCALAR, g.ELEMENT_ARRAY_BUFFER)
        prim_targets = []
        for t in organ.target_names:
            moved = _positions(np.concatenate(targets[t]))
            moved_n = _normals(normals_of(moved.astype(np.float64), f))
            dpos = np.round(moved - pos, 5).astype(np.float32)
            dnrm = np.round(moved_n - nrm, 5).astype(np.float32)
            prim_targets.append(g.Attributes(
                POSITION=blob.add(dpos, g.FLOAT, g.VEC3, g.ARRAY_BUFFER, minmax=True),
                NORMAL=blob.add(dnrm, g.FLOAT, g.VEC3, g.ARRAY_BUFFER)))
        primitives.append(g.Primitive(attributes=attrs, indices=indices,
                                      material=materials.index(mat), mode=g.TRIANGLES,
                                      targets=prim_targets))

    nodes = [g.Node(name=organ.name, mesh=0, children=list(range(1, len(organ.anchors) + 1)))]
    for name, (mat, near) in organ.anchors.items():
        pos, nrm = placed[mat]
        i = int(np.argmin(np.sum((pos - np.asarray(near)) ** 2, axis=1)))
        at = np.round(pos[i] + nrm[i] * 0.003, 5)
        nodes.append(g.Node(name=name, translation=[float(c) for c in at]))
    while len(blob.data) % 4:
        blob.data.append(0)
    doc = g.GLTF2(
        asset=g.Asset(version="2.0", generator=GENERATOR,
                      copyright="showfloor contributors, Apache-2.0"),
        scene=0,
        scenes=[g.Scene(name=organ.name, nodes=[0])],
        nodes=nodes,
        meshes=[g.Mesh(name=organ.name, primitives=primitives,
                       weights=[0.0] * len(organ.target_names),
                       extras={"targetNames": list(organ.target_names)})],
        materials=[g.Material(
            name=name,
            pbrMetallicRoughness=g.PbrMetallicRoughness(
                baseColorFactor=[*srgb_to_linear(hex_colour), 1.0],
                metallicFactor=0.0, roughnessFactor=rough),
            doubleSided=False)
            for name, (hex_colour, rough) in organ.materials.items()],
        accessors=blob.accessors,
        bufferViews=blob.views,
        buffers=[g.Buffer(byteLength=len(blob.data))],
    )
    doc.set_binary_blob(bytes(blob.data))
    return b"".join(doc.save_to_bytes())


def triangles(glb: bytes) -> int:
    """Triangles in a GLB written by :func:`build_glb` (for the summary)."""
    import json

    length = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20: 20 + length])
    return sum(doc["accessors"][p["indices"]]["count"] // 3
               for m in doc["meshes"] for p in m["primitives"])


# ---------------------------------------------------------------------------
# Previews (a quick look without a browser)
# ---------------------------------------------------------------------------
def preview(organ: Organ, path: Path, weights: Sequence[float] = (0.0, 0.0),
            yaw: float = 25.0, size: int = 640) -> None:
    """A flat-shaded PNG of the organ (painter's algorithm with Pillow)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), (16, 30, 56))
    draw = ImageDraw.Draw(img)
    turn = rotation((0, 1, 0), yaw) @ rotation((1, 0, 0), 8)
    polys = []
    allv = np.concatenate([pt.verts for pt in organ.parts])
    centre = (allv.max(axis=0) + allv.min(axis=0)) / 2
    scale = 0.8 * size / (np.ptp(allv, axis=0).max())
    light = np.array([0.4, 0.6, 0.7])
    light /= np.linalg.norm(light)
    for pt in organ.parts:
        v = pt.verts.copy()
        for w, t in zip(weights, organ.target_names, strict=True):
            v += w * (pt.targets.get(t, pt.verts) - pt.verts)
        v = (v - centre) @ turn.T
        colour = np.array([int(organ.materials[pt.material][0][i: i + 2], 16) for i in (1, 3, 5)])
        tri = v[pt.faces]
        n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
        n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
        for k in np.nonzero(n[:, 2] > 0)[0]:
            shade = 0.35 + 0.65 * max(float(n[k] @ light), 0.0)
            xy = [(size / 2 + scale * a[0], size / 2 - scale * a[1]) for a in tri[k]]
            polys.append((float(tri[k][:, 2].mean()), xy, tuple(int(c * shade) for c in colour)))
    for _, xy, c in sorted(polys, key=lambda q: q[0]):
        draw.polygon(xy, fill=c)
    img.save(path)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("organs", nargs="*", choices=[*ORGANS, []], help="organs to make (all)")
    ap.add_argument("--out", type=Path, default=OUT, help="output folder")
    ap.add_argument("--preview", type=Path, help="also draw PNG previews into this folder")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.organs or ORGANS:
        organ = ORGANS[name]()
        data = build_glb(organ)
        (args.out / f"{name}.glb").write_bytes(data)
        print(f"{name}.glb: {triangles(data):,} triangles, {len(data) / 1024:.0f} KB")
        if args.preview:
            args.preview.mkdir(parents=True, exist_ok=True)
            preview(organ, args.preview / f"{name}.png")
            preview(organ, args.preview / f"{name}-10y.png", (1.0, 1.0))
            preview(organ, args.preview / f"{name}-side.png", yaw=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
