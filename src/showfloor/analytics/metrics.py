"""Report metrics over the hub's visit summaries (definitions: docs/reports.md).

Every metric takes a connection to the hub's database and a :class:`Filter` (hall,
station, exhibit, exhibit version, a range of days in each hall's own time zone) and
reads ``session_summaries`` / ``session_answers`` (kept by ``hub/summaries.py``). The
arithmetic is in small pure functions (:func:`median`, :func:`survival`,
:func:`hake_gain`, :func:`bootstrap_gain`, :func:`discrimination`, …) so the
definitions can be tested by hand.

Learning and per-question results are grouped by exhibit **version**: a quiz that
changed between versions is never mixed. A scene type adds its own part of a report
through :data:`SECTIONS` (the quiz's per-question table is the first).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Integer, and_, cast, false, func, or_, select

from showfloor import hours
from showfloor.errors import ConfigError, ShowfloorError
from showfloor.hub import db as t

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
    week = hours.parse(opening)
    total = 0.0
    day = first
    while day <= last:
        if not opening:
            total += 24.0
        else:
            total += sum(b - a for a, b in week.get(day.weekday(), [])) / 60
        day += dt.timedelta(days=1)
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


# -- the metrics ---------------------------------------------------------------------------

def visits(conn: Connection, f: Filter) -> int:
    """Visits (sessions) started in the range."""
    s = t.session_summaries
    return int(conn.execute(select(func.count()).select_from(s).where(*where(conn, f, s)))
               .scalar_one())


def end_share(conn: Connection, f: Filter) -> dict[str, Any]:
    """Visits that reached an end: n, reached, share."""
    s = t.session_summaries
    n, reached = conn.execute(select(func.count(), func.sum(cast(s.c.reached_end, Integer)))
                              .where(*where(conn, f, s))).one()
    n, reached = int(n), int(reached or 0)
    return {"n": n, "reached": reached, "share": reached / n if n else None}


def dwell(conn: Connection, f: Filter, steps: Iterable[float] = SURVIVAL_STEPS
          ) -> dict[str, Any]:
    """Dwell of the visits that ended: n, median (s) and the survival curve."""
    s = t.session_summaries
    ds = [float(d) for (d,) in conn.execute(select(s.c.dwell).where(*where(conn, f, s))
                                            .where(s.c.dwell.is_not(None)))]
    return {"n": len(ds), "median": median(ds), "survival": survival(ds, steps)}


def languages(conn: Connection, f: Filter) -> dict[str, int]:
    """Visits per language (the one each visit ended in); unknown as ''."""
    s = t.session_summaries
    return {lang or "": int(n) for lang, n in conn.execute(
        select(s.c.lang, func.count()).where(*where(conn, f, s)).group_by(s.c.lang))}


def heatmap(conn: Connection, f: Filter) -> list[list[int]]:
    """Visits per weekday × hour of the day, in each visit's hall's time zone."""
    s = t.session_summaries
    tz = {hid: str(h["timezone"]) for hid, h in _halls(conn).items()}
    return heat((float(w), tz.get(h, "UTC")) for w, h in conn.execute(
        select(s.c.started, s.c.hall_id).where(*where(conn, f, s))))


def _stations(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    st = t.stations
    q = select(st.c.id, st.c.hall_id, st.c.opening_hours, st.c.enrolled, st.c.revoked)
    if f.hall is not None:
        q = q.where(st.c.hall_id == f.hall)
    if f.station is not None:
        q = q.where(st.c.id == f.station)
    rows = [dict(r._mapping) for r in conn.execute(q)]
    if f.exhibit is not None:  # the stations that ran it in the range
        s = t.session_summaries
        ran = {sid for (sid,) in conn.execute(select(s.c.station_id).distinct()
                                              .where(*where(conn, f, s)))}
        rows = [r for r in rows if r["id"] in ran]
    return rows


def open_hours(conn: Connection, f: Filter) -> float:
    """Hours the filter's stations were open in the range (their own hours, else the hall's).

    Without a start or an end, the range runs from the first to the last visit.
    """
    halls = check(conn, f)
    total = 0.0
    for st in _stations(conn, f):
        hall = halls.get(st["hall_id"], {})
        tz = _zone(str(hall.get("timezone") or "UTC"))
        first, last = f.start, f.end
        if first is None or last is None:
            s = t.session_summaries
            lo, hi = conn.execute(select(func.min(s.c.started), func.max(s.c.started))
                                  .where(s.c.station_id == st["id"])).one()
            if lo is None:
                continue
            first = first or dt.datetime.fromtimestamp(float(lo), tz).date()
            last = last or dt.datetime.fromtimestamp(float(hi), tz).date()
        enrolled = dt.datetime.fromtimestamp(float(st["enrolled"]), tz).date()
        first = max(first, enrolled)
        if st["revoked"] is not None:
            last = min(last, dt.datetime.fromtimestamp(float(st["revoked"]), tz).date())
        if first <= last:
            total += open_hours_between(st["opening_hours"] or hall.get("opening_hours") or {},
                                        first, last)
    return total


def per_open_hour(conn: Connection, f: Filter) -> dict[str, Any]:
    """Visits per open station-hour: visits, open hours, rate (None when never open)."""
    n, h = visits(conn, f), open_hours(conn, f)
    return {"visits": n, "open_hours": h, "rate": n / h if h else None}


def funnel(conn: Connection, f: Filter) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per exhibit version: each scene's visits entering it and leaving there (no end)."""
    s = t.session_summaries
    entered: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    left: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    order: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for ex, ver, scenes, last, reached in conn.execute(
            select(s.c.exhibit, s.c.version, s.c.scenes, s.c.last_scene, s.c.reached_end)
            .where(*where(conn, f, s))):
        key = (ex, ver)
        for i, sc in enumerate(dict.fromkeys(scenes or [])):
            entered[key][sc] += 1
            order[key][sc] = min(order[key].get(sc, i), i)
        if last is not None and not reached:
            left[key][last] += 1
    return {key: [{"scene": sc, "entered": n, "left": left[key][sc]}
                  for sc, n in sorted(cnt.items(), key=lambda x: (-x[1], order[key][x[0]]))]
            for key, cnt in entered.items()}


def questions(conn: Connection, f: Filter) -> list[dict[str, Any]]:
    """Per question of each exhibit version: takers, share correct, wrong answers, D."""
    a, s = t.session_answers, t.session_summaries
    totals: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for sid, sess, quizzes in conn.execute(select(s.c.station_id, s.c.session, s.c.quizzes)
                                           .where(*where(conn, f, s))):
        for scene, q in (quizzes or {}).items():
            if q.get("score") is not None:
                totals[(sid, sess)][scene] = float(q["score"])
    stats: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for r in conn.execute(select(a.c.station_id, a.c.session, a.c.exhibit, a.c.version,
                                 a.c.scene, a.c.question, a.c.choices, a.c.correct)
                          .where(*where(conn, f, a))):
        key = (r.exhibit, r.version, r.scene, r.question)
        q = stats.get(key)
        if q is None:
            q = stats[key] = {"n": 0, "correct": 0, "wrong": Counter(), "takers": []}
        q["n"] += 1
        q["correct"] += bool(r.correct)
        if not r.correct:
            q["wrong"][tuple(r.choices or ())] += 1
        total = totals.get((r.station_id, r.session), {}).get(r.scene)
        if total is not None:
            q["takers"].append((f"{r.station_id}/{r.session}", total, bool(r.correct)))
    out = []
    for (ex, ver, scene, question), q in sorted(stats.items()):
        out.append({"exhibit": ex, "version": ver, "scene": scene, "question": question,
                    "n": q["n"], "correct": q["correct"], "share": q["correct"] / q["n"],
                    "wrong": [(list(c), k) for c, k in
                              sorted(q["wrong"].items(), key=lambda x: (-x[1], x[0]))[:3]],
                    "discrimination": discrimination(q["takers"]),
                    "discrimination_n": len(q["takers"])})
    return out


def gain(conn: Connection, f: Filter, *, resamples: int = RESAMPLES, seed: int = SEED
         ) -> list[dict[str, Any]]:
    """Per exhibit version and measure: ⟨g⟩, its bootstrap 95 % interval, n, share of both."""
    s = t.session_summaries
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    n_visits: Counter[tuple[str, str]] = Counter()
    for ex, ver, measure, pre, post, mx in conn.execute(
            select(s.c.exhibit, s.c.version, s.c.measure, s.c.pre_score, s.c.post_score,
                   s.c.measure_max).where(*where(conn, f, s))):
        n_visits[(ex, ver)] += 1
        if measure is None:
            continue
        g = groups.setdefault((ex, ver, measure), {"pairs": [], "pre": 0, "post": 0,
                                                    "max": mx})
        g["pre"] += pre is not None
        g["post"] += post is not None
        if pre is not None and post is not None:
            g["pairs"].append((float(pre), float(post)))
    out = []
    for (ex, ver, measure), g in sorted(groups.items()):
        pairs, mx = g["pairs"], float(g["max"] or 0)
        visits_n = n_visits[(ex, ver)]
        out.append({"exhibit": ex, "version": ver, "measure": measure, "max": mx,
                    "n": len(pairs), "took_pre": g["pre"], "took_post": g["post"],
                    "visits": visits_n, "share_both": len(pairs) / visits_n,
                    "gain": hake_gain(pairs, mx),
                    "interval": bootstrap_gain(pairs, mx, resamples=resamples, seed=seed)})
    return out


def attraction(conn: Connection, f: Filter) -> float | None:
    """Visits started ÷ people passing the station (a presence sensor's count).

    No station reports passers-by yet (there is no presence event), so: None.
    """
    del conn, f
    return None


def _hour_of(conn: Connection) -> Any:
    w = t.events.c.wall / 3600
    return func.floor(w) if conn.dialect.name == "postgresql" else cast(w, Integer)


def unused_hours(conn: Connection, f: Filter) -> dict[str, dict[str, int]]:
    """Per station: open hours alive (it reported frame metrics), and those with no visit.

    Hours are whole UTC hours; one counts as open when the station is open at its middle.
    """
    halls = check(conn, f)
    if f.start is None or f.end is None:
        raise ReportError("alive-but-unused hours need a start and an end date")
    out: dict[str, dict[str, int]] = {}
    ev, s = t.events.c, t.session_summaries
    for st in _stations(conn, f):
        hall = halls.get(st["hall_id"], {})
        lo, hi = _day_bounds(str(hall.get("timezone") or "UTC"), f.start, f.end)
        assert lo is not None
        assert hi is not None
        hour = _hour_of(conn)
        alive = {int(h) for (h,) in conn.execute(
            select(hour).where(ev.kind == "surface_metrics").where(ev.station_id == st["id"])
            .where(ev.wall >= lo).where(ev.wall < hi).group_by(hour))}
        used = {int(w // 3600) for (w,) in conn.execute(
            select(s.c.started).where(s.c.station_id == st["id"])
            .where(s.c.started >= lo).where(s.c.started < hi))}
        alive_open = {h for h in alive if _open_at(hall, st, h * 3600 + 1800)}
        out[st["id"]] = {"alive_open": len(alive_open),
                         "unused": len(alive_open - used)}
    return out


def _open_at(hall: Mapping[str, Any], st: Mapping[str, Any], at: float) -> bool:
    from showfloor.hub.status import is_open

    return is_open(dict(hall), dict(st), at)


# -- sections a scene type contributes -----------------------------------------------------

Section = Callable[[Connection, Filter], Any]

#: scene type → its report section (a function of the connection and the filter)
SECTIONS: dict[str, Section] = {"quiz": questions}


def register(scene_type: str, section: Section) -> None:
    """Let a scene type add its own part of every report."""
    SECTIONS[scene_type] = section


def report(conn: Connection, f: Filter) -> dict[str, Any]:
    """Every metric for this filter, with each registered scene type's section."""
    return {
        "visits": visits(conn, f),
        "per_open_hour": per_open_hour(conn, f),
        "end": end_share(conn, f),
        "dwell": dwell(conn, f),
        "funnel": funnel(conn, f),
        "gain": gain(conn, f),
        "languages": languages(conn, f),
        "heatmap": heatmap(conn, f),
        "attraction": attraction(conn, f),
        "sections": {name: fn(conn, f) for name, fn in SECTIONS.items()},
    }
