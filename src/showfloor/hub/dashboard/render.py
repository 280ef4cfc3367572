"""Pages from Jinja2 templates (autoescaped; an undefined name is an error, not a blank)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from showfloor import __version__, hours
from showfloor.hub.dashboard import display, forms
from showfloor.hub.dashboard.security import (
    STATIC_URL,
    GoTo,
    Refusal,
    User,
    csrf_token,
    signed_in,
)

TEMPLATES = Path(__file__).resolve().parent / "templates"

env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                  undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
env.filters.update(ago=display.ago, duration=display.duration, size=display.size,
                   local=display.local, iso=display.iso, full=display.full,
                   opening=display.opening, compact=display.compact, details=display.details,
                   number=display.number, hours_words=display.hours_words,
                   who=display.who)
env.globals.update(STATE_LABEL=display.STATE_LABEL, STATE_ICON=display.STATE_ICON,
                   COMMAND_LABEL=display.COMMAND_LABEL, static=STATIC_URL,
                   version=__version__, zones=forms.zones, DAYS=hours.DAYS,
                   DAY_NAMES=display.DAY_NAMES)


def page(request: Request, user: User | None, template: str, *, status: int = 200,
         headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """A whole page; every template gets the user, the CSRF token and ``now``."""
    context.setdefault("now", time.time())
    html = env.get_template(template).render(
        user=user, csrf=csrf_token(request), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers=headers)


def fragment(request: Request, user: User, template: str, **context: Any) -> str:
    """Part of a page (a live update): rendered with the same context as the page."""
    return env.get_template(template).render(user=user, csrf=csrf_token(request),
                                             path=request.url.path, **context)


def refusal(request: Request, exc: Exception) -> Response:
    """The answer to a :class:`Refusal` or a :class:`GoTo` raised anywhere in a route."""
    if isinstance(exc, GoTo):
        return RedirectResponse(exc.url, status_code=303)
    assert isinstance(exc, Refusal)
    if exc.json:
        return JSONResponse({"detail": exc.sentence}, status_code=exc.status,
                            headers=exc.headers)
    user = signed_in(request) if exc.status != 401 else None
    return page(request, user, "refused.html", status=exc.status, headers=exc.headers,
                title=exc.title, sentence=exc.sentence)
