"""Signed rollback instructions: the only way an older version may run again on a station.

A station never installs a version older than the highest it has accepted
(see docs/deploy.md). When an operator rolls a rollout back, the hub signs an
instruction with its rollback key (``rollback_key``, a key whose public half
the stations trust with the role ``rollback``)::

    {"kind": "rollback", "exhibit": "…", "from": "1.3", "to": "1.2",
     "issued": "2026-12-04T02:00:00Z", "expires": "2026-12-05T02:00:00Z",
     "nonce": "…32 hex digits…"}

The instruction travels as its exact bytes (compact JSON, sorted keys) with a
raw 64-byte Ed25519 signature over those bytes; a ``rollback`` command carries
both as standard base64 (``instruction``, ``signature``). The hub makes them
with :func:`make`, a station checks them with :func:`verify`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from showfloor.errors import BundleError

#: how long a rollback instruction is good for, by default (seconds)
TTL = 86400.0
#: the largest instruction a station reads (bytes)
MAX_BYTES = 2048
_FIELDS = ("kind", "exhibit", "from", "to", "issued", "expires", "nonce")


@dataclass(frozen=True)
class Instruction:
    exhibit: str
    from_version: str
    to_version: str
    issued: float
    expires: float
    nonce: str


def _iso(t: float) -> str:
    return datetime.fromtimestamp(int(t), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(text: object) -> float:
    if not isinstance(text, str):
        raise ValueError(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def make(key: Ed25519PrivateKey, exhibit: str, from_version: str, to_version: str, *,
         now: float, ttl: float = TTL) -> tuple[bytes, bytes]:
    """The instruction's bytes and the raw signature over them."""
    data = json.dumps({"kind": "rollback", "exhibit": exhibit, "from": from_version,
                       "to": to_version, "issued": _iso(now), "expires": _iso(now + ttl),
                       "nonce": secrets.token_hex(16)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return data, key.sign(data)


def encode(data: bytes, signature: bytes) -> dict[str, str]:
    """The ``instruction`` and ``signature`` arguments of a ``rollback`` command."""
    return {"instruction": base64.b64encode(data).decode(),
            "signature": base64.b64encode(signature).decode()}


def decode(args: dict[str, object]) -> tuple[bytes, bytes]:
    """The instruction's bytes and signature from a ``rollback`` command's arguments."""
    try:
        return (base64.b64decode(str(args["instruction"]), validate=True),
                base64.b64decode(str(args["signature"]), validate=True))
    except (KeyError, binascii.Error) as err:
        raise BundleError("the rollback command's instruction or signature is not base64; "
                          "ask the hub's operator to roll back again") from err


def verify(data: bytes, signature: bytes, keys: dict[str, Ed25519PublicKey], *,
           now: float) -> Instruction:
    """The instruction, if one of ``keys`` (role ``rollback``) signed it and it is current."""
    if len(data) > MAX_BYTES:
        raise BundleError(f"the rollback instruction has {len(data)} bytes, more than "
                          f"{MAX_BYTES}; it was refused")
    for key in keys.values():
        try:
            key.verify(signature, data)
        except (InvalidSignature, ValueError):
            continue
        break
    else:
        raise BundleError("the rollback instruction is not signed by a trusted rollback key; "
                          "it was refused (add the hub's rollback key to the trust list)")
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict) or raw.get("kind") != "rollback" or \
                sorted(raw) != sorted(_FIELDS) or not all(
                    isinstance(raw[f], str) and raw[f] for f in _FIELDS):
            raise ValueError(raw)
        got = Instruction(raw["exhibit"], raw["from"], raw["to"], _time(raw["issued"]),
                          _time(raw["expires"]), raw["nonce"])
    except ValueError as err:
        raise BundleError("the rollback instruction is signed but not one this station "
                          f"understands (it needs the fields {', '.join(_FIELDS)})") from err
    if got.expires <= now:
        raise BundleError(f"the rollback instruction for {got.exhibit} expired on "
                          f"{_iso(got.expires)}; ask the hub's operator to roll back again")
    return got
