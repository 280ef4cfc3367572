"""A plug-in scene type installed the way a real one is, but only for a test's processes.

``tests/plugins/showfloor_plugin_demo`` is a package with a ``poster`` scene type and
its renderer module. :func:`install` writes the package's metadata (a
``.dist-info`` folder with its ``showfloor.scene_types`` entry point) into a
temporary site folder and returns the environment that puts both on a station
process's path: the station finds the type through the same entry points as the
built-ins, and the test's own interpreter and the project's venv are untouched.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tests" / "plugins"
PIC = ROOT / "tests" / "corpus" / "_valid" / "media" / "pic.png"


def install(site: Path, package: str = "showfloor_plugin_demo",
            entry: str = "poster = showfloor_plugin_demo:Poster") -> dict[str, str]:
    """A plug-in's metadata in ``site`` (the package under tests/plugins and its
    ``showfloor.scene_types`` entry point); the environment a station needs to find it."""
    info = site / f"{package}-0.1.dist-info"
    info.mkdir(parents=True)
    name = package.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[showfloor.scene_types]\n{entry}\n")
    path = os.pathsep.join(p for p in (str(PLUGINS), str(site),
                                       os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


EXHIBIT = """\
format: 1
id: plugin-demo
version: 1.0.0
title: {zh-CN: 海报, en: Posters}
languages: [zh-CN, en]
default_language: zh-CN
attract: attract
start: poster
scenes:
  - id: attract
    type: attract
    loop:
      - {image: media/pic.png, duration: 6}
    call: {zh-CN: 触摸开始, en: Touch to start}
  - id: poster
    type: poster
    heading: {zh-CN: 来自插件的海报, en: A poster from a plug-in}
    colour: "#2a7f62"
    next: ending
  - id: ending
    type: end
    messages:
      - text: {zh-CN: 谢谢, en: Thank you}
"""


def exhibit(folder: Path) -> Path:
    """A small exhibit whose second scene is a ``poster``."""
    (folder / "media").mkdir(parents=True)
    shutil.copy(PIC, folder / "media" / "pic.png")
    (folder / "exhibit.yaml").write_text(EXHIBIT, encoding="utf-8")
    return folder
