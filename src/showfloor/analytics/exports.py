"""Every report table as rows, written as CSV and Parquet (definitions: docs/reports.md).

:func:`tables` gives each table a report shows — its columns and its rows — for a
:class:`~.metrics.Filter`, after :mod:`.privacy` has hidden every cell counting fewer
than k visits. A hidden cell is the text ``< k`` in CSV; in Parquet it is null and the
column's ``<column>_suppressed`` boolean is true (every column that can be hidden has
one, whether or not anything is hidden, so a table's schema never depends on its data).

:func:`export` writes a folder: one file per table, plus ``manifest.json`` and
``README.txt`` saying what the export contains (the filters, k, when it was made, each
table's columns and where its numbers are defined). An empty range gives files with a
header and no rows, and a manifest saying 0 visits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import Connection, select

from showfloor import hours
from showfloor.analytics import metrics, privacy
from showfloor.analytics.privacy import Suppressed
from showfloor.errors import ConfigError
from showfloor.hub import db as t

DOC = "docs/reports.md"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
FORMATS = ("csv", "parquet")
#: a CSV or Parquet column's type
TYPES = ("string", "int", "float", "bool", "date")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # one of TYPES
    #: whether privacy may hide it (then Parquet has ``<name>_suppressed`` beside it)
    hideable: bool = False


class Table(NamedTuple):
    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Spec:
    """A table: what one row is, its columns, where it is defined, and how it is made."""

    name: str
    row: str
    columns: tuple[Column, ...]
    definition: str
    build: Callable[[_Context], list[tuple[Any, ...]]]
    #: counted apart from the visits (competitions): built even when there is no visit
    apart: bool = False


def _c(name: str, type_: str = "int", hideable: bool = True) -> Column:
    return Column(name, type_, hideable)


def _key(name: str) -> Column:
    return Column(name, "string", False)


# -- the numbers, computed once per export and only those asked for ----------------------

_METRICS: dict[str, Callable[[Connection, metrics.Filter], Any]] = {
    "visits": metrics.visits, "per_open_hour": metrics.per_open_hour,
    "end": metrics.end_share, "dwell": metrics.dwell, "funnel": metrics.funnel,
    "gain": metrics.gain, "languages": metrics.languages, "heatmap": metrics.heatmap,
    "attraction": metrics.attraction_counts,
}


class _Context:
    """One export's connection, filter and k; each report part computed at most once."""

    def __init__(self, conn: Connection, f: metrics.Filter, k: int) -> None:
        self.conn, self.f, self.k = conn, f, k
        self.halls = metrics.check(conn, f)
        self._raw: dict[str, Any] = {}
        self._shown: dict[str, Any] = {}
        self.notes: list[str] = []

    def raw(self, part: str) -> Any:
        if part not in self._raw:
            if part == "sections":
                self._raw[part] = {n: fn(self.conn, self.f) for n, fn in metrics.SECTIONS.items()}
            else:
                self._raw[part] = _METRICS[part](self.conn, self.f)
        return self._raw[part]

    def shown(self, part: str) -> Any:
        """A report part after suppression (the visits total goes with it, as in a report)."""
        if part not in self._shown:
            partial = {"visits": self.raw("visits"), part: self.raw(part)}
            self._shown[part] = privacy.suppress_report(partial, self.k)[part]
        return self._shown[part]

    def starts(self) -> list[tuple[float, str, str]]:
        """(start, hall, station) of every visit in the filter."""
        s = t.session_summaries
        if "starts" not in self._raw:
            self._raw["starts"] = [(float(w), str(h), str(st)) for w, h, st in self.conn.execute(
                select(s.c.started, s.c.hall_id, s.c.station_id)
                .where(*metrics.where(self.conn, self.f, s)))]
        out: list[tuple[float, str, str]] = self._raw["starts"]
        return out


# -- the tables ---------------------------------------------------------------------------

def _visits(c: _Context) -> list[tuple[Any, ...]]:
    v = c.shown("visits")
    po, end, dw = c.shown("per_open_hour"), c.shown("end"), c.shown("dwell")
    return [(v, po["open_hours"], po["rate"], end["reached"], end["share"], dw["n"],
             dw["median"], _rate(c.shown("attraction")))]


def _rate(attraction: Any) -> Any:
    """The rate of an attraction part ({"visits", "passers", "rate"} or None)."""
    return None if attraction is None else attraction["rate"]


def _by_day(c: _Context) -> list[tuple[Any, ...]]:
    days: Counter[dt.date] = Counter()
    zones: dict[str, dt.tzinfo] = {}
    for wall, hall, _st in c.starts():
        tz = zones.get(hall) or zones.setdefault(hall, _zone(c.halls.get(hall, {})))
        days[dt.datetime.fromtimestamp(wall, tz).date()] += 1
    first = c.f.start or (min(days) if days else None)
    last = c.f.end or (max(days) if days else None)
    if first is None or last is None:
        return []
    every = {}
    day = first
    while day <= last:
        every[day.isoformat()] = days.get(day, 0)
        day += dt.timedelta(days=1)
    shown = privacy.suppress_breakdown(sum(days.values()), every, c.k)
    return [(dt.date.fromisoformat(d), shown[d]) for d in every]


def _zone(hall: Mapping[str, Any]) -> dt.tzinfo:
    """The hall's time zone (UTC when it has none the hub can read, as the metrics do)."""
    try:
        return hours.zone(str(hall.get("timezone") or "UTC"))
    except ConfigError:
        return dt.UTC


def _hall_parts(c: _Context) -> tuple[dict[str, int], dict[str, int | Suppressed]]:
    parts = {h: 0 for h in c.halls if c.f.hall is None or h == c.f.hall}
    if c.f.station is not None or c.f.exhibit is not None or c.f.version is not None:
        parts = {}
    for _w, hall, _st in c.starts():
        parts[hall] = parts.get(hall, 0) + 1
    return parts, privacy.suppress_breakdown(sum(parts.values()), parts, c.k)


def _by_hall(c: _Context) -> list[tuple[Any, ...]]:
    _parts, shown = _hall_parts(c)
    return [(h, shown[h]) for h in sorted(shown)]


def _by_station(c: _Context) -> list[tuple[Any, ...]]:
    hall_counts, hall_shown = _hall_parts(c)
    per: dict[str, dict[str, int]] = {h: {} for h in hall_counts}
    if c.f.exhibit is None and c.f.version is None:  # stations without a visit count too
        st = t.stations
        q = select(st.c.id, st.c.hall_id)
        if c.f.hall is not None:
            q = q.where(st.c.hall_id == c.f.hall)
        if c.f.station is not None:
            q = q.where(st.c.id == c.f.station)
        for sid, hid in c.conn.execute(q):
            per.setdefault(str(hid), {}).setdefault(str(sid), 0)
    for _w, hall, station in c.starts():
        d = per.setdefault(hall, {})
        d[station] = d.get(station, 0) + 1
    rows: list[tuple[Any, ...]] = []
    for hall in sorted(per):
        parts = per[hall]
        if isinstance(hall_shown.get(hall), Suppressed):
            # the hall's total is hidden: its stations would add up to it
            shown: Mapping[str, Any] = {s: (Suppressed(c.k) if n else 0)
                                        for s, n in parts.items()}
        else:
            shown = privacy.suppress_breakdown(sum(parts.values()), parts, c.k)
        rows.extend((hall, s, shown[s]) for s in sorted(parts))
    return rows


def _dwell(c: _Context) -> list[tuple[Any, ...]]:
    d = c.shown("dwell")
    return [(float(step), share) for step, share in d["survival"]]


def _funnel(c: _Context) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for (ex, ver), scenes in sorted(c.shown("funnel").items()):
        out.extend((ex, ver, r["scene"], r["entered"], r["left"]) for r in scenes)
    return out


def _quiz(c: _Context) -> list[dict[str, Any]]:
    raw = c.raw("sections").get("quiz") or []
    shown = privacy.suppress_report({"visits": c.raw("visits"),
                                     "sections": {"quiz": raw}}, c.k)["sections"]["quiz"]
    return shown if isinstance(shown, list) else []


def _questions(c: _Context) -> list[tuple[Any, ...]]:
    return [(q["exhibit"], q["version"], q["scene"], q["question"], q["n"], q["correct"],
             q["share"], q["discrimination"], q["discrimination_n"]) for q in _quiz(c)]


def _wrong(c: _Context) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for q in _quiz(c):
        if isinstance(q["wrong"], Suppressed):
            continue
        for rank, (choices, n) in enumerate(q["wrong"], 1):
            out.append((q["exhibit"], q["version"], q["scene"], q["question"], rank,
                        ",".join(choices), n))
    return out


def _gain(c: _Context) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for g in c.shown("gain"):
        ci = g["interval"]
        lo, hi = (ci, ci) if isinstance(ci, Suppressed) else (ci or (None, None))
        out.append((g["exhibit"], g["version"], g["measure"], g["max"], g["n"], g["took_pre"],
                    g["took_post"], g["visits"], g["share_both"], g["gain"], lo, hi))
    return out


def _languages(c: _Context) -> list[tuple[Any, ...]]:
    return [(lang, n) for lang, n in sorted(c.shown("languages").items())]


def _heatmap(c: _Context) -> list[tuple[Any, ...]]:
    return [(d + 1, WEEKDAYS[d], h, n) for d, row in enumerate(c.shown("heatmap"))
            for h, n in enumerate(row)]


def _attraction(c: _Context) -> list[tuple[Any, ...]]:
    a = c.shown("attraction")
    return [(c.shown("visits"), None if a is None else a["passers"], _rate(a))]


def _section(c: _Context, name: str) -> list[dict[str, Any]]:
    """A scene type's report section after suppression."""
    raw = c.raw("sections").get(name) or []
    shown = privacy.suppress_report({"visits": c.raw("visits"),
                                     "sections": {name: raw}}, c.k)["sections"][name]
    return shown if isinstance(shown, list) else []


def _asks(c: _Context) -> list[tuple[Any, ...]]:
    return [(a["part"], a["outcome"], a["entry"], a["questions"], a["visits"], a["share"])
            for a in _section(c, "ask")]


def _contests(c: _Context) -> list[tuple[Any, ...]]:
    return [(q["exhibit"], q["version"], q["competition"], q["question"], q["answered"],
             q["right"], q["share"], q["median_s"]) for q in _section(c, "competition")]


def _utc(wall: Any) -> str | None:
    if wall is None:
        return None
    return dt.datetime.fromtimestamp(float(wall), dt.UTC).isoformat(timespec="seconds")


def _competitions(c: _Context) -> list[tuple[Any, ...]]:
    r = t.competition_results
    out: list[tuple[Any, ...]] = []
    for row in c.conn.execute(select(r).where(*metrics.where(c.conn, c.f, r))
                              .order_by(r.c.started, r.c.station_id, r.c.seq)):
        board = row.board if isinstance(row.board, list) else []
        first = next((b for b in board if isinstance(b, dict) and b.get("rank") == 1), None)
        out.append((row.hall_id, row.station_id, row.exhibit, row.version, row.competition,
                    row.final, _utc(row.started), _utc(row.ended), int(row.asked),
                    int(row.teams), None if first is None else
                    str(first.get("name") or first.get("team") or "")))
    return out


def _unused(c: _Context) -> list[tuple[Any, ...]]:
    if c.f.start is None or c.f.end is None:
        c.notes.append("unused: alive-but-unused hours need a start and an end date; the "
                       "table has no rows")
        return []
    hours = metrics.unused_hours(c.conn, c.f)
    st = t.stations
    hall_of = {str(s): str(h) for s, h in c.conn.execute(select(st.c.id, st.c.hall_id))}
    return [(hall_of.get(s, ""), s, h["alive_open"], h["unused"]) for s, h in sorted(hours.items())]


_NUM = "#the-numbers"
SPECS: tuple[Spec, ...] = (
    Spec("visits", "the whole filter", (
        _c("visits"), _c("open_hours", "float", False), _c("visits_per_open_hour", "float"),
        _c("reached_end"), _c("end_share", "float"), _c("dwell_n"),
        _c("dwell_median_s", "float"), _c("attraction", "float")), DOC + _NUM, _visits),
    Spec("visits_by_day", "a day in the hall's time zone", (
        Column("day", "date"), _c("visits")), DOC + "#filters-and-days", _by_day),
    Spec("visits_by_hall", "a hall", (_key("hall"), _c("visits")), DOC + _NUM, _by_hall),
    Spec("visits_by_station", "a station", (_key("hall"), _key("station"), _c("visits")),
         DOC + _NUM, _by_station),
    Spec("dwell", "a point of the survival curve", (
        _c("after_s", "float", False), _c("share_still_engaged", "float")), DOC + _NUM, _dwell),
    Spec("funnel", "a scene of an exhibit version", (
        _key("exhibit"), _key("version"), _key("scene"), _c("entered"), _c("left")),
        DOC + _NUM, _funnel),
    Spec("questions", "a question of a quiz scene of an exhibit version", (
        _key("exhibit"), _key("version"), _key("scene"), _key("question"), _c("takers"),
        _c("correct"), _c("share_correct", "float"), _c("discrimination", "float"),
        _c("discrimination_n")), DOC + _NUM, _questions),
    Spec("wrong_answers", "one of a question's three most chosen wrong answers", (
        _key("exhibit"), _key("version"), _key("scene"), _key("question"),
        _c("rank", "int", False), _key("choices"), _c("visits")), DOC + _NUM, _wrong),
    Spec("gain", "a learning measure of an exhibit version", (
        _key("exhibit"), _key("version"), _key("measure"), _c("max", "float", False),
        _c("pairs"), _c("took_pre"), _c("took_post"), _c("visits"), _c("share_both", "float"),
        _c("gain", "float"), _c("gain_low", "float"), _c("gain_high", "float")),
        DOC + _NUM, _gain),
    Spec("languages", "a language", (_key("lang"), _c("visits")), DOC + _NUM, _languages),
    Spec("heatmap", "an hour of a weekday in the hall's time zone", (
        _c("weekday", "int", False), _key("weekday_name"), _c("hour", "int", False),
        _c("visits")), DOC + _NUM, _heatmap),
    Spec("attraction", "the whole filter", (
        _c("visits"), _c("passers_by", "int", False), _c("attraction", "float")),
        DOC + _NUM, _attraction),
    Spec("unused", "a station", (
        _key("hall"), _key("station"), _c("alive_open_hours", "int", False),
        _c("unused_hours", "int", False)), DOC + _NUM, _unused),
    Spec("asks", "all questions asked at ask terminals, an outcome, or one of the most "
         "asked entries", (
             _key("part"), _key("outcome"), _key("entry"), _c("questions"), _c("visits"),
             _c("share", "float")), DOC + "#a-scene-types-own-section", _asks),
    Spec("competition_questions", "a question of a knowledge competition of an exhibit "
         "version (teams' answers, apart from visits)", (
             _key("exhibit"), _key("version"), _key("competition"), _key("question"),
             _c("teams_answered"), _c("right"), _c("share_right", "float"),
             _c("median_s_to_right", "float")),
         DOC + "#a-scene-types-own-section", _contests, apart=True),
    Spec("competitions", "a knowledge competition a station ran", (
        _key("hall"), _key("station"), _key("exhibit"), _key("version"),
        _key("competition"), _key("final"), _key("started_utc"), _key("ended_utc"),
        _c("questions", "int", False), _c("teams", "int", False), _key("winner")),
        DOC + "#a-scene-types-own-section", _competitions, apart=True),
)
NAMES = tuple(s.name for s in SPECS)
_BY_NAME = {s.name: s for s in SPECS}


def parse_day(value: str, name: str) -> dt.date:
    """A day written YYYY-MM-DD; a ReportError naming the option otherwise."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise metrics.ReportError(f"{name} '{value[:40]}' is not a day; write it as "
                                  "YYYY-MM-DD, e.g. 2026-11-01") from None


def check_table(name: str) -> Spec:
    """The table called ``name``; a ReportError naming the tables there are otherwise."""
    spec = _BY_NAME.get(name)
    if spec is None:
        raise metrics.ReportError(f"there is no table '{name[:60]}' to export; the tables "
                                  f"are {', '.join(NAMES)}")
    return spec


def tables(conn: Connection, f: metrics.Filter, k: int,
           names: Iterable[str] | None = None) -> dict[str, Table]:
    """Every table (or those named), suppressed with k: name → (columns, rows)."""
    privacy.check_k(k)
    specs = [check_table(n) for n in names] if names is not None else list(SPECS)
    return _build(_Context(conn, f, k), specs)


def _build(ctx: _Context, specs: Iterable[Spec]) -> dict[str, Table]:
    """The tables; all of them without rows when the filter has no visits at all."""
    if ctx.raw("visits") == 0:
        ctx.notes.append("there are no visits for these filters: every table of visits "
                         "is empty")
        return {s.name: Table(s.columns, s.build(ctx) if s.apart else [])
                for s in specs}
    return {s.name: Table(s.columns, s.build(ctx)) for s in specs}


# -- writing ------------------------------------------------------------------------------

def csv_text(value: Any) -> str:
    """A cell as CSV text: ``< k`` when hidden, empty when there is no number."""
    if isinstance(value, Suppressed):
        return str(value)
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_csv(table: Table, out: IO[str]) -> None:
    """The table as CSV (RFC 4180, a header row, ``\\r\\n`` line ends)."""
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([c.name for c in table.columns])
    for row in table.rows:
        w.writerow([csv_text(v) for v in row])


def csv_bytes(table: Table) -> bytes:
    buf = io.StringIO()
    write_csv(table, buf)
    return buf.getvalue().encode("utf-8")


def _arrow(table: Table) -> Any:
    import pyarrow as pa

    kinds = {"string": pa.string(), "int": pa.int64(), "float": pa.float64(),
             "bool": pa.bool_(), "date": pa.date32()}
    arrays, fields = [], []
    for i, col in enumerate(table.columns):
        values = [row[i] for row in table.rows]
        hidden = [isinstance(v, Suppressed) for v in values]
        plain = [None if h or v is None or (isinstance(v, float) and not math.isfinite(v))
                 else (float(v) if col.type == "float" else v)
                 for v, h in zip(values, hidden, strict=True)]
        arrays.append(pa.array(plain, type=kinds[col.type]))
        fields.append(pa.field(col.name, kinds[col.type]))
        if col.hideable:
            arrays.append(pa.array(hidden, type=pa.bool_()))
            fields.append(pa.field(f"{col.name}_suppressed", pa.bool_(), nullable=False))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(table: Table, out: str | Path | IO[bytes]) -> None:
    """The table as Parquet: hidden cells null, with ``<column>_suppressed`` true."""
    import pyarrow.parquet as pq

    pq.write_table(_arrow(table), out)


def parquet_bytes(table: Table) -> bytes:
    buf = io.BytesIO()
    write_parquet(table, buf)
    return buf.getvalue()


def _filter_json(f: metrics.Filter) -> dict[str, Any]:
    return {"hall": f.hall, "station": f.station, "exhibit": f.exhibit, "version": f.version,
            "start": f.start.isoformat() if f.start else None,
            "end": f.end.isoformat() if f.end else None}


def manifest(f: metrics.Filter, k: int, made: Mapping[str, Table], formats: Sequence[str],
             generated_at: dt.datetime, notes: Sequence[str] = ()) -> dict[str, Any]:
    """What an export contains (``manifest.json``)."""
    visits = made["visits"].rows[0][0] if "visits" in made and made["visits"].rows else 0
    return {
        "generated_at": generated_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "filters": _filter_json(f),
        "k": k,
        "visits": privacy.to_json(visits),
        "suppressed": f"a cell counting fewer than {k} visits (or computed from one) is "
                      f"'< {k}' in CSV; null in Parquet, with <column>_suppressed true",
        "tables": [{"name": name, "row": _BY_NAME[name].row,
                    "files": [f"{name}.{fmt}" for fmt in formats],
                    "rows": len(tbl.rows), "definition": _BY_NAME[name].definition,
                    "columns": [{"name": c.name, "type": c.type, "can_be_suppressed": c.hideable}
                                for c in tbl.columns]}
                   for name, tbl in made.items()],
        "notes": list(notes),
    }


def readme(m: Mapping[str, Any]) -> str:
    """``README.txt``: the manifest in words."""
    flt = ", ".join(f"{k}={v}" for k, v in m["filters"].items() if v) or "none (everything)"
    visits = m["visits"]
    if isinstance(visits, dict):
        visits = f"< {visits['below']}"
    lines = [
        "showfloor report export",
        "",
        f"Generated: {m['generated_at']}",
        f"Filters: {flt}",
        f"Visits: {visits}",
        f"Small numbers: {m['suppressed']}.",
        "Definitions of every number: docs/reports.md of showfloor (section 'Exports').",
        "",
    ]
    for tbl in m["tables"]:
        cols = ", ".join(c["name"] for c in tbl["columns"])
        lines += [f"{' / '.join(tbl['files'])}: one row per {tbl['row']}; {tbl['rows']} rows",
                  f"  columns: {cols}", f"  defined in: {tbl['definition']}"]
    for note in m["notes"]:
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def export(conn: Connection, f: metrics.Filter, k: int, to: Mapping[str, Path], *,
           generated_at: dt.datetime | None = None) -> dict[str, dict[str, Any]]:
    """Write every table, ``manifest.json`` and ``README.txt`` per format into its folder.

    ``to`` maps a format (csv, parquet) to a folder (made if missing; both may be the
    same). The tables are computed once. Returns each folder's manifest by format.
    """
    for fmt in to:
        if fmt not in FORMATS:
            raise metrics.ReportError(f"'{fmt}' is not an export format; use csv or parquet")
    privacy.check_k(k)
    ctx = _Context(conn, f, k)
    made = _build(ctx, SPECS)
    when = generated_at or dt.datetime.now(dt.UTC)
    folders: dict[Path, list[str]] = {}
    for fmt, folder in to.items():
        folders.setdefault(folder, []).append(fmt)
    out: dict[str, dict[str, Any]] = {}
    for folder, formats in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        for name, tbl in made.items():
            if "csv" in formats:
                (folder / f"{name}.csv").write_bytes(csv_bytes(tbl))
            if "parquet" in formats:
                write_parquet(tbl, folder / f"{name}.parquet")
        m = manifest(f, k, made, formats, when, ctx.notes)
        (folder / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=1)
                                              + "\n", encoding="utf-8")
        (folder / "README.txt").write_text(readme(m), encoding="utf-8")
        out.update(dict.fromkeys(formats, m))
    return out


__all__ = ["FORMATS", "NAMES", "SPECS", "Column", "Table", "check_table", "csv_bytes", "csv_text",
           "export", "manifest", "parquet_bytes", "parse_day", "tables", "write_csv",
           "write_parquet"]
