"""The webhook driver against a real HTTP server on loopback (a ThreadingHTTPServer in its
own thread) that fails twice and then accepts: retried with backoff, never blocking."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from showfloor.drivers.webhook import Webhook, WebhookSettings

from ._recording_host import RecordingHost, free_port


class Endpoint:
    """Answers each POST with the next status of ``plan`` (then 200), recording each."""

    def __init__(self) -> None:
        self.plan: list[int] = []
        self.seen: list[tuple[float, str, dict[str, str], Any]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length))
                endpoint.seen.append((time.monotonic(), self.path,
                                      {k.lower(): v for k, v in self.headers.items()}, body))
                status = endpoint.plan.pop(0) if endpoint.plan else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh(endpoint: Endpoint) -> Endpoint:
    endpoint.plan.clear()
    endpoint.seen.clear()
    return endpoint


def webhook(url: str, **keys: Any) -> Webhook:
    return Webhook("hook", WebhookSettings.model_validate({"url": url, "backoff": 0.1, **keys}))


async def until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_fails_twice_then_accepts_retried_with_backoff_never_blocking(fresh: Endpoint) -> None:
    fresh.plan = [503, 500]
    host = RecordingHost()
    hook = webhook(fresh.url + "/hall/a", headers={"Authorization": "Bearer s3cret"})
    lags: list[float] = []

    async def scenario() -> None:
        runner = asyncio.create_task(hook.run(host))
        began = time.monotonic()
        await hook.send({"post": {"event": "visit_started", "station": "a1", "n": 1}})
        assert time.monotonic() - began < 0.005, "send only queues"

        async def ticker() -> None:  # the station's loop stays free while the driver waits
            while True:
                t = time.monotonic()
                await asyncio.sleep(0.01)
                lags.append(time.monotonic() - t - 0.01)

        ticking = asyncio.create_task(ticker())
        await until(lambda: hook.delivered == 1)
        ticking.cancel()
        runner.cancel()

    asyncio.run(scenario())
    assert len(fresh.seen) == 3
    times = [t for t, *_ in fresh.seen]
    assert times[1] - times[0] >= 0.09 and times[2] - times[1] >= 0.19  # 0.1 s, then 0.2 s
    _, path, headers, body = fresh.seen[-1]
    assert path == "/hall/a" and body == {"event": "visit_started", "station": "a1", "n": 1}
    assert headers["content-type"] == "application/json"
    assert headers["authorization"] == "Bearer s3cret"
    assert host.states == [(True, None)]  # recovered within its tries: nothing to report
    assert max(lags) < 0.05, max(lags)


def test_a_4xx_is_not_tried_again_and_says_so_once(fresh: Endpoint,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    fresh.plan = [404]
    hook = webhook(fresh.url + "/nowhere")

    async def scenario() -> None:
        runner = asyncio.create_task(hook.run(RecordingHost()))
        await hook.send({"post": "hello"})
        await hook.send({"post": ["next", 2]})
        await until(lambda: hook.given_up == 1 and hook.delivered == 1)
        runner.cancel()

    asyncio.run(scenario())
    assert [body for *_, body in fresh.seen] == ["hello", ["next", 2]]
    said = [r.getMessage() for r in caplog.records if r.name == "showfloor.drivers.webhook"]
    assert said == [f"webhook 'hook': {fresh.url}/nowhere refused a message with 404 Not Found; "
                    "check `url` and `headers` (it is not sent again)"]


def test_an_endpoint_that_is_not_there_is_reported_and_the_queue_bounded(
        caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    host = RecordingHost()
    hook = webhook(f"http://127.0.0.1:{port}/", retries=1, backoff=0.05, queue=3)

    async def scenario() -> None:
        for i in range(5):  # before the driver runs: 3 kept, the 2 oldest dropped
            await hook.send({"post": {"i": i}})
        assert hook.pending.qsize() == 3
        runner = asyncio.create_task(hook.run(host))
        await until(lambda: hook.given_up == 3)
        runner.cancel()

    asyncio.run(scenario())
    assert host.states[0] == (True, None)
    assert len(host.states) == 2, host.states  # reported once, not per message
    connected, problem = host.states[1]
    assert not connected and problem is not None
    assert problem.startswith(f"webhook 'hook': http://127.0.0.1:{port}/ gave no answer (ConnectError")
    assert problem.endswith("to 2 tries; the message is dropped")
    dropped = [r.getMessage() for r in caplog.records if "dropped because" in r.getMessage()]
    assert len(dropped) == 1 and "3 were already waiting" in dropped[0]


@pytest.mark.parametrize(("action", "problem"), [
    ({"post": {"event": "closing"}}, None), ({"post": "x"}, None),
    ({"post": {"a": 1}, "url": "http://x"}, "a webhook action is {post: BODY}"),
    ({"publish": 1}, "a webhook action is {post: BODY}"),
    ({"post": {1, 2}}, "cannot be sent as JSON"),
])
def test_actions_are_checked(action: dict[str, Any], problem: str | None) -> None:
    said = Webhook.check_action(action)
    assert said is None if problem is None else problem in (said or ""), said


@pytest.mark.parametrize("bad", [
    {}, {"url": "ftp://x"}, {"url": "http://x", "retries": -1}, {"url": "http://x", "method": "GET"},
])
def test_bad_settings_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        WebhookSettings.model_validate(bad)


def test_a_delivered_message_logs_nothing(fresh: Endpoint, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, "showfloor.drivers.webhook")
    hook = webhook(fresh.url)

    async def scenario() -> None:
        runner = asyncio.create_task(hook.run(RecordingHost()))
        await hook.send({"post": {"ok": True}})
        await until(lambda: hook.delivered == 1)
        runner.cancel()

    asyncio.run(scenario())
    assert not [r for r in caplog.records if r.name == "showfloor.drivers.webhook"]


def test_every_key_is_documented() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "drivers.md").read_text(encoding="utf-8")
    section = docs.split("### `webhook`", 1)[1].split("\n## ", 1)[0].split("\n### ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    assert rows == set(Webhook.settings.model_fields), rows ^ set(Webhook.settings.model_fields)
