"""The hub's OpenAPI description, fuzzed with schemathesis: no request gets a 5xx.

Each generated request goes out twice to a real hub process: as schemathesis
made it (unsigned: bodies are validated before the signature, so every
malformed shape is exercised), and signed by an enrolled station so that
valid-looking requests reach the handlers behind the signature check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from ._support import RunningHub, SignedStation, make_code, start_hub


@pytest.fixture(scope="module")
def fuzz_hub(module_db_url: str) -> Iterator[RunningHub]:
    hub = start_hub(module_db_url)
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def hub_schema(fuzz_hub: RunningHub) -> Any:
    return schemathesis.openapi.from_url(f"{fuzz_hub.url}/openapi.json")


@pytest.fixture(scope="module")
def signer(fuzz_hub: RunningHub) -> Iterator[SignedStation]:
    st = SignedStation(fuzz_hub.url)
    assert st.enrol(make_code(fuzz_hub.db)).status_code == 200
    yield st
    st.client.close()


def _signed_call(case: Any, signer: SignedStation) -> None:
    """The same request, signed by a real station."""
    query = "&".join(f"{k}={v}" for k, v in (case.query or {}).items()
                     if isinstance(v, (str, int, float)) and not isinstance(v, bool))
    if "wait" in (case.query or {}):
        query = "wait=0"  # no long polls in a fuzz run
    target = case.formatted_path + (f"?{query}" if query else "")
    body = case.body
    raw = json.dumps(body).encode() if isinstance(body, (dict, list, str, int, float)) \
        else b""
    headers = signer.key.headers(signer.station, case.method, target, raw, time.time())
    headers["content-type"] = "application/json"
    r = signer.client.request(case.method, signer.base + target, content=raw,
                              headers=headers)
    assert r.status_code < 500, f"{case.method} {target} {raw[:200]!r} → {r.status_code} " \
        f"{r.text[:300]}"


def test_no_request_gets_a_server_error(hub_schema: Any, signer: SignedStation) -> None:
    operations = [op.ok() for op in hub_schema.get_all_operations()]
    assert len(operations) >= 5
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case: Any) -> None:
            case.call_and_validate(checks=[not_a_server_error])
            _signed_call(case, signer)

        fuzz()


def test_the_description_names_every_station_route(fuzz_hub: RunningHub) -> None:
    spec = httpx.get(f"{fuzz_hub.url}/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/v1/enrol", "/api/v1/station/heartbeat", "/api/v1/station/events",
            "/api/v1/station/commands", "/api/v1/station/commands/{command_id}/ack"} <= paths
    assert not any(p.startswith(("/login", "/stations")) for p in paths)  # pages are not API
