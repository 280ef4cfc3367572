"""glTF 2.0 models: what is inside one, what a display can afford, and the Khronos validator.

:func:`inspect` reads a ``.glb`` or ``.gltf`` file (with ``pygltflib``) and
counts what costs a renderer: triangles and draw calls (per drawn node, so a
mesh used twice counts twice), the pixel sizes of its textures (read with
Pillow), and the names a scene refers to — nodes (hotspot anchors), morph
targets (``mesh.extras.targetNames``, which three.js reads into
``morphTargetDictionary``) and materials.

:func:`validate` runs the Khronos glTF validator (npm ``gltf-validator``,
installed in ``validator/`` beside this file by ``npm ci``) through node and
``gltf_validate.mjs``. Both are cached per (path, modification time, size).

:func:`lint_model` is what ``showfloor check`` does with every model asset:
readability, the display's :class:`Budget3D`, and the validator's findings.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from showfloor.errors import ShowfloorError

if TYPE_CHECKING:
    from showfloor.content.lint import Linter
    from showfloor.content.scenes.base import Asset

HERE = Path(__file__).resolve().parent
#: The node script that runs the validator, and the npm folder that holds it.
VALIDATE_SCRIPT = HERE / "gltf_validate.mjs"
VALIDATOR_DIR = HERE / "validator"
VALIDATOR_PACKAGE = VALIDATOR_DIR / "node_modules" / "gltf-validator" / "package.json"
#: Seconds one validator run may take.
VALIDATE_TIMEOUT = 60.0
#: The one warning given when the validator cannot run.
NOT_INSTALLED = "the Khronos glTF validator is not installed: run make setup"
#: The one warning given when node is not on PATH (an installed wheel on a station: the
#: validator's npm package is inside, node is optional).
NO_NODE = ("node is not installed, so glTF models were not validated by the Khronos "
           "validator")

MB = 1024 * 1024

# glTF primitive modes
_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN = 4, 5, 6


class GltfError(ShowfloorError):
    """A model file that cannot be read as glTF 2.0."""


@dataclass(frozen=True)
class Budget3D:
    """What one display kind can draw per model, every frame.

    ``texture_px`` is the longest side of any one texture; ``model_bytes``
    the size of the file (a ``.gltf`` with external buffers: of the ``.gltf``).
    """

    triangles: int
    draw_calls: int
    texture_px: int
    model_bytes: int


#: Per display kind. A headset draws every frame twice at 72–90 Hz; a
#: hologram pyramid draws the scene four times (one view per face); a
#: hologram fan's player is a small embedded board.
BUDGETS_3D: dict[str, Budget3D] = {
    "touch": Budget3D(300_000, 100, 4096, 50 * MB),
    "projector": Budget3D(300_000, 100, 4096, 50 * MB),
    "vr": Budget3D(100_000, 50, 2048, 20 * MB),
    "hologram-pyramid": Budget3D(60_000, 30, 2048, 20 * MB),
    "hologram-fan": Budget3D(30_000, 20, 1024, 10 * MB),
}


@dataclass(frozen=True)
class ModelInfo:
    """What a renderer pays for one model, and the names content may refer to."""

    triangles: int
    draw_calls: int
    #: (image index, width, height) of every image that could be read.
    textures: tuple[tuple[int, int, int], ...]
    nodes: tuple[str, ...]
    morph_targets: tuple[str, ...]
    materials: tuple[str, ...]

    @property
    def texture_px(self) -> int:
        """The longest side of the largest texture (0: none)."""
        return max((max(w, h) for _, w, h in self.textures), default=0)


@dataclass(frozen=True)
class Issue:
    """One finding of the Khronos validator."""

    code: str
    message: str
    severity: int  # 0 error, 1 warning, 2 information, 3 hint
    pointer: str | None = None

    @property
    def level(self) -> str:
        return {0: "error", 1: "warning", 2: "info", 3: "hint"}.get(self.severity, "info")


@dataclass(frozen=True)
class Validation:
    """The validator's report on one file."""

    errors: int
    warnings: int
    infos: int
    hints: int
    issues: tuple[Issue, ...]
    version: str = ""
    truncated: bool = False


# -- reading ------------------------------------------------------------------
def _key(path: str | Path) -> tuple[str, int, int]:
    p = os.path.realpath(path)
    st = os.stat(p)
    return p, st.st_mtime_ns, st.st_size


def inspect(path: str | Path) -> ModelInfo:
    """Read a ``.glb``/``.gltf`` and count what a renderer pays for it.

    Raises :class:`GltfError` when it is not a readable glTF 2.0 file
    (and ``OSError`` when it cannot be read at all).
    """
    return _inspect(*_key(path))


@functools.lru_cache(maxsize=256)
def _inspect(path: str, mtime: int, size: int) -> ModelInfo:
    try:
        import pygltflib

        doc = pygltflib.GLTF2.load(path)
    except Exception as err:  # pygltflib raises many kinds on bad input
        raise GltfError(f"not a readable glTF 2.0 file ({_short(err)})") from err
    if doc is None:
        raise GltfError("not a readable glTF 2.0 file")
    try:
        return _count(doc, Path(path))
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as err:
        raise GltfError(f"malformed glTF ({_short(err)})") from err


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text if len(text) <= 120 else text[:117] + "…"


def _count(doc: Any, path: Path) -> ModelInfo:
    meshes = doc.meshes or []
    accessors = doc.accessors or []
    per_mesh: list[tuple[int, int]] = []
    for mesh in meshes:
        tris = 0
        for prim in mesh.primitives or []:
            mode = _TRIANGLES if prim.mode is None else prim.mode
            if prim.indices is not None:
                n = accessors[prim.indices].count
            else:
                pos = getattr(prim.attributes, "POSITION", None)
                n = accessors[pos].count if pos is not None else 0
            if mode == _TRIANGLES:
                tris += n // 3
            elif mode in (_TRIANGLE_STRIP, _TRIANGLE_FAN):
                tris += max(n - 2, 0)
        per_mesh.append((tris, len(mesh.primitives or [])))

    # what is drawn: the meshes of the nodes of the default scene (instances count)
    nodes = doc.nodes or []
    scenes = doc.scenes or []
    scene_index = doc.scene if doc.scene is not None else (0 if scenes else None)
    if scene_index is not None and scene_index < len(scenes):
        roots = list(scenes[scene_index].nodes or [])
        drawn: list[int] = []
        seen: set[int] = set()
        while roots:
            n = roots.pop()
            if n in seen or not 0 <= n < len(nodes):
                continue
            seen.add(n)
            if nodes[n].mesh is not None:
                drawn.append(nodes[n].mesh)
            roots.extend(nodes[n].children or [])
    else:
        drawn = list(range(len(meshes)))
    triangles = sum(per_mesh[m][0] for m in drawn if 0 <= m < len(per_mesh))
    draw_calls = sum(per_mesh[m][1] for m in drawn if 0 <= m < len(per_mesh))

    targets: list[str] = []
    for mesh in meshes:
        extras = mesh.extras if isinstance(mesh.extras, dict) else {}
        names = extras.get("targetNames")
        count = max((len(p.targets or []) for p in mesh.primitives or []), default=0)
        if isinstance(names, list):
            found = [str(n) for n in names]
        else:  # three.js names unnamed targets by their index
            found = [str(i) for i in range(count)]
        targets += [n for n in found if n not in targets]

    return ModelInfo(
        triangles=triangles,
        draw_calls=draw_calls,
        textures=tuple(_texture_sizes(doc, path)),
        nodes=tuple(n.name for n in nodes if n.name),
        morph_targets=tuple(targets),
        materials=tuple(m.name for m in doc.materials or [] if m.name),
    )


def _texture_sizes(doc: Any, path: Path) -> list[tuple[int, int, int]]:
    from io import BytesIO

    from showfloor.content.media import image_size

    out: list[tuple[int, int, int]] = []
    for i, image in enumerate(doc.images or []):
        data = _image_bytes(doc, image, path)
        if data is None:
            continue
        try:
            w, h = image_size(BytesIO(data))  # ImageTooLarge is a ValueError
        except (OSError, ValueError):
            continue  # KTX2 and the like: the validator speaks for those
        out.append((i, w, h))
    return out


def _image_bytes(doc: Any, image: Any, path: Path) -> bytes | None:
    if image.bufferView is not None:
        view = doc.bufferViews[image.bufferView]
        buffer = doc.buffers[view.buffer]
        if buffer.uri is None:
            blob = doc.binary_blob() or b""
        else:
            blob = _uri_bytes(buffer.uri, path) or b""
        start = view.byteOffset or 0
        return bytes(blob[start: start + view.byteLength])
    if image.uri:
        return _uri_bytes(image.uri, path)
    return None


def _uri_bytes(uri: str, path: Path) -> bytes | None:
    if uri.startswith("data:"):
        _, _, payload = uri.partition(",")
        try:
            return base64.b64decode(payload)
        except ValueError:
            return None
    from urllib.parse import unquote

    target = (path.parent / unquote(uri)).resolve()
    if path.parent.resolve() not in target.parents:
        return None  # outside the model's folder: not ours to read
    try:
        return target.read_bytes()
    except OSError:
        return None


# -- the Khronos validator ------------------------------------------------------
def validator_installed() -> bool:
    """Whether node and the validator's npm package are there."""
    return shutil.which("node") is not None and VALIDATOR_PACKAGE.is_file()


def validate(path: str | Path) -> Validation | None:
    """The Khronos validator's report on ``path``; None when it is not installed.

    Raises :class:`GltfError` when the validator ran but could not give a report
    (a file that is not glTF at all, a time-out).
    """
    found = validate_many([path])[0]
    if isinstance(found, str):
        raise GltfError(found)
    return found


#: Reports by (real path, mtime in ns, size): a Validation, or why there is none.
_reports: dict[tuple[str, int, int], Validation | str] = {}


def validate_many(paths: list[str | Path]) -> list[Validation | str | None]:
    """Reports on several files, from one node process for those not yet cached.

    Each result is a :class:`Validation`, a message saying why there is no
    report, or None (every result) when the validator is not installed.
    """
    if not validator_installed():
        return [None] * len(paths)
    keys = []
    for p in paths:
        try:
            keys.append(_key(p))
        except OSError as err:
            keys.append((str(p), -1, -1))
            _reports[keys[-1]] = f"cannot read it ({err.strerror or err})"
    todo = list(dict.fromkeys(k for k in keys if k not in _reports))
    if todo:
        try:
            _run_validator(todo)
        except ValidatorMissing:
            return [None] * len(paths)
    return [_reports.get(k, "the glTF validator gave no report") for k in keys]


class ValidatorMissing(Exception):
    """node runs, but the validator package is not there."""


def _run_validator(keys: list[tuple[str, int, int]]) -> None:
    node = shutil.which("node")
    if node is None:
        raise ValidatorMissing
    timeout = VALIDATE_TIMEOUT * len(keys)
    try:
        done = subprocess.run([node, str(VALIDATE_SCRIPT), *(k[0] for k in keys)],
                              capture_output=True, text=True, encoding="utf-8",
                              errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        for k in keys:
            _reports[k] = f"the glTF validator took more than {timeout:g} s"
        return
    except OSError as err:
        for k in keys:
            _reports[k] = f"the glTF validator could not run ({err})"
        return
    lines = []
    for line in done.stdout.splitlines():
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    if done.returncode == 3 or any(d.get("missing") for d in lines):
        raise ValidatorMissing
    by_file = {d.get("file"): d for d in lines if isinstance(d, dict)}
    tail = (done.stderr or "").strip()[-200:]
    for k in keys:
        d = by_file.get(k[0])
        if d is None:
            _reports[k] = f"the glTF validator failed (exit {done.returncode}): {tail}"
        elif "issues" not in d:
            _reports[k] = f"the glTF validator could not read it: {d.get('error', '?')}"
        else:
            _reports[k] = parse_report(d)


def parse_report(data: dict[str, Any]) -> Validation:
    """A validator JSON report → :class:`Validation`."""
    issues = data.get("issues") or {}
    found = tuple(
        Issue(str(m.get("code", "?")), str(m.get("message", "")), int(m.get("severity", 2)),
              m.get("pointer"))
        for m in issues.get("messages") or [])
    return Validation(int(issues.get("numErrors", 0)), int(issues.get("numWarnings", 0)),
                      int(issues.get("numInfos", 0)), int(issues.get("numHints", 0)),
                      found, str(data.get("validatorVersion", "")),
                      bool(issues.get("truncated", False)))


def clear_caches() -> None:
    """Forget cached reports (tests that rewrite a file within one mtime tick)."""
    _inspect.cache_clear()
    _reports.clear()


# -- showfloor check ---------------------------------------------------------------
def budget_of(lt: Linter) -> tuple[Budget3D, str]:
    """The 3-D budget ``check`` runs with, and the display it belongs to."""
    from showfloor.content.lint import BUDGETS

    b = lt.budget.model
    name = next((k for k, v in BUDGETS.items() if v is lt.budget), None)
    return b, f"the {name} display" if name else "this display"


#: At most this many validator findings are reported per model (then a count).
MAX_REPORTED = 20


def lint_model(lt: Linter, a: Asset, p: Path) -> None:
    """Check one model file: readable, within the display's budget, valid glTF."""
    where = a.where
    budget, display = budget_of(lt)
    size = p.stat().st_size
    if size > budget.model_bytes:
        lt.error(where, f"model '{a.path}' is {size / MB:.1f} MB, over the "
                 f"{budget.model_bytes // MB} MB budget for {display}",
                 "compress it (meshopt or Draco) or lower its texture sizes", code="budget")
    try:
        info = inspect(p)
    except (GltfError, OSError) as err:
        what, hint = why_unreadable(p, err)
        lt.error(where, f"model '{a.path}' cannot be read: {what}", hint, code="gltf")
        return
    if info.triangles > budget.triangles:
        lt.error(where, f"model '{a.path}' has {info.triangles:,} triangles, over the "
                 f"{budget.triangles:,} budget for {display}",
                 "simplify the mesh (decimate it) or show less of it at once", code="budget")
    if info.draw_calls > budget.draw_calls:
        lt.error(where, f"model '{a.path}' needs {info.draw_calls} draw calls, over the "
                 f"{budget.draw_calls} budget for {display}",
                 "merge meshes that share a material", code="budget")
    big = [(i, w, h) for i, w, h in info.textures if max(w, h) > budget.texture_px]
    for i, w, h in big:
        lt.error(where, f"model '{a.path}': texture {i} is {w}×{h} px, over the "
                 f"{budget.texture_px} px budget for {display}",
                 f"scale it to at most {budget.texture_px} px on its longest side",
                 code="budget")
    _lint_validation(lt, a, p)


_EXPORT_AGAIN = ("export it again from the 3-D program as glTF 2.0 binary (.glb), and "
                 "open the new file in a glTF viewer to see that it shows")


def why_unreadable(p: Path, err: BaseException) -> tuple[str, str]:
    """Why a model file cannot be read, in plain words, and what to do about it."""
    try:
        with p.open("rb") as f:
            head = f.read(12)
        size = p.stat().st_size
    except OSError as os_err:
        return (f"the file cannot be opened ({os_err.strerror or os_err})",
                "check that the file is there and may be read")
    if size == 0:
        return ("the file is empty (0 bytes)",
                "copy the file again: it may not have finished copying or downloading")
    if p.suffix.lower() == ".glb" or head[:4] == b"glTF":
        if head[:4] != b"glTF":
            return ("it is not a glTF binary file (it does not start with 'glTF')",
                    "a file renamed to .glb (from .fbx, .obj, .blend …) does not work: "
                    + _EXPORT_AGAIN)
        declared = int.from_bytes(head[8:12], "little") if len(head) == 12 else 0
        if declared > size:
            return (f"the file is cut off: it is {size:,} bytes but says it holds "
                    f"{declared:,}", "copy or download it again: the copy was interrupted")
    return ("the file is damaged: what it holds is not a glTF 2.0 model", _EXPORT_AGAIN)


def _prefetch(lt: Linter) -> None:
    """Validate every model of the exhibit in one node process (one start-up, not N)."""
    from showfloor.content.scenes import registry

    types = registry()
    paths: list[str | Path] = []
    for scene in lt.exhibit.scenes:
        st = types.get(scene.type)
        for asset in st.assets(scene) if st else ():
            f = lt.root / asset.path
            if asset.kind == "model" and f.is_file():
                paths.append(f)
    if len(paths) > 1:
        validate_many(paths)


def _lint_validation(lt: Linter, a: Asset, p: Path) -> None:
    _prefetch(lt)
    try:
        report = validate(p)
    except GltfError as err:
        lt.error(a.where, f"model '{a.path}': {err}", "export it again as glTF 2.0 binary (.glb)",
                 code="gltf-validator")
        return
    if report is None:
        if not any(x.code == "gltf-validator-missing" for x in lt.problems):
            if shutil.which("node") is None:
                lt.warning(a.where, NO_NODE, "install node (18 or later) to validate them; "
                           "everything else was checked", code="gltf-validator-missing")
            else:
                lt.warning(a.where, NOT_INSTALLED, "it needs node and `npm ci` in "
                           "src/showfloor/content/validator; models were not validated",
                           code="gltf-validator-missing")
        return
    shown = [i for i in report.issues if i.severity in (0, 1)]
    for issue in shown[:MAX_REPORTED]:
        at = f" at {issue.pointer}" if issue.pointer else ""
        message = f"model '{a.path}': {issue.code}{at} — {issue.message}"
        hint = "fix the exporter settings or the file (Khronos glTF validator)"
        if issue.severity == 0:
            lt.error(a.where, message, hint, code="gltf-validator")
        else:
            lt.warning(a.where, message, hint, code="gltf-validator")
    more = len(shown) - MAX_REPORTED
    if more > 0 or report.truncated:
        (lt.error if report.errors else lt.warning)(
            a.where, f"model '{a.path}': {report.errors} validator errors and "
            f"{report.warnings} warnings in all, {max(more, 0)} more not shown",
            "run the Khronos glTF validator on the file for the full list",
            code="gltf-validator")
