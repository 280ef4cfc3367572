"""The errors showfloor raises: one base, a few per boundary.

Every message names the thing, the value, what was expected and, where one
exists, a fix. The command line prints ``str(error)`` and never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ShowfloorError(Exception):
    """Base of every error showfloor raises on purpose."""


class ContentError(ShowfloorError):
    """Something wrong in an exhibit's content, at a place in a file.

    ``line`` and ``column`` are 1-based; 0 means "not known".
    """

    def __init__(
        self,
        message: str,
        path: str | Path | None = None,
        line: int = 0,
        column: int = 0,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.hint = hint
        super().__init__(self.__str__())

    def where(self) -> str:
        if self.path is None:
            return ""
        if self.line:
            return f"{self.path}:{self.line}:{self.column or 1}"
        return self.path

    def __str__(self) -> str:
        text = self.message if not self.hint else f"{self.message} — {self.hint}"
        where = self.where()
        return f"{where}: {text}" if where else text


class ExpressionError(ContentError):
    """A condition or assignment that does not parse, or names an unknown variable.

    ``offset`` is the 0-based character offset of the problem inside the
    expression text, so a caller that knows where the expression sits in a file
    can point at the exact column.
    """

    def __init__(self, message: str, offset: int = 0, hint: str | None = None) -> None:
        self.offset = offset
        super().__init__(message, hint=hint)


class BundleError(ShowfloorError):
    """A bundle that cannot be packed, verified or unpacked."""


class DriverError(ShowfloorError):
    """A hardware driver that failed to start or talk to its device."""


class ConfigError(ShowfloorError):
    """A setting or profile value that is not valid."""


class ReplayError(ShowfloorError):
    """A recorded event log that does not replay to the same views."""
