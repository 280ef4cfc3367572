"""glTF models: counting what a renderer pays, budgets, the Khronos validator, the organs.

``tiny_glb`` writes the small models used here, by ``test_model_scenes`` and
by the corpus (``tests/corpus/model-*/media/organ.glb`` were written by it).
"""

from __future__ import annotations

import importlib.util
import io
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from conftest import DEMO, ROOT
from showfloor.content import gltf
from showfloor.content.gltf import BUDGETS_3D, GltfError, inspect, validate, validate_many
from showfloor.content.lint import BUDGETS, Budget, check

ORGANS = DEMO / "media" / "organs"
ANCHORS = {
    "brain": {"frontal_lobe", "hippocampus", "cerebellum"},
    "heart": {"left_ventricle", "aorta", "right_atrium"},
    "lungs": {"trachea", "bronchi", "air_sacs"},
    "liver": {"right_lobe", "left_lobe", "gallbladder"},
}
HAS_VALIDATOR = gltf.validator_installed()
needs_validator = pytest.mark.skipif(not HAS_VALIDATOR, reason="node or the glTF validator "
                                     "is not installed (make setup)")


# -- a tiny model ---------------------------------------------------------------
def tiny_glb(*, targets: tuple[str, ...] = ("shrink", "smooth"),
             nodes: tuple[str, ...] = ("frontal_lobe", "cerebellum"),
             materials: tuple[str, ...] = ("tissue", "vessels"),
             bad_min: bool = False, texture: tuple[int, int] | None = None,
             instances: int = 1, named: bool = True) -> bytes:
    """A tetrahedron (4 triangles, one primitive per material) with morph targets and anchors."""
    import pygltflib as g
    from PIL import Image

    corners = np.array([(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)], dtype=np.float32)
    pos = corners * np.float32(0.05)
    nrm = (corners / np.sqrt(np.float32(3))).astype(np.float32)
    faces = np.array([(0, 1, 2), (0, 3, 1), (0, 2, 3), (1, 3, 2)], dtype=np.uint16)
    blob = bytearray()
    views: list[Any] = []
    accessors: list[Any] = []

    def add(raw: bytes, comp: int, kind: str, count: int, target: int | None,
            lo: list[float] | None = None, hi: list[float] | None = None) -> int:
        while len(blob) % 4:
            blob.append(0)
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(raw),
                                  target=target))
        blob.extend(raw)
        accessors.append(g.Accessor(bufferView=len(views) - 1, componentType=comp,
                                    count=count, type=kind, min=lo, max=hi))
        return len(accessors) - 1

    lo, hi = pos.min(axis=0).tolist(), pos.max(axis=0).tolist()
    if bad_min:
        lo = [-1.0, -1.0, -1.0]
    p = add(pos.tobytes(), g.FLOAT, g.VEC3, 4, g.ARRAY_BUFFER, lo, hi)
    n = add(nrm.tobytes(), g.FLOAT, g.VEC3, 4, g.ARRAY_BUFFER)
    uv = None
    if texture is not None:
        uvs = np.array([(0, 0), (1, 0), (0, 1), (1, 1)], dtype=np.float32)
        uv = add(uvs.tobytes(), g.FLOAT, g.VEC2, 4, g.ARRAY_BUFFER)
    morphs = []
    for i, _ in enumerate(targets):
        d = (pos * np.float32(-0.05 * (i + 1))).astype(np.float32)
        morphs.append(g.Attributes(POSITION=add(d.tobytes(), g.FLOAT, g.VEC3, 4,
                                                g.ARRAY_BUFFER, d.min(axis=0).tolist(),
                                                d.max(axis=0).tolist())))
    per = max(1, len(faces) // len(materials))
    prims = []
    for m in range(len(materials)):
        chunk = faces[m * per: (m + 1) * per if m < len(materials) - 1 else len(faces)]
        idx = add(chunk.tobytes(), g.UNSIGNED_SHORT, g.SCALAR, chunk.size,
                  g.ELEMENT_ARRAY_BUFFER)
        prims.append(g.Primitive(attributes=g.Attributes(POSITION=p, NORMAL=n, TEXCOORD_0=uv),
                                 indices=idx, material=m, targets=morphs))
    images, textures, samplers = [], [], []
    if texture is not None:
        png = io.BytesIO()
        Image.new("RGB", texture, (240, 150, 120)).save(png, "PNG")
        while len(blob) % 4:
            blob.append(0)
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=len(png.getvalue())))
        blob.extend(png.getvalue())
        images = [g.Image(bufferView=len(views) - 1, mimeType="image/png")]
        samplers = [g.Sampler()]
        textures = [g.Texture(source=0, sampler=0)]
    while len(blob) % 4:
        blob.append(0)
    mats = [g.Material(name=name, pbrMetallicRoughness=g.PbrMetallicRoughness(
        baseColorFactor=[0.9, 0.5, 0.4, 1.0], metallicFactor=0.0, roughnessFactor=0.6,
        baseColorTexture=g.TextureInfo(index=0) if texture is not None and i == 0 else None))
        for i, name in enumerate(materials)]
    anchors = [g.Node(name=name, translation=[0.0, 0.06 * (k + 1), 0.0])
               for k, name in enumerate(nodes)]
    roots = [g.Node(name="organ" if i == 0 else f"organ_{i}", mesh=0,
                    translation=[0.2 * i, 0.0, 0.0],
                    children=list(range(instances, instances + len(anchors))) if i == 0 else None)
             for i in range(instances)]
    doc = g.GLTF2(
        asset=g.Asset(version="2.0", generator="showfloor tests"),
        scene=0, scenes=[g.Scene(nodes=list(range(instances)))],
        nodes=roots + anchors,
        meshes=[g.Mesh(name="organ", primitives=prims, weights=[0.0] * len(targets),
                       extras={"targetNames": list(targets)} if targets and named else None)],
        materials=mats, accessors=accessors, bufferViews=views,
        buffers=[g.Buffer(byteLength=len(blob))],
        images=images, textures=textures, samplers=samplers,
    )
    doc.set_binary_blob(bytes(blob))
    return b"".join(doc.save_to_bytes())


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    gltf.clear_caches()


def write(tmp_path: Path, data: bytes, name: str = "organ.glb") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


# -- inspect --------------------------------------------------------------------
def test_inspect_counts_triangles_draw_calls_and_names(tmp_path: Path) -> None:
    info = inspect(write(tmp_path, tiny_glb()))
    assert info.triangles == 4
    assert info.draw_calls == 2
    assert info.nodes == ("organ", "frontal_lobe", "cerebellum")
    assert info.morph_targets == ("shrink", "smooth")
    assert info.materials == ("tissue", "vessels")
    assert info.textures == () and info.texture_px == 0


def test_a_mesh_drawn_twice_counts_twice(tmp_path: Path) -> None:
    info = inspect(write(tmp_path, tiny_glb(instances=3)))
    assert (info.triangles, info.draw_calls) == (12, 6)


def test_texture_sizes_are_read_from_the_embedded_images(tmp_path: Path) -> None:
    info = inspect(write(tmp_path, tiny_glb(texture=(64, 32))))
    assert info.textures == ((0, 64, 32),)
    assert info.texture_px == 64


def test_unnamed_morph_targets_are_named_by_index_like_threejs(tmp_path: Path) -> None:
    assert inspect(write(tmp_path, tiny_glb(targets=()))).morph_targets == ()
    plain = inspect(write(tmp_path, tiny_glb(named=False), "plain.glb"))
    assert plain.morph_targets == ("0", "1")


@pytest.mark.parametrize("data", [b"", b"not a model at all", b"glTF\x02\x00\x00\x00garbage"])
def test_an_unreadable_model_raises_a_plain_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(GltfError):
        inspect(write(tmp_path, data, "broken.glb"))


# -- budgets --------------------------------------------------------------------
def test_every_display_has_a_3d_budget() -> None:
    assert set(BUDGETS_3D) == set(BUDGETS)
    for name, budget in BUDGETS.items():
        assert budget.model is BUDGETS_3D[name]
    vr = BUDGETS_3D["vr"]
    assert (vr.triangles, vr.draw_calls, vr.texture_px) == (100_000, 50, 2048)
    assert BUDGETS_3D["hologram-pyramid"].triangles < vr.triangles  # drawn four times
    assert BUDGETS_3D["hologram-fan"].triangles <= BUDGETS_3D["hologram-pyramid"].triangles


def test_a_budget_may_give_its_3d_part_as_a_mapping() -> None:
    b = Budget(1, 2, 3, 4, {"triangles": 10, "draw_calls": 1, "texture_px": 16,  # type: ignore[arg-type]
                            "model_bytes": 100})
    assert b.model.triangles == 10
    assert Budget(1, 2, 3, 4).model == BUDGETS_3D["touch"]


def model_exhibit(tmp_path: Path, glb: bytes, scenes: str = "") -> Path:
    """A one-model exhibit (two model scenes when ``scenes`` adds one)."""
    from PIL import Image

    (tmp_path / "media").mkdir(exist_ok=True)
    (tmp_path / "media" / "organ.glb").write_bytes(glb)
    Image.new("RGB", (4, 4)).save(tmp_path / "media" / "pic.png")
    (tmp_path / "exhibit.yaml").write_text(textwrap.dedent("""\
        format: 1
        id: organs
        version: 1.0.0
        title: {en: Organs}
        languages: [en]
        default_language: en
        sources: [{id: who, name: WHO, url: "https://www.who.int/"}]
        attract: attract
        start: organ
        scenes:
          - id: attract
            type: attract
            loop: [{image: media/pic.png, duration: 5}]
            call: {en: Touch}
          - id: organ
            type: model
            model: media/organ.glb
            next: bye
        """) + textwrap.indent(scenes, "  ") + textwrap.indent(textwrap.dedent("""\
        - id: bye
          type: end
          messages: [{text: {en: Bye}}]
        """), "  "), encoding="utf-8")
    return tmp_path


def test_check_reports_a_model_over_the_display_budget(tmp_path: Path) -> None:
    folder = model_exhibit(tmp_path, tiny_glb(texture=(64, 64)))
    small = Budget(10**9, 10**9, 10**9, 10**9, gltf.Budget3D(3, 1, 32, 10**9))
    report = check(folder, budget=small)
    said = [str(p) for p in report.errors if p.code == "budget"]
    assert any("has 4 triangles, over the 3 budget for this display" in s for s in said), said
    assert any("needs 2 draw calls, over the 1 budget" in s for s in said), said
    assert any("texture 0 is 64×64 px, over the 32 px budget" in s for s in said), said
    assert all(":17:" in s for s in said)  # at the `model:` line
    named = check(folder, display="hologram-fan")
    assert not [p for p in named.errors if p.code == "budget"]


def test_the_demo_organs_fit_every_display() -> None:
    for display in ("vr", "hologram-pyramid", "hologram-fan"):
        report = check(DEMO, display=display)
        assert not [p for p in report.problems if "organs/" in p.message], display


# -- the Khronos validator ----------------------------------------------------------
@needs_validator
@pytest.mark.parametrize("organ", sorted(ANCHORS))
def test_the_generated_organs_pass_the_khronos_validator(organ: str) -> None:
    report = validate(ORGANS / f"{organ}.glb")
    assert report is not None
    assert (report.errors, report.warnings) == (0, 0), report.issues


@needs_validator
def test_the_validator_finds_a_bad_accessor_min(tmp_path: Path) -> None:
    report = validate(write(tmp_path, tiny_glb(bad_min=True)))
    assert report is not None and report.errors >= 1
    codes = {(i.code, i.pointer) for i in report.issues}
    assert ("ACCESSOR_MIN_MISMATCH", "/accessors/0/min/0") in codes
    good = validate(write(tmp_path, tiny_glb(), "good.glb"))
    assert good is not None and (good.errors, good.warnings) == (0, 0), good.issues


@needs_validator
def test_check_reports_validator_errors_at_the_model_line(tmp_path: Path) -> None:
    report = check(model_exhibit(tmp_path, tiny_glb(bad_min=True)))
    found = [p for p in report.errors if p.code == "gltf-validator"]
    assert found, report.problems
    first = found[0]
    assert (first.file, first.line) == ("exhibit.yaml", 17)
    assert first.message.startswith("model 'media/organ.glb': ACCESSOR_MIN_MISMATCH at "
                                    "/accessors/0/min/0 — ")


@needs_validator
def test_a_file_that_is_not_gltf_is_an_error_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(GltfError, match="could not read it"):
        validate(write(tmp_path, b"hello", "x.glb"))
    report = check(model_exhibit(tmp_path, b"hello"))
    assert any(p.code == "gltf" and "cannot be read" in p.message for p in report.errors)


@needs_validator
def test_reports_are_cached_and_many_files_share_one_node_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    real = subprocess.run

    def counting(args: list[str], **kw: Any) -> Any:
        calls.append(args)
        return real(args, **kw)

    monkeypatch.setattr(gltf.subprocess, "run", counting)
    a = write(tmp_path, tiny_glb(), "a.glb")
    b = write(tmp_path, tiny_glb(bad_min=True), "b.glb")
    first = validate_many([a, b])
    assert len(calls) == 1 and len(calls[0]) == 4  # node, the script, two files
    assert validate_many([a, b]) == first
    assert validate(a) == first[0]
    assert len(calls) == 1
    b.write_bytes(tiny_glb(bad_min=True, targets=("shrink",)))  # changed: validated again
    validate(b)
    assert len(calls) == 2


@pytest.mark.parametrize("what", ["package", "node"])
def test_without_the_validator_check_warns_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                what: str) -> None:
    if what == "package":
        monkeypatch.setattr(gltf, "VALIDATOR_PACKAGE", tmp_path / "nowhere" / "package.json")
    else:
        real_which = shutil.which
        monkeypatch.setattr(gltf.shutil, "which",
                            lambda name, *a, **k: None if name == "node" else real_which(name))
    second = """\
        - id: organ2
          type: model
          model: media/organ.glb
          next: bye
        """
    folder = model_exhibit(tmp_path, tiny_glb(), textwrap.dedent(second))
    (folder / "exhibit.yaml").write_text((folder / "exhibit.yaml").read_text("utf-8").replace(
        "    next: bye\n", "    next: organ2\n", 1), "utf-8")
    assert validate(folder / "media" / "organ.glb") is None
    report = check(folder)
    warned = [p for p in report.problems if p.code == "gltf-validator-missing"]
    assert len(warned) == 1, report.problems
    assert warned[0].severity == "warning"
    assert warned[0].message == ("the Khronos glTF validator is not installed: run make setup"
                                 if what == "package" else
                                 "node is not installed, so glTF models were not validated "
                                 "by the Khronos validator")
    assert not report.errors


# -- the organs and their generator ----------------------------------------------------
@pytest.mark.parametrize("organ", sorted(ANCHORS))
def test_the_organs_are_small_friendly_models_with_names_to_use(organ: str) -> None:
    path = ORGANS / f"{organ}.glb"
    assert path.stat().st_size < 400 * 1024
    info = inspect(path)
    assert 3000 <= info.triangles <= 8000
    assert info.draw_calls == 2
    assert ANCHORS[organ] <= set(info.nodes)
    assert len(info.morph_targets) == 2
    assert len(info.materials) == 2 and "tissue" in info.materials


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_organ_generator_is_deterministic_and_the_files_are_current() -> None:
    organs = _script("make_organs")
    for name, make in organs.ORGANS.items():
        first = organs.build_glb(make())
        assert first == organs.build_glb(make()), name
        assert first == (ORGANS / f"{name}.glb").read_bytes(), \
            f"{name}.glb is stale: run scripts/make_organs.py"


@pytest.mark.slow
def test_the_panorama_generator_is_deterministic(tmp_path: Path) -> None:
    pano = _script("make_panorama")
    out = tmp_path / "p.png"
    assert pano.main(["--out", str(out)]) == 0
    assert out.read_bytes() == (DEMO / "media" / "meadow-360.png").read_bytes()
