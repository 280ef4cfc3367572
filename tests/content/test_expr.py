"""Tests for the exhibit expression language (showfloor.content.expr)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from showfloor.content.expr import MAX_DEPTH, MAX_LENGTH, Expr, parse, static_type
from showfloor.errors import ExpressionError

ENV: dict[str, Any] = {
    "a": 7,
    "b": 2,
    "z": 0,
    "f": 2.5,
    "s": "calm",
    "yes": True,
    "no": False,
}
KNOWN = {"score", "refused", "mood", "ratio"}


def run(text: str, **env: Any) -> Any:
    return parse(text).fn({**ENV, **env})


def error_of(text: str | float, known: set[str] | None = None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        parse(text, known)
    return info.value


# --------------------------------------------------------------------------
# Values


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", 3),
        ("1_000", 1000),
        ("2.5", 2.5),
        ("'calm'", "calm"),
        ('"calm"', "calm"),
        ("'远离毒品'", "远离毒品"),
        ("true", True),
        ("false", False),
        ("True", True),
        ("False", False),
        ("-3", -3),
        ("+3", 3),
    ],
)
def test_constants(text: str, value: Any) -> None:
    expr = parse(text)
    result = expr.fn({})
    assert result == value
    assert type(result) is type(value)
    assert expr.names == frozenset()
    assert expr.text == text


@pytest.mark.parametrize(
    ("value", "text"), [(3, "3"), (2.5, "2.5"), (True, "true"), (False, "false")]
)
def test_yaml_values_become_constants(value: Any, text: str) -> None:
    expr = parse(value)
    assert expr.fn({}) == value
    assert type(expr.fn({})) is type(value)
    assert expr.text == text
    assert expr.names == frozenset()


def test_non_expression_value_is_rejected() -> None:
    error = error_of(None)  # type: ignore[arg-type]
    assert "NoneType" in str(error)


def test_names_are_collected() -> None:
    assert parse("a + b * a > 0 and not true").names == frozenset({"a", "b"})
    assert parse("false or 1").names == frozenset()


def test_expr_is_callable_and_has_truth() -> None:
    expr = parse("s")
    assert isinstance(expr, Expr)
    assert expr(ENV) == "calm"
    assert expr.truth(ENV) is True
    assert expr.truth({"s": ""}) is False


def test_missing_variable_at_run_time() -> None:
    expr = parse("mood == 'calm' and score > 1")
    with pytest.raises(KeyError):
        expr.fn({"mood": "calm"})
    with pytest.raises(ExpressionError) as info:
        expr({"mood": "calm"})
    assert "'score'" in str(info.value)
    assert info.value.offset == expr.text.index("score")
    with pytest.raises(ExpressionError):
        expr.truth({"mood": "calm"})


# --------------------------------------------------------------------------
# Operators


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b", 9),
        ("a - b", 5),
        ("a * b", 14),
        ("a / b", 3.5),
        ("a // b", 3),
        ("a % b", 1),
        ("-a", -7),
        ("+a", 7),
        ("- -a", 7),
        ("f * 2", 5.0),
        ("f // 1", 2.0),
        ("s + '!'", "calm!"),
        ("yes + yes", 2),
        ("not a", False),
        ("not z", True),
        ("not s", False),
        ("a == 7", True),
        ("a != 7", False),
        ("a < b", False),
        ("a <= 7", True),
        ("a > b", True),
        ("a >= 8", False),
        ("7 == a", True),
        ("2 < a", True),
        ("8 <= a", False),
        ("b >= a", False),
        ("s == 'calm'", True),
        ("'calm' != s", False),
        ("s < 'dawn'", True),
        ("a and b", True),
        ("a and z", False),
        ("z or a", True),
        ("z or no", False),
        ("yes and s and a", True),
        ("no or z or s == 'x' or a == 7", True),
        ("yes and yes and yes and no", False),
        ("a == 7 == 7.0", True),
    ],
)
def test_operators(text: str, expected: Any) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


def test_and_or_always_give_bools() -> None:
    assert run("a and b") is True
    assert run("z or s") is True
    assert run("s and z") is False
    assert run("not not a") is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
        ("10 - (4 - 3)", 9),
        ("2 * 3 % 4", 2),
        ("-a * b", -14),
        ("a - -b", 9),
        ("a + b == 9", True),
        ("not no and no", False),  # (not no) and no, not: not (no and no)
        ("not yes == no", True),  # not (yes == no)
        ("yes or no and no", True),  # yes or (no and no)
        ("(yes or no) and no", False),
        ("a > 1 and b > 1 or z", True),
    ],
)
def test_precedence(text: str, expected: Any) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("x", "expected"), [(-1, False), (0, False), (3, True), (5, False), (7, False)]
)
def test_chained_comparison(x: int, expected: bool) -> None:
    assert parse("0 < x < 5").fn({"x": x}) is expected
    assert parse("5 > x > 0").fn({"x": x}) is expected
    assert parse("0 < x <= 4 != x + 10").fn({"x": x}) is expected


def test_chained_comparison_with_constants_only() -> None:
    assert parse("1 < 2 < 3").fn({}) is True
    assert parse("1 < 3 < 2").fn({}) is False
    assert parse("1 < 2 < x").fn({"x": 3}) is True


def test_constant_short_circuit() -> None:
    assert parse("false and x").fn({}) is False
    assert parse("true or x").fn({}) is True
    assert parse("true and x").fn({"x": 0}) is False
    assert parse("x < 1 < 0").fn({"x": 0}) is False
    assert parse("false and x").names == frozenset({"x"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a / 0", 0.0),
        ("a // 0", 0),
        ("a % 0", 0),
        ("a / z", 0.0),
        ("a // z", 0),
        ("a % z", 0),
        ("f % z", 0.0),
        ("f // 0", 0.0),
        ("a // 0.0", 0.0),
        ("yes / no", 0.0),
        ("1 / 0", 0.0),
        ("(a / z) + 1", 1.0),
    ],
)
def test_division_by_zero_gives_zero(text: str, expected: Any) -> None:
    result = run(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    "text",
    [
        "s < 3",
        "s >= a",
        "3 > s",
        "a <= s",
        "s > f",
        "'a' < 1",
        "'a' < 1 < 2",
        "0 < s < 5",
        "s < a + 1",
    ],
)
def test_comparing_incompatible_types_is_false(text: str) -> None:
    assert run(text) is False


def test_equality_across_types() -> None:
    assert run("s == 3") is False
    assert run("s != 3") is True
    assert run("yes == 1") is True  # as in Python and YAML: true == 1


@pytest.mark.parametrize(
    ("text", "env"),
    [
        ("mood - 1", {"mood": "calm"}),
        ("mood + 1", {"mood": "calm"}),
        ("mood * n", {"mood": "ab", "n": 3}),
        ("n * mood", {"mood": "ab", "n": 3}),
        ("mood % n", {"mood": "%s", "n": 3}),
        ("-mood", {"mood": "calm"}),
        ("n // mood", {"mood": "calm", "n": 3}),
    ],
)
def test_arithmetic_on_wrong_types_raises_expression_error(
    text: str, env: dict[str, Any]
) -> None:
    expr = parse(text)
    with pytest.raises(ExpressionError) as info:
        expr.fn(env)
    assert "cannot compute" in str(info.value)
    assert "str" in str(info.value)


@pytest.mark.parametrize(
    "text", ["'a' - 1", "'ab' * 3", "3 * 'ab'", "'%s' % 1", "-'a'", "'a' + 1"]
)
def test_constant_arithmetic_on_wrong_types_fails_at_parse(text: str) -> None:
    error = error_of(text)
    assert "cannot compute" in str(error)


def test_wrong_type_error_points_at_operator() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("'中文' == m or m - 1 > 0").fn({"m": "x"})
    assert info.value.offset == "'中文' == m or m - 1 > 0".index("-")


def test_name_constant_comparison_is_a_single_closure() -> None:
    fn: Any = parse("score >= 2").fn
    cells = [cell.cell_contents for cell in fn.__closure__ or ()]
    assert sorted(map(repr, cells)) == ["'score'", "2"]  # no nested closures


# --------------------------------------------------------------------------
# Rejected constructs


@pytest.mark.parametrize(
    ("text", "what", "offset"),
    [
        ("len(x)", "function calls", 0),
        ("x > 0 and len(x)", "function calls", 10),
        ("__import__('os').system('ls')", "function calls", 0),
        ("().__class__", "attributes", 0),
        ("x.y", "attributes", 0),
        ("x[0]", "indexing", 0),
        ("x[1:2]", "indexing", 0),
        ("lambda: 1", "lambdas", 0),
        ("[i for i in x]", "comprehensions", 0),
        ("{i for i in x}", "comprehensions", 0),
        ("{i: 1 for i in x}", "comprehensions", 0),
        ("(i for i in x)", "comprehensions", 0),
        ("[1, 2]", "lists", 0),
        ("1, 2", "tuples", 0),
        ("{1}", "sets", 0),
        ("{'a': 1}", "dictionaries", 0),
        ("x ** 2", "'**'", 2),
        ("x & y", "'&'", 2),
        ("x | y", "'|'", 2),
        ("x ^ y", "'^'", 2),
        ("x << 1", "'<<'", 2),
        ("x >> 1", "'>>'", 2),
        ("x @ y", "'@'", 2),
        ("~x", "'~'", 0),
        ("x is y", "'is'", 2),
        ("x is not y", "'is not'", 2),
        ("x in y", "'in'", 2),
        ("x not in y", "'not in'", 2),
        ("1 < x in y", "'in'", 6),
        ("f'{x}'", "f-strings", 0),
        ("(y := 1)", "':='", 1),
        ("x if y else 1", "conditional expressions", 0),
        ("None", "'None'", 0),
        ("x == None", "'None'", 5),
        ("b'x'", "byte strings", 0),
        ("2j", "imaginary numbers", 0),
        ("...", "Ellipsis", 0),
        ("(yield x)", "'yield'", 1),
        ("await x", "'await'", 0),
        ("'远离' == (x := 1)", "':='", 9),
        ("'远离' + x ** 2", "'**'", 9),
    ],
)
def test_forbidden_constructs(text: str, what: str, offset: int) -> None:
    error = error_of(text)
    assert what in error.message
    assert "not allowed" in error.message
    assert error.hint
    assert error.offset == offset


def test_forbidden_message_names_what_was_found_and_what_is_allowed() -> None:
    error = error_of("len(x)")
    assert str(error) == (
        "function calls are not allowed in an expression: 'len(x)' — use comparisons "
        "(== != < <= > >=), arithmetic (+ - * / // %), and/or/not, and parentheses"
    )


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("x ** 2", "multiply"),
        ("x & y", "'and'"),
        ("x | y", "'or'"),
        ("~x", "'not'"),
        ("x is y", "'=='"),
    ],
)
def test_forbidden_operator_hints(text: str, hint: str) -> None:
    assert hint in (error_of(text).hint or "")


# --------------------------------------------------------------------------
# Unknown variables


def test_unknown_variable_did_you_mean() -> None:
    error = error_of("refused and scroe >= 2", KNOWN)
    assert error.message == "unknown variable 'scroe'"
    assert error.hint == "did you mean 'score'?"
    assert error.offset == 12


def test_unknown_variable_offset_after_non_ascii_text() -> None:
    text = "mood == '远离毒品' and scroe > 1"
    error = error_of(text, KNOWN)
    assert error.offset == text.index("scroe")
    assert error.hint == "did you mean 'score'?"


def test_unknown_variable_offset_with_leading_whitespace_and_newlines() -> None:
    text = "  mood == '你好'\n  and scroe > 1\n"
    error = error_of(text, KNOWN)
    assert error.offset == text.index("scroe")


def test_unknown_variable_lists_declared_variables() -> None:
    error = error_of("xyzzy > 1", KNOWN)
    assert error.hint == "the declared variables are: mood, ratio, refused, score"
    assert error.offset == 0


def test_unknown_variable_with_nothing_declared() -> None:
    assert "no variables are declared" in (error_of("x", set()).hint or "")


@pytest.mark.parametrize(
    ("text", "hint"),
    [("TRUE", "'true'"), ("False == FALSE", "'false'"), ("null", "always")],
)
def test_unknown_variable_special_hints(text: str, hint: str) -> None:
    assert hint in (error_of(text, KNOWN).hint or "")


def test_known_variables_accepted_and_true_false_need_no_declaration() -> None:
    expr = parse(
        "refused == true and score >= 2 or mood != 'calm'", ["score", "refused", "mood"]
    )
    assert expr.names == frozenset({"score", "refused", "mood"})
    assert parse("true and not false", set()).fn({}) is True


def test_without_known_any_name_is_accepted() -> None:
    assert parse("anything > 1").names == frozenset({"anything"})


# --------------------------------------------------------------------------
# Syntax errors and hints


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("score >=", 8, "incomplete"),
        ("score >= ", 8, "incomplete"),
        ("score + ", 7, "incomplete"),
        ("not", 3, "incomplete"),
        ("refused and", 11, "incomplete"),
        ("(a and b", 0, "never closed"),
        ("'中文' + (a", 7, "never closed"),
        ("a)", 1, "no matching"),
        ("(a]", 2, "no matching"),
        ("1 +* 2", 3, "unexpected '*'"),
        ("a b", 2, "unexpected 'b'"),
        ("'abc", 0, "never closed"),
        ("'中文' == 'abc", 8, "never closed"),
        ("2abc", 0, "number"),
        ("'中文' == （x）", 8, "'（'"),
        ("mood == “calm”", 8, "'“'"),
        ("a\u3000== 1", 1, "U+3000"),
        ("x if y", 0, "conditional"),
        ("a\0b", 1, "NUL"),
        ("(" * 201, 200, "nested parentheses"),
    ],
)
def test_syntax_errors(text: str, offset: int, fragment: str) -> None:
    error = error_of(text)
    assert fragment in str(error)
    assert error.offset == offset


@pytest.mark.parametrize(
    ("text", "expected"),
    [("score >=", "'>='"), ("a +", "'+'"), ("a and", "'and'"), ("not", "'not'")],
)
def test_incomplete_says_what_was_expected(text: str, expected: str) -> None:
    assert error_of(text).hint == f"expected a value after {expected}"


def test_full_width_characters_get_a_hint() -> None:
    assert error_of("x ＞ 1").hint == "'＞' is a full-width character; type '>' instead"
    assert "straight quotes" in (error_of("x == ‘a’").hint or "")


@pytest.mark.parametrize(
    ("text", "offset", "hint"),
    [
        ("a && b", 2, "'and'"),
        ("a || b", 2, "'or'"),
        ("!a", 0, "'not'"),
        ("a and !b", 6, "'not'"),
        ("a = 1", 2, "'=='"),
        ("score = 'a && b'", 6, "'=='"),
        ("a => 1", 2, "'>='"),
        ("a =< 1", 2, "'<='"),
        ("a <> 1", 2, "'!='"),
        ("x := 1", 2, "'=='"),
        ("a AND b", 2, "'and'"),
        ("a Or b", 2, "'or'"),
        ("'你好' == m && n", 10, "'and'"),
    ],
)
def test_hints_for_other_languages(text: str, offset: int, hint: str) -> None:
    error = error_of(text)
    assert hint in (error.hint or "")
    assert error.offset == offset


@pytest.mark.parametrize(
    "text", ["a != b", "mood == 'hi!'", "mood == 'a && b || c = d'", "a <= b >= c"]
)
def test_look_alikes_inside_valid_expressions_are_fine(text: str) -> None:
    parse(text)


# --------------------------------------------------------------------------
# Whitespace, length, depth


def test_whitespace_and_newlines() -> None:
    assert parse("  score >= 2  ").fn({"score": 2}) is True
    assert parse("refused\nand score\n>= 2\n").fn({"refused": True, "score": 2}) is True
    assert parse("score >=\r\n  2").fn({"score": 1}) is False
    assert parse("\tscore\t>= 2").fn({"score": 3}) is True


def test_syntax_error_offset_counts_leading_whitespace() -> None:
    assert error_of("  score >=\n").offset == 10
    assert error_of("\n\n(a and b").offset == 2


def test_empty_expression() -> None:
    assert "empty" in str(error_of(""))
    assert "empty" in str(error_of(" \n "))


def test_length_limit() -> None:
    longest = "1" + " + 1" * ((MAX_LENGTH - 1) // 4)
    assert len(longest) <= MAX_LENGTH
    parse(longest)  # whitespace around it does not count either
    parse("   " + longest + "\n\n")
    too_long = "x + " * 200 + "x"
    error = error_of(too_long)
    assert f"limit is {MAX_LENGTH}" in str(error)
    assert str(len(too_long)) in str(error)


def test_depth_limit() -> None:
    assert parse("-" * 20 + "1").fn({}) == 1
    assert "too complex" in str(error_of("-" * (MAX_DEPTH + 5) + "x"))
    assert "too complex" in str(error_of("x+" * (MAX_DEPTH + 5) + "x"))


def test_deepest_allowed_expression_works_inside_a_deep_call_stack() -> None:
    text = "x+" * (MAX_DEPTH - 1) + "x"
    minus = "-" * (MAX_DEPTH - 1) + "x"

    def nest(levels: int) -> tuple[Any, Any, Any]:
        if levels:
            return nest(levels - 1)
        expr = parse(text)
        negated = parse(minus)
        return expr.fn({"x": 1}), negated.fn({"x": 1}), static_type(expr, {"x": int})

    assert nest(300) == (MAX_DEPTH, -1 if MAX_DEPTH % 2 == 0 else 1, int)


# --------------------------------------------------------------------------
# Static types


TYPES: dict[str, type] = {"score": int, "refused": bool, "mood": str, "ratio": float}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("score + 1", int),
        ("score / 2", float),
        ("score // 2", int),
        ("score % 2", int),
        ("score * ratio", float),
        ("-refused", int),
        ("+ratio", float),
        ("refused + refused", int),
        ("mood + '!'", str),
        ("mood", str),
        ("score", int),
        ("refused", bool),
        ("true", bool),
        ("score >= 2", bool),
        ("refused and score", bool),
        ("not mood", bool),
        ("'yes'", str),
        ("3", int),
        ("1 / 2", float),
        ("mood - 1", None),
        ("mood * 2", None),
        ("-mood", None),
        ("unknown + 1", None),
        ("score + unknown", None),
    ],
)
def test_static_type(text: str, expected: type | None) -> None:
    assert static_type(parse(text), TYPES) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [(3, int), (True, bool), (2.5, float), (float("inf"), float)]
)
def test_static_type_of_yaml_values(value: Any, expected: type) -> None:
    assert static_type(parse(value), TYPES) is expected


# --------------------------------------------------------------------------
# Properties

Tree = tuple[Any, ...]
INT_VARS = ("a", "b")
BOOL_VARS = ("p", "q")
VAR_TYPES: dict[str, type] = {"a": int, "b": int, "p": bool, "q": bool}

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

leaves = st.one_of(
    st.tuples(st.just("var"), st.sampled_from(INT_VARS + BOOL_VARS)),
    st.tuples(st.just("int"), st.integers(0, 12)),
    st.tuples(st.just("float"), st.sampled_from([0.0, 0.5, 2.5])),
    st.tuples(st.just("bool"), st.sampled_from(["true", "false", "True", "False"])),
)


def extend(children: st.SearchStrategy[Tree]) -> st.SearchStrategy[Tree]:
    return st.one_of(
        st.tuples(st.just("unary"), st.sampled_from(["not", "-", "+"]), children),
        st.tuples(
            st.just("binary"), st.sampled_from(sorted(BINARY)), children, children
        ),
        st.tuples(
            st.just("compare"),
            st.lists(st.sampled_from(sorted(COMPARE)), min_size=1, max_size=3),
            st.lists(children, min_size=4, max_size=4),
        ),
        st.tuples(
            st.just("boolop"),
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=2, max_size=4),
        ),
    )


trees = st.recursive(leaves, extend, max_leaves=20)
envs = st.fixed_dictionaries(
    {
        "a": st.integers(-4, 4),
        "b": st.integers(-4, 4),
        "p": st.booleans(),
        "q": st.booleans(),
    }
)


def render(tree: Tree) -> str:
    kind = tree[0]
    if kind == "var" or kind == "bool":
        return str(tree[1])
    if kind == "int" or kind == "float":
        return repr(tree[1])
    if kind == "unary":
        return f"({tree[1]} {render(tree[2])})"
    if kind == "binary":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "compare":
        ops, operands = tree[1], tree[2]
        parts = [render(operands[0])]
        for op, operand in zip(ops, operands[1:], strict=False):
            parts += [op, render(operand)]
        return "(" + " ".join(parts) + ")"
    if kind == "boolop":
        return "(" + f"\n {tree[1]} ".join(render(v) for v in tree[2]) + ")"
    raise AssertionError(kind)


def reference(tree: Tree, env: dict[str, Any]) -> Any:
    """The language's meaning, written independently of the compiler."""
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "bool":
        return tree[1].lower() == "true"
    if kind == "int" or kind == "float":
        return tree[1]
    if kind == "unary":
        value = reference(tree[2], env)
        unary: dict[str, Callable[[Any], Any]] = {
            "not": operator.not_,
            "-": operator.neg,
            "+": operator.pos,
        }
        return unary[tree[1]](value)
    if kind == "binary":
        a, b = reference(tree[2], env), reference(tree[3], env)
        try:
            return BINARY[tree[1]](a, b)
        except ZeroDivisionError:
            return (
                0.0
                if tree[1] == "/" or isinstance(a, float) or isinstance(b, float)
                else 0
            )
    if kind == "compare":
        ops, operands = tree[1], tree[2]
        values = [reference(v, env) for v in operands[: len(ops) + 1]]
        return all(
            COMPARE[op](x, y) for op, x, y in zip(ops, values, values[1:], strict=False)
        )
    if kind == "boolop":
        truths = [bool(reference(v, env)) for v in tree[2]]
        return all(truths) if tree[1] == "and" else any(truths)
    raise AssertionError(kind)


def depth(tree: Tree) -> int:
    kind = tree[0]
    if kind == "unary":
        return 1 + depth(tree[2])
    if kind == "binary":
        return 1 + max(depth(tree[2]), depth(tree[3]))
    if kind in ("compare", "boolop"):
        return 1 + max(depth(v) for v in tree[2])
    return 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees, envs)
def test_compiled_matches_reference(tree: Tree, env: dict[str, Any]) -> None:
    text = render(tree)
    assume(len(text.strip()) <= MAX_LENGTH and depth(tree) <= MAX_DEPTH)
    expr = parse(text, known=VAR_TYPES)
    expected = reference(tree, env)
    result = expr.fn(env)
    assert result == expected
    assert type(result) is type(expected)
    assert expr(env) == expected
    assert expr.truth(env) is bool(expected)
    assert static_type(expr, VAR_TYPES) is type(expected)


TOKENS = [
    "a", "b", "x", "1", "0", "2.5", "'s'", "'中文'", "true", "None", "(", ")", "[", "]", "{", "}",
    "+", "-", "*", "/", "//", "%", "**", "==", "!=", "<", ">=", "=", "!", "&&", "||", "&", "|",
    "and", "or", "not", "is", "in", "if", "else", "lambda", ":", ",", ".", "'", '"', "f'", "\n",
    " ", "  ", "\t", "（", "\u3000", "\\", "#", "1e400", "0x", "_", "AND", "yield", ":=",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join), envs)
def test_token_soup_parses_or_raises_expression_error(
    text: str, env: dict[str, Any]
) -> None:
    env = {**env, "x": "text"}
    try:
        expr = parse(text, known=["a", "b", "x"])
    except ExpressionError as error:
        assert 0 <= error.offset <= len(text)
        return
    try:
        expr.fn(env)
    except ExpressionError:
        pass  # arithmetic on text, the one run-time failure
    static_type(expr, {"a": int, "b": int, "x": str})


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=80), st.text(max_size=700)))
def test_arbitrary_text_parses_or_raises_expression_error(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as error:
        assert 0 <= error.offset <= len(text)
        assert str(error)
