"""The Finals pages: schedule a competition final across halls, watch its combined board.

``/finals`` lists the finals with the schedule form (operators; viewers see the
list only and their POSTs are refused); ``/finals/{id}`` is one final's combined
leaderboard by hall and team, live: its parts come from ``/finals/{id}/live``
every second (with the board as JSON beside them). docs/dashboard.md, "Finals".
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from showfloor.errors import ConfigError
from showfloor.hub import finals as fi
from showfloor.hub.dashboard import queries, render
from showfloor.hub.dashboard.security import Form, Operator, Refusal, User, Viewer, hub, signed_in

#: the look (a ``cstate--`` class) of each round's state
ROUND_LOOK = {"on time": "done", "late": "queued", "missing": "failed", "to come": ""}
#: the parts of a final's page that follow it live (``data-part`` on the page)
LIVE_PARTS = {"summary": "_final_summary.html", "board": "_final_board.html",
              "rounds": "_final_rounds.html"}
#: how often the final's page asks for its parts, milliseconds
LIVE_EVERY_MS = 1000
render.env.globals.update(FINAL_ROUND_LOOK=ROUND_LOOK)


def final_url(final_id: int, query: str = "") -> str:
    return f"/finals/{final_id}" + (f"?{query}" if query else "")


def list_page(request: Request, user: User, *, status: int = 200,
              errors: dict[str, str] | None = None, values: dict[str, str] | None = None
              ) -> HTMLResponse:
    with hub(request).db.read() as conn:
        rows = fi.listing(conn)
        halls = queries.halls(conn)
        tz = queries.display_zone(conn)
    names = {h["id"]: h["name"] for h in halls}
    for r in rows:
        r["hall_names"] = [names.get(h, h) for h in r["halls"]]
    return render.page(request, user, "finals.html", status=status, finals=rows, halls=halls,
                       tz=tz, errors=errors or {}, values=values or {}, gap=fi.GAP,
                       notice="")


def _detail_context(request: Request, final_id: int) -> dict[str, Any]:
    now = time.time()
    with hub(request).db.read() as conn:
        final = fi.load(conn, final_id)
        if final is None:
            raise Refusal(404, "No such final", f"There is no final {final_id} on this hub; "
                          "see the Finals page for the ones there are.")
        board = fi.board(conn, final, now)
        tz = queries.display_zone(conn)
    return {"f": final, "b": board, "tz": tz, "now": now, "late_after": fi.LATE_AFTER,
            "action": final_url(final_id), "every": LIVE_EVERY_MS}


def detail_page(request: Request, user: User, final_id: int) -> HTMLResponse:
    notice = "The final is scheduled: each hall's host station gets it within a second " \
        "if it is online." if "created" in request.query_params else ""
    return render.page(request, user, "final.html", **_detail_context(request, final_id),
                       notice=notice)


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/finals")
    def finals(request: Request, user: Viewer) -> Response:
        return list_page(request, user)

    @r.post("/finals")
    async def create(request: Request, form: Form, user: Operator) -> Response:
        state = hub(request)
        form_halls = (await request.form()).getlist("halls")
        halls = [h for h in form_halls if isinstance(h, str)]
        now = time.time()

        def work() -> tuple[int, list[str]]:
            with state.db.read() as conn:
                tz = queries.display_zone(conn)
            start = fi.parse_start(form.get("start", ""), tz, now)
            try:
                gap = float(form.get("gap", "").strip() or fi.GAP)
            except ValueError:
                raise ConfigError("give the seconds between questions as a number, "
                                  "e.g. 5") from None
            with state.db.write() as conn:
                return fi.create(conn, now, name=form.get("name", ""),
                                 competition=form.get("competition", ""), halls=halls,
                                 start=start, gap=gap, actor=user.actor)

        try:
            fid, sent = await run_in_threadpool(work)
        except ConfigError as err:
            return list_page(request, user, status=400, errors={"final": str(err)},
                             values=form)
        for sid in sent:
            state.notifier.wake(sid)
        return RedirectResponse(final_url(fid, "created=1"), 303)

    @r.get("/finals/{final_id}")
    def final(request: Request, final_id: int, user: Viewer) -> Response:
        return detail_page(request, user, final_id)

    @r.get("/finals/{final_id}/live")
    def live(request: Request, final_id: int) -> Response:
        """The page's live parts as HTML, and the board as data."""
        user = signed_in(request)
        if user is None:
            raise Refusal(401, "Signed out", "sign in at /login first", json=True)
        try:
            context = _detail_context(request, final_id)
        except Refusal as err:
            raise Refusal(err.status, err.title, err.sentence, json=True) from None
        return JSONResponse({"parts": {name: render.fragment(request, user, template, **context)
                                       for name, template in LIVE_PARTS.items()},
                             "board": context["b"], "time": context["now"]})

    return r
