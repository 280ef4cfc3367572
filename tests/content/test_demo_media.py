"""The demo's pictures: full colour (no 256-colour palette banding the soft glows),
within the media budgets, and exactly what ``scripts/make_demo_media.py`` draws."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image

from conftest import DEMO, ROOT
from showfloor.content.lint import BUDGETS

MEDIA = DEMO / "media"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_media",
                                                  ROOT / "scripts" / "make_demo_media.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_media"] = module
    spec.loader.exec_module(module)
    return module


def test_the_demo_pictures_are_full_colour_and_within_budget() -> None:
    drawn = set(_script().IMAGES)
    pictures = sorted(MEDIA.glob("*.png"))  # the illustrations and the 360° meadow
    assert {p.stem for p in pictures} >= drawn | {"meadow-360"}
    total = 0
    for path in pictures:
        with Image.open(path) as im:
            assert im.mode in ("RGB", "RGBA"), f"{path.name} is {im.mode}, not full colour"
            if path.stem in drawn:
                assert im.size == (1920, 1080), path.name
            # a palette holds at most 256 colours; soft glows need many more
            assert len(im.getcolors(maxcolors=1 << 22) or range(1 << 22)) > 256, path.name
        size = path.stat().st_size
        assert size <= min(b.image_bytes for b in BUDGETS.values()), path.name
        total += size
    assert total < 4 * 1024 * 1024, f"the demo's pictures take {total:,} bytes"


@pytest.mark.slow
def test_the_picture_generator_is_deterministic(tmp_path: Path) -> None:
    script = _script()
    for name, draw in script.IMAGES.items():
        out = tmp_path / f"{name}.png"
        draw().save(out)
        assert out.read_bytes() == (MEDIA / f"{name}.png").read_bytes(), \
            f"{name}.png is stale or drawn differently each time: run " \
            "scripts/make_demo_media.py --images"
