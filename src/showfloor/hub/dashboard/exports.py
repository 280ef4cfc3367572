"""Report tables as downloads: ``GET /reports/export/{table}.csv`` and ``….parquet``.

The same filters as the Reports page (``hall``, ``exhibit``, ``version``, ``start``,
``end``; without dates, the last 30 days) and the same suppression (the hub's
``report_min_cell``); the viewer role is enough. ``/reports/export/manifest.json``
says what the tables contain for those filters. A filter that cannot be, or a table
that does not exist, is a 400 or 404 page with a sentence (docs/reports.md, "Exports").
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from showfloor.analytics import exports, metrics, privacy
from showfloor.hub.dashboard.reports import parse_filter
from showfloor.hub.dashboard.security import Refusal, Viewer, hub

MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _filename(table: str, f: metrics.Filter, fmt: str) -> str:
    parts = [table, *(p for p in (f.hall, f.exhibit, f.version) if p)]
    if f.start and f.end:
        parts.append(f"{f.start.isoformat()}_{f.end.isoformat()}")
    safe = "-".join("".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in p)
                    for p in parts)
    return f"{safe}.{fmt}"


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/reports/export/{filename}")
    def export_table(request: Request, filename: str, user: Viewer) -> Response:
        """One report table as CSV or Parquet, or the manifest of them all."""
        del user
        name, _, fmt = filename.rpartition(".")
        if filename != "manifest.json" and (fmt not in MEDIA or name not in exports.NAMES):
            raise Refusal(404, "No such export", f"There is no export '{filename[:80]}'. "
                          f"The tables are {', '.join(exports.NAMES)}, each as .csv or "
                          ".parquet, and manifest.json lists them.")
        state = hub(request)
        k = privacy.check_k(state.settings.report_min_cell)
        try:
            f, _values = parse_filter(request.query_params, _today())
            with state.db.read() as conn:
                if filename == "manifest.json":
                    made = exports.tables(conn, f, k)
                else:
                    made = exports.tables(conn, f, k, [name])
        except metrics.ReportError as err:
            raise Refusal(400, "Cannot export that", str(err)) from None
        if filename == "manifest.json":
            return JSONResponse(exports.manifest(f, k, made, exports.FORMATS,
                                                 dt.datetime.now(dt.UTC)))
        table = made[name]
        body = exports.csv_bytes(table) if fmt == "csv" else exports.parquet_bytes(table)
        return Response(body, media_type=MEDIA[fmt], headers={
            "Content-Disposition": f'attachment; filename="{_filename(name, f, fmt)}"',
            "Cache-Control": "no-store"})

    return r
