"""SVG pictures in ``check``: a plain drawing passes, and what could run or blow up does not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS
from showfloor.content._svg import SvgError, read_svg
from showfloor.content.lint import check

PLAIN = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 90"><rect width="160" height="90"/></svg>'


def exhibit_with(tmp_path: Path, svg: str, kind_line: str | None = None) -> Path:
    """The corpus base with its media scene's picture replaced by this SVG."""
    folder = tmp_path / "ex"
    shutil.copytree(CORPUS / "_valid", folder)
    (folder / "media" / "chart.svg").write_text(svg, "utf-8")
    yaml = folder / "exhibit.yaml"
    text = yaml.read_text("utf-8").replace(
        "image: {src: media/pic.png, alt:", "image: {src: media/chart.svg, fit: contain, alt:")
    yaml.write_text(text, "utf-8")
    return folder


def test_a_plain_drawing_passes_and_takes_its_shape_from_the_view_box(tmp_path: Path) -> None:
    report = check(exhibit_with(tmp_path, PLAIN))
    assert report.ok and not report.warnings, [str(p) for p in report.problems]
    facts = read_svg(tmp_path / "ex" / "media" / "chart.svg")
    assert (facts.width, facts.height, facts.active) == (160, 90, [])


@pytest.mark.parametrize(("svg", "said"), [
    ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>'
     '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&b;</text></svg>',
     "declares the entity 'a'"),
    ('<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>',
     "declares the entity 'x'"),
    ('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect></svg>',
     "not well-formed"),
    ('<html><body/></html>', "outermost element is <html>"),
])
def test_entities_and_broken_files_are_refused_before_anything_expands(
        tmp_path: Path, svg: str, said: str) -> None:
    path = tmp_path / "x.svg"
    path.write_text(svg, "utf-8")
    with pytest.raises(SvgError, match=said):
        read_svg(path)
    report = check(exhibit_with(tmp_path, svg))
    assert [p.code for p in report.errors] == ["asset"]
    assert said in report.errors[0].message


def test_a_drawing_without_a_size_or_with_a_handler_is_an_error(tmp_path: Path) -> None:
    report = check(exhibit_with(tmp_path, '<svg xmlns="http://www.w3.org/2000/svg" '
                                'width="100%" onclick="go()"><rect/></svg>'))
    said = " | ".join(p.message for p in report.errors)
    assert len(report.errors) == 2, said
    assert "neither its width and height nor a viewBox" in said
    assert "event attribute 'onclick=' on <svg> at media/chart.svg:1:1" in said
