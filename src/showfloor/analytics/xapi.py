"""xAPI 1.0.3 statements from the visits the hub stores (the mapping: docs/reports.md).

One statement per event of these kinds, for the visits a :class:`~.metrics.Filter`
selects (the same visits the reports count):

==================  ==============  ==========================================
event               verb            object
==================  ==============  ==========================================
``session_started``  initialized     the exhibit (``<home>/xapi/activities/EX``)
``scene_exited``     experienced     the scene (``…/EX/SCENE``), result.duration
``answered``         answered        the question (``…/EX/SCENE/QUESTION``), a
                                     ``cmi.interaction`` of type ``choice``
``quiz_completed``   completed       the quiz scene, result score/success
``session_ended``    terminated      the exhibit, result completion/duration
==================  ==============  ==========================================

The actor is anonymous: an account on the hub's home page named by the visit's
random session id; nothing else about a visitor exists. ``context.registration`` is
the session id read as a UUID (a 32-hex-digit id is one already; any other id is
UUID v5 of it in :data:`NAMESPACE`). A statement's id is UUID v5 of its event's
station and id, and the lines are sorted, so exporting the same events twice gives
the same bytes.

Questions' texts, choices and correct answers are not in the events (``answered``
carries the choices picked and whether they were right): they come from the
exhibit version's bundle when it was published on this hub. Without one, a
question's definition has its interaction type but no choices, name or
``correctResponsesPattern``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import orjson
from sqlalchemy import Connection, and_, select

from showfloor.analytics import metrics
from showfloor.hub import db as t

#: the namespace of every UUID v5 made here (fixed: changing it changes every id)
NAMESPACE = uuid.UUID("6f1c54a2-3d0b-5e7a-9c1e-5b0f2d8a4e11")
VERSION = "1.0.3"
#: the home page when the hub has no ``public_url`` (``.invalid`` is never anyone's)
DEFAULT_HOME = "https://showfloor.invalid"

ADL = "http://adlnet.gov/expapi/verbs/"
VERBS: dict[str, tuple[str, str]] = {
    "session_started": (ADL + "initialized", "initialized"),
    "scene_exited": (ADL + "experienced", "experienced"),
    "answered": (ADL + "answered", "answered"),
    "quiz_completed": (ADL + "completed", "completed"),
    "session_ended": (ADL + "terminated", "terminated"),
}
ACTIVITY = "http://adlnet.gov/expapi/activities/"
EXHIBIT_TYPE = ACTIVITY + "lesson"
SCENE_TYPE = ACTIVITY + "module"
QUIZ_TYPE = ACTIVITY + "assessment"
QUESTION_TYPE = ACTIVITY + "cmi.interaction"
#: events read besides those that make statements: a visit's language and scene entries
READ = (*VERBS, "language_changed", "scene_entered")
_HEX_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


# -- ids, times, language maps ----------------------------------------------------------

def statement_id(station_id: str, event_id: str) -> str:
    """UUID v5 of the event (event ids are unique per station, so the station is in it)."""
    return str(uuid.uuid5(NAMESPACE, f"event/{station_id}/{event_id}"))


def registration(session: str) -> str:
    """The visit's session id as a UUID: itself when it is 32 hex digits, else UUID v5."""
    if _HEX_ID.match(session):
        return str(uuid.UUID(hex=session))
    return str(uuid.uuid5(NAMESPACE, f"session/{session}"))


@functools.lru_cache(maxsize=65536)
def activity(home: str, *parts: str) -> str:
    """``<home>/xapi/activities/<exhibit>[/<scene>[/<question>]]``, each part escaped."""
    return home.rstrip("/") + "/xapi/activities/" + "/".join(quote(p, safe="") for p in parts)


def home_page(public_url: str) -> str:
    """The home page of accounts and activity ids: the hub's ``public_url`` (or the default).

    A ReportError when it is not an http(s) address (an LRS refuses such ids).
    """
    home = public_url.strip().rstrip("/") or DEFAULT_HOME
    if not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", home):
        raise metrics.ReportError(f"the hub's public_url '{public_url[:80]}' is not an "
                                  "http(s) address; set it like https://hub.example.org")
    return home


def extension(home: str, name: str) -> str:
    return home.rstrip("/") + "/xapi/extensions/" + name


def timestamp(wall: float) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. ``2026-11-02T02:00:00.000Z``."""
    ms = round(wall * 1000)
    when = dt.datetime.fromtimestamp(ms // 1000, dt.UTC)
    return f"{when:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def duration(seconds: float) -> str:
    """An ISO 8601 duration to the hundredth of a second: ``PT1H2M3.5S``, ``PT0S``."""
    cs = max(0, round(seconds * 100))
    h, rest = divmod(cs, 360000)
    m, rest = divmod(rest, 6000)
    s, frac = divmod(rest, 100)
    out = "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "")
    if s or frac or not (h or m):
        out += f"{s}.{frac:02d}".rstrip("0").rstrip(".") + "S"
    return out


def language_map(text: Mapping[str, str] | None) -> dict[str, str]:
    """A content text (language → string, maybe with an ``id`` key) as an xAPI language map.

    The ``id`` key pins a text's stable id (docs/format.md); it is not Indonesian.
    """
    return {lang: s for lang, s in (text or {}).items()
            if lang != "id" and _LANG.match(lang) and s}


# -- what the hub's bundles say about an exhibit version ---------------------------------

@dataclass(frozen=True)
class QuestionDef:
    prompt: dict[str, str]
    choices: tuple[tuple[str, dict[str, str]], ...]
    correct: tuple[str, ...]
    points: int


@dataclass
class ExhibitDef:
    """The parts of one exhibit version a statement names (empty when unknown)."""

    title: dict[str, str] = field(default_factory=dict)
    scenes: dict[str, dict[str, str]] = field(default_factory=dict)  # scene → title
    quizzes: set[str] = field(default_factory=set)  # quiz scene ids
    questions: dict[tuple[str, str], QuestionDef] = field(default_factory=dict)


def exhibit_def(conn: Connection, exhibit: str, version: str) -> ExhibitDef:
    """Texts, quiz scenes and questions from the bundle published for this version.

    Only the bundle's YAML files are read (into a temporary folder, loaded as ``check``
    loads an exhibit). No bundle, or one that does not load: an empty definition.
    """
    from showfloor.content import bundle as b
    from showfloor.content.load import load
    from showfloor.content.scenes.quiz import QuizScene, choices_of
    from showfloor.errors import ShowfloorError
    from showfloor.hub.bundles import read_object

    row = conn.execute(select(t.bundles.c.manifest).where(t.bundles.c.exhibit == exhibit)
                       .where(t.bundles.c.version == version)).first()
    out = ExhibitDef()
    if row is None:
        return out
    try:
        manifest = b.parse_manifest(bytes(row[0]))
    except ShowfloorError:
        return out
    with tempfile.TemporaryDirectory(prefix="showfloor-xapi-") as tmp:
        root = Path(tmp)
        for entry in manifest.files:
            if not entry.path.endswith((".yaml", ".yml")) or ".." in entry.path.split("/"):
                continue
            dest = root / entry.path
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(read_object(conn, entry.sha256, 0, entry.size))
        try:
            ex = load(root).exhibit
        except ShowfloorError:
            ex = None
    if ex is None:
        return out
    out.title = language_map(ex.title)
    for scene in ex.scenes:
        out.scenes[scene.id] = language_map(scene.title)
        if isinstance(scene, QuizScene):
            out.quizzes.add(scene.id)
            for q in scene.questions:
                cs = choices_of(q)
                out.questions[(scene.id, q.id)] = QuestionDef(
                    prompt=language_map(q.prompt),
                    choices=tuple((c.id, language_map(c.text)) for c in cs),
                    correct=tuple(c.id for c in cs if c.correct), points=q.points)
    return out


# -- statements -------------------------------------------------------------------------

def _definition(kind: str, name: Mapping[str, str]) -> dict[str, Any]:
    d: dict[str, Any] = {"type": kind}
    if name:
        d["name"] = dict(name)
    return d


@dataclass
class Visit:
    """What a visit's earlier events said: its registration, language, scene entries."""

    registration: str = ""
    lang: str | None = None
    entered: dict[str, float] = field(default_factory=dict)  # scene → engine time


class Statements:
    """Builds the statements of one export (keeps each exhibit version's definition)."""

    def __init__(self, conn: Connection, home: str) -> None:
        self.conn = conn
        self.home = home_page(home)
        self.defs: dict[tuple[str, str], ExhibitDef] = {}
        self.answered_scenes: dict[tuple[str, str], set[str]] = {}

    def definition(self, exhibit: str, version: str) -> ExhibitDef:
        key = (exhibit, version)
        if key not in self.defs:
            self.defs[key] = exhibit_def(self.conn, exhibit, version)
            a = t.session_answers.c
            self.answered_scenes[key] = {s for (s,) in self.conn.execute(
                select(a.scene).distinct().where(a.exhibit == exhibit)
                .where(a.version == version))}
        return self.defs[key]

    def _scene_object(self, exhibit: str, version: str, scene: str) -> dict[str, Any]:
        d = self.definition(exhibit, version)
        quiz = scene in d.quizzes or scene in self.answered_scenes[(exhibit, version)]
        return {"objectType": "Activity", "id": activity(self.home, exhibit, scene),
                "definition": _definition(QUIZ_TYPE if quiz else SCENE_TYPE,
                                          d.scenes.get(scene, {}))}

    def _exhibit_object(self, exhibit: str, version: str) -> dict[str, Any]:
        d = self.definition(exhibit, version)
        return {"objectType": "Activity", "id": activity(self.home, exhibit),
                "definition": _definition(EXHIBIT_TYPE, d.title)}

    def _question_object(self, exhibit: str, version: str, scene: str, question: str
                         ) -> dict[str, Any]:
        q = self.definition(exhibit, version).questions.get((scene, question))
        d: dict[str, Any] = {"type": QUESTION_TYPE, "interactionType": "choice"}
        if q is not None:
            if q.prompt:
                d["name"] = q.prompt
            d["choices"] = [{"id": cid, **({"description": text} if text else {})}
                            for cid, text in q.choices]
            d["correctResponsesPattern"] = ["[,]".join(q.correct)]
        return {"objectType": "Activity",
                "id": activity(self.home, exhibit, scene, question), "definition": d}

    def make(self, ev: Mapping[Any, Any], visit: Visit) -> dict[str, Any] | None:
        """The statement of one event (``ev``: the event's columns and its visit's), or None."""
        kind = str(ev["kind"])
        data: dict[str, Any] = ev["data"] or {}
        session, scene = str(ev["session"]), ev["scene"]
        exhibit, version = str(ev["exhibit"]), str(ev["version"])
        if kind in ("session_started", "language_changed"):
            visit.lang = data.get("lang") or visit.lang
        elif kind == "scene_entered" and scene:
            visit.entered[str(scene)] = float(ev["t"])
        if kind not in VERBS:
            return None
        verb_id, verb_name = VERBS[kind]
        home = self.home
        context: dict[str, Any] = {
            "registration": visit.registration, "platform": "showfloor",
            "extensions": {extension(home, "hall"): str(ev["hall_id"]),
                           extension(home, "station"): str(ev["station_id"])}}
        if version:
            context["revision"] = version
        if visit.lang and _LANG.match(visit.lang):
            context["language"] = visit.lang
        result: dict[str, Any] = {}
        ex_obj = {"objectType": "Activity", "id": activity(home, exhibit)}
        if kind in ("session_started", "session_ended"):
            obj = self._exhibit_object(exhibit, version)
            if kind == "session_ended":
                result["completion"] = bool(ev["reached_end"])
                if data.get("duration") is not None:
                    result["duration"] = duration(float(data["duration"]))
                if data.get("reason"):
                    result["extensions"] = {extension(home, "end-reason"): str(data["reason"])}
        elif kind == "scene_exited":
            obj = self._scene_object(exhibit, version, str(scene))
            if data.get("dwell") is not None:
                result["duration"] = duration(float(data["dwell"]))
            context["contextActivities"] = {"parent": [ex_obj]}
        elif kind == "answered":
            obj = self._question_object(exhibit, version, str(scene), str(data.get("question")))
            picked = [str(c) for c in data.get("choices") or []]
            if picked:
                result["response"] = "[,]".join(picked)
            result["success"] = bool(data.get("correct"))
            q = self.defs[(exhibit, version)].questions.get((str(scene), str(data.get("question"))))
            score: dict[str, Any] = {"raw": int(data.get("points") or 0)}
            if q is not None:
                score.update(min=0, max=q.points)
            result["score"] = score
            context["contextActivities"] = {
                "parent": [{"objectType": "Activity", "id": activity(home, exhibit, str(scene))}],
                "grouping": [ex_obj]}
            _measure(home, data, context)
        else:  # quiz_completed
            obj = self._scene_object(exhibit, version, str(scene))
            got, mx = int(data.get("score") or 0), int(data.get("max") or 0)
            score = {"raw": got, "min": 0}
            if mx > 0:
                score.update(max=mx, scaled=round(got / mx, 4))
            result.update(score=score, success=bool(data.get("passed")), completion=True)
            began = visit.entered.get(str(scene))
            if began is not None:
                result["duration"] = duration(float(ev["t"]) - began)
            context["contextActivities"] = {"parent": [ex_obj]}
            _measure(home, data, context)
        stmt: dict[str, Any] = {
            "id": statement_id(str(ev["station_id"]), str(ev["id"])),
            "actor": {"objectType": "Agent",
                      "account": {"homePage": home, "name": session}},
            "verb": {"id": verb_id, "display": {"en-US": verb_name}},
            "object": obj,
            "context": context,
            "timestamp": timestamp(float(ev["wall"])),
            "version": VERSION,
        }
        if result:
            stmt["result"] = result
        return stmt


def _measure(home: str, data: Mapping[str, Any], context: dict[str, Any]) -> None:
    if data.get("role") and data.get("measure"):
        context["extensions"][extension(home, "role")] = str(data["role"])
        context["extensions"][extension(home, "measure")] = str(data["measure"])


def statements(conn: Connection, f: metrics.Filter, home: str) -> Iterator[dict[str, Any]]:
    """Every statement of the visits the filter selects, in a fixed order.

    Visits by start time (then station and session), each visit's events in the
    order the engine recorded them.
    """
    s, e = t.session_summaries, t.events
    q = (select(e.c.station_id, e.c.id, e.c.seq, e.c.t, e.c.wall, e.c.kind, e.c.session,
                e.c.scene, e.c.data, s.c.hall_id, s.c.exhibit, s.c.version, s.c.reached_end)
         .select_from(s.join(e, and_(e.c.station_id == s.c.station_id,
                                     e.c.wall >= s.c.first_wall, e.c.wall <= s.c.last_wall,
                                     e.c.session == s.c.session)))
         .where(*metrics.where(conn, f, s)).where(e.c.kind.in_(READ))
         .order_by(s.c.started, s.c.station_id, s.c.session, e.c.t, e.c.seq, e.c.id)
         .execution_options(yield_per=5000))  # a year's events are never all in memory
    maker = Statements(conn, home)
    key: tuple[str, str] | None = None
    visit = Visit()
    for row in conn.execute(q).mappings():
        k = (row["station_id"], row["session"])
        if k != key:
            key, visit = k, Visit(registration(str(row["session"])))
        stmt = maker.make(row, visit)
        if stmt is not None:
            yield stmt


def dumps(stmt: Mapping[str, Any]) -> str:
    """One JSON line: keys sorted, no spaces, UTF-8 text as it is."""
    return orjson.dumps(stmt, option=orjson.OPT_SORT_KEYS).decode()


def write_jsonl(conn: Connection, f: metrics.Filter, home: str, out: IO[str]) -> int:
    """Write the statements as JSON lines; how many."""
    n = 0
    for stmt in statements(conn, f, home):
        out.write(dumps(stmt) + "\n")
        n += 1
    return n
