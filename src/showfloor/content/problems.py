"""A problem found in content: where it is, how bad, what to do about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of ``showfloor check``. ``line``/``column`` are 1-based (0: unknown)."""

    severity: Severity
    message: str
    file: str
    line: int = 0
    column: int = 0
    hint: str | None = None
    code: str = "content"

    def where(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} — {self.hint}"
        return f"{self.where()}: {self.severity}: {text}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.message)
