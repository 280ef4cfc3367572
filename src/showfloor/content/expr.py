"""The small, safe expression language of exhibit conditions and assignments.

Conditions (``when: refused and score >= 2``) and assignment values
(``set: {score: score + 1}``) are written in a tiny language that looks like
Python but is *parsed*, never executed: the text goes through
``ast.parse(text, mode="eval")`` and only a whitelist of node types is
accepted. The accepted tree is compiled into plain Python closures, so
evaluating an expression costs a few function calls (``score >= 2`` becomes a
single small closure that reads ``env["score"]``).

The language
============

* values: integers (``3``, ``1_000``), decimals (``0.5``), text in quotes
  (``'calm'`` or ``"calm"``), ``true`` / ``false`` (also ``True`` / ``False``);
* variable names (``score``), read from the environment the engine passes;
* arithmetic ``+ - * / // %`` and unary ``-`` / ``+``; ``+`` also joins two
  texts;
* comparisons ``== != < <= > >=``, which may be chained (``0 < x < 5``);
* ``and``, ``or``, ``not`` and parentheses, with Python's precedence
  (``not a and b`` is ``(not a) and b``; ``1 + 2 * 3`` is 7).

Newlines (YAML folded text) count as spaces; leading and trailing whitespace
is ignored; an expression may be at most 500 characters long.

Everything else -- function calls, attributes, indexing, lambdas,
comprehensions, ``**``, bit operators, ``is``, ``in``, f-strings, ``:=`` and
so on -- is rejected with an :class:`~showfloor.errors.ExpressionError` that
names what was found and what is allowed. Common slips from other languages
(``&&``, ``||``, ``!``, a single ``=``, ``=>``) get a hint.

Run-time rules
==============

Expressions never crash a running exhibit on ordinary data:

* ``/``, ``//`` and ``%`` by zero give 0 (``0.0`` for ``/``, or when either
  side is a decimal, so the result type does not change);
* an ordering comparison of values that cannot be ordered (``'calm' < 3``)
  is ``false``; ``==`` between different types is simply ``false``;
* ``and``, ``or`` and ``not`` always give ``true`` or ``false`` (never one of
  their operands, unlike Python).

Arithmetic on the wrong types (``mood - 1`` with a text ``mood``) raises an
:class:`ExpressionError` naming the values; ``static_type`` lets a linter
catch that before the exhibit runs. Text cannot be multiplied (``'ab' * 3``)
or used with ``%``, so an expression cannot build huge strings.
"""

from __future__ import annotations

import ast
import difflib
import operator
import re
import unicodedata
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeAlias

from showfloor.errors import ExpressionError

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "Env", "Expr", "Value", "parse", "static_type"]

Value: TypeAlias = int | float | str | bool
Env: TypeAlias = Mapping[str, Value]

MAX_LENGTH = 500
"""The longest expression text accepted, in characters (surrounding blanks excluded)."""

MAX_DEPTH = 200
"""How many operations may sit inside one another."""

# Internally values are handled as ``Any``: every operator below is guarded
# at run time, and mypy cannot follow that.
_Fn: TypeAlias = Callable[[Mapping[str, Any]], Any]
_Fail: TypeAlias = Callable[[Any, Any, BaseException], ExpressionError]

_ALLOWED = (
    "use comparisons (== != < <= > >=), arithmetic (+ - * / // %), "
    "and/or/not, and parentheses"
)
_BOOL_NAMES = {"true": True, "false": False}
_VALUE_TYPES: tuple[type, ...] = (bool, int, float, str)


@dataclass(frozen=True, slots=True)
class Expr:
    """A parsed expression.

    ``fn(env)`` is the compiled closure (fastest; a missing variable raises
    ``KeyError``); calling the ``Expr`` itself turns that into an
    :class:`ExpressionError`.
    """

    text: str
    names: frozenset[str]
    fn: Callable[[Env], Value]

    def __call__(self, env: Env) -> Value:
        try:
            return self.fn(env)
        except KeyError as error:
            raise self._missing(error) from None

    def truth(self, env: Env) -> bool:
        """The value as a condition: ``bool(self.fn(env))``."""
        try:
            return bool(self.fn(env))
        except KeyError as error:
            raise self._missing(error) from None

    def _missing(self, error: KeyError) -> ExpressionError:
        name = str(error.args[0]) if error.args else "?"
        match = re.search(rf"(?<!\w){re.escape(name)}(?!\w)", self.text)
        return ExpressionError(
            f"variable {name!r} has no value when evaluating {_clip(self.text)!r}",
            offset=match.start() if match else 0,
            hint="every variable an expression reads must be declared under 'variables:'",
        )


def parse(
    text: str | int | float | bool,
    known: Collection[str] | None = None,
) -> Expr:
    """Parse and compile an expression.

    ``text`` may also be a plain YAML value (``3``, ``true``), which becomes a
    constant expression. When ``known`` is given, every variable the
    expression reads must be in it. Raises :class:`ExpressionError`, with
    ``offset`` the 0-based character offset of the problem in ``text``.
    """
    if isinstance(text, bool):
        return _constant_expr("true" if text else "false", text)
    if isinstance(text, int | float):
        return _constant_expr(repr(text), text)
    if not isinstance(text, str):
        raise ExpressionError(
            f"expected an expression, a number, text or true/false, "
            f"not {type(text).__name__} {_clip(repr(text))}",
            hint="write a condition such as: score >= 2",
        )
    body, lead, tree = _prepare(text)
    compiler = _Compiler(text, body, lead, known)
    node = compiler.compile(tree.body)
    return Expr(text, frozenset(compiler.names), node.fn)


def static_type(expr: Expr, types: Mapping[str, type]) -> type | None:
    """The type (bool, int, float or str) ``expr`` evaluates to, or None if unknown.

    ``types`` maps variable names to their declared types. None also means
    the expression would fail at run time (``'a' - 1``).
    """
    if not expr.names:  # a constant: everything was folded at parse time
        try:
            value = expr.fn({})
        except (ExpressionError, KeyError):
            return None
        return type(value) if type(value) in _VALUE_TYPES else None
    try:
        _, _, tree = _prepare(expr.text)
    except ExpressionError:
        return None
    return _infer(tree.body, types)


# --------------------------------------------------------------------------
# Reading the text


def _constant_expr(text: str, value: Value) -> Expr:
    return Expr(text, frozenset(), _const_fn(value))


def _prepare(text: str) -> tuple[str, int, ast.Expression]:
    """Check and parse ``text``: (stripped body, offset of the body, tree)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ExpressionError(
            "the expression contains a character that is not valid text",
            offset=error.start,
        ) from None
    # Newlines are spaces (YAML folded text); same length, so offsets hold.
    flat = text.translate(_NEWLINES)
    body = flat.strip()
    lead = len(flat) - len(flat.lstrip())
    if not body:
        raise ExpressionError(
            "the expression is empty",
            offset=0,
            hint="write a condition such as: score >= 2",
        )
    if len(body) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(body)} characters long; the limit is {MAX_LENGTH}",
            offset=lead + MAX_LENGTH,
            hint="compute parts of it into variables with 'set:' and combine those",
        )
    nul = body.find("\0")
    if nul >= 0:
        raise ExpressionError(
            "the expression contains a NUL character", offset=lead + nul
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(body, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(body, lead, error) from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError(
            f"the expression {_clip(body)!r} cannot be read", offset=lead, hint=_ALLOWED
        ) from None
    _check_depth(tree, body, lead)
    return body, lead, tree


_NEWLINES = str.maketrans({"\n": " ", "\r": " ", "\v": " "})


def _check_depth(tree: ast.Expression, body: str, lead: int) -> None:
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ExpressionError(
                f"the expression {_clip(body)!r} is too complex: more than "
                f"{MAX_DEPTH} operations inside one another",
                offset=lead,
                hint="compute parts of it into variables with 'set:' and combine those",
            )
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1 if isinstance(child, ast.expr) else depth))


# Slips from other languages, found outside string literals.
_MISTAKES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"&&"), "'&&' is not an operator here", "use 'and' to require both"),
    (re.compile(r"\|\|"), "'||' is not an operator here", "use 'or' to accept either"),
    (re.compile(r"=>"), "'=>' is not an operator here", "use '>=' for 'at least'"),
    (re.compile(r"=<"), "'=<' is not an operator here", "use '<=' for 'at most'"),
    (re.compile(r"<>"), "'<>' is not an operator here", "use '!=' for 'not equal'"),
    (re.compile(r":="), "':=' cannot be used in an expression", "use '==' to compare"),
    (re.compile(r"!(?!=)"), "'!' is not an operator here", "use 'not' to negate"),
    (
        re.compile(r"(?<![=!<>:])=(?!=)"),
        "a single '=' cannot be used in an expression",
        "use '==' to compare; assignments go under 'set:'",
    ),
    (
        re.compile(r"\b(?!(?:and|or|not)\b)(?i:and|or|not)\b"),
        "'{0}' must be written in lowercase",
        "write '{1}'",
    ),
)
_STRING = re.compile(r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?""", re.DOTALL)
_TRAILING_OP = re.compile(r"(==|!=|<=|>=|//|<|>|\+|-|\*|/|%|\(|\band|\bor|\bnot)\s*$")
_TOKEN = re.compile(r"\w+|==|!=|<=|>=|//|\S")
_CURLY_QUOTES = "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u300c\u300d"


def _mask_strings(body: str) -> str:
    return _STRING.sub(lambda m: " " * len(m.group()), body)


def _mistake(body: str) -> tuple[int, str, str] | None:
    masked = _mask_strings(body)
    found: tuple[int, str, str] | None = None
    for pattern, message, hint in _MISTAKES:
        match = pattern.search(masked)
        if match and (found is None or match.start() < found[0]):
            word = match.group()
            found = (
                match.start(),
                message.format(word),
                hint.format(word, word.lower()),
            )
    return found


def _syntax_error(body: str, lead: int, error: SyntaxError) -> ExpressionError:
    """Translate Python's SyntaxError into plain words with a character offset."""
    message = error.msg or "invalid syntax"
    # SyntaxError.offset is 1-based, in characters; 0 or None means "at the end".
    pos = (error.offset - 1) if error.offset and error.lineno == 1 else len(body)
    pos = max(0, min(pos, len(body)))
    shown = _clip(body)

    if "was never closed" in message:
        opener = message[1] if len(message) > 1 else "("
        closer = {"(": ")", "[": "]", "{": "}"}.get(opener, ")")
        return ExpressionError(
            f"the {opener!r} in {shown!r} is never closed",
            lead + pos,
            f"add a matching {closer!r}",
        )
    if message.startswith(("unmatched", "closing parenthesis")):
        return ExpressionError(
            f"the {body[pos : pos + 1]!r} in {shown!r} has no matching opening bracket",
            lead + pos,
            "remove it, or add the opening bracket it closes",
        )
    if "unterminated string" in message or "EOL while scanning" in message:
        return ExpressionError(
            f"the text in quotes in {shown!r} is never closed",
            lead + pos,
            "end it with the same quote it starts with: 'like this'",
        )
    if message.startswith("invalid") and "character" in message and pos < len(body):
        char = body[pos]
        plain = unicodedata.normalize("NFKC", char)
        if char in _CURLY_QUOTES:
            hint = "use straight quotes ' or \" around text"
        elif plain != char and plain.isascii():
            hint = f"{char!r} is a full-width character; type {plain!r} instead"
        else:
            hint = _ALLOWED
        return ExpressionError(
            f"the character {char!r} (U+{ord(char):04X}) cannot be used here",
            lead + pos,
            hint,
        )
    if "f-string" in message:
        return ExpressionError(
            f"f-strings are not allowed in an expression: {shown!r}",
            lead + pos,
            _ALLOWED,
        )
    if "'if' expression" in message:
        return ExpressionError(
            f"conditional expressions ('… if … else …') are not allowed: {shown!r}",
            lead + pos,
            "use separate branches, each with its own 'when'",
        )
    if "nested parentheses" in message:
        return ExpressionError(
            f"the expression {shown!r} has too many nested parentheses", lead + pos
        )

    slip = _mistake(body)
    if slip is not None:
        return ExpressionError(slip[1], lead + slip[0], slip[2])
    if "decimal literal" in message:
        return ExpressionError(
            f"a number runs into letters in {shown!r}",
            lead + pos,
            "put a space or an operator between them; names cannot start with a digit",
        )
    if pos >= len(body):
        trailing = _TRAILING_OP.search(body)
        hint = f"expected a value after {trailing.group(1)!r}" if trailing else _ALLOWED
        return ExpressionError(
            f"the expression {shown!r} is incomplete", lead + len(body), hint
        )
    token_match = _TOKEN.match(body, pos)
    token = token_match.group() if token_match else body[pos]
    before = body[:pos].rstrip()
    if (
        before
        and (before[-1].isalnum() or before[-1] in "_'\")")
        and (token[0].isalnum() or token[0] in "_'\"(")
    ):
        hint = f"expected an operator such as 'and', '==' or '+' before {token!r}"
    else:
        hint = _ALLOWED
    return ExpressionError(f"unexpected {token!r} in {shown!r}", lead + pos, hint)


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------
# Compiling


@dataclass(frozen=True, slots=True)
class _Node:
    fn: _Fn
    const: bool = False
    value: Any = None
    name: str | None = None  # set when the node just reads a variable
    boolean: bool = False  # always evaluates to a bool


def _const_node(value: Any) -> _Node:
    return _Node(
        _const_fn(value), const=True, value=value, boolean=isinstance(value, bool)
    )


def _const_fn(value: Any) -> _Fn:
    return lambda env: value


# What each rejected construct is called, and a hint where one helps.
_FORBIDDEN: dict[type[ast.AST], tuple[str, str]] = {
    ast.Call: ("function calls are", _ALLOWED),
    ast.Attribute: ("attributes ('.') are", _ALLOWED),
    ast.Subscript: ("indexing ('[…]') is", _ALLOWED),
    ast.Slice: ("slices are", _ALLOWED),
    ast.Lambda: ("lambdas are", _ALLOWED),
    ast.IfExp: (
        "conditional expressions ('… if … else …') are",
        "use separate branches, each with its own 'when'",
    ),
    ast.NamedExpr: (
        "assignments (':=') are",
        "use '==' to compare; assignments go under 'set:'",
    ),
    ast.ListComp: ("comprehensions are", _ALLOWED),
    ast.SetComp: ("comprehensions are", _ALLOWED),
    ast.DictComp: ("comprehensions are", _ALLOWED),
    ast.GeneratorExp: ("comprehensions are", _ALLOWED),
    ast.List: ("lists ('[…]') are", _ALLOWED),
    ast.Tuple: ("tuples (values separated by commas) are", _ALLOWED),
    ast.Set: ("sets ('{…}') are", _ALLOWED),
    ast.Dict: ("dictionaries ('{…}') are", _ALLOWED),
    ast.JoinedStr: ("f-strings are", "write plain text in quotes"),
    ast.FormattedValue: ("f-strings are", "write plain text in quotes"),
    ast.Await: ("'await' is", _ALLOWED),
    ast.Yield: ("'yield' is", _ALLOWED),
    ast.YieldFrom: ("'yield' is", _ALLOWED),
    ast.Starred: ("'*' unpacking is", _ALLOWED),
}

_BINARY_FORBIDDEN: dict[type[ast.operator], tuple[str, str, str]] = {
    ast.Pow: ("**", "powers ('**') are", "multiply instead: x * x"),
    ast.BitAnd: ("&", "the bit operator '&' is", "use 'and' to require both"),
    ast.BitOr: ("|", "the bit operator '|' is", "use 'or' to accept either"),
    ast.BitXor: ("^", "the bit operator '^' is", "use '!=' for 'either but not both'"),
    ast.LShift: ("<<", "bit shifts ('<<') are", _ALLOWED),
    ast.RShift: (">>", "bit shifts ('>>') are", _ALLOWED),
    ast.MatMult: ("@", "the operator '@' is", _ALLOWED),
}

_COMPARE_FORBIDDEN: dict[type[ast.cmpop], tuple[str, str, str]] = {
    ast.Is: ("is", "'is' is", "use '==' to compare"),
    ast.IsNot: ("is", "'is not' is", "use '!=' to compare"),
    ast.In: ("in", "'in' is", "compare with '==' and combine with 'or'"),
    ast.NotIn: ("not", "'not in' is", "compare with '!=' and combine with 'and'"),
}


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, str) or isinstance(b, str):  # no 'ab' * 10**9
        raise TypeError
    return a * b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):  # no '%s' formatting
        raise TypeError
    return a % b


_BINARY: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", _mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", _mod),
}


def _zero(op: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """What division by zero gives: 0, or 0.0 where the result would be a float."""
    if op is operator.truediv or isinstance(a, float) or isinstance(b, float):
        return 0.0
    return 0


def _apply(op: Callable[[Any, Any], Any], a: Any, b: Any, fail: _Fail) -> Any:
    try:
        return op(a, b)
    except ZeroDivisionError:
        return _zero(op, a, b)
    except (TypeError, OverflowError) as error:
        raise fail(a, b, error) from None


def _arith(op: Callable[[Any, Any], Any], lf: _Fn, rf: _Fn, fail: _Fail) -> _Fn:
    def arith(env: Mapping[str, Any]) -> Any:
        a = lf(env)
        b = rf(env)
        try:
            return op(a, b)
        except ZeroDivisionError:
            return _zero(op, a, b)
        except (TypeError, OverflowError) as error:
            raise fail(a, b, error) from None

    return arith


def _add_name_const(n: str, c: Any, fail: _Fail) -> _Fn:
    def add(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] + c
        except (TypeError, OverflowError) as error:
            raise fail(env[n], c, error) from None

    return add


def _sub_name_const(n: str, c: Any, fail: _Fail) -> _Fn:
    def sub(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] - c
        except (TypeError, OverflowError) as error:
            raise fail(env[n], c, error) from None

    return sub


# Comparisons. == and != never raise between these types; the ordering ones
# give False for values that cannot be ordered.


def _eq_nc(n: str, c: Any) -> _Fn:
    return lambda env: env[n] == c


def _ne_nc(n: str, c: Any) -> _Fn:
    return lambda env: env[n] != c


def _lt_nc(n: str, c: Any) -> _Fn:
    def lt(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] < c
        except TypeError:
            return False

    return lt


def _le_nc(n: str, c: Any) -> _Fn:
    def le(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] <= c
        except TypeError:
            return False

    return le


def _gt_nc(n: str, c: Any) -> _Fn:
    def gt(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] > c
        except TypeError:
            return False

    return gt


def _ge_nc(n: str, c: Any) -> _Fn:
    def ge(env: Mapping[str, Any]) -> Any:
        try:
            return env[n] >= c
        except TypeError:
            return False

    return ge


def _eq(lf: _Fn, rf: _Fn) -> _Fn:
    return lambda env: lf(env) == rf(env)


def _ne(lf: _Fn, rf: _Fn) -> _Fn:
    return lambda env: lf(env) != rf(env)


def _ordered(op: Callable[[Any, Any], Any]) -> Callable[[_Fn, _Fn], _Fn]:
    def make(lf: _Fn, rf: _Fn) -> _Fn:
        def compare(env: Mapping[str, Any]) -> Any:
            try:
                return op(lf(env), rf(env))
            except TypeError:
                return False

        return compare

    return make


_CompareOp: TypeAlias = tuple[
    Callable[[Any, Any], Any], Callable[[str, Any], _Fn], Callable[[_Fn, _Fn], _Fn]
]
_COMPARE: dict[type[ast.cmpop], _CompareOp] = {
    ast.Eq: (operator.eq, _eq_nc, _eq),
    ast.NotEq: (operator.ne, _ne_nc, _ne),
    ast.Lt: (operator.lt, _lt_nc, _ordered(operator.lt)),
    ast.LtE: (operator.le, _le_nc, _ordered(operator.le)),
    ast.Gt: (operator.gt, _gt_nc, _ordered(operator.gt)),
    ast.GtE: (operator.ge, _ge_nc, _ordered(operator.ge)),
}
_MIRROR: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
}


def _compare_values(op: Callable[[Any, Any], Any], a: Any, b: Any) -> bool:
    try:
        return bool(op(a, b))
    except TypeError:
        return False


def _truthy(node: _Node) -> _Fn:
    """A closure giving ``node``'s value as a bool."""
    if node.boolean:
        return node.fn
    if node.name is not None:
        n = node.name
        return lambda env: bool(env[n])
    f = node.fn
    return lambda env: bool(f(env))


def _all(fns: list[_Fn]) -> _Fn:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) and b(env)
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) and b(env) and c(env)
    every = tuple(fns)

    def all_of(env: Mapping[str, Any]) -> Any:
        for f in every:
            if not f(env):
                return False
        return True

    return all_of


def _any(fns: list[_Fn]) -> _Fn:
    if len(fns) == 1:
        return fns[0]
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) or b(env)
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) or b(env) or c(env)
    every = tuple(fns)

    def any_of(env: Mapping[str, Any]) -> Any:
        for f in every:
            if f(env):
                return True
        return False

    return any_of


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {_clip(repr(value), 30)}"


class _Compiler:
    """Turns an accepted tree into closures, rejecting everything else."""

    def __init__(
        self, text: str, body: str, lead: int, known: Collection[str] | None
    ) -> None:
        self.text = text
        self.body = body
        self.lead = lead
        self.raw = body.encode("utf-8")
        self.known = None if known is None else frozenset(known)
        self.names: set[str] = set()

    # Positions ------------------------------------------------------------

    def offset(self, col: int | None) -> int:
        """Character offset in ``text`` of a UTF-8 byte column of ``body``."""
        if col is None:
            return self.lead
        return self.lead + len(self.raw[:col].decode("utf-8", "replace"))

    def op_offset(self, left: ast.expr, right: ast.expr, symbol: str) -> int:
        """Character offset of the operator ``symbol`` between two operands."""
        start = left.end_col_offset
        if start is None:
            return self.offset(left.col_offset)
        gap = self.raw[start : right.col_offset].decode("utf-8", "replace")
        index = gap.find(symbol)
        return self.offset(start) + max(index, 0)

    def source(self, node: ast.AST) -> str:
        return _clip(ast.get_source_segment(self.body, node) or self.body)

    def reject(
        self, what: str, node: ast.AST, offset: int, hint: str
    ) -> ExpressionError:
        return ExpressionError(
            f"{what} not allowed in an expression: {self.source(node)!r}", offset, hint
        )

    # Nodes ----------------------------------------------------------------

    def compile(self, node: ast.expr) -> _Node:
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.BoolOp):
            return self.boolop(node)
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.UnaryOp):
            return self.unaryop(node)
        what, hint = _FORBIDDEN.get(
            type(node), (f"'{type(node).__name__}' is", _ALLOWED)
        )
        raise self.reject(what, node, self.offset(node.col_offset), hint)

    def constant(self, node: ast.Constant) -> _Node:
        value = node.value
        if type(value) in _VALUE_TYPES:
            return _const_node(value)
        where = self.offset(node.col_offset)
        if value is None:
            raise self.reject(
                "'None' is",
                node,
                where,
                "variables always have a value; compare with 0, '' or false",
            )
        if isinstance(value, bytes):
            raise self.reject(
                "byte strings (b'…') are", node, where, "write plain text in quotes"
            )
        if isinstance(value, complex):
            raise self.reject("imaginary numbers are", node, where, _ALLOWED)
        raise self.reject(f"{_clip(repr(value), 20)} is", node, where, _ALLOWED)

    def name(self, node: ast.Name) -> _Node:
        name = node.id
        if name in _BOOL_NAMES:
            return _const_node(_BOOL_NAMES[name])
        if self.known is not None and name not in self.known:
            raise ExpressionError(
                f"unknown variable {name!r}",
                self.offset(node.col_offset),
                self.unknown_hint(name),
            )
        self.names.add(name)
        return _Node(itemgetter(name), name=name)

    def unknown_hint(self, name: str) -> str:
        known = sorted(self.known or ())
        lower = name.lower()
        if lower in _BOOL_NAMES:
            return f"write {lower!r} in lowercase"
        if lower in {"none", "null", "nil"}:
            return "variables always have a value; compare with 0, '' or false"
        close = difflib.get_close_matches(name, known, n=1)
        if not close:
            close = [k for k in known if k.lower() == lower][:1]
        if close:
            return f"did you mean {close[0]!r}?"
        if not known:
            return "no variables are declared; declare them under 'variables:'"
        listed = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
        return f"the declared variables are: {listed}"

    def unaryop(self, node: ast.UnaryOp) -> _Node:
        operand = self.compile(node.operand)
        where = self.offset(node.col_offset)
        if isinstance(node.op, ast.Not):
            if operand.const:
                return _const_node(not operand.value)
            if operand.name is not None:
                n = operand.name
                return _Node(lambda env: not env[n], boolean=True)
            f = operand.fn
            return _Node(lambda env: not f(env), boolean=True)
        op: Callable[[Any], Any]
        if isinstance(node.op, ast.USub):
            symbol, op = "-", operator.neg
        elif isinstance(node.op, ast.UAdd):
            symbol, op = "+", operator.pos
        else:
            raise self.reject(
                "the bit operator '~' is", node, where, "use 'not' to negate"
            )
        snippet = self.source(node)

        def fail(value: Any) -> ExpressionError:
            return ExpressionError(
                f"cannot compute {snippet!r}: {symbol!r} does not work on {_describe(value)}",
                where,
                "only numbers can be negated",
            )

        if operand.const:
            try:
                return _const_node(op(operand.value))
            except TypeError:
                raise fail(operand.value) from None
        f = operand.fn

        def unary(env: Mapping[str, Any]) -> Any:
            value = f(env)
            try:
                return op(value)
            except TypeError:
                raise fail(value) from None

        return _Node(unary)

    def binop(self, node: ast.BinOp) -> _Node:
        kind = type(node.op)
        if kind in _BINARY_FORBIDDEN:
            symbol, what, hint = _BINARY_FORBIDDEN[kind]
            raise self.reject(
                what, node, self.op_offset(node.left, node.right, symbol), hint
            )
        symbol, op = _BINARY[kind]
        left = self.compile(node.left)
        right = self.compile(node.right)
        snippet = self.source(node)
        where = self.op_offset(node.left, node.right, symbol)

        def fail(a: Any, b: Any, error: BaseException) -> ExpressionError:
            if isinstance(error, OverflowError):
                return ExpressionError(
                    f"cannot compute {snippet!r}: the result is too large", where
                )
            return ExpressionError(
                f"cannot compute {snippet!r}: {symbol!r} does not work on "
                f"{_describe(a)} and {_describe(b)}",
                where,
                "only '+' works on text (to join two texts); the rest need numbers",
            )

        if left.const and right.const:
            return _const_node(_apply(op, left.value, right.value, fail))
        if left.name is not None and right.const:
            if kind is ast.Add:
                return _Node(_add_name_const(left.name, right.value, fail))
            if kind is ast.Sub:
                return _Node(_sub_name_const(left.name, right.value, fail))
        return _Node(_arith(op, left.fn, right.fn, fail))

    def compare(self, node: ast.Compare) -> _Node:
        left_ast = node.left
        left = self.compile(left_ast)
        pairs: list[_Node] = []
        for op, right_ast in zip(node.ops, node.comparators, strict=True):
            kind = type(op)
            if kind in _COMPARE_FORBIDDEN:
                symbol, what, hint = _COMPARE_FORBIDDEN[kind]
                raise self.reject(
                    what, node, self.op_offset(left_ast, right_ast, symbol), hint
                )
            right = self.compile(right_ast)
            pairs.append(self.pair(kind, left, right))
            left, left_ast = right, right_ast
        if any(p.const and not p.value for p in pairs):
            return _const_node(False)
        live = [p.fn for p in pairs if not p.const]
        if not live:
            return _const_node(True)
        return _Node(_all(live), boolean=True)

    @staticmethod
    def pair(kind: type[ast.cmpop], left: _Node, right: _Node) -> _Node:
        if left.const and right.const:
            return _const_node(
                _compare_values(_COMPARE[kind][0], left.value, right.value)
            )
        if left.const and right.name is not None:  # 2 <= x  ->  x >= 2
            kind, left, right = _MIRROR[kind], right, left
        _, name_const, general = _COMPARE[kind]
        if left.name is not None and right.const:
            return _Node(name_const(left.name, right.value), boolean=True)
        return _Node(general(left.fn, right.fn), boolean=True)

    def boolop(self, node: ast.BoolOp) -> _Node:
        values = [self.compile(v) for v in node.values]
        is_and = isinstance(node.op, ast.And)
        # With no side effects, one constant that decides the result decides it.
        if any(v.const and bool(v.value) is not is_and for v in values):
            return _const_node(not is_and)
        live = [_truthy(v) for v in values if not v.const]
        if not live:
            return _const_node(is_and)
        return _Node(_all(live) if is_and else _any(live), boolean=True)


# --------------------------------------------------------------------------
# Static types


def _infer(node: ast.expr, types: Mapping[str, type]) -> type | None:
    if isinstance(node, ast.Constant):
        return type(node.value) if type(node.value) in _VALUE_TYPES else None
    if isinstance(node, ast.Name):
        if node.id in _BOOL_NAMES:
            return bool
        declared = types.get(node.id)
        return declared if declared in _VALUE_TYPES else None
    if isinstance(node, ast.BoolOp | ast.Compare):
        return bool
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.Not):
            return bool
        operand = _infer(node.operand, types)
        if operand is bool or operand is int:
            return int
        return float if operand is float else None
    if isinstance(node, ast.BinOp):
        left = _infer(node.left, types)
        right = _infer(node.right, types)
        if left is None or right is None:
            return None
        if left is str or right is str:
            return str if left is right and isinstance(node.op, ast.Add) else None
        if isinstance(node.op, ast.Div) or left is float or right is float:
            return float
        return int
    return None
