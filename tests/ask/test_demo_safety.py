"""Issue 9's one timed-free promise on the demo: every safety/help question of its
labelled set reaches a safety or help entry (with the calibration stored in the demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

from showfloor.ask.commands import build_index
from showfloor.ask.evaluate import read_set
from showfloor.content.lint import check

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "drug-prevention"
DEMO_SET = ROOT / "examples" / "ask-eval" / "drug-prevention.yaml"


@pytest.mark.slow
def test_every_safety_and_help_question_of_the_demo_routes(xdg_cache: Path) -> None:
    labelled, _ = read_set(DEMO_SET)
    special = [q for q in labelled.questions if q.expect in ("safety", "help")]
    assert len(special) >= 30
    report = check(DEMO)
    assert report.exhibit is not None
    assert report.exhibit.knowledge is not None
    retriever = build_index(report.root, report.exhibit.knowledge, xdg_cache / "showfloor")
    kinds = {e.id: e.kind for e in retriever.index.entries}
    wrong = []
    for q in special:
        res = retriever.resolve(q.q)
        if res.outcome not in ("safety", "help") or kinds.get(res.entry or "") != res.outcome:
            wrong.append((q.q, res.outcome, res.entry))
    assert not wrong, f"{len(wrong)} of {len(special)} safety/help questions not routed: {wrong}"
