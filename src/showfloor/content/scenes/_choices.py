"""Alternatives in a scene's content: exactly one of two fields.

A story choice goes on with ``goto`` *or* ``next``; a panorama hotspot opens
a ``detail`` *or* goes to a scene (``goto``); a panorama shows an ``image``
*or* a ``video``. Each of these models holds one validator made by
:func:`exactly_one`, so the rule and its message are written once::

    class Choice(Model):
        ...
        _one_way = exactly_one("goto", "next", "a choice")
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator


def exactly_one(first: str, second: str, what: str) -> Any:
    """A model validator that refuses a model unless exactly one of its fields ``first``
    and ``second`` is given; ``what`` names the thing in the message ("a choice")."""

    def check(item: BaseModel) -> BaseModel:
        if (getattr(item, first) is None) == (getattr(item, second) is None):
            raise ValueError(f"{what} needs exactly one of '{first}' or '{second}'")
        return item

    return model_validator(mode="after")(check)
