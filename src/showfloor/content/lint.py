"""``showfloor check``: every problem in an exhibit, at once, with a fix.

Lint runs after loading (YAML syntax and schema problems come from
:mod:`showfloor.content.load`) and looks at what a schema cannot see: the
scene graph (missing targets, unreachable scenes, dead ends, loops with no way
out), conditions, variables, translations, assets and their budgets, sources,
and each scene type's own rules.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from showfloor.content import expr as expressions
from showfloor.content.gltf import BUDGETS_3D, Budget3D, lint_model
from showfloor.content.load import Loaded, load
from showfloor.content.media import media_duration
from showfloor.content.model import Exhibit, ExprSource, variable_default
from showfloor.content.problems import Problem
from showfloor.content.scenes import registry
from showfloor.content.scenes.base import Asset, Edge, SceneType, Where
from showfloor.content.texts import iter_texts
from showfloor.errors import ExpressionError

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
MB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """What one display kind can afford, per file (bytes) and per image (pixels).

    ``model`` is the budget of a 3-D model (triangles, draw calls, texture
    size, file size); it may be given as a mapping (``check.json``).
    """

    image_bytes: int
    video_bytes: int
    audio_bytes: int
    image_pixels: int
    model: Budget3D = BUDGETS_3D["touch"]

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", Budget3D(**self.model))


#: Media budgets per display kind: a headset or a hologram PC is not a touch PC.
BUDGETS: dict[str, Budget] = {
    "touch": Budget(8 * MB, 300 * MB, 20 * MB, 3840 * 2160, BUDGETS_3D["touch"]),
    "projector": Budget(16 * MB, 600 * MB, 20 * MB, 3840 * 2160, BUDGETS_3D["projector"]),
    "vr": Budget(4 * MB, 150 * MB, 10 * MB, 4096 * 4096, BUDGETS_3D["vr"]),
    "hologram-pyramid": Budget(4 * MB, 150 * MB, 10 * MB, 2048 * 2048,
                               BUDGETS_3D["hologram-pyramid"]),
    "hologram-fan": Budget(2 * MB, 100 * MB, 10 * MB, 1024 * 1024, BUDGETS_3D["hologram-fan"]),
}
DEFAULT_DISPLAY = "touch"

CAPTIONED_KINDS = {"video", "narration", "audio"}


def parse_size(text: str) -> int:
    """``"2MB"`` → bytes (KB, MB, GB; powers of 1024)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)B?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"'{text}' is not a size such as 500KB or 2MB")
    return int(float(m.group(1)) * {"": 1, "K": 1024, "M": MB, "G": 1024 * MB}[
        m.group(2).upper()])


@dataclass
class Report:
    """Every problem found, errors first within each file, in file order."""

    root: Path
    problems: list[Problem]
    exhibit: Exhibit | None
    loaded: Loaded | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class Linter:
    """Implements :class:`~showfloor.content.scenes.base.LintContext` for one scene at a time."""

    loaded: Loaded
    exhibit: Exhibit
    budget: Budget
    root: Path = field(init=False)
    problems: list[Problem] = field(default_factory=list)
    base: Where = ()
    _lines: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = self.loaded.root

    # -- reporting ------------------------------------------------------
    def _add(self, severity: str, where: Sequence[str | int], message: str,
             hint: str | None, code: str, key: bool = False, offset: int | None = None,
             text: str | None = None) -> None:
        full = (*self.base, *where)
        pos = self.loaded.positions.at(full, key=key)
        file = pos.file if pos else self.loaded.positions.file_of(full)
        line, col = (pos.line, pos.column) if pos else (0, 0)
        if pos and offset is not None and text is not None:
            col = self._column_of(pos.file, pos.line, pos.column, text, offset)
        self.problems.append(Problem(severity, message, file, line, col, hint, code))  # type: ignore[arg-type]

    def _column_of(self, file: str, line: int, col: int, text: str, offset: int) -> int:
        """The column of ``text[offset]`` when ``text`` sits on ``line`` from ``col`` on."""
        if file not in self._lines:
            try:
                self._lines[file] = (self.root / file).read_text("utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[file] = []
        lines = self._lines[file]
        if not 0 < line <= len(lines):
            return col
        found = lines[line - 1].find(text, col - 1)
        return found + offset + 1 if found >= 0 else col

    def error(self, where: Where, message: str, hint: str | None = None,
              code: str = "scene") -> None:
        self._add("error", where, message, hint, code)

    def warning(self, where: Where, message: str, hint: str | None = None,
                code: str = "scene") -> None:
        self._add("warning", where, message, hint, code)

    # -- shared checks (LintContext) -------------------------------------
    def check_source(self, where: Where, source_id: str | None) -> None:
        if source_id is None:
            return
        ids = [s.id for s in self.exhibit.sources]
        if source_id not in ids:
            near = difflib.get_close_matches(source_id, ids, n=1)
            hint = f"did you mean '{near[0]}'?" if near else (
                f"declared sources: {', '.join(ids)}" if ids else
                "declare it under 'sources:' with its name and url")
            self._add("error", where, f"unknown source '{source_id}'", hint, "unknown-source")

    def check_variable(self, where: Where, name: str) -> None:
        names = list(self.exhibit.variables)
        if name not in names:
            near = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean '{near[0]}'?" if near else \
                f"declare it under 'variables:' ({name}: {{type: int, default: 0}})"
            self._add("error", where, f"unknown variable '{name}'", hint, "unknown-variable",
                      key=True)

    def check_expr(self, where: Where, source: ExprSource) -> None:
        try:
            expressions.parse(source, known=list(self.exhibit.variables))
        except ExpressionError as err:
            text = source if isinstance(source, str) else str(source)
            # many messages quote the expression already; do not say it twice
            message = err.message if text[:24] in err.message else f"{err.message} in '{text}'"
            self._add("error", where, message, err.hint, "expression",
                      offset=err.offset, text=text)

    def duration(self, path: str | None) -> float | None:
        return media_duration(self.root, path)


def check(path: str | Path, display: str = DEFAULT_DISPLAY,
          budget: Budget | None = None) -> Report:
    """Load and lint the exhibit at ``path``. Raises ContentError only when nothing loads."""
    loaded = load(path)
    problems = list(loaded.problems)
    exhibit = loaded.exhibit
    if exhibit is None:
        return Report(loaded.root, _sorted(problems), None, loaded)
    linter = Linter(loaded, exhibit, budget or BUDGETS[display])
    _lint(linter)
    problems += linter.problems
    problems += _lint_profiles(loaded.root, exhibit)
    return Report(loaded.root, _sorted(problems), exhibit, loaded)


PROFILES_DIR = "stations"


def _lint_profiles(root: Path, exhibit: Exhibit) -> list[Problem]:
    """Station profiles kept with the exhibit (``stations/*.yaml``) are checked too."""
    from showfloor.station.profile import lint_profile

    out: list[Problem] = []
    folder = root / PROFILES_DIR
    if folder.is_dir():
        for f in sorted(folder.glob("*.y*ml")):
            out += lint_profile(f, f"{PROFILES_DIR}/{f.name}", root, list(exhibit.languages))
    return out


def check_profile(path: str | Path) -> Report:
    """Check a station profile and the exhibit it names."""
    from showfloor.station.profile import exhibit_dir, lint_profile, load_profile

    p = Path(path)
    profile, problems = load_profile(p)
    if profile is None:
        return Report(p.parent, problems, None, None)
    target = exhibit_dir(p, profile)
    report = check(target, display=profile.display) if (target / "exhibit.yaml").is_file() \
        else Report(target, [], None, None)
    langs = list(report.exhibit.languages) if report.exhibit else None
    own = lint_profile(p, str(p), target, langs)
    return Report(report.root, _sorted(own + report.problems), report.exhibit, report.loaded)


def _sorted(problems: list[Problem]) -> list[Problem]:
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=Problem.sort_key)


def _lint(lt: Linter) -> None:
    ex = lt.exhibit
    types = registry()
    _lint_metadata(lt)
    _lint_variables(lt)
    scene_ids: dict[str, int] = {}
    for i, scene in enumerate(ex.scenes):
        if scene.id in scene_ids:
            first = ex.scenes[scene_ids[scene.id]]
            pos = lt.loaded.positions.at(("scenes", scene_ids[scene.id], "id"))
            lt._add("error", ("scenes", i, "id"), f"duplicate scene id '{scene.id}'",
                    f"the first is at {pos.file}:{pos.line}" if pos else
                    f"rename one of the two '{first.id}' scenes", "duplicate-id")
        scene_ids.setdefault(scene.id, i)
    _lint_graph(lt, scene_ids, types)
    _lint_texts(lt)
    for i, scene in enumerate(ex.scenes):
        st = types[scene.type]
        lt.base = ("scenes", i)
        for name, value in scene.set.items():
            lt.check_variable(("set", name), name)
            lt.check_expr(("set", name), value)
        st.lint(scene, lt)
        _lint_assets(lt, st.assets(scene))
        lt.base = ()


def _lint_metadata(lt: Linter) -> None:
    ex = lt.exhibit
    if len(set(ex.languages)) != len(ex.languages):
        lt._add("error", ("languages",), "a language is listed twice", None, "schema")
    if ex.default_language not in ex.languages:
        lt._add("error", ("default_language",), f"default language '{ex.default_language}' "
                f"is not one of the languages ({', '.join(ex.languages)})",
                f"add it to languages, or use one of {', '.join(ex.languages)}", "language")
    if ex.audience and ex.audience.min_age > ex.audience.max_age:
        lt._add("error", ("audience",), f"audience min_age {ex.audience.min_age} is above "
                f"max_age {ex.audience.max_age}", "swap them", "schema")
    if not ex.sources:
        lt._add("warning", ("id",), "the exhibit names no sources for its facts",
                "add 'sources:' with the name and url of each fact's origin", "sources")
    ids: dict[str, int] = {}
    for i, s in enumerate(ex.sources):
        if s.id in ids:
            lt._add("error", ("sources", i, "id"), f"duplicate source id '{s.id}'",
                    "rename one", "duplicate-id")
        ids.setdefault(s.id, i)


def _lint_variables(lt: Linter) -> None:
    for name, var in lt.exhibit.variables.items():
        d = var.default
        if d is None:
            continue
        ok = {"int": isinstance(d, int) and not isinstance(d, bool),
              "float": isinstance(d, (int, float)) and not isinstance(d, bool),
              "bool": isinstance(d, bool), "str": isinstance(d, str)}[var.type]
        if not ok:
            lt._add("error", ("variables", name, "default"), f"variable '{name}' is {var.type} "
                    f"but its default is {d!r}",
                    f"use {'an' if var.type == 'int' else 'a'} {var.type} default such as "
                    f"{variable_default(var.model_copy(update={'default': None}))!r}",
                    "variable")


def _lint_graph(lt: Linter, ids: dict[str, int], types: dict[str, SceneType]) -> None:
    ex = lt.exhibit
    names = list(ids)
    for key in ("attract", "start"):
        target = getattr(ex, key)
        if target not in ids:
            near = difflib.get_close_matches(target, names, n=1)
            lt._add("error", (key,), f"{key} scene '{target}' does not exist",
                    f"did you mean '{near[0]}'?" if near else None, "missing-scene")
    if ex.attract in ids and ex.scenes[ids[ex.attract]].type != "attract":
        lt._add("error", ("attract",), f"attract scene '{ex.attract}' is a "
                f"'{ex.scenes[ids[ex.attract]].type}' scene", "use a scene of type attract",
                "scene")
    if ex.start in ids and ex.scenes[ids[ex.start]].type == "attract":
        lt._add("error", ("start",), f"start scene '{ex.start}' is an attract scene",
                "start at the first scene of a visit", "scene")

    graph: dict[str, list[Edge]] = {}
    for i, scene in enumerate(ex.scenes):
        edges = list(types[scene.type].edges(scene))
        graph.setdefault(scene.id, [])
        lt.base = ("scenes", i)
        has_default = False
        for e in edges:
            if e.when is not None:
                lt.check_expr(_when_path(e.where), e.when)
            else:
                has_default = True
            if e.target not in ids:
                near = difflib.get_close_matches(e.target, names, n=1)
                lt._add("error", e.where, f"scene '{scene.id}' goes to '{e.target}', which "
                        "does not exist", f"did you mean '{near[0]}'?" if near else
                        f"add a scene '{e.target}' or pick one of the existing scenes",
                        "missing-scene")
            elif e.target == ex.attract:
                lt._add("error", e.where, f"scene '{scene.id}' goes to the attract scene",
                        "end a visit with an 'end' scene; it returns to attract", "flow")
            else:
                graph[scene.id].append(e)
        if edges and not has_default and types[scene.type].name != "story":
            lt._add("warning", ("next",), f"no branch of scene '{scene.id}' is a default: if "
                    "no condition holds the visit ends here",
                    "end the list with a branch that has no 'when'", "flow")
        lt.base = ()

    terminal = {s.id for s in ex.scenes if types[s.type].terminal}
    start = ex.start if ex.start in ids else None
    reachable = _reach(start, graph) if start else set()
    for i, scene in enumerate(ex.scenes):
        if scene.id in reachable or scene.id == ex.attract or scene.id == start:
            continue
        if ids.get(scene.id) != i:
            continue
        lt._add("warning", ("scenes", i, "id"), f"scene '{scene.id}' can never be reached "
                f"from the start scene '{ex.start}'",
                "link to it with next/goto, or remove it", "unreachable")
    # scenes from which no end can be reached: dead ends and closed loops
    reverse: dict[str, set[str]] = {}
    for src, edges in graph.items():
        for e in edges:
            reverse.setdefault(e.target, set()).add(src)
    can_end: set[str] = set()
    todo = list(terminal)
    while todo:
        n = todo.pop()
        if n in can_end:
            continue
        can_end.add(n)
        todo.extend(reverse.get(n, ()))
    loops: set[frozenset[str]] = set()
    for i, scene in enumerate(ex.scenes):
        if scene.type == "attract" or scene.id in can_end or ids.get(scene.id) != i:
            continue
        if scene.id not in reachable and scene.id != start:
            continue  # already reported as unreachable
        out = graph.get(scene.id, [])
        if not out:
            lt._add("error", ("scenes", i, "id"), f"scene '{scene.id}' is a dead end: it "
                    "leads nowhere and is not an end scene",
                    "add 'next:' to a scene, or make it 'type: end'", "dead-end")
            continue
        cycle = _cycle_from(scene.id, graph, can_end)
        if cycle and scene.id not in cycle:
            lt._add("error", ("scenes", i, "id"), f"scene '{scene.id}' leads only into a loop "
                    "with no way out: " + " → ".join(cycle),
                    "add a branch from one of these scenes that leads to an end scene",
                    "dead-end")
        elif cycle:
            if frozenset(cycle) in loops:
                continue  # reported once, at the loop's first scene
            loops.add(frozenset(cycle))
            lt._add("error", ("scenes", i, "id"), "loop with no way out: "
                    + " → ".join(cycle), "add a branch from one of these scenes that leads "
                    "to an end scene", "loop")
        else:
            lt._add("error", ("scenes", i, "id"), f"scene '{scene.id}' leads only to dead "
                    "ends: no path from it reaches an end scene",
                    "make sure every path finishes at a 'type: end' scene", "dead-end")
    if not terminal:
        lt._add("error", ("scenes",), "the exhibit has no end scene",
                "add a scene with 'type: end'", "dead-end")


def _when_path(where: Where) -> Where:
    """The ``when`` next to a ``goto`` in a branch, or the ``when`` of a choice."""
    if where and where[-1] == "goto":
        return (*where[:-1], "when")
    return (*where, "when")


def _reach(start: str, graph: dict[str, list[Edge]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        n = todo.pop()
        for e in graph.get(n, ()):
            if e.target not in seen:
                seen.add(e.target)
                todo.append(e.target)
    return seen


def _cycle_from(start: str, graph: dict[str, list[Edge]], can_end: set[str]) -> list[str]:
    """A cycle reachable from ``start`` among scenes that cannot end, as a path."""
    stack: list[str] = []
    on: set[str] = set()
    done: set[str] = set()

    def visit(n: str) -> list[str]:
        stack.append(n)
        on.add(n)
        for e in graph.get(n, ()):
            t = e.target
            if t in can_end or t in done:
                continue
            if t in on:
                return [*stack[stack.index(t):], t]
            found = visit(t)
            if found:
                return found
        on.discard(n)
        done.add(n)
        stack.pop()
        return []

    return visit(start)


def _lint_texts(lt: Linter) -> None:
    ex = lt.exhibit
    langs = ex.languages
    explicit: dict[str, tuple[str | int, ...]] = {}
    variables = list(ex.variables)
    for t in iter_texts(ex):
        given = [k for k in t.text if k != "id"]
        if "id" in t.text:
            if t.id in explicit:
                pos = lt.loaded.positions.at(explicit[t.id])
                lt._add("error", (*t.path, "id"), f"duplicate text id '{t.id}'",
                        f"the first is at {pos.file}:{pos.line}" if pos else "rename one",
                        "duplicate-id")
            explicit.setdefault(t.id, t.path)
        for lang in langs:
            if lang not in t.text:
                sample = next((t.text[k] for k in given), "")
                lt._add("error", t.path, f"text '{t.id}' is missing in {lang}",
                        f"add '{lang}: …' next to '{sample[:30]}'" if sample else
                        f"add '{lang}: …'", "translation")
            elif not t.text[lang].strip():
                lt._add("warning", (*t.path, lang), f"text '{t.id}' is empty in {lang}",
                        None, "translation")
        for lang in given:
            if lang not in langs:
                near = difflib.get_close_matches(lang, langs, n=1)
                lt._add("warning", (*t.path, lang), f"text '{t.id}' has '{lang}', which is "
                        "not one of the exhibit's languages",
                        f"did you mean '{near[0]}'?" if near else
                        f"add '{lang}' to languages, or remove it", "translation", key=True)
            for m in PLACEHOLDER.finditer(t.text[lang]):
                name = m.group(1)
                if name not in ex.variables:
                    near = difflib.get_close_matches(name, variables, n=1)
                    lt._add("error", (*t.path, lang), f"text '{t.id}' ({lang}) shows "
                            f"{{{name}}}, which is not a variable",
                            f"did you mean '{{{near[0]}}}'?" if near else
                            "declare it under variables:", "unknown-variable",
                            offset=m.start() + 1, text=t.text[lang])


@cache
def _realpath(path: str) -> str:
    return os.path.realpath(path)


def _inside(root: str, path: str) -> bool:
    """Whether ``path`` stays inside ``root``, symbolic links followed (folders cached)."""
    folder, name = os.path.split(os.path.normpath(path))
    real = os.path.join(_realpath(folder), name)
    if os.path.islink(real):
        real = os.path.realpath(real)
    return real == root or real.startswith(root + os.sep)


def _lint_assets(lt: Linter, assets: Iterable[Asset]) -> None:
    root = _realpath(str(lt.root))
    budget = lt.budget
    for a in assets:
        p = (lt.root / a.path)
        if not _inside(root, str(p)):
            lt._add("error", a.where, f"'{a.path}' points outside the exhibit folder",
                    "keep media inside the exhibit, e.g. under media/", "asset")
            continue
        if not p.is_file():
            near = _near_files(lt.root, a.path)
            lt._add("error", a.where, f"{a.kind} file '{a.path}' does not exist",
                    f"did you mean '{near}'?" if near else "check the file name and folder",
                    "missing-asset")
            continue
        size = p.stat().st_size
        limit = {"image": budget.image_bytes, "video": budget.video_bytes,
                 "audio": budget.audio_bytes, "narration": budget.audio_bytes}.get(a.kind)
        if limit is not None and size > limit:
            shown, allowed = _size(size), _size(limit)
            if shown == allowed:
                shown, allowed = f"{size:,} bytes", f"{limit:,} bytes"
            lt._add("error", a.where, f"{a.kind} '{a.path}' is {shown}, over the "
                    f"{allowed} budget for this display",
                    "compress it or lower its resolution", "budget")
        if a.kind == "image":
            _lint_image(lt, a, p)
        if a.kind == "captions":
            _lint_captions(lt, a, p)
        if a.kind == "model":
            lint_model(lt, a, p)


def _size(n: int) -> str:
    """A file size for people: 78 bytes, 12.5 KB, 2.04 MB."""
    if n < 1024:
        return f"{n} bytes"
    if n < MB:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n / MB:.2f}".rstrip("0").rstrip(".") + " MB"


def _lint_image(lt: Linter, a: Asset, p: Path) -> None:
    try:
        from PIL import Image, UnidentifiedImageError

        with Image.open(p) as im:
            w, h = im.size
    except (UnidentifiedImageError, OSError) as err:
        lt._add("error", a.where, f"image '{a.path}' cannot be read: {err}",
                "save it as PNG, JPEG or WebP", "asset")
        return
    if w * h > lt.budget.image_pixels:
        lt._add("warning", a.where, f"image '{a.path}' is {w}×{h} pixels, more than this "
                "display needs", "scale it down to the display's size", "budget")


def _lint_captions(lt: Linter, a: Asset, p: Path) -> None:
    try:
        import webvtt

        cues = webvtt.read(str(p))
    except Exception as err:  # noqa: BLE001 - the library raises several kinds
        lt._add("error", a.where, f"captions '{a.path}' are not valid WebVTT: {err}",
                "the file must start with 'WEBVTT' and hold timed cues", "captions")
        return
    if not len(cues):
        lt._add("error", a.where, f"captions '{a.path}' hold no cues", None, "captions")


def _near_files(root: Path, wanted: str) -> str | None:
    try:
        files = [str(f.relative_to(root)) for f in root.rglob("*") if f.is_file()][:5000]
    except OSError:
        return None
    near = difflib.get_close_matches(wanted, files, n=1, cutoff=0.6)
    return near[0] if near else None


def as_json(report: Report) -> dict[str, Any]:
    return {
        "path": str(report.root),
        "ok": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "problems": [p.as_json() for p in report.problems],
    }
