"""The Reports pages: ``/reports`` (filters, every metric as a chart and its table) and
``/reports/monthly`` (one printable A4 page per hall or for the region).

The numbers come from :func:`showfloor.analytics.metrics.report` and pass through
:func:`showfloor.analytics.privacy.suppress_report` before anything is shown: a cell
with fewer than ``report_min_cell`` visits behind it is a ``Suppressed`` and prints
as "< k". Charts are drawn in the browser by ``static/reports.js`` (Apache ECharts,
its SVG renderer) from a JSON island the template writes; every chart has its data
as a table beside it. Bad filters are a 400 page with the sentence, never a 500.
The same page, rendered in process, is what ``showfloor hub report --pdf`` prints
(:mod:`.monthly_pdf`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select
from starlette.routing import NoMatchFound
from starlette.staticfiles import StaticFiles

from showfloor.analytics import metrics, privacy
from showfloor.analytics.privacy import Suppressed
from showfloor.hub import db as t
from showfloor.hub.dashboard import render
from showfloor.hub.dashboard.security import STATIC_URL, Viewer, hub

#: the ECharts package (``npm ci`` in src/showfloor/renderer puts it there)
ECHARTS = Path(__file__).resolve().parents[2] / "renderer" / "node_modules" / "echarts"
#: where the hub serves it (before the dashboard's own static files)
ECHARTS_URL = STATIC_URL + "/vendor/echarts"
#: the days a report covers when the form gives none (the last 30, today included)
DEFAULT_DAYS = 30
#: the years a date may fall in (anything else is a typing mistake)
FIRST_YEAR, LAST_YEAR = 2000, 2100
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def mount_vendor(app: FastAPI) -> None:
    """Serve ECharts at :data:`ECHARTS_URL` (mounted before the dashboard's static files)."""
    app.mount(ECHARTS_URL, StaticFiles(directory=ECHARTS, check_dir=False),
              name="dashboard-echarts")


# -- the request -----------------------------------------------------------------------------

def chart_locale(accept_language: str | None) -> str:
    """ECharts' locale for the dashboard: 'ZH' when the browser prefers Chinese, else 'EN'.

    The dashboard itself is English only; the charts' own words (month names, "no data")
    follow the browser's ``Accept-Language``: its first language with the highest q.
    """
    best, best_q = "", -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if tag and q > best_q:
            best, best_q = tag.lower(), q
    return "ZH" if best.startswith("zh") else "EN"


def _date(value: str, name: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        raise metrics.ReportError(f"the {name} date '{value[:40]}' is not a date; write it "
                                  "as YYYY-MM-DD, e.g. 2026-11-01") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise metrics.ReportError(f"the {name} date {day} is outside {FIRST_YEAR}-"
                                  f"{LAST_YEAR}; check the year")
    return day


def parse_filter(query: Mapping[str, str], today: dt.date) -> tuple[metrics.Filter,
                                                                     dict[str, str]]:
    """The report's filter from the form's fields, and the fields as the form shows them.

    Empty fields mean "all"; without dates the report covers the last
    :data:`DEFAULT_DAYS` days up to ``today``. A date that is not one is a ReportError.
    """
    values = {k: (query.get(k) or "").strip()[:100] for k in
              ("hall", "exhibit", "version", "start", "end")}
    end = _date(values["end"], "end") if values["end"] else today
    start = (_date(values["start"], "start") if values["start"]
             else end - dt.timedelta(days=DEFAULT_DAYS - 1))
    values["start"], values["end"] = start.isoformat(), end.isoformat()
    f = metrics.Filter(hall=values["hall"] or None, exhibit=values["exhibit"] or None,
                       version=values["version"] or None, start=start, end=end)
    return f, values


def parse_month(value: str) -> tuple[dt.date, dt.date]:
    """The first and last day of a month written YYYY-MM; a ReportError otherwise."""
    try:
        year, month = (int(x) for x in value.strip().split("-"))
        first = dt.date(year, month, 1)
    except ValueError:
        raise metrics.ReportError(f"the month '{value[:40]}' is not a month; write it as "
                                  "YYYY-MM, e.g. 2026-11") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise metrics.ReportError(f"the month {value} is outside {FIRST_YEAR}-{LAST_YEAR}; "
                                  "check the year")
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def previous_month(today: dt.date) -> str:
    last = today.replace(day=1) - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


# -- the numbers ------------------------------------------------------------------------------

def halls(conn: Connection) -> list[dict[str, Any]]:
    """Every hall (id, name, time zone), by name."""
    h = t.halls
    return [dict(r._mapping) for r in conn.execute(
        select(h.c.id, h.c.name, h.c.timezone).order_by(h.c.name, h.c.id))]


def numbers(conn: Connection, f: metrics.Filter, k: int) -> dict[str, Any]:
    """The report for ``f`` with every cell under ``k`` visits suppressed, and unused hours.

    Alive-but-unused hours count hours of a station, not visits: they are not suppressed.
    They are read per station, so only for one hall (or station): for the region they
    are None (the page asks for a hall), which keeps the region's page quick.
    """
    raw = metrics.report(conn, f)
    raw["unused_hours"] = (metrics.unused_hours(conn, f)
                           if f.hall is not None or f.station is not None else None)
    return privacy.suppress_report(raw, k)


def hall_breakdown(conn: Connection, f: metrics.Filter, k: int, names: Mapping[str, str]
                   ) -> tuple[int | Suppressed, list[tuple[str, str, int | Suppressed]]]:
    """The region's visits and each hall's (id, name, visits), small halls suppressed.

    :func:`privacy.suppress_breakdown` also hides enough other halls that the region's
    total minus the halls shown never gives a suppressed hall away.
    """
    parts = dict.fromkeys(names, 0)
    parts.update(metrics.visits_by(conn, f, "hall_id"))  # the halls' parts of the visits
    total = sum(parts.values())
    shown = privacy.suppress_breakdown(total, parts, k)
    total_shown: int | Suppressed = total if total >= k or total == 0 else Suppressed(k)
    return total_shown, [(hid, names.get(hid, hid), shown[hid]) for hid in sorted(
        parts, key=lambda h: (names.get(h, h), h))]


# -- what the templates and charts get ----------------------------------------------------

def hidden(value: Any) -> bool:
    return isinstance(value, Suppressed)


def plain(value: Any) -> Any:
    """A chart's number: a suppressed or missing one is a gap (null)."""
    if isinstance(value, Suppressed) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def show_count(value: Any) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def show_share(value: Any, digits: int = 0) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "—"
    return f"{100 * float(value):.{digits}f} %"


def show_number(value: Any, digits: int = 2) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "—"
    return f"{float(value):.{digits}f}"


def show_seconds(value: Any) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if value is None:
        return "—"
    s = float(value)
    if s < 90:
        return f"{s:.0f} s"
    return f"{int(s // 60)} min {int(s % 60):02d} s"


def show_interval(value: Any) -> str:
    if isinstance(value, Suppressed):
        return str(value)
    if not value:
        return "—"
    lo, hi = value
    return f"{show_number(lo)} to {show_number(hi)}"


def show_choices(choices: Any) -> str:
    if isinstance(choices, Suppressed):
        return str(choices)
    return ", ".join(str(c) for c in choices) or "(none)"


render.env.filters.update(rcount=show_count, rshare=show_share, rnum=show_number,
                          rsecs=show_seconds, rinterval=show_interval,
                          rchoices=show_choices)
render.env.tests.update(suppressed=hidden)


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """Funnel groups as (key, rows): keys may be (exhibit, version) tuples or 'a/b' strings."""
    if isinstance(value, Mapping):
        return list(value.items())
    return list(value or [])


def group_name(key: Any) -> str:
    if isinstance(key, (tuple, list)):
        return " ".join(str(x) for x in key)
    return str(key)


def charts(data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON island ``reports.js`` draws from: one small spec per chart, no Suppressed."""
    out: dict[str, Any] = {}
    surv = data["dwell"].get("survival") or []
    if isinstance(surv, list) and surv:
        out["survival"] = {"type": "line", "x": [plain(x) for x, _ in surv],
                           "xName": "seconds", "yName": "share still engaged",
                           "percent": True,
                           "series": [{"name": "still engaged", "data": [plain(y) for _, y
                                                                          in surv]}]}
    for i, (_key, rows) in enumerate(_pairs(data["funnel"])):
        if isinstance(rows, list):
            out[f"funnel-{i}"] = {
                "type": "bar", "x": [r["scene"] for r in rows], "xName": "scene",
                "yName": "visits",
                "series": [{"name": "entered", "data": [plain(r["entered"]) for r in rows]},
                           {"name": "left there", "data": [plain(r["left"]) for r in rows]}]}
    langs = data["languages"]
    if isinstance(langs, Mapping) and langs:
        ordered = sorted(langs.items(), key=lambda x: x[0])
        out["languages"] = {"type": "bar", "x": [lang or "unknown" for lang, _ in ordered],
                            "xName": "language", "yName": "visits",
                            "series": [{"name": "visits", "data": [plain(n) for _, n in
                                                                    ordered]}]}
    grid = data["heatmap"]
    if isinstance(grid, list) and grid:
        cells = [[hour, day, plain(n)] for day, row in enumerate(grid)
                 for hour, n in enumerate(row)]
        out["heatmap"] = {"type": "heatmap", "x": [f"{h:02d}" for h in range(24)],
                          "y": list(WEEKDAYS), "xName": "hour", "yName": "",
                          "cells": cells,
                          "max": max([c[2] for c in cells if c[2] is not None] or [1])}
    quiz = (data.get("sections") or {}).get("quiz")
    if isinstance(quiz, list) and quiz:
        out["questions"] = {"type": "bar", "percent": True, "xName": "question",
                            "yName": "share correct",
                            "x": [f"{q['scene']}/{q['question']}" for q in quiz],
                            "series": [{"name": "share correct",
                                        "data": [plain(q["share"]) for q in quiz]}]}
    return out


def is_share(column: str) -> bool:
    """Whether a section's column holds shares (``share``, ``share_…``, ``…_share``)."""
    return column == "share" or column.startswith("share_") or column.endswith("_share")


def section_cell(column: str, value: Any) -> tuple[str, bool]:
    """A cell of a scene type's own section as (the text shown, whether it is a number):
    a share as a percentage like every other share, a count with thousands separators,
    another number with two decimals, a hidden one as "< k"."""
    if isinstance(value, Suppressed):
        return str(value), True
    if value is None:
        return "—", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, int | float):
        if is_share(column):
            return show_share(value), True
        return (show_count(value) if isinstance(value, int) else show_number(value)), True
    return str(value), False


def section_rows(value: Any) -> tuple[list[str], list[list[tuple[str, bool]]]] | None:
    """A scene type's own section as a table (a list of flat dicts), each cell as
    :func:`section_cell` shows it, or None."""
    if not isinstance(value, list) or not value or not all(isinstance(r, Mapping)
                                                           for r in value):
        return None
    columns = list(value[0])
    return columns, [[section_cell(c, r.get(c)) for c in columns] for r in value]


#: a scene type's section → the export tables holding it (the page's download links)
SECTION_EXPORTS = {"ask": ["asks"], "competition": ["competition_questions", "competitions"]}
#: the sections the page shows in a table of their own (the others: a generic table)
OWN_TABLE = ("quiz", "competition")


def export_links(app: Any, values: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Per export table, its CSV and Parquet download with the page's filters.

    The links go to the exports routes (``/reports/export/NAME.csv``, see
    :mod:`.exports`); a hub without them gets no links.
    """
    try:
        app.url_path_for("export_table", filename="visits.csv")
    except NoMatchFound:
        return {}
    from showfloor.analytics.exports import NAMES

    query = urlencode({k: v for k, v in values.items() if v})
    return {name: {fmt: f"/reports/export/{name}.{fmt}" + (f"?{query}" if query else "")
                   for fmt in ("csv", "parquet")} for name in NAMES}


def context(conn: Connection, f: metrics.Filter, k: int) -> dict[str, Any]:
    """What both report pages show for a filter (after suppression)."""
    data = numbers(conn, f, k)
    quiz = (data.get("sections") or {}).get("quiz")
    contests = (data.get("sections") or {}).get("competition")
    extra = {name: value for name, value in (data.get("sections") or {}).items()
             if name not in OWN_TABLE}
    return {"r": data, "k": k, "charts": charts(data), "funnels": _pairs(data["funnel"]),
            "group_name": group_name, "quiz": quiz if isinstance(quiz, list) else [],
            "contests": contests if isinstance(contests, list) else [],
            "extra_sections": {name: section_rows(v) for name, v in extra.items()},
            "extra_raw": extra, "section_exports": SECTION_EXPORTS, "weekdays": WEEKDAYS,
            "region": hall_breakdown(conn, f, k, {str(h["id"]): str(h["name"])
                                                   for h in halls(conn)})
            if f.hall is None else None}


def monthly_context(conn: Connection, month: str, hall: str | None, k: int
                    ) -> dict[str, Any]:
    """The monthly report's data: the month's numbers and, for the region, every hall's."""
    first, last = parse_month(month)
    f = metrics.Filter(hall=hall or None, start=first, end=last)
    metrics.check(conn, f)
    all_halls = halls(conn)
    names = {str(h["id"]): str(h["name"]) for h in all_halls}
    ctx = context(conn, f, k)
    ctx.update(month=f"{first.year:04d}-{first.month:02d}",
               month_name=f"{calendar.month_name[first.month]} {first.year}",
               first=first, last=last, hall=f.hall,
               hall_name=names.get(f.hall or "", ""), exports={})
    return ctx


# -- the routes -------------------------------------------------------------------------------

def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/reports")
    def reports(request: Request, user: Viewer) -> Response:
        state = hub(request)
        k = privacy.check_k(state.settings.report_min_cell)
        locale = chart_locale(request.headers.get("accept-language"))
        with state.db.read() as conn:
            known = halls(conn)
            try:
                f, values = parse_filter(request.query_params, _today())
                ctx = context(conn, f, k)
            except metrics.ReportError as err:
                values = {k2: (request.query_params.get(k2) or "")[:100] for k2 in
                          ("hall", "exhibit", "version", "start", "end")}
                return render.page(request, user, "reports.html", status=400,
                                   problem=str(err), values=values, halls=known,
                                   locale=locale, k=k)
        return render.page(request, user, "reports.html", problem="", values=values,
                           halls=known, locale=locale, **ctx,
                           exports=export_links(request.app, values),
                           monthly="/reports/monthly?" + urlencode(
                               {"month": values["end"][:7], "hall": values["hall"]} if
                               values["hall"] else {"month": values["end"][:7]}))

    @r.get("/reports/monthly")
    def monthly(request: Request, user: Viewer) -> Response:
        state = hub(request)
        k = privacy.check_k(state.settings.report_min_cell)
        q = request.query_params
        month = (q.get("month") or "").strip() or previous_month(_today())
        hall = (q.get("hall") or "").strip()[:100] or None
        locale = chart_locale(request.headers.get("accept-language"))
        with state.db.read() as conn:
            try:
                ctx = monthly_context(conn, month, hall, k)
            except metrics.ReportError as err:
                return render.page(request, user, "monthly.html", status=400,
                                   problem=str(err), locale=locale, k=k, month=month[:40],
                                   hall=hall)
        return render.page(request, user, "monthly.html", problem="", locale=locale,
                           generated=dt.datetime.now(dt.UTC), **ctx)

    return r
