"""The station ⇄ hub protocol: signed requests and the messages they carry.

Both sides import this module and nothing of each other. A station proves
who it is on every request with the Ed25519 key it made when it enrolled
(the hub keeps only the public half). The signature covers the method, the
path with its query, the station id, a timestamp, a random nonce and the
SHA-256 of the body, so a request cannot be altered, sent again (the hub
remembers nonces for :data:`MAX_SKEW` seconds each side of now), or sent
in another station's name.

Headers of a signed request::

    X-Showfloor-Station: st_4f2a9c0e1b7d
    X-Showfloor-Time: 1796000000.125
    X-Showfloor-Nonce: 9c1f…  (32 hex digits)
    X-Showfloor-Signature: <base64url of the 64-byte signature>

Every hub answer carries ``X-Showfloor-Time`` (its Unix time), so a station
whose clock is wrong (a board that booted in 1970) can sign with the hub's
time instead of its own.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import secrets
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

PROTOCOL = 1
API = "/api/v1"
#: A signed request is accepted this many seconds either side of the hub's clock.
MAX_SKEW = 300.0
#: The most events one upload may carry.
MAX_BATCH = 1000
#: The largest request body the hub reads (bytes).
MAX_BODY = 4 * 1024 * 1024

H_STATION = "X-Showfloor-Station"
H_TIME = "X-Showfloor-Time"
H_NONCE = "X-Showfloor-Nonce"
H_SIGNATURE = "X-Showfloor-Signature"

#: What an operator can ask a station to do.
COMMANDS = ("reload", "restart", "attract", "attract_only", "language", "message",
            "deploy", "rollback", "device", "final")
#: What a station reports of a new version (``POST /api/v1/deploy/status``), in order.
DEPLOY_STATES = ("queued", "downloading", "verified", "waiting_idle", "running", "failed",
                 "rolled_back", "stale")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signed_text(method: str, target: str, station: str, timestamp: str, nonce: str,
                body: bytes) -> bytes:
    """What a station signs: one line per part, the body as its SHA-256."""
    return "\n".join([f"showfloor/{PROTOCOL}", method.upper(), target, station, timestamp,
                      nonce, hashlib.sha256(body).hexdigest()]).encode()


class StationKey:
    """A station's private key (made on the station, never sent)."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> StationKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> StationKey:
        key = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 private key")
        return cls(key)

    def pem(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())

    def public(self) -> str:
        """The public key as base64url of its 32 raw bytes (what the hub keeps)."""
        raw = self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                  serialization.PublicFormat.Raw)
        return _b64(raw)

    def headers(self, station: str, method: str, target: str, body: bytes,
                now: float) -> dict[str, str]:
        """The four headers that authenticate one request."""
        ts = f"{now:.3f}"
        nonce = secrets.token_hex(16)
        sig = self._key.sign(signed_text(method, target, station, ts, nonce, body))
        return {H_STATION: station, H_TIME: ts, H_NONCE: nonce, H_SIGNATURE: _b64(sig)}


@functools.lru_cache(maxsize=8192)
def _public(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


def verify(public_key: str, signature: str, text: bytes) -> bool:
    """Whether ``signature`` is the station's signature of ``text``."""
    try:
        _public(public_key).verify(_unb64(signature), text)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def public_key_ok(text: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(text))
    except (ValueError, TypeError):
        return False
    return True


# -- messages ------------------------------------------------------------------

Ident = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]
#: text without NUL characters (no database keeps them), up to 200 characters
ShortText = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00]*$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EnrolRequest(_Strict):
    """A station trading a one-time code for an identity."""

    code: Annotated[str, StringConstraints(min_length=4, max_length=64, pattern=r"^[^\x00]*$")]
    public_key: Annotated[str, StringConstraints(min_length=40, max_length=64)] = Field(
        description="Ed25519 public key, base64url of the 32 raw bytes")
    profile: Ident = Field(description="the station profile's id (station.yaml)")
    name: ShortText = ""


class Enrolled(BaseModel):
    station: str
    hall: str
    name: str
    time: float
    heartbeat: float = Field(description="seconds between heartbeats")


class ErrorNote(_Strict):
    at: float
    what: ShortText
    detail: Annotated[str, StringConstraints(max_length=300, pattern=r"^[^\x00]*$")] = ""


#: What a kiosk supervisor reports to its station (``POST /kiosk/report``, docs/station.md).
KIOSK_EVENTS = ("browser_started", "browser_exited", "renderer_crashed", "page_unresponsive",
                "page_reloaded", "fallback_shown", "fallback_left", "target_closed",
                "navigation_blocked", "dialog_dismissed", "memory", "supervisor_stopped")
KioskEvent = Literal["browser_started", "browser_exited", "renderer_crashed",
                     "page_unresponsive", "page_reloaded", "fallback_shown", "fallback_left",
                     "target_closed", "navigation_blocked", "dialog_dismissed", "memory",
                     "supervisor_stopped"]


class KioskLast(_Strict):
    event: KioskEvent
    surface: Ident
    reason: Ident | None = None
    at: float = Field(description="when the station heard of it (Unix time)")


class KioskSummary(_Strict):
    """What the kiosk supervisor reported since the station started (its ``/healthz`` "kiosk")."""

    counts: dict[KioskEvent, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    last: KioskLast | None = None
    js_heap_mb: float | None = Field(default=None, ge=0)
    rss_mb: float | None = Field(default=None, ge=0)
    fallback: bool = Field(default=False, description="the calm fallback page is showing")


class ContentState(_Strict):
    """The version a station runs, from its content store (heartbeat ``content``)."""

    exhibit: Ident
    version: ShortText
    state: Literal["queued", "downloading", "verified", "waiting_idle", "running", "failed",
                   "rolled_back", "stale"] = "running"
    pending: ShortText | None = Field(default=None, description="a version staged and "
                                      "waiting for an idle moment")


class DriverNote(_Strict):
    """One hall-hardware device of a station (its ``/healthz`` "drivers", docs/drivers.md)."""

    device: Ident
    driver: Ident
    connected: bool = False
    last_message: float | None = Field(default=None, description="when the device last "
                                       "sent something (Unix time)")
    messages: int = Field(default=0, ge=0)
    errors: int = Field(default=0, ge=0)
    problem: ShortText | None = None


class Heartbeat(_Strict):
    """A station's health, every few seconds."""

    boot: Ident
    software: ShortText
    exhibit: Ident
    version: ShortText
    scene: ShortText | None = None
    phase: Literal["attract", "session", "warning"] = "attract"
    session_active: bool = False
    language: ShortText = ""
    uptime: float = Field(ge=0)
    outbox: int = Field(ge=0, description="events not yet acknowledged by the hub")
    errors: list[ErrorNote] = Field(default_factory=list, max_length=20)
    fps: float | None = Field(default=None, ge=0, le=1000)
    disk_free: int | None = Field(default=None, ge=0, description="bytes free where the log is")
    idle: float | None = Field(default=None, ge=0,
                               description="seconds since a visitor last touched it")
    usual_quiet: float | None = Field(
        default=None, ge=0, description="this station's usual longest quiet spell "
        "between visits in opening hours (p90 of the gaps), seconds")
    closed: bool = False
    screen: Literal["on", "off"] = "on"
    surfaces: int = Field(default=0, ge=0)
    kiosk: KioskSummary | None = Field(default=None, description="the kiosk supervisor's "
                                       "reports; left out when none ever came")
    content: ContentState | None = Field(default=None, description="the content store's "
                                         "version and deploy state; left out without one")
    drivers: list[DriverNote] = Field(default_factory=list, max_length=20, description=(
        "the station's hall-hardware devices (at most 20); left out without any"))
    competition: Ident | None = Field(default=None, description=(
        "the id of the knowledge competition this station hosts (its profile's "
        "competition:); left out by a station that hosts none"))


class StationConfig(BaseModel):
    """What the hub tells a station to do on its own (kept across restarts)."""

    timezone: str = "UTC"
    opening_hours: dict[str, str] = Field(default_factory=dict)
    closed_mode: Literal["attract_only", "screen_off"] = "attract_only"
    trust_version: int | None = Field(default=None, description=(
        "the version of the signed trust list the hub serves at GET /api/v1/trust "
        "(null: none); a station holding a lower one fetches it"))


class TrustReply(BaseModel):
    """``GET /api/v1/trust``: the signed trust list the hub serves."""

    version: int = Field(description="the list's version")
    trust: str = Field(description="base64 of the exact bytes of trust.json")
    signature: str = Field(description="base64 of trust.json.sig")


class HeartbeatReply(BaseModel):
    time: float
    heartbeat: float
    commands: int = Field(description="commands waiting for this station")
    config: StationConfig


class EventIn(_Strict):
    """One event as the station recorded it."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,40}-[a-z]?[0-9]{1,15}$")]
    boot: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,40}$")]
    source: Literal["engine", "station"]
    seq: int = Field(ge=0, lt=2**53)
    t: float
    wall: float
    kind: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    session: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    scene: Annotated[str, StringConstraints(max_length=128, pattern=r"^[^\x00]*$")] | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class EventBatch(_Strict):
    events: list[EventIn] = Field(max_length=MAX_BATCH)


class BatchReply(BaseModel):
    stored: int = Field(description="events new to the hub")
    duplicates: int = Field(description="events the hub already had (a retry)")
    ack: int = Field(description="events acknowledged: the station may forget all of them")


class Command(BaseModel):
    id: int
    kind: str
    args: dict[str, Any]
    expires: float


class CommandList(BaseModel):
    commands: list[Command]
    time: float


class CommandAck(_Strict):
    ok: bool
    detail: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")] = ""


class DeployStatus(_Strict):
    """A station's progress with a new version (``POST /api/v1/deploy/status``)."""

    rollout: int | None = Field(default=None, ge=1, lt=2**31,
                                description="the rollout that sent it (none: a USB install)")
    bundle: int | None = Field(default=None, ge=1, lt=2**31)
    exhibit: Ident
    version: Annotated[str, StringConstraints(min_length=1, max_length=64,
                                              pattern=r"^[^\x00]*$")]
    state: Literal["queued", "downloading", "verified", "waiting_idle", "running", "failed",
                   "rolled_back", "stale"]
    progress: float | None = Field(default=None, ge=0, le=1,
                                   description="the part downloaded (downloading), 0 to 1")
    bytes: int = Field(default=0, ge=0, lt=2**62, description="bytes downloaded so far")
    reason: Annotated[str, StringConstraints(max_length=500, pattern=r"^[^\x00]*$")] | None = \
        None
