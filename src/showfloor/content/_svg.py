"""What ``check`` reads from an SVG picture: its size, and anything in it that could run.

The station shows pictures with ``<img>`` and sends exhibit files with a policy
that forbids script, so an SVG's script never runs; ``check`` still refuses one,
because a picture must be only a picture (and a file opened elsewhere obeys no
station policy). The SVG is read with the standard library's expat parser,
hardened: a document type that declares entities (the "billion laughs" and
external-entity attacks) is refused before anything is expanded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

#: Elements that run script or embed another document.
ACTIVE_ELEMENTS = {"script": "a <script> element",
                   "foreignObject": "a <foreignObject> element (HTML inside the picture)",
                   "handler": "a <handler> element (script)",
                   "iframe": "an <iframe> element", "embed": "an <embed> element",
                   "object": "an <object> element"}
#: Attributes whose value is a link (``href``, ``xlink:href``, SVG animation ``to``/``values``).
LINKS = {"href", "to", "from", "values", "by"}
_JAVASCRIPT = re.compile(r"^\s*(javascript|vbscript|data\s*:\s*text/html)\s*:?", re.I)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(px)?\s*$")


class SvgError(ValueError):
    """The file is not a well-formed SVG picture (or declares entities)."""


@dataclass
class SvgFacts:
    """An SVG picture's size in CSS pixels (``None``: it says none) and its active parts,
    each as ``(what, line, column)`` in the SVG file."""

    width: float | None = None
    height: float | None = None
    active: list[tuple[str, int, int]] = field(default_factory=list)


def _local(name: str) -> str:
    """``http://www.w3.org/2000/svg script`` or ``svg:script`` -> ``script``."""
    return name.rsplit(" ", 1)[-1].rsplit(":", 1)[-1]


def _length(value: str | None) -> float | None:
    m = _LENGTH.match(value or "")
    return float(m.group(1)) if m else None


def read_svg(path: Path) -> SvgFacts:
    """Parse an SVG file; raise :class:`SvgError` when it cannot be read as one."""
    facts = SvgFacts()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root: list[str] = []

    def forbid_entities(name: str, *_: object) -> None:
        raise SvgError(f"it declares the entity '{name}'; a picture needs none")

    def start(name: str, attrs: dict[str, str]) -> None:
        where = (parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)
        local = _local(name)
        if not root:
            root.append(local)
            if local != "svg":
                raise SvgError(f"its outermost element is <{local}>, not <svg>")
            facts.width, facts.height = _length(attrs.get("width")), _length(attrs.get("height"))
            view = (attrs.get("viewBox") or "").replace(",", " ").split()
            if (facts.width is None or facts.height is None) and len(view) == 4:
                try:
                    vw, vh = float(view[2]), float(view[3])
                except ValueError:
                    vw = vh = 0.0
                if vw > 0 and vh > 0:
                    facts.width, facts.height = vw, vh
        if local in ACTIVE_ELEMENTS:
            facts.active.append((ACTIVE_ELEMENTS[local], *where))
        for key, value in attrs.items():
            attr = _local(key)
            if attr.lower().startswith("on"):
                facts.active.append((f"an event attribute '{attr}=' on <{local}>", *where))
            elif attr in LINKS and _JAVASCRIPT.match(value):
                facts.active.append((f"a script link '{attr}=\"{value.strip()[:30]}\"' "
                                     f"on <{local}>", *where))

    parser.StartElementHandler = start
    parser.EntityDeclHandler = forbid_entities
    parser.UnparsedEntityDeclHandler = forbid_entities
    parser.ExternalEntityRefHandler = lambda *a: forbid_entities(str(a[0]))  # type: ignore[assignment]
    try:
        with path.open("rb") as f:
            parser.ParseFile(f)
    except expat.ExpatError as err:
        raise SvgError(f"it is not well-formed XML ({expat.ErrorString(err.code)} at line "
                       f"{err.lineno}, column {err.offset + 1})") from err
    if not root:
        raise SvgError("it holds no <svg> element")
    return facts
