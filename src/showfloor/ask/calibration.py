"""The refusal rule's parameters, stored with the exhibit in ``knowledge/_calibration.yaml``.

``showfloor ask-eval EXHIBIT --set SET --calibrate`` writes the file; without it the
:data:`DEFAULT` values hold (docs/ask.md, "Retrieval and the refusal rule").
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from showfloor.errors import ContentError

FILE = "_calibration.yaml"
_Unit = Annotated[float, Field(ge=0, le=1)]
_Margin = Annotated[float, Field(ge=-1, le=1)]


class Calibration(BaseModel):
    """How a question's fused score becomes an answer, a refusal or a safety/help route."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    #: share of the embedding score in the fused score (1 - weight: BM25)
    weight: _Unit = 0.9
    #: answer only when the best entry's fused score reaches this ...
    threshold: _Unit = 0.62
    #: ... and leads the next entry by at least this much
    margin: _Unit = 0.0
    #: added to e5's cosine for a phrasing in the other script (cross-language)
    cross_boost: Annotated[float, Field(ge=0, le=0.3)] = 0.0
    #: share of BM25 through the glossary added for a phrasing in the other script
    cross_bm25: Annotated[float, Field(ge=0, le=1)] = 0.1
    #: a safety entry wins when its fused score reaches this ...
    safety_threshold: _Unit = 0.62
    #: ... and is no further than this below the best normal entry (negative: it wins
    #: even over a normal entry that scores a little higher)
    safety_margin: _Margin = -0.05
    #: the same two for help entries
    help_threshold: _Unit = 0.66
    help_margin: _Margin = -0.02

    def rule(self, kind: str) -> tuple[float, float]:
        """(threshold, margin) of the ``safety`` or ``help`` entries."""
        return (self.help_threshold, self.help_margin) if kind == "help" \
            else (self.safety_threshold, self.safety_margin)
    #: the labelled set it was calibrated on (its sha256 and path), when it was
    set_sha256: str | None = None
    set_path: str | None = None
    calibrated_on: str | None = None
    figures: dict[str, Any] = Field(default_factory=dict)


DEFAULT = Calibration()


def path_for(exhibit_root: Path) -> Path:
    return exhibit_root / "knowledge" / FILE


def load(exhibit_root: Path) -> Calibration:
    """The exhibit's calibration, or :data:`DEFAULT` when it has none; a file that is not
    a valid calibration raises :class:`ContentError` naming it."""
    path = path_for(exhibit_root)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return DEFAULT
    except (OSError, UnicodeDecodeError) as err:
        raise ContentError(f"cannot read the ask calibration ({err})", path=path) from err
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ContentError(f"not valid YAML ({err})", path=path,
                           line=mark.line + 1 if mark else 0,
                           column=mark.column + 1 if mark else 0,
                           hint="write it again with 'showfloor ask-eval EXHIBIT --set SET "
                           "--calibrate'") from err
    try:
        return Calibration.model_validate(doc or {})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ContentError(f"'{where}' {first['msg']} (values are between 0 and 1)",
                           path=path, hint="recalibrate with 'showfloor ask-eval EXHIBIT --set "
                           "SET --calibrate'") from err


def save(exhibit_root: Path, cal: Calibration) -> Path:
    path = path_for(exhibit_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = ("# The ask terminal's refusal rule (docs/ask.md). Written by\n"
            "# 'showfloor ask-eval EXHIBIT --set SET --calibrate'; not a knowledge entry file.\n")
    body = yaml.safe_dump(cal.model_dump(), sort_keys=False, allow_unicode=True)
    path.write_text(head + body, "utf-8")
    return path
