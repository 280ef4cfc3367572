"""Load an exhibit folder: YAML with positions → the typed model.

Loading never raises for bad content: it returns every problem it found, each
with ``file:line:column`` and, where one exists, a fix. It raises
:class:`~showfloor.errors.ContentError` only when there is nothing to load
(a missing path, a folder without ``exhibit.yaml``).
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from showfloor.content._yaml import Document, Mark, YamlProblem, parse
from showfloor.content.knowledge import read_knowledge
from showfloor.content.model import TEXT, Exhibit, Lang, SceneBase
from showfloor.content.problems import Problem
from showfloor.content.scenes import registry
from showfloor.content.scenes.ask import bind_knowledge
from showfloor.content.texts import _unwrap as text_annotation
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
    """The result of loading: the model (None when it could not be built) and problems.

    When content has mistakes, ``exhibit`` is None and ``partial`` holds what
    could still be checked: the scenes that are valid and the exhibit's
    settings with the faulty ones left out (``unchecked``), so that
    ``showfloor check`` reports every independent mistake in one run. In that
    case ``positions`` describe ``partial`` (scene numbers count its scenes).
    """

    root: Path
    exhibit: Exhibit | None
    problems: list[Problem]
    positions: Positions
    raw: dict[str, Any]
    #: The valid part of a faulty exhibit, for lint; None when exhibit.yaml itself is unreadable.
    partial: Exhibit | None = None
    #: Top-level keys of exhibit.yaml left out of ``partial`` because they hold a mistake.
    unchecked: set[str] = field(default_factory=set)
    #: Ids of scenes that are there but left out of ``partial``: a schema error, or
    #: written in a scenes file that cannot be read.
    unchecked_ids: set[str] = field(default_factory=set)
    #: Ids of knowledge-base entries left out of the model for a mistake of their own.
    unchecked_entries: set[str] = field(default_factory=set)
    #: Scenes files that cannot be read (their scenes are missing from ``partial``).
    unreadable: list[str] = field(default_factory=list)
    #: Places (paths in ``partial``) where loading already reported a mistake.
    reported: set[Path_] = field(default_factory=set)
    #: Scenes left out of ``partial`` (a schema error, no id).
    left_out: int = 0
    #: A scenes file could not be read at all (binary, not UTF-8): any scene id may be in it.
    opaque: bool = False

    @property
    def ok(self) -> bool:
        return self.exhibit is not None and not any(
            p.severity == "error" for p in self.problems)

    @property
    def complete(self) -> bool:
        """Whether every scene and the start and attract scenes could be read.

        Checks of the whole scene graph (reachability, dead ends) are only
        meaningful then.
        """
        return not (self.unreadable or self.left_out or self.unchecked_ids
                    or {"start", "attract"} & self.unchecked)

    def may_exist(self, scene_id: str) -> bool:
        """Whether a scene id not in the model may still be in the content (see ``partial``)."""
        return scene_id in self.unchecked_ids or self.opaque

    def already_reported(self, path: Sequence[str | int]) -> bool:
        """Whether loading reported a mistake at ``path`` or at a place that holds it."""
        p = tuple(path)
        return any(p[:n] in self.reported for n in range(1, len(p) + 1))

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
        return None, [Problem("error", err.message, display, err.line, err.column, err.hint,
                              err.code)]


def _merge(doc: Document, file: str, prefix: Path_, positions: Positions,
           within: Path_ = ()) -> None:
    """Copy a file's positions (those under ``within``) into the merged table at ``prefix``."""
    n = len(within)
    for table, dst in ((doc.keys, positions.keys), (doc.values, positions.values)):
        for p, m in table.items():
            if p[:n] == within:
                dst[(*prefix, *p[n:])] = Pos(file, m.line, m.column)


#: Scene ids written in a scenes file that cannot be parsed (found in its text).
_IDS_IN_TEXT = re.compile(r"(?:^|[\s{,])id:[ \t]*['\"]?([a-z][a-z0-9_-]*)", re.MULTILINE)


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
    positions.files[()] = EXHIBIT_FILE
    loaded = Loaded(root, None, problems, positions, {})
    # exhibit.yaml; when it cannot be read, the scenes files are still checked
    doc, probs = read_yaml(main, EXHIBIT_FILE)
    problems += probs
    raw: dict[str, Any] | None = None
    if doc is not None and doc.value is None:
        problems.append(Problem("error", f"{EXHIBIT_FILE} is empty", EXHIBIT_FILE, 1, 1,
                                "run 'showfloor new NAME' for a starting point", "schema"))
    elif doc is not None and not isinstance(doc.value, dict):
        start = doc.start or Mark(1, 1)
        problems.append(Problem("error", f"{EXHIBIT_FILE} must be a mapping of keys "
                                f"(id:, title:, …), not a {_kind(doc.value)}", EXHIBIT_FILE,
                                start.line, start.column,
                                "write one 'key: value' per line, e.g. 'id: my-exhibit'",
                                "schema"))
    elif doc is not None:
        raw = doc.value
        _merge(doc, EXHIBIT_FILE, (), positions)
    top_raw: dict[str, Any] = raw if raw is not None else {}
    loaded.raw = top_raw
    scenes: list[Any] = []
    if "scenes" in top_raw:
        if isinstance(top_raw["scenes"], list):
            scenes = list(top_raw["scenes"])
        elif top_raw["scenes"] is not None:
            problems.append(_at(positions, ("scenes",), "'scenes' must be a list of scenes",
                                "write each scene as '- id: …'", "schema"))
            loaded.left_out += 1  # whatever it holds is missing from the model
    # scenes/*.yaml, in file-name order, appended after inline scenes
    scene_dir = root / SCENES_DIR
    if scene_dir.is_dir():
        for f in sorted(scene_dir.glob("*.y*ml")):
            _read_scene_file(f, f"{SCENES_DIR}/{f.name}", scenes, loaded)
    raw_scenes = scenes
    top_raw["scenes"] = raw_scenes
    for i in range(len(raw_scenes)):
        positions.files.setdefault(("scenes", i), EXHIBIT_FILE)

    models: dict[int, SceneBase] = {}
    types = registry()
    languages = top_raw.get("languages")
    languages = [x for x in languages if isinstance(x, str)] if isinstance(languages, list) \
        else []
    for i, scene in enumerate(raw_scenes):
        at = ("scenes", i)
        scene_id = scene.get("id") if isinstance(scene, dict) else None
        if not isinstance(scene, dict):
            problems.append(_at(positions, at, f"a scene must be a mapping (id:, type:, …), "
                                f"not a {_kind(scene)}", "start each scene with '- id: …' and "
                                "give its keys on the lines below, indented", "schema"))
            loaded.reported.add(at)
            continue
        kind = scene.get("type")
        if kind is None:
            name = f"scene '{scene_id}'" if isinstance(scene_id, str) else "this scene"
            problems.append(_at(positions, at, f"{name} has no 'type'",
                                f"add 'type:' — one of {', '.join(types)}", "schema"))
            loaded.reported.add(at)
            continue
        st = types.get(str(kind))
        if st is None:
            near = difflib.get_close_matches(str(kind), list(types), n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"use one of {', '.join(types)}"
            problems.append(_at(positions, (*at, "type"), f"unknown scene type '{kind}'", hint,
                                "unknown-scene-type"))
            loaded.reported.add((*at, "type"))
            continue
        misplaced = _misplaced_keys(st.model, scene, at, languages, positions)
        for problem, where in misplaced.values():
            problems.append(problem)
            loaded.reported.add(where)
        try:
            models[i] = st.model.model_validate(scene)
        except ValidationError as err:
            problems += _translate(err, st.model, scene, at, positions, loaded.reported,
                                   explained={where[:-2] for _, where in misplaced.values()},
                                   languages=languages)
            salvaged = _without_unknown_keys(st.model, scene, err)
            if salvaged is not None:
                models[i] = salvaged  # only unknown keys: the rest is checked all the same
    loaded.unchecked_ids |= _invalid_ids(raw_scenes, models)
    loaded.left_out += len(raw_scenes) - len(models)
    if raw is None:
        return loaded  # without exhibit.yaml's settings nothing more can be checked

    top = {k: v for k, v in top_raw.items() if k != "scenes"}
    if "knowledge" in top:
        del top["knowledge"]
        problems.append(_at(positions, ("knowledge",), "the knowledge base is not written in "
                            f"{EXHIBIT_FILE}", "move its topics to knowledge/*.yaml, one file "
                            "per topic (see docs/ask.md)", "schema", key=True))
        loaded.reported.add(("knowledge",))
    knowledge = read_knowledge(loaded, languages)
    try:
        exhibit: Exhibit | None = Exhibit.model_validate(top)
    except ValidationError as err:
        problems += _translate(err, Exhibit, top, (), positions, loaded.reported,
                               languages=languages)
        exhibit = None
    ordered = [models[i] for i in sorted(models)]
    if exhibit is not None and not loaded.left_out and not loaded.unreadable and not any(
            p.severity == "error" for p in problems):
        loaded.exhibit = exhibit.model_copy(update={"scenes": ordered, "knowledge": knowledge})
        bind_knowledge(loaded.exhibit)
        return loaded
    base = exhibit if exhibit is not None else _valid_part(top, loaded)
    if base is None:
        return loaded
    loaded.partial = base.model_copy(update={"scenes": ordered, "knowledge": knowledge})
    bind_knowledge(loaded.partial)
    _renumber(loaded, sorted(models))
    return loaded


def _without_unknown_keys(model: type[SceneBase], data: dict[str, Any],
                          err: ValidationError) -> SceneBase | None:
    """The scene without its unknown keys, when they are its only mistakes."""
    errors = err.errors(include_url=False)
    if any(e["type"] != "extra_forbidden" for e in errors):
        return None
    cleaned = dict(data)
    for e in errors:
        path, _ = _data_path(e["loc"], cleaned)
        if path:
            _drop(cleaned, path)
    try:
        return model.model_validate(cleaned)
    except ValidationError:
        return None


def _invalid_ids(raw_scenes: list[Any], models: dict[int, SceneBase]) -> set[str]:
    """Ids of scenes that did not validate (a valid scene may share one)."""
    return {s["id"] for i, s in enumerate(raw_scenes) if i not in models
            and isinstance(s, dict) and isinstance(s.get("id"), str)}


def _read_scene_file(f: Path, display: str, scenes: list[Any], loaded: Loaded) -> None:
    """Add the scenes of one ``scenes/*.yaml`` file (and their positions) to ``scenes``."""
    positions, problems = loaded.positions, loaded.problems
    sdoc, probs = read_yaml(f, display)
    problems += probs
    if sdoc is None:
        loaded.unreadable.append(display)
        try:
            text = f.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            loaded.opaque = True
            return
        if "\x00" in text:
            loaded.opaque = True
            return
        loaded.unchecked_ids.update(_IDS_IN_TEXT.findall(text))
        return
    if sdoc.value is None:
        return
    items: Any = sdoc.value
    base: Path_ = ()
    start = sdoc.start or Mark(1, 1)
    if isinstance(items, dict) and set(items) == {"scenes"}:
        items, base = items["scenes"], ("scenes",)
        start = sdoc.values.get(base, start)
    scene_keys = {k for t in registry().values() for k in t.model.model_fields}
    if isinstance(items, dict) and items and not (scene_keys & set(items)) and all(
            isinstance(v, dict) for v in items.values()):
        # scene ids as keys: 'intro: {type: media, …}' — say so, and still check the scenes
        first = next(iter(items))
        pos = sdoc.keys.get((*base, first), start)
        example = next((k for k in items if isinstance(k, str)), "intro")
        problems.append(Problem(
            "error", f"this file maps scene ids to scenes ('{first}: …'), but a scenes file "
            "holds a list of scenes, each with its id inside", display, pos.line, pos.column,
            f"write '- id: {example}' instead of '{example}:', with the scene's keys "
            "indented under it", "schema"))
        for key, scene in items.items():
            gi = len(scenes)
            kpos = sdoc.keys.get((*base, key), start)
            positions.files[("scenes", gi)] = display
            positions.values[("scenes", gi)] = Pos(display, kpos.line, kpos.column)
            positions.keys[("scenes", gi, "id")] = Pos(display, kpos.line, kpos.column)
            positions.values[("scenes", gi, "id")] = Pos(display, kpos.line, kpos.column)
            _merge(sdoc, display, ("scenes", gi), positions, (*base, key))
            scenes.append({"id": key, **{k: v for k, v in scene.items() if k != "id"}}
                          if "id" not in scene else scene)
        return
    if isinstance(items, dict):
        # one scene written as a mapping (documented in docs/format.md)
        gi = len(scenes)
        positions.values[("scenes", gi)] = Pos(display, start.line, start.column)
        positions.files[("scenes", gi)] = display
        _merge(sdoc, display, ("scenes", gi), positions, base)
        scenes.append(items)
        return
    if not isinstance(items, list):
        problems.append(Problem("error", f"{display} must hold a list of scenes, not "
                                f"{_a(_kind(items))}", display, start.line, start.column,
                                "start each scene with '- id: …' and give its keys on the "
                                "lines below, indented", "schema"))
        loaded.unreadable.append(display)
        return
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


def _a(kind: str) -> str:
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


#: Keys exhibit.yaml needs; when one is faulty a stand-in lets the rest be checked.
_STAND_INS: dict[str, Any] = {"format": 1, "id": "exhibit", "version": "0"}


def _valid_part(top: dict[str, Any], loaded: Loaded) -> Exhibit | None:
    """exhibit.yaml's settings without the faulty ones (for lint), or None.

    Unknown keys are dropped; a faulty optional setting falls back to its
    default and a faulty required one to a stand-in, and both are listed in
    ``loaded.unchecked`` so lint does not judge what depends on them. Faulty
    languages are left out of the list; without one valid language nothing
    visible can be checked: None.
    """
    data = dict(top)
    langs = data.get("languages")
    if isinstance(langs, list):
        valid = [x for x in langs if _is_language(x)]
        if len(valid) != len(langs):
            loaded.unchecked.add("languages")
            data["languages"] = valid
    for _ in range(8):
        try:
            exhibit = Exhibit.model_validate(data)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                path, _ = _data_path(e["loc"], data)
                if not path:
                    return None
                if e["type"] == "extra_forbidden":
                    _drop(data, path)
                    continue
                key = str(path[0])
                if key == "languages":
                    return None
                if key == "default_language":
                    first = data.get("languages")
                    if not (isinstance(first, list) and first):
                        return None
                    data[key] = first[0]  # lint leaves it alone: reported here
                    continue
                loaded.unchecked.add(key)
                data.pop(key, None)
                if key in _STAND_INS:
                    data[key] = _STAND_INS[key]
                elif key == "title":
                    langs = data.get("languages")
                    ok = isinstance(langs, list) and all(isinstance(x, str) for x in langs)
                    data[key] = dict.fromkeys(langs if ok and langs else ["en"], "…")
                elif key in ("start", "attract"):
                    data[key] = "unchecked"  # lint leaves unchecked keys alone
            continue
        return exhibit
    return None


def _is_language(value: Any) -> bool:
    try:
        _LANGUAGE.validate_python(value)
    except ValidationError:
        return False
    return True


_LANGUAGE: TypeAdapter[str] = TypeAdapter(Lang)


def _drop(data: dict[str, Any], path: Path_) -> None:
    """Remove the key at ``path`` from ``data``, copying the mappings on the way."""
    node: Any = data
    for part in path[:-1]:
        container: Any = node
        child = container[part] if isinstance(node, (dict, list)) else None
        if isinstance(child, dict):
            child = dict(child)
        elif isinstance(child, list):
            child = list(child)
        else:
            return
        node[part] = child
        node = child
    if isinstance(node, dict):
        node.pop(path[-1], None)


def _renumber(loaded: Loaded, kept: list[int]) -> None:
    """Make scene numbers in positions count the scenes of ``partial``."""
    new = {old: i for i, old in enumerate(kept)}

    def move(p: Path_) -> Path_ | None:
        if len(p) >= 2 and p[0] == "scenes" and isinstance(p[1], int):
            return ("scenes", new[p[1]], *p[2:]) if p[1] in new else None
        return p

    pos = loaded.positions
    for name in ("keys", "values", "files"):
        table: dict[Path_, Any] = getattr(pos, name)
        moved = {}
        for p, v in table.items():
            q = move(p)
            if q is not None:
                moved[q] = v
        setattr(pos, name, moved)
    loaded.reported = {q for q in map(move, loaded.reported) if q is not None}


def _misplaced_keys(model: type[BaseModel], data: dict[str, Any], at: Path_,
                    languages: list[str], positions: Positions
                    ) -> dict[str, tuple[Problem, Path_]]:
    """Keys of a scene written inside one of its texts (indented one level too deep).

    ``text: {en: …, image: media/x.png}`` reads as a text in the language
    'image'. Returns, per misplaced key, the problem and its place.
    """
    out: dict[str, tuple[Problem, Path_]] = {}
    scene_keys = {k for t in registry().values() for k in t.model.model_fields}

    def walk(cls: type[BaseModel], node: dict[str, Any], path: Path_, owner: str) -> None:
        for name, info in cls.model_fields.items():
            value = node.get(name)
            if value is None:
                continue
            annotation, is_text = text_annotation(info.annotation)
            if is_text or TEXT in info.metadata:
                if not isinstance(value, dict):
                    continue
                for key in value:
                    if key == "id" or key in languages or not isinstance(key, str):
                        continue
                    if key in cls.model_fields or key in scene_keys:
                        where = (*path, name, key)
                        pos = positions.at(where, key=True)
                        file = pos.file if pos else positions.file_of(where)
                        out.setdefault(key, (Problem(
                            "error", f"'{key}' is inside '{name}', so it reads as a language: "
                            "it is probably indented one level too deep", file,
                            pos.line if pos else 0, pos.column if pos else 0,
                            f"'{key}' is a key of {owner if key in cls.model_fields else 'a scene'}"
                            f": move it left, to line up with '{name}'", "indentation"), where))
                continue
            sub = _model_in(annotation)
            if sub is None:
                continue
            if isinstance(value, dict):
                walk(sub, value, (*path, name), f"this {_singular(name)}")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict):
                        walk(sub, item, (*path, name, i), f"this {_singular(name)}")

    walk(model, data, at, "the scene")
    return out


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
    "int_from_float": "is not a whole number",
    "float_parsing": "is not a number",
    "float_type": "is not a number",
    "finite_number": "is not a number",
    "bool_parsing": "is not true or false",
    "bool_type": "is not true or false",
    "string_type": "is not text",
    "dict_type": "is not a mapping (key: value lines)",
    "model_type": "is not a mapping (key: value lines)",
    "model_attributes_type": "is not a mapping (key: value lines)",
    "list_type": "is not a list",
    "tuple_type": "is not a list",
    "literal_error": "is not allowed here",
}

_ORDINAL = {1: "st", 2: "nd", 3: "rd"}
#: What one item of a list (or one entry of a mapping) under these keys is called.
_ITEM = {"next": "branch", "loop": "picture", "keyframes": "keyframe", "narration": "narration",
         "variables": "variable", "ui": "interface text", "sources": "source",
         "languages": "language", "choices": "choice", "questions": "question",
         "messages": "message", "hotspots": "hotspot", "scenes": "scene",
         "surfaces": "surface", "morph": "morph target", "material": "material",
         "entries": "entry", "topics": "topic"}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else _ORDINAL.get(n % 10, "th")
    return f"{n}{suffix}"


def _singular(key: str) -> str:
    if key in _ITEM:
        return _ITEM[key]
    return key[:-1] if key.endswith("s") and not key.endswith("ss") else f"'{key}' item"


def plain_path(path: Sequence[str | int], languages: Sequence[str] = ()) -> str:
    """A place in content, in words: ``questions.3.choices.0.text`` →
    "'text' of the 4th question's 1st choice" (list numbers count from 1)."""
    parts: list[tuple[str, bool]] = []  # (words, is an item)
    i = 0
    while i < len(path):
        part = path[i]
        following = path[i + 1] if i + 1 < len(path) else None
        if isinstance(part, str) and isinstance(following, int):
            parts.append((f"{_ordinal(following + 1)} {_singular(part)}", True))
            i += 2
        elif isinstance(part, str) and part in ("variables", "ui", "morph", "material") \
                and isinstance(following, str):
            parts.append((f"{_singular(part)} '{following}'", True))
            i += 2
        elif isinstance(part, int):
            parts.append((f"{_ordinal(part + 1)} item", True))
            i += 1
        else:
            parts.append((f"'{part}'", False))
            i += 1
    if not parts:
        return "the scene"
    if len(path) >= 2 and path[-1] in languages and isinstance(path[-2], str):
        parts[-2:] = [(f"the {path[-1]} '{path[-2]}'", False)]
    lead = 0  # items at the start read best as one chain: the 4th question's 1st choice
    while lead < len(parts) and parts[lead][1]:
        lead += 1
    if lead >= 2:
        parts[:lead] = [("the " + "'s ".join(w for w, _ in parts[:lead]), False)]
    words = [f"the {w}" if item else w for w, item in parts]
    return " of ".join(reversed(words))


def _translate(err: ValidationError, model: type[BaseModel], data: Any, base: Path_,
               positions: Positions, reported: set[Path_] | None = None,
               explained: set[Path_] | None = None, languages: Sequence[str] = ()
               ) -> list[Problem]:
    """pydantic errors → problems at the right line, one per place, in plain words.

    ``reported`` collects the places of the problems. Keys of the mappings in
    ``explained`` were written one level too deep, and another problem says so:
    what follows from it (a key missing there, a rule broken) is not reported.
    """
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
        if kind == "missing" and full in suggested:
            continue
        if explained and (full[:-1] if kind == "missing" else full) in explained:
            continue
        if reported is not None:
            reported.add(full)
        out.append(_problem_of(e, model, path, full, positions, languages))
    return out


#: Keys whose values are ids (of a scene, a source, or the item itself).
_ID_KEYS = {
    "id": "an id is a name that starts with a letter, e.g. 'part_2'",
    "source": "give the id of one of the sources listed under 'sources:'",
    **dict.fromkeys(("goto", "next", "start", "attract"),
                    "give the id of a scene, e.g. 'ending'"),
}


def _problem_of(e: Any, model: type[BaseModel], path: Path_, full: Path_,
                positions: Positions, languages: Sequence[str] = ()) -> Problem:
    kind = e["type"]
    name = path[-1] if path else None
    where_name = plain_path(path, languages)
    if kind == "missing":
        owner = plain_path(path[:-1]) if path[:-1] else None
        return _at(positions, full[:-1], f"missing required key '{name}'"
                   + (f" in {owner}" if owner else ""), f"add '{name}:'", "schema", key=True)
    if kind == "extra_forbidden" and e.get("input") is None and isinstance(name, str) \
            and (" " in name or not name.isascii()):
        return _at(positions, full, f"'{name}' looks like text cut off at a comma",
                   "inside { … } a comma separates entries: put the text in quotes, "
                   "e.g. description: \"projector, no touch\"", "yaml-comma", key=True)
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
        return _at(positions, full, f"unknown key '{name}'"
                   + (f" in {plain_path(path[:-1])}" if path[:-1] else ""), hint,
                   "unknown-key", key=True)
    value = e.get("input")
    ctx = e.get("ctx") or {}
    if kind == "literal_error":
        expected = str(ctx.get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",")]
        near = difflib.get_close_matches(str(value), options, n=1)
        return _at(positions, full, f"{where_name}: {_describe(value)} is not one of "
                   f"{expected}", f"did you mean '{near[0]}'?" if near else
                   f"write one of {expected}", "schema")
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
        if pattern.startswith("^[a-z0-9][a-z0-9_-]"):
            hint = "use lowercase letters, digits, _ and -"
        if isinstance(value, str) and pattern.startswith(("^[a-z][a-z0-9_", "^[a-z_][a-z0-9_]",
                                                          "^[a-z0-9][a-z0-9_-]")):
            sep = "-" if pattern.startswith("^[a-z0-9][a-z0-9_-]") else "_"
            suggestion = "".join(ch if ch.isalnum() else sep for ch in value.lower()).strip(sep)
            if suggestion and suggestion[0].isalpha() and suggestion.isascii():
                hint += f", e.g. '{suggestion}'"
        return _at(positions, full, f"{where_name}: {_describe(value)} is not a valid "
                   f"{'id' if 'a-z0-9_' in pattern else 'value'}", hint, "schema")
    if kind == "value_error":
        msg = str(ctx.get("error", e["msg"]))
        return _at(positions, full, f"{where_name}: {msg}" if path else msg, None, "schema")
    if value is None and isinstance(name, str) and (" " in name or not name.isascii()):
        return _at(positions, full, f"'{name}' looks like text cut off at a comma",
                   "inside { … } a comma separates entries: put the text in quotes, "
                   "e.g. en: \"Yes, it is\"", "yaml-comma", key=True)
    parent = _model_at(model, path[:-1])
    info = parent.model_fields.get(name) if parent and isinstance(name, str) else None
    if info is not None and kind in ("dict_type", "string_type") and (
            TEXT in info.metadata or text_annotation(info.annotation)[1]) \
            and not isinstance(value, (dict, list)):
        shown = str(value).lower() if isinstance(value, bool) else str(value)
        example = ", ".join(f"{lang}: …" for lang in languages[:2]) or "zh-CN: …, en: …"
        return _at(positions, full, f"{where_name}: {_describe(value)} is a single value, "
                   "but a text is written once per language",
                   f"give it per language, e.g. {name}: {{{example}}} (with '{shown}' in "
                   "the right language)", "schema")
    message, hint = _plain_error(kind, e, value, ctx, name)
    if kind == "string_type" and isinstance(value, (int, float)) and name in _ID_KEYS:
        hint = _ID_KEYS[name]
    return _at(positions, full, f"{where_name}: {message}", hint, "schema")


def _plain_error(kind: str, e: Any, value: Any, ctx: dict[str, Any], name: Any
                 ) -> tuple[str, str | None]:
    """A pydantic error kind → (what is wrong, a fix), without pydantic's words."""
    shown = _describe(value) if not isinstance(value, (dict, list)) else (
        "a mapping" if isinstance(value, dict) else "a list")
    friendly = _FRIENDLY.get(kind)
    if kind == "string_type" and isinstance(value, (bool, int, float)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        return (f"{shown} is not text",
                f'YAML reads this as a {_kind(value)}: put it in quotes, e.g. "{text}"')
    if kind == "string_type" and isinstance(value, (dict, list)):
        return (f"this holds {shown}, not text",
                "check the indentation: the lines below it may be indented too far")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return (f"{shown} {friendly}", f"write its keys on the lines below '{name}:', "
                "indented, one 'key: value' per line" if isinstance(name, str) else
                "write 'key: value' lines, indented")
    if kind in ("list_type", "tuple_type"):
        return (f"{shown} {friendly}", "write each item on its own line, starting "
                "with '- ', or as [a, b]")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return (f"{shown} {friendly}", "write a number without a decimal point, e.g. 3")
    if kind in ("float_parsing", "float_type", "finite_number"):
        return (f"{shown} {friendly}", "write a number, e.g. 2.5")
    if kind in ("bool_parsing", "bool_type"):
        return (f"{shown} {friendly}", "write true or false")
    if kind.startswith(("date_", "datetime_")):
        return f"{shown} is not a date", "write the day as YYYY-MM-DD, e.g. 2026-11-20"
    limit = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        return f"{shown} is out of range: it must be {words} {limit}", \
            f"write a number {words} {limit}"
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", 1)
        if kind == "string_too_short":
            return ("the text is empty" if least == 1 else
                    f"the text is shorter than {least} characters",
                    "write the text, or remove the key")
        return (f"it needs at least {least} item{'s' if least != 1 else ''}",
                "add an item, starting with '- '")
    if kind in ("too_long", "string_too_long"):
        most = ctx.get("max_length")
        unit = "characters" if kind == "string_too_long" else "items"
        return f"it is longer than {most} {unit}", f"shorten it to at most {most} {unit}"
    if friendly:
        return f"{shown} {friendly}", None
    message = str(e["msg"]).lower()
    if value is not None and not isinstance(value, (dict, list)):
        message += f" (got {_describe(value)})"
    return message, None


def iter_scene_files(root: Path) -> Iterator[Path]:
    yield root / EXHIBIT_FILE
    d = root / SCENES_DIR
    if d.is_dir():
        yield from sorted(d.glob("*.y*ml"))
