"""The knowledge base's bilingual glossary, ``knowledge/_glossary.yaml`` (docs/ask.md).

A curator lists the knowledge base's own domain words with their translations::

    groups:
      - {en: [vape, vaping, e-cigarette, e-cig], zh-CN: [电子烟]}
      - {en: [cannabis, weed, marijuana], zh-CN: [大麻]}

The index embeds each normal entry's phrasing that holds a term a second time with the
group's terms in the other script appended (``index.cross_texts``), and a question's
terms' translations are matched by BM25 against the phrasings in the other script: "is
weed bad for memory" finds an entry whose phrasings say 大麻 and 记忆力 (docs/ask.md,
"Cross-language questions"). Without the file nothing is expanded.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from showfloor.ask import text as T
from showfloor.errors import ContentError

FILE = "_glossary.yaml"
_HINT = ("write 'groups:' and under it one '- {en: [weed, cannabis], zh-CN: [大麻]}' per "
         "group of words that mean the same")


@dataclass(frozen=True, slots=True)
class _Term:
    """One term as it is looked for: Chinese characters as a substring of the question,
    other words as a run of whole (light-stemmed) words."""

    cjk: bool
    text: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Glossary:
    """Groups of terms that mean the same, each a mapping language → terms."""

    groups: tuple[dict[str, tuple[str, ...]], ...] = ()
    _terms: tuple[tuple[_Term, ...], ...] = field(default=(), repr=False, compare=False)
    #: each group's terms per language, normalised
    _norm: tuple[tuple[tuple[str, ...], ...], ...] = field(default=(), repr=False,
                                                          compare=False)
    _longest: int = field(default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        terms = tuple(tuple(_term(t) for ts in g.values() for t in ts) for g in self.groups)
        object.__setattr__(self, "_terms", terms)
        object.__setattr__(self, "_norm", tuple(
            tuple(tuple(T.normalise(t) for t in ts) for ts in g.values())
            for g in self.groups))
        object.__setattr__(self, "_longest", max(
            (len(t.words) for ts in terms for t in ts), default=0))

    def __len__(self) -> int:
        return len(self.groups)

    def matches(self, text: str) -> list[int]:
        """The groups (their numbers) with a term in ``text`` (a normalised question)."""
        if not self.groups:
            return []
        words = _words(text)
        runs = {tuple(words[i:i + n]) for n in range(1, self._longest + 1)
                for i in range(len(words) - n + 1)}
        return [i for i, terms in enumerate(self._terms)
                if any(t.text in text if t.cjk else t.words in runs for t in terms)]

    def expand(self, text: str, *, first: bool = False) -> list[str]:
        """The terms of every group that ``text`` (a normalised question) holds a term
        of, in the groups' order, each once (``first``: only each language's first
        term, the group's main word)."""
        out: dict[str, None] = {}
        for i in self.matches(text):
            for ts in self._norm[i]:
                out.update(dict.fromkeys(ts[:1] if first else ts))
        return list(out)


EMPTY = Glossary()


def _words(text: str) -> list[str]:
    """Latin-script words of a normalised text, light-stemmed (stop words kept)."""
    return [T.stem(w) for w in T.latin_words(text)]


def _term(term: str) -> _Term:
    norm = T.normalise(term)
    return _Term(T.has_cjk(norm), norm, tuple(_words(norm)))


def languages(entries: Iterable[Any]) -> set[str]:
    """The languages the entries' phrasings are written in."""
    return {lang for e in entries for lang in e.questions}


def path_for(exhibit_root: Path) -> Path:
    return exhibit_root / "knowledge" / FILE


def load(exhibit_root: Path, langs: Collection[str] | None = None) -> Glossary:
    """The exhibit's glossary (:data:`EMPTY` when it has none). A file that is not a valid
    glossary raises :class:`ContentError` with its line and column; ``langs``: the
    knowledge base's languages (a group in another one is a mistake)."""
    from showfloor.content.load import read_yaml

    path = path_for(exhibit_root)
    if not path.is_file():
        return EMPTY
    display = f"knowledge/{FILE}"
    doc, problems = read_yaml(path, display)
    if doc is None:
        p = problems[0]
        raise ContentError(p.message, path=path, line=p.line or 0, column=p.column or 0,
                           hint=p.hint)
    at = doc.values
    keys = doc.keys

    def fail(message: str, where: Sequence[str | int], key: bool = False) -> ContentError:
        table = keys if key else at
        mark = table.get(tuple(where)) or at.get(tuple(where)) or doc.start
        return ContentError(message, path=path, line=mark.line if mark else 0,
                            column=mark.column if mark else 0, hint=_HINT)

    value: Any = doc.value
    if value is None:
        return EMPTY
    if not isinstance(value, dict):
        raise fail("a glossary is a mapping with 'groups:'", ())
    for k in value:
        if k != "groups":
            raise fail(f"unknown key '{k}' (a glossary has only 'groups:')", (k,), key=True)
    raw = value.get("groups") or []
    if not isinstance(raw, list):
        raise fail("'groups' must be a list of groups", ("groups",))
    groups: list[dict[str, tuple[str, ...]]] = []
    for gi, group in enumerate(raw):
        where: tuple[str | int, ...] = ("groups", gi)
        if not isinstance(group, dict) or not group:
            raise fail(f"group {gi + 1} must be a mapping language → terms, e.g. "
                       "{en: [weed, cannabis], zh-CN: [大麻]}", where)
        out: dict[str, tuple[str, ...]] = {}
        for lang, terms in group.items():
            if not isinstance(lang, str):
                raise fail(f"group {gi + 1}: '{lang}' is not a language", (*where, lang),
                           key=True)
            if langs is not None and lang not in langs:
                raise fail(f"group {gi + 1}: '{lang}' is not a language of the knowledge "
                           f"base (it has {', '.join(sorted(langs))})", (*where, lang),
                           key=True)
            items = [terms] if isinstance(terms, str) else terms
            if not isinstance(items, list) or not items:
                raise fail(f"group {gi + 1}: '{lang}' needs a list of terms", (*where, lang))
            for ti, t in enumerate(items):
                if not isinstance(t, str) or not T.normalise(t) or not any(
                        c.isalnum() for c in t):
                    raise fail(f"group {gi + 1}: term {ti + 1} of '{lang}' ({t!r}) is not a "
                               "word", (*where, lang, ti) if not isinstance(terms, str)
                               else (*where, lang))
            out[lang] = tuple(items)
        if len(out) < 2:
            raise fail(f"group {gi + 1} has terms in one language only; a glossary group "
                       "joins the words of two or more languages", where)
        groups.append(out)
    return Glossary(tuple(groups))
