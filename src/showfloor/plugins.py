"""Plug-ins found by entry point (scene types, drivers): loading one class by its spec."""

from __future__ import annotations

import importlib
from typing import Any

from showfloor.errors import ShowfloorError


def load_class(spec: str, base: type, what: str) -> type[Any]:
    """The class ``module:attr`` names, which must be a subclass of ``base``."""
    module, _, attr = spec.partition(":")
    cls = getattr(importlib.import_module(module), attr)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ShowfloorError(f"{what} '{spec}' is not a {base.__name__} subclass")
    return cls
