"""Replay: a recorded event log fed again gives the same views; a tampered one does not."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from showfloor.content.model import Exhibit
from showfloor.engine import (
    Act,
    Advanced,
    AnswerGiven,
    ChoiceMade,
    LanguageChanged,
    Started,
    StillHere,
)
from showfloor.engine.effects import Event
from showfloor.engine.replay import read_events, replay
from showfloor.engine.simulate import simulate
from showfloor.errors import ReplayError

from .helpers import TINY, Station, load_exhibit, write_exhibit

LENGTH = 10.0


def media_length(_path: str) -> float:
    return LENGTH


@pytest.fixture
def tiny(tmp_path: Path) -> Exhibit:
    return load_exhibit(tmp_path / "tiny", TINY)


def write_log(path: Path, evs: Iterable[Event]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for e in evs:
            f.write(json.dumps(e.as_json(), ensure_ascii=False) + "\n")
    return path


def drive(exhibit: Exhibit, seed: int, steps: int = 400) -> list[Event]:
    """Random visitors: mostly what the scene offers, some junk, ticks and silences."""
    rng = random.Random(seed)
    st = Station(exhibit, length=LENGTH)
    langs = [*exhibit.languages, "xx"]
    for _ in range(steps):
        r = rng.random()
        engine = st.engine
        s = engine.session
        if r < 0.25:
            st.tick(st.clock.now + rng.uniform(0, 60))
            continue
        if r < 0.30:
            st.clock.advance(rng.uniform(0, 60))  # no tick: the next input finds it late
            continue
        st.clock.advance(rng.uniform(0, 8))
        inp: Any
        if r < 0.75:
            if s is None or s.scene is None:
                inp = Started()
            else:
                opts = engine.types[s.scene.id].options(s.scene, s)
                opt = rng.choice(opts)
                inp = {
                    "advance": lambda o: Advanced(),
                    "choose": lambda o: ChoiceMade(o.payload["choice"]),
                    "answer": lambda o: AnswerGiven(o.payload["question"],
                                                    tuple(o.payload["choices"])),
                }.get(opt.action, lambda o: Act(o.action, dict(o.payload)))(opt)
        else:
            inp = rng.choice([
                ChoiceMade("nope"), AnswerGiven("q9", ("a",)), Advanced(), StillHere(),
                LanguageChanged(rng.choice(langs)), Act("junk", {"choices": 3}), Started(),
            ])
        st.feed(inp)
    st.tick(st.clock.now + 1000)
    return st.log


def scripted(exhibit: Exhibit) -> list[Event]:
    """One visit through every scene type, then one that times out."""
    st = Station(exhibit, length=LENGTH)
    st.feed(Started("visit-1", 7))
    st.tick(10)
    st.feed(LanguageChanged("zh-CN"), at=11)
    st.feed(ChoiceMade("brave"), at=12)
    st.feed(Advanced(), at=13)
    st.feed(AnswerGiven("q1", ("a",)), at=14)
    st.feed(Advanced(), at=15)
    st.feed(AnswerGiven("q2", ("a", "b")), at=16)
    st.feed(Advanced(), at=17)
    st.tick(37)  # q3 times out
    st.feed(Advanced(), at=38)
    st.feed(Advanced(), at=39)
    st.tick(60)  # the end scene's 15 s are over
    st.feed(Started("visit-2", 8), at=100)
    st.tick(200)
    assert [e.data["reason"] for e in st.log if e.kind == "session_ended"] == [
        "completed", "timeout"]
    return st.log


@pytest.mark.parametrize("seed", range(6))
def test_random_sessions_replay_exactly(tiny: Exhibit, tmp_path: Path, seed: int) -> None:
    evs = drive(tiny, seed)
    path = write_log(tmp_path / "events.jsonl", evs)
    back = list(read_events(path))
    assert [e.as_json() for e in back] == [e.as_json() for e in evs]
    result = replay(tiny, back, media_length=media_length)
    assert result.ok, result.first_difference()
    assert result.first_difference() is None
    assert len(result.got) > 0
    assert len(result.got) == sum(e.kind == "view" for e in evs)
    assert result.inputs == sum(e.kind == "input" for e in evs)
    assert result.sessions == sum(e.kind == "session_started" for e in evs)
    assert result.sessions > 1


def test_scripted_visit_replays(tiny: Exhibit, tmp_path: Path) -> None:
    evs = scripted(tiny)
    result = replay(tiny, read_events(write_log(tmp_path / "e.jsonl", evs)),
                    media_length=media_length)
    assert result.ok
    assert result.sessions == 2
    scenes = [scene for scene, _ in result.got]
    assert {"attract", "intro", "story", "info", "quiz", "good_end"} <= set(scenes)


def test_a_log_cut_at_a_visit_replays(tiny: Exhibit) -> None:
    """A log may begin at any visit's start (the station was already running)."""
    evs = scripted(tiny)
    cut = next(i for i, e in enumerate(evs)
               if e.kind == "input" and e.data["input"].get("session") == "visit-2")
    result = replay(tiny, evs[cut:], media_length=media_length)
    assert result.ok
    assert result.sessions == 1
    assert len(result.got) > 0


def test_a_changed_digest_is_found(tiny: Exhibit) -> None:
    evs = scripted(tiny)
    view_idx = [i for i, e in enumerate(evs) if e.kind == "view"]
    k = len(view_idx) // 2
    i = view_idx[k]
    evs[i] = dataclasses.replace(evs[i], data={**evs[i].data, "digest": "0" * 24})
    result = replay(tiny, evs, media_length=media_length)
    assert not result.ok
    assert result.first_difference() == k
    assert result.expected[k][1] == "0" * 24


def test_a_removed_input_is_found(tiny: Exhibit) -> None:
    evs = scripted(tiny)
    i = next(i for i, e in enumerate(evs)
             if e.kind == "input" and e.data["input"]["type"] == "choose")
    views_before = sum(e.kind == "view" for e in evs[:i])
    del evs[i]
    result = replay(tiny, evs, media_length=media_length)
    assert not result.ok
    assert result.first_difference() == views_before
    assert result.expected[views_before][0] == "info"  # what the choice led to
    assert result.got[views_before][0] != "info"


def test_a_different_media_length_is_found(tmp_path: Path) -> None:
    """The station's media lengths are part of the replay: other lengths, other views."""
    doc = TINY.replace("    duration: 10\n    advance: auto", "    audio: media/intro.opus\n"
                       "    advance: auto", 1)
    assert doc != TINY
    ex = load_exhibit(tmp_path / "audio", doc)
    evs = scripted(ex)  # recorded with 10 s of audio
    assert replay(ex, evs, media_length=media_length).ok
    result = replay(ex, evs, media_length=lambda p: 99.0)
    assert not result.ok
    assert result.first_difference() is not None


def test_a_start_without_its_id_and_seed_is_refused(tiny: Exhibit) -> None:
    evs = scripted(tiny)
    i = next(i for i, e in enumerate(evs) if e.kind == "input")
    evs[i] = dataclasses.replace(evs[i], data={"input": {"type": "start"}})
    with pytest.raises(ReplayError, match="session id and seed"):
        replay(tiny, evs, media_length=media_length)


def test_a_bad_input_in_the_log_is_refused(tiny: Exhibit) -> None:
    evs = scripted(tiny)
    i = next(i for i, e in enumerate(evs) if e.kind == "input")
    evs[i] = dataclasses.replace(evs[i], data={"input": {"type": "fly"}})
    with pytest.raises(ReplayError, match=f"event {evs[i].seq}"):
        replay(tiny, evs, media_length=media_length)


def test_a_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = Event(1, 0.0, "engine_started", None, None, {}).as_json()
    path.write_text(json.dumps(good) + "\n\nnot json\n", encoding="utf-8")
    with pytest.raises(ReplayError, match=r"bad\.jsonl:3"):
        list(read_events(path))
    with pytest.raises(ReplayError, match="cannot read"):
        list(read_events(tmp_path / "missing.jsonl"))


def test_an_empty_log_replays_to_nothing(tiny: Exhibit) -> None:
    result = replay(tiny, [])
    assert result.ok
    assert result.got == []


def test_simulated_visits_replay(tiny: Exhibit, tmp_path: Path) -> None:
    log = tmp_path / "sim.jsonl"
    for profile in ("random", "diligent", "hurried"):
        simulate(tiny, 25, profile=profile, seed=3, record=log)
        result = replay(tiny, read_events(log))
        assert result.ok, (profile, result.first_difference())
        assert result.sessions == 25


# --------------------------------------------------------------------------
# The command line


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHOWFLOOR_DEBUG"}
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "showfloor", *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", env=env,
                          timeout=120, check=False)


def test_cli_simulate_record_then_replay(tmp_path: Path) -> None:
    root = write_exhibit(tmp_path / "tiny", TINY)
    log = tmp_path / "events.jsonl"
    sim = cli("simulate", root, "-n", "20", "--seed", "4", "--record", log)
    assert sim.returncode == 0, sim.stderr
    assert log.stat().st_size > 0
    rep = cli("replay", log)
    assert rep.returncode == 0, rep.stderr
    assert "20 session(s)" in rep.stdout
    assert "views match" in rep.stdout
    assert "all" in rep.stdout


def test_cli_replay_of_a_tampered_log_fails(tmp_path: Path) -> None:
    root = write_exhibit(tmp_path / "tiny", TINY)
    from showfloor.content.load import load

    ex = load(root).exhibit
    assert ex is not None
    evs = scripted(ex)
    i = [i for i, e in enumerate(evs) if e.kind == "view"][3]
    evs[i] = dataclasses.replace(evs[i], data={**evs[i].data, "digest": "f" * 24})
    log = write_log(tmp_path / "tampered.jsonl", evs)
    rep = cli("replay", log, "--exhibit", root)
    assert rep.returncode != 0
    assert "view 4 differs" in rep.stderr
    # without --exhibit, a log that does not name its exhibit is refused plainly
    rep = cli("replay", log)
    assert rep.returncode == 2
    assert "--exhibit" in rep.stderr
