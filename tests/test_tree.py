"""The suite leaves the checkout as it found it (``make test`` sets SHOWFLOOR_CHECK_TREE=1).

A pytest run in a child process loads tests/conftest.py as a plugin, and its one test
writes a file into the checkout: that run must fail, naming the file. The file is
removed again before this test ends, so the outer run's own check still passes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _child_run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_child.py"
    # the child starts no station: overriding conftest's autouse ``_ask_index`` (embedding
    # the demo's ask index takes ~20 s on this machine) leaves only the tree check to run
    test.write_text("from pathlib import Path\n\nimport pytest\n\n\n"
                    "@pytest.fixture(scope='session')\ndef _ask_index() -> None:\n"
                    "    return None\n\n\n"
                    f"def test_child() -> None:\n{body}\n", encoding="utf-8")
    env = {**os.environ, "SHOWFLOOR_CHECK_TREE": "1",
           "PYTHONPATH": str(ROOT / "tests") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("SHOWFLOOR_UPDATE_SCREENSHOTS", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
                          check=False)


def test_a_run_that_writes_into_the_tree_fails(tmp_path: Path) -> None:
    probe = ROOT / f"tree-probe-{os.getpid()}.txt"
    try:
        out = _child_run(tmp_path, f"    Path({str(probe)!r}).write_text('x')")
        assert out.returncode == 1, out.stdout + out.stderr
        assert "The tests changed the source tree" in out.stderr
        assert probe.name in out.stderr
    finally:
        probe.unlink(missing_ok=True)


def test_a_run_that_writes_only_to_tmp_passes(tmp_path: Path) -> None:
    out = _child_run(tmp_path, f"    Path({str(tmp_path / 'ok.txt')!r}).write_text('x')")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "changed the source tree" not in out.stderr
