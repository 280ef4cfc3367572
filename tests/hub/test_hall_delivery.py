"""``showfloor hall`` is delivery-ready: its keys, trust lists, bundle and installs, made once.

The whole path (publish, roll out to the hall's stations, roll back) runs in Chromium
in tests/e2e/test_rollout_page.py; here are the pieces the hall makes before its
stations start, and what a restart does with them — in-process, no servers.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from showfloor import cli
from showfloor.content import bundle
from showfloor.errors import BundleError
from showfloor.hall import install, make_keys, pack_exhibit
from showfloor.station.content_store import ContentStore
from station._support import DEMO


def test_keys_bundle_and_install_are_made_once_and_follow_a_raised_version(
        tmp_path: Path) -> None:
    exhibit = tmp_path / "ex"
    shutil.copytree(DEMO, exhibit)
    data = tmp_path / "hall"
    keys = make_keys(data)
    for pem in (keys.publisher, keys.rollback):
        assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    publisher = bundle.key_id(bundle.load_key(keys.publisher).public_key())
    rollback = bundle.key_id(bundle.load_key(keys.rollback).public_key())
    # the hub trusts the publisher only; the stations both (a plain list: both roles)
    assert set(bundle.load_trusted([str(keys.hub_trust)])) == {publisher}
    assert set(bundle.load_trusted([str(keys.trust)])) == {publisher, rollback}

    packed = pack_exhibit(exhibit, data, keys)
    assert (packed.exhibit, packed.version, packed.changed) == ("drug-prevention", "1.0.0",
                                                                False)
    assert bundle.verify(packed.path, keys.trusted).manifest.version == "1.0.0"
    station = data / "stations" / "dp-touch"
    assert install(packed, station, keys) == "drug-prevention@1.0.0"
    store = ContentStore(station)
    assert store.current() == "drug-prevention@1.0.0"
    assert store.floor("drug-prevention") == "1.0.0"

    # a restart: the same keys, the same bundle file, nothing installed again
    made = packed.path.stat().st_mtime_ns
    again = make_keys(data)
    assert set(again.trusted) == {publisher}
    assert pack_exhibit(exhibit, data, again) == packed
    assert packed.path.stat().st_mtime_ns == made
    assert install(packed, station, again) is None

    # the folder changed under the same version: said, and the stations keep what runs
    caption = exhibit / "media" / "intro.en.vtt"
    caption.write_text(caption.read_text().replace("Your body", "Your own body", 1))
    changed = pack_exhibit(exhibit, data, again)
    assert changed.changed and changed.path == packed.path
    assert install(changed, station, again) is None

    # a raised version: packed anew and installed over the old one, which is kept
    yaml = exhibit / "exhibit.yaml"
    yaml.write_text(yaml.read_text().replace("version: 1.0.0", "version: 1.1.0", 1))
    newer = pack_exhibit(exhibit, data, again)
    assert (newer.version, newer.changed) == ("1.1.0", False)
    assert newer.path.name == "drug-prevention-1.1.0.showfloor"
    assert install(newer, station, again) == "drug-prevention@1.1.0"
    state = store.state()
    assert (state["current"], state["previous"]) == ("drug-prevention@1.1.0",
                                                     "drug-prevention@1.0.0")
    assert install(packed, station, again) is None  # older than what runs: left alone


def test_a_station_trusts_what_trust_adds_and_refuses_a_wrong_one_at_start(
        tmp_path: Path) -> None:
    missing = tmp_path / "no-such-trust.txt"
    result = CliRunner().invoke(cli.app, ["station", str(DEMO), "--data", str(tmp_path)],
                                env={"SHOWFLOOR_TRUST": f"{missing} other"})
    assert isinstance(result.exception, BundleError), result.output
    assert str(missing) in str(result.exception)
    assert "neither a trust-list file nor an Ed25519 public key" in str(result.exception)
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(BundleError, match="holds no public key"):
        CliRunner().invoke(cli.app, ["station", str(DEMO), "--data", str(tmp_path),
                                     "--trust", str(tmp_path / "empty.txt")],
                           catch_exceptions=False)
