"""The boots table after a reload: what a boot runs, and every exhibit it ran (`events --boots`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from showfloor.station.store import boots, engine_events

from ._support import DEMO
from .test_operator import LiveStation, page_of, start_visit


def events_boots(data: Path) -> list[dict[str, object]]:
    out = subprocess.run([sys.executable, "-m", "showfloor", "events", str(data), "--boots"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def test_a_reload_is_recorded_and_the_boot_names_the_exhibit_it_runs(tmp_path: Path) -> None:
    ex = tmp_path / "exhibit"
    shutil.copytree(DEMO, ex)
    data = tmp_path / "data"
    live = LiveStation(ex, data)
    try:
        page = page_of(live)
        start_visit(page)
        yaml = ex / "exhibit.yaml"
        text = yaml.read_text(encoding="utf-8")
        assert "id: drug-prevention" in text and "version: 1.0.0" in text
        # the curator swapped in another exhibit (a new id, a new version)
        yaml.write_text(text.replace("id: drug-prevention", "id: choose-well-2", 1)
                        .replace("version: 1.0.0", "version: 2.0.0", 1), encoding="utf-8")
        live.call("reload")
        page.until("reload", timeout=10)
        live.events()  # everything queued is written
        page.close()
    finally:
        live.stop()
    (boot,) = events_boots(data)
    assert boot["boot"] == live.station.store.boot  # type: ignore[union-attr]
    # what the boot runs now, not what it started with
    assert (boot["exhibit"], boot["version"]) == ("choose-well-2", "2.0.0")
    loads = boot["loads"]
    assert isinstance(loads, list)
    assert [(x["exhibit"], x["version"]) for x in loads] == [
        ("drug-prevention", "1.0.0"), ("choose-well-2", "2.0.0")]
    assert loads[0]["seq"] == 0 and loads[1]["seq"] > 0
    assert loads[0]["at"] <= loads[1]["at"]
    # the engine events after a load's seq are its exhibit's: the new engine starts there
    after = [e for e in engine_events(data / "events.sqlite") if e.seq > loads[1]["seq"]]
    assert after[0].kind == "engine_started"
    assert after[0].data["version"] == "2.0.0"
    before = [e for e in engine_events(data / "events.sqlite") if e.seq <= loads[1]["seq"]]
    assert before[0].kind == "engine_started" and before[0].data["version"] == "1.0.0"


def test_a_log_from_before_reloads_were_recorded_still_lists_its_boots(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "events.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE boots (boot TEXT PRIMARY KEY, started REAL NOT NULL, "
                "exhibit TEXT NOT NULL, version TEXT NOT NULL, path TEXT NOT NULL)")
    con.execute("INSERT INTO boots VALUES ('abc', 1.5, 'old', '1', '/x')")
    con.commit()
    con.close()
    assert boots(db) == [{"boot": "abc", "started": 1.5, "exhibit": "old", "version": "1",
                          "path": "/x", "loads": [{"at": 1.5, "seq": 0, "exhibit": "old",
                                                   "version": "1", "path": "/x"}]}]
