"""Passwords and tokens out of the profile: ``password_env`` / ``password_file`` (MQTT,
PJLink) and ``headers_env`` / ``headers_file`` (webhook). The file-held password signs
in to the PJLink projector written from the spec; a missing one keeps the device from
starting with one sentence. (``check``'s warnings: tests/corpus/device-secret-missing.)"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from pydantic import ValidationError

from showfloor.drivers.mqtt import Mqtt, MqttSettings
from showfloor.drivers.webhook import Webhook, WebhookSettings
from showfloor.errors import DriverError
from showfloor.station.drivers import DriverHost

from .test_host import Recorder, _profile
from .test_pjlink import driver, with_projector

SPEC_PASSWORD = "JBMIAProjectorLink"  # the PJLink specification's authentication example


def test_a_password_from_a_file_signs_in_to_the_projector(tmp_path: Path) -> None:
    secret = tmp_path / "pjlink"
    secret.write_text(f"{SPEC_PASSWORD}\n", encoding="utf-8")  # as `echo` writes it

    async def scenario(projector: object) -> None:
        pj = driver(projector.port, password_file=str(secret))  # type: ignore[attr-defined]
        assert await pj.exchange("POWR ?") == ["0"]

    projector = with_projector(scenario, password=SPEC_PASSWORD)
    assert projector.refused_passwords == 0 and len(projector.received) == 1


def test_passwords_and_headers_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.setenv("SHOWFLOOR_TEST_MQTT", "s3cret")
    monkeypatch.setenv("SHOWFLOOR_TEST_TOKEN", "Bearer abc")
    (tmp_path / "key").write_text("k-123\r\n", encoding="utf-8")
    mqtt = Mqtt("broker", MqttSettings(host="127.0.0.1", password_env="SHOWFLOOR_TEST_MQTT"))
    assert mqtt._password == "s3cret"
    hook = Webhook("crm", WebhookSettings.model_validate({
        "url": "http://127.0.0.1:9/", "headers": {"X-Hall": "a"},
        "headers_env": {"Authorization": "SHOWFLOOR_TEST_TOKEN"},
        "headers_file": {"X-Key": str(tmp_path / "key")}}))
    assert (hook.headers["Authorization"], hook.headers["X-Key"], hook.headers["X-Hall"]) == (
        "Bearer abc", "k-123", "a")
    monkeypatch.delenv("SHOWFLOOR_TEST_MQTT")
    with pytest.raises(DriverError) as said:
        Mqtt("broker", MqttSettings(host="127.0.0.1", password_env="SHOWFLOOR_TEST_MQTT"))
    assert str(said.value) == ("device 'broker' takes its password from the environment "
                               "variable SHOWFLOOR_TEST_MQTT, which is not set for the station")


@pytest.mark.parametrize(("keys", "said"), [
    ({"password": "a", "password_env": "B"}, "`password` and `password_env` are both given"),
    ({"password_env": "B", "password_file": "/run/x"},
     "`password_env` and `password_file` are both given"),
    ({"password_file": "secrets/mqtt"}, "`password_file` must be an absolute path"),
])
def test_one_source_per_secret(keys: dict[str, str], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        MqttSettings.model_validate({"host": "h", **keys})
    with pytest.raises(ValidationError, match="header 'Authorization' is given more than once"):
        WebhookSettings.model_validate({"url": "http://h/", "headers": {"Authorization": "x"},
                                        "headers_env": {"authorization": "Y"}})


def test_a_missing_secret_keeps_the_device_from_starting_in_one_sentence(
        caplog: pytest.LogCaptureFixture) -> None:
    missing = "/nonexistent/showfloor-test/pjlink"

    async def main() -> dict[str, dict[str, object]]:
        host = DriverHost(_profile([], devices={
            "projector": {"driver": "pjlink", "host": "127.0.0.1", "password_file": missing},
            "panel": {"driver": "simulated"}}), Recorder())
        await host.start()
        try:
            assert set(host.devices) == {"panel"}  # the others still run
            return host.status()
        finally:
            await host.stop()

    with caplog.at_level(logging.ERROR, "showfloor.drivers"):
        status = asyncio.run(main())
    problem = status["projector"]["problem"]
    assert isinstance(problem, str) and problem.startswith(
        f"device 'projector' takes its password from {missing}, which cannot be read")
    assert status["projector"]["errors"] == 1 and not status["projector"]["connected"]
    said = [r.getMessage() for r in caplog.records if "projector" in r.getMessage()]
    assert said == [f"device projector is not started: {problem}"]
