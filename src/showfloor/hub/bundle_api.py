"""The bundle routes of ``/api/v1``: publish (operators), manifests and files (stations).

- ``POST /api/v1/bundles``: the body is a ``.showfloor`` file's bytes, streamed to a
  temporary file (up to :data:`showfloor.hub.bundles.MAX_UPLOAD`, not the station
  API's body limit), then verified and published. It takes an operator's (or
  admin's) user name and password as HTTP Basic credentials, under the same
  sign-in limit as the dashboard's form: what ``showfloor hub publish`` sends.
- ``GET /api/v1/bundles/{id}/manifest`` and ``GET /api/v1/objects/{sha256}``
  (with ``Range``): signed by a station, like every other station route.
"""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from showfloor import fleet
from showfloor.hub import auth, users
from showfloor.hub import bundles as store
from showfloor.hub.api import UNAUTHORIZED, station_call
from showfloor.hub.dashboard import limits
from showfloor.hub.state import HubState

T = TypeVar("T")
REALM = 'Basic realm="showfloor hub", charset="UTF-8"'


class Paused(auth.AuthError):
    """Sign-in is paused for this name or address (429) for ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(429, reason)
        self.retry_after = retry_after


def check_operator(state: HubState, authorization: str | None, address: str,
                   now: float) -> str:
    """The audit name (``user:NAME``) of the operator in a Basic ``Authorization`` header.

    Raises :class:`~showfloor.hub.auth.AuthError`: 401 without valid credentials,
    429 while sign-in is paused for the name or address, 403 for a viewer.
    """
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise auth.AuthError(401, "publishing needs an operator's user name and password "
                             "(HTTP Basic), e.g. 'showfloor hub publish --user NAME'")
    try:
        name, colon, password = base64.b64decode(value.strip(), validate=True
                                                 ).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise auth.AuthError(401, "the Basic credentials are not base64 of "
                             "'name:password'") from None
    if not colon or not name:
        raise auth.AuthError(401, "the Basic credentials are not base64 of 'name:password'")
    name = name[:64]
    keys = limits.keys(name, address)
    limit = state.settings.login_limit
    with state.db.read() as conn:
        until = limits.blocked_until(conn, keys, limit, now)
        row = users.by_name(conn, name)
    if until is not None:
        wait = max(math.ceil(until - now), 1)
        raise Paused(f"too many failed sign-ins for '{name}' or from this address; "
                     f"try again in {wait} s", wait)
    stored = str(row["password_hash"]) if row is not None else limits.DECOY_HASH
    ok = auth.check_password(stored, password[:1000])
    if not ok or row is None or row["disabled"] is not None:
        with state.db.write() as conn:
            limits.failed(conn, keys, limit, time.time())
        raise auth.AuthError(401, "the user name or the password is not right")
    with state.db.write() as conn:
        limits.succeeded(conn, name)
    if not users.allowed(str(row["role"]), "command"):
        raise auth.AuthError(403, f"publishing needs the operator role; '{name}' is a "
                             f"{row['role']}")
    return f"user:{name}"


def _problem(status: int, detail: str, headers: dict[str, str] | None = None
             ) -> HTTPException:
    return HTTPException(status, detail, headers=headers)


def router(state: HubState) -> APIRouter:
    r = APIRouter(prefix=fleet.API, tags=["bundles"])
    db = state.db

    async def signed(request: Request, work: Callable[[Connection, dict[str, Any], float], T]
                     ) -> T:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = dict(request.headers)
        body = await request.body()
        try:
            return await run_in_threadpool(station_call, state, request.method, target,
                                           headers, body, work)
        except auth.AuthError as err:
            raise HTTPException(err.status, err.reason) from None

    @r.post("/bundles", status_code=201, responses={
        200: {"description": "the same bundle was published before; nothing changed"},
        401: {"description": "no or wrong operator credentials (HTTP Basic)"},
        403: {"description": "the user is not an operator"},
        409: {"description": "this exhibit version is published with other files"},
        413: {"description": "the bundle is larger than the hub takes"},
        422: {"description": "the bundle is refused: the reason in one sentence"},
        429: {"description": "sign-in is paused after too many failures"},
        503: {"description": "the hub has no trusted publisher keys"}})
    async def publish(request: Request) -> JSONResponse:
        """Publish a signed bundle (the body: a ``.showfloor`` file) for rollouts.

        Answers ``{bundle, exhibit, version, files, new_objects, bytes_stored,
        existed}``; only files the hub did not hold yet are stored.
        """
        address = request.client.host if request.client else "unknown"
        try:
            actor = await run_in_threadpool(check_operator, state,
                                            request.headers.get("authorization"), address,
                                            time.time())
        except auth.AuthError as err:
            headers = {"WWW-Authenticate": REALM} if err.status == 401 else {}
            if isinstance(err, Paused):
                headers["Retry-After"] = str(err.retry_after)
            raise _problem(err.status, err.reason, headers) from None
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > store.MAX_UPLOAD:
            raise _problem(413, f"the bundle is {int(length):,} bytes, more than the "
                           f"{store.MAX_UPLOAD:,} the hub takes")
        try:
            path = await store.save_upload(request.stream())
        except store.PublishError as err:
            raise _problem(err.status, str(err)) from None
        except OSError as err:
            raise _problem(507, f"the hub cannot keep the upload ({err.strerror}); free "
                           "some space in its temporary folder") from None
        try:
            done = await run_in_threadpool(lambda: store.store_bundle(
                db, path, actor, store.trusted_keys(state.settings.trusted_keys,
                                                    state.settings.trust)))
        except store.PublishError as err:
            raise _problem(err.status, str(err)) from None
        finally:
            store.remove_file(path)
        return JSONResponse(done.as_json(), status_code=200 if done.existed else 201)

    @r.get("/bundles/{bundle_id}/manifest", responses={
        **UNAUTHORIZED, 404: {"description": "no such bundle"}})
    async def manifest(request: Request, bundle_id: int = Path(ge=1, lt=2**31)
                       ) -> dict[str, Any]:
        """A bundle's manifest.json and manifest.sig (base64), for a station to check."""
        row = await signed(request, lambda conn, st, now: store.get_bundle(conn, bundle_id))
        if row is None:
            raise HTTPException(404, f"the hub has no bundle {bundle_id}")
        return {"bundle": row["id"], "exhibit": row["exhibit"], "version": row["version"],
                "manifest": base64.b64encode(row["manifest"]).decode(),
                "signature": base64.b64encode(row["signature"]).decode()}

    @r.get("/objects/{sha256}", response_class=Response, responses={
        **UNAUTHORIZED, 206: {"description": "the range asked for"},
        404: {"description": "no such file"},
        416: {"description": "a range the file cannot satisfy"}})
    async def object_bytes(request: Request, sha256: str = Path(pattern="^[0-9a-f]{64}$")
                           ) -> Response:
        """A stored file by its SHA-256; ``Range: bytes=a-`` / ``a-b`` resumes a download."""
        size = await signed(request, lambda conn, st, now: store.object_size(conn, sha256))
        if size is None:
            raise HTTPException(404, f"the hub has no file {sha256}")
        try:
            wanted = store.parse_range(request.headers.get("range"), size)
        except ValueError:
            return JSONResponse({"detail": f"the range '{request.headers.get('range', '')[:60]}' "
                                 f"is not one this {size}-byte file can give; ask for "
                                 "bytes=START- with START below its size"},
                                status_code=416, headers={"Content-Range": f"bytes */{size}"})
        start, end = wanted or (0, size)
        headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start),
                   "ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable"}
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return StreamingResponse(store.iter_object(db, sha256, start, end),
                                 status_code=206 if wanted is not None else 200,
                                 headers=headers, media_type="application/octet-stream")

    return r
