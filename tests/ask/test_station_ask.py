"""A real station process with an ask scene: typed questions resolved before the engine,
the text never stored, a stuck key rate-limited, /ask/vocab.json, a corrupt cache rebuilt."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from showfloor.ask.index import cache_file
from showfloor.ask.retriever import Retriever
from station._support import Page, RunningStation, open_page, start_station

SECRET = "who won the football match 13800138000"


def _view(page: Page, state: str) -> dict[str, Any]:
    for _ in range(20):
        msg = page.until("view")
        v = msg["view"]
        if v.get("state") == state or v.get("scene", {}).get("state") == state:
            return dict(v)
    raise AssertionError(f"no view in state {state!r}: {page.log[-3:]}")


def _ask(page: Page, text: Any) -> int:
    return page.input(type="act", action="ask", payload={"text": text, "via": "typed"})


@pytest.fixture
def station(tmp_path: Path, ask_exhibit: Path, retriever: Retriever, xdg_cache: Path
            ) -> tuple[RunningStation, Path]:
    profile = tmp_path / "station.yaml"
    profile.write_text(f"station: {{id: ask-test, name: Ask test}}\nexhibit: {ask_exhibit}\n"
                       "ask: {help: {en: Ask a member of staff, zh-CN: 请找工作人员}, "
                       "hotline: '12355', keep_unanswered: true}\n", "utf-8")
    data = tmp_path / "data"
    # the session's index (and jieba's dictionary) seed the station's cache; the index file
    # is then cut short: the station must rebuild it, never trust it
    key = retriever.index.key
    (data / "ask-cache").mkdir(parents=True)
    shutil.copy(xdg_cache / "showfloor" / "jieba.cache", data / "ask-cache")
    cached = cache_file(data / "ask-cache", key)
    cached.write_bytes(cache_file(xdg_cache / "showfloor", key).read_bytes()[:100])
    return start_station(profile, data=data), data


def test_typed_questions_on_a_station(station: tuple[RunningStation, Path],
                                      retriever: Retriever, xdg_cache: Path) -> None:
    st, data = station
    cached = cache_file(data / "ask-cache", retriever.index.key)
    try:
        page = open_page(st)
        welcome, _ = page.hello()
        assert welcome["ask"] == {"help": {"en": "Ask a member of staff",
                                           "zh-CN": "请找工作人员"}, "hotline": "12355"}
        _ask(page, "is vape a drug")  # on the attract screen: nothing to ask there
        assert "no question can be asked" in page.until("error")["reason"]
        page.input(type="start")
        _view(page, "asking")
        _ask(page, "is vape a drug")
        answer = _view(page, "answer")
        assert "vaping-is-a-drug" in str(answer)
        _ask(page, SECRET)
        _view(page, "refused")
        # a stuck key: far more than a few a second -> calm errors, never an engine error
        before = st.health()["rejected"]
        for _ in range(20):
            _ask(page, "x" * 10_000)
        errors = [m for m in (page.recv() for _ in range(20)) if m["type"] == "error"]
        assert errors and all("too many questions" in m["reason"] for m in errors)
        assert st.health()["rejected"] == before
        vocab = httpx.get(f"{st.url}/ask/vocab.json", timeout=5).json()
        assert {"w": "毒品", "py": "dupin", "ini": "dp"} in vocab["words"]
        ids = {p["id"] for p in vocab["phrasings"]["en"]}
        assert "vaping-is-a-drug" in ids and "buying" not in ids  # no safety phrasings
        page.close()
        # the corrupt cache file was rebuilt, byte for byte the one the session wrote
        good = cache_file(xdg_cache / "showfloor", retriever.index.key)
        assert cached.stat().st_size == good.stat().st_size
    finally:
        st.stop()
    # the typed text is nowhere in the event log; the refused one is kept scrubbed
    events = b"".join(f.read_bytes() for f in data.glob("events.sqlite*"))
    assert b"football" not in events and b"vape a drug" not in events
    kept = [r[0] for r in sqlite3.connect(data / "ask.sqlite").execute(
        "SELECT text FROM unanswered")]
    assert "who won the football match [number]" in kept
    assert not any("138" in k for k in kept)
    asked = sqlite3.connect(data / "events.sqlite").execute(
        "SELECT count(*) FROM events WHERE kind = 'asked'").fetchone()
    assert asked[0] >= 2
