"""The station's side of the kiosk supervisor's contract: state, reports, the fallback page.

``showfloor kiosk --launch`` supervises the browser; it asks the station
about a surface and tells it what happened, on loopback only:

- ``GET /kiosk/state?surface=ID``: is a page of that surface connected, how
  long since it last said anything (its beat), may it be reloaded now, and
  the limits from the profile's ``kiosk:`` keys;
- ``POST /kiosk/report``: ``{"surface": ID, "event": NAME, ...fields}``,
  checked against :data:`EVENTS` and :func:`report_fields`; each is recorded
  as a station event ``kiosk`` (a ``memory`` sample at most once a minute per
  surface) and counted in the summary that ``/healthz`` and the hub
  heartbeat carry;
- ``GET /fallback``: a calm page the supervisor shows when the exhibit keeps
  crashing — static, bilingual, no script, no exhibit content.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from showfloor.errors import ShowfloorError
from showfloor.fleet import KIOSK_EVENTS
from showfloor.station.security import page_headers

if TYPE_CHECKING:
    from showfloor.station.app import Station

#: what a supervisor may report
EVENTS = KIOSK_EVENTS
#: a report's text values: short ids, never free text
SHORT_ID = re.compile(r"[a-z0-9_.:-]{1,64}")
#: the most bytes one report may have
MAX_REPORT = 4096
#: a surface's ``memory`` samples go into the event log at most this often (s)
MEMORY_EVERY = 60.0
#: the clients that may ask and report: the supervisor runs on this machine
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})


def report_fields() -> tuple[str, ...]:
    """The fields a report may carry besides ``surface`` and ``event`` (docs/events.md)."""
    return ("reason", "crashes", "seconds", "js_heap_mb", "rss_mb", "limit_mb", "exit_code",
            "pid", "kind")


FIELDS = frozenset(report_fields())


class ReportError(ShowfloorError):
    """A kiosk report the station refuses (the supervisor gets a 400 with the message)."""


def is_loopback(host: str | None) -> bool:
    """Whether a request comes from this machine (the only place a supervisor runs)."""
    return host in LOOPBACK


def parse_report(body: bytes, surfaces: list[str]) -> tuple[str, str, dict[str, Any]]:
    """A report's surface, event and fields, or :class:`ReportError` saying what is wrong."""
    if len(body) > MAX_REPORT:
        raise ReportError(f"the report has {len(body)} bytes, over the {MAX_REPORT}-byte "
                          "limit.")
    try:
        msg = orjson.loads(body)
    except orjson.JSONDecodeError as err:
        raise ReportError("the report is not JSON.") from err
    if not isinstance(msg, dict):
        raise ReportError("the report must be a JSON object such as "
                          '{"surface": "main", "event": "page_reloaded"}.')
    surface = msg.pop("surface", None)
    if not isinstance(surface, str) or surface not in surfaces:
        raise ReportError(f"surface {surface!r} is not one of this station's surfaces "
                          f"({', '.join(surfaces)}).")
    event = msg.pop("event", None)
    if not isinstance(event, str) or event not in EVENTS:
        raise ReportError(f"event {event!r} is not one of {', '.join(EVENTS)}.")
    for key, value in msg.items():
        if key not in FIELDS:
            raise ReportError(f"field {key!r} is not one a report may carry "
                              f"({', '.join(report_fields())}).")
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                raise ReportError(f"field '{key}' must be a finite number, got {value!r}.")
            continue
        if isinstance(value, str) and SHORT_ID.fullmatch(value):
            continue
        raise ReportError(f"field '{key}' must be a number, a boolean or a short id "
                          f"(a-z, 0-9 and _.:-, at most 64 characters), got {value!r:.80}.")
    return surface, event, msg


class KioskWatch:
    """What the kiosk supervisor reported since the station started."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last: dict[str, Any] | None = None
        self.js_heap_mb: float | None = None
        self.rss_mb: float | None = None
        self.fallback = False
        self._memory_logged: dict[str, float] = {}

    def record(self, surface: str, event: str, fields: dict[str, Any], now: float,
               wall: float) -> bool:
        """Count a report; whether it goes into the event log (a memory sample may not)."""
        self.counts[event] = self.counts.get(event, 0) + 1
        reason = fields.get("reason")
        self.last = {"event": event, "surface": surface, "at": round(wall, 3),
                     "reason": reason if isinstance(reason, str) else None}
        for key in ("js_heap_mb", "rss_mb"):
            value = fields.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                setattr(self, key, round(float(value), 1))  # (the hub takes none below 0)
        if event == "fallback_shown":
            self.fallback = True
        elif event in ("fallback_left", "page_reloaded"):
            self.fallback = False
        if event == "memory":
            logged = self._memory_logged.get(surface)
            if logged is not None and now - logged < MEMORY_EVERY:
                return False
            self._memory_logged[surface] = now
        return True

    def summary(self) -> dict[str, Any] | None:
        """For ``/healthz`` and the hub heartbeat; None while no supervisor ever reported."""
        if self.last is None:
            return None
        return {"counts": dict(self.counts), "last": dict(self.last),
                "js_heap_mb": self.js_heap_mb, "rss_mb": self.rss_mb,
                "fallback": self.fallback}


def surface_state(station: Station, surface: str) -> dict[str, Any]:
    """The answer to ``GET /kiosk/state`` for a surface of the station's profile."""
    now = station.clock()
    seen = [c.last_message for c in list(station.connections)
            if c.surface is not None and c.surface.id == surface]
    engine = station.engine
    k = station.profile.kiosk
    return {
        "surface": surface,
        "connected": bool(seen),
        "beat_age": round(max(0.0, now - max(seen)), 3) if seen else None,
        "idle": engine.session is None and engine.snapshot()["phase"] == "attract",
        "limits": {"hang_seconds": k.hang_seconds, "memory_mb": k.memory_mb,
                   "crash_limit": k.crash_limit,
                   "crash_window_minutes": k.crash_window_minutes,
                   "reload_hours": k.reload_hours},
    }


FALLBACK = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>请稍候 · Please wait</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/fallback.css">
</head>
<body>
<main>
<div class="mark" aria-hidden="true"></div>
<p class="zh" lang="zh-CN">这个展项正在休息一下。<br>请找工作人员帮忙。</p>
<p class="en" lang="en">This exhibit is taking a short break.<br>Please ask a member of staff.</p>
</main>
</body>
</html>
"""

FALLBACK_CSS = """\
html, body { height: 100%; }
body { margin: 0; display: grid; place-items: center; background: #0f1e3a; color: #fff6e6;
  font: 20px/1.5 "Noto Sans CJK SC", "Noto Sans", sans-serif; cursor: none;
  user-select: none; -webkit-user-select: none; }
main { max-width: 48rem; padding: 3rem 2rem; text-align: center; }
.mark { width: 5rem; height: 5rem; margin: 0 auto 2.5rem; border-radius: 50%;
  border: .4rem solid #ffb76b; opacity: .9; }
p { margin: 0; }
.zh { font-size: 2.6rem; line-height: 1.45; }
.en { margin-top: 1.75rem; font-size: 1.7rem; color: #d8e2f0; }
"""



def _refuse(request: Request) -> Response | None:
    host = request.client.host if request.client is not None else None
    if is_loopback(host):
        return None
    return JSONResponse({"error": "only the kiosk supervisor on this machine (loopback) may "
                         "use /kiosk/."}, status_code=403)


def kiosk_routes(station: Station, wall: Callable[[], float] = time.time) -> list[Route]:
    """``/kiosk/state``, ``/kiosk/report`` and ``/fallback`` for the station's app."""

    async def state(request: Request) -> Response:
        refused = _refuse(request)
        if refused is not None:
            return refused
        surface = request.query_params.get("surface", "")
        names = [s.id for s in station.profile.surfaces]
        if surface not in names:
            return JSONResponse({"error": f"this station has no surface {surface!r}; it has "
                                 f"{', '.join(names)}."}, status_code=404)
        return JSONResponse(surface_state(station, surface),
                            headers={"Cache-Control": "no-store"})

    async def report(request: Request) -> Response:
        refused = _refuse(request)
        if refused is not None:
            return refused
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_REPORT:
            return JSONResponse({"error": f"the report has {length} bytes, over the "
                                 f"{MAX_REPORT}-byte limit."}, status_code=400)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_REPORT:
                break
        try:
            surface, event, fields = parse_report(
                body, [s.id for s in station.profile.surfaces])
        except ReportError as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        now = station.clock()
        if station.kiosk.record(surface, event, fields, now, wall()) and \
                station.store is not None:
            station.store.station_event(now, "kiosk", event=event, surface=surface, **fields)
        return Response(status_code=204)

    async def fallback(request: Request) -> Response:
        # the station's strict page policy (its style is a file, so it needs no exception)
        return HTMLResponse(FALLBACK, headers=page_headers(FALLBACK))

    async def fallback_css(request: Request) -> Response:
        return Response(FALLBACK_CSS, media_type="text/css",
                        headers={"Cache-Control": "no-store"})

    return [Route("/kiosk/state", state),
            Route("/kiosk/report", report, methods=["POST"]),
            Route("/fallback", fallback),
            Route("/fallback.css", fallback_css)]
