"""Load an exhibit folder: YAML with positions → the typed model.

Loading never raises for bad content: it returns every problem it found, each
with ``file:line:column`` and, where one exists, a fix. It raises
:class:`~showfloor.errors.ContentError` only when there is nothing to load
(a missing path, a folder without ``exhibit.yaml``).
"""

from __future__ import annotations

import difflib
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from showfloor.content._yaml import Document, YamlProblem, parse
from showfloor.content.model import Exhibit, SceneBase
from showfloor.content.problems import Problem
from showfloor.content.scenes import registry
from showfloor.errors import ContentError

EXHIBIT_FILE = "exhibit.yaml"
SCENES_DIR = "scenes"
#: A YAML file larger than this is refused (content is text; media lives beside it).
MAX_YAML_BYTES = 4 * 1024 * 1024

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Pos:
    file: str
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Positions:
    """Where each key and value of the merged document came from."""

    keys: dict[Path_, Pos] = field(default_factory=dict)
    values: dict[Path_, Pos] = field(default_factory=dict)
    files: dict[Path_, str] = field(default_factory=dict)

    def at(self, path: Sequence[str | int], key: bool = False) -> Pos | None:
        """The position of ``path`` (its value, or its key), else of its nearest parent."""
        p = tuple(path)
        while True:
            table = self.keys if key else self.values
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def file_of(self, path: Sequence[str | int]) -> str:
        p = tuple(path)
        while p and p not in self.files:
            p = p[:-1]
        return self.files.get(p, EXHIBIT_FILE)


@dataclass
class Loaded:
    """The result of loading: the model (None when it could not be built) and problems."""

    root: Path
    exhibit: Exhibit | None
    problems: list[Problem]
    positions: Positions
    raw: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.exhibit is not None and not any(
            p.severity == "error" for p in self.problems)

    def problem(self, severity: str, path: Sequence[str | int], message: str,
                hint: str | None = None, code: str = "content", key: bool = False) -> Problem:
        pos = self.positions.at(path, key=key)
        file = pos.file if pos else self.positions.file_of(path)
        return Problem(severity, message, file, pos.line if pos else 0,  # type: ignore[arg-type]
                       pos.column if pos else 0, hint, code)


def read_yaml(path: Path, display: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML file into values and positions, or problems (never raising)."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            return None, [Problem(
                "error", f"{display} is {size / 1e6:.1f} MB; exhibit YAML files are limited "
                f"to {MAX_YAML_BYTES // 1024 // 1024} MB", display,
                hint="keep media in files beside the YAML, and split scenes into scenes/*.yaml",
                code="yaml-size")]
        data = path.read_bytes()
    except OSError as err:
        return None, [Problem("error", f"cannot read {display}: {err.strerror or err}", display,
                              code="io")]
    if b"\x00" in data[:8192]:
        return None, [Problem("error", f"{display} is a binary file, not YAML text", display,
                              code="yaml-binary", hint="save the file as UTF-8 text")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        line_start = data.rfind(b"\n", 0, err.start) + 1
        # count characters, not bytes, like every other column
        col = len(data[line_start: err.start].decode("utf-8", "replace")) + 1
        return None, [Problem("error", f"{display} is not UTF-8 text (byte 0x{data[err.start]:02x})",
                              display, line, col, "save the file as UTF-8", "yaml-encoding")]
    try:
        return parse(text), []
    except YamlProblem as err:
        hint = err.hint or _yaml_hint(err.message)
        message = err.message
        if any(k in message for k in _BAD_INDENT):
            message = "YAML: this line is not indented like the lines above it"
        return None, [Problem("error", message, display, err.line, err.column, hint,
                              err.code)]


def _merge(doc: Document, file: str, prefix: Path_, positions: Positions,
           within: Path_ = ()) -> None:
    """Copy a file's positions (those under ``within``) into the merged table at ``prefix``."""
    n = len(within)
    for table, dst in ((doc.keys, positions.keys), (doc.values, positions.values)):
        for p, m in table.items():
            if p[:n] == within:
                dst[(*prefix, *p[n:])] = Pos(file, m.line, m.column)


#: What the YAML parsers (libyaml, pure Python) say about a line indented wrongly.
_BAD_INDENT = ("expected <block end>", "did not find expected '-' indicator")


def _yaml_hint(what: str) -> str | None:
    if ("tab" in what and "indent" in what) or "found character '\\t'" in what:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in what:
        return "quote text that contains ': ' (a colon and a space)"
    if "expected ',' or '}', but got '{'" in what:
        return "text with {variables} inside { … } must be quoted, e.g. en: \"Score: {score}\""
    if "could not find expected ':'" in what:
        return "each key needs ': ' after it"
    if "found undefined alias" in what:
        return "define the &anchor before using *alias"
    if any(k in what for k in _BAD_INDENT):
        return "line it up, with spaces, under the keys of the block it belongs to"
    if "did not find expected key" in what:
        return "check this line's indentation, and the quotes on the line before"
    return None


def load(path: str | Path) -> Loaded:
    """Load the exhibit folder at ``path`` (or the folder of an ``exhibit.yaml``)."""
    root = Path(path)
    if not root.exists():
        raise ContentError(f"{path}: no such file or folder",
                           hint="give the folder that holds exhibit.yaml")
    if root.is_file():
        if root.name != EXHIBIT_FILE:
            raise ContentError(f"{path}: expected an exhibit folder or its {EXHIBIT_FILE}")
        root = root.parent
    main = root / EXHIBIT_FILE
    if main.exists() and not main.is_file():
        raise ContentError(f"{main}: is a folder, not a file",
                           hint=f"{EXHIBIT_FILE} must be a YAML text file")
    if not main.is_file():
        near = [p.name for p in root.glob("*.y*ml") if p.is_file()]
        hint = f"did you mean to rename {near[0]} to {EXHIBIT_FILE}?" if near else \
            "run 'showfloor new NAME' to start an exhibit"
        raise ContentError(f"{root}: this folder has no {EXHIBIT_FILE}", hint=hint)

    positions = Positions()
    problems: list[Problem] = []
    doc, probs = read_yaml(main, EXHIBIT_FILE)
    problems += probs
    positions.files[()] = EXHIBIT_FILE
    empty = Loaded(root, None, problems, positions, {})
    if doc is None:
        return empty
    if doc.value is None:
        problems.append(Problem("error", f"{EXHIBIT_FILE} is empty", EXHIBIT_FILE, 1, 1,
                                "run 'showfloor new NAME' for a starting point", "schema"))
        return empty
    if not isinstance(doc.value, dict):
        problems.append(Problem("error", f"{EXHIBIT_FILE} must be a mapping of keys "
                                f"(id:, title:, …), not a {_kind(doc.value)}", EXHIBIT_FILE,
                                1, 1, code="schema"))
        return empty
    _merge(doc, EXHIBIT_FILE, (), positions)
    raw: dict[str, Any] = doc.value
    scenes: list[Any] = []
    if "scenes" in raw:
        if isinstance(raw["scenes"], list):
            scenes = list(raw["scenes"])
        elif raw["scenes"] is not None:
            problems.append(_at(positions, ("scenes",), "'scenes' must be a list of scenes",
                                "write each scene as '- id: …'", "schema"))
    # scenes/*.yaml, in file-name order, appended after inline scenes
    scene_dir = root / SCENES_DIR
    broken = False  # a scenes file that did not parse: the graph would be misleading
    if scene_dir.is_dir():
        for f in sorted(scene_dir.glob("*.y*ml")):
            display = f"{SCENES_DIR}/{f.name}"
            sdoc, probs = read_yaml(f, display)
            problems += probs
            if probs:
                broken = True
            if sdoc is None or sdoc.value is None:
                continue
            items: Any = sdoc.value
            base: Path_ = ()
            if isinstance(items, dict) and set(items) == {"scenes"}:
                items, base = items["scenes"], ("scenes",)
            if isinstance(items, dict):
                gi = len(scenes)
                positions.values[("scenes", gi)] = Pos(display, 1, 1)
                positions.files[("scenes", gi)] = display
                _merge(sdoc, display, ("scenes", gi), positions, base)
                scenes.append(items)
                continue
            if not isinstance(items, list):
                problems.append(Problem("error", f"{display} must hold a list of scenes",
                                        display, 1, 1, "start each scene with '- id: …'",
                                        "schema"))
                broken = True  # its scenes are missing: the graph would be misleading
                continue
            offset = len(scenes)
            n = len(base)
            for table, dst in ((sdoc.keys, positions.keys), (sdoc.values, positions.values)):
                for p, m in table.items():
                    idx = p[n] if len(p) > n else None
                    if isinstance(idx, int) and p[:n] == base:
                        dst[("scenes", offset + idx, *p[n + 1:])] = Pos(display, m.line, m.column)
            for i, item in enumerate(items):
                positions.files[("scenes", offset + i)] = display
                scenes.append(item)
    raw_scenes = scenes
    raw["scenes"] = raw_scenes
    for i in range(len(raw_scenes)):
        positions.files.setdefault(("scenes", i), EXHIBIT_FILE)

    loaded = Loaded(root, None, problems, positions, raw)
    models: list[SceneBase] = []
    types = registry()
    for i, scene in enumerate(raw_scenes):
        at = ("scenes", i)
        if not isinstance(scene, dict):
            problems.append(_at(positions, at, f"a scene must be a mapping (id:, type:, …), "
                                f"not a {_kind(scene)}", None, "schema"))
            continue
        kind = scene.get("type")
        if kind is None:
            name = f"scene '{scene['id']}'" if scene.get("id") else "this scene"
            problems.append(_at(positions, at, f"{name} has no 'type'",
                                f"add 'type:' — one of {', '.join(types)}", "schema"))
            continue
        st = types.get(str(kind))
        if st is None:
            near = difflib.get_close_matches(str(kind), list(types), n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"use one of {', '.join(types)}"
            problems.append(_at(positions, (*at, "type"), f"unknown scene type '{kind}'", hint,
                                "unknown-scene-type"))
            continue
        try:
            models.append(st.model.model_validate(scene))
        except ValidationError as err:
            problems += _translate(err, st.model, scene, at, positions)

    top = {k: v for k, v in raw.items() if k != "scenes"}
    try:
        exhibit = Exhibit.model_validate(top)
    except ValidationError as err:
        problems += _translate(err, Exhibit, top, (), positions)
        return loaded
    if len(models) != len(raw_scenes) or broken:
        return loaded
    loaded.exhibit = exhibit.model_copy(update={"scenes": models})
    return loaded


def _kind(value: Any) -> str:
    return {list: "list", dict: "mapping", str: "text", int: "number", float: "number",
            bool: "true/false", type(None): "empty value"}.get(type(value), type(value).__name__)


def _at(positions: Positions, path: Path_, message: str, hint: str | None, code: str,
        severity: str = "error", key: bool = False) -> Problem:
    pos = positions.at(path, key=key)
    file = pos.file if pos else positions.file_of(path)
    return Problem(severity, message, file, pos.line if pos else 0,  # type: ignore[arg-type]
                   pos.column if pos else 0, hint, code)


def _data_path(loc: Sequence[str | int], data: Any) -> tuple[Path_, Any]:
    """Keep the parts of a pydantic ``loc`` that index into ``data``.

    Union and validator tags ('str', 'list[Branch]', 'function-after[…]') are dropped.
    """
    out: list[str | int] = []
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
                isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            out.append(part)
            node = node[part]  # type: ignore[index]
        elif isinstance(node, dict) and isinstance(part, str) and not _is_tag(part):
            out.append(part)  # a missing or extra key
            node = None
        # else: a tag; skip
    return tuple(out), node


def _is_tag(part: str) -> bool:
    return "[" in part or part in {"str", "int", "float", "bool", "list", "dict", "none",
                                   "constrained-str", "function-after", "function-before"}


def _model_at(model: type[BaseModel], path: Sequence[str | int]) -> type[BaseModel] | None:
    """The pydantic model that describes the mapping at ``path`` (for key suggestions)."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _model_in(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _near_key(model: type[BaseModel], path: Sequence[str | int]) -> str | None:
    """The allowed key closest to the unknown key at the end of ``path``, if any is close."""
    parent_model = _model_at(model, path[:-1])
    allowed = list(parent_model.model_fields) if parent_model else []
    near = difflib.get_close_matches(str(path[-1]), allowed, n=1, cutoff=0.6) if path else []
    return near[0] if near else None


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 60 else text[:57] + "…'"


_FRIENDLY = {
    "string_pattern_mismatch": "is not a valid value here",
    "int_parsing": "is not a whole number",
    "int_type": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "dict_type": "is not a mapping (key: value)",
    "list_type": "is not a list",
}


def _translate(err: ValidationError, model: type[BaseModel], data: Any, base: Path_,
               positions: Positions) -> list[Problem]:
    """pydantic errors → problems at the right line, one per place."""
    out: list[Problem] = []
    seen: set[Path_] = set()
    errors = err.errors(include_url=False)
    # 'titel' unknown and 'title' missing is one mistake: report the unknown key only
    suggested: set[Path_] = set()
    for e in errors:
        if e["type"] == "extra_forbidden":
            path, _ = _data_path(e["loc"], data)
            close = _near_key(model, path)
            if close:
                suggested.add((*base, *path[:-1], close))
    for e in errors:
        path, _ = _data_path(e["loc"], data)
        full = (*base, *path)
        if full in seen:
            continue  # one message per place (unions report every alternative)
        seen.add(full)
        kind = e["type"]
        name = path[-1] if path else None
        where_name = ".".join(str(p) for p in path) or "the scene"
        if kind == "missing":
            if full in suggested:
                continue
            parent = full[:-1]
            out.append(_at(positions, parent, f"missing required key '{name}'"
                           + (f" in {'.'.join(str(p) for p in path[:-1])}" if path[:-1] else ""),
                           f"add '{name}:'", "schema", key=True))
            continue
        if kind == "extra_forbidden" and e.get("input") is None and isinstance(name, str) \
                and (" " in name or not name.isascii()):
            out.append(_at(positions, full, f"'{name}' looks like text cut off at a comma",
                           "inside { … } a comma separates entries: put the text in quotes, "
                           "e.g. description: \"projector, no touch\"", "yaml-comma", key=True))
            continue
        if kind == "extra_forbidden":
            parent_model = _model_at(model, path[:-1])
            allowed = list(parent_model.model_fields) if parent_model else []
            near_key = _near_key(model, path)
            if near_key:
                hint = f"did you mean '{near_key}'?"
            elif allowed:
                hint = f"allowed keys: {', '.join(allowed)}"
            else:
                hint = None
            out.append(_at(positions, full, f"unknown key '{name}'", hint, "unknown-key",
                           key=True))
            continue
        value = e.get("input")
        ctx = e.get("ctx") or {}
        if kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",")]
            near = difflib.get_close_matches(str(value), options, n=1)
            out.append(_at(positions, full, f"{where_name}: {_describe(value)} is not one of "
                           f"{expected}", f"did you mean '{near[0]}'?" if near else None,
                           "schema"))
            continue
        if kind == "string_pattern_mismatch":
            pattern = str(ctx.get("pattern", ""))
            hint = "use lowercase letters, digits, _ and -, starting with a letter" \
                if pattern.startswith("^[a-z][a-z0-9_-]") else f"expected the pattern {pattern}"
            if pattern.startswith("^[a-z_][a-z0-9_]"):
                hint = "a variable name uses lowercase letters, digits and _"
            if pattern.startswith("^[a-z]{2,3}"):
                hint = "use a language tag such as zh-CN or en"
            if pattern.startswith("^https?"):
                hint = "give a full address starting with https://"
            if pattern.startswith("^[a-z0-9][a-z0-9-]"):
                hint = "use lowercase letters, digits and -"
            if isinstance(value, str) and pattern.startswith(("^[a-z][a-z0-9_", "^[a-z_][a-z0-9_]")):
                suggestion = "".join(ch if ch.isalnum() else "_" for ch in value.lower()).strip("_")
                if suggestion and suggestion[0].isalpha() and suggestion.isascii():
                    hint += f", e.g. '{suggestion}'"
            out.append(_at(positions, full, f"{where_name}: {_describe(value)} is not a valid "
                           f"{'id' if 'a-z0-9_' in pattern else 'value'}", hint, "schema"))
            continue
        if kind == "value_error":
            msg = str(ctx.get("error", e["msg"]))
            out.append(_at(positions, full, f"{where_name}: {msg}", None, "schema"))
            continue
        if value is None and isinstance(name, str) and (" " in name or not name.isascii()):
            out.append(_at(positions, full, f"'{name}' looks like text cut off at a comma",
                           "inside { … } a comma separates entries: put the text in quotes, "
                           "e.g. en: \"Yes, it is\"", "yaml-comma", key=True))
            continue
        friendly = _FRIENDLY.get(kind)
        if friendly:
            message = f"{where_name}: {_describe(value)} {friendly}"
        else:
            message = f"{where_name}: {e['msg'].lower()}"
            if value is not None and not isinstance(value, (dict, list)):
                message += f" (got {_describe(value)})"
        hint = None
        if kind == "string_type" and isinstance(value, (bool, int, float)):
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            hint = f'YAML reads this as a {_kind(value)}: put it in quotes, e.g. "{shown}"'
        out.append(_at(positions, full, message, hint, "schema"))
    return out


def iter_scene_files(root: Path) -> Iterator[Path]:
    yield root / EXHIBIT_FILE
    d = root / SCENES_DIR
    if d.is_dir():
        yield from sorted(d.glob("*.y*ml"))
