"""The JSON Schema of the exhibit format, generated from the typed models.

Scene types come from the registry, so a plugin's scene type appears in the
schema (and in editors' autocompletion) as soon as it is installed.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, create_model

from showfloor.content.model import Exhibit
from showfloor.content.scenes import registry

SCHEMA_ID = "https://showfloor.dev/schema/exhibit-1.json"


def exhibit_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) for ``exhibit.yaml``, every scene type included."""
    models = tuple(st.model for st in registry().values())
    scene = Annotated[Union[models], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    full = create_model(
        "ExhibitFile", __base__=Exhibit,
        scenes=(list[scene], Field(default_factory=list,
                                   description="Scenes (more may live in scenes/*.yaml).")),
    )
    schema: dict[str, Any] = full.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "showfloor exhibit (format 1)"
    return schema


def knowledge_schema() -> dict[str, Any]:
    """JSON Schema for a ``knowledge/*.yaml`` file: a topic and its entries."""
    from showfloor.content.knowledge import KnowledgeFile

    schema: dict[str, Any] = KnowledgeFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "showfloor knowledge-base file (format 1)"
    return schema


def scene_list_schema() -> dict[str, Any]:
    """JSON Schema for a ``scenes/*.yaml`` file: a list of scenes."""
    base = exhibit_schema()
    return {
        "$schema": base["$schema"],
        "title": "showfloor scenes file (format 1)",
        "type": "array",
        "items": base["properties"]["scenes"]["items"],
        "$defs": base.get("$defs", {}),
    }
