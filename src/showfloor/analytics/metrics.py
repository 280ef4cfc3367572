"""Report metrics over the hub's visit summaries (definitions: docs/reports.md).

Every metric takes a connection to the hub's database and a :class:`Filter` (hall,
station, exhibit, exhibit version, a range of days in each hall's own time zone) and
reads the report rollups (``hub/rollups.py``: the visit summaries summed per hall,
exhibit version and day or month, kept by ``hub/summaries.py``); a filter on one
station sums that station's ``session_summaries`` / ``session_answers`` the same way.
The arithmetic is in small pure functions (:func:`median_of_counts`,
:func:`hake_gain`, :func:`bootstrap_counts`, :func:`discrimination_counts`, …; the
per-visit definitions :func:`bootstrap_gain` and :func:`discrimination` beside them)
so the definitions can be tested by hand.

Learning and per-question results are grouped by exhibit **version**: a quiz that
changed between versions is never mixed. A scene type adds its own part of a report
through :data:`SECTIONS` (the quiz's per-question table, the ask terminal's
questions, :func:`asks`, and the competitions' questions, :func:`contests`, counted
apart from the visits).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    and_,
    false,
    func,
    or_,
    select,
)

from showfloor import hours
from showfloor.errors import ConfigError, ShowfloorError
from showfloor.hub import db as t
from showfloor.hub import rollups

#: seconds at which the survival curve is read
SURVIVAL_STEPS = (0, 15, 30, 60, 90, 120, 180, 240, 300, 420, 600, 900, 1200, 1800)
#: the share of a question's takers in each of the upper and lower groups
DISCRIMINATION_SHARE = 0.27
#: bootstrap resamples and seed (the same data always gives the same interval)
RESAMPLES = 2000
SEED = 20261204
#: the longest date range a report covers (days)
MAX_DAYS = 3700


class ReportError(ShowfloorError):
    """A report asked for something it cannot answer (a reversed range, an unknown hall)."""


@dataclass(frozen=True)
class Filter:
    """Which visits a report counts; days are inclusive, in each hall's time zone."""

    hall: str | None = None
    station: str | None = None
    exhibit: str | None = None
    version: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


# -- pure arithmetic ---------------------------------------------------------------------

def median(values: Sequence[float]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None if empty."""
    xs = sorted(values)
    n = len(xs)
    if not n:
        return None
    mid = n // 2
    return float(xs[mid]) if n % 2 else (xs[mid - 1] + xs[mid]) / 2


def survival(dwells: Sequence[float], steps: Iterable[float] = SURVIVAL_STEPS
             ) -> list[tuple[float, float]]:
    """(t, share of visits whose dwell is more than t) at each step."""
    n = len(dwells)
    return [(float(s), (sum(1 for d in dwells if d > s) / n) if n else 0.0) for s in steps]


def hake_gain(pairs: Sequence[tuple[float, float]], maximum: float) -> float | None:
    """Class-average normalized gain ⟨g⟩ = (⟨post⟩ − ⟨pre⟩) / (max − ⟨pre⟩); None if undefined."""
    if not pairs:
        return None
    pre = sum(p for p, _ in pairs) / len(pairs)
    post = sum(q for _, q in pairs) / len(pairs)
    if maximum - pre <= 0:
        return None
    return (post - pre) / (maximum - pre)


def bootstrap_gain(pairs: Sequence[tuple[float, float]], maximum: float, *,
                   resamples: int = RESAMPLES, seed: int = SEED
                   ) -> tuple[float, float] | None:
    """The 95 % percentile interval of ⟨g⟩ over visits resampled with replacement."""
    n = len(pairs)
    if n < 2:
        return None
    rng = random.Random(seed)
    pre = [p for p, _ in pairs]
    post = [q for _, q in pairs]
    gains: list[float] = []
    if all(float(x).is_integer() and x >= 0 for x in pre + post):
        # whole scores (the usual case): each pair packed in one integer, pre × base +
        # post, so one sum of a resample gives both sums (base > any sum of posts)
        base = int(max(post)) * n + 1
        packed = [int(a) * base + int(b) for a, b in zip(pre, post, strict=True)]
        for _ in range(resamples):
            sum_pre, sum_post = divmod(sum(rng.choices(packed, k=n)), base)
            a = sum_pre / n
            if maximum - a <= 0:
                continue  # this resample has no room to gain: ⟨g⟩ undefined, left out
            gains.append((sum_post / n - a) / (maximum - a))
    else:
        every = range(n)
        for _ in range(resamples):
            idx = rng.choices(every, k=n)
            a = sum(map(pre.__getitem__, idx)) / n
            if maximum - a <= 0:
                continue
            gains.append((sum(map(post.__getitem__, idx)) / n - a) / (maximum - a))
    if not gains:
        return None
    gains.sort()
    return _percentile(gains, 2.5), _percentile(gains, 97.5)


def _percentile(xs: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), xs sorted."""
    k = (len(xs) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def group_size(n: int, share: float = DISCRIMINATION_SHARE) -> int:
    """How many takers make the upper (and the lower) group: round(share × n), at least 1."""
    return max(1, math.floor(share * n + 0.5))


def discrimination(takers: Sequence[tuple[str, float, bool]]) -> float | None:
    """D = p(upper) − p(lower) from (visit, quiz total, answered right) per taker.

    Takers are ordered by quiz total (ties by visit id); the upper and lower groups
    are the top and bottom :func:`group_size` of them. None under 2 takers.
    """
    n = len(takers)
    if n < 2:
        return None
    k = min(group_size(n), n // 2)
    ranked = sorted(takers, key=lambda x: (x[1], x[0]))
    lower, upper = ranked[:k], ranked[-k:]
    return sum(c for *_, c in upper) / k - sum(c for *_, c in lower) / k


def open_hours_between(opening: Mapping[str, str], first: dt.date, last: dt.date) -> float:
    """Hours open from day ``first`` to ``last`` inclusive (a range counts on its start day)."""
    if last < first:
        return 0.0
    days = (last - first).days + 1
    if not opening:
        return 24.0 * days
    week = hours.parse(opening)
    per_day = [sum(b - a for a, b in week.get(wd, [])) / 60 for wd in range(7)]
    # whole weeks, then the days left over from the first day's weekday on
    total = sum(per_day) * (days // 7)
    for i in range(days % 7):
        total += per_day[(first.weekday() + i) % 7]
    return total


def heat(starts: Iterable[tuple[float, str]]) -> list[list[int]]:
    """Visits per weekday (0 = Monday) × hour, each start read in its hall's time zone."""
    grid = [[0] * 24 for _ in range(7)]
    zones: dict[str, dt.tzinfo] = {}
    for wall, tz in starts:
        zone = zones.get(tz) or zones.setdefault(tz, _zone(tz))
        local = dt.datetime.fromtimestamp(wall, zone)
        grid[local.weekday()][local.hour] += 1
    return grid


def _zone(name: str) -> dt.tzinfo:
    try:
        return hours.zone(name)
    except ConfigError:
        return dt.UTC


# -- the filter in SQL ---------------------------------------------------------------------

def _halls(conn: Connection) -> dict[str, dict[str, Any]]:
    return {r.id: dict(r._mapping) for r in conn.execute(
        select(t.halls.c.id, t.halls.c.timezone, t.halls.c.opening_hours))}


def _day_bounds(tz: str, first: dt.date | None, last: dt.date | None
                ) -> tuple[float | None, float | None]:
    zone = _zone(tz)
    lo = dt.datetime.combine(first, dt.time(), zone).timestamp() if first else None
    hi = (dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone).timestamp()
          if last else None)
    return lo, hi


def check(conn: Connection, f: Filter) -> dict[str, dict[str, Any]]:
    """The halls (id → row); a :class:`ReportError` for a range or hall that cannot be."""
    if f.start and f.end and f.start > f.end:
        raise ReportError(f"the report starts on {f.start} but ends before, on {f.end}; "
                          "swap the two dates")
    if f.start and f.end and (f.end - f.start).days > MAX_DAYS:
        raise ReportError(f"a report covers at most {MAX_DAYS} days, not "
                          f"{(f.end - f.start).days + 1}; choose a shorter range")
    halls = _halls(conn)
    if f.hall is not None and f.hall not in halls:
        raise ReportError(f"there is no hall '{f.hall}'; the hub knows "
                          f"{', '.join(sorted(halls)) or 'no halls yet'}")
    return halls


def where(conn: Connection, f: Filter, table: Any) -> list[ColumnElement[bool]]:
    """The conditions on ``session_summaries`` or ``session_answers`` for this filter."""
    c = table.c
    halls = check(conn, f)
    conds: list[ColumnElement[bool]] = []
    if f.hall is not None:
        conds.append(c.hall_id == f.hall)
    if f.station is not None:
        conds.append(c.station_id == f.station)
    if f.exhibit is not None:
        conds.append(c.exhibit == f.exhibit)
    if f.version is not None:
        conds.append(c.version == f.version)
    if f.start or f.end:
        per_hall = []
        for hid, hall in halls.items():
            if f.hall is not None and hid != f.hall:
                continue
            lo, hi = _day_bounds(str(hall["timezone"]), f.start, f.end)
            cond = [c.hall_id == hid]
            if lo is not None:
                cond.append(c.started >= lo)
            if hi is not None:
                cond.append(c.started < hi)
            per_hall.append(and_(*cond))
        conds.append(or_(*per_hall) if per_hall else false())
    return conds


# -- where the numbers come from ---------------------------------------------------------

def periods(f: Filter, table: Table, *, region: bool = False) -> ColumnElement[bool]:
    """The rows of a rollup (hub/rollups.py) that make up the filter's days: whole
    months' rows (``region``: those summed over every hall) and the days at the two
    ends of the range.
    """
    g, day = table.c.grain, table.c.day
    month = and_(g == "m", (table.c.hall_id == rollups.REGION) if region
                 else (table.c.hall_id != rollups.REGION))
    lo, hi = f.start, f.end
    if lo is None and hi is None:
        return month
    # the whole months inside the range: [m0, m1)
    m0 = None if lo is None else lo if lo.day == 1 else _next_month(lo)
    after = None if hi is None else hi + dt.timedelta(days=1)
    m1 = None if after is None else after if after.day == 1 else after.replace(day=1)
    if m0 is not None and m1 is not None and m0 >= m1:  # no whole month: days only
        return and_(g == "d", *_between(day, lo, hi))
    parts = [and_(month, *_between(day, m0, None if m1 is None else
                                   m1 - dt.timedelta(days=1)))]
    if lo is not None and m0 is not None and lo < m0:
        parts.append(and_(g == "d", day >= lo, day < m0))
    if hi is not None and m1 is not None and m1 <= hi:
        parts.append(and_(g == "d", day >= m1, day <= hi))
    return or_(*parts)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _between(col: Any, lo: dt.date | None, hi: dt.date | None) -> list[ColumnElement[bool]]:
    out = []
    if lo is not None:
        out.append(col >= lo)
    if hi is not None:
        out.append(col <= hi)
    return out


def _sums(conn: Connection, f: Filter, name: str, by: Sequence[str]
          ) -> list[tuple[Any, ...]]:
    """Rows of (*by, *sums, *least) of one rollup (hub/rollups.py) for the filter.

    A filter on one station reads that station's visit summaries instead (the rollups
    sum whole halls) and sums them the same way.
    """
    r = rollups.ROLLUPS[name]
    if f.station is not None:
        return _station_sums(conn, f, name, by)
    check(conn, f)
    c = r.table.c
    # a region (no hall) reads the month rows summed over every hall, unless split by hall
    conds = [periods(f, r.table, region=f.hall is None and "hall_id" not in by)]
    if f.hall is not None:
        conds.append(c.hall_id == f.hall)
    if f.exhibit is not None:
        conds.append(c.exhibit == f.exhibit)
    if f.version is not None:
        conds.append(c.version == f.version)
    q = (select(*[c[b] for b in by], *[func.coalesce(func.sum(c[x]), 0) for x in r.sums],
                *[func.min(c[x]) for x in r.least]).where(*conds))
    if by:
        q = q.group_by(*[c[b] for b in by]).having(
            or_(*[func.sum(c[x]) != 0 for x in r.sums]))
    return [tuple(row) for row in conn.execute(q)]


def _station_delta(conn: Connection, f: Filter) -> rollups.Delta:
    """The filter's visits summed as the rollups sum them (straight from the summaries)."""
    s, a = t.session_summaries, t.session_answers
    zones = {hid: rollups.zone(h["timezone"]) for hid, h in check(conn, f).items()}
    rows = [dict(r._mapping) for r in conn.execute(select(s).where(*where(conn, f, s)))]
    answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ans in conn.execute(select(a).where(*where(conn, f, a))):
        answers[ans.session].append(dict(ans._mapping))
    delta = rollups.new_delta()
    for row in rows:
        rollups.add_visit(delta, row, answers.get(row["session"], []),
                          zones.get(row["hall_id"], dt.UTC))
    c = t.competition_results
    for r in conn.execute(select(c).where(*where(conn, f, c))):
        comp = dict(r._mapping)
        rollups.add_competition(delta, comp, zones.get(comp["hall_id"], dt.UTC))
    return delta


#: while :func:`report` runs: a station filter's sums, read once for every metric
_REPORT: ContextVar[dict[Filter, rollups.Delta] | None] = ContextVar("report", default=None)


def _station_sums(conn: Connection, f: Filter, name: str, by: Sequence[str]
                  ) -> list[tuple[Any, ...]]:
    cache = _REPORT.get()
    delta = cache.get(f) if cache is not None else None
    if delta is None:
        delta = _station_delta(conn, f)
        if cache is not None:
            cache[f] = delta
    r = rollups.ROLLUPS[name]
    n = len(r.sums)
    idx = [r.columns.index(b) for b in by]
    out: dict[tuple[Any, ...], list[int]] = {}
    for key, values in delta[name].items():
        k = tuple(key[i] for i in idx)
        have = out.get(k)
        if have is None:
            out[k] = list(values)
            continue
        for i in range(n):
            have[i] += values[i]
        for i in range(n, len(values)):
            have[i] = min(have[i], values[i])
    return [(*k, *v) for k, v in out.items() if any(v[:n])]


# -- the metrics ---------------------------------------------------------------------------

def visits(conn: Connection, f: Filter) -> int:
    """Visits (sessions) started in the range."""
    return sum(int(n) for (n, *_) in _sums(conn, f, "visits", ()))


def visits_by(conn: Connection, f: Filter, by: str) -> dict[str, int]:
    """Visits per hall, station, exhibit or version (``hall_id``, ``station_id``,
    ``exhibit``, ``version``) for the filter: the parts of :func:`visits`.
    """
    if by not in ("hall_id", "station_id", "exhibit", "version"):
        raise ReportError(f"visits can be split by hall_id, station_id, exhibit or "
                          f"version, not '{by}'")
    return {str(key): int(n) for key, n, *_ in _sums(conn, f, "visits", (by,))}


def end_share(conn: Connection, f: Filter) -> dict[str, Any]:
    """Visits that reached an end: n, reached, share."""
    rows = _sums(conn, f, "visits", ())
    n, reached = (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)
    return {"n": n, "reached": reached, "share": reached / n if n else None}


def median_of_counts(counts: Iterable[tuple[float, int]]) -> float | None:
    """:func:`median` of values given as (value, how many times)."""
    xs = sorted((float(v), int(n)) for v, n in counts if n > 0)
    total = sum(n for _, n in xs)
    if not total:
        return None

    def at(i: int) -> float:  # the i-th value (0-based) in order
        seen = 0
        for v, n in xs:
            seen += n
            if i < seen:
                return v
        return xs[-1][0]

    mid = total // 2
    return at(mid) if total % 2 else (at(mid - 1) + at(mid)) / 2


def dwell(conn: Connection, f: Filter, steps: Iterable[float] = SURVIVAL_STEPS
          ) -> dict[str, Any]:
    """Dwell of the visits that ended (whole seconds, rounded up): n, median, survival."""
    counts = [(int(sec), int(n)) for sec, n in _sums(conn, f, "dwell", ("seconds",))]
    n = sum(k for _, k in counts)
    curve = [(float(x), (sum(k for sec, k in counts if sec > x) / n) if n else 0.0)
             for x in steps]
    return {"n": n, "median": median_of_counts(counts), "survival": curve}


def languages(conn: Connection, f: Filter) -> dict[str, int]:
    """Visits per language (the one each visit ended in); unknown as ''."""
    return {str(lang): int(n) for lang, n in _sums(conn, f, "langs", ("lang",))}


def heatmap(conn: Connection, f: Filter) -> list[list[int]]:
    """Visits per weekday × hour of the day, in each visit's hall's time zone."""
    grid = [[0] * 24 for _ in range(7)]
    for wd, h, n in _sums(conn, f, "hours", ("weekday", "hour")):
        grid[int(wd)][int(h)] += int(n)
    return grid


def _stations(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    st = t.stations
    q = select(st.c.id, st.c.hall_id, st.c.opening_hours, st.c.enrolled, st.c.revoked)
    if f.hall is not None:
        q = q.where(st.c.hall_id == f.hall)
    if f.station is not None:
        q = q.where(st.c.id == f.station)
    rows = [dict(r._mapping) for r in conn.execute(q)]
    if f.exhibit is not None or f.version is not None:  # the stations that ran it
        ran = {str(sid) for sid, *_ in _sums(conn, f, "visits", ("station_id",))}
        rows = [r for r in rows if r["id"] in ran]
    return rows


def open_hours(conn: Connection, f: Filter) -> float:
    """Hours the filter's stations were open in the range (their own hours, else the hall's).

    Without a start or an end, the range runs from the first to the last visit.
    """
    halls = check(conn, f)
    stations = _stations(conn, f)
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    if f.start is None or f.end is None:  # each station's first and last day of visits
        v = t.report_visits.c
        q = (select(v.station_id, func.min(v.day), func.max(v.day)).where(v.grain == "d")
             .group_by(v.station_id))
        if f.hall is not None:
            q = q.where(v.hall_id == f.hall)
        if f.station is not None:
            q = q.where(v.station_id == f.station)
        spans = {str(sid): (lo, hi) for sid, lo, hi in conn.execute(q)}
    total = 0.0
    for st in stations:
        hall = halls.get(st["hall_id"], {})
        tz = _zone(str(hall.get("timezone") or "UTC"))
        first, last = f.start, f.end
        if first is None or last is None:
            if st["id"] not in spans:
                continue
            lo, hi = spans[st["id"]]
            first, last = first or _as_date(lo), last or _as_date(hi)
        enrolled = dt.datetime.fromtimestamp(float(st["enrolled"]), tz).date()
        first = max(first, enrolled)
        if st["revoked"] is not None:
            last = min(last, dt.datetime.fromtimestamp(float(st["revoked"]), tz).date())
        if first <= last:
            total += open_hours_between(st["opening_hours"] or hall.get("opening_hours") or {},
                                        first, last)
    return total


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def per_open_hour(conn: Connection, f: Filter) -> dict[str, Any]:
    """Visits per open station-hour: visits, open hours, rate (None when never open)."""
    n, h = visits(conn, f), open_hours(conn, f)
    return {"visits": n, "open_hours": h, "rate": n / h if h else None}


def funnel(conn: Connection, f: Filter) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per exhibit version: each scene's visits entering it and leaving there (no end)."""
    out: dict[tuple[str, str], list[tuple[int, int, int, str]]] = defaultdict(list)
    for ex, ver, scene, entered, leaving, pos in _sums(conn, f, "scenes",
                                                       ("exhibit", "version", "scene")):
        out[(str(ex), str(ver))].append((-int(entered), int(pos), int(leaving), str(scene)))
    return {key: [{"scene": sc, "entered": -neg, "left": left}
                  for neg, _pos, left, sc in sorted(rows, key=lambda x: (x[0], x[1]))
                  if neg < 0]
            for key, rows in out.items()}


def discrimination_counts(cells: Iterable[tuple[float, bool, int]]) -> float | None:
    """D from (quiz total, answered right, takers) counts, as :func:`discrimination`.

    The upper and lower groups take whole totals from the top and the bottom; where a
    group's edge falls inside a tie, it takes its share of the tied takers' right
    answers (the expected value over every order of the tie).
    """
    by_total: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for total, right, n in cells:
        by_total[float(total)][0 if right else 1] += int(n)
    n_all = sum(r + w for r, w in by_total.values())
    if n_all < 2:
        return None
    k = min(group_size(n_all), n_all // 2)

    def group(order: list[float]) -> float:
        need, got = k, 0.0
        for total in order:
            r, w = by_total[total]
            take = min(need, r + w)
            got += take * r / (r + w) if r + w else 0.0
            need -= take
            if not need:
                break
        return got

    totals = sorted(by_total)
    return group(totals[::-1]) / k - group(totals) / k


def questions(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    """Per question of each exhibit version: takers, share correct, wrong answers, D."""
    key_cols = ("exhibit", "version", "scene", "question")
    stats: dict[tuple[str, ...], dict[str, Any]] = {}
    for *key, choices, correct, n in _sums(conn, f, "answers", (*key_cols, "choices",
                                                                 "correct")):
        k = tuple(str(x) for x in key)
        q = stats.get(k)
        if q is None:
            q = stats[k] = {"n": 0, "correct": 0, "wrong": Counter(), "items": []}
        q["n"] += int(n)
        if correct:
            q["correct"] += int(n)
        else:
            q["wrong"][tuple(orjson.loads(choices))] += int(n)
    for *key, total, correct, n in _sums(conn, f, "items", (*key_cols, "total", "correct")):
        k = tuple(str(x) for x in key)
        if k in stats and int(total) >= 0:
            stats[k]["items"].append((int(total), bool(correct), int(n)))
    out = []
    for (ex, ver, scene, question), q in sorted(stats.items()):
        out.append({"exhibit": ex, "version": ver, "scene": scene, "question": question,
                    "n": q["n"], "correct": q["correct"], "share": q["correct"] / q["n"],
                    "wrong": [(list(c), k) for c, k in
                              sorted(q["wrong"].items(), key=lambda x: (-x[1], x[0]))[:3]],
                    "discrimination": discrimination_counts(q["items"]),
                    "discrimination_n": sum(n for *_, n in q["items"])})
    return out


def bootstrap_counts(cells: Sequence[tuple[float, float, int]], maximum: float, *,
                     resamples: int = RESAMPLES, seed: int = SEED
                     ) -> tuple[float, float] | None:
    """:func:`bootstrap_gain` from (pre, post, visits) counts: the same resampling of
    visits with replacement, drawn as one multinomial over the distinct pairs (so it
    costs the same for a thousand visits as for a million). None under 2 pairs.
    """
    cells = sorted(c for c in cells if c[2] > 0)  # the same draws whatever the order
    n = sum(int(k) for *_, k in cells)
    if n < 2:
        return None
    import numpy as np

    rng = np.random.default_rng(seed)
    counts = np.array([k for *_, k in cells], dtype=np.float64)
    draws = rng.multinomial(n, counts / counts.sum(), size=resamples)
    pre = draws @ np.array([p for p, _, _ in cells], dtype=np.float64) / n
    post = draws @ np.array([q for _, q, _ in cells], dtype=np.float64) / n
    room = maximum - pre
    ok = room > 0
    if not ok.any():
        return None
    gains = np.sort((post[ok] - pre[ok]) / room[ok])
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return float(lo), float(hi)


def gain(conn: Connection, f: Filter, *, resamples: int = RESAMPLES, seed: int = SEED
         ) -> list[dict[str, Any]]:
    """Per exhibit version and measure: ⟨g⟩, its bootstrap 95 % interval, n, share of both."""
    n_visits: Counter[tuple[str, str]] = Counter()
    for ex, ver, n, *_ in _sums(conn, f, "visits", ("exhibit", "version")):
        n_visits[(str(ex), str(ver))] += int(n)
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for ex, ver, measure, mx, pre, post, n in _sums(
            conn, f, "pairs", ("exhibit", "version", "measure", "maximum", "pre", "post")):
        g = groups.setdefault((str(ex), str(ver), str(measure)),
                              {"cells": [], "pre": 0, "post": 0, "max": 0})
        pre, post, n = int(pre), int(post), int(n)
        g["max"] = max(g["max"], int(mx))
        g["pre"] += n if pre >= 0 else 0
        g["post"] += n if post >= 0 else 0
        if pre >= 0 and post >= 0:
            g["cells"].append((float(pre), float(post), n))
    out = []
    for (ex, ver, measure), g in sorted(groups.items()):
        cells, mx = g["cells"], float(g["max"])
        pairs = sum(k for *_, k in cells)
        visits_n = n_visits[(ex, ver)]
        mean_pre = sum(p * k for p, _, k in cells) / pairs if pairs else 0.0
        mean_post = sum(q * k for _, q, k in cells) / pairs if pairs else 0.0
        out.append({"exhibit": ex, "version": ver, "measure": measure, "max": mx,
                    "n": pairs, "took_pre": g["pre"], "took_post": g["post"],
                    "visits": visits_n, "share_both": pairs / visits_n if visits_n else 0.0,
                    "gain": ((mean_post - mean_pre) / (mx - mean_pre)
                             if pairs and mx - mean_pre > 0 else None),
                    "interval": bootstrap_counts(cells, mx, resamples=resamples, seed=seed)})
    return out


def attraction(conn: Connection, f: Filter) -> float | None:
    """Visits started ÷ people passing, at the stations and on the days a presence
    sensor counted passers-by (``passer_by``); None where none did.
    """
    counts = attraction_counts(conn, f)
    return None if counts is None else float(counts["rate"])


def attraction_counts(conn: Connection, f: Filter) -> dict[str, Any] | None:
    """:func:`attraction` with what it divides: ``visits`` (started at the stations and
    on the days a sensor counted), ``passers`` and ``rate``; None where none counted.
    """
    check(conn, f)
    p, v = t.report_presence.c, t.report_visits.c
    conds: list[ColumnElement[bool]] = []
    if f.hall is not None:
        conds.append(p.hall_id == f.hall)
    if f.station is not None:
        conds.append(p.station_id == f.station)
    conds += _between(p.day, f.start, f.end)
    ran = [v.grain == "d", v.station_id == p.station_id, v.day == p.day]
    if f.exhibit is not None:
        ran.append(v.exhibit == f.exhibit)
    if f.version is not None:
        ran.append(v.version == f.version)
    counted = select(func.sum(p.passers)).where(*conds)
    if f.exhibit is not None or f.version is not None:  # the days it ran that exhibit
        counted = counted.where(select(v.station_id).where(*ran).exists())
    passers = conn.execute(counted).scalar()
    if not passers:
        return None
    started = int(conn.execute(select(func.sum(v.visits)).select_from(
        t.report_visits.join(t.report_presence, and_(*ran[1:])))
        .where(v.grain == "d", *ran[3:], *conds)).scalar() or 0)
    return {"visits": started, "passers": int(passers), "rate": started / int(passers)}


def open_utc_hours(opening: Mapping[str, str], tz: str, first: dt.date, last: dt.date
                   ) -> set[int] | None:
    """The UTC hours (wall // 3600) from day ``first`` to ``last`` whose middle falls in
    the opening hours (as :func:`showfloor.hours.is_open` says); None: always open.
    """
    if not opening:
        return None
    try:
        week = hours.parse(opening)
    except ConfigError:
        return None
    zone = _zone(tz)
    out: set[int] = set()
    day = first - dt.timedelta(days=1)  # yesterday's hours may run past midnight
    while day <= last:
        midnight = dt.datetime.combine(day, dt.time(), zone)
        for a, b in week.get(day.weekday(), []):
            lo = (midnight + dt.timedelta(minutes=a)).timestamp()
            hi = (midnight + dt.timedelta(minutes=b)).timestamp()
            out.update(range(math.ceil((lo - 1800) / 3600), math.ceil((hi - 1800) / 3600)))
        day += dt.timedelta(days=1)
    return out


def _unused_bounds(conn: Connection, f: Filter
                   ) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]],
                              dict[str, tuple[float, float]]]:
    """The halls, the stations and each station's range of days as [lo, hi) walls."""
    halls = check(conn, f)
    if f.start is None or f.end is None:
        raise ReportError("alive-but-unused hours need a start and an end date")
    stations = _stations(conn, f)
    bounds: dict[str, tuple[float, float]] = {}
    for st in stations:
        tz = str(halls.get(st["hall_id"], {}).get("timezone") or "UTC")
        lo, hi = _day_bounds(tz, f.start, f.end)
        assert lo is not None
        assert hi is not None
        bounds[st["id"]] = (lo, hi)
    return halls, stations, bounds


def _opening(halls: Mapping[str, Mapping[str, Any]], st: Mapping[str, Any]
             ) -> tuple[dict[str, str], str]:
    hall = halls.get(st["hall_id"], {})
    return (dict(st["opening_hours"] or hall.get("opening_hours") or {}),
            str(hall.get("timezone") or "UTC"))


def _mask(hours_set: Iterable[int], base: int, top: int) -> int:
    """The hours in [base, top) as a whole number: bit h − base for hour h."""
    bits = bytearray((top - base + 7) // 8)
    for h in hours_set:
        if base <= h < top:
            bits[(h - base) >> 3] |= 1 << ((h - base) & 7)
    return int.from_bytes(bits, "little")


def unused_hours(conn: Connection, f: Filter) -> dict[str, dict[str, int]]:
    """Per station: open hours alive (it reported frame metrics), and those with no visit.

    Hours are whole UTC hours; one counts as open when the station is open at its middle.
    Read from ``station_months`` (one bit per hour of a UTC month, alive and used, kept
    beyond the raw events' retention) as whole-number bit masks; the same numbers as
    :func:`unused_hours_by_rows`, the definition, which reads hour by hour.
    """
    halls, stations, bounds = _unused_bounds(conn, f)
    if not stations:
        return {}
    base = math.floor(min(b[0] for b in bounds.values()) / 3600)
    top = math.ceil(max(b[1] for b in bounds.values()) / 3600)
    sm, s = t.station_months.c, t.session_summaries.c
    alive: dict[str, int] = defaultdict(int)
    used: dict[str, int] = defaultdict(int)
    ids = [st["id"] for st in stations]
    first_month, last_month = rollups.month_of(base)[0], rollups.month_of(top - 1)[0]
    for i in range(0, len(ids), 500):
        for sid, month, a, u in conn.execute(
                select(sm.station_id, sm.month, sm.alive, sm.used)
                .where(sm.station_id.in_(ids[i:i + 500]))
                .where(sm.month >= first_month).where(sm.month <= last_month)):
            shift = rollups.month_start(_as_date(month)) - base
            a_bits, u_bits = int.from_bytes(a, "little"), int.from_bytes(u, "little")
            alive[sid] |= a_bits << shift if shift >= 0 else a_bits >> -shift
            used[sid] |= u_bits << shift if shift >= 0 else u_bits >> -shift
    opened: dict[tuple[str, str], int | None] = {}
    out: dict[str, dict[str, int]] = {}
    for st in stations:
        sid = st["id"]
        lo, hi = bounds[sid]
        first, end = math.floor(lo / 3600), math.ceil(hi / 3600)  # hours [first, end)
        window = ((1 << (end - first)) - 1) << (first - base)
        hrs, tz = _opening(halls, st)
        key = (orjson.dumps(hrs, option=orjson.OPT_SORT_KEYS).decode(), tz)
        if key not in opened:
            assert f.start is not None
            assert f.end is not None
            open_set = open_utc_hours(hrs, tz, f.start, f.end)
            opened[key] = None if open_set is None else _mask(open_set, base, top)
        open_bits = opened[key]
        alive_open = alive[sid] & window & (window if open_bits is None else open_bits)
        # a visit counts in the range's hours only when it started within [lo, hi):
        # the hour holding lo or hi (a zone off the whole hour) is looked at alone
        in_range = used[sid] & window
        for h, a, b in ((first, lo, min(hi, (first + 1) * 3600.0)),
                        (end - 1, max(lo, (end - 1) * 3600.0), hi)):
            if (a, b) == (h * 3600.0, (h + 1) * 3600.0) or not alive_open >> (h - base) & 1:
                continue
            in_range &= ~(1 << (h - base))
            if conn.execute(select(s.session).where(s.station_id == sid)
                            .where(s.started >= a).where(s.started < b).limit(1)).first():
                in_range |= 1 << (h - base)
        out[sid] = {"alive_open": alive_open.bit_count(),
                    "unused": (alive_open & ~in_range).bit_count()}
    return out


def unused_hours_by_rows(conn: Connection, f: Filter) -> dict[str, dict[str, int]]:
    """:func:`unused_hours` by its definition, hour by hour from ``station_hours`` and
    the visits' starts in ``session_summaries`` (slow for a region's year; the tests
    hold the two equal).
    """
    halls, stations, bounds = _unused_bounds(conn, f)
    s, sh = t.session_summaries.c, t.station_hours.c
    alive: dict[str, set[int]] = defaultdict(set)
    used: dict[str, set[int]] = defaultdict(set)
    ids = [st["id"] for st in stations]
    lo_all = min((b[0] for b in bounds.values()), default=0.0)
    hi_all = max((b[1] for b in bounds.values()), default=0.0)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for sid, h in conn.execute(select(sh.station_id, sh.hour)
                                   .where(sh.station_id.in_(chunk))
                                   .where(sh.hour >= math.floor(lo_all / 3600))
                                   .where(sh.hour * 3600 < hi_all)):
            lo, hi = bounds[sid]
            if math.floor(lo / 3600) <= h and h * 3600 < hi:
                alive[sid].add(int(h))
        for sid, w in conn.execute(select(s.station_id, s.started)
                                   .where(s.station_id.in_(chunk))
                                   .where(s.started >= lo_all).where(s.started < hi_all)):
            lo, hi = bounds[sid]
            if lo <= w < hi:
                used[sid].add(int(w // 3600))
    opened: dict[tuple[str, str], set[int] | None] = {}
    out: dict[str, dict[str, int]] = {}
    for st in stations:
        hall = halls.get(st["hall_id"], {})
        hrs = st["opening_hours"] or hall.get("opening_hours") or {}
        tz = str(hall.get("timezone") or "UTC")
        key = (orjson.dumps(hrs, option=orjson.OPT_SORT_KEYS).decode(), tz)
        if key not in opened:
            assert f.start is not None
            assert f.end is not None
            opened[key] = open_utc_hours(hrs, tz, f.start, f.end)
        open_set = opened[key]
        alive_open = alive[st["id"]] if open_set is None else alive[st["id"]] & open_set
        out[st["id"]] = {"alive_open": len(alive_open),
                         "unused": len(alive_open - used[st["id"]])}
    return out


#: the ``asked`` outcomes, in the order the ask section lists them
ASK_OUTCOMES = ("answer", "refused", "safety", "help")
#: the entries the ask section lists (the most asked)
TOP_ENTRIES = 10


def asks(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    """The ask terminal's section: a row for every question asked (``part`` "all"), one
    per outcome, and one per entry of the :data:`TOP_ENTRIES` most asked; each with its
    ``questions``, the ``visits`` that asked at least one of them, and ``share`` (of
    all questions). Empty where no visit asked anything.
    """
    sums: dict[tuple[str, str], tuple[int, int]] = {}
    for outcome, entry, asked, n in _sums(conn, f, "asks", ("outcome", "entry")):
        sums[(str(outcome), str(entry))] = (int(asked), int(n))
    total = sums.get(("", ""), (0, 0))[0]
    if not total:
        return []

    def row(part: str, outcome: str, entry: str) -> dict[str, Any]:
        q, n = sums.get((outcome if part != "all" else "", entry), (0, 0))
        return {"part": part, "outcome": outcome, "entry": entry, "questions": q,
                "visits": n, "share": q / total}

    rows = [row("all", "", "")] + [row("outcome", o, "") for o in ASK_OUTCOMES]
    entries = sorted(((-q, o, e) for (o, e), (q, _) in sums.items() if o and e))
    rows += [row("entry", o, e) for _, o, e in entries[:TOP_ENTRIES]]
    return rows


def contests(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    """The competitions' section, apart from visits: per question of each competition
    (by exhibit version), the teams' ``answered`` (answers taken to it while it was on
    show, in competitions started in the range), ``right``, ``share`` right, and
    ``median_s``, the median time from the reveal to a right answer (whole tenths of a
    second; None without a right answer). Empty where no competition was held.
    """
    stats: dict[tuple[str, ...], dict[str, Any]] = {}
    for *key, correct, tenths, n in _sums(conn, f, "contests", (
            "exhibit", "version", "competition", "question", "correct", "tenths")):
        q = stats.setdefault(tuple(str(x) for x in key),
                             {"answered": 0, "right": 0, "times": []})
        q["answered"] += int(n)
        if correct:
            q["right"] += int(n)
            q["times"].append((int(tenths), int(n)))
    out = []
    for (ex, ver, comp, question), q in sorted(stats.items()):
        med = median_of_counts(q["times"])
        out.append({"exhibit": ex, "version": ver, "competition": comp, "question": question,
                    "answered": q["answered"], "right": q["right"],
                    "share": q["right"] / q["answered"],
                    "median_s": None if med is None else med / 10})
    return out


# -- sections a scene type contributes -----------------------------------------------------

Section = Callable[[Connection, Filter], Any]

#: scene type → its report section (a function of the connection and the filter)
SECTIONS: dict[str, Section] = {"quiz": questions, "ask": asks, "competition": contests}


def register(scene_type: str, section: Section) -> None:
    """Let a scene type add its own part of every report."""
    SECTIONS[scene_type] = section


def report(conn: Connection, f: Filter) -> dict[str, Any]:
    """Every metric for this filter, with each registered scene type's section."""
    token = _REPORT.set({})
    try:
        return {
            "visits": visits(conn, f),
            "per_open_hour": per_open_hour(conn, f),
            "end": end_share(conn, f),
            "dwell": dwell(conn, f),
            "funnel": funnel(conn, f),
            "gain": gain(conn, f),
            "languages": languages(conn, f),
            "heatmap": heatmap(conn, f),
            "attraction": attraction_counts(conn, f),
            "sections": {name: fn(conn, f) for name, fn in SECTIONS.items()},
        }
    finally:
        _REPORT.reset(token)
