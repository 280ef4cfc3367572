"""What the station calls: typed text in, the resolved ``Act("ask", ...)`` payload out.

The index is loaded (from the cache) or built in a worker thread when the station
starts; a question that arrives before that waits for it. The text goes no further
than :meth:`AskService.resolve`, except into the scrubbed store of unanswered
questions when the profile switches it on.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import deque
from collections.abc import Collection
from pathlib import Path
from typing import Any

from showfloor.ask import calibration, glossary
from showfloor.ask import text as T
from showfloor.ask.index import EntryLike, Index, default_cache, load_or_build
from showfloor.ask.privacy import UnansweredStore
from showfloor.ask.retriever import Resolution, Retriever
from showfloor.ask.vocab import vocab

#: questions one page may send per :data:`RATE_WINDOW` seconds; more get a calm refusal
RATE_LIMIT = 3
RATE_WINDOW = 1.0


class AskService:
    """The retriever of one exhibit's knowledge base, for one station."""

    def __init__(self, entries: list[EntryLike], root: Path, cache: Path | None, *,
                 unanswered: Path | None = None) -> None:
        self.entries = entries
        self.root = root
        self.cache = cache
        self._lock = threading.Lock()
        self._retriever: Retriever | None = None
        self._vocab: bytes | None = None
        self._recent: weakref.WeakKeyDictionary[Any, deque[float]] = \
            weakref.WeakKeyDictionary()
        self.store = UnansweredStore(unanswered) if unanswered is not None else None
        #: seconds the last prepare took (the station's status shows it)
        self.prepared_in: float | None = None

    def prepare(self) -> Retriever:
        """Load or build the index (blocking; call it off the event loop)."""
        with self._lock:
            if self._retriever is None:
                t0 = time.perf_counter()
                if self.cache is not None:
                    T.use_cache(self.cache)
                T.warm()
                cal = calibration.load(self.root)
                # an index 'showfloor check' built on this machine is taken as it is
                words = glossary.load(self.root, glossary.languages(self.entries))
                index = load_or_build(self.entries, self.cache, also=[default_cache()],
                                      glossary=words)
                self._retriever = Retriever(index, cal, words)
                self._retriever.resolve("warm up")  # the first question is the slowest
                self.prepared_in = time.perf_counter() - t0
            return self._retriever

    @property
    def index(self) -> Index:
        return self.prepare().index

    def allow(self, conn: Any, now: float) -> bool:
        """False when ``conn`` asked more than :data:`RATE_LIMIT` times in the last
        :data:`RATE_WINDOW` seconds (a stuck key)."""
        recent = self._recent.setdefault(conn, deque())
        while recent and recent[0] <= now - RATE_WINDOW:
            recent.popleft()
        if len(recent) >= RATE_LIMIT:
            return False
        recent.append(now)
        return True

    def resolve(self, question: str, *, lang: str | None = None,
                allowed: Collection[str] | None = None) -> Resolution:
        """The outcome for a typed question (blocking); keeps a refused one, scrubbed,
        only when the store is on."""
        res = self.prepare().resolve(question, allowed=allowed)
        if res.outcome == "refused" and self.store is not None:
            self.store.add(question, lang or ("zh-CN" if T.has_cjk(question) else "en"),
                           related=res.related[0] if res.related else None)
        return res

    def vocab_json(self) -> bytes:
        """``/ask/vocab.json`` (built once)."""
        if self._vocab is None:
            import orjson

            self._vocab = orjson.dumps(vocab(self.index))
        return self._vocab


def allowed_entries(scene: Any, entries: list[EntryLike]) -> set[str] | None:
    """The entry ids an ask scene keeps to (its ``tags``); None: all of them."""
    tags = getattr(scene, "tags", None)
    if not tags:
        return None
    wanted = set(tags)
    return {e.id for e in entries if wanted & set(e.tags)}
