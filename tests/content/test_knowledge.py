"""The knowledge base (knowledge/*.yaml): loading with file:line:column, bad files
refused without losing the rest, the rules' details the corpus cases do not show,
and the answer budgets' table in docs/ask.md."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT
from showfloor.content.knowledge import ANSWER_BUDGETS, answer_length
from showfloor.content.lint import check
from showfloor.content.load import load
from showfloor.content.problems import Problem

ASK_EXHIBIT = ROOT / "tests" / "ask_exhibit"


@pytest.fixture
def exhibit_dir(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ASK_EXHIBIT, tmp_path / "ask"))


def entry(entry_id: str, en: list[str], zh: list[str], extra: str = "") -> str:
    return (f"  - id: {entry_id}\n"
            f"    questions:\n      zh-CN: [{', '.join(zh)}]\n      en: [{', '.join(en)}]\n"
            f"    answer: {{zh-CN: 一个简短的回答。, en: A short answer.}}\n"
            f"{extra}"
            f"    reviewed_by: Team\n    reviewed_on: 2026-11-20\n")


def topic_file(topic_id: str, *entries: str) -> str:
    return (f"topic: {{id: {topic_id}, title: {{zh-CN: 话题, en: Topic}}}}\nentries:\n"
            + "".join(entries))


def problems_in(problems: list[Problem], file: str) -> list[str]:
    return [str(p) for p in problems if p.file == file]


def test_the_knowledge_base_loads_onto_the_exhibit() -> None:
    loaded = load(ASK_EXHIBIT)
    assert loaded.problems == [] and loaded.exhibit is not None
    kb = loaded.exhibit.knowledge
    assert kb is not None
    # files in name order: friends.yaml, then vaping.yaml
    assert [t.id for t in kb.topics] == ["friends", "vaping"]
    assert [e.id for e in kb.entries] == ["say-no", "buying", "friend-in-trouble",
                                          "vaping-is-a-drug", "vape-flavours"]
    e = kb.entry("vaping-is-a-drug")
    assert e is not None and e.kind == "answer" and e.more == "brain"
    assert e.questions["en"][0] == "Is vaping a drug?"
    assert e.reviewed_on.isoformat() == "2026-11-20"
    assert kb.entry("buying").kind == "safety"  # type: ignore[union-attr]
    assert kb.topic("friends").title["en"] == "Friends and pressure"  # type: ignore[union-attr]
    pos = loaded.positions.at(("knowledge", "topics", 1, "entries", 0, "answer", "en"))
    assert pos is not None and (pos.file, pos.line, pos.column) == ("knowledge/vaping.yaml",
                                                                      11, 11)


def test_no_knowledge_folder_means_no_knowledge_base(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(ROOT / "tests" / "corpus" / "_valid", tmp_path / "v"))
    loaded = load(folder)
    assert loaded.exhibit is not None and loaded.exhibit.knowledge is None


def test_files_starting_with_an_underscore_are_not_entry_files(exhibit_dir: Path) -> None:
    (exhibit_dir / "knowledge" / "_calibration.yaml").write_text(
        "threshold: 0.8\nmargin: 0.02\n", encoding="utf-8")
    report = check(exhibit_dir)
    assert report.problems == [] and report.exhibit is not None
    assert len(report.exhibit.knowledge.topics) == 2  # type: ignore[union-attr]


def test_a_broken_entry_is_left_out_and_the_rest_still_checked(exhibit_dir: Path) -> None:
    (exhibit_dir / "knowledge" / "more.yaml").write_text(topic_file(
        "more",
        entry("fine-one", ["Is it fine?", "Is it ok?", "Is it good?"],
              ["好吗", "可以吗", "行吗"]),
        entry("Broken Id", ["What?", "Which?", "Who?"], ["什么", "哪个", "谁"]),
        entry("late-one", ["Is it late?", "Too late?", "Is it over?"],
              ["晚了吗", "太晚了吗", "结束了吗"], "    source: whoo\n"),
    ), encoding="utf-8")
    report = check(exhibit_dir)
    mine = problems_in(report.problems, "knowledge/more.yaml")
    assert len(mine) == 2, mine
    assert mine[0] == ("knowledge/more.yaml:10:9: error: 'id': 'Broken Id' is not a valid "
                       "id — use lowercase letters, digits, _ and -, e.g. 'broken-id'"), mine
    # the entry after the broken one is still linted, at its own line
    assert mine[1].startswith("knowledge/more.yaml:22:13: error: unknown source 'whoo'"), mine
    assert report.exhibit is None and report.loaded is not None
    partial = report.loaded.partial
    assert partial is not None and partial.knowledge is not None
    assert [e.id for e in partial.knowledge.topics[1].entries] == ["fine-one", "late-one"]


@pytest.mark.parametrize(("text", "expected"), [
    (b"- just\n- a list\n", "knowledge/bad.yaml:1:1: error: knowledge/bad.yaml must be a "
                            "mapping with 'topic:' and 'entries:'"),
    (b"entries: []\n", "knowledge/bad.yaml:1:1: error: knowledge/bad.yaml has no 'topic:'"),
    (b"topic: {id: t, title: {en: T, zh-CN: T}}\nentries: 3\n",
     "knowledge/bad.yaml:2:10: error: 'entries' in knowledge/bad.yaml must be a list"),
    (b"topic: {id: t, title: {en: T, zh-CN: T}}\nentrys: []\n",
     "knowledge/bad.yaml:2:1: error: unknown key 'entrys' in knowledge/bad.yaml — did you "
     "mean 'entries'?"),
    (b"topic: {id: t, title: {en: T, zh-CN: T}\n", "knowledge/bad.yaml:1:"),
    (b"\x00\x01binary", "knowledge/bad.yaml: error: knowledge/bad.yaml is a binary file"),
    (b"topic: {id: t, title: {en: \xff}}\n", "knowledge/bad.yaml:1:28: error: "
                                              "knowledge/bad.yaml is not UTF-8 text"),
], ids=["list", "no-topic", "entries-not-a-list", "unknown-key", "yaml-syntax", "binary",
        "not-utf8"])
def test_a_bad_knowledge_file_is_refused_and_the_others_kept(
        exhibit_dir: Path, text: bytes, expected: str) -> None:
    (exhibit_dir / "knowledge" / "bad.yaml").write_bytes(text)
    loaded = load(exhibit_dir)
    mine = problems_in(loaded.problems, "knowledge/bad.yaml")
    assert any(p.startswith(expected) for p in mine), mine
    kept = loaded.exhibit or loaded.partial
    assert kept is not None and kept.knowledge is not None
    assert {"friends", "vaping"} <= {t.id for t in kept.knowledge.topics}


def test_knowledge_written_in_exhibit_yaml_is_refused(exhibit_dir: Path) -> None:
    ex = exhibit_dir / "exhibit.yaml"
    ex.write_text(ex.read_text("utf-8") + "knowledge: {topics: []}\n", encoding="utf-8")
    report = check(exhibit_dir)
    assert [str(p) for p in report.errors] == [
        "exhibit.yaml:20:1: error: the knowledge base is not written in exhibit.yaml — move "
        "its topics to knowledge/*.yaml, one file per topic (see docs/ask.md)"]


def test_near_duplicates_compare_within_a_language_and_across_entries_only(
        exhibit_dir: Path) -> None:
    (exhibit_dir / "knowledge" / "more.yaml").write_text(topic_file(
        "more",
        # the same question three times in one entry: not two entries confused
        entry("one", ["Is it OK?", "is it ok", "IS IT OK!"], ["好吗", "可以吗", "行吗"]),
        # the same words as 'say-no' once punctuation and case are set aside
        entry("two", ["how do i say NO to a friend", "What now?", "Then what?"],
              ["然后呢", "接下来呢", "怎么办呢"]),
    ), encoding="utf-8")
    report = check(exhibit_dir)
    near = [str(p) for p in report.problems if p.code == "near-duplicate"]
    assert near == [
        "knowledge/more.yaml:13:12: warning: entry 'two' has a phrasing that is the same as "
        "one of entry 'say-no' at knowledge/friends.yaml:8:12 — the retriever would confuse "
        "the two: reword one phrasing, or merge the entries"]


def test_the_answer_budget_follows_the_display(exhibit_dir: Path) -> None:
    zh = "尼古丁会让人上瘾。" * 10  # 90 characters: fine on touch, too long on a projector
    assert answer_length(zh + " \n ") == 90
    f = exhibit_dir / "knowledge" / "friends.yaml"
    f.write_text(f.read_text("utf-8").replace(
        '你可以简单地说"不用了，谢谢"，然后换个话题或者离开。真正的朋友会尊重你的决定。', zh),
        encoding="utf-8")
    assert check(exhibit_dir).problems == []
    over = [str(p) for p in check(exhibit_dir, display="projector").errors]
    assert over == [
        "knowledge/friends.yaml:10:14: error: the zh-CN answer of entry 'say-no' is 90 "
        "characters; a projector display allows 80 — shorten it by 10, and put the rest in "
        "a scene linked with 'more:'"]


def test_the_answer_budgets_are_documented() -> None:
    doc = (ROOT / "docs" / "ask.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (\d+ \| \d+) \|$", doc, re.MULTILINE))
    assert rows == {k: f"{b.wide} | {b.narrow}" for k, b in ANSWER_BUDGETS.items()}
    from showfloor.content.lint import BUDGETS

    assert set(ANSWER_BUDGETS) == set(BUDGETS)


def test_the_near_duplicate_filter_finds_what_comparing_every_pair_finds() -> None:
    """The k-prefix filter is exact: on 400 short phrasings from a small alphabet (many
    near pairs) it finds the same pairs as comparing all 79,800."""
    import random

    from showfloor.content.knowledge import NEAR_DUPLICATE, _bigrams, _Phrasing, _similar_pairs

    rng = random.Random(5)
    words = ["vape", "vapes", "drug", "drugs", "is", "a", "it", "bad", "safe", "ok", "x"]
    texts = sorted({"".join(rng.sample(words, rng.randint(1, 4))) for _ in range(1200)})[:400]
    group = [_Phrasing(i, ("q", i), "en", t, _bigrams(t)) for i, t in enumerate(texts)]
    brute = []
    for i in range(len(group)):
        for j in range(i + 1, len(group)):
            a, b = group[i].grams, group[j].grams
            if len(a & b) / len(a | b) >= NEAR_DUPLICATE - 1e-9:
                brute.append((i, j))
    assert len(brute) > 20
    assert _similar_pairs(group) == brute


def test_the_knowledge_schema_accepts_the_fixture_and_the_demo() -> None:
    import json

    import jsonschema

    from showfloor.content._yaml import parse
    from showfloor.content.schema import knowledge_schema

    validator = jsonschema.Draft202012Validator(knowledge_schema())
    files = [*sorted((ASK_EXHIBIT / "knowledge").glob("*.yaml")),
             *sorted((ROOT / "examples" / "drug-prevention" / "knowledge").glob("[!_]*.yaml"))]
    errors = []
    for f in files:
        doc = json.loads(json.dumps(parse(f.read_text("utf-8")).value, default=str))
        errors += [f"{f.name}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []
    bad = {"topic": {"id": "t", "title": {"en": "T"}}, "entries": [{"id": "x", "answr": {}}]}
    assert list(validator.iter_errors(bad))


def test_each_broken_field_is_named_with_a_fix(exhibit_dir: Path) -> None:
    (exhibit_dir / "knowledge" / "zz.yaml").write_text(
        "topic: {id: zz, title: {zh-CN: 话题, en: Topic}}\n"
        "entries:\n"
        "  - id: a1\n"
        "    kind: safty\n"
        "    questions: {zh-CN: 一个问题, en: [a, b, c]}\n"
        "    answer: just one string\n"
        "    reviewed_by: T\n"
        "    reviewed_on: 2026-13-45\n", encoding="utf-8")
    assert problems_in(load(exhibit_dir).problems, "knowledge/zz.yaml") == [
        "knowledge/zz.yaml:4:11: error: 'kind': 'safty' is not one of 'answer', 'safety' or "
        "'help' — did you mean 'safety'?",
        "knowledge/zz.yaml:5:24: error: the zh-CN 'questions': '一个问题' is not a list — write "
        "each item on its own line, starting with '- ', or as [a, b]",
        "knowledge/zz.yaml:6:13: error: 'answer': 'just one string' is a single value, but a "
        "text is written once per language — give it per language, e.g. answer: {zh-CN: …, "
        "en: …} (with 'just one string' in the right language)",
        "knowledge/zz.yaml:8:18: error: 'reviewed_on': '2026-13-45' is not a date — write the "
        "day as YYYY-MM-DD, e.g. 2026-11-20"]


def test_every_field_of_a_knowledge_file_is_documented() -> None:
    from showfloor.content.schema import knowledge_schema
    from test_docs import field_paths, read, section, table_rows

    schema = knowledge_schema()
    real = set(field_paths(schema, schema.get("$defs", {})))
    documented = set(table_rows(section(read("format.md"), "## Knowledge base"), "field"))
    assert real == documented, (sorted(real - documented), sorted(documented - real))
