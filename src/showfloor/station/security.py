"""The HTTP headers that keep the station's pages and the exhibit's files inert.

Every response carries ``nosniff``, ``Referrer-Policy: no-referrer`` and
``X-Frame-Options: DENY``. A page (``/``, the surface chooser, ``/fallback``) is
sent with a strict Content-Security-Policy: scripts only from the station
itself, no inline script but the hashes of the page's own inline elements (the
import map of ``index.html``), no ``eval``, no plug-ins, no frames, no forms.
The hashes are computed from the very text sent, so they cannot drift from
the file. Files under ``/exhibit/`` are sent with a policy that forbids every
script and sandboxes them, so an SVG opened on its own runs nothing either.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from html.parser import HTMLParser

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Sent with every HTTP response.
COMMON: Mapping[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

#: The directives of a page's policy; ``script-src`` and ``style-src`` gain the hashes of
#: the page's inline ``<script>`` and ``<style>`` elements. ``'self'`` covers the page's
#: WebSocket to its own host (``ws:``/``wss:`` of the same host and port, CSP level 3);
#: ``blob:`` and ``data:`` are how three.js loads the textures inside a glTF model.
PAGE_DIRECTIVES: tuple[tuple[str, str], ...] = (
    ("default-src", "'self'"),
    ("script-src", "'self'"),
    ("style-src", "'self'"),
    ("img-src", "'self' data: blob:"),
    ("media-src", "'self' blob:"),
    ("connect-src", "'self' data: blob:"),
    ("worker-src", "'self' blob:"),
    ("font-src", "'self'"),
    ("object-src", "'none'"),
    ("base-uri", "'none'"),
    ("frame-ancestors", "'none'"),
    ("form-action", "'none'"),
)

#: Sent with every file under ``/exhibit/``: no script at all, and sandboxed (a unique
#: origin, no script, no forms, no pop-ups) when a browser opens the file as a document.
EXHIBIT_CSP = ("default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
               "font-src 'self' data:; media-src 'self'; frame-ancestors 'none'; sandbox")
EXHIBIT_PREFIX = "/exhibit/"


class _Inline(HTMLParser):
    """Collects the text of a page's inline ``<script>`` and ``<style>`` elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.found and not (tag == "script" and dict(attrs).get("src")):
            self._open, self._text = tag, []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open == tag:
            self.found[tag].append("".join(self._text))
            self._open = None


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def page_csp(page: str) -> str:
    """The Content-Security-Policy for this HTML page, allowing its own inline elements."""
    parser = _Inline()
    parser.feed(page)
    parser.close()
    extra = {"script-src": parser.found["script"], "style-src": parser.found["style"]}
    parts = []
    for name, value in PAGE_DIRECTIVES:
        hashes = sorted({_hash(t) for t in extra.get(name, [])})
        parts.append(" ".join([name, value, *hashes]))
    return "; ".join(parts)


def page_headers(page: str) -> dict[str, str]:
    """The headers of a station page: its policy, and never cached."""
    return {"Content-Security-Policy": page_csp(page), "Cache-Control": "no-store"}


class SecurityHeaders:
    """ASGI middleware: :data:`COMMON` on every HTTP response, and :data:`EXHIBIT_CSP` on
    the exhibit's files (a policy set by the route itself is left alone elsewhere)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exhibit = str(scope.get("path", "")).startswith(EXHIBIT_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                for name, value in COMMON.items():
                    if name.lower().encode() not in have:
                        headers.append((name.lower().encode(), value.encode()))
                if exhibit:
                    headers = [(k, v) for k, v in headers
                               if k.lower() != b"content-security-policy"]
                    headers.append((b"content-security-policy", EXHIBIT_CSP.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
