"""Small numbers are hidden: every report cell counting fewer than k visits is suppressed.

A *cell* is a count of visits (sessions) a report shows, or a number computed from one
(a share, a median, a survival point, a question's share correct, a gain). A count of 1
to k − 1 is replaced by :class:`Suppressed`, shown everywhere as ``< k``; so is every
number derived from it. Zero is shown: it says nothing about any visitor.

A share is shown only when both the visits it counts and the visits it leaves out are 0
or at least k (otherwise share × n gives the small count back). Counts that add up to a
total shown beside them (stations under a hall total, languages, the hour × weekday
grid) get *complementary* suppression (:func:`suppress_breakdown`) so the total minus
the visible parts never reveals a hidden one.

:func:`suppress_report` hides a whole ``metrics.report()``; :func:`suppress_breakdown`
parts under a total; :func:`suppress_rows` a table of rows (per station under a hall
total); :func:`to_json` makes any of them JSON. A scene type's report section says how
its cells are hidden with :func:`register`; a part without a rule is hidden whole.

Definitions for readers: docs/reports.md, "Small numbers are hidden".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from showfloor.analytics.metrics import ReportError

#: k: the fewest visits a shown cell may count (the hub's ``report_min_cell``)
DEFAULT_MIN_CELL = 10
#: k cannot be configured below this
FLOOR = 5


@dataclass(frozen=True)
class Suppressed:
    """A cell with fewer than k visits behind it (or a number derived from one)."""

    k: int

    def __str__(self) -> str:
        return f"< {self.k}"


Cell = int | Suppressed


def check_k(k: int) -> int:
    """k itself, or a :class:`ReportError` when it is not a whole number ≥ :data:`FLOOR`."""
    if isinstance(k, bool) or not isinstance(k, int):
        raise ReportError(f"the smallest shown cell must be a whole number of visits, "
                          f"not {k!r}; use {DEFAULT_MIN_CELL}")
    if k < FLOOR:
        raise ReportError(f"the smallest shown cell is {k} visits, below the floor of "
                          f"{FLOOR} that protects minors; use {FLOOR} or more "
                          f"(the default is {DEFAULT_MIN_CELL})")
    return k


def is_suppressed(value: Any) -> bool:
    """Whether a report value is hidden."""
    return isinstance(value, Suppressed)


def small(count: int | None, k: int) -> bool:
    """A count of 1 to k − 1 (zero and None are not small cells)."""
    return count is not None and 0 < count < k


def cell(count: int, k: int) -> Cell:
    """The count itself, or :class:`Suppressed` when it is small."""
    return Suppressed(k) if small(count, k) else count


def share_hidden(part: int | None, whole: int | None, k: int) -> bool:
    """Whether a share part / whole must be hidden: whole small, or part or rest small."""
    if whole is None or part is None:
        return small(whole, k)
    return small(whole, k) or small(part, k) or small(whole - part, k)


# -- a breakdown under a total ---------------------------------------------------------

def suppress_breakdown(total: int, parts: Mapping[str, int], k: int
                       ) -> dict[str, int | Suppressed]:
    """Parts of a visible total with small ones hidden, safe against differencing.

    Every part of 1 to k − 1 visits is hidden (primary suppression). Then, while the
    hidden parts are a single one, or add up to fewer than k visits (so total − visible
    parts would give a small cell or a single part back), the smallest visible non-zero
    part is hidden too (ties: by name). Zeros stay visible. Deterministic. Visits of
    ``total`` no part covers (``total`` − the parts' sum) count towards the k.

    Example: a hall total of 25 with stations 12, 9, 4 shows 12, < k, < k (25 − 12 = 13
    is the two hidden stations together, neither of them alone).
    """
    check_k(k)
    hidden = {name for name, n in parts.items() if small(n, k)}
    rest = max(0, total - sum(parts.values()))  # visits the parts do not cover
    hidden = _complement(parts, hidden, rest, k)
    return {name: Suppressed(k) if name in hidden else n for name, n in parts.items()}


def _complement(parts: Mapping[str, int], hidden: set[str], rest: int, k: int) -> set[str]:
    """``hidden`` and, when some are hidden, the fewest visible non-zero parts more (the
    smallest first, ties by name) until the hidden ones are two or more and, with
    ``rest`` (visits of the total no part covers), add up to k or more."""
    hidden = set(hidden)
    if hidden:
        visible = sorted(((n, name) for name, n in parts.items()
                          if name not in hidden and n > 0))
        while visible and (len(hidden) < 2 or sum(parts[h] for h in hidden) + rest < k):
            hidden.add(visible.pop(0)[1])
    return hidden


# -- a table of rows -------------------------------------------------------------------

def suppress_rows(rows: Sequence[Mapping[str, Any]], k: int, *, visits: str = "visits",
                  counts: Iterable[str] = (), derived: Mapping[str, str] | None = None,
                  total: int | None = None, complementary: bool = True
                  ) -> list[dict[str, Any]]:
    """A copy of a table (one dict per row) with its small cells hidden.

    ``visits`` names the column counting each row's visits: a row with 1 to k − 1 is
    hidden whole (its visits, ``counts`` and ``derived`` columns). ``counts`` are other
    columns counting visits within the row (reached an end, answered right): one is
    hidden when it, or the row's visits minus it, is small. ``derived`` maps a column
    computed from a count (a share, a median) to that count's column (or to ``visits``):
    it is hidden with it. With ``complementary`` (the default; a table's rows usually add
    up to a total shown somewhere), :func:`suppress_breakdown` runs over the ``visits``
    column, with ``total`` when the table shows one (else the rows' sum).
    """
    check_k(k)
    counts = tuple(counts)
    derived = dict(derived or {})
    out = [dict(r) for r in rows]
    if complementary and len(out) > 1:
        parts = {str(i): int(r[visits]) for i, r in enumerate(out)
                 if isinstance(r.get(visits), int)}
        whole = total if total is not None else sum(parts.values())
        hidden = {int(i) for i, v in suppress_breakdown(whole, parts, k).items()
                  if is_suppressed(v)}
    else:
        hidden = {i for i, r in enumerate(out) if small(_int(r.get(visits)), k)}
    for i, r in enumerate(out):
        n = _int(r.get(visits))
        if i in hidden or small(n, k):
            for col in (visits, *counts, *derived):
                if col in r:
                    r[col] = Suppressed(k)
            continue
        gone = {visits} if is_suppressed(r.get(visits)) else set()
        for col in counts:
            c = _int(r.get(col))
            if c is not None and share_hidden(c, n, k):
                r[col] = Suppressed(k)
                gone.add(col)
        for col, base in derived.items():
            if base in gone and col in r:
                r[col] = Suppressed(k)
    return out


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# -- a whole report ----------------------------------------------------------------------

Suppressor = Callable[[Any, int], Any]

#: report section (scene type) → how to hide its small cells; a section without one is
#: hidden whole (fail closed), so a new scene type must register one
SUPPRESSORS: dict[str, Suppressor] = {}


def register(section: str, suppressor: Suppressor) -> None:
    """Let a scene type's report section say how its small cells are hidden."""
    SUPPRESSORS[section] = suppressor


def suppress_report(report: Mapping[str, Any], k: int) -> dict[str, Any]:
    """A copy of ``metrics.report(...)`` with every cell of fewer than k visits hidden.

    Unknown parts of the report are hidden whole (a part added to the report needs a
    rule here first).
    """
    check_k(k)
    total = _int(report.get("visits"))
    out: dict[str, Any] = {}
    for key, value in report.items():
        rule = _PARTS.get(key)
        if key == "sections":
            out[key] = {name: (SUPPRESSORS[name](sec, k) if name in SUPPRESSORS
                               else Suppressed(k)) for name, sec in value.items()}
        elif rule is not None:
            out[key] = rule(value, k, total)
        else:
            out[key] = Suppressed(k)
    return out


def _visits(v: Any, k: int, total: int | None) -> Any:
    return cell(v, k) if _int(v) is not None else v


def _per_open_hour(v: Mapping[str, Any], k: int, total: int | None) -> dict[str, Any]:
    out = dict(v)
    if small(_int(v.get("visits")), k):
        out["visits"] = out["rate"] = Suppressed(k)
    return out


def _end(v: Mapping[str, Any], k: int, total: int | None) -> dict[str, Any]:
    out = dict(v)
    n, reached = int(v["n"]), int(v["reached"])
    if small(n, k):
        return {key: Suppressed(k) for key in out}
    if share_hidden(reached, n, k):
        out["reached"] = out["share"] = Suppressed(k)
    return out


def _dwell(v: Mapping[str, Any], k: int, total: int | None) -> dict[str, Any]:
    n = int(v["n"])
    if small(n, k):
        return {"n": Suppressed(k), "median": Suppressed(k),
                "survival": [(t, Suppressed(k)) for t, _ in v["survival"]]}
    out = dict(v)
    if total is not None and share_hidden(n, total, k):
        out["n"] = Suppressed(k)  # the visits without a dwell (still open) are few
    out["survival"] = [(t, Suppressed(k) if share_hidden(round(s * n), n, k) else s)
                       for t, s in v["survival"]]
    return out


def _versions(parts: Mapping[Any, int], k: int) -> set[Any]:
    """The exhibit versions whose visits must be hidden.

    The versions' visits add up to the report's visits (the versions a part lists may
    not be all of them: the others are taken as known, so the hidden ones must make k
    between themselves).
    """
    names = {f"{i}": key for i, key in enumerate(parts)}
    shown = suppress_breakdown(sum(parts.values()),
                               {i: parts[key] for i, key in names.items()}, k)
    return {names[i] for i, n in shown.items() if is_suppressed(n)}


def _funnel(v: Mapping[Any, Sequence[Mapping[str, Any]]], k: int, total: int | None
            ) -> dict[Any, list[dict[str, Any]]]:
    # every visit enters its version's first scene: the most entered scene of each
    # version counts that version's visits, and the versions' add up to all visits
    tops = {key: max((int(r["entered"]) for r in scenes), default=0)
            for key, scenes in v.items()}
    hidden = _versions(tops, k)
    out: dict[Any, list[dict[str, Any]]] = {}
    for key, scenes in v.items():
        rows = []
        for row in scenes:
            r = dict(row)
            entered, left = int(r["entered"]), int(r["left"])
            if small(entered, k) or (key in hidden and entered == tops[key]):
                r["entered"] = r["left"] = Suppressed(k)
            elif share_hidden(left, entered, k):
                r["left"] = Suppressed(k)
            rows.append(r)
        out[key] = _funnel_chain(scenes, rows, k)
    return out


def _funnel_chain(raw: Sequence[Mapping[str, Any]], rows: list[dict[str, Any]], k: int
                  ) -> list[dict[str, Any]]:
    """Along a funnel's scenes in order, a scene's visits entering it are those leaving
    there plus those entering the next when the exhibit runs straight on: wherever those
    three numbers add up so and exactly one of them is hidden, it would be the other two's
    difference, so the smallest visible non-zero one of the two is hidden too (which may
    leave the next three with one hidden: repeated down the funnel).
    """
    cells = [(i, col) for i in range(len(rows)) for col in ("entered", "left")]
    value = {(i, col): int(raw[i][col]) for i, col in cells}
    changed = True
    while changed:
        changed = False
        for i in range(len(rows) - 1):
            three = [(i, "entered"), (i, "left"), (i + 1, "entered")]
            if value[three[0]] != value[three[1]] + value[three[2]]:
                continue
            gone = [c for c in three if is_suppressed(rows[c[0]][c[1]])]
            seen = sorted((value[c], c) for c in three
                          if c not in gone and value[c] > 0)
            if len(gone) == 1 and seen:
                i2, col = seen[0][1]
                rows[i2][col] = Suppressed(k)
                changed = True
    return rows


def _gain(v: Sequence[Mapping[str, Any]], k: int, total: int | None) -> list[dict[str, Any]]:
    # a row's visits are its exhibit version's: with the total, they can be subtracted
    hidden = _versions({(r["exhibit"], r["version"]): int(r["visits"]) for r in v}, k)
    out = []
    for row in v:
        r = dict(row)
        n, visits = int(r["n"]), int(r["visits"])
        if (r["exhibit"], r["version"]) in hidden and not small(visits, k):
            r["visits"] = r["share_both"] = Suppressed(k)
        if small(visits, k):
            for key in ("n", "took_pre", "took_post", "visits", "share_both", "gain",
                        "interval"):
                r[key] = Suppressed(k)
        else:
            for key in ("took_pre", "took_post"):
                if small(int(r[key]), k):
                    r[key] = Suppressed(k)
            if small(n, k):
                r["n"] = r["gain"] = r["interval"] = Suppressed(k)
            if share_hidden(n, visits, k):
                r["share_both"] = Suppressed(k)
        out.append(r)
    return out


def _languages(v: Mapping[str, int], k: int, total: int | None) -> dict[str, Cell]:
    return suppress_breakdown(total if total is not None else sum(v.values()), v, k)


def _heatmap(v: Sequence[Sequence[int]], k: int, total: int | None) -> list[list[Cell]]:
    """The hour × weekday grid: its cells add up to the report's visits, and each
    weekday's row to that weekday's visits — which the visits by day give (the export's
    ``visits_by_day``) — so the hidden cells are made safe (:func:`_complement`) within
    the whole grid and within every row, again until neither hides one more."""
    parts = {f"{d}:{h:02d}": n for d, row in enumerate(v) for h, n in enumerate(row)}
    whole = total if total is not None else sum(parts.values())
    rest = max(0, whole - sum(parts.values()))
    hidden = {name for name, n in parts.items() if small(n, k)}
    rows = [[f"{d}:{h:02d}" for h in range(len(row))] for d, row in enumerate(v)]
    while True:
        before = len(hidden)
        hidden = _complement(parts, hidden, rest, k)
        for names in rows:
            row = {name: parts[name] for name in names}
            hidden |= _complement(row, hidden & set(names), 0, k)
        if len(hidden) == before:
            break
    return [[Suppressed(k) if name in hidden else parts[name] for name in names]
            for names in rows]


def _attraction(v: Any, k: int, total: int | None) -> Any:
    if isinstance(v, Mapping):  # {"visits", "passers", "rate"}: visits on counted days
        # the visits it divides are a cell (rate × passers gives them back), and so are
        # the report's other visits (the total minus them)
        out = dict(v)
        n = _int(v.get("visits"))
        if small(total, k) or small(n, k) or (total is not None and n is not None
                                              and share_hidden(n, total, k)):
            out["visits"] = out["rate"] = Suppressed(k)
        return out
    # a bare rate: what it divides cannot be checked, so it is hidden (fail closed)
    return None if v is None else Suppressed(k)


def _as_is(v: Any, k: int, total: int | None) -> Any:
    return v  # hours, not visits


def _questions(v: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    out = []
    for row in v:
        r = dict(row)
        n, correct = int(r["n"]), int(r["correct"])
        if small(n, k):
            for key in ("n", "correct", "share", "wrong", "discrimination",
                        "discrimination_n"):
                r[key] = Suppressed(k)
        else:
            if share_hidden(correct, n, k):
                r["correct"] = r["share"] = Suppressed(k)
            # the wrong answers shown are parts of the question's wrong answers (n −
            # correct): hidden so that those minus the shown ones give none back
            wrong = list(r["wrong"])
            shown = suppress_breakdown(n - correct,
                                       {str(i): int(c) for i, (_, c) in enumerate(wrong)}, k)
            r["wrong"] = [(list(choices), shown[str(i)])
                          for i, (choices, _) in enumerate(wrong)]
            if small(int(r["discrimination_n"]), k):
                r["discrimination"] = r["discrimination_n"] = Suppressed(k)
        out.append(r)
    return out


def _hide_together(parts: Mapping[str, int], hidden: set[str], k: int) -> set[str]:
    """Parts (name → visits) whose counts add up to a shown total, ``hidden`` already
    hidden: while those hidden are one alone, or none of them has k visits or more
    (their visits may be the same visits, so only a part of k or more makes the hidden
    ones at least k visits together), the visible part with the fewest visits (ties by
    name) is hidden too.
    """
    hidden = set(hidden)
    visible = sorted((n, name) for name, n in parts.items() if name not in hidden and n > 0)
    while hidden and visible and (len(hidden) < 2 or
                                  max(parts[h] for h in hidden) < k):
        hidden.add(visible.pop(0)[1])
    return hidden


def _asks(v: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    """The ask section (``metrics.asks``): each row's questions are hidden with its
    visits; the outcomes' questions add up to all questions, and each outcome's
    entries to its questions, so each is hidden together (:func:`_hide_together`).
    """
    rows = [dict(r) for r in v]
    if not rows:
        return rows
    everyone = int(rows[0]["visits"])
    hidden: set[int] = set()
    if small(everyone, k):
        hidden = set(range(len(rows)))
    groups: dict[str, list[int]] = {"": [i for i, r in enumerate(rows)
                                         if r["part"] == "outcome"]}
    for i, r in enumerate(rows):
        if r["part"] == "entry":
            groups.setdefault(str(r["outcome"]), []).append(i)
    for idx in groups.values():
        parts = {str(i): int(rows[i]["visits"]) for i in idx}
        primary = {str(i) for i in idx if small(int(rows[i]["visits"]), k) or i in hidden}
        hidden |= {int(i) for i in _hide_together(parts, primary, k)}
    # an entry of a hidden outcome: hidden with it (they are the same visits or fewer)
    gone = {str(rows[i]["outcome"]) for i in hidden if rows[i]["part"] == "outcome"}
    hidden |= {i for i, r in enumerate(rows) if r["part"] == "entry" and r["outcome"] in gone}
    for i in hidden:
        for key in ("questions", "visits", "share"):
            rows[i][key] = Suppressed(k)
    return rows


def _contests(v: Sequence[Mapping[str, Any]], k: int) -> list[dict[str, Any]]:
    """The competitions' section (``metrics.contests``): a question answered by fewer
    than k teams is hidden whole; its right answers (and share) when they, or the wrong
    ones, are fewer than k; the median time to a right answer with the right answers.
    The rows add up to no total shown, so no other row is hidden with them.
    """
    out = []
    for row in v:
        r = dict(row)
        n, right = int(r["answered"]), int(r["right"])
        if small(n, k):
            for key in ("answered", "right", "share", "median_s"):
                r[key] = Suppressed(k)
        else:
            if share_hidden(right, n, k):
                r["right"] = r["share"] = Suppressed(k)
            if small(right, k):
                r["median_s"] = Suppressed(k)
        out.append(r)
    return out


_PARTS: dict[str, Callable[[Any, int, int | None], Any]] = {
    "visits": _visits, "per_open_hour": _per_open_hour, "end": _end, "dwell": _dwell,
    "funnel": _funnel, "gain": _gain, "languages": _languages, "heatmap": _heatmap,
    "attraction": _attraction, "unused_hours": _as_is,
}

register("quiz", _questions)
register("ask", _asks)
register("competition", _contests)


# -- JSON ------------------------------------------------------------------------------

def to_json(value: Any) -> Any:
    """A report (or any part) as JSON-able data: Suppressed → {"suppressed": true, "below": k}.

    Tuples become lists; a tuple key (the funnel's (exhibit, version)) becomes
    "exhibit@version"; dates become ISO strings.
    """
    if isinstance(value, Suppressed):
        return {"suppressed": True, "below": value.k}
    if isinstance(value, Mapping):
        return {_key(key): to_json(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return "@".join(str(p) for p in key)
    return str(key)

