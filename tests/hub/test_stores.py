"""The "What this hub stores" page: a real hub process (SQLite), a signed-in viewer, httpx.

The hub runs with k = 12 and 30 days of retention; one purge is in its audit log.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from showfloor.analytics import exports
from showfloor.hub import audit
from showfloor.hub import db as t

from ._dashboard_support import create_user, session
from ._support import RunningHub, start_hub

EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
PURGED_AT = time.time() - 3600


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    url = f"sqlite:///{tmp_path_factory.mktemp('stores')}/hub.sqlite"
    db = t.Database(url)
    t.upgrade(db)
    with db.write() as conn:
        audit.record(conn, PURGED_AT, "hub", "events.purged", "events", deleted=1234,
                     until=PURGED_AT - 30 * 86400, retention_days=30)
    db.dispose()
    create_user(url, "vic", "viewer")
    running = start_hub(url, env={"SHOWFLOOR_HUB_REPORT_MIN_CELL": "12",
                                  "SHOWFLOOR_HUB_RETENTION_DAYS": "30"})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def page(hub: RunningHub) -> str:
    with session(hub.url, "vic") as client:
        r = client.get("/stores")
        assert r.status_code == 200, r.text
        return r.text


def _doc_kinds(section: str) -> list[str]:
    text = EVENTS_DOC.read_text(encoding="utf-8")
    part = text.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^### `([a-z_]+)`", part, re.M)


def _page_kinds(page: str, which: str) -> list[str]:
    found = re.search(rf'id="{which}">(.*?)</p>', page, re.S)
    assert found, f"no #{which} on the page"
    return re.findall(r"<code>([a-z_]+)</code>", found.group(1))


def test_any_viewer_reads_what_the_hub_stores(page: str) -> None:
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert "What this hub stores" in text
    assert "no names, no faces, no photos, no voices, no free text" in text
    assert "anonymous visit id" in text
    # the hub's own settings, not the defaults
    assert "Raw events older than 30 days" in text
    assert "fewer than 12 visits is shown as < 12" in text
    assert "cannot be set below 5" in text
    # the last purge, from the audit log
    assert "1234 events older than" in text
    # the nav links the page, marked as the current one
    assert '<a href="/stores" aria-current="page">' in page


def test_the_page_lists_every_event_kind_docs_events_md_lists(page: str) -> None:
    assert _page_kinds(page, "engine-kinds") == _doc_kinds("Engine events")
    assert _page_kinds(page, "station-kinds") == _doc_kinds("Station events")
    assert _page_kinds(page, "competition-kinds") == _doc_kinds("Competition events")


def test_the_page_lists_every_export_table(page: str) -> None:
    for spec in exports.SPECS:
        assert f"<code>{spec.name}</code>" in page


def test_competition_results_are_listed_as_kept(page: str) -> None:
    row = page.split('<th scope="row">Competition results</th>', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert "never a player" in cells[0].lower() and "final board" in cells[0]
    assert cells[1] == "Kept"  # never purged with the raw events


def test_signed_out_the_page_is_not_shown(hub: RunningHub) -> None:
    with httpx.Client(base_url=hub.url, timeout=15) as client:
        r = client.get("/stores", follow_redirects=False)
    assert r.status_code in (302, 303, 401)
    assert "no free text" not in r.text
