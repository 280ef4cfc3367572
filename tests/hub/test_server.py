"""The hub process's garbage-collection policy (server.quiet_gc, HubState.collect_garbage)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from showfloor.hub import db as t
from showfloor.hub.server import quiet_gc
from showfloor.hub.settings import HubSettings
from showfloor.hub.state import HubState


@pytest.fixture
def restored_gc() -> Iterator[None]:
    before = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_quiet_gc_freezes_start_up_and_leaves_the_full_collection_to_the_hub(
        restored_gc: None) -> None:
    young, middle, _ = gc.get_threshold()
    quiet_gc()
    assert gc.get_freeze_count() > 1000  # the modules, the app: not walked again
    assert gc.get_threshold() == (young, middle, 1_000_000)
    # the young generations still collect cycles by themselves
    assert gc.isenabled()


def test_the_full_collection_runs_on_schedule(tmp_path: Path) -> None:
    db = t.Database(HubSettings(db=str(tmp_path / "hub.sqlite")).db)
    try:
        state = HubState(HubSettings(db=str(tmp_path / "hub.sqlite")), db)
        start = state._last_gc
        assert not state.collect_garbage(start + 10_000)  # off unless the server asks
        state.full_gc_seconds = 600
        assert not state.collect_garbage(start + 599)
        full = gc.get_stats()[2]["collections"]
        assert state.collect_garbage(start + 601)
        assert gc.get_stats()[2]["collections"] == full + 1
        assert not state.collect_garbage(state._last_gc + 1)  # and not again at once
    finally:
        db.dispose()
