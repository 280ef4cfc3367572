"""The command line: bad input ends in one plain sentence, never a traceback.

The failure cases run the real command (``python -m showfloor``) as a
subprocess without SHOWFLOOR_DEBUG, exactly as a curator would; the positive
cases that only need exit codes use typer's CliRunner, in-process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import CORPUS, Cli, huge_exhibit
from showfloor import __version__
from showfloor.cli import app
from showfloor.content.scaffold import scaffold

runner = CliRunner()


def plain_failure(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """Assert a failure explained in words, without a traceback; return the output."""
    said = result.stdout + result.stderr
    assert result.returncode != 0, said
    assert "Traceback" not in said, said
    assert 'File "' not in said, said
    assert "internal problem" not in said, said
    for w in words:
        assert w.lower() in said.lower(), f"{w!r} not in:\n{said}"
    return said


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    """A refused command says one line on stderr: 'error: …'."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh exhibit from the scaffold, and a short event log recorded from it."""
    root = scaffold(tmp_path_factory.mktemp("cli") / "made")
    result = runner.invoke(app, ["simulate", str(root), "-n", "3",
                                 "--record", str(root.parent / "made.jsonl")])
    assert result.exit_code == 0, result.output
    return root


# -- nothing to load -----------------------------------------------------------

def test_missing_path(cli: Cli, tmp_path: Path) -> None:
    result = cli("check", tmp_path / "nowhere")
    plain_failure(result, "no such file or folder")
    assert result.returncode == 2
    one_sentence(result)


def test_folder_without_exhibit_yaml(cli: Cli, tmp_path: Path) -> None:
    result = cli("check", tmp_path)
    plain_failure(result, "has no exhibit.yaml", "showfloor new")
    one_sentence(result)


def test_exhibit_yaml_that_cannot_be_read(cli: Cli, tmp_path: Path) -> None:
    # tests run as root, which reads anything: a folder named exhibit.yaml stands in
    (tmp_path / "exhibit.yaml").mkdir()
    result = cli("check", tmp_path)
    plain_failure(result, "exhibit.yaml", "is a folder, not a file")
    one_sentence(result)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_exhibit_yaml_without_permission(cli: Cli, tmp_path: Path) -> None:
    f = tmp_path / "exhibit.yaml"
    f.write_text("format: 1\n", encoding="utf-8")
    f.chmod(0)
    try:
        plain_failure(cli("check", tmp_path), "cannot read exhibit.yaml")
    finally:
        f.chmod(0o644)


# -- content that is not an exhibit ----------------------------------------------

def test_binary_exhibit_yaml(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "exhibit.yaml").write_bytes(b"\x7fELF\x02\x01\x01\x00" + os.urandom(4096))
    result = cli("check", tmp_path)
    assert result.returncode == 1
    said = plain_failure(result, "exhibit.yaml is a binary file, not YAML text")
    assert "1 error(s)" in said


def test_huge_yaml_is_refused_quickly(cli: Cli, tmp_path: Path) -> None:
    with (tmp_path / "exhibit.yaml").open("wb") as f:
        f.write(b"title: {en: big}\n")
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on paper, nothing on disk
    started = time.monotonic()
    result = cli("check", tmp_path, timeout=30)
    assert time.monotonic() - started < 10
    said = plain_failure(result, "exhibit.yaml is 52.4 MB", "limited to 4 MB")
    assert said.count("MB;") == 1


def test_simulate_a_broken_exhibit(cli: Cli) -> None:
    result = cli("simulate", CORPUS / "many-mistakes", "-n", "5")
    plain_failure(result, "3 error(s)", "showfloor check")
    # the problems, each at its place, then one 'error: …' sentence
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("exhibit.yaml:24:12: error: image file 'media/pics.png'")
    assert lines[-1].startswith("error: ")
    assert sum(line.startswith("error: ") for line in lines) == 1


def test_simulate_an_exhibit_that_does_not_load(cli: Cli) -> None:
    result = cli("simulate", CORPUS / "yaml-tab-indent", "-n", "5")
    plain_failure(result, "exhibit.yaml:27:1", "indent with spaces", "1 error(s)")


HUGE_PICTURE = "exhibit.yaml:20:17: error: image 'media/huge.png' is 20000×20000 pixels"


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An exhibit whose attract picture is a real 20000×20000 PNG (about 50 KB)."""
    return huge_exhibit(tmp_path_factory.mktemp("cli-huge") / "exhibit")


def test_check_a_huge_picture(cli: Cli, huge: Path) -> None:
    result = cli("check", huge)
    assert result.returncode == 1, result.stdout + result.stderr  # not 70: a content error
    said = plain_failure(result, HUGE_PICTURE, "1 error(s)")
    assert "Decompression" not in said


def test_simulate_and_station_refuse_a_huge_picture_at_its_line(cli: Cli, huge: Path,
                                                               tmp_path: Path) -> None:
    for args in (["simulate", huge, "-n", "3"],
                 ["station", huge, "--port", str(_free_port()), "--data", tmp_path]):
        result = cli(*args)
        assert result.returncode == 2, result.stdout + result.stderr  # as with any error
        said = plain_failure(result, HUGE_PICTURE, "has 1 error(s)")
        assert "Decompression" not in said


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- replay --------------------------------------------------------------------------

def test_replay_a_missing_log(cli: Cli, tmp_path: Path) -> None:
    result = cli("replay", tmp_path / "events.jsonl")
    plain_failure(result, "events.jsonl", "cannot read")
    one_sentence(result)


def test_replay_garbage(cli: Cli, tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    log.write_text('{"seq": 1, "kind": "view"\nnot json at all\n', encoding="utf-8")
    result = cli("replay", log)
    plain_failure(result, "events.jsonl:1", "not an event line")
    one_sentence(result)
    log.write_bytes(b"\xff\xfe\x00garbage\n" + os.urandom(256))
    result = cli("replay", log)
    plain_failure(result, "not an event log", "not UTF-8")
    one_sentence(result)


def test_replay_a_log_of_another_exhibit(cli: Cli, made: Path) -> None:
    result = cli("replay", made.parent / "made.jsonl", "--exhibit", CORPUS / "_valid")
    plain_failure(result, "recorded with exhibit 'made'", "not 'corpus-base'")
    one_sentence(result)


def test_replay_the_recorded_log(made: Path) -> None:
    result = runner.invoke(app, ["replay", str(made.parent / "made.jsonl")])
    assert result.exit_code == 0, result.output
    assert "views match" in result.output


# -- options and arguments -------------------------------------------------------------

@pytest.mark.parametrize(("args", "words"), [
    (["check", "{valid}", "--format", "xml"], ["--format 'xml' is not known", "text or json"]),
    (["check", "{valid}", "--display", "phone"], ["--display 'phone' is not known",
                                                  "hologram-fan"]),
    (["simulate", "{valid}", "--profile", "lazy"], ["--profile 'lazy' is not known",
                                                    "diligent"]),
    (["new", "{valid}"], ["already exists and is not empty"]),
], ids=["format", "display", "profile", "new-non-empty"])
def test_refused_values(cli: Cli, args: list[str], words: list[str]) -> None:
    result = cli(*[a.replace("{valid}", str(CORPUS / "_valid")) for a in args])
    plain_failure(result, *words)
    assert result.returncode == 2
    one_sentence(result)


@pytest.mark.parametrize(("args", "words"), [
    (["check", "--bogus", "x"], ["No such option: --bogus"]),
    (["check"], ["Missing argument"]),
    (["frobnicate"], ["No such command 'frobnicate'"]),
], ids=["unknown-option", "missing-argument", "unknown-command"])
def test_usage_errors(cli: Cli, args: list[str], words: list[str]) -> None:
    result = cli(*args)
    plain_failure(result, *words)
    assert result.returncode == 2


# -- what works ----------------------------------------------------------------------

def test_new_exhibit_checks_clean_and_runs(cli: Cli, tmp_path: Path) -> None:
    result = cli("new", "my-exhibit", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "my-exhibit" / "exhibit.yaml").is_file()
    checked = cli("check", "my-exhibit", "--strict", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no problems" in checked.stdout
    assert "warning" not in checked.stdout
    simulated = cli("simulate", "my-exhibit", "-n", "200", cwd=tmp_path)
    assert simulated.returncode == 0, simulated.stdout + simulated.stderr
    assert "reached an end" in simulated.stdout


def test_check_exit_codes(tmp_path: Path) -> None:
    errors = runner.invoke(app, ["check", str(CORPUS / "many-mistakes")])
    assert errors.exit_code == 1
    assert "3 error(s), 0 warning(s)" in errors.output
    warned = runner.invoke(app, ["check", str(CORPUS / "unreachable-scene")])
    assert warned.exit_code == 0, warned.output
    assert "0 error(s), 1 warning(s)" in warned.output
    strict = runner.invoke(app, ["check", str(CORPUS / "unreachable-scene"), "--strict"])
    assert strict.exit_code == 1
    clean = runner.invoke(app, ["check", str(CORPUS / "_valid"), "--strict"])
    assert clean.exit_code == 0, clean.output
    as_json = runner.invoke(app, ["check", str(CORPUS / "unreachable-scene"), "-f", "json",
                                  "--strict"])
    assert as_json.exit_code == 1
    assert json.loads(as_json.stdout)["warnings"] == 1
    # the exhibit.yaml itself may be named instead of its folder
    shutil.copytree(CORPUS / "_valid", tmp_path / "ex")
    named = runner.invoke(app, ["check", str(tmp_path / "ex" / "exhibit.yaml")])
    assert named.exit_code == 0, named.output


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"showfloor {__version__}"
