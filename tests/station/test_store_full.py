"""A full disk under the station's event log: reported, nothing lost once there is room.

The disk is real: a 1 MB tmpfs mounted for the test (root only; skipped elsewhere).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from showfloor.engine.effects import Event
from showfloor.station.store import EventStore


def test_a_full_disk_is_reported_and_no_event_is_lost(tiny_disk: Path) -> None:
    store = EventStore(tiny_disk / "events.sqlite")
    store.add(Event(0, 0.0, "engine_started", None, None, {}))  # running before it fills
    assert store.flush(10)
    filler = tiny_disk / "filler"
    with contextlib.suppress(OSError), filler.open("wb") as f:
        while True:  # take every byte that is left
            f.write(b"\0" * 4096)
            f.flush()
    n = 2000
    for i in range(n):
        store.add(Event(i + 1, float(i), "scene_entered", "s" * 32, "intro",
                        {"from": "x" * 40}))
    deadline = time.monotonic() + 20
    while store.last_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store.last_error is not None and "full" in store.last_error
    assert store.pending > 0  # still held, in order to be written
    assert any(d["what"] == "store" for _, d in store.recent_errors())

    filler.unlink()  # room again
    assert store.flush(30)
    assert store.last_error is None and store.pending == 0
    store.close()
    con = sqlite3.connect(tiny_disk / "events.sqlite")
    try:
        seqs = sorted(r[0] for r in con.execute("SELECT seq FROM events"))
    finally:
        con.close()
    assert seqs == list(range(n + 1))
