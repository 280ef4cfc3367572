"""The knowledge base of an ``ask`` station: ``knowledge/*.yaml``, loaded and linted.

One file per topic, in file-name order; files whose name starts with ``_``
are not entry files (``_calibration.yaml`` belongs to the retriever)::

    topic: {id: vaping, title: {zh-CN: 电子烟, en: Vaping}}
    entries:
      - id: vaping-is-a-drug
        questions: {zh-CN: [...], en: [...]}
        answer: {zh-CN: ..., en: ...}
        ...

Loading turns each file into a :class:`~showfloor.content.model.Topic` with
``file:line:column`` for every key and value (a broken entry is reported and
left out; the others are still checked). :func:`lint_knowledge` holds the
rules a schema cannot see; docs/ask.md lists them with the answer budgets.
"""

from __future__ import annotations

import difflib
import functools
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, ValidationError

from showfloor.content.model import (
    AskSettings,
    Id,
    Image,
    Knowledge,
    KnowledgeEntry,
    Model,
    MoreImage,
    Text,
    Topic,
)
from showfloor.content.problems import Problem

if TYPE_CHECKING:
    from showfloor.content.lint import Linter
    from showfloor.content.load import Loaded, Path_

__all__ = [
    "ANSWER_BUDGETS", "KNOWLEDGE_DIR", "MIN_PHRASINGS", "AnswerBudget", "AskSettings",
    "Knowledge", "KnowledgeEntry", "KnowledgeFile", "MoreImage", "Topic", "TopicHead",
    "answer_length", "knowledge_files", "lint_knowledge", "read_knowledge",
]

KNOWLEDGE_DIR = "knowledge"
#: Fewer phrasings than this in a language is an error: the retriever needs variety.
MIN_PHRASINGS = 3
#: Two phrasings whose character-bigram Jaccard similarity reaches this are near-duplicates.
NEAR_DUPLICATE = 0.8


@dataclass(frozen=True, slots=True)
class AnswerBudget:
    """How long an answer may be on a display kind, in characters: ``wide`` for
    languages written in Han, kana or Hangul (zh, ja, ko), ``narrow`` for the rest.
    Blanks are not counted."""

    wide: int
    narrow: int


#: Answer budgets per display kind (docs/ask.md, "Budgets and exit codes"). A hologram
#: draws a 2-D scene as its title only: its answers are read on the station's control
#: panel, a tablet.
ANSWER_BUDGETS: dict[str, AnswerBudget] = {
    "touch": AnswerBudget(120, 320),
    "projector": AnswerBudget(80, 220),
    "vr": AnswerBudget(60, 160),
    "hologram-pyramid": AnswerBudget(80, 220),
    "hologram-fan": AnswerBudget(80, 220),
}
_WIDE_LANGUAGES = {"zh", "ja", "ko"}


def answer_length(text: str) -> int:
    """The characters of an answer that count against its budget (blanks do not)."""
    return sum(1 for ch in text if not ch.isspace())


def budget_for(lang: str, budget: AnswerBudget) -> int:
    return budget.wide if lang.split("-")[0].lower() in _WIDE_LANGUAGES else budget.narrow


# -- loading -------------------------------------------------------------------------


class TopicHead(Model):
    """A knowledge file's ``topic:``."""

    id: Id
    title: Text


class KnowledgeFile(Model):
    """One ``knowledge/*.yaml`` file as written (``showfloor schema --knowledge``)."""

    topic: TopicHead
    entries: list[KnowledgeEntry] = Field(default_factory=list)


_FILE_KEYS = tuple(KnowledgeFile.model_fields)


def knowledge_files(root: Path) -> list[Path]:
    """The entry files of ``root/knowledge`` (not ``_*.yaml``), in name order."""
    folder = root / KNOWLEDGE_DIR
    if not folder.is_dir():
        return []
    return [f for f in sorted(folder.glob("*.y*ml")) if not f.name.startswith("_")
            and f.is_file()]


def read_knowledge(loaded: Loaded, languages: Sequence[str]) -> Knowledge | None:
    """Read ``knowledge/*.yaml`` into a :class:`Knowledge` (None: no knowledge folder).

    Problems go to ``loaded.problems``; positions to ``loaded.positions`` under
    ``("knowledge", "topics", t, …)`` — the model's own paths, so lint and the
    text rules find every line. A file whose topic is broken is left out; a
    broken entry is left out of its topic (the numbering counts kept ones).
    """
    from showfloor.content.load import Positions, _merge, _translate, read_yaml

    root = loaded.root
    if not (root / KNOWLEDGE_DIR).is_dir():
        return None
    topics: list[Topic] = []
    for f in knowledge_files(root):
        display = f"{KNOWLEDGE_DIR}/{f.name}"
        doc, probs = read_yaml(f, display)
        loaded.problems.extend(probs)
        if doc is None:
            continue
        if doc.value is None:
            loaded.problems.append(Problem(
                "warning", f"{display} is empty", display, 1, 1,
                "write 'topic:' and 'entries:', or remove the file", "knowledge"))
            continue
        start = doc.start
        line, col = (start.line, start.column) if start else (1, 1)
        value = doc.value
        if not isinstance(value, dict):
            loaded.problems.append(Problem(
                "error", f"{display} must be a mapping with 'topic:' and 'entries:'",
                display, line, col, "write 'topic: {id: …, title: {…}}' and then "
                "'entries:' with one '- id: …' per entry", "schema"))
            continue
        # file-shaped paths → the model's: topic.X → X, entries → entries
        ti = len(topics)
        here = Positions()
        base: Path_ = ("knowledge", "topics", ti)
        here.files[base] = display
        here.values[base] = _pos(display, line, col)
        _merge(doc, display, base, here, ("topic",))
        for p, m in doc.keys.items():
            if p and p[0] == "entries":
                here.keys[(*base, *p)] = _pos(display, m.line, m.column)
        for p, m in doc.values.items():
            if p and p[0] == "entries":
                here.values[(*base, *p)] = _pos(display, m.line, m.column)
        for key in value:
            if key not in _FILE_KEYS:
                near = difflib.get_close_matches(str(key), _FILE_KEYS, n=1)
                km = doc.keys.get((key,))
                loaded.problems.append(Problem(
                    "error", f"unknown key '{key}' in {display}", display,
                    km.line if km else line, km.column if km else col,
                    f"did you mean '{near[0]}'?" if near else
                    "a knowledge file has 'topic:' and 'entries:'", "unknown-key"))
        head = value.get("topic")
        if not isinstance(head, dict):
            tm = doc.values.get(("topic",))
            loaded.problems.append(Problem(
                "error", f"{display} has no 'topic:' mapping" if head is None else
                f"'topic' in {display} must be a mapping (id:, title:)", display,
                tm.line if tm else line, tm.column if tm else col,
                f"add 'topic: {{id: {_suggest_id(f.stem)}, title: {{…}}}}' at the top",
                "schema"))
            continue
        raw_entries = value.get("entries", [])
        if raw_entries is None:
            raw_entries = []
        if not isinstance(raw_entries, list):
            em = doc.values.get(("entries",))
            loaded.problems.append(Problem(
                "error", f"'entries' in {display} must be a list of entries", display,
                em.line if em else line, em.column if em else col,
                "write each entry as '- id: …' with its keys indented below", "schema"))
            raw_entries = []
        head_data = {k: v for k, v in head.items() if k != "entries"}
        try:
            topic = Topic.model_validate({**head_data, "entries": []})
        except ValidationError as err:
            loaded.problems.extend(_translate(err, Topic, head_data, base, here,
                                              languages=languages))
            continue
        kept: list[KnowledgeEntry] = []
        kept_at: list[int] = []
        for ei, item in enumerate(raw_entries):
            at = (*base, "entries", ei)
            if not isinstance(item, dict):
                pos = here.at(at)
                loaded.problems.append(Problem(
                    "error", "an entry must be a mapping (id:, questions:, answer:, …)",
                    display, pos.line if pos else line, pos.column if pos else col,
                    "start each entry with '- id: …' and give its keys on the lines "
                    "below, indented", "schema"))
                continue
            try:
                kept.append(KnowledgeEntry.model_validate(item))
                kept_at.append(ei)
            except ValidationError as err:
                loaded.problems.extend(_translate(err, KnowledgeEntry, item, at, here,
                                                  languages=languages))
                eid = item.get("id")
                if isinstance(eid, str):
                    loaded.unchecked_entries.add(eid)
        _renumber_entries(here, base, kept_at)
        pos_all = loaded.positions
        pos_all.keys.update(here.keys)
        pos_all.values.update(here.values)
        pos_all.files.update(here.files)
        topics.append(topic.model_copy(update={"entries": kept}))
    return Knowledge(topics=topics)


def _pos(file: str, line: int, column: int) -> Any:
    from showfloor.content.load import Pos

    return Pos(file, line, column)


def _renumber_entries(here: Any, base: Path_, kept: list[int]) -> None:
    """Make entry numbers in ``here`` count the kept entries only."""
    new = {old: i for i, old in enumerate(kept)}
    n = len(base)
    for name in ("keys", "values", "files"):
        table: dict[Path_, Any] = getattr(here, name)
        moved: dict[Path_, Any] = {}
        for p, v in table.items():
            old = p[n + 1] if len(p) > n + 1 else None
            if p[:n] == base and p[n:n + 1] == ("entries",) and isinstance(old, int):
                if old not in new:
                    continue
                p = (*base, "entries", new[old], *p[n + 2:])
            moved[p] = v
        setattr(here, name, moved)


def _suggest_id(stem: str) -> str:
    s = "".join(ch if ch.isalnum() else "_" for ch in stem.lower()).strip("_")
    return s if s and s[0].isalpha() and s.isascii() else "my_topic"


# -- lint ------------------------------------------------------------------------------


def _normal(text: str) -> str:
    """A phrasing as the near-duplicate rule compares it: NFKC, case-folded, letters and
    digits only."""
    t = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in t if ch.isalnum())


def _bigrams(text: str) -> frozenset[str]:
    if len(text) < 2:
        return frozenset((text,)) if text else frozenset()
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


@dataclass(frozen=True, slots=True)
class _Phrasing:
    entry: int  # index into Knowledge.entries
    where: Path_
    lang: str
    norm: str
    grams: frozenset[str]


def lint_knowledge(lt: Linter, display: str) -> None:
    """The knowledge base's own rules (see docs/ask.md)."""
    ex = lt.exhibit
    kb = ex.knowledge
    if kb is None:
        return
    langs = [x for x in ex.languages if x]
    budget = ANSWER_BUDGETS.get(display, ANSWER_BUDGETS["touch"])
    today = date.today()
    max_days = ex.ask.review_max_days
    seen: dict[str, Path_] = {}
    scene_ids = {s.id for s in ex.scenes}
    phrasings: list[_Phrasing] = []
    entries_at: list[tuple[str, Path_]] = []
    topic_ids: dict[str, int] = {}
    for ti, topic in enumerate(kb.topics):
        tbase: Path_ = ("knowledge", "topics", ti)
        if topic.id in topic_ids:
            first = lt.loaded.positions.at(("knowledge", "topics", topic_ids[topic.id], "id"))
            lt.error((*tbase, "id"), f"duplicate topic id '{topic.id}'"
                     + (f": the first is at {first.file}:{first.line}:{first.column}"
                        if first else ""),
                     "give each knowledge file its own topic id, or move the entries into "
                     "one file", "duplicate-id")
        topic_ids.setdefault(topic.id, ti)
        for ei, e in enumerate(topic.entries):
            at: Path_ = (*tbase, "entries", ei)
            entries_at.append((e.id, at))
            # duplicate id
            if e.id in seen:
                first = lt.loaded.positions.at((*seen[e.id], "id"))
                lt.error((*at, "id"), f"duplicate entry id '{e.id}'"
                         + (f": the first is at {first.file}:{first.line}:{first.column}"
                            if first else ""),
                         f"give one of the two another id, e.g. '{e.id}-2'", "duplicate-id")
            seen.setdefault(e.id, at)
            # translations and phrasings
            for lang in langs:
                qs = e.questions.get(lang)
                if not qs:
                    sample = next((q[0] for q in e.questions.values() if q), "")
                    lt._add("error", (*at, "questions"), f"entry '{e.id}' has no questions "
                            f"in {lang}", f"add '{lang}: [...]' with at least {MIN_PHRASINGS} "
                            "ways to ask" + (f" '{sample[:30]}'" if sample else ""),
                            "translation", key=True)
                elif len(qs) < MIN_PHRASINGS:
                    lt.error((*at, "questions", lang), f"entry '{e.id}' has {len(qs)} "
                             f"phrasing{'s' if len(qs) != 1 else ''} in {lang}; at least "
                             f"{MIN_PHRASINGS} are needed",
                             "add the ways visitors really ask it: short, with slang, "
                             "misspelled", "phrasings")
            for lang in e.questions:
                if lang not in langs and "languages" not in lt.loaded.unchecked:
                    near = difflib.get_close_matches(lang, langs, n=1)
                    lt.warning((*at, "questions", lang), f"entry '{e.id}' has questions in "
                               f"'{lang}', which is not one of the exhibit's languages",
                               f"did you mean '{near[0]}'?" if near else
                               f"add '{lang}' to languages, or remove them", "translation")
            # answer budget (a missing answer translation is the text rule's)
            for lang, text in e.answer.items():
                if lang == "id" or lang not in langs:
                    continue
                n = answer_length(text)
                most = budget_for(lang, budget)
                if n > most:
                    lt.error((*at, "answer", lang), f"the {lang} answer of entry '{e.id}' "
                             f"is {n} characters; a {display} display allows {most}",
                             f"shorten it by {n - most}, and put the rest in a scene "
                             "linked with 'more:'", "answer-budget")
            _lint_more(lt, e, at, scene_ids)
            lt.check_source((*at, "source"), e.source)
            age = (today - e.reviewed_on).days
            if age > max_days:
                lt.warning((*at, "reviewed_on"), f"entry '{e.id}' was last reviewed "
                           f"{age} days ago ({e.reviewed_on.isoformat()}); reviews are due "
                           f"every {max_days} days",
                           "review it and update 'reviewed_on', or set "
                           "'ask: {review_max_days: …}' in exhibit.yaml", "review-age")
            elif age < 0:
                lt.warning((*at, "reviewed_on"), f"entry '{e.id}' says it was reviewed on "
                           f"{e.reviewed_on.isoformat()}, a day still to come",
                           "write the day the review took place", "review-age")
            idx = len(entries_at) - 1
            for lang, qs in e.questions.items():
                for qi, q in enumerate(qs):
                    norm = _normal(q)
                    phrasings.append(_Phrasing(idx, (*at, "questions", lang, qi), lang, norm,
                                               _bigrams(norm)))
    _lint_near_duplicates(lt, phrasings, entries_at)


def _lint_more(lt: Linter, e: KnowledgeEntry, at: Path_, scene_ids: set[str]) -> None:
    if e.more is None:
        return
    if e.kind != "answer":
        lt.error((*at, "more"), f"entry '{e.id}' is a {e.kind} entry and has 'more'",
                 f"a {e.kind} answer stands on its own: remove 'more'", "knowledge")
        return
    if isinstance(e.more, str):
        if e.more not in scene_ids and lt.all_scenes and not lt.loaded.may_exist(e.more):
            near = difflib.get_close_matches(e.more, sorted(scene_ids), n=1)
            lt.error((*at, "more"), f"entry '{e.id}' goes to scene '{e.more}' for more, "
                     "which does not exist",
                     f"did you mean '{near[0]}'?" if near else
                     "give the id of a scene, or {image: media/…, alt: {…}}",
                     "unknown-scene")
        return
    from showfloor.content.lint import _lint_assets
    from showfloor.content.scenes.base import Asset

    more: MoreImage = e.more
    picture = Image(src=more.image, alt=more.alt)
    _lint_assets(lt, [Asset(more.image, "image", (*at, "more", "image"), image=picture,
                            frame="media")])


def _lint_near_duplicates(lt: Linter, phrasings: list[_Phrasing],
                          entries_at: list[tuple[str, Path_]]) -> None:
    """Two entries with phrasings that read alike: the retriever would confuse them.

    Equal normalised text, or character-bigram Jaccard ≥ :data:`NEAR_DUPLICATE`. Only
    phrasings of the same language are compared, through an inverted index of bigrams
    (a pair must share enough bigrams to reach the threshold), so a 1,000-entry base
    takes well under a second. Each pair of entries is reported once.
    """
    by_norm: dict[tuple[str, str], _Phrasing] = {}
    reported: set[tuple[int, int]] = set()

    def report(a: _Phrasing, b: _Phrasing, how: str) -> None:
        pair = (min(a.entry, b.entry), max(a.entry, b.entry))
        if pair in reported:
            return
        reported.add(pair)
        first = lt.loaded.positions.at(a.where)
        there = f" at {first.file}:{first.line}:{first.column}" if first else ""
        lt.warning(b.where, f"entry '{entries_at[b.entry][0]}' has a phrasing that {how} "
                   f"one of entry '{entries_at[a.entry][0]}'{there}",
                   "the retriever would confuse the two: reword one phrasing, or merge "
                   "the entries", "near-duplicate")

    distinct: list[_Phrasing] = []
    for p in phrasings:
        if not p.norm:
            continue
        same = by_norm.get((p.lang, p.norm))
        if same is None:
            by_norm[(p.lang, p.norm)] = p
            distinct.append(p)
        elif same.entry != p.entry:
            report(same, p, "is the same as")
    by_lang: dict[str, list[_Phrasing]] = {}
    for p in distinct:
        by_lang.setdefault(p.lang, []).append(p)
    for group in by_lang.values():
        for i, j in _similar_pairs(group):
            a, b = group[i], group[j]
            if a.entry != b.entry:
                first, second = (a, b) if a.where < b.where else (b, a)
                report(first, second, "nearly repeats")


#: Shared bigrams the candidate step asks of a pair (the k of the k-prefix filter).
_K = 2


@functools.lru_cache(maxsize=256)
def _pairs_of(m: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    a, b = np.triu_indices(m, 1)
    return a, b


def _similar_pairs(group: list[_Phrasing]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of ``group`` whose bigram sets have a Jaccard similarity of
    at least :data:`NEAR_DUPLICATE`, in order.

    A k-prefix filter finds the candidates without comparing every pair: with the
    bigrams of each set in one global order (rarest first), two sets x, y with
    |x ∩ y| ≥ α share at least k bigrams among the first |x| - α + k of x and the
    first |y| - α + k of y; J ≥ t needs |x ∩ y| ≥ ceil(t·|x|) (and the same for y). The
    pairs are counted with numpy; only those sharing k prefix bigrams, of sizes within
    the ratio t, are compared in full. Sets of one bigram are matched exactly.
    """
    t = NEAR_DUPLICATE
    freq: dict[str, int] = {}
    for p in group:
        for g in p.grams:
            freq[g] = freq.get(g, 0) + 1
    rank = {g: r for r, g in enumerate(sorted(freq, key=lambda g: (freq[g], g)))}
    out: set[tuple[int, int]] = set()
    singles: dict[str, list[int]] = {}
    toks: list[int] = []
    recs: list[int] = []
    for i, p in enumerate(group):
        n = len(p.grams)
        if n == 1:
            singles.setdefault(next(iter(p.grams)), []).append(i)
            continue
        ids = sorted(rank[g] for g in p.grams)
        prefix = ids[: n - math.ceil(t * n - 1e-9) + _K]
        toks += prefix
        recs += [i] * len(prefix)
    for same in singles.values():
        out.update((a, b) for k, a in enumerate(same) for b in same[k + 1:])
    if toks:
        order = np.argsort(np.asarray(toks, dtype=np.int64), kind="stable")
        tok = np.asarray(toks, dtype=np.int64)[order]
        rec = np.asarray(recs, dtype=np.int64)[order]
        bounds = np.flatnonzero(np.diff(tok)) + 1
        starts = np.concatenate(([0], bounds))
        ends = np.concatenate((bounds, [len(tok)]))
        keys: list[np.ndarray[Any, Any]] = []
        size = len(group)
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            m = hi - lo
            if m < 2:
                continue
            members = rec[lo:hi]
            a, b = _pairs_of(m)
            x, y = members[a], members[b]
            keys.append(np.minimum(x, y) * size + np.maximum(x, y))
        if keys:
            uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
            cand = uniq[counts >= _K]
            first, second = cand // size, cand % size
            sizes = np.asarray([len(p.grams) for p in group], dtype=np.int64)
            small = np.minimum(sizes[first], sizes[second])
            large = np.maximum(sizes[first], sizes[second])
            keep = small >= t * large - 1e-9
            first, second = first[keep], second[keep]
            # exact intersections, one record against all its candidates at a time
            vocab = len(rank)
            width = int(sizes.max())
            table = np.full((size, width), vocab, dtype=np.int64)
            for i, p in enumerate(group):
                table[i, : len(p.grams)] = [rank[g] for g in p.grams]
            mask = np.zeros(vocab + 1, dtype=bool)
            cuts = np.flatnonzero(np.diff(first)) + 1
            for lo, hi in zip(np.concatenate(([0], cuts)).tolist(),
                              np.concatenate((cuts, [len(first)])).tolist(), strict=True):
                if lo == hi:
                    continue
                i = int(first[lo])
                mine = table[i, : sizes[i]]
                mask[mine] = True
                others = second[lo:hi]
                shared = mask[table[others]].sum(axis=1)
                mask[mine] = False
                jac = shared / (sizes[i] + sizes[others] - shared)
                out.update((i, int(j)) for j in others[jac >= t - 1e-9].tolist())
    return sorted(out)
