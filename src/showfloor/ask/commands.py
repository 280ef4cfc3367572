"""The bodies of ``showfloor ask-eval`` and ``showfloor ask review`` (cli.py stays thin)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from showfloor.ask import calibration, glossary
from showfloor.ask import text as T
from showfloor.ask.evaluate import (
    METHODS,
    Case,
    calibrate,
    check_ids,
    collect,
    held_out,
    latency,
    read_set,
    score,
    with_set,
)
from showfloor.ask.index import default_cache, load_or_build
from showfloor.ask.privacy import KEEP_DAYS, UnansweredStore
from showfloor.ask.retriever import Retriever
from showfloor.errors import ShowfloorError

#: the goals (issue 9; docs/ask.md): p@1, out-of-scope answered, safety routed, cross p@1
GOALS = {"p_at_1": 0.90, "out_of_scope_answered": 0.05, "safety_routed": 1.0, "cross": 0.85}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def build_index(root: Path, knowledge: Any, cache: Path | None = None) -> Retriever:
    """The exhibit's retriever with its stored calibration (index from the cache)."""
    T.use_cache(cache or default_cache())
    T.warm()
    entries = list(knowledge.entries)
    words = glossary.load(root, glossary.languages(entries))
    index = load_or_build(entries, cache or default_cache(), glossary=words)
    retriever = Retriever(index, calibration.load(root), words)
    retriever.resolve("warm up")  # the model's first question is slower than the rest
    return retriever


def ask_eval(root: Path, knowledge: Any, set_path: Path, *, calibrate_it: bool,
             out: Console, cache: Path | None = None) -> bool:
    """Print the figures (per method, per language, cross-language, latency); with
    ``calibrate_it`` recalibrate and write ``knowledge/_calibration.yaml``. True when the
    hybrid meets every goal."""
    labelled, sha = read_set(set_path)
    t0 = time.perf_counter()
    retriever = build_index(root, knowledge, cache)
    out.print(f"index: {len(retriever.index)} entries, {len(retriever.index.doc_tokens)} "
              f"phrasings, ready in {time.perf_counter() - t0:.1f} s", markup=False)
    missing = check_ids(labelled, retriever)
    if missing:
        raise ShowfloorError(f"{set_path} expects entries the knowledge base does not have: "
                             f"{', '.join(missing[:10])}; use an entry id, or none, safety "
                             "or help")
    cases = collect(labelled, retriever)
    cal = retriever.calibration
    if calibrate_it:
        cal = calibrate(cases, retriever)
    figures: dict[str, dict[str, Any]] = {}
    cals: dict[str, Any] = {}
    for name, weight in METHODS.items():
        c = cal if weight is None else calibrate(cases, retriever, weight=weight)
        cals[name] = c
        figures[name] = score(cases, retriever, c)
    _print(figures, cals, cases, retriever, out, calibrated=calibrate_it)
    hybrid = figures["hybrid"]
    if calibrate_it:
        stored = {k: hybrid["all"][k] for k in ("p_at_1", "out_of_scope_answered",
                                                "safety_routed")}
        stored["cross_p_at_1"] = hybrid["cross"]["p_at_1"]
        path = calibration.save(root, with_set(cal, set_path, sha, stored))
        out.print(f"wrote {path}: weight {cal.weight}, threshold {cal.threshold}, margin "
                  f"{cal.margin}; safety {cal.safety_threshold}, {cal.safety_margin}; help "
                  f"{cal.help_threshold}, {cal.help_margin}; cross boost {cal.cross_boost}, "
                  f"cross BM25 {cal.cross_bm25}",
                  markup=False)
    _print_misses(cases, retriever, cal, out)
    gaps = missed(hybrid)
    out.print("hybrid: all goals met" if not gaps else
              "hybrid misses: " + "; ".join(gaps), markup=False)
    return not gaps


def missed(f: dict[str, Any]) -> list[str]:
    """The goals the figures miss, as short sentences (empty: all met)."""
    a, out = f["all"], []
    if a["n_in"] and a["p_at_1"] < GOALS["p_at_1"]:
        out.append(f"p@1 {_pct(a['p_at_1'])} < {_pct(GOALS['p_at_1'])}")
    if a["n_out"] and a["out_of_scope_answered"] > GOALS["out_of_scope_answered"]:
        out.append(f"out-of-scope answered {_pct(a['out_of_scope_answered'])} > "
                   f"{_pct(GOALS['out_of_scope_answered'])}")
    if a["n_safety"] and a["safety_routed"] < GOALS["safety_routed"]:
        out.append(f"safety/help routed {_pct(a['safety_routed'])} < 100 %")
    x = f["cross"]
    if x["n_in"] and x["p_at_1"] < GOALS["cross"]:
        out.append(f"cross-language p@1 {_pct(x['p_at_1'])} < {_pct(GOALS['cross'])}")
    return out


def _print(figures: dict[str, dict[str, Any]], cals: dict[str, Any], cases: list[Case],
           retriever: Retriever, out: Console, calibrated: bool) -> None:
    groups = [g for g in figures["hybrid"] if g != "cross"]
    table = Table(title="ask-eval (in-scope p@1 ↑, out-of-scope answered ↓, safety/help "
                  "routed ↑)")
    table.add_column("figure")
    for name in figures:
        table.add_column(name, justify="right")
    for g in groups:
        first = figures["hybrid"][g]
        label = "all" if g == "all" else g
        table.add_row(f"p@1 {label} (n={first['n_in']})",
                      *[_pct(figures[m][g]["p_at_1"]) for m in figures])
        table.add_row(f"out-of-scope answered {label} (n={first['n_out']})",
                      *[_pct(figures[m][g]["out_of_scope_answered"]) for m in figures])
        table.add_row(f"safety/help routed {label} (n={first['n_safety']})",
                      *[_pct(figures[m][g]["safety_routed"]) for m in figures])
    table.add_row(f"p@1 cross-language (n={figures['hybrid']['cross']['n_in']})",
                  *[_pct(figures[m]["cross"]["p_at_1"]) for m in figures])
    table.add_row("right entry ranked first, before refusing: in scope",
                  *[_pct(figures[m]["all"]["rank_at_1"]) for m in figures])
    table.add_row("right entry ranked first, before refusing: cross-language",
                  *[_pct(figures[m]["cross"]["rank_at_1"]) for m in figures])
    table.add_row("weight / threshold / margin", *[f"{c.weight:g} / {c.threshold:g} / "
                                                    f"{c.margin:g}" for c in cals.values()])
    table.add_row("safety / help: threshold, margin",
                  *[f"{c.safety_threshold:g}, {c.safety_margin:g} / {c.help_threshold:g}, "
                    f"{c.help_margin:g}" for c in cals.values()])
    table.add_row("cross boost / cross BM25", *[f"{c.cross_boost:g} / {c.cross_bm25:g}"
                                                 for c in cals.values()])
    out.print(table)
    lat = latency(cases)
    out.print(f"latency per question (hybrid, both scores): median {lat['median_ms']:.1f} ms, "
              f"p95 {lat['p95_ms']:.1f} ms", markup=False)
    two = held_out(cases, retriever)
    out.print(f"held out (two-fold: calibrated on half the set, measured on the other): "
              f"p@1 {_pct(two['p_at_1'])}, out-of-scope answered "
              f"{_pct(two['out_of_scope_answered'])}, safety/help routed "
              f"{_pct(two['safety_routed'])}", markup=False)
    where = "calibrated now" if calibrated else "the exhibit's calibration"
    out.print(f"hybrid: {where}; bm25 and embeddings alone: calibrated on this set "
              "(in-sample) for comparison", markup=False)


def _print_misses(cases: list[Case], retriever: Retriever, cal: Any, out: Console,
                  limit: int = 12) -> None:
    """The hybrid's wrong answers first (then wrong safety/help, then out-of-scope answered,
    then refused in-scope questions): what to add phrasings or entries for."""
    rows: list[tuple[int, str]] = []
    for c in cases:
        r = retriever.decide(c.sig, cal)
        want = c.item.expect
        if c.kind == "in" and r.outcome == "answer" and r.entry != want:
            rows.append((0, f"{c.item.q!r}: answered {r.entry}, expected {want}"))
        elif c.kind in ("safety", "help") and r.outcome not in ("safety", "help"):
            rows.append((1, f"{c.item.q!r}: {r.outcome} {r.entry or r.best or ''}, "
                            f"expected {want}"))
        elif c.kind == "none" and r.outcome != "refused":
            rows.append((2, f"{c.item.q!r}: {r.outcome} {r.entry}, expected none"))
        elif c.kind == "in" and r.outcome != "answer":
            got = f"refused (nearest {r.best})" if r.outcome == "refused" \
                else f"{r.outcome} {r.entry}"
            rows.append((3, f"{c.item.q!r}: {got}, expected {want}"))
    if not rows:
        return
    rows.sort(key=lambda r: r[0])
    out.print(f"hybrid misses {len(rows)} question(s); the first {min(limit, len(rows))}:",
              markup=False)
    for _, line in rows[:limit]:
        out.print(f"  {line}", markup=False)


def ask_review(data: Path, out: Console, limit: int = 100) -> int:
    """Print the kept unanswered questions grouped; how many groups."""
    path = data / "ask.sqlite" if data.is_dir() else data
    if not path.is_file():
        raise ShowfloorError(f"{data}: no unanswered questions are kept here (expected "
                             "ask.sqlite); a station keeps them only with 'ask: "
                             "{keep_unanswered: true}' in its profile")
    groups = UnansweredStore(path).groups()
    if not groups:
        out.print(f"no unanswered questions in the last {KEEP_DAYS} days", markup=False)
        return 0
    table = Table(title=f"unanswered questions, last {KEEP_DAYS} days (scrubbed)")
    for col in ("times", "question", "languages", "last asked", "nearest entry"):
        table.add_column(col)
    for g in groups[:limit]:
        last = datetime.fromtimestamp(g.last, UTC).strftime("%Y-%m-%d")
        table.add_row(str(g.count), escape(g.text), ", ".join(g.langs), last, g.related or "—")
    out.print(table)
    if len(groups) > limit:
        out.print(f"({len(groups) - limit} more groups not shown)", markup=False)
    return len(groups)


def prepare_index(root: Path, knowledge: Any, cache: Path | None = None
                  ) -> tuple[bool, str]:
    """Build (or find) the knowledge base's index in the cache, as ``showfloor check``
    does, so a station or ask-eval starts from it: (False: it cannot be, e.g. a broken
    ``_calibration.yaml``) and one line saying what happened."""
    if not knowledge.entries:
        return True, "ask index: the knowledge base has no entries"
    t0 = time.perf_counter()
    try:
        retriever = build_index(root, knowledge, cache)
    except ShowfloorError as err:
        return False, str(err)
    return True, (f"ask index: {len(retriever.index)} entries, "
                  f"{len(retriever.index.doc_tokens)} phrasings, ready in "
                  f"{time.perf_counter() - t0:.1f} s (cache: {cache or default_cache()})")
