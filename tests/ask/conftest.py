"""One small knowledge base (tests/ask_exhibit), indexed once per session into a
temporary cache: embedding is the slow part, everything else reuses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from showfloor.ask.commands import build_index
from showfloor.ask.retriever import Retriever
from showfloor.content.lint import check

HERE = Path(__file__).resolve().parent
EXHIBIT = HERE.parent / "ask_exhibit"
LABELLED = HERE / "labelled.yaml"


@pytest.fixture(scope="session")
def xdg_cache(_ask_index: Path) -> Path:
    """$XDG_CACHE_HOME for the whole session (tests/conftest.py sets it)."""
    return _ask_index


@pytest.fixture(scope="session")
def ask_exhibit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of tests/ask_exhibit (calibration writes go there, not into the tree)."""
    dest = tmp_path_factory.mktemp("ask-exhibit") / "exhibit"
    shutil.copytree(EXHIBIT, dest)
    cal = dest / "knowledge" / "_calibration.yaml"
    cal.unlink(missing_ok=True)
    return dest


@pytest.fixture(scope="session")
def knowledge(ask_exhibit: Path) -> object:
    report = check(ask_exhibit)
    assert report.ok and report.exhibit is not None, report.errors
    assert report.exhibit.knowledge is not None
    return report.exhibit.knowledge


@pytest.fixture(scope="session")
def retriever(xdg_cache: Path, ask_exhibit: Path, knowledge: object) -> Retriever:
    return build_index(ask_exhibit, knowledge, xdg_cache / "showfloor")
