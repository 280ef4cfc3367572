"""docs/events.md lists every event kind the code records, with its fields — and no others.

The source of truth is the code itself, read with :mod:`ast`: every call that
records an event names its kind as a string literal in one of four places —

- ``self._record("kind", {...})`` in the engine,
- ``rt.record("kind", field=...)`` / ``self.record(...)`` in the engine's
  Runtime and in scene types,
- ``store.station_event(t, "kind", field=...)`` in the station,
- ``self._operator("action", field=...)`` in the station (kind ``operator``).

A recording call whose kind is not a literal fails the test (so a kind cannot
hide in a variable), except in the functions that only pass a kind on.
The fields written in those calls (keywords, dict-literal keys) must be in the
kind's table; then a real recorded session over the demo and over an exhibit
with every scene type checks the fields that actually come out.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from showfloor.content.load import load
from showfloor.engine.simulate import simulate

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "showfloor"
DOC = ROOT / "docs" / "events.md"

#: functions that take a kind as a parameter and pass it on (file, function)
FORWARDERS = {("engine/session.py", "record"), ("engine/state.py", "_record"),
              ("content/scenes/base.py", "record"), ("station/store.py", "station_event"),
              ("competition/engine.py", "_record"), ("station/app.py", "_station_event")}


@dataclass
class Recorded:
    fields: set[str] = field(default_factory=set)
    places: list[str] = field(default_factory=list)
    open_fields: bool = False  # a ** in the call: fields not known statically


def _enclosing(tree: ast.AST) -> dict[ast.AST, str]:
    out: dict[ast.AST, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(fn):  # outer functions come first: the innermost wins
                out[node] = fn.name
    return out


def recorded_in_code() -> tuple[dict[str, Recorded], list[str]]:
    """Every kind recorded in the source, its fields, and calls whose kind is not a literal."""
    kinds: dict[str, Recorded] = {}
    hidden: list[str] = []
    files = [*sorted((SRC / "engine").rglob("*.py")), *sorted((SRC / "content").rglob("*.py")),
             *sorted((SRC / "station").rglob("*.py")),
             *sorted((SRC / "competition").rglob("*.py"))]
    for path in files:
        rel = path.relative_to(SRC).as_posix()
        station = rel.startswith("station/")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        within = _enclosing(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            if station and name == "station_event":
                kind_at = 1
            elif (name == "_operator") if station else (name in ("record", "_record")):
                kind_at = 0
            else:
                continue
            place = f"{rel}:{node.lineno}"
            if len(node.args) <= kind_at:
                hidden.append(place)
                continue
            arg = node.args[kind_at]
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                if (rel, within.get(node, "")) not in FORWARDERS:
                    hidden.append(place)
                continue
            kind = "operator" if name == "_operator" else arg.value
            rec = kinds.setdefault(kind, Recorded())
            rec.places.append(place)
            if name == "_operator":
                rec.fields.add("action")
            for kw in node.keywords:
                if kw.arg is None:
                    rec.open_fields = True
                else:
                    rec.fields.add(kw.arg)
            for extra in node.args[kind_at + 1:]:
                if isinstance(extra, ast.Dict):
                    for k in extra.keys:
                        if isinstance(k, ast.Constant) and isinstance(k.value, str):
                            rec.fields.add(k.value)
                        else:
                            rec.open_fields = True
    return kinds, hidden


_HEADING = re.compile(r"^### `([a-z_]+)`\s*$")
_ROW = re.compile(r"^\| `([A-Za-z0-9_]+)` \|")


def documented() -> tuple[dict[str, set[str]], set[str]]:
    """The kinds in docs/events.md with their fields, and the envelope's fields."""
    kinds: dict[str, set[str]] = {}
    envelope: set[str] = set()
    current: set[str] | None = None
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## The envelope"):
            current = envelope
            continue
        m = _HEADING.match(line)
        if m:
            assert m.group(1) not in kinds, f"docs/events.md lists '{m.group(1)}' twice"
            current = kinds[m.group(1)] = set()
            continue
        if line.startswith("## "):
            current = None
            continue
        m = _ROW.match(line)
        if m and current is not None:
            current.add(m.group(1))
    return kinds, envelope


def test_every_recording_call_names_its_kind() -> None:
    _, hidden = recorded_in_code()
    assert not hidden, ("these calls record an event whose kind is not a string literal, so "
                        f"docs/events.md cannot be checked against them: {hidden}")


def test_the_scan_finds_the_recording_calls() -> None:
    # guards the scanner itself: if these disappear, the patterns above went stale
    kinds, _ = recorded_in_code()
    for kind in ("session_started", "answered", "surface_joined", "operator", "error"):
        assert kind in kinds, kind


def test_every_recorded_kind_is_documented_and_every_documented_kind_is_recorded() -> None:
    code, _ = recorded_in_code()
    doc, _ = documented()
    missing = {k: v.places for k, v in code.items() if k not in doc}
    assert not missing, ("these event kinds are recorded but not in docs/events.md; add a "
                         f"'### `kind`' section with a table of fields: {missing}")
    stale = sorted(set(doc) - set(code))
    assert not stale, (f"docs/events.md lists {stale}, which nothing records; remove them "
                       "or fix the name")


def test_every_field_written_in_code_is_documented() -> None:
    code, _ = recorded_in_code()
    doc, _ = documented()
    for kind, rec in code.items():
        extra = rec.fields - doc.get(kind, set())
        assert not extra, (f"'{kind}' is recorded with {sorted(extra)} ({rec.places}), "
                           "which docs/events.md does not list for it")


def test_the_envelope_is_documented() -> None:
    _, envelope = documented()
    store = (SRC / "station" / "store.py").read_text(encoding="utf-8")
    table = store.split("CREATE TABLE IF NOT EXISTS events (", 1)[1].split(");", 1)[0]
    columns = {line.split()[0] for line in table.strip().splitlines()}
    columns -= {"uploaded"}  # the station's own bookkeeping, never sent
    assert columns <= envelope, sorted(columns - envelope)
    assert {"id", "boot", "source", "seq", "t", "wall", "kind", "session", "scene",
            "data"} <= envelope


def _helpers() -> Any:
    spec = importlib.util.spec_from_file_location("engine_helpers",
                                                  ROOT / "tests" / "engine" / "helpers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("exhibit", ["demo", "tiny", "measures"])
def test_recorded_sessions_carry_only_documented_fields(exhibit: str, tmp_path: Path) -> None:
    if exhibit in ("demo", "measures"):  # measures: a pre and a post quiz (lint aside)
        loaded = load(ROOT / "examples" / "drug-prevention" if exhibit == "demo" else
                      ROOT / "tests" / "corpus" / "measure-different-max-score")
        assert loaded.exhibit is not None, [str(p) for p in loaded.problems]
        ex = loaded.exhibit
    else:  # every built-in scene type
        ex = _helpers().load_exhibit(tmp_path / "tiny")
    doc, _ = documented()
    log = tmp_path / "events.jsonl"
    seen: dict[str, set[str]] = {}
    for profile in ("random", "diligent", "hurried"):
        simulate(ex, 40, profile=profile, seed=7, record=log)
        for line in log.read_text(encoding="utf-8").splitlines():
            e = json.loads(line)
            seen.setdefault(e["kind"], set()).update(e["data"])
    assert {"session_started", "scene_entered", "session_ended"} <= set(seen)
    if exhibit == "measures":
        assert {"role", "measure"} <= seen["quiz_completed"]
    for kind, fields in seen.items():
        assert kind in doc, f"a recorded session has '{kind}' events, not in docs/events.md"
        extra = fields - doc[kind]
        assert not extra, (f"recorded '{kind}' events carry {sorted(extra)}, which "
                           "docs/events.md does not list for it")


#: kinds recorded with ``**fields`` somewhere, and the function that names those fields
#: as literals (a tuple, or a dict's keys); ``operator``'s come from the ``_operator`` calls
OPEN = {"surface_metrics": ("station/app.py", "_metrics"),
        "answered": ("content/scenes/quiz.py", "_measure"),
        "quiz_completed": ("content/scenes/quiz.py", "_measure"),
        "kiosk": ("station/kioskwatch.py", "report_fields"),
        "operator": None}


def literal_names(rel: str, function: str) -> set[str]:
    tree = ast.parse((SRC / rel).read_text(encoding="utf-8"))
    fn = next(n for n in ast.walk(tree)
              if isinstance(n, ast.FunctionDef) and n.name == function)
    out: set[str] = set()
    for node in ast.walk(fn):
        items = node.elts if isinstance(node, ast.Tuple) else (
            node.keys if isinstance(node, ast.Dict) else [])
        out |= {e.value for e in items
                if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return out


def test_fields_passed_on_with_double_star_are_documented() -> None:
    # ``**fields`` hides names from the scan above: each place that does it is listed
    # in OPEN, with where the names are written down
    code, _ = recorded_in_code()
    doc, _ = documented()
    assert {k for k, v in code.items() if v.open_fields} == set(OPEN)
    for kind, where in OPEN.items():
        if where is None:
            continue
        names = literal_names(*where)
        assert names, f"{where} no longer names the fields of '{kind}' as literals"
        assert names <= doc[kind], (kind, sorted(names - doc[kind]))


def test_the_checks_catch_drift(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a page that drops one kind and invents another fails both ways
    text = DOC.read_text(encoding="utf-8")
    broken = tmp_path / "events.md"
    broken.write_text(text.replace("### `still_here`", "### `still_there`"), encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "DOC", broken)
    code, _ = recorded_in_code()
    doc, _ = documented()
    assert "still_here" in code and "still_here" not in doc and "still_there" not in code


def test_the_command_event_lists_every_command_the_hub_can_send() -> None:
    """The `command` event's kinds in the doc are fleet.COMMANDS, no more, no fewer (the
    `final` command was added without the doc's list following it)."""
    from showfloor import fleet

    section = DOC.read_text("utf-8").split("### `command`", 1)[1].split("\n### ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `command` |"))
    listed = re.findall(r"`([a-z_]+)`", row.split("its kind:", 1)[1])
    assert sorted(listed) == sorted(fleet.COMMANDS)
