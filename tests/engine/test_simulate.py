"""Simulated visitors: deterministic reports, coverage, branches never taken, profiles."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from showfloor.content.model import Exhibit
from showfloor.engine.simulate import PROFILES, Report, simulate

from .helpers import TINY, load_exhibit

N = 300


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Exhibit:
    return load_exhibit(tmp_path_factory.mktemp("tiny"), TINY)


@pytest.fixture(scope="module")
def reports(tiny: Exhibit) -> dict[str, Report]:
    return {name: simulate(tiny, N, profile=name, seed=11) for name in PROFILES}


def test_the_same_seed_gives_the_same_report(tiny: Exhibit) -> None:
    for profile in PROFILES:
        a = simulate(tiny, 120, profile=profile, seed=5)
        b = simulate(tiny, 120, profile=profile, seed=5)
        assert json.dumps(a.as_json(), sort_keys=True) == json.dumps(b.as_json(), sort_keys=True)
    c = simulate(tiny, 120, profile="random", seed=6)
    assert c.as_json() != simulate(tiny, 120, profile="random", seed=5).as_json()


def test_the_report_is_json(reports: dict[str, Report]) -> None:
    for report in reports.values():
        data = report.as_json()
        assert json.loads(json.dumps(data)) == data
        assert data["visitors"] == N


def test_every_visit_ends(reports: dict[str, Report]) -> None:
    for report in reports.values():
        assert sum(report.endings.values()) == N
        assert len(report.session_seconds) == N
        assert set(report.endings) <= {"completed", "timeout"}
        assert report.errors == {}


def test_a_never_true_branch_is_listed(reports: dict[str, Report]) -> None:
    for report in reports.values():
        assert {"scene": "story", "label": "choice shy branch 1", "target": "secret",
                "when": "score > 100"} in report.never_taken


def test_reachable_branches_are_not_listed(reports: dict[str, Report]) -> None:
    report = reports["diligent"]
    taken = {(e["scene"], e["target"]) for e in report.never_taken}
    assert taken == {("story", "secret")}
    assert report.edges[("quiz", "good_end")] > 0
    assert report.edges[("quiz", "end")] > 0
    assert report.edges[("story", "info")] > 0


def test_coverage(reports: dict[str, Report]) -> None:
    for report in reports.values():
        data = report.as_json()
        assert data["coverage"]["secret"] == 0
        assert "secret" in data["never_reached"]
        assert data["coverage"]["intro"] == 1.0
        assert "attract" not in report.reached
    assert reports["diligent"].as_json()["coverage"]["quiz"] > 0.9


def test_dwell_stats_for_reached_scenes(reports: dict[str, Report]) -> None:
    for report in reports.values():
        dwell = report.as_json()["dwell"]
        for scene, count in report.reached.items():
            assert count > 0
            assert dwell[scene]["n"] > 0, scene
            assert 0 <= dwell[scene]["median"] <= dwell[scene]["p90"]
        assert "secret" not in dwell
    # diligent visitors watch the 10 s auto-advancing intro to its end
    assert reports["diligent"].as_json()["dwell"]["intro"]["median"] == 10.0


def test_diligent_visitors_score_higher(reports: dict[str, Report]) -> None:
    diligent, hurried = reports["diligent"], reports["hurried"]
    assert len(diligent.scores) > 50
    assert len(hurried.scores) > 20
    assert statistics.mean(diligent.scores) > statistics.mean(hurried.scores) + 10
    assert all(0 <= s <= 100 for s in diligent.scores + hurried.scores)


def test_hurried_visitors_time_out_more(reports: dict[str, Report]) -> None:
    diligent, hurried = reports["diligent"], reports["hurried"]
    assert hurried.timed_out > diligent.timed_out
    assert hurried.as_json()["timed_out_share"] > diligent.as_json()["timed_out_share"]
    assert diligent.completed > hurried.completed


def test_choices_are_counted(reports: dict[str, Report]) -> None:
    report = reports["random"]
    assert report.choices[("story", "brave")] > 0
    assert report.choices[("story", "shy")] > 0


def test_simulate_records_a_log(tiny: Exhibit, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    report = simulate(tiny, 10, seed=2, record=log)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    kinds = [e["kind"] for e in lines]
    assert kinds[0] == "engine_started"
    assert kinds.count("session_started") == 10
    assert kinds.count("session_ended") == 10
    assert "view" in kinds
    seqs = [e["seq"] for e in lines]
    assert seqs == sorted(set(seqs))
    assert sum(report.endings.values()) == 10
