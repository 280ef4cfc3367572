"""The driver registry: hall-hardware drivers by name.

Built-in drivers and third-party ones register the same way: a
``showfloor.drivers`` entry point naming a :class:`~showfloor.drivers.base.Driver`
subclass (see ``pyproject.toml`` and docs/drivers.md). The simulated driver is
also listed in :data:`DEFAULT_DRIVERS`, so a source checkout without installed
metadata still has it (the same arrangement as the scene types).

A driver whose module cannot be imported (a missing optional package) is left
out, and :func:`broken` says why, so ``check`` can name the reason instead of
"unknown driver".
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from showfloor.drivers.base import ENTRY_POINT_GROUP, Driver
from showfloor.plugins import load_class

DEFAULT_DRIVERS = ("simulated = showfloor.drivers.simulated:Simulated",)

#: drivers that live in the renderer page, not in the station process (``keyboard``: a
#: USB button, buzzer or reader that types); the station's DriverHost starts none of them
PAGE_DRIVERS = frozenset({"keyboard"})

_broken: dict[str, str] = {}


def _load(spec: str) -> type[Driver]:
    return load_class(spec, Driver, "driver")


@cache
def registry() -> dict[str, type[Driver]]:
    """Every driver class by name: built-ins first, then entry points."""
    drivers: dict[str, type[Driver]] = {}
    specs = [tuple(s.replace(" ", "").split("=", 1)) for s in DEFAULT_DRIVERS]
    specs += [(ep.name, ep.value) for ep in entry_points(group=ENTRY_POINT_GROUP)]
    for name, spec in specs:
        if name in drivers:
            continue
        try:
            cls = _load(spec)
        except ImportError as err:
            _broken[name] = f"its module cannot be imported ({err})"
            continue
        drivers[getattr(cls, "name", name)] = cls
    return drivers


def driver(name: str) -> type[Driver] | None:
    """The driver class called ``name`` (None: no such driver)."""
    return registry().get(name)


def broken(name: str) -> str | None:
    """Why driver ``name`` is registered but unusable (None: it is fine or unknown)."""
    registry()
    return _broken.get(name)


def names() -> list[str]:
    """Every usable driver's name, the page drivers included (for ``check`` hints)."""
    return sorted(set(registry()) | PAGE_DRIVERS)
