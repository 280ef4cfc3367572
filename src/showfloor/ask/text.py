"""Normalising and tokenising a visitor's question (and every phrasing, the same way)."""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from pathlib import Path

#: the most characters of a question that are looked at (a stuck key sends thousands)
MAX_CHARS = 200
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_RUNS = re.compile(rf"[{_CJK}]+|[^\W_]+", re.UNICODE)
_HAS_CJK = re.compile(rf"[{_CJK}]")
_lock = threading.Lock()
_jieba_ready = False

#: words that say little about which entry is meant (BM25 only; embeddings see all)
_STOP_EN = """a an the is are was were be been am do does did doing i me my you your
he she it its we they them their this that these those of to in on at for with about as by
from or and but if so than then there here what which who whom how why when where can could
should would will shall may might must just really very please tell know want get got has
have had any some"""
STOP_EN = frozenset(_STOP_EN.split())
_STOP_ZH = ("的 了 吗 呢 吧 啊 呀 是 我 你 他 她 它 我们 你们 什么 怎么 怎么样 为什么 "
                    "会 能 可以 就 都 也 还 在 有 和 与 或 这 那 这个 那个 一个 请问 请 问 "
                    "一下 告诉 知道 想 要 呢 嘛")
STOP_ZH = frozenset(_STOP_ZH.split())
_SUFFIXES = ("ing", "ed", "es", "s")


def normalise(text: str) -> str:
    """NFKC, lower case, control characters dropped, whitespace collapsed, capped at
    :data:`MAX_CHARS` characters."""
    text = unicodedata.normalize("NFKC", text[: MAX_CHARS * 4])
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in text)
    return " ".join(text.lower().split())[:MAX_CHARS]


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def _stem(word: str) -> str:
    """A light English stem (``drugs`` -> ``drug``, ``vaping`` -> ``vap``), so plural
    and -ing forms meet; short words stay as they are."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def stem(word: str) -> str:
    """:func:`_stem`, for the glossary's terms (they meet the question's words stemmed)."""
    return _stem(word)


def latin_words(text: str) -> list[str]:
    """The words of a normalised text that are not Chinese characters (stop words kept)."""
    return [run for run in _RUNS.findall(text) if not has_cjk(run)]


def use_cache(folder: Path) -> None:
    """Keep jieba's dictionary cache in ``folder`` (it writes one file on first use)."""
    import jieba

    folder.mkdir(parents=True, exist_ok=True)
    jieba.dt.tmp_dir = str(folder)


def warm() -> None:
    """Load jieba's dictionary now (≈ 0.5 s) rather than on the first question."""
    global _jieba_ready
    with _lock:
        if _jieba_ready:
            return
        import jieba

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _jieba_ready = True


def _jieba_cut(run: str, search: bool) -> list[str]:
    if not _jieba_ready:
        warm()
    import jieba

    cut = jieba.cut_for_search(run) if search else jieba.cut(run)
    return [w for w in cut if w.strip()]


def tokens(text: str) -> list[str]:
    """BM25 terms of an already normalised text: for runs of Chinese characters jieba's
    words (search mode) and every character pair (jieba does not know 电子烟, and visitors
    misspell); light-stemmed words for Latin script and digits; stop words out."""
    out: list[str] = []
    for run in _RUNS.findall(text):
        if has_cjk(run):
            out.extend(w for w in _jieba_cut(run, True) if w not in STOP_ZH)
            out.extend(run[i:i + 2] for i in range(len(run) - 1))
        elif run not in STOP_EN:
            out.append(_stem(run))
    return out


def words(text: str) -> list[str]:
    """The Chinese words of a text (jieba, precise mode; two characters or more): what the
    pinyin keyboard offers."""
    return [w for run in _RUNS.findall(normalise(text)) if has_cjk(run)
            for w in _jieba_cut(run, False) if len(w) >= 2 and w not in STOP_ZH]
