"""Meta-tests: a curator who reads only docs/ finds every field, key, setting, budget
and exit code (as Datasette's tests/test_docs.py does for its plugin hooks).

What is read, and the shape the docs keep so it can be read reliably:

- A *field table* is a Markdown table whose header row starts ``| field |``. Each
  of its rows starts with a field's path in backticks: ``| `questions.image` | …``.
  A nested field's path joins the names with dots; list items and map values add
  no part of their own (``questions.choices.feedback``, ``variables.type``).
- docs/format.md: the fields every scene has, in the field table between
  ``## Scene types`` and the first ``### ``; each scene type's own fields under
  ``### `TYPE` ``; ``exhibit.yaml``'s under ``## `exhibit.yaml` ``; a definition
  used in many places once, in its own section (:data:`SHARED_DEFS`: a flow's
  branches under ``## Flow``, a picture's mapping under ``## Pictures``). The
  fields come from the JSON Schema that ``showfloor schema`` prints, walked for
  every scene type the registry holds (a plugin's scene type is held to the same
  rule). Every interface-string key (``ui:``) has a row ``| `key` |`` under
  ``### Interface strings (`ui`)``; every display kind a row ``| `kind` |``
  under ``## Media budgets``.
- docs/station.md: every station-profile key, in the field table under
  ``## Station profiles``.
- docs/hub.md: every hub setting, a row ``| `name` |`` under ``## Settings``.
- docs/cli.md: every exit status, a row ``| `N` |`` under ``## Exit codes``; every
  option of every command somewhere on the page.
- docs/simulate.md: every visitor profile, a row ``| `name` |``.

A row that names a field the schema does not have fails too: the docs may not
promise what the code does not do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, get_args

import pytest
import typer.main

from conftest import ROOT
from showfloor import cli
from showfloor.content.lint import BUDGETS
from showfloor.content.model import Exhibit, SceneBase
from showfloor.content.scenes import registry
from showfloor.content.schema import exhibit_schema
from showfloor.engine.simulate import PROFILES
from showfloor.hub.settings import SETTINGS
from showfloor.station.profile import DisplayKind, StationProfile
from showfloor.station.server import EXIT_RESTART

DOCS = ROOT / "docs"
#: Definitions documented once, in their own section of docs/format.md, not field by
#: field wherever they are used: a flow's branches ({when, goto}), a picture given as
#: a mapping ({src, alt, fit, …}).
SHARED_DEFS = {"Branch": "## Flow", "Image": "## Pictures"}
#: ``run()`` in cli.py exits 130 when interrupted (Ctrl-C), as shells do.
EXIT_INTERRUPTED = 130


# -- reading the docs ----------------------------------------------------------------

def read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def section(text: str, heading: str, *, until: str | None = None) -> str:
    """The lines under ``heading`` (a whole line), up to the next heading of the same
    or a higher level (or up to the first line starting with ``until``)."""
    lines = text.splitlines()
    try:
        start = lines.index(heading)
    except ValueError:
        pytest.fail(f"the docs have no heading {heading!r}")
    level = len(heading) - len(heading.lstrip("#"))
    out: list[str] = []
    for line in lines[start + 1:]:
        if until is not None and line.startswith(until):
            break
        m = re.match(r"^(#+) ", line)
        if m and len(m.group(1)) <= level:
            break
        out.append(line)
    return "\n".join(out)


def table_rows(text: str, header: str) -> list[str]:
    """The first-cell names (in backticks) of every table whose header starts with
    ``| HEADER |``."""
    names: list[str] = []
    inside = False
    for line in text.splitlines():
        if re.match(rf"^\|\s*{re.escape(header)}\s*\|", line):
            inside = True
            continue
        if inside and not line.startswith("|"):
            inside = False
        if inside:
            m = re.match(r"^\|\s*`([^`]+)`\s*\|", line)
            if m:
                names.append(m.group(1))
    return names


# -- walking the schema -------------------------------------------------------------

def field_paths(node: dict[str, Any], defs: dict[str, Any], prefix: str = "",
                stop: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every field path under a JSON Schema node: ``a``, ``a.b``, … (list items and
    map values add no part; ``stop`` names fields not to descend into)."""
    seen: set[str] = set()

    def walk(n: dict[str, Any], pre: str, refs: tuple[str, ...]) -> Iterator[str]:
        while "$ref" in n:
            name = n["$ref"].rsplit("/", 1)[-1]
            if name in SHARED_DEFS or name in refs:
                return
            refs = (*refs, name)
            n = defs[name]
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            for alt in n.get(key, []):
                yield from walk(alt, pre, refs)
        if isinstance(n.get("items"), dict):
            yield from walk(n["items"], pre, refs)
        for sub in [n.get("additionalProperties"), *n.get("patternProperties", {}).values()]:
            if isinstance(sub, dict):
                yield from walk(sub, pre, refs)
        for name, sub in n.get("properties", {}).items():
            path = f"{pre}.{name}" if pre else name
            if path not in seen:
                seen.add(path)
                yield path
            if path not in stop:
                yield from walk(sub, path, refs)

    yield from walk(node, prefix, ())


SCHEMA = exhibit_schema()
DEFS: dict[str, Any] = SCHEMA.get("$defs", {})
SCENE_MAPPING: dict[str, str] = SCHEMA["properties"]["scenes"]["items"]["discriminator"]["mapping"]
COMMON = set(SceneBase.model_fields)


def scene_fields(name: str) -> list[str]:
    """A scene type's own fields (those every scene has are documented once)."""
    node = {"$ref": SCENE_MAPPING[name]}
    return [p for p in field_paths(node, DEFS) if p not in COMMON]


def format_md() -> str:
    return read("format.md")


def scene_section(name: str) -> str:
    return section(format_md(), f"### `{name}`")


def missing_message(page: str, what: str, missing: list[str], where: str) -> str:
    rows = "\n".join(f"  | `{m}` | … |" for m in missing)
    return (f"docs/{page} does not document {what}: {', '.join(missing)}. Add a row for "
            f"each to the field table under {where!r} (a table whose header starts "
            f"'| field |'):\n{rows}")


# -- content fields (docs/format.md) ---------------------------------------------

def test_the_schema_holds_every_registered_scene_type() -> None:
    assert set(SCENE_MAPPING) == set(registry()), \
        "showfloor schema and the scene-type registry disagree"


@pytest.mark.parametrize("scene_type", sorted(registry()))
def test_every_field_of_every_scene_type_is_documented(scene_type: str) -> None:
    documented = set(table_rows(scene_section(scene_type), "field"))
    missing = [p for p in scene_fields(scene_type) if p not in documented]
    assert not missing, missing_message("format.md", f"these fields of scene type "
                                        f"'{scene_type}'", missing, f"### `{scene_type}`")


@pytest.mark.parametrize("scene_type", sorted(registry()))
def test_no_scene_type_documents_a_field_it_lacks(scene_type: str) -> None:
    real = set(scene_fields(scene_type)) | COMMON
    extra = [p for p in table_rows(scene_section(scene_type), "field") if p not in real]
    assert not extra, (f"docs/format.md documents fields of scene type '{scene_type}' "
                       f"that its schema does not have: {', '.join(extra)}; remove or "
                       "rename those rows")


@pytest.mark.parametrize("name", sorted(SHARED_DEFS))
def test_every_field_of_a_shared_definition_is_documented(name: str) -> None:
    if name not in DEFS:
        pytest.skip(f"no field uses '{name}' (yet)")
    heading = SHARED_DEFS[name]
    real = list(field_paths(DEFS[name], DEFS))
    documented = table_rows(section(format_md(), heading), "field")
    missing = [p for p in real if p not in documented]
    assert not missing, missing_message("format.md", f"these fields of '{name}'", missing,
                                        heading)
    extra = [p for p in documented if p not in real]
    assert not extra, f"docs/format.md {heading!r} documents fields that do not exist: {extra}"


def test_the_fields_every_scene_has_are_documented() -> None:
    common = section(format_md(), "## Scene types", until="### ")
    documented = table_rows(common, "field")
    missing = [p for p in SceneBase.model_json_schema()["properties"] if p not in documented]
    assert not missing, missing_message("format.md", "these fields every scene has",
                                        missing, "## Scene types")
    assert set(documented) <= COMMON, f"not fields of every scene: {set(documented) - COMMON}"


def test_every_field_of_exhibit_yaml_is_documented() -> None:
    real = list(field_paths(SCHEMA, DEFS, stop=frozenset({"scenes"})))
    # 'knowledge' is read from knowledge/*.yaml, not written in exhibit.yaml (docs/ask.md)
    assert set(Exhibit.model_fields) - {"knowledge"} <= set(real)
    documented = table_rows(section(format_md(), "## `exhibit.yaml`"), "field")
    missing = [p for p in real if p not in documented]
    assert not missing, missing_message("format.md", "these fields of exhibit.yaml",
                                        missing, "## `exhibit.yaml`")
    extra = [p for p in documented if p not in real]
    assert not extra, f"docs/format.md documents exhibit.yaml fields that do not exist: {extra}"


def test_every_interface_string_is_documented() -> None:
    from showfloor.engine.state import NOTICE_STRINGS, UI_STRINGS

    documented = table_rows(section(format_md(), "### Interface strings (`ui`)"), "key")
    missing = [k for k in [*UI_STRINGS, *NOTICE_STRINGS] if k not in documented]
    assert not missing, ("docs/format.md '### Interface strings (`ui`)' lacks a row for: "
                         f"{', '.join(missing)}")


def test_the_walk_finds_nested_fields() -> None:
    # the walk itself: a nested list-of-models field and a map of models are reached
    assert "questions.choices.feedback" in scene_fields("quiz")
    assert "timeline.keyframes.material.base_color" in scene_fields("model")
    assert "variables.type" in field_paths(SCHEMA, DEFS, stop=frozenset({"scenes"}))
    assert "next.goto" not in scene_fields("media")  # flows are documented under "## Flow"


# -- station profiles (docs/station.md) ---------------------------------------------

def test_every_station_profile_key_is_documented() -> None:
    real = list(field_paths(StationProfile.model_json_schema(),
                            StationProfile.model_json_schema().get("$defs", {})))
    documented = table_rows(section(read("station.md"), "## Station profiles"), "field")
    missing = [p for p in real if p not in documented]
    assert not missing, missing_message("station.md", "these station-profile keys", missing,
                                        "## Station profiles")
    extra = [p for p in documented if p not in real]
    assert not extra, f"docs/station.md documents profile keys that do not exist: {extra}"


# -- settings, budgets, profiles of simulated visitors --------------------------------

def test_every_hub_setting_is_documented() -> None:
    documented = table_rows(section(read("hub.md"), "## Settings"), "name")
    missing = [name for name, *_ in SETTINGS if name not in documented]
    assert not missing, f"docs/hub.md '## Settings' lacks a row for: {', '.join(missing)}"


def test_every_display_kind_has_its_media_budgets_documented() -> None:
    documented = table_rows(section(format_md(), "## Media budgets"), "display")
    kinds = set(BUDGETS) | set(get_args(DisplayKind))
    missing = sorted(k for k in kinds if k not in documented)
    assert not missing, f"docs/format.md '## Media budgets' lacks a row for: {', '.join(missing)}"


def test_every_simulated_visitor_profile_is_documented() -> None:
    documented = table_rows(read("simulate.md"), "profile")
    missing = [p for p in PROFILES if p not in documented]
    assert not missing, f"docs/simulate.md lacks a row for profile(s): {', '.join(missing)}"


# -- the command (docs/cli.md) --------------------------------------------------------

def test_every_exit_status_is_documented() -> None:
    codes = {0, EXIT_RESTART, EXIT_INTERRUPTED}
    codes |= {v for k, v in vars(cli).items() if k.startswith("EXIT_") and isinstance(v, int)}
    documented = table_rows(section(read("cli.md"), "## Exit codes"), "status")
    missing = sorted(c for c in codes if str(c) not in documented)
    assert not missing, f"docs/cli.md '## Exit codes' lacks a row for: {missing}"


def _options(command: Any, path: str = "showfloor") -> Iterator[tuple[str, str]]:
    """Every option of a command and its subcommands. (Duck-typed: newer typer
    releases carry their own copy of click.)"""
    for param in command.params:
        for opt in param.opts:  # not the --no-X twins typer makes for flags
            if opt.startswith("-") and opt != "--help":
                yield path, opt
    for name, sub in (getattr(command, "commands", None) or {}).items():
        yield from _options(sub, f"{path} {name}")


def test_every_option_of_every_command_is_documented() -> None:
    page = read("cli.md")
    missing = [f"{path} {opt}" for path, opt in _options(typer.main.get_command(cli.app))
               if not re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", page)]
    assert not missing, f"docs/cli.md never mentions: {', '.join(missing)}"
