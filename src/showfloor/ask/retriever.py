"""From a visitor's question to an outcome: answer, refused, safety or help.

Each entry's score is a weighted sum of two scores of its closest phrasing: the e5
cosine (rescaled from its compressed 0.7..1 range to 0..1) and BM25 divided by what
the question's words could score at most. Then the refusal rule (docs/ask.md):

1. the best **safety** (or **help**) entry wins when its score reaches
   ``safety_threshold`` (``help_threshold``) and is no more than ``-safety_margin``
   (``-help_margin``) below the best normal entry (so it wins over a normal entry
   that scores about the same or a little higher, but not over one that is plainly
   what was asked);
2. else the best entry is the **answer** when its score reaches ``threshold`` and
   leads the best *other entry* by at least ``margin``;
3. else the question is **refused**, with up to 4 related entries to offer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from showfloor.ask import text as T
from showfloor.ask.calibration import DEFAULT, Calibration
from showfloor.ask.glossary import EMPTY, Glossary
from showfloor.ask.index import Index, embed

Outcome = Literal["answer", "refused", "safety", "help"]
Bucket = Literal["high", "mid", "low"]
#: the e5 cosine of unrelated short questions sits near this; it maps to 0
EMB_FLOOR = 0.70
#: related entries offered with a refusal score at least this
RELATED_FLOOR = 0.15
RELATED = 4
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Resolution:
    """What the station feeds the engine (``Act("ask", ...)``): never the text."""

    outcome: Outcome
    entry: str | None
    related: tuple[str, ...] = ()
    bucket: Bucket = "low"
    #: the best entry's fused score and its lead on the next (for ask-eval, not events)
    score: float = 0.0
    lead: float = 0.0
    best: str | None = field(default=None)

    def payload(self, via: str = "typed") -> dict[str, object]:
        return {"outcome": self.outcome, "entry": self.entry, "related": list(self.related),
                "bucket": self.bucket, "via": via}


@dataclass(frozen=True, slots=True)
class Signals:
    """A question's raw scores per phrasing (kept by ask-eval to try many calibrations
    without searching again)."""

    index: Index
    #: e5 cosine and normalised BM25 of each phrasing
    emb: Scores
    bm25: Scores
    #: phrasings in the other script (no BM25 there; e5's cosine runs lower)
    cross: npt.NDArray[np.bool_]
    #: phrasings that count (False: left out, e.g. cross-language evaluation)
    keep: npt.NDArray[np.bool_] | None = None
    #: normalised BM25 of the question's words in the other script and the glossary's
    #: translations of its terms (None: neither), for the phrasings in the other script
    bm25x: Scores | None = None
    #: e5 cosine of each phrasing with its glossary translations (None: no glossary)
    embx: Scores | None = None

    def fused(self, weight: float, cross_boost: float = 0.0,
              cross_bm25: float = 0.0) -> Scores:
        """Each entry's score: its best phrasing's ``weight·e5 + (1-weight)·BM25``. A
        phrasing in the other script scores e5 alone — when the entry has no phrasing in
        the question's script at all, e5 of the phrasing with its glossary translations
        appended (``embx``, when the index has them), lifted by ``cross_boost`` (e5's
        cosine runs lower across languages) — plus ``cross_bm25`` times its BM25
        against the question's words in that script and the glossary's translations of
        its terms (``bm25x``)."""
        if not len(self.emb):
            return np.zeros(len(self.index), dtype=np.float64)
        keep = self.keep if self.keep is not None else np.ones(len(self.emb), dtype=bool)
        e = np.clip((self.emb - EMB_FLOOR) / (1 - EMB_FLOOR), 0.0, 1.0)
        same = weight * e + (1 - weight) * self.bm25
        if weight > 0:
            # entries with no kept phrasing in the question's script
            alone = self.index.per_entry((~self.cross & keep).astype(np.float64)) == 0
            lift = np.where(alone[self.index.doc_entry], cross_boost, 0.0)
            # the glossary's view stands in for the question's language where it is missing
            x = np.where(alone[self.index.doc_entry], self.embx, self.emb) \
                if self.embx is not None else self.emb
            other = np.clip((x + lift - EMB_FLOOR) / (1 - EMB_FLOOR), 0.0, 1.0)
            if self.bm25x is not None and cross_bm25 > 0:
                other = np.minimum(other + cross_bm25 * self.bm25x, 1.0)
        elif self.bm25x is not None:  # BM25 alone: only through the glossary
            other = self.bm25x
        else:
            other = np.zeros_like(self.emb)
        doc = np.where(self.cross, other, same)
        return self.index.per_entry(np.where(keep, doc, 0.0))


class Retriever:
    """An :class:`Index` with a :class:`Calibration`."""

    def __init__(self, index: Index, calibration: Calibration = DEFAULT,
                 glossary: Glossary = EMPTY) -> None:
        self.index = index
        self.calibration = calibration
        self.glossary = glossary
        #: each glossary term's BM25 tokens, worked out once
        self._term_tokens = {t: T.tokens(t) for g in glossary.groups for ts in g.values()
                             for t in (T.normalise(x) for x in ts)}
        kinds = np.array([e.kind for e in index.entries], dtype=object)
        self._kinds = {k: kinds == k for k in ("safety", "help")}
        self._special = self._kinds["safety"] | self._kinds["help"]

    def signals(self, question: str, *, langs: Iterable[str] | None = None) -> Signals:
        """The raw scores of ``question`` (``langs``: match only phrasings in these)."""
        n = len(self.index.doc_tokens)
        text = T.normalise(question)
        keep = self.index.doc_mask(langs)
        # words or Chinese characters: a question of emoji or punctuation has neither
        if not text or n == 0 or not any(c.isalnum() for c in text):
            z = np.zeros(n, dtype=np.float64)
            return Signals(self.index, z, z.copy(), np.zeros(n, dtype=bool), keep)
        vec = embed([text], query=True)[0]
        tokens = T.tokens(text)
        return Signals(self.index, self.index.embedding_scores(vec),
                       self.index.bm25_scores(tokens), self.index.cross_mask(text), keep,
                       self._cross_bm25(text, tokens), self.index.cross_embedding_scores(vec))

    def _cross_bm25(self, text: str, tokens: list[str]) -> Scores | None:
        """BM25 against the phrasings in the other script, of the question's own words in
        that script (a mixed question: "weed 伤脑子吗") and the glossary's terms for the
        question's terms; None when there are none."""
        cjk = T.has_cjk(text)
        extra = [t for term in self.glossary.expand(text)
                 for t in self._term_tokens.get(term) or T.tokens(term)]
        words = [t for t in dict.fromkeys(tokens + extra) if T.has_cjk(t) != cjk]
        return self.index.bm25_scores(words) if words else None

    def resolve(self, question: str, *, langs: Iterable[str] | None = None,
                allowed: Collection[str] | None = None) -> Resolution:
        """The outcome for ``question``; never raises on any text.

        ``allowed``: entry ids the scene offers (its ``tags``); safety and help entries
        are always allowed.
        """
        return self.decide(self.signals(question, langs=langs), allowed=allowed)

    def decide(self, sig: Signals, cal: Calibration | None = None,
               allowed: Collection[str] | None = None) -> Resolution:
        cal = cal or self.calibration
        entries = self.index.entries
        fused = sig.fused(cal.weight, cal.cross_boost, cal.cross_bm25)
        if allowed is not None:
            keep = np.array([e.id in allowed for e in entries], dtype=bool) | self._special
            fused = np.where(keep, fused, -1.0)
        if not len(fused):
            return Resolution("refused", None)
        normal = np.where(self._special, -1.0, fused)
        order = np.argsort(-normal, kind="stable")
        best = int(order[0])
        top = float(normal[best])
        routes: list[tuple[float, int]] = []
        for kind, mask in self._kinds.items():
            if not mask.any():
                continue
            s = int(np.argmax(np.where(mask, fused, -1.0)))
            threshold, margin = cal.rule(kind)
            if fused[s] >= threshold and fused[s] - max(top, 0.0) >= margin:
                routes.append((float(fused[s]), s))
        if routes:
            score, s = max(routes)
            outcome: Outcome = "help" if entries[s].kind == "help" else "safety"
            return Resolution(outcome, entries[s].id, (), _bucket(score, cal), score,
                              score - max(top, 0.0), entries[s].id)
        second = float(normal[order[1]]) if len(order) > 1 and normal[order[1]] >= 0 else 0.0
        lead = top - max(second, 0.0)
        if top < 0:
            return Resolution("refused", None)
        if top >= cal.threshold and lead >= cal.margin:
            return Resolution("answer", entries[best].id, (), _bucket(top, cal), top, lead,
                              entries[best].id)
        related = tuple(entries[int(i)].id for i in order[:RELATED]
                        if normal[int(i)] >= RELATED_FLOOR)
        return Resolution("refused", None, related, _bucket(top, cal), top, lead,
                          entries[best].id)


def _bucket(score: float, cal: Calibration) -> Bucket:
    """The score bucket an event records: ``high`` well over the threshold, ``mid`` near
    it (within 0.1 below to halfway above), ``low`` below."""
    if score >= cal.threshold + (1 - cal.threshold) / 2:
        return "high"
    if score >= cal.threshold - 0.1:
        return "mid"
    return "low"
