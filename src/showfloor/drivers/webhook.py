"""HTTP webhook out: a JSON POST to an integrator's own system on an engine moment.

``{post: BODY}`` queues BODY (any JSON: a mapping, a list, a string …) and returns at
once; the driver's own task posts the queue in order with httpx. A 5xx answer, 408, 429,
a timeout or a connection error is tried again after ``backoff`` seconds, then twice
that, and so on (``retries`` more tries at most, each wait capped at 30 s); any other
4xx is the integrator's to fix and is not tried again. Each failure that ends a message
is one logged sentence; a queue that overflows (an endpoint down for long) drops the
oldest message, saying so at most once a minute. Nothing here can block the station:
``send`` only puts in a queue.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import Field, field_validator, model_validator

from showfloor.drivers._secrets import one_of, resolve
from showfloor.drivers.base import Driver, DriverSettings, Host

log = logging.getLogger(__name__)

MAX_WAIT_S = 30.0
#: 4xx answers worth another try (the rest mean the request itself is wrong)
RETRY_4XX = frozenset({408, 425, 429})


class WebhookSettings(DriverSettings):
    """One endpoint."""

    url: str = Field(description="the endpoint (http:// or https://)")
    headers: dict[str, str] = Field(default_factory=dict,
                                    description="extra request headers (an `Authorization`, …)")
    headers_env: dict[str, str] = Field(
        default_factory=dict, description="HEADER → the environment variable that holds its "
        "value (a token kept out of the profile)")
    headers_file: dict[str, str] = Field(
        default_factory=dict, description="HEADER → an absolute path to a file that holds its "
        "value")
    timeout: float = Field(5.0, gt=0, le=60, description="seconds to wait for one answer")
    retries: int = Field(3, ge=0, le=20, description="tries after the first, on 5xx or no answer")
    backoff: float = Field(1.0, gt=0, le=MAX_WAIT_S,
                           description="seconds before the first retry; doubled for each next one")
    queue: int = Field(100, ge=1, le=10_000, description="messages kept while the endpoint is away")

    @model_validator(mode="after")
    def _one_source_per_header(self) -> WebhookSettings:
        names = [h.lower() for h in [*self.headers, *self.headers_env, *self.headers_file]]
        for h in [*self.headers, *self.headers_env, *self.headers_file]:
            if names.count(h.lower()) > 1:
                raise ValueError(f"header '{h}' is given more than once (in `headers`, "
                                 "`headers_env`, `headers_file`): give it in one of them")
        for path in self.headers_file.values():
            one_of("headers", None, None, path)
        return self

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"'{value}' is not an http:// or https:// address")
        return value


class Webhook(Driver):
    """POSTs JSON to one URL (outputs only)."""

    name: ClassVar[str] = "webhook"
    settings: ClassVar[type[DriverSettings]] = WebhookSettings

    def __init__(self, device: str, config: DriverSettings) -> None:
        super().__init__(device, config)
        assert isinstance(config, WebhookSettings)
        self.cfg = config
        #: the request headers, secrets resolved (DriverError: a variable or file is missing)
        self.headers = {"content-type": "application/json", "user-agent": "showfloor",
                        **config.headers}
        for header, env in config.headers_env.items():
            self.headers[header] = resolve(device, f"header {header}", None, env, None) or ""
        for header, path in config.headers_file.items():
            self.headers[header] = resolve(device, f"header {header}", None, None, path) or ""
        self.pending: asyncio.Queue[bytes] = asyncio.Queue(maxsize=config.queue)
        self._host: Host | None = None
        self._failing = False
        self._dropped = 0
        self._dropped_said = -1e9
        #: messages delivered / given up (for tests and figures)
        self.delivered = 0
        self.given_up = 0

    @classmethod
    def check_action(cls, action: Mapping[str, Any],
                     settings: DriverSettings | None = None) -> str | None:
        if set(action) != {"post"}:
            return f"a webhook action is {{post: BODY}} (BODY: what to send, as JSON); got {dict(action)!r}"
        try:
            json.dumps(action["post"])
        except (TypeError, ValueError) as err:
            return f"the webhook's `post` cannot be sent as JSON ({err})"
        return None

    async def send(self, action: Mapping[str, Any]) -> None:
        body = json.dumps(action["post"], ensure_ascii=False).encode()
        if self.pending.full():
            self.pending.get_nowait()  # the oldest goes: the newest says most about now
            self._dropped += 1
            now = asyncio.get_running_loop().time()
            if now - self._dropped_said >= 60:
                self._dropped_said = now
                log.warning("webhook '%s': %d messages for %s were dropped because %d were already "
                            "waiting (is the endpoint down?)", self.device, self._dropped,
                            self.cfg.url, self.cfg.queue)
        self.pending.put_nowait(body)

    async def run(self, host: Host) -> None:
        self._host = host
        host.state(connected=True)
        async with httpx.AsyncClient(timeout=self.cfg.timeout, headers=self.headers) as client:
            while True:
                body = await self.pending.get()
                await self._deliver(client, body)

    async def _deliver(self, client: httpx.AsyncClient, body: bytes) -> None:
        """POST ``body``, trying again on 5xx or no answer; one sentence if it fails for good."""
        why = ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                await asyncio.sleep(min(MAX_WAIT_S, self.cfg.backoff * 2 ** (attempt - 1)))
            try:
                answer = await client.post(self.cfg.url, content=body)
            except httpx.HTTPError as err:
                why = f"no answer ({type(err).__name__}: {err})" if str(err) else \
                      f"no answer ({type(err).__name__})"
                continue
            if answer.is_success:
                self.delivered += 1
                if self._failing and self._host is not None:
                    self._failing = False
                    self._host.state(connected=True)
                return
            why = f"{answer.status_code} {answer.reason_phrase}".strip()
            if answer.status_code < 500 and answer.status_code not in RETRY_4XX:
                self.given_up += 1
                log.warning("webhook '%s': %s refused a message with %s; check `url` and `headers` "
                            "(it is not sent again)", self.device, self.cfg.url, why)
                return
        self.given_up += 1
        problem = (f"webhook '{self.device}': {self.cfg.url} gave {why} to {self.cfg.retries + 1} "
                   "tries; the message is dropped")
        if not self._failing and self._host is not None:
            self._failing = True
            self._host.state(connected=False, problem=problem)
        else:
            log.warning("%s", problem)
