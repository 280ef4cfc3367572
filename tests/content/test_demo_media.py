"""The demo's pictures: full colour (no 256-colour palette banding the soft glows),
within the media budgets, and exactly what ``scripts/make_demo_media.py`` draws."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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


#: drawn for real on every run, whatever the record says (the two quickest to draw, a
#: second or two each): the record must hold what this Pillow and machine really draw
CANARIES = ("sunrise", "bubbles")


def test_the_picture_generator_is_deterministic(tmp_path: Path) -> None:
    """Each PNG is what ``scripts/make_demo_media.py`` draws now, and draws every time.

    The script draws each picture twice (in two processes) and writes it only if both are
    the same bytes; ``media/.pictures.json`` records each PNG's SHA-256, the script's own
    SHA-256 and what else drew it (Pillow, zlib, Python, the machine). A PNG that matches a
    record made by this script here is therefore what the script draws, every time; any
    other is drawn again and compared byte for byte, and so are the canaries, always.
    """
    script = _script()
    fix = "run scripts/make_demo_media.py --images"
    assert script.RECORD == MEDIA / ".pictures.json"
    assert script.RECORD.is_file(), f"{script.RECORD} is missing: {fix}"
    record = script.read_record()
    assert sorted(record) == sorted(script.IMAGES), \
        f".pictures.json records {sorted(record)}, the script draws {sorted(script.IMAGES)}: {fix}"
    source, here = script.script_digest(), script.environment()
    for name in script.IMAGES:
        png = (MEDIA / f"{name}.png").read_bytes()
        assert hashlib.sha256(png).hexdigest() == record[name]["sha256"], \
            f"{name}.png is not the picture the script last drew (.pictures.json records " \
            f"another SHA-256): {fix}"
    # drawn again: the canaries, and every picture the record does not vouch for here
    redraw = [name for name in script.IMAGES if name in CANARIES
              or record[name]["script"] != source or record[name]["drawn_with"] != here]
    for name in redraw:
        out = tmp_path / f"{name}.png"
        out.write_bytes(script.render(name))
        assert out.read_bytes() == (MEDIA / f"{name}.png").read_bytes(), \
            f"{name}.png is stale or drawn differently each time: {fix}"
    # the pictures are right, but drawn by an older script: record them again, or this
    # test redraws them on every run (with another Pillow it does, and passes)
    older = [name for name in script.IMAGES if record[name]["script"] != source]
    assert not older, f".pictures.json was written by an older picture script " \
        f"(for {', '.join(older)}); the pictures are right: {fix} to record them again"
