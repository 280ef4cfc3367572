"""Start a station (or a preview) on a port: load, check, bind, serve."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import webbrowser
from pathlib import Path
from typing import Any

import uvicorn

from showfloor.content.lint import check
from showfloor.errors import BundleError, ConfigError, ShowfloorError
from showfloor.net import bind
from showfloor.station.app import Station, create_app
from showfloor.station.content_store import ContentStore
from showfloor.station.profile import DEFAULT, StationProfile, exhibit_dir, load_profile
from showfloor.station.store import EventStore
from showfloor.station.systemd import notify

DEFAULT_PORT = 8700


def data_dir(station_id: str, given: Path | None = None) -> Path:
    """Where a station keeps its event log: --data, $SHOWFLOOR_DATA, or the XDG data dir."""
    if given is not None:
        return given
    env = os.environ.get("SHOWFLOOR_DATA")
    if env:
        return Path(env) / station_id
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "showfloor" / "stations" / station_id


def resolve(path: Path | None, profile_path: Path | None) -> tuple[Path, StationProfile]:
    """The exhibit folder and the profile, from a PATH and/or --profile."""
    profile = DEFAULT
    if profile_path is None and path is not None and path.is_file() and path.name != \
            "exhibit.yaml":
        profile_path, path = path, None
    if profile_path is not None:
        loaded, problems = load_profile(profile_path)
        if loaded is None:
            raise ConfigError("; ".join(str(p) for p in problems[:5]))
        profile = loaded
        if path is None:
            path = exhibit_dir(profile_path, profile)
    if path is None:
        raise ShowfloorError("give an exhibit folder or a station profile")
    return path, profile


def build(path: Path, profile: StationProfile, data: Path | None, preview: bool,
          seed: int | None = None) -> tuple[Station, list[Any]]:
    report = check(path, display=profile.display)
    if (report.exhibit is None or not report.ok) and not preview:
        for p in report.errors[:20]:
            print(p, file=sys.stderr)
        raise ShowfloorError(f"{path} has {len(report.errors)} error(s); run "
                             "'showfloor check' and fix them first")
    store = None if preview and data is None else EventStore(
        data_dir(profile.station.id, data) / "events.sqlite")
    if report.exhibit is None or not report.ok:
        # preview of broken content: start with the problems on screen
        from showfloor.content.scaffold import placeholder_exhibit

        station = Station(placeholder_exhibit(), report.root, profile=profile, store=store,
                          preview=True)
        station.problems = [p.as_json() for p in report.errors]
        return station, report.problems
    station = Station(report.exhibit, report.root, profile=profile, store=store,
                      preview=preview, seed=seed)
    return station, report.problems


async def _watch(station: Station, root: Path) -> None:
    """Preview: re-check on every change; swap content in, or show the problems."""
    from watchfiles import awatch

    async for _changes in awatch(root, debounce=300, step=100):
        report = await asyncio.to_thread(check, root)
        if report.exhibit is not None and report.ok:
            await station.replace(report.exhibit, [])
            print(f"reloaded {report.exhibit.id}: {len(report.exhibit.scenes)} scenes",
                  file=sys.stderr)
        else:
            await station.replace(None, [p.as_json() for p in report.errors])
            print(f"{len(report.errors)} error(s):", file=sys.stderr)
            for p in report.errors[:10]:
                print(f"  {p}", file=sys.stderr)


def open_content(folder: Path, profile: StationProfile) -> ContentStore:
    """The station's content store (``<data>/content``), recovered from whatever a
    killed run left half-done."""
    store = ContentStore(folder, keep=profile.delivery.keep)
    store.recover()
    return store


def installed(folder: Path) -> Path | None:
    """The version folder ``<data>/content/current`` points to, when one is installed."""
    cur = folder / "content" / "current"
    if not cur.is_symlink():
        return None
    target = cur.resolve()
    return target if (target / "exhibit.yaml").is_file() else None


def trust_values(profile: StationProfile, profile_path: Path | None) -> list[str]:
    """``delivery.trust``: a file named relative to the profile, else the value as given."""
    out = []
    for value in profile.delivery.trust:
        if profile_path is not None and (profile_path.parent / value).is_file():
            out.append(str(profile_path.parent / value))
        else:
            out.append(value)
    return out


#: exit status asking the service manager for a fresh start (EX_TEMPFAIL)
EXIT_RESTART = 75


class StationServer(uvicorn.Server):
    """uvicorn, leaving the hub first when it is told to stop.

    The uplink goes before the pages: its long poll and uploads end at once, so
    a station stopping together with its hub (Ctrl+C on ``showfloor hall``)
    never asks a hub that is gone, and nothing waits for uvicorn's graceful
    timeout.
    """

    def __init__(self, config: uvicorn.Config, station: Station) -> None:
        super().__init__(config)
        self.station = station
        self._uplink_stopped = False

    async def stop_uplink(self) -> None:
        uplink = self.station.uplink
        if uplink is not None and not self._uplink_stopped:
            self._uplink_stopped = True
            await uplink.stop()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            notify("READY=1")  # systemd (Type=notify) or `showfloor hall`: serving now
            self.station.freeze_startup()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        notify("STOPPING=1")
        await self.stop_uplink()
        await super().shutdown(sockets)


def serve(path: Path | None, profile_path: Path | None = None, *, host: str = "127.0.0.1",
          port: int = DEFAULT_PORT, data: Path | None = None, open_browser: bool = False,
          preview: bool = False, log_level: str = "warning", seed: int | None = None,
          hub: str | None = None, enrol: str | None = None,
          trust: list[str] | None = None) -> int:
    """Run a station until interrupted; the exit status (75: restart me).

    A station whose data folder holds an installed version (``<data>/content/current``)
    runs that one, unless an exhibit folder is given on the command line. ``trust``
    (``--trust``): publisher keys or trust-list files trusted besides the profile's
    ``delivery.trust``.
    """
    if trust:
        from showfloor.content.bundle import load_trusted

        load_trusted(trust)  # a wrong --trust is said now, not at the first deploy
    explicit = path is not None and (path.is_dir() or path.name == "exhibit.yaml")
    if path is None and profile_path is None:
        exhibit_path: Path | None = None
        profile = DEFAULT
    else:
        exhibit_path, profile = resolve(path, profile_path)
        if profile_path is None and path is not None and not explicit:
            profile_path = path
    folder = data_dir(profile.station.id, data)
    content: ContentStore | None = None
    if not preview:
        try:
            content = open_content(folder, profile)
        except BundleError as err:  # say why, and play what is there: new versions wait
            print(f"new versions cannot be installed: {err}", file=sys.stderr, flush=True)
    current = None if preview else installed(folder)
    if current is not None and not explicit:
        exhibit_path = current
    if exhibit_path is None:
        raise ShowfloorError("give an exhibit folder or a station profile, or install a "
                             "bundle first with 'showfloor install BUNDLE --data DIR'")
    ident = None
    if hub is not None:
        from showfloor.station.uplink import identity_for

        ident = identity_for(hub, enrol, profile.station.id, profile.station.name, folder)
    elif enrol is not None:
        raise ShowfloorError("--enrol needs --hub: the address of the hub that made the code")
    sock = bind(host, port)
    station, _ = build(exhibit_path, profile, data, preview, seed)
    app = create_app(station)
    shown = "localhost" if host in ("127.0.0.1", "::1", "0.0.0.0") else host
    url = f"http://{shown}:{port}/"
    print(f"showfloor {'preview' if preview else 'station'} '{profile.station.id}' showing "
          f"{station.exhibit.id}: {url}", flush=True)
    if len(profile.surfaces) > 1:
        # the bare address shows a page that links to each of them
        for s in profile.surfaces:
            print(f"  {s.id:<10} {s.role:<8} {url}?surface={s.id}", flush=True)
    if station.competition is not None:
        from showfloor.competition.room import competition_urls

        for role, address in competition_urls(url.rstrip("/"),
                                              station.competition.key).items():
            print(f"  competition {role:<7} {address}", flush=True)
    if open_browser:
        webbrowser.open(url)
    if ident is not None:
        print(f"enrolled with {ident.hub} as {ident.station} in hall '{ident.hall}'",
              flush=True)
    config = uvicorn.Config(app, log_level=log_level, lifespan="on", ws="websockets-sansio",
                            loop="asyncio", http="h11",
                            ws_max_size=64 * 1024, timeout_graceful_shutdown=2)
    server = StationServer(config, station)
    status = 0

    def restart() -> None:
        nonlocal status
        status = EXIT_RESTART
        server.should_exit = True

    async def main() -> None:
        watcher = asyncio.create_task(_watch(station, exhibit_path)) if preview else None
        uplink = None
        if ident is not None and station.store is not None:
            from showfloor.station.uplink import Uplink

            uplink = Uplink(station, ident, station.store.path, folder, on_restart=restart)
            station.uplink = uplink
            await uplink.start()
        agent = None
        if content is not None:
            from showfloor.station.delivery import DeliveryAgent

            d = profile.delivery
            agent = DeliveryAgent(station, content, folder,
                                  trust=trust_values(profile, profile_path) + list(trust or []),
                                  root_keys=d.root_keys, health_seconds=d.health_seconds,
                                  min_free_mb=d.min_free_mb)
            agent.uplink = uplink
            station.delivery = agent
            await agent.start()
        try:
            await server.serve(sockets=[sock])
        finally:
            if agent is not None:
                await agent.stop()
            await server.stop_uplink()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return status
