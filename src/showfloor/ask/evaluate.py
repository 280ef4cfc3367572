"""``showfloor ask-eval``: how well the retriever does on a labelled set, and calibration.

A labelled set (docs/ask.md)::

    questions:
      - {q: "is vape drug", lang: en, expect: vaping-is-a-drug}
      - {q: "who won the football", lang: en, expect: none}     # out of scope
      - {q: "where can i buy weed", lang: en, expect: safety}   # any safety entry
      - {q: "my friend takes pills what do i do", lang: en, expect: help}
"""

from __future__ import annotations

import hashlib
import itertools
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from showfloor.ask.calibration import DEFAULT, Calibration
from showfloor.ask.retriever import Resolution, Retriever, Signals
from showfloor.errors import ContentError

#: the goals the calibration keeps (docs/ask.md)
MAX_OUT_OF_SCOPE = 0.05
#: cross-language boosts tried by the calibration
BOOSTS = (0.0, 0.04, 0.08, 0.12, 0.16)
#: shares of BM25 through the glossary (other-script phrasings) tried by the calibration
CROSS_BM25 = (0.0, 0.05, 0.1)
#: shares of the embedding score tried by the calibration
WEIGHTS = (0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
#: how far under the lowest safety/help question's scores the safety rule is set
SAFETY_SLACK = 0.03
MARGINS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12)
METHODS: dict[str, float | None] = {"bm25": 0.0, "embeddings": 1.0, "hybrid": None}


class Labelled(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    q: str
    lang: str
    expect: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")


class LabelledSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    questions: list[Labelled] = Field(min_length=1)


def read_set(path: Path) -> tuple[LabelledSet, str]:
    """The set and its sha256; a broken file raises :class:`ContentError` naming it."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ContentError(f"cannot read the labelled set ({err.strerror or err})",
                           path=path) from err
    try:
        doc = yaml.safe_load(raw.decode("utf-8-sig"))
        return LabelledSet.model_validate(doc), hashlib.sha256(raw).hexdigest()
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        mark = getattr(err, "problem_mark", None)
        raise ContentError(f"not a valid YAML labelled set ({err})", path=path,
                           line=mark.line + 1 if mark else 0,
                           column=mark.column + 1 if mark else 0) from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContentError(f"'{where}': {first['msg']}", path=path,
                           hint="each question is {q: TEXT, lang: en|zh-CN, expect: ENTRY-ID "
                           "| none | safety | help}") from err


Kind = Literal["in", "none", "safety", "help"]


@dataclass(frozen=True, slots=True)
class Case:
    item: Labelled
    kind: Kind
    sig: Signals
    #: the same question against only the other languages' phrasings (in-scope only)
    cross: Signals | None
    ms: float


def check_ids(s: LabelledSet, retriever: Retriever) -> list[str]:
    """Expected entry ids the knowledge base does not have."""
    ids = {e.id for e in retriever.index.entries}
    return sorted({q.expect for q in s.questions
                   if q.expect not in ("none", "safety", "help") and q.expect not in ids})


def collect(s: LabelledSet, retriever: Retriever, cross: bool = True) -> list[Case]:
    langs = retriever.index.langs
    out: list[Case] = []
    for item in s.questions:
        kind: Kind = item.expect if item.expect in ("none", "safety", "help") \
            else "in"  # type: ignore[assignment]
        t0 = time.perf_counter()
        sig = retriever.signals(item.q)
        ms = (time.perf_counter() - t0) * 1000
        other = [lang for lang in langs if lang != item.lang]
        x = retriever.signals(item.q, langs=other) if cross and kind == "in" and other else None
        out.append(Case(item, kind, sig, x, ms))
    return out


def _right(case: Case, r: Resolution) -> bool:
    if case.kind == "in":
        return r.outcome == "answer" and r.entry == case.item.expect
    if case.kind == "none":
        return r.outcome == "refused"
    return r.outcome in ("safety", "help")


def _rate(hits: Sequence[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def score(cases: Sequence[Case], retriever: Retriever, cal: Calibration) -> dict[str, Any]:
    """The figures of one calibration: p@1 (in scope), out-of-scope answered, safety/help
    routed — overall, per language and cross-language."""
    res = [retriever.decide(c.sig, cal) for c in cases]
    ids = [e.id for e in retriever.index.entries]
    top1 = [ids[int(np.argmax(c.sig.fused(cal.weight, cal.cross_boost, cal.cross_bm25)))]
            == c.item.expect
            for c in cases]
    out: dict[str, Any] = {}
    groups: dict[str, list[int]] = {"all": list(range(len(cases)))}
    for i, c in enumerate(cases):
        groups.setdefault(c.item.lang, []).append(i)
    for name, idx in groups.items():
        inscope = [_right(cases[i], res[i]) for i in idx if cases[i].kind == "in"]
        oos = [res[i].outcome != "refused" for i in idx if cases[i].kind == "none"]
        special = [_right(cases[i], res[i]) for i in idx if cases[i].kind in ("safety", "help")]
        out[name] = {"p_at_1": _rate(inscope), "n_in": len(inscope),
                     "rank_at_1": _rate([top1[i] for i in idx if cases[i].kind == "in"]),
                     "out_of_scope_answered": _rate(oos), "n_out": len(oos),
                     "safety_routed": _rate(special), "n_safety": len(special)}
    xs = [(c, retriever.decide(c.cross, cal)) for c in cases if c.cross is not None]
    xtop = [ids[int(np.argmax(c.cross.fused(cal.weight, cal.cross_boost, cal.cross_bm25)))]
            == c.item.expect
            for c in cases if c.cross is not None]
    out["cross"] = {"p_at_1": _rate([_right(c, r) for c, r in xs]), "n_in": len(xs),
                    "rank_at_1": _rate(xtop)}
    return out


def _decisions(fused: np.ndarray[Any, Any], kinds: dict[str, np.ndarray[Any, Any]]
               ) -> tuple[dict[str, np.ndarray[Any, Any]], np.ndarray[Any, Any],
                          np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per question: the best safety and the best help score, the best normal entry, its
    score, its lead on the next."""
    special = kinds["safety"] | kinds["help"]
    best = {k: np.where(m, fused, -1.0).max(axis=1) if m.any() else np.full(len(fused), -1.0)
            for k, m in kinds.items()}
    normal = np.where(special, -1.0, fused)
    order = np.argsort(-normal, axis=1)
    rows = np.arange(len(fused))
    top = normal[rows, order[:, 0]]
    second = np.maximum(normal[rows, order[:, 1]], 0.0) if normal.shape[1] > 1 \
        else np.zeros(len(fused))
    return best, order[:, 0], top, top - second


def _routed(best: dict[str, np.ndarray[Any, Any]], top: np.ndarray[Any, Any],
            rules: dict[str, tuple[float, float]]) -> np.ndarray[Any, Any]:
    out = np.zeros(len(top), dtype=bool)
    for kind, (threshold, margin) in rules.items():
        out |= (best[kind] >= threshold) & (best[kind] - np.maximum(top, 0.0) >= margin)
    return out


def calibrate(cases: Sequence[Case], retriever: Retriever, weight: float | None = None
              ) -> Calibration:
    """Grid search: maximise p@1 on in-scope questions subject to 100 % of safety/help
    questions routed and ≤ 5 % of out-of-scope ones answered (a safety/help route counts
    as answered), then cross-language p@1; ties go to the stricter rule.

    The safety (help) threshold and margin are the highest that still route every
    question labelled ``safety`` (``help``) to an entry of that kind, less
    :data:`SAFETY_SLACK`: any lower only routes more of the others. A set without such
    questions keeps the defaults. ``weight`` fixed (a one-method baseline: 0 BM25,
    1 embeddings) or searched.
    """
    entry_kinds = np.array([e.kind for e in retriever.index.entries], dtype=object)
    kinds_of = {k: entry_kinds == k for k in ("safety", "help")}
    kinds = [c.kind for c in cases]
    expect = np.array([retriever.index.by_id.get(c.item.expect, -1) for c in cases])
    is_in = np.array([k == "in" for k in kinds])
    is_out = np.array([k == "none" for k in kinds])
    xcases = [c for c in cases if c.cross is not None]
    xexpect = np.array([retriever.index.by_id.get(c.item.expect, -1) for c in xcases])
    best: tuple[tuple[float, ...], Calibration] | None = None
    weights = [weight] if weight is not None else list(WEIGHTS)
    boosts = BOOSTS if weight != 0.0 else (0.0,)
    # embeddings alone take no BM25; BM25 alone takes it whole
    shares = CROSS_BM25 if weight is None or 0 < weight < 1 else (1.0 - (weight or 0.0),)
    thresholds = np.round(np.arange(0.20, 0.96, 0.01), 2)
    for w, boost, share in itertools.product(weights, boosts, shares):
        fused = np.array([c.sig.fused(w, boost, share) for c in cases])  # questions × entries
        sbest, pick, top, lead = _decisions(fused, kinds_of)
        rules: dict[str, tuple[float, float]] = {}
        for kind in ("safety", "help"):
            mine = np.array([k == kind for k in kinds])
            if mine.any() and kinds_of[kind].any():
                gap = sbest[kind] - np.maximum(top, 0.0)
                rules[kind] = (max(round(float(sbest[kind][mine].min()) - SAFETY_SLACK, 3), 0.0),
                               max(round(float(gap[mine].min()) - SAFETY_SLACK, 3), -1.0))
            else:
                rules[kind] = DEFAULT.rule(kind)
        routed = _routed(sbest, top, rules)
        hit = pick == expect
        # every (threshold, margin) at once: thresholds × margins × questions
        t3 = thresholds[:, None, None]
        m3 = np.array(MARGINS)[None, :, None]
        answered = ~routed & (top >= t3) & (lead >= m3)
        px = np.zeros(answered.shape[:2])
        if xcases:
            xf = np.array([c.cross.fused(w, boost, share) for c in xcases])  # type: ignore[union-attr]
            xs, xpick, xtop, xlead = _decisions(xf, kinds_of)
            xok = (xpick == xexpect) & ~_routed(xs, xtop, rules)
            px = (xok & (xtop >= t3) & (xlead >= m3)).mean(axis=-1)
        oos = (answered | routed)[..., is_out].mean(axis=-1) if is_out.any() \
            else np.zeros(answered.shape[:2])
        p1 = (answered & hit)[..., is_in].mean(axis=-1) if is_in.any() \
            else np.zeros(answered.shape[:2])
        # the goals first; a set where nothing meets them gets the rule nearest to them
        excess = np.maximum(oos - MAX_OUT_OF_SCOPE, 0.0)
        for i, j in zip(*np.nonzero(excess <= excess.min() + 1e-12), strict=True):
            rank = (-round(float(excess[i, j]), 6), round(float(p1[i, j]), 6),
                    round(float(px[i, j]), 6), -float(oos[i, j]), float(thresholds[i]),
                    MARGINS[j], -boost, -share)
            if best is None or rank > best[0]:
                best = (rank, Calibration(
                    weight=w, threshold=float(thresholds[i]), margin=MARGINS[j],
                    safety_threshold=rules["safety"][0], safety_margin=rules["safety"][1],
                    help_threshold=rules["help"][0], help_margin=rules["help"][1],
                    cross_boost=boost, cross_bm25=share))
    assert best is not None
    return best[1]


def held_out(cases: Sequence[Case], retriever: Retriever) -> dict[str, float | None]:
    """Two-fold figures: calibrate on every other question, score on the rest (and the
    other way round), so the calibrated figures are not only in-sample."""
    halves = [list(cases[0::2]), list(cases[1::2])]
    got: list[dict[str, Any]] = []
    for fit, test in ((halves[0], halves[1]), (halves[1], halves[0])):
        got.append(score(test, retriever, calibrate(fit, retriever))["all"])

    def mean(key: str) -> float | None:
        vals = [g[key] for g in got if g[key] is not None]
        return sum(vals) / len(vals) if vals else None

    return {k: mean(k) for k in ("p_at_1", "out_of_scope_answered", "safety_routed")}


def latency(cases: Sequence[Case]) -> dict[str, float]:
    ms = sorted(c.ms for c in cases)
    return {"median_ms": statistics.median(ms),
            "p95_ms": ms[min(len(ms) - 1, int(0.95 * len(ms)))]}


def with_set(cal: Calibration, set_path: Path, sha: str, figures: dict[str, Any]
             ) -> Calibration:
    return cal.model_copy(update={"set_sha256": sha, "set_path": str(set_path),
                                  "calibrated_on": date.today().isoformat(),
                                  "figures": figures})
