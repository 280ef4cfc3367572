"""Shared test helpers: where things are, and running the real command line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
DEMO = ROOT / "examples" / "drug-prevention"

Cli = Callable[..., subprocess.CompletedProcess[str]]


def run_cli(*args: str | Path, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m showfloor ARGS`` as a user runs it: no SHOWFLOOR_DEBUG, plain output."""
    env = {k: v for k, v in os.environ.items() if k != "SHOWFLOOR_DEBUG"}
    env.update(NO_COLOR="1", COLUMNS="200", PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "showfloor", *map(str, args)],
                          capture_output=True, text=True, encoding="utf-8", errors="replace",
                          env=env, cwd=cwd, timeout=timeout, check=False)


@pytest.fixture
def cli() -> Cli:
    return run_cli
