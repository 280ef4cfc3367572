"""YAML → plain Python values, with the line and column of every key and value.

PyYAML composes the node tree (through libyaml's C parser where available,
which is ~20× faster than a pure-Python parser); this module turns nodes into
values and remembers where each one was. Aliases are expanded with a budget
(no "billion laughs"), recursive aliases and duplicate keys are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import yaml

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class _Loader(_Base):  # type: ignore[misc]
    """YAML 1.2 core-schema scalars: ``yes``, ``no``, ``on``, ``off`` stay text
    (curators write ``en: Yes``), ``1:30`` is not sexagesimal, ``012`` is twelve."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # Plain scalars are typed later, in _scalar (one regex, no per-node resolver walk).
        if kind is yaml.ScalarNode and implicit[0]:
            return _PLAIN
        return str(super().resolve(kind, value, implicit))


_CORE = [
    ("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
     list("tTfF")),
    ("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
     list("-+0123456789")),
    ("tag:yaml.org,2002:float", re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"), list("-+.0123456789")),
    ("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]),
]
for _tag, _regexp, _first in _CORE:
    _Loader.add_implicit_resolver(_tag, _regexp, _first)

Path_ = tuple[str | int, ...]
#: Expanding aliases may not create more nodes than this.
MAX_NODES = 2_000_000


@dataclass(frozen=True, slots=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


class YamlProblem(Exception):
    """A YAML file that cannot be read as data, at a line and column."""

    def __init__(self, message: str, line: int, column: int, code: str = "yaml-syntax",
                 hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code
        self.hint = hint


@dataclass
class Document:
    value: Any
    keys: dict[Path_, Mark]
    values: dict[Path_, Mark]


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _mark(node: yaml.Node, key: bool = False) -> Mark:
    m = node.start_mark
    return Mark(m.line + 1, m.column + 1)


def parse(text: str) -> Document:
    """Parse one YAML document; raises :class:`YamlProblem` with a position."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = " ".join(str(x) for x in (err.context, err.problem) if x)
        raise YamlProblem(f"YAML: {what}", mark.line + 1 if mark else 0,
                          mark.column + 1 if mark else 0) from err
    except (yaml.YAMLError, RecursionError) as err:
        raise YamlProblem(f"YAML: {err}", 0, 0) from err
    doc = Document(None, {}, {})
    if root is None:
        return doc
    budget = [MAX_NODES]
    doc.value = _convert(root, (), doc, budget, set())
    return doc


def _convert(node: yaml.Node, path: Path_, doc: Document, budget: list[int],
             active: set[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlProblem("YAML: too many nodes after expanding aliases", *_pos(node),
                          code="yaml-aliases", hint="use fewer *aliases")
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if id(node) in active:
        raise YamlProblem("YAML: an alias refers to itself", *_pos(node), code="yaml-aliases")
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            out_list = []
            for i, item in enumerate(node.value):
                doc.values[(*path, i)] = _mark(item)
                out_list.append(_convert(item, (*path, i), doc, budget, active))
            return out_list
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for knode, vnode in node.value:
                key = _convert(knode, path, doc, budget, active)
                if isinstance(key, (list, dict)):
                    raise YamlProblem("YAML: a key must be a plain value", *_pos(knode))
                if key is None:
                    key = "null"
                if not isinstance(key, (str, int)):
                    key = str(key)
                if key == "<<" and knode.tag == "tag:yaml.org,2002:merge":
                    merged = _convert(vnode, path, doc, budget, active)
                    for m in merged if isinstance(merged, list) else [merged]:
                        if isinstance(m, dict):
                            for k, v in m.items():
                                out.setdefault(k, v)
                    continue
                if key in out:
                    first = doc.keys.get((*path, key))
                    where = f" (first at line {first.line})" if first else ""
                    raise YamlProblem(f"YAML: duplicate key '{key}'{where}", *_pos(knode),
                                      code="yaml-duplicate-key",
                                      hint="each key may appear once in a mapping; "
                                      "remove or rename one")
                doc.keys[(*path, key)] = _mark(knode)
                doc.values[(*path, key)] = _mark(vnode)
                out[key] = _convert(vnode, (*path, key), doc, budget, active)
            return out
    finally:
        active.discard(id(node))
    return None


_PLAIN = "!showfloor/plain"
_PLAIN_RES = [(tag, regexp) for tag, regexp, _ in _CORE]


def _scalar(node: yaml.ScalarNode) -> Any:
    tag, v = node.tag, node.value
    if tag == _PLAIN:
        tag = "tag:yaml.org,2002:str"
        if not v or v[0] in "-+.0123456789~tTfFnN":
            for candidate, regexp in _PLAIN_RES:
                if regexp.match(v):
                    tag = candidate
                    break
    if tag == "tag:yaml.org,2002:str":
        return v
    if tag == "tag:yaml.org,2002:bool":
        return v.lower() == "true"
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:int":
        try:
            if v.startswith("0o"):
                return int(v[2:], 8)
            return int(v, 16) if v.startswith("0x") else int(v, 10)
        except ValueError as err:
            raise YamlProblem(f"YAML: '{v}' is not a whole number", *_pos(node)) from err
    if tag == "tag:yaml.org,2002:float":
        low = v.lower().lstrip("+")
        if low in (".inf", "-.inf", ".nan"):
            return float(low.replace(".", ""))
        try:
            return float(v)
        except ValueError as err:
            raise YamlProblem(f"YAML: '{v}' is not a number", *_pos(node)) from err
    if tag == _TIMESTAMP:
        return v
    raise YamlProblem(f"YAML: the tag '{tag}' is not supported here", *_pos(node),
                      code="yaml-tag", hint="remove the !tag and write a plain value")


def _pos(node: yaml.Node) -> tuple[int, int]:
    m = node.start_mark
    return m.line + 1, m.column + 1
