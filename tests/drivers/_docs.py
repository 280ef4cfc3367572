"""What docs/drivers.md says about a built-in driver: the keys of its section's table."""

from __future__ import annotations

import re
from pathlib import Path

DRIVERS_MD = Path(__file__).resolve().parents[2] / "docs" / "drivers.md"


def documented_keys(driver: str) -> set[str]:
    """The ``| `key` |`` rows under ``### `DRIVER` `` (up to the next heading)."""
    text = DRIVERS_MD.read_text(encoding="utf-8")
    start = text.index(f"### `{driver}`\n")
    end = min(
        (i for i in (text.find("\n## ", start + 1), text.find("\n### ", start + 1)) if i > 0),
        default=len(text),
    )
    return set(re.findall(r"^\| `([a-z_]+)` \|", text[start:end], flags=re.MULTILINE))
