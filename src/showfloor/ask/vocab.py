"""``/ask/vocab.json``: what the page's pinyin keyboard and live chips draw from.

Words are the knowledge base's own Chinese words and phrases (jieba over every
phrasing), each with its full pinyin and its initials (``毒品`` → ``dupin``, ``dp``),
so the on-screen keyboard offers only words the knowledge base can answer.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from showfloor.ask import text as T
from showfloor.ask.index import Index

#: the most words sent (most frequent first)
MAX_WORDS = 5000


def vocab(index: Index) -> dict[str, Any]:
    from pypinyin import Style, lazy_pinyin

    # safety entries' phrasings (buying, hiding, doses) are never offered as you type
    shown = [i for i, ei in enumerate(index.doc_entry)
             if index.entries[int(ei)].kind != "safety"]
    counts: Counter[str] = Counter()
    for i in shown:
        for w in T.words(index.doc_text[i]):
            if all(T.has_cjk(c) for c in w):
                counts[w] += 1
    words: list[dict[str, str]] = []
    for w, _ in counts.most_common(MAX_WORDS):
        syllables = lazy_pinyin(w, style=Style.NORMAL, errors="ignore")
        if not syllables:
            continue
        words.append({"w": w, "py": "".join(syllables),
                      "ini": "".join(s[0] for s in syllables if s)})
    phrasings: dict[str, list[dict[str, str]]] = {}
    for e in index.entries:
        for lang in e.first:
            phrasings.setdefault(lang, [])
    # every phrasing, not only the first: the chips match what the visitor types
    seen: set[tuple[str, str, str]] = set()
    for i in shown:
        e, lang, text = index.entries[int(index.doc_entry[i])], index.doc_lang[i], index.doc_text[i]
        key = (e.id, str(lang), text)
        if key in seen:
            continue
        seen.add(key)
        phrasings.setdefault(str(lang), []).append({"id": e.id, "q": text})
    return {"words": words, "phrasings": phrasings}
