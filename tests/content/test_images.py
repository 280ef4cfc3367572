"""Pictures (``image:`` as a path or {src, alt, decorative, fit, focus}) and source names
(one string, or one per language): the model, the view, and ``check``'s alt and crop rules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from PIL import Image as PILImage
from pydantic import ValidationError

from showfloor.content._images import CROP_WARN_SHARE, FRAMES, crop_share, image_view
from showfloor.content.lint import check
from showfloor.content.model import Image, Source

BASE = """\
format: 1
id: pictures
version: 1.0.0
title: {zh-CN: 图, en: Pictures}
languages: [zh-CN, en]
default_language: zh-CN
sources:
  - {id: who, name: {zh-CN: 世界卫生组织, en: World Health Organization}, url: "https://www.who.int/"}
  - {id: frank, name: FRANK, lang: en, url: "https://www.talktofrank.com/"}
attract: attract
start: intro
scenes:
  - id: attract
    type: attract
    loop: [{image: media/wide.png, duration: 6}]
    call: {zh-CN: 触摸开始, en: Touch to start}
  - id: intro
    type: media
    image: IMAGE
    body: {zh-CN: 你好, en: Hello}
    source: frank
    next: ending
  - id: ending
    type: end
    messages: [{text: {zh-CN: 再见, en: Bye}}]
"""


def exhibit(tmp_path: Path, image: str, stations: dict[str, str] | None = None) -> Path:
    (tmp_path / "media").mkdir(parents=True, exist_ok=True)
    PILImage.new("RGB", (300, 100), (20, 40, 60)).save(tmp_path / "media" / "wide.png")
    PILImage.new("RGB", (160, 120), (20, 40, 60)).save(tmp_path / "media" / "photo.png")
    (tmp_path / "exhibit.yaml").write_text(BASE.replace("IMAGE", image), "utf-8")
    for name, orientation in (stations or {}).items():
        (tmp_path / "stations").mkdir(exist_ok=True)
        (tmp_path / "stations" / f"{name}.yaml").write_text(textwrap.dedent(f"""\
            station: {{id: {name}, name: A station}}
            exhibit: ..
            display: touch
            orientation: {orientation}
            surfaces: [{{id: main, role: kiosk}}]
            """), "utf-8")
    return tmp_path


def codes(root: Path) -> list[tuple[str, int, str]]:
    return [(p.code, p.line, p.message) for p in check(root).problems]


# -- the model ---------------------------------------------------------------------

def test_a_picture_can_be_a_path_or_a_mapping() -> None:
    img = Image(src="media/a.png", alt={"en": "A chart"}, fit="contain", focus=[0.25, 0.75])
    assert img.focus_xy == (0.25, 0.75)
    assert Image(src="media/a.png").focus_xy == (0.5, 0.5)
    assert Image(src="media/a.png", focus="top-right").focus_xy == (1.0, 0.0)


@pytest.mark.parametrize(("fields", "said"), [
    ({"focus": [1.5, 0]}, "less than or equal to 1"),
    ({"focus": "middle"}, "focus"),
    ({"fit": "stretch"}, "'cover' or 'contain'"),
    ({"decorative": True, "alt": {"en": "x"}}, "a decorative picture has no 'alt'"),
])
def test_a_wrong_picture_is_refused(fields: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        Image.model_validate({"src": "media/a.png", **fields})


def test_a_source_name_is_one_string_or_one_per_language() -> None:
    assert Source(id="who", name="WHO", url="https://www.who.int/").name == "WHO"
    assert Source(id="frank", name="FRANK", lang="en", url="https://x.org/").lang == "en"
    named = Source(id="who", name={"zh-CN": "世界卫生组织", "en": "WHO"}, url="https://x.org/")
    assert named.name == {"zh-CN": "世界卫生组织", "en": "WHO"}
    with pytest.raises(ValidationError, match="'lang' is for a name written as one string"):
        Source(id="who", name={"en": "WHO"}, lang="en", url="https://x.org/")


class _Rt:
    lang = "en"

    def text(self, t: dict[str, str] | None) -> str | None:
        return None if t is None else t.get(self.lang)


def test_the_view_of_a_picture_says_its_alt_in_the_language_and_how_it_fits() -> None:
    rt = _Rt()
    assert image_view(None, rt) is None  # type: ignore[arg-type]
    assert image_view("media/a.png", rt) == {  # type: ignore[arg-type]
        "src": "media/a.png", "alt": None, "decorative": False, "fit": "cover",
        "focus": [0.5, 0.5]}
    img = Image(src="media/a.png", alt={"zh-CN": "图表", "en": "A chart"}, fit="contain",
                focus="bottom")
    assert image_view(img, rt) == {  # type: ignore[arg-type]
        "src": "media/a.png", "alt": "A chart", "decorative": False, "fit": "contain",
        "focus": [0.5, 1.0]}


# -- check: what cover crops ---------------------------------------------------------

def test_crop_share_is_what_cover_cuts_off() -> None:
    assert crop_share(1920, 1080, 16 / 9) == pytest.approx(0)
    assert crop_share(1920, 1080, 4 / 3) == pytest.approx(0.25)
    assert crop_share(1080, 1920, 16 / 9) == pytest.approx(1 - (9 / 16) / (16 / 9))
    assert crop_share(300, 100, FRAMES["media"]["landscape"]) > CROP_WARN_SHARE


def test_a_wide_chart_cropped_by_cover_is_reported_with_a_fix(tmp_path: Path) -> None:
    root = exhibit(tmp_path, "{src: media/wide.png, alt: {zh-CN: 图表, en: A chart}}")
    found = [p for p in check(root).problems if p.code == "crop"]
    assert len(found) == 1
    p = found[0]
    assert (p.severity, p.file, p.line) == ("warning", "exhibit.yaml", 19)
    assert "picture 'media/wide.png' (300×100)" in p.message
    assert "64% of it is cut off at the sides on a landscape screen" in p.message
    assert p.hint is not None and "fit: contain" in p.hint


@pytest.mark.parametrize("image", [
    "{src: media/wide.png, fit: contain, alt: {zh-CN: 图表, en: A chart}}",
    "{src: media/wide.png, fit: cover, focus: left, alt: {zh-CN: 图表, en: A chart}}",
    "{src: media/wide.png, decorative: true}",
    "{src: media/photo.png, alt: {zh-CN: 照片, en: A photo}}",  # 4:3 in a ≈1.08 frame: 19 %
])
def test_contain_an_accepted_crop_or_a_near_fit_is_quiet(tmp_path: Path, image: str) -> None:
    assert codes(exhibit(tmp_path, image)) == []


def test_the_crop_is_judged_for_the_orientations_of_the_stations(tmp_path: Path) -> None:
    # a 4:3 photo: 19 % cut in a landscape media frame, 0 % in a portrait one (4:3)
    photo = "{src: media/photo.png, alt: {zh-CN: 照片, en: A photo}}"
    assert codes(exhibit(tmp_path / "a", photo, {"totem": "portrait"})) == []
    # a 3:1 chart: worse in portrait (a 4:3 frame cuts 56 %) than the landscape default
    chart = "{src: media/wide.png, alt: {zh-CN: 图表, en: A chart}}"
    both = exhibit(tmp_path / "b", chart, {"touch": "landscape", "totem": "portrait"})
    [(code, _, message)] = codes(both)
    assert code == "crop" and "64%" in message and "landscape" in message
    only_portrait = exhibit(tmp_path / "c", chart, {"totem": "portrait"})
    [(code, _, message)] = codes(only_portrait)
    assert "56%" in message and "portrait" in message


# -- check: alt text -----------------------------------------------------------------

def test_an_informative_picture_without_alt_is_reported(tmp_path: Path) -> None:
    problems = check(exhibit(tmp_path, "media/photo.png")).problems
    [p] = [p for p in problems if p.code == "alt"]
    assert (p.severity, p.line, p.column) == ("warning", 19, 12)
    assert p.message == ("picture 'media/photo.png' has no 'alt' text: screen readers "
                         "cannot say what it shows")
    assert p.hint is not None
    assert "{src: media/photo.png, alt: {zh-CN: …, en: …}}" in p.hint
    assert "decorative: true" in p.hint


def test_the_attract_loop_and_decorative_pictures_need_no_alt(tmp_path: Path) -> None:
    # the attract loop's wide.png has no alt: it is a backdrop
    assert codes(exhibit(tmp_path, "{src: media/photo.png, decorative: true}")) == []
