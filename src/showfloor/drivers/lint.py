"""``showfloor check`` for a station profile's hardware mapping (``devices:``,
``inputs:``, ``outputs:``).

It reads the profile's YAML as written (so every problem has its line and
column, and one mistake does not hide the others) and checks it against the
drivers installed (entry point group ``showfloor.drivers``) and the exhibit:

- a device names a driver nobody installed, or gives it settings its
  :class:`~showfloor.drivers.base.DriverSettings` refuses;
- an input or output names a device the profile does not have;
- an input chooses a choice that no scene offers;
- an output waits for a scene the exhibit does not have, or a cue nobody sends;
- an output asks a driver for something it cannot do (``Driver.check_action``, which
  sees the device's settings: an sACN preset the device does not define).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from showfloor.content.load import Positions, _translate
from showfloor.content.problems import Problem
from showfloor.drivers._secrets import warnings as secret_warnings
from showfloor.drivers.base import Driver, DriverSettings, action_problem

#: ``at(where, severity, message, hint)``: report one problem at a place of the profile
At = Callable[[tuple[str | int, ...], str, str, "str | None"], None]

#: cues the station itself sends (besides each scene's entry): docs/protocol.md
STATION_CUES = ("reset", "message", "screen")
#: engine moments an output may wait for, besides ``{scene: ID}`` and ``{cue: NAME}``
MOMENTS = ("visit_started", "visit_ended", "closing", "opening")


def drivers() -> dict[str, type[Driver]]:
    """The installed drivers by name (the registry: built-ins and entry points)."""
    from showfloor.drivers import registry

    return dict(registry())


def _near(word: str, choices: Iterable[str]) -> str | None:
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{near[0]}'?" if near else None


def _one_of(word: str, choices: Sequence[str], what: str) -> str:
    return _near(word, choices) or (f"use one of the {what}: {', '.join(choices)}"
                                    if choices else f"there are no {what} yet")


def choice_ids(exhibit: Any) -> dict[str, list[str]]:
    """Every choice id any scene offers, with the scenes that offer it."""
    out: dict[str, list[str]] = {}

    def walk(node: Any, scene: str) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                if k == "choices" and isinstance(v, list):
                    for c in v:
                        if isinstance(c, Mapping) and isinstance(c.get("id"), str):
                            out.setdefault(c["id"], []).append(scene)
                walk(v, scene)
        elif isinstance(node, list):
            for v in node:
                walk(v, scene)

    for s in getattr(exhibit, "scenes", ()):
        walk(s.model_dump(), s.id)
    return out


def lint_mapping(doc: Mapping[str, Any], positions: Positions, at: At,
                 exhibit: Any | None) -> list[Problem]:
    """Check ``devices``/``inputs``/``outputs`` of the profile ``doc`` (its parsed YAML).

    Problems the drivers' settings models find come back (positioned by
    ``positions``); the others are reported with ``at``. ``exhibit`` (the loaded
    exhibit, or None when it did not load) is what scenes and choices are
    checked against.
    """
    out: list[Problem] = []
    known = drivers()
    devices_raw = doc.get("devices")
    devices: dict[str, type[Driver] | None] = {}
    #: each device's validated settings (absent: they have mistakes, reported above)
    configs: dict[str, DriverSettings] = {}
    if isinstance(devices_raw, Mapping):
        for name, conf in devices_raw.items():
            where: tuple[str | int, ...] = ("devices", str(name))
            if not isinstance(conf, Mapping):
                devices[str(name)] = None
                continue  # the profile's own model says what is wrong with it
            driver = conf.get("driver")
            cls = known.get(driver) if isinstance(driver, str) else None
            devices[str(name)] = cls
            if cls is None:
                if isinstance(driver, str):
                    from showfloor.drivers import broken

                    why = broken(driver)
                    at((*where, "driver"), "error",
                       f"device '{name}' uses driver '{driver}', but {why}" if why else
                       f"device '{name}' uses driver '{driver}', which is not installed",
                       "install the Python package its module needs into the station's "
                       "environment" if why else
                       _one_of(driver, sorted(known), "installed drivers"))
                continue
            settings = {k: v for k, v in conf.items() if k != "driver"}
            try:
                configs[str(name)] = cls.settings.model_validate(settings)
            except ValidationError as err:
                for p in _translate(err, cls.settings, settings, where, positions):
                    out.append(Problem(p.severity, f"device '{name}' ({driver}): {p.message}",
                                       p.file, p.line, p.column, p.hint, "profile"))
                continue
            for key, why, fix in secret_warnings(configs[str(name)]):
                at((*where, *key), "warning", f"device '{name}' ({driver}): {why}", fix)

    def device_of(item: Mapping[str, Any], where: tuple[str | int, ...]
                  ) -> tuple[str | None, type[Driver] | None]:
        dev = item.get("device")
        if not isinstance(dev, str):
            return None, None
        if dev not in devices:
            at((*where, "device"), "error", f"device '{dev}' is not in this profile's devices",
               _one_of(dev, sorted(devices), "devices"))
            return None, None
        return dev, devices[dev]

    scenes = [s.id for s in getattr(exhibit, "scenes", ())] if exhibit is not None else None
    choices = choice_ids(exhibit) if exhibit is not None else None

    inputs = doc.get("inputs")
    for i, item in enumerate(inputs if isinstance(inputs, list) else []):
        if not isinstance(item, Mapping):
            continue
        where = ("inputs", i)
        dev, cls = device_of(item, where)
        do = item.get("do")
        if cls is not None and cls.name == "keyboard":
            if item.get("match") is None:
                at(where, "warning", f"input {i + 1} from keyboard device '{dev}' has no "
                   "'match': no key will ever fire it", "add match: the key or the code "
                   "it types, e.g. match: F13")
            if do == "presence" or (isinstance(do, Mapping) and "timeline" in do):
                at((*where, "do"), "warning", f"input {i + 1}: a keyboard device types keys; "
                   "it cannot do presence or timeline", "use advance, wake, choose, answer "
                   "or act")
        for verb, says in (("choose", "chooses"), ("answer", "answers")):
            cid = do.get(verb) if isinstance(do, Mapping) else None
            if isinstance(cid, str) and choices is not None and cid not in choices:
                at((*where, "do", verb), "error",
                   f"input {i + 1} {says} '{cid}', which no scene offers",
                   _one_of(cid, sorted(choices), "choice ids"))

    outputs = doc.get("outputs")
    for i, item in enumerate(outputs if isinstance(outputs, list) else []):
        if not isinstance(item, Mapping):
            continue
        where = ("outputs", i)
        dev, cls = device_of(item, where)
        when = item.get("when")
        if isinstance(when, Mapping):
            scene = when.get("scene")
            if isinstance(scene, str) and scenes is not None and scene not in scenes:
                at((*where, "when", "scene"), "error",
                   f"output {i + 1} waits for scene '{scene}', which is not in the exhibit",
                   _one_of(scene, scenes, "scene ids"))
            cue = when.get("cue")
            if isinstance(cue, str) and cue not in STATION_CUES:
                at((*where, "when", "cue"), "error",
                   f"output {i + 1} waits for cue '{cue}', which the station never sends",
                   _one_of(cue, STATION_CUES, "cues"))
        elif isinstance(when, str) and when not in MOMENTS:
            at((*where, "when"), "error", f"output {i + 1} waits for '{when}', which is not "
               "a moment the station has", _near(when, MOMENTS) or
               f"use one of {', '.join(MOMENTS)}, {{scene: ID}} or {{cue: NAME}}")
        do = item.get("do")
        if cls is not None and isinstance(do, Mapping):
            why = action_problem(cls, do, configs.get(dev) if dev is not None else None)
            if why:
                at((*where, "do"), "error", f"output {i + 1}: {why}",
                   getattr(why, "fix", None) or
                   f"see the {cls.name} driver's actions in docs/drivers.md")
    return out
