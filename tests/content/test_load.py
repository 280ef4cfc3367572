"""The loader: positions in exhibit.yaml and scenes/*.yaml, scene files, text ids, schema."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from conftest import CORPUS, DEMO, Cli
from showfloor.content._yaml import YamlProblem, parse
from showfloor.content.gltf import GltfError, why_unreadable
from showfloor.content.gltf import inspect as inspect_model
from showfloor.content.lint import check
from showfloor.content.load import Loaded, Pos, load, plain_path
from showfloor.content.problems import Problem
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


# -- every mistake at once --------------------------------------------------------

def edit(root: Path, old: str, new: str, name: str = "exhibit.yaml") -> None:
    text = (root / name).read_text("utf-8")
    assert old in text, old
    (root / name).write_text(text.replace(old, new, 1), encoding="utf-8")


def said(problems: list[Problem]) -> list[str]:
    return [f"{p.where()}: {p.severity}: {p.message}" for p in problems]


def test_mistakes_in_three_files_come_back_from_one_run() -> None:
    """A YAML error, a missing picture and an unknown key, in three files: all three, and
    nothing about links into the unreadable file (intro → party)."""
    report = check(CORPUS / "three-files-three-mistakes")
    assert [(p.file, p.line, p.code) for p in report.errors] == [
        ("exhibit.yaml", 4, "unknown-key"),
        ("scenes/10-intro.yaml", 4, "missing-asset"),
        ("scenes/20-story.yaml", 11, "yaml-syntax")], said(report.problems)
    assert report.exhibit is None and report.loaded is not None
    loaded = report.loaded
    assert loaded.partial is not None and not loaded.complete
    assert loaded.unreadable == ["scenes/20-story.yaml"]
    assert {"party", "quiz", "ending"} <= loaded.unchecked_ids  # read from its text


def test_an_unreadable_exhibit_yaml_still_lets_scene_files_be_checked(exhibit: Path) -> None:
    edit(exhibit, "idle: {timeout: 60, countdown: 15}", "idle: {timeout: 60, countdown: 15")
    scene_file(exhibit, "10-x.yaml", EXTRA.replace("  body:", "  bdoy:"))
    report = check(exhibit)
    assert said(report.errors) == [
        "exhibit.yaml:11:7: error: the '{' here is not closed, or a ',' is missing",
        "scenes/10-x.yaml:3:3: error: unknown key 'bdoy'"]


def test_links_to_a_scene_with_a_mistake_are_not_reported_missing(exhibit: Path) -> None:
    edit(exhibit, "    type: story\n", "    type: story\n    colour: red\n    image: 5\n")
    report = check(exhibit)
    assert [p.code for p in report.errors] == ["unknown-key", "schema"], said(report.problems)
    assert report.loaded is not None and report.loaded.unchecked_ids == {"party"}


def test_a_scene_whose_only_mistake_is_an_unknown_key_is_still_linted(exhibit: Path) -> None:
    edit(exhibit, "    type: story\n", "    type: story\n    colour: red\n")
    edit(exhibit, "        goto: quiz\n", "        goto: quizz\n")
    report = check(exhibit)
    assert said(report.errors) == [
        "exhibit.yaml:30:5: error: unknown key 'colour'",
        "exhibit.yaml:36:15: error: scene 'party' goes to 'quizz', which does not exist"]


def test_a_faulty_setting_does_not_flood_what_depends_on_it(exhibit: Path) -> None:
    """'variables' and 'sources' with a mistake: said once, not at every use."""
    edit(exhibit, "score: {type: int, default: 0}", "score: {type: integer, default: 0}")
    edit(exhibit, "    url: https://www.who.int/", "    url: www.who.int")
    edit(exhibit, "start: intro", "start: Intro Scene")
    edit(exhibit, "    body: {zh-CN: 你好, en: Hello}\n", "    body: {zh-CN: 你好}\n")
    report = check(exhibit)
    assert [(p.line, p.code) for p in report.errors] == [
        (10, "schema"), (13, "schema"), (15, "schema"), (25, "translation")], \
        said(report.problems)
    assert report.loaded is not None
    assert report.loaded.unchecked == {"sources", "start", "variables"}


def test_a_faulty_language_does_not_hide_the_rest(exhibit: Path) -> None:
    edit(exhibit, "languages: [zh-CN, en]", "languages: [zh-CN, English]")
    edit(exhibit, "default_language: zh-CN", "default_language: English")
    edit(exhibit, "image: {src: media/pic.png,", "image: {src: media/pics.png,")
    report = check(exhibit)
    assert said(report.problems) == [
        "exhibit.yaml:5:20: error: the 2nd language: 'English' is not a valid value",
        "exhibit.yaml:6:19: error: 'default_language': 'English' is not a valid value",
        "exhibit.yaml:24:18: error: image file 'media/pics.png' does not exist"]


def test_a_binary_scenes_file_hides_no_other_mistake_and_adds_none(exhibit: Path) -> None:
    text = (exhibit / "exhibit.yaml").read_text("utf-8")
    (exhibit / "exhibit.yaml").write_text(text[: text.index("  - id: ending")], "utf-8")
    (exhibit / "scenes").mkdir()
    (exhibit / "scenes" / "90-end.yaml").write_bytes(b"\x00\x01 not text")
    edit(exhibit, "image: {src: media/pic.png,", "image: {src: media/pics.png,")
    report = check(exhibit)
    assert [(p.file, p.code) for p in report.errors] == [
        ("exhibit.yaml", "missing-asset"), ("scenes/90-end.yaml", "yaml-binary")]


# -- the shape of a scenes file ----------------------------------------------------

def test_scenes_keyed_by_id_are_named_as_such_and_still_checked(exhibit: Path) -> None:
    scene_file(exhibit, "10-keyed.yaml", "# more scenes\n\nextra:\n  type: media\n"
               "  body: {zh-CN: 额外, en: Extra}\n  next: endig\n")
    report = check(exhibit)
    assert said(report.errors) == [
        "scenes/10-keyed.yaml:3:1: error: this file maps scene ids to scenes ('extra: …'), "
        "but a scenes file holds a list of scenes, each with its id inside",
        "scenes/10-keyed.yaml:6:9: error: scene 'extra' goes to 'endig', which does not exist"]
    assert report.errors[0].hint == ("write '- id: extra' instead of 'extra:', with the "
                                     "scene's keys indented under it")


def test_a_scenes_file_of_text_is_reported_where_the_text_starts(exhibit: Path) -> None:
    scene_file(exhibit, "10-x.yaml", "# notes\n\nthe ending goes here\n")
    problems = [p for p in load(exhibit).problems if p.file == "scenes/10-x.yaml"]
    assert said(problems) == ["scenes/10-x.yaml:3:1: error: scenes/10-x.yaml must hold a "
                              "list of scenes, not a text"]


# -- keys indented into a text -------------------------------------------------------

def test_a_required_key_indented_into_a_text_is_one_mistake(exhibit: Path) -> None:
    edit(exhibit, "    body: {zh-CN: 你好, en: Hello}\n    source: who\n    next: party\n",
         "    body:\n      zh-CN: 你好\n      en: Hello\n      next: party\n    source: who\n")
    edit(exhibit, "        label: {zh-CN: 好吧, en: Okay}\n        goto: quiz\n",
         "        label:\n          zh-CN: 好吧\n          en: Okay\n          goto: quiz\n")
    report = check(exhibit)
    assert said(report.problems) == [
        "exhibit.yaml:28:7: error: 'next' is inside 'body', so it reads as a language: it is "
        "probably indented one level too deep",
        "exhibit.yaml:42:11: error: 'goto' is inside 'label', so it reads as a language: it "
        "is probably indented one level too deep"]
    assert report.problems[1].hint == ("'goto' is a key of this choice: move it left, to "
                                       "line up with 'label'")


def test_a_language_named_like_a_key_is_not_misread(exhibit: Path) -> None:
    """Only keys that are not the exhibit's languages are taken for misplaced keys."""
    edit(exhibit, "languages: [zh-CN, en]", "languages: [zh-CN, en, set]")
    edit(exhibit, "call: {zh-CN: 触摸开始, en: Touch to start}",
         "call: {zh-CN: 触摸开始, en: Touch to start, set: Touch}")
    assert not [p for p in load(exhibit).problems if p.code == "indentation"]


# -- plain words -----------------------------------------------------------------------

@pytest.mark.parametrize(("path", "words"), [
    (("questions", 3, "choices", 0, "text"), "'text' of the 4th question's 1st choice"),
    (("questions", 3, "choices", 0), "the 4th question's 1st choice"),
    (("questions", 0, "choices", 1, "text", "en"), "the en 'text' of the 1st question's "
     "2nd choice"),
    (("idle", "timeout"), "'timeout' of 'idle'"),
    (("sources", 10, "url"), "'url' of the 11th source"),
    (("next", 1, "goto"), "'goto' of the 2nd branch"),
    (("variables", "score", "type"), "'type' of the variable 'score'"),
    (("messages", 21), "the 22nd message"),
    (("version",), "'version'"),
])
def test_places_are_said_in_words(path: tuple[str | int, ...], words: str) -> None:
    assert plain_path(path, ["zh-CN", "en"]) == words


def test_no_pydantic_or_parser_words_reach_the_corpus_reports() -> None:
    jargon = ("input should", "instance of", "block mapping", "plain scalar", "simple key",
              "expected <", "did not find expected", "while parsing", "while scanning",
              "validation error", "type=")
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        for p in check(folder).problems:
            text = str(p).lower()
            assert not any(j in text for j in jargon), p
            # a dotted place (questions.3.choices.0.text); text ids ('quiz.questions.q1.prompt',
            # documented in docs/format.md) are names, not places
            unquoted = re.sub(r"'[^']*'", "", p.message)
            assert not re.search(r"\b[a-z_]+\.\d+\.[a-z_]+\b", unquoted), p


@pytest.mark.parametrize(("text", "where", "message", "hint"), [
    ("a:\n  b: 1\n   c: 2\n", (3, 4), "this line is indented more than the line above it",
     "line it up"),
    ("a:\n  b 1\n  c: 2\n", (2, 3), "'b 1' has no ':' after its key", "'key: value'"),
    ("a:\n  b: 1\n c: 2\n", (3, 2), "not indented like the lines around it", "spaces"),
    ("a: 1\nb\nc: 2\n", (2, 1), "this line has no ':' after its key", "'key: value'"),
    ("a: Score: 5\n", (1, 9), "holds ': ' (a colon and a space)", 'a: "Score: 5"'),
    ("a: \"hello\nb: 2\n", (1, 4), "a quote opens here and is never closed", "same quote"),
    ("a: 'it's here'\n", (1, 8), "goes on after its closing quote", 'a: "it\'s here"'),
    ("a: {en: x, zh: y\nb: 2\n", (1, 4), "the '{' here is not closed", "'}'"),
    ("a: {en: Score {x}}\n", (1, 15), "starts a new block here", "must be quoted"),
    ("a:\n\tb: 1\n", (2, 1), "a tab is used to indent this line", "spaces, not tabs"),
    ("a: @home\n", (1, 4), "a value cannot start with '@'", '"@home"'),
    ("a: *bold* text\n", (1, 4), "text cannot start with '*'", "quotes"),
    ("a: {score} points\n", (1, 12), "text that starts with '{' is read as a mapping",
     'a: "{score} points"'),
    ("a:\n  - x\n  b: 1\n", (3, 3), "not indented like the lines around it", "'- '"),
    ("a: 1\n- b\n", (2, 1), "a list item ('- ') stands where a key was expected", "indent"),
    ("a: - b\n", (1, 4), "a list cannot start on the same line as its key", "own line"),
    ("a: 1\n---\nb: 2\n", (2, 1), "ends the document here", "one document"),
    ("a: \x07\n", (1, 4), "invisible control character", "delete it"),
])
def test_yaml_mistakes_are_said_in_plain_words(text: str, where: tuple[int, int],
                                               message: str, hint: str) -> None:
    with pytest.raises(YamlProblem) as info:
        parse(text)
    err = info.value
    assert (err.line, err.column) == where, err.message
    assert message in err.message
    assert err.hint is not None and hint in err.hint
    assert "YAML:" not in err.message


@pytest.mark.parametrize(("data", "what", "hint"), [
    (b"", "the file is empty (0 bytes)", "copy the file again"),
    (b"Kaydara FBX Binary  \x00", "not a glTF binary file", "renamed to .glb"),
    (b"glTF\x02\x00\x00\x00\x00\x10\x00\x00JSON", "cut off: it is 16 bytes but says it "
     "holds 4,096", "copy or download it again"),
])
def test_a_broken_model_file_is_explained(tmp_path: Path, data: bytes, what: str,
                                          hint: str) -> None:
    f = tmp_path / "organ.glb"
    f.write_bytes(data)
    with pytest.raises(GltfError) as info:
        inspect_model(f)
    said_what, said_hint = why_unreadable(f, info.value)
    assert what in said_what and hint in said_hint


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
