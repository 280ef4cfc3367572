"""Shared test helpers: where things are, and running the real command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
DEMO = ROOT / "examples" / "drug-prevention"
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
#: Screenshots (references and docs/screenshots) are written only when asked.
UPDATE_SCREENSHOTS = bool(os.environ.get("SHOWFLOOR_UPDATE_SCREENSHOTS"))

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


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB disk (a tmpfs mounted for the test; root only, skipped elsewhere)."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def huge_exhibit(folder: Path, width: int = 20000, height: int = 20000) -> Path:
    """A copy of the corpus base whose attract picture is a real ``width``×``height`` PNG.

    The PNG is one colour, 1 bit a pixel, written row by row through zlib: a
    20000×20000 picture is about 50 KB on disk and a second to make, so it is
    made here rather than kept in the corpus (whose folders stay under 20 KB).
    """
    import struct
    import zlib

    shutil.copytree(CORPUS / "_valid", folder)
    text = (folder / "exhibit.yaml").read_text("utf-8")
    (folder / "exhibit.yaml").write_text(
        text.replace("{image: media/pic.png, duration: 6}", "{image: media/huge.png, duration: 6}",
                     1), "utf-8")

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    z = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then the pixels
    idat = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    with (folder / "media" / "huge.png").open("wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)))
        f.write(chunk(b"IDAT", idat))
        f.write(chunk(b"IEND", b""))
    return folder


def keep_for_docs(shot: Path, name: str) -> None:
    """Copy a screenshot to ``docs/screenshots/NAME.png``, only with SHOWFLOOR_UPDATE_SCREENSHOTS=1.

    The suite never writes into the source tree on its own: a run that changed a
    tracked file would leave every clone dirty (see ``pytest_sessionfinish``).
    """
    if UPDATE_SCREENSHOTS:
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, DOCS_SCREENSHOTS / f"{name}.png")


# --- the suite leaves the source tree as it found it -----------------------------------
# With SHOWFLOOR_CHECK_TREE=1 (set by `make test`) the run records `git status` before and
# fails after if any file in the checkout was added, changed or removed by the tests. It is
# opt-in so that a developer who edits files while a test runs is not told off for it.

_TREE_KEY = pytest.StashKey[str | None]()


def _tree_state() -> str | None:
    try:
        out = subprocess.run(["git", "status", "--porcelain=v1", "--untracked-files=all"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None  # not a git checkout (an sdist, say): nothing to compare
    return out.stdout


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("SHOWFLOOR_CHECK_TREE") and not UPDATE_SCREENSHOTS:
        session.stash[_TREE_KEY] = _tree_state()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.stash.get(_TREE_KEY, None)
    if before is None:
        return
    after = _tree_state()
    if after is None or after == before:
        return
    changed = sorted(set(after.splitlines()) ^ set(before.splitlines()))
    listing = "\n".join(f"  {line}" for line in changed)
    sys.stderr.write(
        "\nThe tests changed the source tree (they must write only to temporary folders;\n"
        "screenshots are stored only with SHOWFLOOR_UPDATE_SCREENSHOTS=1):\n"
        f"{listing}\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED

