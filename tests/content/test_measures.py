"""Learning measures: a 'pre' and a 'post' quiz of one ``measure``, checked and recorded."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

from conftest import CORPUS
from showfloor.content.lint import Report, check
from showfloor.engine.simulate import simulate

PAIR = CORPUS / "measure-different-max-score"


def pair(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The corpus pair of quizzes, with its one mistake (2 points after, 1 before) put right."""
    folder = tmp_path / "ex"
    shutil.copytree(PAIR, folder)
    (folder / "expect.txt").unlink()
    f = folder / "exhibit.yaml"
    text = f.read_text("utf-8").replace("        points: 2\n", "")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    f.write_text(text, "utf-8")
    return folder


def said(report: Report) -> list[str]:
    return [f"{p.where()}: {p.severity}: {p.message} — {p.hint}" for p in report.problems]


def test_a_valid_pre_post_pair_is_clean(tmp_path: Path) -> None:
    report = check(pair(tmp_path))
    assert report.problems == [], said(report)
    assert report.exhibit is not None


def test_recorded_quiz_events_carry_role_and_measure(tmp_path: Path) -> None:
    report = check(pair(tmp_path))
    assert report.exhibit is not None
    log = tmp_path / "events.jsonl"
    simulate(report.exhibit, 12, profile="diligent", seed=2, record=log)
    events = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    roles: dict[str, dict[str, dict[str, object]]] = defaultdict(dict)
    for e in events:
        if e["kind"] in ("answered", "quiz_completed"):
            d = e["data"]
            assert d["measure"] == "smoking", e
            assert d["role"] == {"quiz": "pre", "quiz_after": "post"}[e["scene"]], e
            if e["kind"] == "quiz_completed":
                roles[e["session"]][d["role"]] = d
    # a report can pair each visit's pre and post scores by measure
    assert len(roles) == 12
    for by_role in roles.values():
        assert set(by_role) == {"pre", "post"}
        assert by_role["pre"]["max"] == by_role["post"]["max"] == 1


def test_quizzes_without_a_measure_record_neither(tmp_path: Path) -> None:
    report = check(CORPUS / "_valid")
    assert report.exhibit is not None
    log = tmp_path / "events.jsonl"
    simulate(report.exhibit, 3, profile="diligent", seed=2, record=log)
    for line in log.read_text("utf-8").splitlines():
        e = json.loads(line)
        if e["kind"] in ("answered", "quiz_completed"):
            assert "role" not in e["data"] and "measure" not in e["data"], e


def test_a_measure_without_a_role(tmp_path: Path) -> None:
    folder = pair(tmp_path, ("    role: post\n", ""))
    out = said(check(folder))
    assert any(":56:14: error: quiz 'quiz_after' has 'measure: smoking' but no 'role'" in s
               for s in out), out
    # the pre quiz is not also told that it has no post: one mistake, one message
    assert not any("no post quiz" in s for s in out), out
    assert len(out) == 1, out


def test_two_pre_quizzes(tmp_path: Path) -> None:
    out = said(check(pair(tmp_path, ("    role: post\n", "    role: pre\n"))))
    assert any("measure 'smoking' has a second 'pre' quiz: 'quiz' is its pre quiz already"
               in s for s in out), out


def test_a_lone_post(tmp_path: Path) -> None:
    out = said(check(pair(tmp_path, ("    role: pre\n    measure: smoking\n", ""))))
    assert any("quiz 'quiz_after' is the post quiz of measure 'smoking', which has no pre "
               "quiz — add 'role: pre' and 'measure: smoking' to the quiz before" in s
               for s in out), out


def test_a_shuffled_pool_of_unequal_points_is_said(tmp_path: Path) -> None:
    extra = """          - {id: b, text: {zh-CN: 不会, en: "No"}}
      - id: q2
        points: 3
        prompt: {zh-CN: 烟草含尼古丁吗？, en: "Does tobacco contain nicotine?"}
        source: who
        choices:
          - {id: a, text: {zh-CN: 含, en: "Yes"}, correct: true}
          - {id: b, text: {zh-CN: 不含, en: "No"}}
    next: ending
"""
    folder = pair(tmp_path, ("    role: post\n", "    role: post\n    pool: 1\n    shuffle: true\n"),
                  ("""          - {id: b, text: {zh-CN: 不会, en: "No"}}
    next: ending
""", extra))
    out = said(check(folder))
    assert any("quiz 'quiz_after' (post of measure 'smoking') can be worth 1 to 3 points: its "
               "shuffled pool of 1 draws from questions worth different points" in s
               for s in out), out
    # without shuffle, the pool is the first question: worth 1, like the pre quiz
    folder = pair(tmp_path / "b", ("    role: post\n", "    role: post\n    pool: 1\n"),
                  ("""          - {id: b, text: {zh-CN: 不会, en: "No"}}
    next: ending
""", extra))
    assert check(folder).problems == []


def test_different_languages(tmp_path: Path) -> None:
    folder = pair(tmp_path, ('prompt: {zh-CN: 吸烟会上瘾吗？, en: "Is smoking addictive?"}',
                             'prompt: {zh-CN: 吸烟会上瘾吗？}'))
    out = said(check(folder))
    assert any("quiz 'quiz_after' (post of measure 'smoking') is written in zh-CN but its pre "
               "quiz 'quiz' in en, zh-CN" in s for s in out), out
