"""The loader: positions in exhibit.yaml and scenes/*.yaml, scene files, text ids, schema."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from conftest import CORPUS, DEMO, Cli
from showfloor.content.lint import check
from showfloor.content.load import Loaded, Pos, load
from showfloor.content.schema import exhibit_schema, scene_list_schema
from showfloor.content.texts import iter_texts
from showfloor.errors import ContentError

EXTRA = """\
- id: extra
  type: media
  body:
    zh-CN: 额外
    en: Extra
  next: ending
"""


@pytest.fixture
def exhibit(tmp_path: Path) -> Path:
    """A copy of the corpus's valid base exhibit (5 inline scenes), to add to."""
    root = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", root)
    return root


def scene_file(root: Path, name: str, text: str) -> None:
    (root / "scenes").mkdir(exist_ok=True)
    (root / "scenes" / name).write_text(text, encoding="utf-8")


def loaded_ok(root: Path) -> Loaded:
    loaded = load(root)
    assert loaded.ok, "\n".join(map(str, loaded.problems))
    assert loaded.exhibit is not None
    return loaded


# -- positions ------------------------------------------------------------------

def test_positions_of_inline_scenes(exhibit: Path) -> None:
    pos = loaded_ok(exhibit).positions
    # `  - id: intro` is line 22; the id's value starts in column 9
    assert pos.at(("scenes", 1, "id")) == Pos("exhibit.yaml", 22, 9)
    assert pos.at(("scenes", 1, "id"), key=True) == Pos("exhibit.yaml", 22, 5)
    # a flow mapping: `    body: {zh-CN: 你好, en: Hello}` — columns count characters
    assert pos.at(("scenes", 1, "body", "en")) == Pos("exhibit.yaml", 25, 27)
    assert pos.at(("scenes", 1, "image")) == Pos("exhibit.yaml", 24, 12)
    # a path with no position of its own falls back to its nearest parent
    assert pos.at(("scenes", 1, "no-such-key")) == pos.at(("scenes", 1))
    assert pos.file_of(("scenes", 1, "id")) == "exhibit.yaml"


def test_positions_of_scenes_in_files(exhibit: Path) -> None:
    scene_file(exhibit, "10-more.yaml", "# more scenes\n\n" + EXTRA)
    loaded = loaded_ok(exhibit)
    pos = loaded.positions
    assert loaded.exhibit is not None
    assert [s.id for s in loaded.exhibit.scenes][-1] == "extra"
    at = ("scenes", 5)
    assert pos.at((*at, "id")) == Pos("scenes/10-more.yaml", 3, 7)
    assert pos.at((*at, "type"), key=True) == Pos("scenes/10-more.yaml", 4, 3)
    assert pos.at((*at, "body", "en")) == Pos("scenes/10-more.yaml", 7, 9)
    assert pos.file_of((*at, "next")) == "scenes/10-more.yaml"
    # the inline scenes keep their own places
    assert pos.at(("scenes", 4, "id")) == Pos("exhibit.yaml", 52, 9)


def test_problems_in_scene_files_point_into_them(exhibit: Path) -> None:
    scene_file(exhibit, "10-more.yaml", EXTRA.replace("  next: ending", "  nxet: ending"))
    problems = load(exhibit).problems
    assert [(p.file, p.line, p.column, p.severity) for p in problems] == [
        ("scenes/10-more.yaml", 6, 3, "error")]
    assert "did you mean 'next'?" in str(problems[0])


def test_scene_files_load_in_file_name_order(exhibit: Path) -> None:
    for name, scene_id in (("20-b.yaml", "b"), ("10-a.yaml", "a"), ("30-c.yml", "c")):
        scene_file(exhibit, name, EXTRA.replace("id: extra", f"id: {scene_id}"))
    scene_file(exhibit, "notes.txt", "not a scene file")
    loaded = loaded_ok(exhibit)
    assert loaded.exhibit is not None
    ids = [s.id for s in loaded.exhibit.scenes]
    assert ids == ["attract", "intro", "party", "quiz", "ending", "a", "b", "c"]
    assert [loaded.positions.file_of(("scenes", i)) for i in (5, 6, 7)] == [
        "scenes/10-a.yaml", "scenes/20-b.yaml", "scenes/30-c.yml"]


def test_a_scene_file_may_hold_one_mapping(exhibit: Path) -> None:
    one = "\n".join(line[2:] for line in EXTRA.splitlines()) + "\n"
    scene_file(exhibit, "10-one.yaml", one)
    loaded = loaded_ok(exhibit)
    assert loaded.exhibit is not None
    assert loaded.exhibit.scenes[-1].id == "extra"
    assert loaded.positions.at(("scenes", 5, "id")) == Pos("scenes/10-one.yaml", 1, 5)


def test_a_scene_file_may_hold_a_scenes_key(exhibit: Path) -> None:
    wrapped = "scenes:\n" + "".join(f"  {line}\n" for line in EXTRA.splitlines())
    scene_file(exhibit, "10-wrapped.yaml", wrapped)
    loaded = loaded_ok(exhibit)
    assert loaded.exhibit is not None
    assert loaded.exhibit.scenes[-1].id == "extra"
    assert loaded.positions.at(("scenes", 5, "id")) == Pos("scenes/10-wrapped.yaml", 2, 9)
    assert loaded.positions.at(("scenes", 5, "next")) == Pos("scenes/10-wrapped.yaml", 7, 11)


def test_nothing_to_load_raises(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no such file or folder"):
        load(tmp_path / "missing")
    (tmp_path / "exhibit.yml").write_text("id: x\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"has no exhibit\.yaml") as info:
        load(tmp_path)
    assert info.value.hint is not None
    assert "exhibit.yml" in info.value.hint


def test_the_exhibit_yaml_file_itself_may_be_given(exhibit: Path) -> None:
    loaded = loaded_ok(exhibit / "exhibit.yaml")
    assert loaded.root == exhibit


def test_yes_no_on_off_are_text(exhibit: Path) -> None:
    """YAML 1.2 booleans only: a quiz answer 'No' stays the text 'No'."""
    path = exhibit / "exhibit.yaml"
    path.write_text(path.read_text("utf-8").replace("en: Harmful}", "en: Yes}").replace(
        "en: Harmless}", "en: No}").replace("en: Okay}", "en: on}"), encoding="utf-8")
    ex = loaded_ok(exhibit).exhibit
    assert ex is not None
    texts = {t.id: t.text["en"] for t in iter_texts(ex)}
    assert texts["quiz.questions.q1.choices.a.text"] == "Yes"
    assert texts["quiz.questions.q1.choices.b.text"] == "No"
    assert texts["party.choices.say_yes.label"] == "on"


# -- text ids --------------------------------------------------------------------

def test_text_ids_are_derived_from_where_they_sit(exhibit: Path) -> None:
    ex = loaded_ok(exhibit).exhibit
    assert ex is not None
    texts = {t.id: t for t in iter_texts(ex)}
    assert {"title", "attract.call", "intro.body", "party.text",
            "party.choices.say_no.label", "party.choices.say_yes.label",
            "quiz.questions.q1.prompt", "quiz.questions.q1.choices.a.text",
            "ending.messages.0.text"} <= set(texts)
    label = texts["party.choices.say_no.label"]
    assert label.path == ("scenes", 2, "choices", 0, "label")
    assert label.text == {"zh-CN": "不用了", "en": "No thanks"}
    # ids are unique, and follow ids, not positions: reordering choices keeps them
    assert len(texts) == len(list(iter_texts(ex)))


def test_text_ids_survive_reordering(exhibit: Path) -> None:
    text = (exhibit / "exhibit.yaml").read_text("utf-8")
    say_no = text[text.index("      - id: say_no"):text.index("      - id: say_yes")]
    say_yes = text[text.index("      - id: say_yes"):text.index("  - id: quiz")]
    (exhibit / "exhibit.yaml").write_text(text.replace(say_no + say_yes, say_yes + say_no),
                                          encoding="utf-8")
    ex = loaded_ok(exhibit).exhibit
    assert ex is not None
    located = next(t for t in iter_texts(ex) if t.id == "party.choices.say_no.label")
    assert located.path == ("scenes", 2, "choices", 1, "label")


def test_an_explicit_text_id_wins(exhibit: Path) -> None:
    path = exhibit / "exhibit.yaml"
    path.write_text(path.read_text("utf-8").replace(
        "label: {zh-CN: 不用了, en: No thanks}",
        "label: {id: party-refuse, zh-CN: 不用了, en: No thanks}"), encoding="utf-8")
    report = check(exhibit)
    assert report.problems == []
    assert report.exhibit is not None
    ids = [t.id for t in iter_texts(report.exhibit)]
    assert "party-refuse" in ids
    assert "party.choices.say_no.label" not in ids


# -- JSON Schema -------------------------------------------------------------------

@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return exhibit_schema()


def as_json(path: Path) -> Any:
    """A YAML file as the JSON an editor's YAML language server would see."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text("utf-8")), default=str))


def test_schema_command_prints_a_valid_json_schema(cli: Cli) -> None:
    result = cli("schema")
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(printed)
    assert printed == json.loads(json.dumps(exhibit_schema()))
    scenes = cli("schema", "--scenes")
    assert scenes.returncode == 0, scenes.stderr
    jsonschema.Draft202012Validator.check_schema(json.loads(scenes.stdout))


def test_schema_accepts_the_valid_base_and_rejects_a_typo(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    doc = as_json(CORPUS / "_valid" / "exhibit.yaml")
    assert list(validator.iter_errors(doc)) == []
    doc["titel"] = doc.pop("title")
    assert not validator.is_valid(doc)


@pytest.mark.skipif(not (DEMO / "exhibit.yaml").exists(), reason="no demo exhibit")
def test_schema_validates_the_demo_exhibit(schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"exhibit.yaml: {e.json_path}: {e.message}"
              for e in validator.iter_errors(as_json(DEMO / "exhibit.yaml"))]
    scenes = jsonschema.Draft202012Validator(scene_list_schema())
    for f in sorted((DEMO / "scenes").glob("*.y*ml")):
        doc = as_json(f)
        if isinstance(doc, dict) and set(doc) == {"scenes"}:
            doc = doc["scenes"]
        elif isinstance(doc, dict):
            doc = [doc]
        errors += [f"scenes/{f.name}: {e.json_path}: {e.message}"
                   for e in scenes.iter_errors(doc)]
    assert errors == []
