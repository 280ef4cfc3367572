"""A third-party scene type for the tests: ``poster``, a big coloured card, with its own renderer module.

It registers the way any plug-in does (a ``showfloor.scene_types`` entry
point; the tests install it into a temporary site folder, see
``tests/station/test_plugins.py``) and brings ``poster.js`` for the page.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from showfloor.content.model import Flow, SceneBase, Text
from showfloor.content.scenes.base import Runtime, SceneType


class PosterScene(SceneBase):
    type: Literal["poster"]
    heading: Text
    colour: str = Field(default="#2a7f62", pattern=r"^#[0-9a-fA-F]{6}$")
    next: Flow


class Poster(SceneType):
    name = "poster"
    model = PosterScene
    summary = "A big coloured card with one line on it (a test plug-in)."
    renderer = "poster.js"

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: PosterScene = scene
        return {"heading": rt.text(s.heading), "colour": s.colour}
