"""The index cache: keyed by content, read back exactly or rebuilt — never trusted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from showfloor.ask import index as ix


def _boom(texts: Any) -> Any:
    raise AssertionError("the cached index was embedded again")


def test_cached_index_is_reused_and_a_corrupt_one_rebuilt(
        tmp_path: Path, knowledge: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = list(knowledge.entries)[:1]
    first = ix.load_or_build(entries, tmp_path)
    path = ix.cache_file(tmp_path, first.key)
    assert path.is_file() and path.parent == tmp_path
    # cached: no embedding at all
    with monkeypatch.context() as m:
        m.setattr(ix, "_embed_phrasings", _boom)
        again = ix.load_or_build(entries, tmp_path)
    np.testing.assert_array_equal(again.vectors, first.vectors)
    assert again.doc_tokens == first.doc_tokens
    good = path.read_bytes()
    for corrupt in (good[: len(good) // 2], b"", b"PK\x03\x04 not a zip at all",
                    good.replace(first.key.encode(), b"0" * len(first.key))):
        path.write_bytes(corrupt)
        rebuilt = ix.load_or_build(entries, tmp_path)
        np.testing.assert_allclose(rebuilt.vectors, first.vectors, atol=1e-5)
        assert rebuilt.doc_tokens == first.doc_tokens
        assert ix._read(path, first.key, len(first.doc_tokens)) is not None  # rewritten


def test_changed_phrasings_make_a_new_key(tmp_path: Path, knowledge: Any) -> None:
    entry = knowledge.entries[0]
    changed = entry.model_copy(update={"questions": {**entry.questions,
                                                      "en": ["Is a vape a drug or not?"]}})
    a = ix._entries([entry])
    b = ix._entries([changed])
    assert ix.content_key(*a[:4]) != ix.content_key(*b[:4])
    # the answer text is not part of the key: editing an answer keeps the cache
    reworded = entry.model_copy(update={"answer": {"en": "x", "zh-CN": "y"}})
    assert ix.content_key(*ix._entries([reworded])[:4]) == ix.content_key(*a[:4])


def test_unwritable_cache_still_gives_an_index(tmp_path: Path, knowledge: Any) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    got = ix.load_or_build(list(knowledge.entries)[:1], blocker / "cache")
    assert len(got) == 1 and got.vectors.shape[1] == ix.DIM
