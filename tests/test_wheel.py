"""showfloor as an installable package (fault test 10), and ``showfloor kiosk --install``.

The wheel is built the way a release is (``python -m build``: an sdist, then the wheel from
the sdist) from a copy of the tree in a temporary folder — what git would commit, plus the
npm files the wheel carries — so the build never writes into the checkout. It is installed
into a fresh venv; the station, ``check`` and the hub run from there with a PATH that holds
only that venv's bin (no node). Dependencies: the new venv gets a ``.pth`` that adds the
project venv's site-packages *after* its own, so nothing is downloaded and the test stays
fast; the test proves that ``showfloor`` itself is imported from the new venv (the project
venv's editable install is a ``.pth`` there too, and ``.pth`` files in a folder that a
``.pth`` adds are not read).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import DEMO, ROOT
from e2e._browser import launch
from showfloor.errors import ShowfloorError
from showfloor.station import unitfiles

PKG = ROOT / "src" / "showfloor"
#: npm folders the wheel takes files from (ignored by git; ``make setup`` installs them)
NPM = (PKG / "renderer" / "node_modules" / "three", PKG / "renderer" / "node_modules" / "echarts",
       PKG / "content" / "validator" / "node_modules")


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sdist: Path
    venv: Path
    env: dict[str, str]
    tmp: Path

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.bin("showfloor"), *map(str, args)], env=self.env,
                              cwd=self.tmp, capture_output=True, text=True, timeout=timeout,
                              check=False)


def _copy_tree(dest: Path) -> None:
    """What git would commit (tracked and new, not ignored), plus the npm folders."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        src, dst = ROOT / name, dest / name
        if not src.is_file() and not src.is_symlink():
            continue  # deleted in the working tree
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
    for folder in NPM:
        if not folder.is_dir():
            pytest.fail(f"{folder} is missing: run make setup (npm ci) first")
        shutil.copytree(folder, dest / folder.relative_to(ROOT), symlinks=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def _wait_http(url: str, proc: subprocess.Popen[str], seconds: float = 45) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"{url}: the process ended ({proc.returncode}): {out[-2000:]}")
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    tree, dist, venv = tmp / "tree", tmp / "dist", tmp / "venv"
    _copy_tree(tree)
    built = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir",
                            str(dist), str(tree)], capture_output=True, text=True, timeout=300,
                           check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = dist.glob("showfloor-*.whl")
    sdist, = dist.glob("showfloor-*.tar.gz")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"),
                          "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert pip.returncode == 0, pip.stderr[-3000:]
    site, = (venv / "lib").glob("python3*/site-packages")
    (site / "zz_showfloor_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "SHOWFLOOR_DEBUG", "SHOWFLOOR_DATA")}
    env.update(PATH=str(venv / "bin"), HOME=str(tmp / "home"), NO_COLOR="1", COLUMNS="200",
               PYTHONIOENCODING="utf-8")
    return Installed(wheel, sdist, venv, env, tmp)


def test_the_wheel_runs_a_station_and_a_hub_without_node_or_a_checkout(
        installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for needed in ("showfloor/py.typed", "showfloor/renderer/web/index.html",
                   "showfloor/renderer/node_modules/three/build/three.module.js",
                   "showfloor/renderer/node_modules/three/examples/jsm/loaders/GLTFLoader.js",
                   "showfloor/content/validator/package.json", "showfloor/content/gltf_validate.mjs",
                   "showfloor/content/validator/node_modules/gltf-validator/package.json",
                   "showfloor/hub/dashboard/templates/base.html",
                   "showfloor/hub/dashboard/static/dashboard.js",
                   "showfloor/hub/dashboard/static/reports.js",
                   "showfloor/renderer/node_modules/echarts/dist/echarts.min.js",
                   "showfloor/renderer/node_modules/echarts/i18n/langZH.js",
                   "showfloor/hub/migrations/env.py",
                   "showfloor/hub/migrations/versions/0001_the_fleet_store.py",
                   "showfloor/station/units/showfloor-station@.service"):
        assert needed in names, needed
    # only what the page loads: not the rest of node_modules, not three's WebGPU builds
    assert not [n for n in names if "axe-core" in n or "iwer" in n or "three.webgpu" in n]
    assert installed.wheel.stat().st_size < 8 * 1024 * 1024
    # the sdist holds the npm files too (the wheel above was built from it)
    with tarfile.open(installed.sdist) as sd:
        assert any(n.endswith("node_modules/three/build/three.module.js") for n in sd.getnames())

    py = subprocess.run([installed.bin("python"), "-c", "import shutil, showfloor; "
                         "print(showfloor.__file__); print(shutil.which('node'))"],
                        env=installed.env, capture_output=True, text=True, check=True)
    where, node = py.stdout.split("\n")[:2]
    assert Path(where).is_relative_to(installed.venv), where  # not src/ of the checkout
    assert node == "None"

    # check: node is optional — one warning, no error, models otherwise checked
    checked = installed.run("check", DEMO)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("node is not installed, so glTF models were not validated") == 1

    made = installed.run("new", installed.tmp / "hello")
    assert made.returncode == 0, made.stderr
    station_port, hub_port = _free_port(), _free_port()
    station = subprocess.Popen(
        [installed.bin("showfloor"), "station", str(installed.tmp / "hello"), "--port",
         str(station_port), "--data", str(installed.tmp / "data")],
        env=installed.env, cwd=installed.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    hub = subprocess.Popen(
        [installed.bin("showfloor"), "hub", "--db", str(installed.tmp / "hub.sqlite"), "--port",
         str(hub_port)], env=installed.env, cwd=installed.tmp, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{station_port}"
        _wait_http(base + "/healthz", station)
        served = _get(base + "/vendor/three/build/three.module.js")
        inside = installed.venv.glob("lib/python3*/site-packages/showfloor/renderer/"
                                     "node_modules/three/build/three.module.js")
        assert served == (200, next(inside).read_bytes())
        # the checkout's node_modules has the WebGPU build; the installed package does not
        assert _get(base + "/vendor/three/build/three.webgpu.js")[0] == 404
        browser_gen = launch()
        browser = next(browser_gen)
        try:
            page = browser.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(base + "/")
            page.wait_for_function("window.showfloor && window.showfloor.connected",
                                   timeout=30000)
            revision = page.evaluate("import('three').then((m) => m.REVISION)")
            loaded = page.evaluate("performance.getEntriesByType('resource')"
                                   ".map((e) => e.name).filter((n) => n.includes('/vendor/'))")
            assert revision == "187" and any("three.module.js" in u for u in loaded), loaded
            assert not failed, failed
        finally:
            next(browser_gen, None)
        _wait_http(f"http://127.0.0.1:{hub_port}/healthz", hub)
        # the Reports pages' charts: ECharts from the installed package
        charts = _get(f"http://127.0.0.1:{hub_port}/dashboard/static/vendor/echarts/dist/"
                      "echarts.min.js")
        assert charts[0] == 200 and b"echarts" in charts[1][:4000]
    finally:
        for proc in (station, hub):
            proc.terminate()
        for proc in (station, hub):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()


def _verify(paths: list[Path], *, user: bool) -> None:
    """``systemd-analyze verify`` on instances of the written (template) units."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # not on this machine: the units' text is checked above
    instances = []
    for p in paths:
        inst = p.with_name(p.name.replace("@.", "@hall-a.")) if "@." in p.name else p
        if inst != p:
            shutil.copy(p, inst)
        instances.append(str(inst))
    runtime = paths[0].parent / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_LEVEL": "notice"}
    done = subprocess.run([analyze, "verify", *(["--user"] if user else []), *instances],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "ignoring" not in done.stderr and "not executable" not in done.stderr, done.stderr
    for name in instances:
        if "@hall-a." in name:
            Path(name).unlink()


def test_kiosk_install_writes_filled_in_units_and_never_overwrites_a_changed_one(
        tmp_path: Path) -> None:
    profile = tmp_path / "etc" / "hall-a.yaml"
    exe = unitfiles.showfloor_exe()
    # system units (root): the user, paths, port and data folder filled in
    system = unitfiles.plan(unit_dir=tmp_path / "system", profile=profile,
                            data=tmp_path / "data", port=8711, run_as="nobody", system=True)
    written = unitfiles.install(system)
    assert [s for _, s in written] == ["wrote"] * 3
    station = (tmp_path / "system" / "showfloor-station@.service").read_text()
    assert f"ExecStart={exe} station --profile {profile.parent}/%i.yaml --port 8711" in station
    assert f"Environment=SHOWFLOOR_DATA={tmp_path / 'data'}" in station
    assert "User=nobody" in station and "ProtectSystem=strict" in station
    assert "/opt/showfloor" not in station and "StateDirectory" not in station
    kiosk = (tmp_path / "system" / "showfloor-kiosk@.service").read_text()
    assert "localhost:8711/healthz" in kiosk and f"{exe} kiosk --profile" in kiosk
    assert (tmp_path / "data").is_dir()
    assert all(p.stat().st_mode & 0o777 == 0o644 for p, _ in written)
    _verify([p for p, _ in written if "kiosk" not in p.name], user=False)
    steps = unitfiles.next_steps(system, profile)
    assert "systemctl enable --now showfloor-station@hall-a.service" in steps

    # the same again: unchanged; a file someone edited is refused, then --force replaces it
    assert [s for _, s in unitfiles.install(system)] == ["unchanged"] * 3
    hub = tmp_path / "system" / "showfloor-hub.service"
    hub.write_text(hub.read_text() + "# local change\n")
    with pytest.raises(ShowfloorError, match=r"showfloor-hub\.service is already there and "
                       "differs .* --force"):
        unitfiles.install(system)
    assert hub.read_text().endswith("# local change\n")
    assert {p.name: s for p, s in unitfiles.install(system, force=True)}[hub.name] == "replaced"

    # user units (not root): no User= or sandboxing, started by default.target
    user = unitfiles.plan(unit_dir=tmp_path / "user", profile=profile, data=tmp_path / "d2",
                          system=False)
    paths = [p for p, _ in unitfiles.install(user)]
    text = (tmp_path / "user" / "showfloor-station@.service").read_text()
    assert "\nUser=" not in text and "\nProtectSystem" not in text
    assert "WantedBy=default.target" in text
    _verify(paths, user=True)

    # the command line: --install without --policy writes the units; a changed one: exit 2
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    cli = [sys.executable, "-m", "showfloor", "kiosk", "--install", "--unit-dir",
           str(tmp_path / "cli"), "--profile", str(profile), "--data", str(tmp_path / "d3")]
    r = subprocess.run(cli, capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 0, r.stderr
    assert "wrote " + str(tmp_path / "cli" / "showfloor-station@.service") in r.stdout
    assert "enable --now showfloor-station@hall-a.service" in r.stdout
    (tmp_path / "cli" / "showfloor-kiosk@.service").write_text("[Unit]\n")
    r = subprocess.run(cli, capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 2 and "--force" in r.stderr
