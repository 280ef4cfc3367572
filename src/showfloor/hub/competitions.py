"""Competition results: one row per competition a station ran, kept after its events expire.

A station that runs a knowledge competition records it as station events
(docs/events.md, "Competition events"). The summariser (``hub/summaries.py``) hands
each pass's events to :func:`from_pass`; every (station, boot) with a competition
event among them has its competitions worked out again from the competition events
it has stored of that boot within :data:`WINDOW` seconds of the new ones
(:func:`competitions`, pure), and written to ``competition_results``, keyed by the
station, the boot and the ``seq`` of the competition's ``competition_started``:

- the board is ``competition_ended``'s, each team with the name it joined under
  (``team_joined`` since the boot's previous competition ended); teams are names chosen
  from the content or typed by staff, never a person;
- ``answers`` holds every answer taken to a question that closed (``answer_taken`` of
  a question with a ``question_closed``; a skipped question's answers count for
  nobody, as on the board): question, right or not, and its time from the reveal;
- the exhibit and version come from the boot's ``engine_started``, as a visit's do.

As with visits, a competition summarised again takes its old share out of the
``report_contests`` rollup and puts its new one in (``rollups.add_competition``), in
the summariser's transaction; a competition is only ever added to, so the same count
of events, hall and exhibit version is the same row. Events are purged after
``retention_days`` (``hub/retention.py``) but these rows never are: a competition read
again with fewer events than its row counts (some of them purged) keeps its row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select

from showfloor.hub import db as t
from showfloor.hub import rollups

#: the event kinds a competition is read from
KINDS = ("competition_started", "team_joined", "team_removed", "answer_taken",
         "question_closed", "question_skipped", "competition_ended")
#: a competition is read from its boot's events this many seconds either side of new ones
WINDOW = 86400.0


def competitions(evs: Iterable[Any]) -> list[dict[str, Any]]:
    """The competitions in one boot's competition events in ``seq`` order (pure).

    Each is a ``competition_results`` row without its station, boot, hall, exhibit and
    version. Events before the first ``competition_started`` only name teams.
    """
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}  # team → name, since the previous competition ended
    cur: dict[str, Any] | None = None
    closed: set[int] = set()
    taken: list[tuple[int, str, bool, int]] = []

    def finish() -> None:
        if cur is not None:
            if cur["ended"] is None:  # not over (yet): the questions closed so far
                cur["asked"] = len(closed)
            cur["answers"] = [[q, ok, ms] for n, q, ok, ms in taken if n in closed]
            for row in cur["board"]:
                row["name"] = names.get(row["team"], "")

    for e in evs:
        data: Mapping[str, Any] = e.data if isinstance(e.data, Mapping) else {}
        kind, wall = str(e.kind), float(e.wall)
        if kind == "team_joined":
            names[str(data.get("team", ""))[:64]] = str(data.get("name", ""))[:100]
        elif kind == "competition_ended" and cur is None:
            names = {}  # one that started before these events: its teams are not the next's
        if kind == "competition_started":
            finish()
            closed, taken = set(), []
            teams = data.get("teams")
            cur = {"seq": int(e.seq), "competition": str(data.get("competition", ""))[:64],
                   "final": None, "started": wall, "ended": None, "asked": 0,
                   "teams": len(teams) if isinstance(teams, list) else 0, "board": [],
                   "answers": [], "events": 0, "first_wall": wall, "last_wall": wall}
            out.append(cur)
        if cur is None:
            continue
        cur["events"] += 1
        cur["first_wall"] = min(cur["first_wall"], wall)
        cur["last_wall"] = max(cur["last_wall"], wall)
        final = data.get("final")
        if cur["final"] is None and isinstance(final, str | int) and \
                not isinstance(final, bool) and str(final):
            cur["final"] = str(final)[:64]
        n = data.get("n")
        if kind == "answer_taken" and isinstance(n, int):
            taken.append((n, str(data.get("question", ""))[:128], data.get("correct") is True,
                          _whole(data.get("elapsed_ms"))))
        elif kind == "question_closed" and isinstance(n, int):
            closed.add(n)
        elif kind == "competition_ended":
            board = data.get("board")
            cur["board"] = [
                {"team": str(b.get("team", ""))[:64], "rank": _whole(b.get("rank")),
                 "points": _whole(b.get("points")), "right": _whole(b.get("right"))}
                for b in (board if isinstance(board, list) else []) if isinstance(b, Mapping)]
            asked = data.get("asked")
            cur["asked"] = _whole(asked) if isinstance(asked, int) else len(closed)
            cur["ended"] = wall
            finish()
            cur, names = None, {}
    finish()
    return out


def _whole(value: Any) -> int:
    """A whole number from an event's field; 0 for anything else (a station's event is
    never trusted to be well formed: a bad one must not stop the summaries)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        return 0
    return max(-(2**31), min(2**31 - 1, int(value)))


def from_pass(conn: Connection, now: float, rows: Iterable[Any]) -> int:
    """From the events a summariser pass read: the competitions of each (station, boot)
    with a new competition event, summarised again; how many rows changed.
    """
    walls: dict[tuple[str, str], list[float]] = defaultdict(list)
    restarts: set[tuple[str, str]] = set()
    for r in rows:
        if r.kind in KINDS:
            walls[(str(r.station_id), str(r.boot))].append(float(r.wall))
        elif r.kind == "engine_started":
            restarts.add((str(r.station_id), str(r.boot)))
    if restarts:  # competitions summarised before their boot's engine_started arrived
        c = t.competition_results.c
        for sid, boot in restarts:
            for first, last in conn.execute(select(c.first_wall, c.last_wall)
                                            .where(c.station_id == sid).where(c.boot == boot)
                                            .where(c.exhibit == "")):
                walls[(sid, boot)] += [float(first), float(last)]
    return resummarise(conn, now, walls)


def resummarise(conn: Connection, now: float,
                walls: Mapping[tuple[str, str], list[float]]) -> int:
    """Summarise again the competitions of these (station, boot)s near these wall times."""
    if not walls:
        return 0
    ev, c = t.events.c, t.competition_results.c
    halls = dict(conn.execute(select(t.stations.c.id, t.stations.c.hall_id)).all())
    zones = rollups.hall_zones(conn)
    starts: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    delta = rollups.new_delta()
    changed = 0
    for (sid, boot), ws in walls.items():
        if not ws:
            continue
        lo, hi = min(ws) - WINDOW, max(ws) + WINDOW
        evs = conn.execute(select(ev.seq, ev.wall, ev.kind, ev.data)
                           .where(ev.station_id == sid).where(ev.wall >= lo)
                           .where(ev.wall <= hi).where(ev.boot == boot)
                           .where(ev.kind.in_(KINDS)).order_by(ev.seq)).all()
        found = competitions(evs)
        if not found:
            continue
        old = {int(r.seq): dict(r._mapping) for r in conn.execute(
            select(t.competition_results).where(c.station_id == sid).where(c.boot == boot)
            .where(c.seq.in_([f["seq"] for f in found])))}
        for row in found:
            exhibit, version = _exhibit(conn, sid, boot, row["seq"], starts)
            row.update(station_id=sid, boot=boot, hall_id=str(halls.get(sid, "")),
                       exhibit=exhibit, version=version, updated=now)
            before = old.get(row["seq"])
            if before is not None:
                if int(before["events"]) > row["events"]:
                    continue  # some of its events are purged: the row keeps what it had
                if (before["events"], before["hall_id"], before["exhibit"],
                        before["version"]) == (row["events"], row["hall_id"], exhibit,
                                               version):
                    continue
                rollups.add_competition(delta, before, zones.get(before["hall_id"], dt.UTC),
                                        -1)
                conn.execute(delete(t.competition_results).where(and_(
                    c.station_id == sid, c.boot == boot, c.seq == row["seq"])))
            rollups.add_competition(delta, row, zones.get(row["hall_id"], dt.UTC))
            conn.execute(insert(t.competition_results), [row])
            changed += 1
    rollups.apply(conn, delta)
    return changed


def _exhibit(conn: Connection, station_id: str, boot: str, seq: int,
             cache: dict[tuple[str, str], list[tuple[int, str, str]]]) -> tuple[str, str]:
    from showfloor.hub.summaries import _exhibit as exhibit_of

    return exhibit_of(conn, station_id, boot, seq, cache)


def rebuild(conn: Connection, now: float = 0.0) -> int:
    """``competition_results`` again from the competition events still stored, keeping
    the rows of competitions whose events are purged; their ``report_contests`` sums
    again from every row. The rows written.
    """
    ev = t.events.c
    walls: dict[tuple[str, str], list[float]] = defaultdict(list)
    for sid, boot, wall in conn.execute(select(ev.station_id, ev.boot, ev.wall)
                                        .where(ev.kind == "competition_started")):
        walls[(str(sid), str(boot))].append(float(wall))
    n = resummarise(conn, now, walls)
    rollups.rebuild_contests(conn)
    return n
