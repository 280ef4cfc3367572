"""A station's recent events as an operator reads them: visits, errors, commands and their
results, starts, closing — in words. Surfaces coming and going are one line per run.

The events themselves (ticks, views and their digests, scenes, inputs) stay on the raw
events page, ``/stations/{id}/events``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from showfloor.hub.dashboard import display

#: why a visit ended (``session_ended``'s reason), for people
REASONS = {
    "completed": "finished",
    "timeout": "timed out (nobody there)",
    "closed": "the station closed",
    "operator": "ended by an operator",
    "reload": "the exhibit was reloaded",
    "missing_scene": "a scene is missing",
    "no_next": "the story had no next scene",
    "no_branch": "no branch matched",
}
#: how a command's state reads after the command's name
COMMAND_STATES = {"done": "done", "failed": "failed", "queued": "waiting",
                  "delivered": "waiting for its answer", "expired": "expired",
                  "cancelled": "cancelled"}
_SURFACE = ("surface_joined", "surface_left")


@dataclass(frozen=True)
class Line:
    """One line of the station's recent events."""

    at: float
    text: str
    detail: str = ""
    #: what it is about (a CSS class): visit, error, command, station, surface
    tone: str = ""
    #: the last moment of a run of surface events shown as this one line
    until: float | None = None


def visit_length(seconds: Any) -> str:
    """'45 s', '3 min 12 s', '1 h 5 min'."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return ""
    s = round(max(float(seconds), 0.0))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        m, s = divmod(s, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    return display.duration(s)


def _data(event: Mapping[str, Any]) -> dict[str, Any]:
    data = event.get("data")
    return dict(data) if isinstance(data, Mapping) else {}


def _line(e: Mapping[str, Any], langs: Mapping[str, str],
          commands: Mapping[int, Mapping[str, Any]]) -> Line | None:
    kind, at, d = e["kind"], float(e["wall"]), _data(e)
    if kind == "session_started":
        lang = d.get("lang")
        return Line(at, "Visit started", f"in {lang}" if lang else "", "visit")
    if kind == "session_ended":
        length = visit_length(d.get("duration"))
        lang = langs.get(str(e.get("session") or ""))
        reason = d.get("reason")
        bits = [f"in {lang}" if lang else "", REASONS.get(str(reason), str(reason or "")),
                (f"{d['scenes']} scene{'' if d['scenes'] == 1 else 's'}"
                 if isinstance(d.get("scenes"), int) else "")]
        return Line(at, f"Visit ended after {length}" if length else "Visit ended",
                    " · ".join(b for b in bits if b), "visit")
    if kind == "error":
        what = d.get("what") or "problem"
        detail = " · ".join(str(x) for x in (d.get("detail"), d.get("path"),
                                              d.get("surface") and f"on {d['surface']}")
                            if x)
        return Line(at, f"Error ({what})", detail, "error")
    if kind == "command":
        cid = d.get("id")
        name = display.COMMAND_LABEL.get(str(d.get("command")), str(d.get("command")))
        c = commands.get(cid) if isinstance(cid, int) else None
        if c is None:
            return Line(at, f"Command {cid}: {name}", "received", "command")
        state = COMMAND_STATES.get(str(c["state"]), str(c["state"]))
        result = f"{state} — {c['result']}" if c.get("result") else state
        return Line(at, f"Command {cid}: {name}", result,
                    "error" if c["state"] == "failed" else "command")
    if kind == "operator" and d.get("action") == "reload":
        if d.get("ok"):
            return Line(at, "Exhibit reloaded",
                        f"{d.get('exhibit', '')} version {d.get('version', '?')}", "station")
        n = d.get("errors", "?")
        return Line(at, "Reload refused",
                    f"{n} error{'' if n == 1 else 's'} in the exhibit; the running one stays",
                    "error")
    if kind == "engine_started" and e.get("seq") == 1:
        return Line(at, "Station started",
                    f"{d.get('exhibit', '')} version {d.get('version', '?')}", "station")
    if kind == "closed":
        return (Line(at, "Closed to visitors", "attract loop only or outside opening hours",
                     "station") if d.get("closed") else
                Line(at, "Open to visitors again", "", "station"))
    if kind == "default_language_set":
        return Line(at, f"Default language set to {d.get('lang')}", "", "station")
    return None


def _surfaces(run: list[Mapping[str, Any]]) -> Line:
    """A run of surface events (oldest first) as one line."""
    names = sorted({str(_data(e).get("surface") or "?") for e in run})
    joined = sum(1 for e in run if e["kind"] == "surface_joined")
    left = len(run) - joined
    which = ", ".join(names)
    if len(run) == 1:
        return Line(float(run[0]["wall"]), f"Surface {which} "
                    f"{'joined' if joined else 'left'}", "", "surface")
    counts = " and ".join(f"{word} {n}×" for word, n in (("joined", joined), ("left", left))
                          if n)
    return Line(float(run[0]["wall"]), f"Surfaces {counts}", which, "surface",
                until=float(run[-1]["wall"]))


def lines(events: Sequence[Mapping[str, Any]], langs: Mapping[str, str],
          commands: Mapping[int, Mapping[str, Any]], limit: int = 30) -> list[Line]:
    """The lines for a station's operator events (given newest first), newest first."""
    out: list[Line] = []
    run: list[Mapping[str, Any]] = []
    for e in reversed(events):
        if e["kind"] in _SURFACE:
            run.append(e)
            continue
        if run:
            out.append(_surfaces(run))
            run = []
        line = _line(e, langs, commands)
        if line is not None:
            out.append(line)
    if run:
        out.append(_surfaces(run))
    return out[::-1][:limit]
