"""xAPI statements from the hub's events, validated by Ralph's pydantic models.

The ten visits of test_exports.py (exhibit ``demo`` 0.1.0), with that exhibit — the
one ``showfloor new`` writes — packed, signed and published on the hub, so questions'
choices and correct answers come from its bundle: q1 is true-false with the answer
``true`` (choices ``true``/``false``), q2 single-choice with ``check`` right and
``guess`` wrong.

Statements per visit: initialized 1, experienced 1 per scene left before the end,
answered 2, completed 1, terminated 1 — v1-v5 (three scenes, all left): 8 each; v6-v10
(ended in the quiz, only ``welcome`` left): 6 each. 5 × 8 + 5 × 6 = 70.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement
from ralph.models.xapi.base.unnested_objects import BaseXapiActivityInteractionDefinition
from ralph.models.xapi.base.verbs import BaseXapiVerb
from ralph.models.xapi.concepts.activity_types.scorm_profile import ModuleActivity
from ralph.models.xapi.concepts.verbs.adl_vocabulary import AnsweredVerb
from ralph.models.xapi.concepts.verbs.scorm_profile import (
    CompletedVerb,
    InitializedVerb,
    TerminatedVerb,
)

from conftest import DEMO, Cli
from showfloor.analytics import metrics, xapi
from showfloor.content import bundle
from showfloor.content.load import load
from showfloor.content.scaffold import scaffold
from showfloor.engine.simulate import simulate
from showfloor.hub import bundles, summaries
from showfloor.hub import db as t

from ._visits import local, setup_hall, store
from .test_exports import V10, build

HOME = "https://hub.example.org"
ACT = HOME + "/xapi/activities/demo"
#: the Ralph model of each verb we emit (experienced has none in Ralph: the base model)
VERB_MODELS: dict[str, type[BaseXapiVerb]] = {
    xapi.ADL + "initialized": InitializedVerb, xapi.ADL + "answered": AnsweredVerb,
    xapi.ADL + "completed": CompletedVerb, xapi.ADL + "terminated": TerminatedVerb,
    xapi.ADL + "experienced": BaseXapiVerb}


def validate(s: dict[str, Any]) -> None:
    """Ralph's statement model, the verb's own model, and the object's where Ralph has one.

    (Ralph's CMIInteractionActivity allows no interaction fields, so a question's
    definition is checked with its interaction-definition model instead; it has no model
    for the lesson and assessment activity types.)
    """
    BaseXapiStatement.model_validate(s)
    VERB_MODELS[s["verb"]["id"]].model_validate(s["verb"])
    kind = s["object"]["definition"]["type"]
    if kind == xapi.QUESTION_TYPE:
        BaseXapiActivityInteractionDefinition.model_validate(s["object"]["definition"])
    elif kind == xapi.SCENE_TYPE:
        ModuleActivity.model_validate(s["object"])


@pytest.fixture(scope="module")
def hall(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[t.Database]:
    db = t.Database(module_db_url)
    t.upgrade(db)
    build(db)
    tmp = tmp_path_factory.mktemp("bundle")
    folder = scaffold(tmp / "demo")
    key = bundle.new_key(tmp / "publisher.pem")
    bundle.pack(folder, "demo", "0.1.0", key, tmp / "demo.showfloor")
    public = key.public_key()
    bundles.store_bundle(db, tmp / "demo.showfloor", "test", {bundle.key_id(public): public})
    yield db
    db.dispose()


ALL = metrics.Filter()


def export(db: t.Database, f: metrics.Filter = ALL) -> str:
    buf = io.StringIO()
    with db.read() as conn:
        xapi.write_jsonl(conn, f, HOME, buf)
    return buf.getvalue()


@pytest.fixture(scope="module")
def lines(hall: t.Database) -> list[dict[str, Any]]:
    return [json.loads(line) for line in export(hall).splitlines()]


def of(lines: list[dict[str, Any]], session: str, verb: str) -> list[dict[str, Any]]:
    return [s for s in lines if s["actor"]["account"]["name"] == session
            and s["verb"]["id"] == xapi.ADL + verb]


def test_every_statement_is_valid_for_ralph(lines: list[dict[str, Any]]) -> None:
    assert len(lines) == 70
    assert Counter(s["verb"]["display"]["en-US"] for s in lines) == {
        "initialized": 10, "experienced": 20, "answered": 20, "completed": 10,
        "terminated": 10}
    for s in lines:
        validate(s)
    assert len({s["id"] for s in lines}) == 70
    assert {s["object"]["definition"]["type"] for s in lines} == {
        xapi.EXHIBIT_TYPE, xapi.SCENE_TYPE, xapi.QUIZ_TYPE, xapi.QUESTION_TYPE}


def test_the_actor_is_an_anonymous_account(lines: list[dict[str, Any]]) -> None:
    names = {s["actor"]["account"]["name"] for s in lines}
    assert names == {f"v{n}" for n in range(1, 10)} | {V10}
    for s in lines:
        assert s["actor"] == {"objectType": "Agent",
                              "account": {"homePage": HOME, "name": s["actor"]["account"]["name"]}}
    # registration: a 32-hex-digit session id is a UUID; any other, UUID v5 of it
    assert {s["context"]["registration"] for s in lines
            if s["actor"]["account"]["name"] == V10} == {str(uuid.UUID(V10))}
    assert {s["context"]["registration"] for s in of(lines, "v1", "terminated")} == {
        str(uuid.uuid5(xapi.NAMESPACE, "session/v1"))}


def test_a_quiz_answer_carries_the_bundles_question(lines: list[dict[str, Any]]) -> None:
    right, wrong = (next(s for s in of(lines, v, "answered")
                         if s["object"]["id"] == ACT + "/quiz/q2") for v in ("v1", "v6"))
    d = right["object"]["definition"]
    assert d["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert d["interactionType"] == "choice"
    assert d["correctResponsesPattern"] == ["check"]
    assert [c["id"] for c in d["choices"]] == ["check", "guess"]
    assert set(d["choices"][1]["description"]) == {"zh-CN", "en"}
    assert d["choices"][1]["description"]["en"] == "Guessing"
    assert d["name"]["en"] == "Which command checks an exhibit?"
    # the fixture: v1 answered q2 with check (right), v6 with guess (wrong)
    assert (right["result"]["response"], right["result"]["success"]) == ("check", True)
    assert (wrong["result"]["response"], wrong["result"]["success"]) == ("guess", False)
    assert right["result"]["score"] == {"raw": 1, "min": 0, "max": 1}
    q1 = next(s for s in of(lines, "v6", "answered") if s["object"]["id"] == ACT + "/quiz/q1")
    assert q1["object"]["definition"]["correctResponsesPattern"] == ["true"]
    # the built-in True/False texts: their "id" key is a text id, not a language
    assert q1["object"]["definition"]["choices"][0] == {
        "id": "true", "description": {"zh-CN": "对", "zh-TW": "對", "en": "True"}}
    assert (q1["result"]["response"], q1["result"]["success"]) == ("false", False)
    assert right["context"]["contextActivities"]["parent"][0]["id"] == ACT + "/quiz"
    assert right["context"]["revision"] == "0.1.0"
    assert right["context"]["language"] == "zh-CN"


def test_visit_scene_and_quiz_results(lines: list[dict[str, Any]]) -> None:
    (start,) = of(lines, "v1", "initialized")
    assert start["timestamp"] == "2026-11-02T02:00:00.000Z"  # 10:00 in Shanghai
    assert start["object"]["id"] == ACT
    assert start["object"]["definition"]["name"]["en"] == "Demo"
    (end,) = of(lines, "v1", "terminated")
    assert end["result"]["completion"] is True
    assert end["result"]["duration"] == "PT1M40S"  # 100 s
    (timeout,) = of(lines, "v6", "terminated")
    assert (timeout["result"]["completion"], timeout["result"]["duration"]) == (False, "PT45S")
    (quiz,) = of(lines, "v9", "completed")
    # v9: q1 right, q2 wrong: 1 of 2, passed (the fixture's pass: score ≥ 1)
    assert quiz["result"]["score"] == {"raw": 1, "min": 0, "max": 2, "scaled": 0.5}
    assert (quiz["result"]["success"], quiz["result"]["completion"]) == (True, True)
    # the engine clock of the fixture ticks 1 s per event: entered, 2 answers, completed
    assert quiz["result"]["duration"] == "PT3S"
    assert quiz["object"]["definition"]["type"] == xapi.QUIZ_TYPE
    scenes = [s["object"]["id"] for s in of(lines, "v1", "experienced")]
    assert scenes == [ACT + "/welcome", ACT + "/quiz", ACT + "/well_done"]
    assert {s["result"]["duration"] for s in of(lines, "v1", "experienced")} == {"PT5S"}


def test_exports_are_byte_identical_and_filtered(hall: t.Database) -> None:
    assert export(hall) == export(hall)
    two = export(hall, metrics.Filter(station="s2"))
    assert {json.loads(x)["actor"]["account"]["name"] for x in two.splitlines()} == {"v9", V10}
    assert export(hall, metrics.Filter(start=dt.date(2026, 12, 1),
                                       end=dt.date(2026, 12, 31))) == ""


def test_without_a_bundle_a_question_has_no_choices(hall: t.Database) -> None:
    with hall.read() as conn:
        known = xapi.exhibit_def(conn, "demo", "0.1.0")
        unknown = xapi.exhibit_def(conn, "demo", "9.9")
    assert known.questions[("quiz", "q1")].correct == ("true",)
    assert unknown.questions == {}
    assert xapi.home_page("") == xapi.DEFAULT_HOME
    assert xapi.home_page(" https://hub.example.org/ ") == HOME
    with pytest.raises(metrics.ReportError, match="not an http"):
        xapi.home_page("hub.example.org")
    assert xapi.duration(3723.456) == "PT1H2M3.46S"
    assert xapi.duration(0) == "PT0S"
    assert xapi.timestamp(local(2026, 11, 2, 10, 0) + 0.25) == "2026-11-02T02:00:00.250Z"


def test_the_cli_writes_the_same_bytes(hall: t.Database, tmp_path: Path, cli: Cli,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if hall.url.get_backend_name() != "sqlite":
        pytest.skip("the command line is tested once, on SQLite")
    monkeypatch.setenv("SHOWFLOOR_HUB_PUBLIC_URL", HOME)
    url = hall.url.render_as_string(hide_password=False)
    out = tmp_path / "out.jsonl"
    done = cli("hub", "export", "--db", url, "--xapi", out)
    assert done.returncode == 0, done.stderr
    assert "wrote 70 xAPI statements" in done.stdout
    assert out.read_bytes() == export(hall).encode()
    bad = cli("hub", "export", "--db", url, "--xapi", out, "--hall", "nowhere")
    assert (bad.returncode, bad.stderr.strip().count("\n")) == (2, 0)
    assert "no hall 'nowhere'" in bad.stderr
    nothing = cli("hub", "export", "--db", url)
    assert nothing.returncode == 2
    assert "--xapi FILE" in nothing.stderr


# -- the demo exhibit, visited by simulated visitors through the real engine ---------------

@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[t.Database]:
    """40 simulated visits to the demo exhibit, stored through the hub's ingest (SQLite),
    with the demo's YAML published as its bundle (its media are not needed here)."""
    tmp = tmp_path_factory.mktemp("demo")
    db = t.Database(str(tmp / "hub.sqlite"))
    t.upgrade(db)
    setup_hall(db, "s1")
    exhibit = load(DEMO).exhibit
    assert exhibit is not None
    simulate(exhibit, 40, seed=7, record=tmp / "visits.jsonl")
    base = local(2026, 11, 2, 9, 30)
    events = []
    for line in (tmp / "visits.jsonl").read_text(encoding="utf-8").splitlines():
        e = json.loads(line)
        if e["kind"] in ("view", "input"):
            continue
        events.append({"id": f"sim0-e{e['seq']}", "boot": "sim0", "source": "engine",
                       "seq": e["seq"], "t": e["t"], "wall": base + e["t"], "kind": e["kind"],
                       "session": e["session"], "scene": e["scene"], "data": e["data"]})
    for i in range(0, len(events), 1000):
        store(db, "s1", events[i:i + 1000], time.time())
    summaries.summarise_all(db)
    src = tmp / "yaml"
    (src / "scenes").mkdir(parents=True)
    shutil.copy(DEMO / "exhibit.yaml", src / "exhibit.yaml")
    for f in (DEMO / "scenes").glob("*.yaml"):
        shutil.copy(f, src / "scenes" / f.name)
    key = bundle.new_key(tmp / "publisher.pem")
    bundle.pack(src, "drug-prevention", "1.0.0", key, tmp / "demo.showfloor")
    public = key.public_key()
    bundles.store_bundle(db, tmp / "demo.showfloor", "test", {bundle.key_id(public): public})
    yield db
    db.dispose()


def test_the_real_engines_visits_make_valid_statements(demo: t.Database) -> None:
    stmts = [json.loads(x) for x in export(demo).splitlines()]
    kinds = Counter(s["verb"]["display"]["en-US"] for s in stmts)
    assert set(kinds) == {"initialized", "experienced", "answered", "completed", "terminated"}
    assert kinds["initialized"] == kinds["terminated"] == 40
    answers = [s for s in stmts if s["verb"]["id"] == xapi.ADL + "answered"]
    assert answers
    kinds_of_question = set()
    for s in stmts:
        validate(s)
    for s in answers:
        d = s["object"]["definition"]
        # the engine judged the answer; the bundle's pattern must agree with it
        want = set(d["correctResponsesPattern"][0].split("[,]"))
        got = set(s["result"].get("response", "").split("[,]")) - {""}
        assert s["result"]["success"] is (got == want), s
        kinds_of_question.add(len(want) > 1)
    assert kinds_of_question == {False, True}  # single answers and multiple ones


def test_a_learning_measures_quiz_says_its_role(hall: t.Database) -> None:
    row = {"kind": "quiz_completed", "session": "x1", "scene": "quiz", "exhibit": "demo",
           "version": "0.1.0", "t": 5.0, "wall": local(2026, 11, 2, 11, 0), "id": "b-e9",
           "hall_id": "h1", "station_id": "s1", "reached_end": False,
           "data": {"score": 0, "max": 2, "passed": False, "role": "pre", "measure": "m"}}
    with hall.read() as conn:
        s = xapi.Statements(conn, HOME).make(row, xapi.Visit(xapi.registration("x1")))
    assert s is not None
    validate(s)
    ext = s["context"]["extensions"]
    assert (ext[HOME + "/xapi/extensions/role"], ext[HOME + "/xapi/extensions/measure"]) == (
        "pre", "m")
    assert s["result"]["score"] == {"raw": 0, "min": 0, "max": 2, "scaled": 0.0}
    assert "duration" not in s["result"]  # the quiz's entry is not among these events
