"""The scene-type registry.

Built-in scene types and third-party ones register the same way: a
``showfloor.scene_types`` entry point naming a :class:`SceneType` subclass
(see ``pyproject.toml``). The built-ins are also listed in
:data:`DEFAULT_SCENE_TYPES`, so a source checkout without installed metadata
still has them (the same arrangement as Datasette's ``DEFAULT_PLUGINS``).
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from showfloor.content.scenes.base import SceneType
from showfloor.plugins import load_class

ENTRY_POINT_GROUP = "showfloor.scene_types"

DEFAULT_SCENE_TYPES = (
    "showfloor.content.scenes.attract:Attract",
    "showfloor.content.scenes.media:Media",
    "showfloor.content.scenes.story:Story",
    "showfloor.content.scenes.quiz:Quiz",
    "showfloor.content.scenes.end:End",
    "showfloor.content.scenes.model:ModelType",
    "showfloor.content.scenes.panorama:Panorama",
    "showfloor.content.scenes.ask:Ask",
)


def _load(spec: str) -> type[SceneType]:
    return load_class(spec, SceneType, "scene type")


@cache
def registry() -> dict[str, SceneType]:
    """Every scene type by name: built-ins first, then entry points."""
    types: dict[str, SceneType] = {}
    specs = list(DEFAULT_SCENE_TYPES)
    specs += [ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for spec in specs:
        cls = _load(spec)
        if cls.name not in types:
            types[cls.name] = cls()
    return types


def scene_type(name: str) -> SceneType | None:
    return registry().get(name)
