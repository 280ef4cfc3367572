"""The Rollouts pages: publish a bundle, roll it out, watch each station, halt, roll back.

``/rollouts`` lists bundles and rollouts, with the publish and new-rollout forms
(operators); ``/rollouts/{id}`` shows one rollout's stations live (its parts
come from ``/rollouts/{id}/live`` every 5 s, like a station's page) with the
Halt/Resume/Cancel/Roll back buttons (operators). Viewers see the pages and
the progress only: the buttons are not there and their POSTs are refused.
Station tags (what a rollout to a tag picks) are set on a station's page.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse

from showfloor.errors import ConfigError
from showfloor.hub import bundles as store
from showfloor.hub import rollouts as ro
from showfloor.hub.dashboard import queries, render
from showfloor.hub.dashboard.security import Form, Operator, Refusal, User, Viewer, check_post, hub, signed_in
from showfloor.hub.dashboard.stations import station_url

PUBLISH_PATH = "/rollouts/publish"
# the publish form's body is a whole bundle: the hub's body limit leaves it to this route
store.UPLOAD_PATHS.add(PUBLISH_PATH)

#: a station's state in a rollout, in words (the order the page counts them in)
STATION_WORDS = {
    "waiting": "not sent yet", "queued": "queued", "downloading": "downloading",
    "verified": "verified", "waiting_idle": "waiting for an idle moment",
    "running": "running", "failed": "failed", "rolled_back": "rolled back",
    "stale": "stale (manifest expired)",
}
#: the look (a ``cstate--`` class) of each station state and rollout state
LOOK = {"waiting": "", "queued": "queued", "downloading": "queued", "verified": "queued",
        "waiting_idle": "queued", "running": "done", "failed": "failed",
        "rolled_back": "failed", "stale": "failed", "canary": "queued", "rolling": "queued",
        "done": "done", "halted": "failed", "cancelled": ""}
ROLLOUT_WORDS = {"canary": "canary stage", "rolling": "rolling out to the rest",
                 "done": "done", "halted": "halted", "cancelled": "cancelled"}
#: the parts of a rollout's page that follow it live (``data-part`` on the page)
LIVE_PARTS = {"summary": "_rollout_summary.html", "stations": "_rollout_stations.html",
              "actions": "_rollout_actions.html"}
render.env.globals.update(ROLLOUT_STATION_WORDS=STATION_WORDS, ROLLOUT_LOOK=LOOK,
                          ROLLOUT_WORDS=ROLLOUT_WORDS)


def rollout_url(rollout_id: int, query: str = "") -> str:
    return f"/rollouts/{rollout_id}" + (f"?{query}" if query else "")


def _notice(request: Request) -> str:
    q = request.query_params
    if q.get("published", "").isdigit():
        again = " (it was already on the hub: nothing changed)" if "existed" in q else ""
        return f"Bundle {q['published']} is published{again}. Roll it out below."
    words = {"created": "The rollout started: its canaries get the new version within a "
                        "second if they are online.",
             "halted": "The rollout is halted: no station is sent the version any more.",
             "resumed": "The rollout carries on.", "cancelled": "The rollout was cancelled.",
             "rolled_back": "The signed rollback instruction is on its way to every station "
                            "that got this rollout.",
             "tags": "The station's tags were saved."}
    return next((text for key, text in words.items() if key in q), "")


def _list_context(request: Request) -> dict[str, Any]:
    with hub(request).db.read() as conn:
        return {"bundles": ro.bundles(conn), "rollouts": ro.listing(conn),
                "halls": queries.halls(conn), "tz": queries.display_zone(conn),
                "tags": ro.all_tags(conn)}


def list_page(request: Request, user: User, *, status: int = 200,
              errors: dict[str, str] | None = None, values: dict[str, str] | None = None
              ) -> HTMLResponse:
    return render.page(request, user, "rollouts.html", status=status, **_list_context(request),
                       errors=errors or {}, values=values or {}, notice=_notice(request),
                       targets=ro.TARGETS)


def _detail_context(request: Request, rollout_id: int) -> dict[str, Any]:
    state = hub(request)
    with state.db.read() as conn:
        got = ro.detail(conn, rollout_id)
        tz = queries.display_zone(conn)
    if got is None:
        raise Refusal(404, "No such rollout", f"There is no rollout {rollout_id} on this hub; "
                      "see the Rollouts page for the ones there are.")
    return {"r": got, "tz": tz, "now": time.time(), "action": rollout_url(rollout_id),
            "can_rollback": bool(state.settings.rollback_key),
            "online_within": state.settings.online_within}


def detail_page(request: Request, user: User, rollout_id: int, *, status: int = 200,
                error: str = "") -> HTMLResponse:
    return render.page(request, user, "rollout.html", status=status,
                       **_detail_context(request, rollout_id), error=error,
                       notice=_notice(request))


def _int(form: dict[str, str], name: str, words: str) -> int:
    try:
        return int(form.get(name, "").strip() or "0")
    except ValueError:
        raise ConfigError(f"'{form.get(name, '')[:20]}' is not a whole number; give {words}"
                          ) from None


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/rollouts")
    def rollouts(request: Request, user: Viewer) -> Response:
        return list_page(request, user)

    @r.post(PUBLISH_PATH)
    async def publish(request: Request, user: Operator) -> Response:
        """A bundle from the publish form (multipart), checked and stored like the API's."""
        form = await request.form()
        check_post(request, {k: v for k, v in form.multi_items() if isinstance(v, str)})
        upload = form.get("bundle")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return list_page(request, user, status=400, errors={
                "publish": "choose a .showfloor bundle file to publish"})
        state = hub(request)

        async def chunks() -> Any:
            while chunk := await upload.read(store.CHUNK):
                yield chunk

        path: Path | None = None
        try:
            path = await store.save_upload(chunks())
            keys = store.trusted_keys(state.settings.trusted_keys,
                                      getattr(state.settings, "trust", ""))
            done = await run_in_threadpool(store.store_bundle, state.db, path, user.actor,
                                           keys)
        except store.PublishError as err:
            return list_page(request, user, status=err.status if err.status < 500 else 400,
                             errors={"publish": f"{upload.filename[:100]}: {err}"})
        finally:
            if path is not None:
                path.unlink(missing_ok=True)
        query = f"published={done.bundle}" + ("&existed=1" if done.existed else "")
        return RedirectResponse(f"/rollouts?{query}#new-rollout", 303)

    @r.post("/rollouts")
    def create(request: Request, form: Form, user: Operator) -> Response:
        state = hub(request)
        kind = form.get("target_kind", "")
        target = form.get(f"target_{kind}", "").strip() if kind != "all" else ""
        try:
            bundle_id = _int(form, "bundle", "the number of a bundle")
            canary = _int(form, "canary", "how many canary stations (0 for none)")
            try:
                healthy = float(form.get("healthy_seconds", "").strip() or "0")
            except ValueError:
                raise ConfigError("give how long canaries must stay healthy in seconds, "
                                  "e.g. 300") from None
            with state.db.write() as conn:
                rid = ro.create(conn, time.time(), bundle_id, kind, target, canary,
                                form.get("canary_unit", "stations"), healthy, user.actor)
                woken = ro.advance(conn, time.time(), rid,
                                   online_within=state.settings.online_within,
                                   ttl=state.settings.command_ttl)
        except ConfigError as err:
            return list_page(request, user, status=400, errors={"rollout": str(err)},
                             values=form)
        for sid in woken:
            state.notifier.wake(sid)
        return RedirectResponse(rollout_url(rid, "created=1"), 303)

    @r.get("/rollouts/{rollout_id}")
    def rollout(request: Request, rollout_id: int, user: Viewer) -> Response:
        return detail_page(request, user, rollout_id)

    @r.get("/rollouts/{rollout_id}/live")
    def live(request: Request, rollout_id: int) -> Response:
        """The page's live parts as HTML, for its 5 s updates."""
        user = signed_in(request)
        if user is None:
            raise Refusal(401, "Signed out", "sign in at /login first", json=True)
        try:
            context = _detail_context(request, rollout_id)
        except Refusal as err:
            raise Refusal(err.status, err.title, err.sentence, json=True) from None
        return JSONResponse({"parts": {name: render.fragment(request, user, template, **context,
                                                             error="")
                                       for name, template in LIVE_PARTS.items()},
                             "time": context["now"]})

    @r.post("/rollouts/{rollout_id}/{action}")
    def act(request: Request, rollout_id: int, action: str, form: Form,
            user: Operator) -> Response:
        state = hub(request)
        now = time.time()
        woken: list[str] = []
        try:
            with state.db.write() as conn:
                if action == "halt":
                    ro.halt(conn, now, rollout_id, user.actor)
                    done = "halted"
                elif action == "resume":
                    ro.resume(conn, now, rollout_id, user.actor)
                    woken = ro.advance(conn, now, rollout_id,
                                       online_within=state.settings.online_within,
                                       ttl=state.settings.command_ttl)
                    done = "resumed"
                elif action == "cancel":
                    ro.cancel(conn, now, rollout_id, user.actor)
                    done = "cancelled"
                elif action == "rollback":
                    woken = ro.rollback(conn, now, rollout_id, user.actor,
                                        ro.load_key(state.settings.rollback_key),
                                        ttl=state.settings.command_ttl)
                    done = "rolled_back"
                else:
                    raise Refusal(404, "No such action", f"A rollout can be halted, resumed, "
                                  f"cancelled or rolled back, not '{action[:30]}'.")
        except ConfigError as err:
            return detail_page(request, user, rollout_id, status=400, error=str(err))
        for sid in woken:
            state.notifier.wake(sid)
        return RedirectResponse(rollout_url(rollout_id, f"{done}=1"), 303)

    @r.post("/stations/{station_id}/tags")
    def tags(request: Request, station_id: str, form: Form, user: Operator) -> Response:
        state = hub(request)
        try:
            found = ro.parse_tags(form.get("tags", ""))
            with state.db.write() as conn:
                ro.set_tags(conn, time.time(), station_id, found, user.actor)
        except ConfigError as err:
            from showfloor.hub.dashboard.stations import station_page

            return station_page(request, user, station_id, status=400,
                                errors={"tags": str(err)}, values=form)
        return RedirectResponse(station_url(station_id, "tags=1", "tags"), 303)

    return r
