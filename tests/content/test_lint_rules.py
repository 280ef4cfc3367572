"""Lint rules held to their exact output: picture budgets, no cascades from a broken link,
text that reads the same in two languages, and the scaffold's own content.

The corpus folders named in :data:`EXACT` are checked strictly here: every
problem ``check`` reports must be one of the folder's ``expect.txt`` lines, and
every line must be reported (test_lint_corpus.py only asks for the lines).
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest

from conftest import CORPUS, ROOT, huge_exhibit
from showfloor.content.lint import BUDGETS, MB, Report, check, same_by_nature
from showfloor.content.media import ImageTooLarge, image_size
from showfloor.content.problems import Problem
from showfloor.content.scaffold import scaffold

#: Corpus folders whose expect.txt is the whole report.
EXACT = ["image-over-budget", "panorama-size", "goto-typo-no-cascade",
         "same-text-in-two-languages"]
LINE = re.compile(r"^(?P<where>[^:]+:\d+:\d+): (?P<severity>error|warning): (?P<text>.+)$")


def said(p: Problem) -> str:
    return f"{p.where()}: {p.severity}: " + (p.message if not p.hint else
                                              f"{p.message} — {p.hint}")


def assert_exactly(report: Report, expected: list[str]) -> None:
    """Each expected ``file:line:col: severity: text`` is reported, and nothing else."""
    reported = [said(p) for p in report.problems]
    shown = "\n".join(f"  {r}" for r in reported) or "  (none)"
    assert len(reported) == len(expected), f"expected {len(expected)}, reported:\n{shown}"
    for line in expected:
        m = LINE.match(line)
        assert m, line
        head = f"{m['where']}: {m['severity']}: "
        assert any(r.startswith(head) and m["text"] in r for r in reported), (
            f"expected {line}\nreported:\n{shown}")


def expected_lines(folder: Path) -> list[str]:
    return [line for line in (folder / "expect.txt").read_text("utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.mark.parametrize("name", EXACT)
def test_corpus_case_reports_exactly_what_it_expects(name: str) -> None:
    folder = CORPUS / name
    assert_exactly(check(folder), expected_lines(folder))


# -- picture sizes ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus base with a real 20000×20000 PNG as its attract picture."""
    return huge_exhibit(tmp_path_factory.mktemp("huge") / "exhibit")


def test_a_huge_picture_is_an_error_at_its_line(huge: Path) -> None:
    assert (huge / "media" / "huge.png").stat().st_size < 100_000
    assert_exactly(check(huge), [
        "exhibit.yaml:20:17: error: image 'media/huge.png' is 20000×20000 pixels "
        "(400 megapixels), over the limit of 33.2 megapixels for the touch display — "
        "scale it down to at most 3840×2160 pixels"])
    assert_exactly(check(huge, display="hologram-fan"), [
        "exhibit.yaml:20:17: error: image 'media/huge.png' is 20000×20000 pixels "
        "(400 megapixels), over the limit of 4.2 megapixels for the hologram-fan display"])


def test_picture_sizes_come_from_the_header_alone(huge: Path) -> None:
    path = huge / "media" / "huge.png"
    assert image_size(path) == (20000, 20000)
    assert image_size(io.BytesIO(path.read_bytes())) == (20000, 20000)  # a glTF texture
    with pytest.raises(OSError):
        image_size(huge / "exhibit.yaml")


def test_a_picture_whose_size_pillow_will_not_say(tmp_path: Path) -> None:
    """A WebP header of 16383×16383: Pillow refuses it before saying its size."""
    folder = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", folder)
    side = 16383
    bits = (side - 1) | (side - 1) << 14  # VP8L: 14 bits of width - 1, then of height - 1
    vp8l = b"\x2f" + bits.to_bytes(4, "little") + bytes(16)
    webp = b"WEBP" + b"VP8L" + len(vp8l).to_bytes(4, "little") + vp8l
    (folder / "media" / "big.webp").write_bytes(b"RIFF" + len(webp).to_bytes(4, "little") + webp)
    with pytest.raises(ImageTooLarge) as caught:
        image_size(folder / "media" / "big.webp")
    assert caught.value.pixels == side * side
    text = (folder / "exhibit.yaml").read_text("utf-8")
    (folder / "exhibit.yaml").write_text(text.replace(
        "{image: media/pic.png, duration: 6}", "{image: media/big.webp, duration: 6}"), "utf-8")
    assert_exactly(check(folder), [
        "exhibit.yaml:20:17: error: image 'media/big.webp' has 268,402,689 pixels "
        "(268.4 megapixels), far over the limit of 33.2 megapixels for the touch display"])


def mb(cell: str) -> int:
    """'16 MB' → bytes."""
    m = re.fullmatch(r"(\d+) MB", cell)
    assert m, cell
    return int(m.group(1)) * MB


def test_the_docs_budget_table_is_the_code_table() -> None:
    """docs/format.md '## Media budgets' shows BUDGETS figure by figure."""
    text = (ROOT / "docs" / "format.md").read_text("utf-8")
    part = text.split("\n## Media budgets\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in part.splitlines():
        m = re.match(r"^\| `([a-z-]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    assert set(rows) == set(BUDGETS)
    for name, b in BUDGETS.items():
        image_file, pixels, pano_file, pano_px, video, audio, model = rows[name]

        assert mb(image_file) == b.image_bytes, name
        assert mb(pano_file) == b.panorama_bytes, name
        assert mb(video) == b.video_bytes, name
        assert mb(audio) == b.audio_bytes, name
        m = re.fullmatch(r"warning above (\d+)×(\d+); error above ([\d.]+) megapixels "
                         r"\((\d+)×(\d+)\)", pixels)
        assert m, (name, pixels)
        assert (int(m[1]), int(m[2])) == b.screen, name
        assert int(m[4]) * int(m[5]) == b.image_pixels, name
        assert m[3] == f"{b.image_pixels / 1e6:.1f}", name
        assert pano_px == f"{b.panorama[0]}×{b.panorama[1]}", name
        t = b.model
        assert model == (f"{t.triangles:,} triangles, {t.draw_calls} draw calls, "
                         f"textures ≤ {t.texture_px} px, {t.model_bytes // MB} MB"), name


def test_budget_tiers_are_consistent() -> None:
    for name, b in BUDGETS.items():
        sw, sh = b.screen
        assert b.image_pixels == 4 * sw * sh, name  # twice the width and the height
        pw, ph = b.panorama
        assert pw == 2 * ph, name
        # at a 90° field of view the screen shows a quarter of a panorama's width, so
        # matching the screen takes 4 × its width: a panorama within the limit is never
        # more than the display needs (hence no warning tier for panoramas)
        assert pw <= 4 * sw, name


# -- one broken link, one problem ------------------------------------------------------

def variant(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    folder = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", folder)
    f = folder / "exhibit.yaml"
    text = f.read_text("utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    f.write_text(text, "utf-8")
    return folder


def test_a_target_with_no_likely_meaning_names_the_scenes_nothing_leads_to(
        tmp_path: Path) -> None:
    folder = variant(tmp_path, ("    next: party\n", "    next: somewhere\n"))
    assert_exactly(check(folder), [
        "exhibit.yaml:27:11: error: scene 'intro' goes to 'somewhere', which does not exist "
        "— link one of the scenes nothing leads to yet ('party'), or add a scene 'somewhere'"])


def test_a_misspelled_start_is_one_problem(tmp_path: Path) -> None:
    folder = variant(tmp_path, ("start: intro", "start: intor"))
    assert_exactly(check(folder), [
        "exhibit.yaml:13:8: error: start scene 'intor' does not exist — did you mean 'intro'?"])
    folder = variant(tmp_path / "b", ("start: intro", "start: zzz"))
    assert_exactly(check(folder), ["exhibit.yaml:13:8: error: start scene 'zzz' does not exist"])


def test_a_link_into_attract_is_not_also_a_dead_end(tmp_path: Path) -> None:
    folder = variant(tmp_path, ("    next: party\n", "    next: attract\n"))
    assert_exactly(check(folder), [
        "exhibit.yaml:27:11: error: scene 'intro' goes to the attract scene"])


def test_an_unlinked_chain_is_one_warning_at_its_first_scene(tmp_path: Path) -> None:
    chain = "".join(f"""  - id: extra_{i}
    type: media
    body: {{zh-CN: 额外{i}, en: Extra {i}}}
    next: {f'extra_{i + 1}' if i < 3 else 'ending'}
""" for i in (3, 2, 1))  # written last first: the root is found by the links, not the order
    folder = variant(tmp_path, ("  - id: ending\n", chain + "  - id: ending\n"))
    report = check(folder)
    assert_exactly(report, [
        "exhibit.yaml:60:9: warning: scene 'extra_1' can never be reached from the start "
        "scene 'intro', nor can the scenes after it: 'extra_3', 'extra_2'"])


# -- the same text in two languages ------------------------------------------------------

@pytest.mark.parametrize(("text", "same"), [
    ("My Exhibit", False),
    ("Touch to start", False),
    ("showfloor check", False),
    ("OK", True),
    ("42", True),
    ("1990–2000", True),
    ("{score} / {total}", True),
    ("https://www.who.int/", True),
    ("info@museum.example", True),
    ("WHO", True),
    ("DNA, RNA, CO2", True),
    ("3D", True),
    ("Marie Curie", False),
])
def test_what_may_read_the_same_in_every_language(text: str, same: bool) -> None:
    assert same_by_nature(text) is same


def test_the_allow_list_takes_names_out() -> None:
    names = ["Marie Curie", "showfloor check"]
    assert same_by_nature("Marie Curie (1867–1934)", names)
    assert same_by_nature("showfloor check", names)
    assert not same_by_nature("Run showfloor check", names)


def test_the_untranslated_language_is_the_one_pointed_at(tmp_path: Path) -> None:
    folder = variant(tmp_path, ("body: {zh-CN: 你好, en: Hello}",
                                "body: {zh-CN: 你好，朋友, en: 你好，朋友}"))
    assert_exactly(check(folder), [
        "exhibit.yaml:25:30: warning: text 'intro.body' is the same in zh-CN and en: "
        "'你好，朋友' — translate it into en"])


# -- showfloor new -------------------------------------------------------------------------

def test_a_new_exhibit_has_no_problem_at_all(tmp_path: Path) -> None:
    root = scaffold(tmp_path / "my-exhibit")
    report = check(root)
    assert report.problems == [], "\n".join(map(str, report.problems))
    ex = report.exhibit
    assert ex is not None
    assert ex.title["en"] == "My Exhibit"
    assert ex.title["zh-CN"] != ex.title["en"]
    # every source is about what cites it: the quiz cites yaml.org for a fact about YAML
    assert [s.url for s in ex.sources] == ["https://yaml.org/"]
    text = (root / "scenes" / "10-main.yaml").read_text("utf-8")
    assert "who" not in text
