"""New versions of the exhibit onto a running station: deploy, idle switch, health, revert.

The :class:`DeliveryAgent` runs beside a :class:`~showfloor.station.app.Station`
whose exhibit lives in a content store (:mod:`showfloor.station.content_store`).
One deploy at a time, each in these states (what the hub's rollout page shows)::

    queued → downloading → verified → waiting_idle → running
                                   ↘ failed          ↘ rolled_back
    (an expired manifest: stale — the running version keeps playing)

A deploy fetches the signed manifest from the hub, admits it (signature,
expiry, not older than the floor), fetches only the files the station lacks,
stages the version folder (``showfloor check`` on it), waits for an idle
moment (no visit, no idle countdown), switches ``current`` atomically and
the running engine with it, then waits up to ``delivery.health_seconds`` for
a surface to draw the new attract view. Drawn: the version is confirmed (the
floor rises, old versions are cleaned). Not drawn, or it would not load: the
previous version comes back and the hub hears why. A version that failed its
health check :data:`MAX_ATTEMPTS` times is refused without switching until a
newer one comes.

A version staged by ``showfloor install`` (a USB stick, no hub) is switched by
the same code: the agent looks at the store's ``state.json`` every
:data:`PENDING_POLL` seconds.

Every state goes to the hub as ``POST /api/v1/deploy/status`` (signed like
every station request). Reports wait in ``deploy-reports.json`` in the data
folder while the hub is away, so the final state of a deploy is never lost.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from showfloor import fleet
from showfloor.content.bundle import BundleError, load_trusted, parse_manifest
from showfloor.content.lint import check
from showfloor.errors import ShowfloorError
from showfloor.station import fetch
from showfloor.station.content_store import ContentStore, StaleError, version_key

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from showfloor.station.app import Station

log = logging.getLogger("showfloor.delivery")

#: A version that failed its health check this many times is not switched to again.
MAX_ATTEMPTS = 2
#: How often the agent looks for a version staged by ``showfloor install`` (s).
PENDING_POLL = 1.0
#: How often it looks for an idle moment while a version waits (s).
IDLE_POLL = 0.1
#: The most reports kept while the hub is away (the oldest progress goes first).
MAX_REPORTS = 200
#: The states a deploy reports (``fleet.DeployStatus.state``).
STATES = fleet.DEPLOY_STATES
DEPLOY_STATUS = f"{fleet.API}/deploy/status"

Keys = dict[str, "Ed25519PublicKey"]


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise ShowfloorError(f"the command's '{what}' is {text!r}, not base64 text")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
    except (binascii.Error, ValueError) as err:
        raise ShowfloorError(f"the command's '{what}' is not base64 ({err})") from err


class ReportQueue:
    """Deploy reports for the hub, kept on disk until it has taken them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[dict[str, Any]] = self._load()
        self.wake = asyncio.Event()

    def _load(self) -> list[dict[str, Any]]:
        try:
            raw = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []
        return [r for r in raw if isinstance(r, dict)] if isinstance(raw, list) else []

    def _save(self) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(self.items))
        os.replace(tmp, self.path)

    def add(self, report: dict[str, Any]) -> None:
        last = self.items[-1] if self.items else None
        if last is not None and last.get("state") == report["state"] == "downloading" and \
                last.get("version") == report.get("version"):
            self.items[-1] = report  # progress: only the newest is worth sending
        else:
            self.items.append(report)
        if len(self.items) > MAX_REPORTS:
            # progress goes first; a final state is kept
            drop = next((i for i, r in enumerate(self.items)
                         if r.get("state") in ("queued", "downloading", "verified",
                                               "waiting_idle")), 0)
            del self.items[drop]
        with contextlib.suppress(OSError):
            self._save()
        self.wake.set()

    def done(self, n: int) -> None:
        del self.items[:n]
        with contextlib.suppress(OSError):
            self._save()


class DeliveryAgent:
    """Deploys, USB installs and rollback instructions for one station (see the module)."""

    def __init__(self, station: Station, store: ContentStore, data: Path, *,
                 trust: list[str] | None = None, root_keys: list[str] | None = None,
                 health_seconds: float = 60.0, min_free_mb: int = 200,
                 clock: Callable[[], float] = time.time) -> None:
        self.station = station
        self.store = store
        self.data = data
        self.trust = list(trust or [])
        self.root_keys = list(root_keys or [])
        self.health_seconds = health_seconds
        self.min_free = min_free_mb * 1024 * 1024
        self.clock = clock
        #: the link to the hub (:class:`~showfloor.station.uplink.Uplink`), when there is one
        self.uplink: Any = None
        self.reports = ReportQueue(data / "deploy-reports.json")
        #: the state of the last deploy or switch (one of :data:`STATES`; None: none yet)
        self.state: str | None = None
        self.last_reason: str | None = None
        self._busy: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._job: asyncio.Task[None] | None = None
        self._trust_holder: Any = None
        #: pending versions that could not be switched to (each said once)
        self._refused: set[str] = set()

    # -- lifecycle ---------------------------------------------------------
    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._pending_loop()),
                       asyncio.create_task(self._report_loop()),
                       asyncio.create_task(self._after_restart())]

    # -- a restart in the middle ------------------------------------------------
    @property
    def job_path(self) -> Path:
        """The deploy in progress (kept until it ends, so a restart carries it on)."""
        return self.data / "deploy-job.json"

    def _save_job(self, ids: dict[str, Any]) -> None:
        tmp = self.job_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ids), encoding="utf-8")
        os.replace(tmp, self.job_path)

    def _load_job(self) -> dict[str, Any] | None:
        try:
            job = json.loads(self.job_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(job, dict) or _int_or_none(job.get("bundle")) is None:
            return None
        return {"rollout": _int_or_none(job.get("rollout")), "bundle": job["bundle"],
                "exhibit": str(job.get("exhibit", "")), "version": str(job.get("version", ""))}

    async def _after_restart(self) -> None:
        """What a restart cut short goes on: a version switched to but not yet confirmed
        (the station was killed between the switch and its health check) gets its health
        check now, and a deploy still in progress is carried on (downloads resume)."""
        job = self._load_job()
        cur = self.store.current()
        runs_store = self.store.current_path() is not None and \
            Path(self.station.root).resolve() == self.store.path(cur or "").resolve()
        if cur and "@" in cur and runs_store:
            exhibit, version = cur.split("@", 1)
            floor = self.store.floor(exhibit)
            if floor is None or version_key(version) > version_key(floor):
                ids: dict[str, Any] = job if job and (job["exhibit"], job["version"]) == (
                    exhibit, version) else {"rollout": None, "bundle": None,
                                            "exhibit": exhibit, "version": version}
                self._busy = cur
                try:
                    await self._health_after_restart(cur, ids)
                finally:
                    self._busy = None
                if job is ids:
                    self.job_path.unlink(missing_ok=True)
                    return
        if job is not None and self._busy is None:
            log.info("carrying on the deploy of %s %s that a restart cut short",
                     job["exhibit"], job["version"])
            self._busy = f"{job['exhibit']} {job['version']}"
            self._job = asyncio.create_task(self._deploy(job["rollout"], job["bundle"],
                                                          job["exhibit"], job["version"]))

    async def _health_after_restart(self, name: str, ids: dict[str, Any]) -> None:
        since = self.station.clock()
        surface = await self.station.wait_drawn(since, self.health_seconds)
        if surface is None:
            await self._revert(ids, name, f"no surface drew the attract view of {ids['exhibit']} "
                               f"{ids['version']} within {self.health_seconds:g} s of the "
                               "station's restart")
            return
        await asyncio.to_thread(self.store.confirm, name)
        self.report("running", **ids)

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._job] if self._job else [])]:
            task.cancel()
        for task in [*self._tasks, *([self._job] if self._job else [])]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- what the heartbeat carries ------------------------------------------
    def _store_state(self) -> dict[str, Any]:
        """state.json as it is now ({} when it cannot be read: nothing is pending)."""
        try:
            return self.store.state()
        except BundleError:
            return {}

    def content(self) -> dict[str, Any]:
        """The heartbeat's ``content``: what runs, the last deploy state, what is pending."""
        ex = self.station.exhibit
        pending = self._store_state().get("pending")
        return {"exhibit": ex.id, "version": ex.version,
                "state": self.state or "running",
                "pending": _version_of(pending) if isinstance(pending, str) else None}

    # -- keys ----------------------------------------------------------------
    def trust_store(self) -> Any:
        """The signed trust list this station holds (``<data>/trust.json``), when
        ``delivery.root_keys`` names the roots that sign it; else None."""
        if self._trust_holder is None and self.root_keys:
            from showfloor.content.trust import TrustStore

            self._trust_holder = TrustStore(self.data / "trust.json",
                                            load_trusted(self.root_keys))
            if self._trust_holder.problem:
                log.warning("%s", self._trust_holder.problem)
        return self._trust_holder

    def keys(self, role: str) -> Keys:
        """The keys trusted for ``role`` (``bundles`` or ``rollback``): the plain trust
        files and keys of ``delivery.trust`` (both roles), and the active keys with that
        role in the newest signed trust list the station holds (a key it retired is
        left out even when a plain file names it)."""
        plain: Keys = dict(load_trusted(self.trust)) if self.trust else {}
        holder = self.trust_store()
        return holder.keys_for(role, plain) if holder is not None else plain

    async def refresh_trust(self, version: int | None) -> bool:
        """Fetch the hub's signed trust list when it is newer than the one held (the
        heartbeat reply's ``trust_version``); whether a new one is held now."""
        holder = self.trust_store()
        if holder is None or self.uplink is None or not holder.wants(version):
            return False
        resp = await self.uplink.request("GET", f"{fleet.API}/trust")
        if resp.status_code != 200:
            log.warning("the hub's trust list could not be fetched (%s)", resp.status_code)
            return False
        try:
            return bool(await asyncio.to_thread(holder.offer_reply, resp.json()))
        except (BundleError, ValueError) as err:
            log.warning("the hub's trust list was refused: %s", err)
            st = self.station
            if st.store is not None:
                st.store.station_event(st.clock(), "error", what="trust",
                                       detail=str(err)[:200])
            return False

    # -- reports -------------------------------------------------------------
    def report(self, state: str, *, rollout: int | None = None, bundle: int | None = None,
               exhibit: str | None = None, version: str | None = None,
               progress: float | None = None, size: int = 0,
               reason: str | None = None) -> None:
        assert state in STATES, state
        self.state = state
        if state in ("failed", "rolled_back", "stale"):
            self.last_reason = reason
        body = {"rollout": rollout, "bundle": bundle,
                "exhibit": exhibit or self.station.exhibit.id,
                "version": version or self.station.exhibit.version, "state": state,
                "progress": None if progress is None else round(min(1.0, max(0.0, progress)), 4),
                "bytes": int(size), "reason": None if reason is None else reason[:500]}
        log.info("deploy %s %s: %s%s", body["exhibit"], body["version"], state,
                 f" ({reason})" if reason else "")
        st = self.station
        if st.store is not None:
            st.store.station_event(st.clock(), "content", state=state,
                                   exhibit=body["exhibit"], version=body["version"],
                                   rollout=rollout, reason=body["reason"])
        if rollout is not None or bundle is not None or self.uplink is not None:
            self.reports.add(body)

    async def _report_loop(self) -> None:
        failures = 0
        while True:
            if not self.reports.items or self.uplink is None:
                self.reports.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.reports.wake.wait(), 5.0)
                continue
            body = self.reports.items[0]
            try:
                resp = await self.uplink.request("POST", DEPLOY_STATUS, body)
            except (httpx.HTTPError, OSError) as err:
                failures += 1
                log.debug("deploy status not sent: %s", err)
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if resp.status_code in (200, 201, 204) or (400 <= resp.status_code < 500 and \
                    resp.status_code not in (401, 408, 429)):
                if resp.status_code >= 400:
                    log.warning("the hub refused a deploy status (%s): %s", resp.status_code,
                                resp.text[:200])
                failures = 0
                self.reports.done(1)
            else:
                failures += 1
                await asyncio.sleep(min(30.0, 0.5 * 2 ** min(failures, 6)))

    # -- commands from the hub --------------------------------------------------
    async def deploy_command(self, args: dict[str, Any]) -> str:
        """The hub's ``deploy``: start it in the background (the command is acked at once)."""
        rollout = _int_or_none(args.get("rollout"))
        bundle = _int_or_none(args.get("bundle"))
        exhibit, version = str(args.get("exhibit", "")), str(args.get("version", ""))
        if bundle is None:
            raise ShowfloorError(f"the deploy command names no bundle (args {args!r})")
        if self._busy is not None:
            raise ShowfloorError(f"a deploy of {self._busy} is in progress; send this one "
                                 "again when it has finished")
        self._check_attempts(exhibit, version, rollout, bundle)
        self._busy = f"{exhibit} {version}"
        self._save_job({"rollout": rollout, "bundle": bundle, "exhibit": exhibit,
                        "version": version})
        self._job = asyncio.create_task(self._deploy(rollout, bundle, exhibit, version))
        return f"deploying {exhibit} {version}"

    def _check_attempts(self, exhibit: str, version: str, rollout: int | None,
                        bundle: int | None) -> None:
        tries = self._store_state().get("attempts") or {}
        n = tries.get(version, tries.get(f"{exhibit}@{version}", 0)) \
            if isinstance(tries, dict) else 0
        if isinstance(n, int) and n >= MAX_ATTEMPTS:
            reason = (f"version {version} of {exhibit} failed its health check {n} times on "
                      "this station, so it is not tried again; publish a newer version")
            self.report("failed", rollout=rollout, bundle=bundle, exhibit=exhibit,
                        version=version, reason=reason)
            raise ShowfloorError(reason)

    async def _deploy(self, rollout: int | None, bundle: int, exhibit: str,
                      version: str) -> None:
        ids: dict[str, Any] = {"rollout": rollout, "bundle": bundle, "exhibit": exhibit,
                               "version": version}
        try:
            await self._deploy_steps(ids)
        except asyncio.CancelledError:
            raise
        except (ShowfloorError, httpx.HTTPError, OSError) as err:
            self.report("failed", **ids, reason=_sentence(err))
        except Exception as err:  # a deploy never takes the station down
            log.exception("deploy of %s %s", exhibit, version)
            self.report("failed", **ids, reason=f"{type(err).__name__}: {err}")
        finally:
            self._busy = None
        # ended one way or another (not cut by the station stopping): nothing to carry on
        self.job_path.unlink(missing_ok=True)

    async def _deploy_steps(self, ids: dict[str, Any]) -> None:
        up = self.uplink
        if up is None:
            raise ShowfloorError("this station has no hub to fetch the bundle from")
        self.report("queued", **ids)
        manifest, sig = await fetch.fetch_manifest(up.client, up.ident.hub, up.sign,
                                                   ids["bundle"])
        m = parse_manifest(manifest)
        ids["exhibit"], ids["version"] = m.exhibit, m.version
        if m.expires <= self.clock():
            self.report("stale", **ids, reason=f"the manifest of {m.exhibit} {m.version} "
                        f"expired on {m.expiry}; nothing was installed and the running "
                        "version keeps playing — publish it again")
            return
        self._check_attempts(m.exhibit, m.version, ids["rollout"], ids["bundle"])
        try:
            verified = await asyncio.to_thread(self.store.admit, manifest, sig,
                                               self.keys("bundles"), self.clock())
        except StaleError as err:
            self.report("stale", **ids, reason=str(err))
            return
        if self.store.current() == f"{m.exhibit}@{m.version}":
            self.report("running", **ids, reason="this version runs here already")
            return
        missing = await asyncio.to_thread(self.store.missing, m)
        total = sum(f.size for f in missing)
        self.report("downloading", **ids, progress=0.0, size=0)
        if missing:
            await self._fetch(ids, missing, total)
        self.report("verified", **ids, progress=1.0, size=total)
        folder = Path(await asyncio.to_thread(self.store.stage, verified, manifest, sig))
        await self.switch(folder, ids)

    async def _fetch(self, ids: dict[str, Any], missing: list[Any], total: int) -> None:
        up = self.uplink
        last = [0.0]

        def progress(done: int, *_: Any) -> None:
            now = time.monotonic()
            if now - last[0] >= 1.0 or done >= total:
                last[0] = now
                self.report("downloading", **ids, progress=done / total if total else 1.0,
                            size=done)

        await fetch.fetch_missing(up.client, up.ident.hub, up.sign, missing, self.store,
                                  progress=progress, margin=self.min_free)

    async def rollback_command(self, args: dict[str, Any]) -> str:
        """The hub's ``rollback``: a signed instruction lowers the floor; the older version
        runs again at the next idle moment when it is still kept here."""
        rollout = _int_or_none(args.get("rollout"))
        instr = _unb64(args.get("instruction"), "instruction")
        sig = _unb64(args.get("signature"), "signature")
        if self._busy is not None:
            raise ShowfloorError(f"a deploy of {self._busy} is in progress; send the rollback "
                                 "again when it has finished")
        try:
            body = json.loads(instr)
        except ValueError as err:
            raise ShowfloorError("the rollback instruction is not JSON") from err
        await asyncio.to_thread(self.store.rollback, instr, sig, self.keys("rollback"))
        exhibit, to = str(body.get("exhibit")), str(body.get("to"))
        folder = self.store.versions / f"{exhibit}@{to}"
        ids: dict[str, Any] = {"rollout": rollout, "bundle": None, "exhibit": exhibit,
                               "version": to}
        if not folder.is_dir():
            self.report("queued", **ids, reason=f"version {to} is not kept on this station; "
                        "deploy its bundle")
            return f"floor lowered to {to}; version {to} is not kept here, deploy it"
        self._busy = f"{exhibit} {to}"

        async def run() -> None:
            try:
                await self.switch(folder, ids, rollback=True)
            except ShowfloorError as err:
                self.report("failed", **ids, reason=_sentence(err))
            finally:
                self._busy = None

        self._job = asyncio.create_task(run())
        return f"rolling back to {exhibit} {to}"

    # -- the switch --------------------------------------------------------------
    async def switch(self, folder: Path, ids: dict[str, Any], *, rollback: bool = False
                     ) -> bool:
        """Switch to a staged version folder at the next idle moment, then check its health;
        revert when no surface draws its attract view in time. Whether it stays."""
        name = folder.name
        report = await asyncio.to_thread(check, folder, display=self.station.profile.display)
        if report.exhibit is None or not report.ok:
            first = "; ".join(str(p) for p in report.errors[:3])
            raise ShowfloorError(f"version folder {name} has {len(report.errors)} error(s), "
                                 f"so the running version stays: {first}")
        exhibit = report.exhibit
        self.report("waiting_idle", **ids)
        await self.wait_idle()
        # nothing awaited from the idle check to the switch, so no visit starts in between;
        # activate is a rename and an fsync, done at an idle moment
        self.store.activate(name)
        try:
            at = await self.station.switch_to(folder.resolve(), exhibit)
        except Exception as err:  # noqa: BLE001 - whatever stops it from starting: go back
            await self._revert(ids, name, f"{name} could not start: {_sentence(err)}")
            return False
        surface = await self.station.wait_drawn(at, self.health_seconds)
        if surface is None:
            await self._revert(ids, name, f"no surface drew the attract view of {exhibit.id} "
                               f"{exhibit.version} within {self.health_seconds:g} s")
            return False
        await asyncio.to_thread(self.store.confirm, name)
        sw = self.station.last_switch or {}
        log.info("switched to %s; surface %s drew its attract view %.3f s after the idle "
                 "moment", name, surface, sw.get("drawn_after") or 0)
        self.report("rolled_back" if rollback else "running", **ids,
                    reason="rollback instruction" if rollback else None)
        return True

    async def wait_idle(self) -> None:
        """Until the station is at an idle moment (no visit, no idle countdown)."""
        while not self.station.idle():
            await asyncio.sleep(IDLE_POLL)

    async def _revert(self, ids: dict[str, Any], failed: str, reason: str) -> None:
        """Back to the version before ``failed`` (the store counts the attempt)."""
        now = await asyncio.to_thread(self.store.revert, reason)
        if now is None or now == failed:
            self.report("failed", **ids, reason=f"{reason}; there is no earlier version on "
                        "this station to go back to")
            return
        back = self.store.path(now).resolve()
        try:
            await self.wait_idle()
            await self.station.switch_to(back)
        except ShowfloorError as err:
            reason = f"{reason}; going back to {now} failed too: {err}"
        self.report("rolled_back", **ids, reason=reason)

    # -- a version staged by `showfloor install` ------------------------------------
    async def _pending_loop(self) -> None:
        while True:
            await asyncio.sleep(PENDING_POLL)
            try:
                await self.switch_pending()
            except asyncio.CancelledError:
                raise
            except Exception as err:  # noqa: BLE001 - keep looking; say it once
                log.warning("the pending version could not be switched to: %s", err)

    async def switch_pending(self) -> bool:
        """Switch to the version ``showfloor install`` staged, if any (and not failed)."""
        if self._busy is not None:
            return False
        state = self._store_state()
        pending = state.get("pending")
        if not isinstance(pending, str) or pending == state.get("current") or \
                pending in self._refused:
            return False
        version = _version_of(pending)
        tries = state.get("attempts") or {}
        n = tries.get(version, tries.get(pending, 0)) if isinstance(tries, dict) else 0
        if isinstance(n, int) and n >= MAX_ATTEMPTS:
            return False
        folder = self.store.versions / pending
        if not folder.is_dir():
            return False
        ids: dict[str, Any] = {"rollout": None, "bundle": None,
                               "exhibit": pending.split("@", 1)[0], "version": version}
        self._busy = pending
        try:
            return await self.switch(folder, ids)
        except ShowfloorError as err:
            self._refused.add(pending)  # said once; not tried again until a restart
            self.report("failed", **ids, reason=_sentence(err))
            return False
        finally:
            self._busy = None


def _version_of(name: str) -> str:
    return name.split("@", 1)[1] if "@" in name else name


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _sentence(err: BaseException) -> str:
    text = str(err) or type(err).__name__
    if isinstance(err, BundleError | ShowfloorError):
        return text
    return f"{type(err).__name__}: {text}"
