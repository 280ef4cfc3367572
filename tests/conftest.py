"""Shared test helpers: where things are, and running the real command line."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from showfloor.hub.devdb import TempPostgres

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
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``tmpfs("4m")``: a real disk of that size (a tmpfs mounted for the test, unmounted
    after it; root only, the test is skipped elsewhere)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root")
        where = tmp_path / f"disk-{size}-{len(mounted)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(where)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(where)
        return where

    try:
        yield mount
    finally:
        for where in reversed(mounted):
            subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def tiny_disk(tmpfs: Callable[[str], Path]) -> Path:
    """A real 1 MB disk (see ``tmpfs``)."""
    return tmpfs("1m")


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory (/dev/shm) where there is one, else ``tmp_path``: a kill -9 leaves
    the same files there as on a disk (it is not a power cut), and the crash tests run
    about 4 times faster."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="showfloor-crash-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- PostgreSQL: one throwaway cluster per test session, shared by every folder ----------
# ``db_url`` runs a test once per backend; ``pg_url`` is for tests that need PostgreSQL
# itself. The cluster starts on first use, so a run that selects only ``[sqlite]`` tests
# starts no server. (Hub tests and the station tests that talk to a hub use them.)

@pytest.fixture(scope="session")
def postgres() -> Iterator[TempPostgres]:
    """The session's throwaway PostgreSQL cluster (``make unit`` installs the server)."""
    from showfloor.hub.devdb import TempPostgres

    with TempPostgres() as pg:
        yield pg


def _fresh_database(request: pytest.FixtureRequest) -> Iterator[str]:
    pg: TempPostgres = request.getfixturevalue("postgres")
    name = f"t_{secrets.token_hex(6)}"
    url = pg.create_database(name)
    yield url
    pg.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database, once in SQLite and once in PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/hub.sqlite"
    else:
        yield from _fresh_database(request)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    """Like ``db_url``, but one database per test module and backend (for a module's hub)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('hub')}/hub.sqlite"
    else:
        yield from _fresh_database(request)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty PostgreSQL database."""
    yield from _fresh_database(request)


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



@pytest.fixture(scope="session", autouse=True)
def _ask_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo's ask index, embedded once for the whole run into a temporary
    $XDG_CACHE_HOME (never the user's ~/.cache): every demo station a test starts (its
    environment inherits this) takes it from there instead of embedding its ~700
    phrasings again beside the test. $SHOWFLOOR_TEST_CACHE names a cache kept between
    runs instead."""
    kept = os.environ.get("SHOWFLOOR_TEST_CACHE")
    cache = Path(kept) if kept else tmp_path_factory.mktemp("xdg-cache")
    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    from showfloor.ask.commands import build_index
    from showfloor.content.lint import check

    report = check(DEMO)
    if report.exhibit is not None and report.exhibit.knowledge is not None:
        build_index(DEMO, report.exhibit.knowledge, cache / "showfloor")
    yield cache
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
