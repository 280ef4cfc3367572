"""``check_action`` sees the device's settings (an sACN preset the device lacks is named,
with a fix); a driver whose ``check_action`` predates ``settings`` is still asked. The
whole ``check`` run: tests/corpus/sacn-unknown-preset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from showfloor.drivers.base import Driver, DriverSettings, Host, Refusal, action_problem
from showfloor.drivers.sacn import Sacn, SacnSettings


class Legacy(Driver):
    """A third-party driver written against the one-argument ``check_action``."""

    name: ClassVar[str] = "legacy"
    settings: ClassVar[type[DriverSettings]] = DriverSettings

    async def run(self, host: Host) -> None:
        pass

    @classmethod
    def check_action(cls, action: Mapping[str, Any]) -> str | None:  # type: ignore[override]
        return None if action.get("led") == 1 else "a legacy action is {led: 1}"


def test_a_preset_the_device_lacks_is_refused_with_a_fix() -> None:
    lights = SacnSettings.model_validate({"presets": {3: {1: 255}, "dark": {1: 0}}})
    assert action_problem(Sacn, {"preset": 3}, lights) is None
    assert action_problem(Sacn, {"preset": 9}, None) is None  # settings unknown: the form only
    said = action_problem(Sacn, {"preset": 9}, lights)
    assert isinstance(said, Refusal) and said == "the device has no preset '9' (it has: 3, dark)"
    assert said.fix is not None and said.fix.startswith("add preset '9' under the device's")
    near = action_problem(Sacn, {"preset": "drak", "fade": 500}, lights)
    assert isinstance(near, Refusal) and near.fix == "did you mean 'dark'?"


def test_a_one_argument_check_action_is_asked_without_settings() -> None:
    assert action_problem(Legacy, {"led": 1}, DriverSettings()) is None
    assert action_problem(Legacy, {"led": 2}, None) == "a legacy action is {led: 1}"
