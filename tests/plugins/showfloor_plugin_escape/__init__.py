"""A test plug-in scene type, ``escape``: a board of buttons that make the page try to leave.

The kiosk escape battery (``tests/e2e/test_escape.py``) installs it the way
``tests/station/_plugins.py`` installs ``poster``. Its module, ``escape.js``,
draws one button per page-side attempt (``window.open``, a ``target=_blank``
link, ``file://``, ``chrome://`` and ``about:blank`` navigations, ``print()``,
``alert()``), a link and an image to drag, and a ``ping`` button whose tap
counts up in the document title: the test reads the title through the window
manager's name for the window, so a page that still answers a tap proves it is
the station's page, in front and not blocked by a dialog.
"""

from __future__ import annotations

from typing import Any, Literal

from showfloor.content.model import Flow, SceneBase, Text
from showfloor.content.scenes.base import Runtime, SceneType


class EscapeScene(SceneBase):
    type: Literal["escape"]
    heading: Text
    next: Flow


class Escape(SceneType):
    name = "escape"
    model = EscapeScene
    summary = "Buttons that make the page try to leave the kiosk (a test plug-in)."
    renderer = "escape.js"

    def view(self, scene: Any, rt: Runtime) -> dict[str, Any]:
        s: EscapeScene = scene
        return {"heading": rt.text(s.heading)}
