"""A plug-in scene type brings its own renderer module: served, and named in the welcome."""

from __future__ import annotations

from pathlib import Path

import httpx

from showfloor.content.scenes.base import SceneType

from ._plugins import PLUGINS, exhibit, install
from ._support import RunningStation, open_page, start_station


def test_a_plug_in_scene_types_module_is_served_and_named_in_the_welcome(tmp_path: Path
                                                                          ) -> None:
    env = install(tmp_path / "site")
    st = start_station(exhibit(tmp_path / "ex"), data=tmp_path / "data", env=env)
    try:
        page = open_page(st)
        welcome, _ = page.hello()
        assert welcome["scene_modules"] == {"poster": "/plugins/poster.js"}
        page.close()
        js = httpx.get(f"{st.url}/plugins/poster.js", timeout=10)
        assert js.status_code == 200
        assert js.headers["content-type"].startswith("text/javascript")
        assert js.text == (PLUGINS / "showfloor_plugin_demo" / "poster.js").read_text()
        # only the modules of the types the exhibit uses, by their names
        for missing in ("attract", "nope", "..%2Fapp"):
            assert httpx.get(f"{st.url}/plugins/{missing}.js", timeout=10).status_code == 404
    finally:
        st.stop()


def test_built_in_types_bring_no_module_of_their_own(station: RunningStation) -> None:
    # the page has the built-ins' modules; the welcome names none
    page = open_page(station)
    welcome, _ = page.hello()
    assert welcome["scene_modules"] == {}
    page.close()


def test_a_scene_types_module_is_found_next_to_the_file_that_defines_it() -> None:
    class Here(SceneType):
        name = "here"
        renderer = "here.js"

    assert Here.renderer_file() == Path(__file__).resolve().parent / "here.js"
    assert SceneType.renderer_file() is None
