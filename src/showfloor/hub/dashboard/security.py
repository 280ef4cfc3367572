"""Sessions, CSRF tokens, security headers and the signed-in user of a dashboard request.

A session is Starlette's signed cookie (``itsdangerous``), signed with the
hub's secret, which lives in the database so that every hub process accepts
every other's cookies. It holds two things only: the user's id and a random
CSRF token. The user is looked up on every request, so a disabled account
or a changed role takes effect at once. Every POST must carry the session's
token in a hidden ``csrf`` field, and an ``Origin`` header, when the browser
sends one, must name this host.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.datastructures import MutableHeaders
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from showfloor.hub import users
from showfloor.hub.state import HubState

COOKIE = "showfloor_session"
#: seconds a session lasts after sign-in (a working day)
SESSION_AGE = 12 * 3600
STATIC_URL = "/dashboard/static"
#: the paths the dashboard owns: sessions and these headers apply to them only
PREFIXES = ("/login", "/logout", "/stations", "/codes", "/halls", "/audit", "/users",
            "/rollouts", "/reports", "/stores", "/dashboard", "/finals",
            "/competitions")
HEADERS = {
    "content-security-policy": "default-src 'self'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}
#: what each action needs, in words, for a refusal
NEEDS = {"view": "viewer", "command": "operator", "enrol": "operator", "manage": "admin"}


def is_dashboard(path: str) -> bool:
    return path == "/" or any(path == p or path.startswith(p + "/") for p in PREFIXES)


class DashboardGuard:
    """Sessions and security headers on the dashboard's paths; the station API is left alone."""

    def __init__(self, app: ASGIApp, secret: str) -> None:
        self.app = app
        self.sessions = SessionMiddleware(app, secret_key=secret, session_cookie=COOKIE,
                                          max_age=SESSION_AGE, same_site="lax",
                                          https_only=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_dashboard(scope["path"]):
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(STATIC_URL + "/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["cache-control"] = "no-store"
            await send(message)

        await self.sessions(scope, receive, with_headers)


class Refusal(Exception):
    """A dashboard request that gets a plain page (or JSON) instead of what it asked for."""

    def __init__(self, status: int, title: str, sentence: str, *, json: bool = False,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(sentence)
        self.status = status
        self.title = title
        self.sentence = sentence
        self.json = json
        self.headers = headers or {}


class GoTo(Exception):
    """Send the browser elsewhere (303), e.g. to the sign-in page."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str

    def can(self, action: str) -> bool:
        return users.allowed(self.role, action)

    @property
    def actor(self) -> str:
        """How the audit log names this user."""
        return f"user:{self.name}"


def hub(request: Request) -> HubState:
    state: HubState = request.app.state.hub
    return state


def new_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made now if the session has none)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = new_token()
        request.session["csrf"] = token
    return token


def start_session(request: Request, user_id: int) -> None:
    """A new session for a user who just signed in: nothing of the old one survives."""
    request.session.clear()
    request.session["uid"] = user_id
    request.session["csrf"] = new_token()


def check_post(request: Request, form: dict[str, str]) -> None:
    """Refuse (403) a POST from another site: wrong Origin, or a missing or wrong token."""
    origin = request.headers.get("origin")
    if origin is not None:
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc.lower() != host.lower():
            raise Refusal(403, "Refused", f"This form was sent from {origin[:100]}, not from "
                          "this dashboard, so it was refused. Nothing was changed.")
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise Refusal(403, "Refused", "This form was sent from another site, so it was "
                      "refused. Nothing was changed.")
    want = request.session.get("csrf")
    sent = form.get("csrf", "")
    if not isinstance(want, str) or not want or not hmac.compare_digest(
            sent.encode(), want.encode()):
        raise Refusal(403, "Form out of date", "This form's security token is missing or "
                      "out of date (the page may be older than your session). Go back, "
                      "reload the page and try again. Nothing was changed.")


async def posted(request: Request) -> dict[str, str]:
    """The fields of a POSTed form, after the CSRF and Origin checks."""
    form = await request.form()
    values: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, value)
    check_post(request, values)
    return values


def signed_in(request: Request) -> User | None:
    """The user this request's session belongs to (None: nobody, or a disabled account)."""
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    with hub(request).db.read() as conn:
        row = users.get(conn, uid)
    if row is None:
        request.session.pop("uid", None)
        return None
    return User(id=int(row["id"]), name=str(row["username"]), role=str(row["role"]))


def login_url(request: Request) -> str:
    """The sign-in page, coming back here afterwards (a page, not a form's target)."""
    if request.method != "GET":
        return "/login"
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


def need(action: str) -> Callable[[Request], User]:
    """A dependency: the signed-in user, who may do ``action`` (else sign-in, or 403)."""

    def dependency(request: Request) -> User:
        user = signed_in(request)
        if user is None:
            raise GoTo(login_url(request))
        if not user.can(action):
            raise Refusal(403, "Not allowed", f"This needs the {NEEDS[action]} role; you are "
                          f"signed in as '{user.name}', a {user.role}. Ask an admin if you "
                          "need it. Nothing was changed.")
        return user

    return dependency


def safe_next(target: str) -> str:
    """Where to go after signing in: a path on this site only."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or \
            any(ord(c) < 32 for c in target):
        return "/"
    return target


Form = Annotated[dict[str, str], Depends(posted)]
Viewer = Annotated[User, Depends(need("view"))]
Operator = Annotated[User, Depends(need("command"))]
Enroller = Annotated[User, Depends(need("enrol"))]
Admin = Annotated[User, Depends(need("manage"))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
