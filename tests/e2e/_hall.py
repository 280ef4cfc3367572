"""``make demo``'s hall for the browser tests: one per package run, shared by its modules.

``showfloor hall examples/drug-prevention`` exactly as ``make demo`` starts it, on a
free run of ports with a temporary ``--data``; test_newcomer opens what it prints,
test_rollout_page delivers a new version to its stations and rolls it back.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hub.test_hall import start_hall

SURFACE_LINE = re.compile(r"^  (\S+)\s+(\S+)\s+(kiosk|control|display)\s+(http://\S+)$", re.M)


@dataclass
class Hall:
    proc: subprocess.Popen[str]
    port: int
    out: str
    data: Path
    #: (station, surface, role, url) as printed
    surfaces: list[tuple[str, str, str, str]] = field(default_factory=list)

    def station_port(self, station: str) -> int:
        """The port of a station, from the address the hall printed for it."""
        url = next(u for st, _, _, u in self.surfaces if st == station)
        return int(url.rsplit(":", 1)[1].split("/", 1)[0])

    @property
    def password(self) -> str:
        """The first admin's password, as the hall wrote it."""
        return (self.data / "admin-password.txt").read_text().strip()


def running_hall(data: Path) -> Iterator[Hall]:
    """Start the hall in ``data``, yield it, stop it as Ctrl+C in its terminal does."""
    proc, port, out = start_hall(data, new_session=True)
    h = Hall(proc, port, out, data, [(m[1], m[2], m[3], m[4])
                                     for m in SURFACE_LINE.finditer(out)])
    try:
        assert "enrolled and live" in out, out
        yield h
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
