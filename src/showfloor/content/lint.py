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

from showfloor.competition.lint import lint_competitions
from showfloor.content import expr as expressions
from showfloor.content._images import lint_image, screen_orientations
from showfloor.content._svg import SvgError, read_svg
from showfloor.content.gltf import BUDGETS_3D, Budget3D, budget_of, lint_model
from showfloor.content.knowledge import lint_knowledge
from showfloor.content.load import Loaded, load
from showfloor.content.media import ImageTooLarge, image_size, media_duration
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
    """What one display kind can afford: file sizes (bytes) and picture sizes (pixels).

    Every figure is a hard limit — over it is an error — except ``screen``:

    - ``image_bytes``, ``video_bytes``, ``audio_bytes`` (narration too) and
      ``panorama_bytes``: the size of one file.
    - ``screen``: the most pixels (width, height) a picture can use on this
      display. A picture with more is a **warning**: it costs memory and loading
      time and shows nothing more.
    - ``image_pixels``: a picture's hard limit in pixels, twice the screen's
      width and height (four times its pixels).
    - ``panorama``: the largest equirectangular picture (width, height). A
      panorama spans 360°; at a 60–90° field of view the screen shows a
      quarter to a sixth of its width, so a wide one is needed, not wasted,
      up to the size a graphics chip takes as one texture.
    - ``model``: the 3-D budget (:class:`~showfloor.content.gltf.Budget3D`).

    ``model``, ``screen`` and ``panorama`` may be given as a mapping or a list
    (``check.json``).
    """

    image_bytes: int
    video_bytes: int
    audio_bytes: int
    image_pixels: int
    model: Budget3D = BUDGETS_3D["touch"]
    screen: tuple[int, int] = (3840, 2160)
    panorama: tuple[int, int] = (8192, 4096)
    panorama_bytes: int = 16 * MB

    def __post_init__(self) -> None:
        if isinstance(self.model, dict):
            object.__setattr__(self, "model", Budget3D(**self.model))
        object.__setattr__(self, "screen", tuple(self.screen))
        object.__setattr__(self, "panorama", tuple(self.panorama))


#: Media budgets per display kind: a headset or a hologram PC is not a touch PC.
#: docs/format.md ("Media budgets") shows this table; a test keeps the two alike.
BUDGETS: dict[str, Budget] = {
    "touch": Budget(8 * MB, 300 * MB, 20 * MB, 7680 * 4320, BUDGETS_3D["touch"],
                    screen=(3840, 2160), panorama=(8192, 4096), panorama_bytes=16 * MB),
    "projector": Budget(16 * MB, 600 * MB, 20 * MB, 7680 * 4320, BUDGETS_3D["projector"],
                        screen=(3840, 2160), panorama=(8192, 4096), panorama_bytes=16 * MB),
    "vr": Budget(4 * MB, 150 * MB, 10 * MB, 8192 * 8192, BUDGETS_3D["vr"],
                 screen=(4096, 4096), panorama=(8192, 4096), panorama_bytes=16 * MB),
    "hologram-pyramid": Budget(4 * MB, 150 * MB, 10 * MB, 4096 * 4096,
                               BUDGETS_3D["hologram-pyramid"], screen=(2048, 2048),
                               panorama=(4096, 2048), panorama_bytes=8 * MB),
    "hologram-fan": Budget(2 * MB, 100 * MB, 10 * MB, 2048 * 2048, BUDGETS_3D["hologram-fan"],
                           screen=(1024, 1024), panorama=(2048, 1024), panorama_bytes=4 * MB),
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
    #: the screen orientations the exhibit is shown in (for the picture crop rule)
    orientations: tuple[str, ...] = ("landscape",)

    def __post_init__(self) -> None:
        self.root = self.loaded.root

    # -- reporting ------------------------------------------------------
    def _add(self, severity: str, where: Sequence[str | int], message: str,
             hint: str | None, code: str, key: bool = False, offset: int | None = None,
             text: str | None = None) -> None:
        full = (*self.base, *where)
        if self.loaded.already_reported(full):
            return  # one mistake, one message: loading said what is wrong here
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
        if source_id is None or "sources" in self.loaded.unchecked:
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
        if name not in names and "variables" not in self.loaded.unchecked:
            near = difflib.get_close_matches(name, names, n=1)
            hint = f"did you mean '{near[0]}'?" if near else \
                f"declare it under 'variables:' ({name}: {{type: int, default: 0}})"
            self._add("error", where, f"unknown variable '{name}'", hint, "unknown-variable",
                      key=True)

    def check_expr(self, where: Where, source: ExprSource) -> None:
        try:
            expressions.parse(source, known=None if "variables" in self.loaded.unchecked
                              else list(self.exhibit.variables))
        except ExpressionError as err:
            text = source if isinstance(source, str) else str(source)
            # many messages quote the expression already; do not say it twice
            message = err.message if text[:24] in err.message else f"{err.message} in '{text}'"
            self._add("error", where, message, err.hint, "expression",
                      offset=err.offset, text=text)

    def duration(self, path: str | None) -> float | None:
        return media_duration(self.root, path)

    @property
    def all_scenes(self) -> bool:
        """Whether ``exhibit`` holds every scene: none left out for a mistake of its own."""
        ld = self.loaded
        return ld.exhibit is not None or not (ld.left_out or ld.unchecked_ids or ld.unreadable
                                              or ld.opaque)


def check(path: str | Path, display: str = DEFAULT_DISPLAY,
          budget: Budget | None = None, orientation: str | None = None) -> Report:
    """Load and lint the exhibit at ``path``. Raises ContentError only when nothing loads.

    ``orientation`` (landscape, portrait) is the screen's; without it, the
    orientations of the station profiles kept in ``stations/`` (else landscape).
    """
    loaded = load(path)
    problems = list(loaded.problems)
    exhibit = loaded.exhibit or loaded.partial  # partial: the rest is checked all the same
    if exhibit is None:
        return Report(loaded.root, _sorted(problems), None, loaded)
    linter = Linter(loaded, exhibit, budget or BUDGETS[display])
    linter.orientations = (orientation,) if orientation else screen_orientations(loaded.root)
    _lint(linter)
    problems += linter.problems
    problems += _lint_profiles(loaded.root, exhibit)
    return Report(loaded.root, _sorted(problems), loaded.exhibit, loaded)


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
    report = check(target, display=profile.display, orientation=profile.orientation) \
        if (target / "exhibit.yaml").is_file() \
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
            lt._add("error", ("scenes", i, "id"), f"duplicate scene id '{scene.id}'"
                    + (f": the first is at {pos.file}:{pos.line}" if pos else ""),
                    f"give one of the two '{first.id}' scenes another id, e.g. "
                    f"'{first.id}_2', and point the links meant for it there",
                    "duplicate-id")
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
    lint_knowledge(lt, next((k for k, b in BUDGETS.items() if b == lt.budget), DEFAULT_DISPLAY))
    lint_competitions(lt)


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
    if not ex.sources and "sources" not in lt.loaded.unchecked:
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
    """Missing targets, unreachable scenes, dead ends and closed loops — without cascades.

    A broken link is reported once, and what only follows from it is not
    reported again: the graph is followed as the curator meant it, a
    misspelled target standing for the scene it most likely names ("did you
    mean"), and a link with no likely meaning (or one into the attract
    scene) counting as a way out. A scene is then unreachable, or a dead end,
    only for a reason of its own.
    """
    ex = lt.exhibit
    names = list(ids)
    for key in ("attract", "start"):
        target = getattr(ex, key)
        if target not in ids and not lt.loaded.may_exist(target):
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
    open_ended: set[str] = set()  # scenes with a broken link that may, once fixed, lead on
    unknown: list[tuple[int, str, Edge]] = []  # links with no likely meaning, or into attract
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
            if e.target not in ids and lt.loaded.may_exist(e.target):
                open_ended.add(scene.id)  # to a scene that is there but could not be checked
            elif e.target not in ids:
                near = difflib.get_close_matches(e.target, names, n=1)
                if near:
                    lt._add("error", e.where, f"scene '{scene.id}' goes to '{e.target}', "
                            f"which does not exist", f"did you mean '{near[0]}'?",
                            "missing-scene")
                    graph[scene.id].append(Edge(near[0], e.where, e.when, e.label))
                else:
                    unknown.append((i, scene.id, e))
                    open_ended.add(scene.id)
            elif e.target == ex.attract:
                unknown.append((i, scene.id, e))
                open_ended.add(scene.id)
            else:
                graph[scene.id].append(e)
        if edges and not has_default and types[scene.type].name != "story":
            lt._add("warning", ("next",), f"no branch of scene '{scene.id}' is a default: if "
                    "no condition holds the visit ends here",
                    "end the list with a branch that has no 'when'", "flow")
        lt.base = ()

    if not lt.loaded.complete:
        # some scenes could not be read: what is reachable or a dead end is not known yet
        for i, scene_id, e in unknown:
            lt._add("error", ("scenes", i, *e.where), f"scene '{scene_id}' goes to "
                    f"'{e.target}', which does not exist",
                    f"add a scene '{e.target}' or pick one of the existing scenes",
                    "missing-scene")
        return
    terminal = {s.id for s in ex.scenes if types[s.type].terminal}
    start: str | None = ex.start
    if ex.start not in ids:  # reported above; follow the scene it most likely names
        near = difflib.get_close_matches(ex.start, names, n=1)
        start = near[0] if near else None
    reachable = _reach(start, graph) if start else set()
    unreachable = [s.id for i, s in enumerate(ex.scenes)
                   if s.id not in reachable and s.id not in (ex.attract, start)
                   and ids.get(s.id) == i]
    roots = _roots(unreachable, graph)
    for i, scene_id, e in unknown:
        # any scene nothing leads to may be the one this link means: name them here,
        # rather than each as unreachable
        candidates = [r for r in roots if r != scene_id]
        where = ("scenes", i, *e.where)
        if e.target == ex.attract:
            lt._add("error", where, f"scene '{scene_id}' goes to the attract scene",
                    "end a visit with an 'end' scene; it returns to attract" + (
                        f" (or link one of the scenes nothing leads to yet: "
                        f"{_names(candidates)})" if candidates else ""), "flow")
            continue
        hint = (f"link one of the scenes nothing leads to yet ({_names(candidates)}), or "
                f"add a scene '{e.target}'" if candidates else
                f"add a scene '{e.target}' or pick one of the existing scenes")
        lt._add("error", where, f"scene '{scene_id}' goes to '{e.target}', "
                "which does not exist", hint, "missing-scene")
    if start is not None and not unknown:
        for root, after in roots.items():
            also = f", nor can the scenes after it: {_names(after)}" if after else ""
            lt._add("warning", ("scenes", ids[root], "id"), f"scene '{root}' can never be "
                    f"reached from the start scene '{start}'{also}",
                    "link to it with next/goto, or remove it", "unreachable")
    # scenes from which no end can be reached: dead ends and closed loops
    reverse: dict[str, set[str]] = {}
    for src, edges in graph.items():
        for e in edges:
            reverse.setdefault(e.target, set()).add(src)
    can_end: set[str] = set()
    todo = list(terminal | open_ended)
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


def _roots(unreachable: list[str], graph: dict[str, list[Edge]]) -> dict[str, list[str]]:
    """Unreachable scenes as roots, each with the unreachable scenes only after it.

    A root is a scene no other unreachable scene leads to (or, in a loop of
    them, the first in file order); what can be reached from it is a
    consequence, named with it rather than reported apart.
    """
    left = set(unreachable)
    led_to = {e.target for n in unreachable for e in graph.get(n, ()) if e.target != n}
    ordered = [n for n in unreachable if n not in led_to] + [n for n in unreachable
                                                             if n in led_to]
    out: dict[str, list[str]] = {}
    for n in ordered:
        if n not in left:
            continue
        reached = _reach(n, graph)
        after = [m for m in unreachable if m in reached and m in left and m != n]
        left -= {n, *after}
        out[n] = after
    return {n: out[n] for n in unreachable if n in out}


def _names(ids: Sequence[str], most: int = 5) -> str:
    """'a', 'b', 'c' and 2 more."""
    shown = ", ".join(f"'{n}'" for n in ids[:most])
    return shown + (f" and {len(ids) - most} more" if len(ids) > most else "")


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
            if lang not in langs and "languages" not in lt.loaded.unchecked:
                near = difflib.get_close_matches(lang, langs, n=1)
                lt._add("warning", (*t.path, lang), f"text '{t.id}' has '{lang}', which is "
                        "not one of the exhibit's languages",
                        f"did you mean '{near[0]}'?" if near else
                        f"add '{lang}' to languages, or remove it", "translation", key=True)
            for m in PLACEHOLDER.finditer(t.text[lang]):
                name = m.group(1)
                if name not in ex.variables and "variables" not in lt.loaded.unchecked:
                    near = difflib.get_close_matches(name, variables, n=1)
                    lt._add("error", (*t.path, lang), f"text '{t.id}' ({lang}) shows "
                            f"{{{name}}}, which is not a variable",
                            f"did you mean '{{{near[0]}}}'?" if near else
                            "declare it under variables:", "unknown-variable",
                            offset=m.start() + 1, text=t.text[lang])
        _lint_same_text(lt, t.id, t.path, t.text)


#: Letters of the scripts some languages are written in (by primary tag): a text in
#: such a language without any of them is the likely untranslated one.
SCRIPTS = {
    "zh": re.compile(r"[\u3400-\u9fff\uf900-\ufaff]"),
    "ja": re.compile(r"[\u3040-\u30ff\u3400-\u9fff]"),
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "uk": re.compile(r"[\u0400-\u04ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "el": re.compile(r"[\u0370-\u03ff]"),
    "he": re.compile(r"[\u0590-\u05ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
}
#: What a text may hold and still be the same in every language.
_URL = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+\.[\w.]+")
_ACRONYM = re.compile(r"\b(?=[0-9]*[A-Z])[A-Z0-9]{2,}s?\b")  # WHO, DNA, CO2, 3D, THC
#: A text this short (after trimming) may be the same in every language: "A", "OK", "3".
SAME_SHORT = 2


def same_by_nature(text: str, allowed: Sequence[str] = ()) -> bool:
    """Whether ``text`` may read the same in every language.

    It may when it is short (at most :data:`SAME_SHORT` characters) or when,
    with the exhibit's ``same_in_all_languages`` terms, ``{variables}``, web
    and e-mail addresses and all-capital abbreviations (WHO, DNA, CO2) taken
    out, no letter is left: numbers, dates, symbols and names only.
    """
    rest = text.strip()
    if len(rest) <= SAME_SHORT:
        return True
    for term in sorted(allowed, key=len, reverse=True):
        if term.strip():
            rest = rest.replace(term.strip(), " ")
    for pattern in (PLACEHOLDER, _URL, _ACRONYM):
        rest = pattern.sub(" ", rest)
    return not any(ch.isalpha() for ch in rest)


def _lint_same_text(lt: Linter, text_id: str, path: tuple[str | int, ...],
                    text: dict[str, str]) -> None:
    """A text that reads the same in two languages was probably not translated."""
    langs = [lang for lang in lt.exhibit.languages if text.get(lang, "").strip()]
    by_value: dict[str, list[str]] = {}
    for lang in langs:
        by_value.setdefault(text[lang].strip(), []).append(lang)
    for value, same in by_value.items():
        if len(same) < 2 or same_by_nature(value, lt.exhibit.same_in_all_languages):
            continue
        # the language whose own letters are missing is the untranslated one
        suspect = next((lang for lang in same
                        if (script := SCRIPTS.get(lang.split("-")[0].lower()))
                        and not script.search(value)), same[-1])
        shown = value if len(value) <= 40 else value[:39] + "…"
        lt._add("warning", (*path, suspect), f"text '{text_id}' is the same in "
                f"{' and '.join(same)}: '{shown}'",
                f"translate it into {suspect}; a name that stays the same in every language "
                "goes under 'same_in_all_languages:' in exhibit.yaml", "same-text")
        return


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
            if near and a.lang and _names_other_language(near, a.lang, lt.exhibit.languages):
                near = None  # the file of another language is not the one meant
            lt._add("error", a.where, f"{a.kind} file '{a.path}' does not exist",
                    f"did you mean '{near}'?" if near else _missing_file_hint(a),
                    "missing-asset")
            continue
        size = p.stat().st_size
        limit = {"image": budget.image_bytes, "panorama": budget.panorama_bytes,
                 "video": budget.video_bytes, "audio": budget.audio_bytes,
                 "narration": budget.audio_bytes}.get(a.kind)
        if limit is not None and size > limit:
            shown, allowed = _size(size), _size(limit)
            if shown == allowed:
                shown, allowed = f"{size:,} bytes", f"{limit:,} bytes"
            lt._add("error", a.where, f"{a.kind} '{a.path}' is {shown}, over the "
                    f"{allowed} budget for {budget_of(lt)[1]}",
                    "compress it or lower its resolution", "budget")
        if a.kind in ("image", "panorama"):
            _lint_image(lt, a, p)
        if a.kind == "captions":
            _lint_captions(lt, a, p)
        if a.kind == "model":
            lint_model(lt, a, p)


def _names_other_language(path: str, lang: str, languages: Sequence[str]) -> bool:
    """Whether a file name carries the tag of another of the exhibit's languages."""
    tags = re.split(r"[._\s]+", Path(path).name)
    return any(t.lower() != lang.lower() and t.lower() in (x.lower() for x in languages)
               for t in tags)


def _missing_file_hint(a: Asset) -> str:
    """What to do about a media file that is not there, by its kind."""
    if a.kind == "captions":
        return (f"save the {a.lang or ''} captions as a WebVTT file at '{a.path}' "
                "(a subtitle editor exports .vtt), or correct the path").replace("  ", " ")
    if a.kind == "narration":
        return (f"save the {a.lang or ''} narration (an .mp3 or .ogg) at '{a.path}', "
                "or correct the path").replace("  ", " ")
    return "check the file name and folder: paths are relative to the exhibit folder"


def _size(n: int) -> str:
    """A file size for people: 78 bytes, 12.5 KB, 2.04 MB."""
    if n < 1024:
        return f"{n} bytes"
    if n < MB:
        return f"{n / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{n / MB:.2f}".rstrip("0").rstrip(".") + " MB"


def _mp(pixels: int) -> str:
    """A pixel count for people: 8.3 megapixels, 400 megapixels, 64 pixels."""
    if pixels < 100_000:
        return f"{pixels:,} pixels"
    return f"{pixels / 1e6:.1f}".removesuffix(".0") + " megapixels"


def _lint_image(lt: Linter, a: Asset, p: Path) -> None:
    """A picture must be readable and within the display's pixel budget (see :class:`Budget`)."""
    budget = lt.budget
    display = budget_of(lt)[1]
    sw, sh = budget.screen
    if p.suffix.lower() == ".svg":
        _lint_svg(lt, a, p)
        return
    try:
        w, h = image_size(p)
    except ImageTooLarge as err:
        pw, ph = budget.panorama
        limit, fit = (f"{pw}×{ph}", f"{pw}×{ph}") if a.kind == "panorama" else (
            _mp(budget.image_pixels), f"{sw}×{sh}")
        lt._add("error", a.where, f"{a.kind} '{a.path}' has {err.pixels:,} pixels "
                f"({_mp(err.pixels)}), far over the limit of {limit} for {display}",
                f"scale it down to at most {fit} pixels", "budget")
        return
    except (OSError, ValueError) as err:
        lt._add("error", a.where, f"{a.kind} '{a.path}' cannot be read: {err}",
                "save it as PNG, JPEG or WebP", "asset")
        return
    if a.kind == "panorama":
        pw, ph = budget.panorama
        if w > pw or h > ph:
            lt._add("error", a.where, f"panorama '{a.path}' is {w}×{h} pixels, over the "
                    f"{pw}×{ph} limit for {display}",
                    f"scale it down to {pw}×{ph}: a larger picture does not load as one "
                    "texture on every graphics chip", "budget")
        return
    if w * h > budget.image_pixels:
        lt._add("error", a.where, f"image '{a.path}' is {w}×{h} pixels ({_mp(w * h)}), over "
                f"the limit of {_mp(budget.image_pixels)} for {display}",
                f"scale it down to at most {sw}×{sh} pixels, the most this display shows",
                "budget")
    elif w * h > sw * sh:
        lt._add("warning", a.where, f"image '{a.path}' is {w}×{h} pixels, more than "
                f"{display} shows ({sw}×{sh})",
                f"scale it down to fit {sw}×{sh}: it loads faster and looks the same",
                "budget")
    lint_image(lt, a, w, h, lt.orientations)  # alt text, and what 'fit: cover' crops


def _lint_svg(lt: Linter, a: Asset, p: Path) -> None:
    """An SVG picture: readable, sized, and only a picture (no script, no embedded HTML)."""
    if a.kind == "panorama":
        lt._add("error", a.where, f"panorama '{a.path}' is an SVG; a panorama is drawn as one "
                "texture of known pixels", "save it as PNG, JPEG or WebP", "asset")
        return
    try:
        svg = read_svg(p)
    except (OSError, SvgError) as err:
        lt._add("error", a.where, f"{a.kind} '{a.path}' cannot be read as an SVG: {err}",
                "export it again as a plain SVG, or save it as PNG, JPEG or WebP", "asset")
        return
    for what, line, col in svg.active:
        lt._add("error", a.where, f"{a.kind} '{a.path}' holds {what} at {a.path}:{line}:{col}; a "
                "picture must only be drawn, never run anything",
                "remove the script from the SVG, or export it again as a plain picture",
                "svg-script")
    if svg.width is None or svg.height is None:
        lt._add("error", a.where, f"{a.kind} '{a.path}' says neither its width and height nor "
                "a viewBox, so the browser cannot tell its shape",
                "add width=\"…\" height=\"…\" (or a viewBox) to its <svg> element",
                "asset")
        return
    # a drawing has no pixel budget: it is drawn at the size it is shown
    lint_image(lt, a, max(1, round(svg.width)), max(1, round(svg.height)), lt.orientations)


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
