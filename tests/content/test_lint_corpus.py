"""The lint corpus: one small broken exhibit per kind of mistake.

Each folder under ``tests/corpus/`` (except ``_valid``, the base they were copied
from) holds ``expect.txt``: one line per expected problem,
``file:line:column: severity: text``. A reported problem matches when its file,
line, column and severity are exactly those, and ``message — hint`` contains
the text. An optional ``check.json`` gives extra arguments to ``check`` (a
tiny media ``budget``, a ``display``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import CORPUS, DEMO, Cli
from showfloor.content.lint import Budget, Report, check
from showfloor.content.problems import Problem

EXPECT = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<column>\d+): "
                    r"(?P<severity>error|warning): (?P<text>.+)$")


@dataclass(frozen=True)
class Expected:
    file: str
    line: int
    column: int
    severity: str
    text: str

    def matches(self, p: Problem) -> bool:
        said = p.message if not p.hint else f"{p.message} — {p.hint}"
        return (p.file, p.line, p.column, p.severity) == (
            self.file, self.line, self.column, self.severity) and self.text in said


def broken_kinds() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_dir() and not p.name.startswith("_"))


def expectations(folder: Path) -> list[Expected]:
    out = []
    for raw in (folder / "expect.txt").read_text("utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        m = EXPECT.match(raw)
        assert m, f"{folder.name}/expect.txt: cannot read {raw!r}"
        out.append(Expected(m["file"], int(m["line"]), int(m["column"]), m["severity"],
                            m["text"]))
    return out


def run_check(folder: Path) -> Report:
    kwargs: dict[str, Any] = {}
    options = folder / "check.json"
    if options.exists():
        kwargs = json.loads(options.read_text("utf-8"))
        if "budget" in kwargs:
            kwargs["budget"] = Budget(**kwargs["budget"])
    return check(folder, **kwargs)


@pytest.mark.parametrize("folder", broken_kinds(), ids=lambda p: p.name)
def test_corpus(folder: Path) -> None:
    expected = expectations(folder)
    assert expected, f"{folder.name}/expect.txt lists no problems"
    report = run_check(folder)
    reported = "\n".join(f"  {p}" for p in report.problems) or "  (none)"
    for e in expected:
        assert any(e.matches(p) for p in report.problems), (
            f"expected {e.file}:{e.line}:{e.column}: {e.severity}: …{e.text}…\n"
            f"reported:\n{reported}")
    # every problem is reported at a place a curator can open
    for p in report.problems:
        assert p.file, p
        assert not Path(p.file).is_absolute(), p
        assert p.message.strip() == p.message, p
        assert p.message, p


def test_the_valid_base_is_clean() -> None:
    report = check(CORPUS / "_valid")
    assert report.problems == []
    assert report.exhibit is not None


def test_corpus_is_broad_and_small() -> None:
    kinds = broken_kinds()
    assert len(kinds) >= 20
    for folder in [CORPUS / "_valid", *kinds]:
        files = [f for f in folder.rglob("*") if not f.is_dir()]
        assert not any(f.is_symlink() for f in files), folder.name
        assert sum(f.stat().st_size for f in files) < 20_000, folder.name


@pytest.mark.skipif(not (DEMO / "exhibit.yaml").exists(), reason="no demo exhibit")
def test_demo_exhibit_has_no_errors() -> None:
    report = check(DEMO)
    assert report.errors == [], "\n".join(map(str, report.errors))


def test_check_reports_every_problem_at_once() -> None:
    """Three independent mistakes in one exhibit: all three come back from one run."""
    report = check(CORPUS / "many-mistakes")
    codes = {p.code for p in report.errors}
    assert len(report.errors) == 3, "\n".join(map(str, report.problems))
    assert codes == {"missing-asset", "unknown-source", "translation"}


def test_json_output_carries_the_same_problems(cli: Cli) -> None:
    folder = CORPUS / "many-mistakes"
    result = cli("check", folder, "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    report = check(folder)
    assert data["ok"] is False
    assert data["errors"] == len(report.errors) == 3
    assert data["warnings"] == len(report.warnings)
    assert data["problems"] == [p.as_json() for p in report.problems]
    assert {"severity", "message", "file", "line", "column", "hint", "code"} <= set(
        data["problems"][0])
