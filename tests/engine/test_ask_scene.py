"""The ``ask`` scene type in the engine: pick, ask (a resolved payload), more, back,
advance; recorded and replayed to the same views; payloads it must refuse."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from showfloor.content.lint import check
from showfloor.content.load import load
from showfloor.content.model import Exhibit
from showfloor.engine import Act, Advanced, LanguageChanged, Started
from showfloor.engine.effects import Event
from showfloor.engine.replay import replay
from showfloor.engine.simulate import simulate

from .helpers import Station, events, rejected

ASK_EXHIBIT = ROOT / "tests" / "ask_exhibit"


@pytest.fixture(scope="module")
def exhibit() -> Exhibit:
    loaded = load(ASK_EXHIBIT)
    assert loaded.problems == [], [str(p) for p in loaded.problems]
    assert loaded.exhibit is not None
    return loaded.exhibit


def asked(evs: list[Event]) -> list[dict[str, Any]]:
    return [dict(e.data) for e in evs if e.kind == "asked"]


def visit(exhibit: Exhibit) -> Station:
    st = Station(exhibit)
    st.feed(Started("visit-1", 7), at=1)
    assert st.scene == "ask"
    return st


def test_a_visit_through_an_ask_scene_replays_to_the_same_views(exhibit: Exhibit) -> None:
    st = visit(exhibit)
    v = st.view
    assert (v["type"], v["state"], v["asked"]) == ("ask", "asking", 0)
    assert v["prompt"] == "你想知道什么？"
    assert [c["id"] for c in v["suggested"]] == ["vaping-is-a-drug", "say-no"]
    assert v["suggested"][0]["question"] == "电子烟是毒品吗"
    # the safety entry is never offered to browse: friends lists 2 of its 3 entries
    assert v["topics"] == [{"id": "friends", "title": "朋友和压力", "count": 2},
                           {"id": "vaping", "title": "电子烟", "count": 2}]

    st.feed(Act("topic", {"topic": "friends"}), at=2)
    v = st.view
    assert v["state"] == "topic"
    assert [e["id"] for e in v["topic"]["entries"]] == ["say-no", "friend-in-trouble"]

    st.feed(Act("pick", {"entry": "friend-in-trouble", "via": "topic"}), at=3)
    v = st.view
    assert v["state"] == "answer"
    assert v["answer"]["kind"] == "help" and v["answer"]["more"] is None
    assert [r["id"] for r in v["related"]] == ["say-no"]

    st.feed(Act("back"), at=4)
    assert (st.view["state"], st.view["answer"]) == ("asking", None)

    st.feed(LanguageChanged("en"), at=5)
    out = st.feed(Act("ask", {"outcome": "answer", "entry": "vaping-is-a-drug",
                              "related": ["vape-flavours", "buying", "vaping-is-a-drug"],
                              "bucket": "high", "via": "typed"}), at=6)
    assert not rejected(out)
    v = st.view
    assert v["answer"] == {
        "id": "vaping-is-a-drug", "kind": "answer", "question": "Is vaping a drug?",
        "text": "Most e-cigarettes contain nicotine. Nicotine is addictive and affects a "
                "brain that is still growing.",
        "source": {"name": "World Health Organization", "url": "https://www.who.int/"},
        "more": {"scene": "brain", "label": "The brain"}}
    # related: the safety entry and the answer itself are not offered
    assert v["related"] == [{"id": "vape-flavours", "question": "Are fruity vapes safe?"}]

    st.feed(Act("ask", {"outcome": "refused", "related": ["say-no"], "bucket": "low"}), at=7)
    v = st.view
    assert (v["state"], v["answer"], v["asked"]) == ("refused", None, 3)
    assert [r["id"] for r in v["related"]] == ["say-no"]

    st.feed(Act("ask", {"outcome": "safety", "entry": "buying", "bucket": "mid"}), at=8)
    assert st.view["answer"]["kind"] == "safety"
    assert st.view["answer"]["more"] is None

    st.feed(Act("pick", {"entry": "vaping-is-a-drug", "via": "related"}), at=9)
    st.feed(Act("more"), at=10)
    assert st.scene == "brain"
    st.feed(Advanced(), at=11)  # brain → back to ask
    assert (st.scene, st.view["state"]) == ("ask", "asking")
    st.feed(Advanced(), at=12)
    assert st.scene == "ending"

    assert asked(st.log) == [
        {"outcome": "help", "entry": "friend-in-trouble", "bucket": None, "via": "topic",
         "lang": "zh-CN"},
        {"outcome": "answer", "entry": "vaping-is-a-drug", "bucket": "high", "via": "typed",
         "lang": "en"},
        {"outcome": "refused", "entry": None, "bucket": "low", "via": "typed", "lang": "en"},
        {"outcome": "safety", "entry": "buying", "bucket": "mid", "via": "typed",
         "lang": "en"},
        {"outcome": "answer", "entry": "vaping-is-a-drug", "bucket": None, "via": "related",
         "lang": "en"},
    ]
    assert any(e.kind == "ask_more" for e in st.log)
    result = replay(exhibit, st.log)
    assert result.expected and result.ok, result.first_difference()
    # the replayed log differs the moment a resolved question differs
    tampered = [Event(e.seq, e.t, e.kind, e.session, e.scene,
                      {"input": {**e.data["input"], "payload": {
                          **e.data["input"]["payload"], "outcome": "refused", "entry": None}}})
                if e.kind == "input" and e.data["input"].get("action") == "ask"
                and e.data["input"]["payload"].get("outcome") == "safety" else e
                for e in st.log]
    assert not replay(exhibit, tampered).ok


@pytest.mark.parametrize("payload", [
    {"outcome": "answer", "entry": "nope", "bucket": "high"},            # unknown entry
    {"entry": "vaping-is-a-drug", "bucket": "high"},                     # no outcome
    {"outcome": "maybe", "entry": "vaping-is-a-drug", "bucket": "high"},
    {"outcome": "answer", "entry": "vaping-is-a-drug"},                  # no bucket
    {"outcome": "answer", "entry": "vaping-is-a-drug", "bucket": "high",
     "text": "is vaping a drug"},                                        # text: never
    {"outcome": "refused", "bucket": "low", "text": "my phone is 13800138000"},
    {"outcome": "answer", "entry": "buying", "bucket": "high"},          # safety as normal
    {"outcome": "refused", "entry": "say-no", "bucket": "low"},
    {"outcome": "refused", "bucket": "low", "related": ["nope"]},
    {"outcome": "refused", "bucket": "low", "related": "say-no"},
    {"outcome": "answer", "entry": "say-no", "bucket": "high", "via": "voice"},
], ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items())[:60])
def test_a_bad_ask_payload_is_refused(exhibit: Exhibit, payload: dict[str, Any]) -> None:
    st = visit(exhibit)
    before = st.view
    out = st.feed(Act("ask", payload), at=2)
    assert rejected(out), payload
    assert st.view == before
    assert not asked(events(out))
    # what was typed is nowhere in what the engine keeps
    assert "13800138000" not in json.dumps([e.as_json() for e in st.log])


@pytest.mark.parametrize(("action", "payload"), [
    ("pick", {"entry": "nope"}),
    ("pick", {"entry": "buying", "via": "chip"}),       # safety: only by asking
    ("pick", {"entry": "say-no", "via": "typed"}),
    ("pick", {"entry": "say-no", "text": "x"}),
    ("topic", {"topic": "nope"}),
    ("more", {}),                                       # no answer shown
    ("back", {}),                                       # already asking
])
def test_other_bad_actions_are_refused(exhibit: Exhibit, action: str,
                                       payload: dict[str, Any]) -> None:
    st = visit(exhibit)
    assert rejected(st.feed(Act(action, payload), at=2))


def test_more_is_refused_for_a_picture_and_for_a_help_answer(exhibit: Exhibit) -> None:
    st = visit(exhibit)
    st.feed(Act("pick", {"entry": "vape-flavours"}), at=2)
    assert st.view["answer"]["more"] == {"image": "media/pic.png", "alt": "一张小图"}
    assert rejected(st.feed(Act("more"), at=3))
    st.feed(Act("pick", {"entry": "friend-in-trouble"}), at=4)
    assert rejected(st.feed(Act("more"), at=5))
    assert st.scene == "ask"


def test_simulated_visitors_use_the_ask_scene(exhibit: Exhibit) -> None:
    result = simulate(exhibit, visitors=30, seed=3)
    assert result.visitors == 30
    assert result.reached["ask"] and result.reached["brain"] and result.reached["ending"]
    assert not result.errors, result.errors


def test_a_more_scene_is_reachable_through_the_ask_scene(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(ASK_EXHIBIT, tmp_path / "ask"))
    assert check(folder).problems == []
    f = folder / "knowledge" / "vaping.yaml"
    f.write_text(f.read_text("utf-8").replace("    more: brain\n", ""), encoding="utf-8")
    unreachable = [str(p) for p in check(folder).problems if "brain" in p.message]
    assert len(unreachable) == 1 and "can never be reached" in unreachable[0], unreachable
