"""MQTT (presence sensors, building automation, integrators' brokers) through aiomqtt.

Each message on a ``subscribe`` topic becomes a ``message`` event: ``address``
is the topic, ``value`` the payload as text (``payload: number`` makes it a
number). A payload that is not UTF-8 text, longer than ``max_payload``, or —
with ``payload: number`` — not a number, is dropped and counted through
``host.malformed``. When the broker goes away the driver reports it and
reconnects with backoff (``reconnect_min`` doubling up to ``reconnect_max``
seconds) until it is back, subscribing again each time.

Outputs: ``{publish: {topic: hall/a/visit, payload: start}}`` (optional
``retain: true``, ``qos: 0|1|2``).
"""

from __future__ import annotations

import asyncio
import math
import socket
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import aiomqtt
from pydantic import Field, model_validator

from showfloor.drivers._secrets import one_of, resolve
from showfloor.drivers.base import DeviceEvent, Driver, DriverSettings, Host
from showfloor.errors import DriverError


class MqttSettings(DriverSettings):
    """The profile keys of an MQTT broker connection."""

    host: str = Field(description="the broker's host name or address")
    port: int = Field(1883, ge=1, le=65535, description="the broker's TCP port")
    username: str | None = Field(None, description="user name, when the broker asks for one")
    password: str | None = Field(None, description="password, when the broker asks for one (in "
                                 "plain text: prefer `password_env` or `password_file`)")
    password_env: str | None = Field(None, description="the environment variable that holds the "
                                     "password (instead of `password`)")
    password_file: str | None = Field(None, description="an absolute path to a file that holds "
                                      "the password (instead of `password`)")
    client_id: str | None = Field(None, description="MQTT client id (default: one the library picks)")
    subscribe: list[str] = Field(default_factory=list, description="topics (wildcards allowed) to read")
    qos: Literal[0, 1, 2] = Field(0, description="quality of service of subscriptions")
    payload: Literal["text", "number"] = Field(
        "text", description="text: payloads are strings; number: payloads must be numbers"
    )
    max_payload: int = Field(1024, gt=0, description="longest payload in bytes; longer ones are dropped")
    keepalive: int = Field(15, ge=5, description="seconds between keep-alive pings")
    reconnect_min: float = Field(0.5, gt=0, description="first wait before reconnecting, in seconds")
    reconnect_max: float = Field(30.0, gt=0, description="longest wait between reconnects, in seconds")

    @model_validator(mode="after")
    def _one_password(self) -> MqttSettings:
        one_of("password", self.password, self.password_env, self.password_file)
        return self


class Mqtt(Driver):
    """One broker connection: subscriptions in, publishes out."""

    name: ClassVar[str] = "mqtt"
    settings: ClassVar[type[DriverSettings]] = MqttSettings
    config: MqttSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        assert isinstance(config, MqttSettings)
        #: the password, from the profile, the environment or a file (DriverError: missing)
        self._password = resolve(device, "password", config.password, config.password_env,
                                 config.password_file)
        self._client: aiomqtt.Client | None = None
        #: connection attempts so far (the backoff shows in it)
        self.attempts = 0

    async def run(self, host: Host) -> None:
        cfg = self.config
        wait = cfg.reconnect_min
        said: str | None = None
        while True:
            self.attempts += 1
            client = aiomqtt.Client(
                cfg.host,
                cfg.port,
                identifier=cfg.client_id,
                username=cfg.username,
                password=self._password,
                keepalive=cfg.keepalive,
                timeout=5,
                # small messages go out at once, not after the peer's delayed ACK (Nagle)
                socket_options=((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),),
            )
            try:
                async with client:
                    for topic in cfg.subscribe:
                        await client.subscribe(topic, qos=cfg.qos)
                    self._client = client
                    wait = cfg.reconnect_min
                    said = None
                    host.state(connected=True)
                    async for message in client.messages:
                        self._received(message, host)
                problem = f"MQTT broker {cfg.host}:{cfg.port} ended the connection"
            except aiomqtt.MqttError as err:
                problem = f"MQTT broker {cfg.host}:{cfg.port} cannot be reached ({err})"
            finally:
                self._client = None
            if said is None:  # once per outage, not once per try
                host.state(
                    connected=False, problem=f"{problem}; reconnecting, at most {cfg.reconnect_max:g} s apart"
                )
                said = problem
            await asyncio.sleep(wait)
            wait = min(wait * 2, cfg.reconnect_max)

    def _received(self, message: aiomqtt.Message, host: Host) -> None:
        now = host.clock()
        topic = message.topic.value
        raw = message.payload
        if not isinstance(raw, bytes | bytearray):
            raw = b"" if raw is None else str(raw).encode()
        if len(raw) > self.config.max_payload:
            host.malformed(
                f"MQTT message on {topic} to device '{self.device}'"
                f" is longer than {self.config.max_payload} bytes"
            )
            return
        try:
            text = bytes(raw).decode("utf-8").strip()
        except UnicodeDecodeError:
            host.malformed(f"MQTT message on {topic} to device '{self.device}' is not UTF-8 text")
            return
        value: str | float = text
        if self.config.payload == "number":
            try:
                value = float(text)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                host.malformed(f"MQTT message on {topic} to device '{self.device}' is {text!r}, not a number")
                return
            if value.is_integer():
                value = int(value)
        host.received(DeviceEvent(self.device, "message", value, address=topic, t=now))

    async def send(self, action: Mapping[str, Any]) -> None:
        spec = action["publish"]
        client = self._client
        if client is None:
            raise DriverError(
                f"MQTT broker {self.config.host}:{self.config.port} is not connected,"
                f" so nothing was published on {spec['topic']}"
            )
        payload = spec.get("payload", "")
        if isinstance(payload, bool):
            payload = "true" if payload else "false"
        await client.publish(
            spec["topic"],
            payload=payload,
            qos=int(spec.get("qos", 0)),
            retain=bool(spec.get("retain", False)),
        )

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        usage = (
            "an MQTT output is {publish: {topic: TOPIC, payload: TEXT or NUMBER, retain: BOOL, qos: 0|1|2}}"
        )
        spec = action.get("publish")
        if set(action) != {"publish"} or not isinstance(spec, Mapping):
            return usage
        topic = spec.get("topic")
        if not isinstance(topic, str) or not topic or "+" in topic or "#" in topic:
            return f"{usage}; the topic must be a topic name without wildcards"
        if set(spec) - {"topic", "payload", "retain", "qos"}:
            return usage
        if not isinstance(spec.get("payload", ""), str | int | float | bool):
            return f"{usage}; got payload {spec.get('payload')!r}"
        if spec.get("qos", 0) not in (0, 1, 2) or not isinstance(spec.get("retain", False), bool):
            return usage
        return None
