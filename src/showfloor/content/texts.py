"""Every visible string of an exhibit, with its stable id and its place.

A :data:`~showfloor.content.model.Text` is found by its type marker, not by
guessing from its shape. Its id is the ``id:`` key when given, otherwise the
path to it with list positions replaced by the ids of the items
(``party.choices.say_no.label``), so it survives reordering.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from showfloor.content.model import TEXT, Exhibit

Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Located:
    """A visible string: its stable ``id``, its ``path`` in the exhibit, its text."""

    id: str
    path: Path
    text: dict[str, str]


_UNWRAPPED: dict[Any, tuple[Any, bool]] = {}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip Annotated/Optional; report whether the TEXT marker was seen (cached)."""
    try:
        return _UNWRAPPED[annotation]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation
        return _unwrap_uncached(annotation)
    found = _UNWRAPPED[annotation] = _unwrap_uncached(annotation)
    return found


def _unwrap_uncached(annotation: Any) -> tuple[Any, bool]:
    is_text = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            is_text = is_text or any(a is TEXT for a in args[1:])
            annotation = args[0]
            continue
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in typing.get_args(annotation) if a is not type(None)]
            for a in inner:
                _, t = _unwrap(a)
                is_text = is_text or t
            # Keep walking the first non-text alternative that holds models.
            for a in inner:
                base, _ = _unwrap(a)
                if typing.get_origin(base) in (list, dict) or (
                    isinstance(base, type) and issubclass(base, BaseModel)
                ):
                    annotation = a
                    break
            else:
                return (inner[0] if inner else annotation), is_text
            if is_text:
                return annotation, True
            continue
        return annotation, is_text


def _walk(value: Any, annotation: Any, is_text: bool, path: Path, label: tuple[str, ...]
          ) -> Iterator[Located]:
    if value is None:
        return
    annotation, marked = _unwrap(annotation)
    if is_text or marked:
        if isinstance(value, dict):
            tid = value.get("id") if isinstance(value.get("id"), str) else ".".join(label)
            yield Located(str(tid), path, value)
        return
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        for name, info in fields.items():
            sub = getattr(value, name)
            yield from _walk(sub, info.annotation, TEXT in info.metadata,
                             (*path, name), (*label, name))
        return
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if isinstance(value, list):
        item_ann = args[0] if origin is list and args else Any
        for i, item in enumerate(value):
            item_id = getattr(item, "id", None) if isinstance(item, BaseModel) else None
            yield from _walk(item, item_ann, False, (*path, i), (*label, str(item_id or i)))
        return
    if isinstance(value, dict):
        val_ann = args[1] if origin is dict and len(args) == 2 else Any
        for k, item in value.items():
            yield from _walk(item, val_ann, False, (*path, k), (*label, str(k)))


def iter_texts(exhibit: Exhibit) -> Iterator[Located]:
    """Every visible string in ``exhibit``, in document order."""
    for name, info in Exhibit.model_fields.items():
        if name == "scenes":
            continue
        yield from _walk(getattr(exhibit, name), info.annotation, TEXT in info.metadata,
                         (name,), (name,))
    for i, scene in enumerate(exhibit.scenes):
        for name, info in type(scene).model_fields.items():
            yield from _walk(getattr(scene, name), info.annotation, TEXT in info.metadata,
                             ("scenes", i, name), (scene.id, name))
