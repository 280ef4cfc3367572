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
    #: Where the document's value starts (after leading comments); None when empty.
    start: Mark | None = None


_TIMESTAMP = "tag:yaml.org,2002:timestamp"


def _mark(node: yaml.Node, key: bool = False) -> Mark:
    m = node.start_mark
    return Mark(m.line + 1, m.column + 1)


def parse(text: str) -> Document:
    """Parse one YAML document; raises :class:`YamlProblem` with a position."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        raise explain(err, text) from err
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        column = err.position - (text.rfind("\n", 0, err.position) + 1) + 1
        raise YamlProblem(f"this line holds an invisible control character (#x{err.character:04x})"
                          if isinstance(err.character, int) else "this line holds a character "
                          "YAML does not allow", line, column, hint="delete it (copying text "
                          "from another program can bring such characters along)") from err
    except RecursionError as err:
        raise YamlProblem("the blocks here are nested too deeply", 0, 0,
                          hint="write fewer levels of nesting") from err
    except yaml.YAMLError as err:
        raise YamlProblem(f"this file cannot be read as YAML: {err}", 0, 0) from err
    doc = Document(None, {}, {})
    if root is None:
        return doc
    budget = [MAX_NODES]
    doc.start = _mark(root)
    doc.value = _convert(root, (), doc, budget, set())
    return doc


def _convert(node: yaml.Node, path: Path_, doc: Document, budget: list[int],
             active: set[int]) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlProblem("too many values after copying the *aliases in", *_pos(node),
                          code="yaml-aliases", hint="use fewer *aliases")
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    if id(node) in active:
        raise YamlProblem("this *alias refers to the block it sits in", *_pos(node),
                          code="yaml-aliases", hint="copy the values instead of using *alias")
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
                    raise YamlProblem("a key must be a plain word, not a list or a mapping",
                                      *_pos(knode), hint="write keys as 'name: value'")
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
                    raise YamlProblem(f"duplicate key '{key}'{where}", *_pos(knode),
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
            raise YamlProblem(f"'{v}' is not a whole number", *_pos(node),
                              hint=f'put it in quotes if it is text: "{v}"') from err
    if tag == "tag:yaml.org,2002:float":
        low = v.lower().lstrip("+")
        if low in (".inf", "-.inf", ".nan"):
            return float(low.replace(".", ""))
        try:
            return float(v)
        except ValueError as err:
            raise YamlProblem(f"'{v}' is not a number", *_pos(node),
                              hint=f'put it in quotes if it is text: "{v}"') from err
    if tag == _TIMESTAMP:
        return v
    raise YamlProblem(f"the tag '{tag}' is not supported here", *_pos(node),
                      code="yaml-tag", hint="remove the !tag and write a plain value")


def _pos(node: yaml.Node) -> tuple[int, int]:
    m = node.start_mark
    return m.line + 1, m.column + 1


# -- what the YAML parser says, in plain words ----------------------------------------

_INDENT = "this line is not indented like the lines around it, or a ':' is missing"
_INDENT_HINT = "line each key up, with spaces, under the other keys of its block, " \
    "and write each key as 'key: value'"
_QUOTE_IT = "put the text in quotes"


def explain(err: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """A parser error → a plain sentence and a fix, at the line a curator should look at.

    The parser's wording ("while parsing a block mapping did not find expected
    key") is for programmers; the position is kept, and moved to where the
    mistake starts when the parser notices it only later (an unclosed quote).
    """
    problem = str(err.problem or "")
    context = str(err.context or "")
    pm, cm = err.problem_mark, err.context_mark
    lines = text.splitlines()

    def at(mark: Any) -> tuple[int, int]:
        return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)

    def line_of(mark: Any) -> str:
        return lines[mark.line] if mark is not None and 0 <= mark.line < len(lines) else ""

    def char_at(mark: Any) -> str:
        s = line_of(mark)
        return s[mark.column] if mark is not None and 0 <= mark.column < len(s) else ""

    here = at(pm or cm)
    ch = char_at(pm)
    line = line_of(pm)
    before = line[: pm.column] if pm is not None else ""
    value = before.split(": ", 1)[1].strip() if ": " in before else ""

    def problem_(message: str, hint: str | None, where: tuple[int, int] = here,
                 code: str = "yaml-syntax") -> YamlProblem:
        return YamlProblem(message, *where, code=code, hint=hint)

    if "tab" in problem or (ch == "\t" and "cannot start any token" in problem):
        return problem_("a tab is used to indent this line", "indent with spaces, not tabs",
                        code="yaml-syntax")
    if "cannot start any token" in problem:
        return problem_(f"a value cannot start with '{ch}'",
                        f"{_QUOTE_IT}, e.g. \"{line[pm.column:].strip()}\"" if pm else _QUOTE_IT)
    if "mapping values are not allowed" in problem:
        if ": " in before.lstrip(" -"):
            key = before.lstrip(" -").split(": ", 1)[0]
            rest = line[len(before) - len(before.lstrip(" -")):].split(": ", 1)[1].strip()
            return problem_("this text holds ': ' (a colon and a space), which YAML reads "
                            "as the start of another key",
                            f"{_QUOTE_IT}: {key}: \"{rest}\"")
        indent = len(line) - len(line.lstrip(" -"))
        above = next((i for i in range(pm.line - 1, -1, -1)
                      if lines[i].strip() and not lines[i].lstrip().startswith("#")),
                     None) if pm is not None else None
        if above is not None:
            prev = lines[above]
            prev_indent = len(prev) - len(prev.lstrip(" -"))
            if indent > prev_indent:
                return problem_("this line is indented more than the line above it",
                                "line it up, with spaces, under the other keys of its block",
                                (here[0], indent + 1))
            if ":" not in prev:
                return problem_(f"'{prev.strip(' -')}' has no ':' after its key, so this line "
                                "reads as more of its text", "write 'key: value'",
                                (above + 1, prev_indent + 1))
        return problem_(_INDENT, _INDENT_HINT)
    if "did not find expected key" in problem:
        if ch == "-":
            return problem_("a list item ('- ') stands where a key was expected",
                            "indent the list under its key, or line this item up with the "
                            "other '- ' items")
        whole = line.split(": ", 1)[1].strip() if ": " in line else ""
        key = line.split(": ", 1)[0].strip(" -")
        if value[:1] in ("'", '"'):
            if whole[:1] == whole[-1:] == "'":
                example = '"' + whole[1:-1] + '"'
            elif whole[:1] == whole[-1:] == '"':
                example = "'" + whole[1:-1] + "'"
            else:
                example = "'" + whole.replace("'", "''") + "'"
            return problem_("the text goes on after its closing quote",
                            f"put the whole text in quotes of the other kind: {key}: {example}")
        if value[:1] in ("{", "["):
            return problem_(f"text that starts with '{value[0]}' is read as a "
                            f"{'mapping' if value[0] == '{' else 'list'}",
                            f"{_QUOTE_IT}: {key}: \"{whole}\"")
        return problem_(_INDENT, _INDENT_HINT)
    if "expected '-' indicator" in problem or "expected <block end>" in problem:
        return problem_("this line is not indented like the lines around it",
                        "line it up, with spaces, under the keys of the block it belongs "
                        "to, or start a new list item with '- '")
    if "could not find expected ':'" in problem:
        return problem_("this line has no ':' after its key",
                        "write 'key: value'; if the line goes on with the text of the line "
                        "above, indent it more, or put the whole text in quotes", at(cm or pm))
    if "quoted scalar" in context and "end of stream" in problem:
        return problem_("a quote opens here and is never closed",
                        "end the text with the same quote mark (\" or ')", at(cm or pm))
    if "unknown escape character" in problem or ("quoted scalar" in context
                                                  and "hexdecimal" in problem):
        return problem_("a '\\' inside double quotes starts an escape YAML does not know",
                        "use single quotes, or write \\\\ for a backslash")
    if "flow mapping" in context or "flow sequence" in context:
        opening, closing = ("{", "}") if "mapping" in context else ("[", "]")
        same = pm is not None and cm is not None and pm.line == cm.line
        hint = (f"close it with '{closing}' and separate entries with ','; text with "
                "{variables}, ',' or ': ' inside goes in quotes, e.g. "
                "en: \"Score: {score}\"")
        if same and ch in "{[":
            return problem_(f"'{ch}' inside '{opening} … {closing}' starts a new block here",
                            f"text that holds '{ch}' must be quoted, e.g. "
                            "en: \"Score: {score}\"")
        return problem_(f"the '{opening}' here is not closed, or a ',' is missing",
                        hint, here if same else at(cm))
    if "undefined alias" in problem:
        found = re.match(r"[^\s,:\[\]{}]*", line[pm.column + 1:]) if pm is not None else None
        name = found.group(0) if found else ""
        return problem_(f"'*{name}' refers to an anchor '&{name}' that is not defined",
                        "text that starts with '*' must be quoted; otherwise define the "
                        "&anchor before using *alias")
    if "scanning an alias" in context or "scanning an anchor" in context:
        mark = "*" if "alias" in context else "&"
        return problem_(f"text cannot start with '{mark}' unquoted", _QUOTE_IT, at(cm or pm))
    if "block scalar" in context:
        return problem_("'|' or '>' starts a block of text, and must end its line",
                        f"{_QUOTE_IT} if it starts with '|' or '>'", at(cm or pm))
    if "found unexpected ':'" in problem:
        return problem_("a ':' inside '{ … }' or '[ … ]' needs a space after it",
                        f"write 'key: value'; {_QUOTE_IT} if it holds ':'")
    if "scanning a tag" in context:
        return problem_("a value cannot start with '!'", _QUOTE_IT, at(cm or pm))
    if "block sequence entries are not allowed" in problem:
        return problem_("a list cannot start on the same line as its key",
                        "put each '- item' on its own line below the key, indented")
    if "directive" in context:
        return problem_("a line cannot start with '%'", _QUOTE_IT)
    if "another document" in problem or "<document start>" in problem:
        return problem_("a '---' or '...' line ends the document here",
                        "one file holds one document: remove that line")
    if "expected node content" in problem:
        return problem_("a value is missing here, or cannot start with this character",
                        _QUOTE_IT)
    what = " ".join(x for x in (context, problem) if x)
    return problem_(f"YAML cannot read this: {what}",
                    "check this line's indentation, and the quotes on the line before")
