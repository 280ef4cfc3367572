"""The one build step pyproject.toml cannot say: refuse to build a wheel without npm files.

Everything else is declared in pyproject.toml. The renderer's npm files (three.js, and
ECharts for the hub's reports) and the glTF validator's are package data copied from
``node_modules`` (``make setup`` runs ``npm ci``); a wheel built before that would
install, start, and then fail in the browser with a missing module. So a build without
them stops here, with what to do.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

#: Files the station page cannot work without (relative to the package folder).
REQUIRED = ("renderer/node_modules/three/build/three.module.js",
            "renderer/node_modules/three/build/three.core.js",
            "renderer/node_modules/three/examples/jsm/loaders/GLTFLoader.js",
            "renderer/node_modules/echarts/dist/echarts.min.js",
            "renderer/node_modules/echarts/i18n/langEN.js",
            "renderer/node_modules/echarts/i18n/langZH.js",
            "content/validator/node_modules/gltf-validator/package.json")


class BuildPy(build_py):  # type: ignore[misc]
    def run(self) -> None:
        here = Path(self.get_package_dir("showfloor"))
        # an editable install (make setup's pip install -e, before npm ci) copies nothing
        editable = getattr(self, "editable_mode", False)
        missing = [name for name in REQUIRED if not editable and not (here / name).is_file()]
        if missing:
            raise SystemExit(
                f"cannot build showfloor: {here / missing[0]} is missing (the npm packages "
                "are not installed); run `make setup` (npm ci in src/showfloor/renderer and "
                "src/showfloor/content/validator) first, then build again")
        super().run()


setup(cmdclass={"build_py": BuildPy})
