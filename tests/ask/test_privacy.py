"""The scrubber and the store of unanswered questions (real SQLite), and ask review."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from rich.console import Console

from conftest import run_cli
from showfloor.ask.commands import ask_review
from showfloor.ask.privacy import DAY, KEEP_DAYS, UnansweredStore, scrub
from showfloor.errors import ShowfloorError


@pytest.mark.parametrize(("text", "kept", "gone"), [
    ("my number is 138 0013 8000 call me", "my number is [number] call me", "138"),
    ("+86 (10) 6512-3456 是哪里", "[number] 是哪里", "6512"),
    ("mail me: Kid.Name+x@example.com.cn please", "mail me: [email] please", "example"),
    ("我的身份证110101200001011234怎么办", "我的身份证[id]怎么办", "1101"),
    ("身份证号11010120000101123X", "身份证号[id]", "123x"),
    ("room 12345 and code 999", "room [number] and code [number]", "999"),
    ("ｍｙ　ｐｈｏｎｅ　１３８００１３８０００", "my phone [number]", "138"),
    ("i am 14 years old", "i am 14 years old", "@"),
])
def test_scrub(text: str, kept: str, gone: str) -> None:
    got = scrub(text)
    assert got == kept
    assert gone not in got


def test_store_keeps_scrubbed_text_groups_and_forgets_after_30_days(tmp_path: Path) -> None:
    store = UnansweredStore(tmp_path / "ask.sqlite")
    now = 1_800_000_000.0
    assert store.add("Who won the match? call 13800138000", "en", now=now - 2 * DAY) \
        == "who won the match? call [number]"
    store.add("who  won the match? call 13911112222", "en", related="say-no", now=now - DAY)
    store.add("今天天气怎么样", "zh-CN", now=now)
    store.add("an old one", "en", now=now - (KEEP_DAYS + 1) * DAY)
    assert store.add("13800138000", "en", now=now) is None  # nothing but a number: not kept
    groups = store.groups(now=now)
    assert [(g.text, g.count) for g in groups] == [
        ("who won the match? call [number]", 2), ("今天天气怎么样", 1)]
    assert groups[0].related == "say-no"
    rows = sqlite3.connect(tmp_path / "ask.sqlite").execute(
        "SELECT text FROM unanswered").fetchall()
    assert len(rows) == 3 and not any("138" in r[0] or "old one" in r[0] for r in rows)


def test_ask_review_command(tmp_path: Path) -> None:
    store = UnansweredStore(tmp_path / "ask.sqlite")
    store.add("what is the capital of france", "en")
    store.add("What is the capital of France", "en")
    done = run_cli("ask", "review", "--data", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "what is the capital of france" in done.stdout and "2" in done.stdout
    with pytest.raises(ShowfloorError, match="keep_unanswered"):
        ask_review(tmp_path / "nothing", Console(file=io.StringIO()))
