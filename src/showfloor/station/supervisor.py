"""The kiosk supervisor: keeps one Chromium showing one station page, for a year.

``showfloor kiosk --launch`` runs Chromium with the kiosk flags in a fresh,
temporary profile and holds the DevTools protocol on a pipe (fds 3/4, see
``cdp.py``) that only this process can reach. Through it, and through the
station's ``/kiosk/state`` and ``/kiosk/report``, it:

- reloads the page when its renderer crashes (backing off when crashes repeat)
  and shows the station's calm ``/fallback`` page after too many in a window;
- kills and reloads a hung page (no beat for ``hang_seconds``, or no answer to
  a trivial ``Runtime.evaluate`` for as long);
- starts the browser again when it exits, in a fresh profile;
- keeps the kiosk single-page: other pages and windows are closed, navigations
  away from the station are sent back, dialogs are dismissed, downloads denied;
- samples the renderer's memory and reloads the page at an idle moment when it
  is over ``memory_mb`` or older than ``reload_hours``;
- on SIGTERM/SIGINT stops the browser's whole process group, removes the
  profile and exits 0.

Each action is one sentence on stderr and one report to the station
(best-effort: queued and retried while the station is away).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from showfloor.station.cdp import CDP, CDPError, CDPTimeout, Pipes

log = logging.getLogger("showfloor.kiosk")

#: Placeholder in ``kiosk.command()``'s arguments for the temporary profile.
PROFILE = "$SHOWFLOOR_KIOSK_PROFILE"
PROFILE_PREFIX = "showfloor-kiosk-"
#: Set to 1 to let SIGUSR1 hang the page (``while(true){}``) and SIGUSR2 crash its
#: renderer through CDP (``Page.crash``): for tests and bench/kiosk_recovery.py.
TEST_HOOKS = "SHOWFLOOR_KIOSK_TEST_HOOKS"
#: With the test hooks on: a file whose script SIGUSR1 runs in the page instead (read
#: at each signal), as if the page did it after a touch.
TEST_SCRIPT = "SHOWFLOOR_KIOSK_TEST_SCRIPT"

BACKOFF_CAP = 30.0
#: at most one memory reload this often (s): a page over the limit right after a reload
#: would otherwise be reloaded at every idle moment
MEMORY_RELOAD_GAP = 600.0
MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The station profile's ``kiosk:`` limits, as ``/kiosk/state`` gives them."""

    hang_seconds: float = 10
    memory_mb: float = 1500
    crash_limit: int = 5
    crash_window_minutes: float = 10
    reload_hours: float = 24

    @classmethod
    def from_json(cls, data: Any) -> Limits:
        if not isinstance(data, dict):
            return cls()
        base = cls()
        values: dict[str, Any] = {}
        for name in ("hang_seconds", "memory_mb", "crash_limit", "crash_window_minutes",
                     "reload_hours"):
            v = data.get(name)
            values[name] = v if isinstance(v, (int, float)) and not isinstance(v, bool) \
                else getattr(base, name)
        values["crash_limit"] = int(values["crash_limit"])
        return cls(**values)


@dataclass
class Options:
    """How to run the kiosk: the browser command (``kiosk.command()``) and timings."""

    args: list[str]
    url: str
    surface: str | None = None
    headless: bool = False
    poll: float = 1.0
    memory_every: float = 30.0
    #: Chromium's own output (noisy) goes here; None: discarded.
    browser_log: Path | None = None


def backoff(n: int) -> float:
    """Delay before the n-th recovery in a row: 0, 1, 2, 4 … s, capped."""
    return 0.0 if n <= 1 else min(2.0 ** (n - 2), BACKOFF_CAP)


class Station:
    """The station's kiosk endpoints, best-effort: reports wait while it is away."""

    def __init__(self, url: str, surface: str) -> None:
        parts = urlsplit(url)
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.surface = surface
        self.client = httpx.AsyncClient(base_url=self.base, timeout=2.0, trust_env=False)
        self.queue: deque[dict[str, Any]] = deque(maxlen=200)
        self.wake = asyncio.Event()
        self.reachable = True
        self.warned = False

    async def state(self) -> dict[str, Any] | None:
        try:
            r = await self.client.get("/kiosk/state", params={"surface": self.surface})
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            if not self.warned:
                log.warning("the station answers %d to /kiosk/state?surface=%s: %s",
                            r.status_code, self.surface, r.text[:200])
                self.warned = True
            return None
        try:
            data = r.json()
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def report(self, event: str, **fields: Any) -> None:
        body = {"surface": self.surface, "event": event,
                **{k: v for k, v in fields.items() if v is not None}}
        if event == "memory" and not self.reachable:
            return  # a sample is worth nothing later
        self.queue.append(body)
        self.wake.set()

    async def send_all(self) -> None:
        """Deliver what is queued, oldest first; stop at the first failure."""
        while self.queue:
            body = self.queue[0]
            try:
                r = await self.client.post("/kiosk/report", json=body)
            except httpx.HTTPError:
                if self.reachable:
                    log.warning("the station at %s does not answer; reports wait until it "
                                "is back", self.base)
                self.reachable = False
                return
            if not self.reachable:
                log.info("the station answers again; sending %d waiting report(s)",
                         len(self.queue))
            self.reachable = True
            self.queue.popleft()
            if r.status_code >= 400:
                log.warning("the station refused the report %s (%d): %s", body["event"],
                            r.status_code, r.text[:200])

    async def run(self) -> None:
        while True:
            self.wake.clear()
            await self.send_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), 2.0 if self.queue else None)

    async def close(self, flush: float = 2.0) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.send_all(), flush)
        await self.client.aclose()


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()  # fields from "state" on


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return []
    # Chromium rewrites its process title: the arguments may be joined by spaces
    return raw.replace("\0", " ").split()


def browser_processes(leader: int, zombies: bool = False) -> list[int]:
    """Every process of the browser: its session (it is the leader) and descendants
    (without the dead ones waiting to be reaped, unless ``zombies``)."""
    parents: dict[int, int] = {}
    found: set[int] = {leader}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        st = _stat(int(entry.name))
        if st is None:
            continue
        pid = int(entry.name)
        if st[0] in "ZX" and not zombies:
            continue
        parents[pid] = int(st[1])
        if int(st[3]) == leader:  # session id
            found.add(pid)
    changed = True
    while changed:
        changed = False
        for pid, ppid in parents.items():
            if ppid in found and pid not in found:
                found.add(pid)
                changed = True
    return sorted(p for p in found if p in parents)


def page_renderers(leader: int) -> list[int]:
    """The browser's renderer processes that can hold a page (not its own UI's)."""
    out = []
    for pid in browser_processes(leader):
        cmd = _cmdline(pid)
        if "--type=renderer" in cmd and "--top-chrome-webui" not in cmd \
                and "--extension-process" not in cmd:
            out.append(pid)
    return out


def rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / MB


def remove_stale_profiles() -> None:
    """Profiles left by a supervisor that was killed outright (its pid is gone)."""
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob(PROFILE_PREFIX + "*"):
        pid = d.name[len(PROFILE_PREFIX):].split("-")[0]
        if not pid.isdigit() or not d.is_dir() or d.stat().st_uid != os.getuid():
            continue
        if not Path(f"/proc/{pid}").exists():
            shutil.rmtree(d, ignore_errors=True)
            log.info("removed the kiosk profile %s left by a supervisor that was killed", d)


@dataclass
class _Browser:
    proc: asyncio.subprocess.Process
    cdp: CDP
    pipes: Pipes
    profile: str
    page: str | None = None  # target id of the station page
    session: str | None = None


@dataclass
class _Probe:
    started: float
    task: asyncio.Task[Any]


@dataclass
class Supervisor:
    """Runs and watches the kiosk browser until stopped; see the module docstring."""

    opts: Options
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        parts = urlsplit(self.opts.url)
        self.origin = (parts.scheme, _host(parts.hostname or ""), parts.port)
        self.page_path = parts.path or "/"
        self.page_surface = parse_qs(parts.query).get("surface")
        # without one named, the station shows its first surface: "main" in a profile-less
        # station (a station that has no "main" answers 404; give --surface)
        self.surface = self.opts.surface or next(iter(parse_qs(parts.query).get("surface", [])),
                                                 "main")
        self.station = Station(self.opts.url, self.surface)
        self.fallback_url = f"{self.station.base}/fallback"
        self.stopping = asyncio.Event()
        self.browser: _Browser | None = None
        self.crashes: deque[float] = deque()
        self.deaths: deque[float] = deque()
        self.loaded_at = time.monotonic()
        self.recovering = False
        self.expect_crash: asyncio.Event | None = None
        self.fallback_until: float | None = None
        self.pending_reload: tuple[str, dict[str, Any]] | None = None
        self.error_page = False
        self.disconnected_since: float | None = None
        self.probe: _Probe | None = None
        self.memory_task: asyncio.Task[None] | None = None
        self.last_memory = 0.0
        self.memory_reloaded: float | None = None
        self.memory_warned = False
        self.tasks: set[asyncio.Task[Any]] = set()
        self.state: dict[str, Any] | None = None

    # -- the main loop ------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop, sig)
        if os.environ.get(TEST_HOOKS) == "1":
            loop.add_signal_handler(signal.SIGUSR1, lambda: self._spawn(self._test_hang()))
            loop.add_signal_handler(signal.SIGUSR2, lambda: self._spawn(self._test_crash()))
            log.info("test hooks on: SIGUSR1 hangs the page, SIGUSR2 crashes its renderer")
        remove_stale_profiles()
        reporter = asyncio.create_task(self.station.run())
        first = await self.station.state()
        if first is not None:
            self.limits = Limits.from_json(first.get("limits"))
        try:
            while not self.stopping.is_set():
                code = await self._run_browser()
                if self.stopping.is_set():
                    break
                now = time.monotonic()
                self.deaths.append(now)
                while self.deaths and now - self.deaths[0] > 600:
                    self.deaths.popleft()
                delay = backoff(len(self.deaths))
                log.warning("the browser exited with status %s; starting it again%s", code,
                            f" in {delay:g} s" if delay else "")
                self.station.report("browser_exited", exit_code=code)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay)
        finally:
            await self._stop_browser()
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
                loop.remove_signal_handler(sig)
            self.station.report("supervisor_stopped")
            log.info("the kiosk supervisor stopped; the browser and its profile are gone")
            reporter.cancel()
            await self.station.close()
        return 0

    def _stop(self, sig: int) -> None:
        if not self.stopping.is_set():
            log.info("%s received: stopping the browser", signal.Signals(sig).name)
        self.stopping.set()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            err = task.exception()
            log.error("kiosk supervisor task failed: %s", err, exc_info=err)

    async def _run_browser(self) -> int | None:
        """Start the browser and watch it until it exits (its status) or we stop."""
        starting = asyncio.create_task(self._start_browser())
        stop = asyncio.create_task(self.stopping.wait())
        await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():  # stopped while the browser was starting
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError, CDPError):
                await starting
            await self._stop_browser()
            return None
        try:
            b = starting.result()
        except (OSError, CDPError) as err:
            stop.cancel()
            log.error("the browser did not start: %s", err)
            failed = self.browser
            await self._stop_browser()
            return failed.proc.returncode if failed is not None else None
        monitor = asyncio.create_task(self._monitor())
        waiter = asyncio.create_task(b.proc.wait())
        try:
            await asyncio.wait({waiter, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            monitor.cancel()
            stop.cancel()
            for t in list(self.tasks):
                t.cancel()
        if self.stopping.is_set():
            return None
        code = b.proc.returncode
        await self._stop_browser()
        return code

    async def _start_browser(self) -> _Browser:
        profile = tempfile.mkdtemp(prefix=f"{PROFILE_PREFIX}{os.getpid()}-")
        args = [a.replace(PROFILE, profile) for a in self.opts.args]
        extra = ["--remote-debugging-pipe"]
        if self.opts.headless:
            extra.append("--headless=new")
        if os.geteuid() == 0:
            extra.append("--no-sandbox")  # as root, Chromium refuses to start without it
        args[1:1] = extra
        pipes = Pipes()
        cmd, fds = pipes.command(args)
        out: Any = subprocess.DEVNULL
        if self.opts.browser_log is not None:
            out = open(self.opts.browser_log, "ab")  # noqa: SIM115 - closed below
        try:
            proc = await asyncio.create_subprocess_exec(
                *cmd, pass_fds=fds, start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=out, stderr=out)
        except BaseException:  # OSError, or stopped meanwhile
            pipes.close()
            shutil.rmtree(profile, ignore_errors=True)
            raise
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        pipes.close_child_ends()
        cdp = CDP(pipes.from_browser_r, pipes.to_browser_w)
        self.browser = b = _Browser(proc, cdp, pipes, profile)
        await cdp.start()
        self._listen(cdp)
        await cdp.send("Target.setDiscoverTargets", {"discover": True}, timeout=30)
        with contextlib.suppress(CDPError):
            await cdp.send("Browser.setDownloadBehavior", {"behavior": "deny"})
        self.loaded_at = self.last_memory = time.monotonic()
        self.probe = None
        self.error_page = False
        self.disconnected_since = None
        await self._find_page(b, wait=30)
        if not self.opts.headless:
            await self._fill_screen(b)
        log.info("the browser started (pid %d) with %s", proc.pid, self.opts.url)
        self.station.report("browser_started", pid=proc.pid)
        return b

    async def _fill_screen(self, b: _Browser) -> None:
        """Make the window cover the whole screen. Without a window manager (a kiosk
        session that runs the browser alone) --kiosk's full screen is not granted and
        the window keeps Chromium's default size (1050×780); the page knows the screen's
        size. Chromium makes a window of exactly the screen's size one pixel smaller each
        way (so that window managers do not take it for full screen), so it is given one
        row more than the screen: the last row of the page lies under the screen's edge."""
        if b.session is None or b.page is None:
            return
        try:
            res = await b.cdp.send("Runtime.evaluate", {
                "expression": "[screen.width, screen.height]", "returnByValue": True},
                session=b.session, timeout=10)
            width, height = (int(v) for v in res["result"]["value"])
            win = await b.cdp.send("Browser.getWindowForTarget", {"targetId": b.page})
            bounds = win.get("bounds") or {}
            if bounds.get("left") == 0 and bounds.get("top") == 0 and \
                    bounds.get("width", 0) >= width and bounds.get("height", 0) >= height:
                return  # a window manager made it full screen
            state = bounds.get("windowState", "normal")
            if state != "normal":  # bounds can be set on a normal window only
                await b.cdp.send("Browser.setWindowBounds", {
                    "windowId": win["windowId"], "bounds": {"windowState": "normal"}})
            await b.cdp.send("Browser.setWindowBounds", {
                "windowId": win["windowId"],
                "bounds": {"left": 0, "top": 0, "width": width, "height": height + 1}})
            if state == "fullscreen":
                await b.cdp.send("Browser.setWindowBounds", {
                    "windowId": win["windowId"], "bounds": {"windowState": "fullscreen"}})
            log.info("made the browser window fill the %d×%d screen (it was %s×%s)", width,
                     height, bounds.get("width"), bounds.get("height"))
        except (CDPError, KeyError, TypeError, ValueError) as err:
            log.warning("could not make the browser window fill the screen: %s", err)

    async def _find_page(self, b: _Browser, wait: float = 5) -> None:
        """Attach to the station page: the browser's one page target."""
        deadline = time.monotonic() + wait
        while True:
            infos = (await b.cdp.send("Target.getTargets"))["targetInfos"]
            pages = [t for t in infos if t.get("type") == "page"]
            if pages:
                break
            if time.monotonic() > deadline:
                raise CDPError("the browser shows no page")
            await asyncio.sleep(0.1)
        await self._attach(b, pages[0]["targetId"])
        for extra in pages[1:]:
            await self._close_target(extra["targetId"], extra.get("url", ""))

    async def _attach(self, b: _Browser, target: str) -> None:
        b.page = target
        b.session = None
        res = await b.cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        b.session = str(res["sessionId"])
        for method in ("Page.enable", "Inspector.enable"):
            await b.cdp.send(method, session=b.session)
        tree = await b.cdp.send("Page.getFrameTree", session=b.session)
        if (tree.get("frameTree") or {}).get("frame", {}).get("unreachableUrl"):
            self._unreachable()  # it failed before we listened

    async def _stop_browser(self) -> None:
        b, self.browser = self.browser, None
        if b is None:
            return
        pids = browser_processes(b.proc.pid)
        with contextlib.suppress(CDPError):
            if b.proc.returncode is None:
                await b.cdp.send("Browser.close", timeout=2)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(b.proc.wait(), 3)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(b.proc.pid, sig)
            for pid in pids:  # anything that left the process group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            if sig == signal.SIGTERM:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(b.proc.wait(), 3)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(b.proc.wait(), 3)
        for _ in range(50):  # the zygote's children die a moment after it
            left = browser_processes(b.proc.pid)
            if not left:
                break
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.1)
        else:
            log.error("browser processes %s would not end", left)
        b.cdp.close()  # the parent's ends of the pipes are the connection's
        # renderers may still be writing the profile for a moment after SIGKILL
        for _ in range(20):
            shutil.rmtree(b.profile, ignore_errors=True)
            if not os.path.exists(b.profile):
                break
            await asyncio.sleep(0.1)

    # -- events from the browser --------------------------------------------------------

    def _listen(self, cdp: CDP) -> None:
        cdp.on("Target.targetCreated", self._target_created)
        cdp.on("Target.targetInfoChanged", self._target_changed)
        cdp.on("Target.targetDestroyed", self._target_destroyed)
        cdp.on("Target.targetCrashed", self._target_crashed)
        cdp.on("Target.detachedFromTarget", self._detached)
        cdp.on("Inspector.targetCrashed", self._inspector_crashed)
        cdp.on("Page.frameNavigated", self._frame_navigated)
        cdp.on("Page.javascriptDialogOpening", self._dialog)

    def _ours(self, session: str | None) -> bool:
        return self.browser is not None and session is not None \
            and session == self.browser.session

    def _target_created(self, p: dict[str, Any], _s: str | None) -> None:
        info = p.get("targetInfo") or {}
        b = self.browser
        if b is None or info.get("type") != "page" or info.get("targetId") == b.page \
                or b.page is None:
            return
        self._spawn(self._close_target(str(info["targetId"]), str(info.get("url", ""))))

    async def _close_target(self, target: str, url: str) -> None:
        b = self.browser
        if b is None:
            return
        with contextlib.suppress(CDPError):
            await b.cdp.send("Target.closeTarget", {"targetId": target})
        kind = _scheme(url) if url else "page"
        log.warning("closed a new page or window (%s) that is not the station page", kind)
        self.station.report("target_closed", kind=kind)

    def _target_changed(self, p: dict[str, Any], _s: str | None) -> None:
        info = p.get("targetInfo") or {}
        if self.browser is not None and info.get("targetId") == self.browser.page:
            self._check_url(str(info.get("url", "")))

    def _frame_navigated(self, p: dict[str, Any], s: str | None) -> None:
        frame = p.get("frame") or {}
        if self._ours(s) and not frame.get("parentId"):
            if frame.get("unreachableUrl"):  # an error page in place of the station's
                self._unreachable()
            else:
                self.error_page = False
                self._check_url(str(frame.get("url", "")))

    def _unreachable(self) -> None:
        if not self.error_page:
            log.warning("the station page could not be loaded (is the station running?); "
                        "trying again when the station answers")
        self.error_page = True

    def _allowed_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            return False
        return (parts.scheme, _host(parts.hostname or ""), port) == self.origin

    def _allowed(self, url: str) -> bool:
        """The station page itself (its path and surface, any fragment), or /fallback
        while the supervisor shows it; any other address, same origin or not, is not."""
        parts = urlsplit(url)
        if not self._allowed_origin(url):
            return False
        path = parts.path or "/"
        if path == "/fallback":
            return self.fallback_until is not None
        return path == self.page_path and \
            parse_qs(parts.query).get("surface") == self.page_surface

    def _check_url(self, url: str) -> None:
        if not url or self._allowed(url):
            return
        if url.startswith("chrome-error://"):
            self._unreachable()
            return
        if self.recovering:
            return
        self.recovering = True
        self._spawn(self._send_back(url))

    async def _send_back(self, url: str) -> None:
        try:
            kind = _scheme(url) or "other"
            if self._allowed_origin(url):  # the station's own address, not its page
                kind = "same_origin"
                log.warning("the page went to %s on the station instead of its station page; "
                            "sending it back", urlsplit(url).path[:80] or "/")
            else:
                log.warning("the page went to an address away from the station (%s:); "
                            "sending it back", kind)
            self.station.report("navigation_blocked", kind=kind)
            await self._load(self.fallback_url if self.fallback_until else self.opts.url)
        finally:
            self.recovering = False

    def _dialog(self, p: dict[str, Any], s: str | None) -> None:
        b = self.browser
        if b is None or s is None:
            return
        kind = str(p.get("type", "alert"))
        self._spawn(b.cdp.send("Page.handleJavaScriptDialog",
                               {"accept": kind == "beforeunload"}, session=s))
        log.warning("dismissed a dialog the page opened (%s)", kind)
        self.station.report("dialog_dismissed", kind=_short(kind))

    def _detached(self, p: dict[str, Any], _s: str | None) -> None:
        b = self.browser
        if b is not None and p.get("sessionId") == b.session:
            b.session = None
            self._spawn(self._reattach())

    async def _reattach(self) -> None:
        b = self.browser
        if b is None or b.page is None:
            return
        await asyncio.sleep(0.2)  # a destroyed target says so first
        if self.browser is b and b.session is None and b.page is not None:
            with contextlib.suppress(CDPError):
                await self._attach(b, b.page)

    def _target_destroyed(self, p: dict[str, Any], _s: str | None) -> None:
        b = self.browser
        if b is None or p.get("targetId") != b.page:
            return
        b.page = None
        b.session = None
        self._spawn(self._page_gone())

    async def _page_gone(self) -> None:
        """The station page's tab or window was closed: open it again."""
        b = self.browser
        if b is None or b.proc.returncode is not None:
            return
        await asyncio.sleep(0.3)  # closing the last window ends the browser: let it
        if self.browser is not b or b.proc.returncode is not None or b.page is not None:
            return
        try:
            res = await b.cdp.send("Target.createTarget", {"url": self._current_url()})
            b.page = str(res["targetId"])
            await self._attach(b, b.page)
        except CDPError as err:
            if not b.cdp.closed.is_set():  # else the browser is ending: it is started again
                log.error("the station page was closed and could not be opened again: %s",
                          err)
            return
        self.loaded_at = time.monotonic()
        log.warning("the station page was closed; opened it again")
        self.station.report("page_reloaded", reason="closed")

    def _target_crashed(self, p: dict[str, Any], _s: str | None) -> None:
        if self.browser is not None and p.get("targetId") == self.browser.page:
            self._crashed(str(p.get("status", "crashed")))

    def _inspector_crashed(self, _p: dict[str, Any], s: str | None) -> None:
        if self._ours(s):
            self._crashed("crashed")

    def _crashed(self, status: str) -> None:
        if self.expect_crash is not None:  # we killed it ourselves (a hang)
            self.expect_crash.set()
            return
        if self.recovering:
            return
        self.recovering = True
        self._spawn(self._recover_crash(status))

    # -- recovery -----------------------------------------------------------------------

    async def _load(self, url: str) -> None:
        b = self.browser
        if b is None or b.session is None:
            raise CDPError("no station page to load")
        await b.cdp.send("Page.navigate", {"url": url}, session=b.session, timeout=10)
        self.loaded_at = time.monotonic()

    def _current_url(self) -> str:
        return self.fallback_url if self.fallback_until is not None else self.opts.url

    async def _recover_crash(self, status: str) -> None:
        try:
            now = time.monotonic()
            window = self.limits.crash_window_minutes * 60
            self.crashes.append(now)
            while self.crashes and now - self.crashes[0] > window:
                self.crashes.popleft()
            n = len(self.crashes)
            log.warning("the page's renderer crashed (%s; %d in the last %g min)", status, n,
                        self.limits.crash_window_minutes)
            self.station.report("renderer_crashed", crashes=n, kind=_short(status))
            if self.fallback_until is not None:
                await self._load(self.fallback_url)
                return
            if n > self.limits.crash_limit:
                self.fallback_until = now + window
                log.error("%d crashes in %g min: showing the fallback page; the station page "
                          "is tried again in %g min", n, self.limits.crash_window_minutes,
                          self.limits.crash_window_minutes)
                await self._load(self.fallback_url)
                self.station.report("fallback_shown", crashes=n)
                return
            delay = backoff(n)
            if delay:
                await asyncio.sleep(delay)
            await self._load(self.opts.url)
            log.info("reloaded the station page after the crash%s",
                     f" (waited {delay:g} s)" if delay else "")
            self.station.report("page_reloaded", reason="crash", crashes=n)
        except CDPError as err:
            log.error("could not reload the page after a crash: %s", err)
        finally:
            self.recovering = False

    async def _recover_hang(self, kind: str, seconds: float) -> None:
        b = self.browser
        if b is None or self.recovering:
            return
        self.recovering = True
        try:
            log.warning("the page has not answered for %.0f s (%s): killing its renderer and "
                        "reloading it", seconds, "no beat" if kind == "beat" else "no CDP answer")
            self.station.report("page_unresponsive", seconds=round(seconds, 1), kind=kind)
            await self._kill_renderer(b)
            await self._load(self._current_url())
            log.info("reloaded the page after the hang")
            self.station.report("page_reloaded", reason="hang")
        except CDPError as err:
            log.error("could not reload the hung page: %s", err)
        finally:
            self.recovering = False
            self.probe = None

    async def _kill_renderer(self, b: _Browser) -> None:
        """Crash the page's renderer: Page.crash works on a busy main thread; SIGKILL
        of the page renderers if it does not come."""
        self.expect_crash = gone = asyncio.Event()
        try:
            if b.session is not None:
                with contextlib.suppress(CDPError):
                    await b.cdp.send("Page.crash", session=b.session, timeout=1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gone.wait(), 2)
            if not gone.is_set():
                for pid in page_renderers(b.proc.pid):
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(gone.wait(), 3)
        finally:
            self.expect_crash = None

    async def _idle_reload(self, reason: str, fields: dict[str, Any]) -> None:
        if self.recovering:
            return
        self.recovering = True
        try:
            await self._load(self.opts.url)
            log.info("reloaded the station page at an idle moment (%s)", {
                "memory": f"renderer memory {fields.get('rss_mb')} MB over the limit of "
                          f"{fields.get('limit_mb')} MB",
                "schedule": f"loaded more than {self.limits.reload_hours:g} h ago"}[reason])
            self.station.report("page_reloaded", reason=reason, **fields)
            self.pending_reload = None
            if reason == "memory":
                self.memory_reloaded = time.monotonic()
                self.memory_warned = False
        except CDPError as err:
            log.error("could not reload the page: %s", err)
        finally:
            self.recovering = False

    # -- the watch loop -----------------------------------------------------------------

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.opts.poll)
            try:
                await self._tick()
            except CDPError as err:
                log.debug("watch: %s", err)
            except Exception as err:  # the watch must go on whatever one tick met
                log.error("the kiosk watch met a problem (it goes on): %s", err, exc_info=err)

    async def _tick(self) -> None:
        b = self.browser
        if b is None or b.proc.returncode is not None:
            return
        st = await self.station.state()
        self.state = st
        if st is not None:
            self.limits = Limits.from_json(st.get("limits"))
        now = time.monotonic()
        if self.recovering or b.session is None:
            return
        if self.error_page and st is not None:
            self.error_page = False
            log.info("the station answers: loading its page again")
            await self._load(self._current_url())
            return
        if self.fallback_until is not None and now >= self.fallback_until:
            self.fallback_until = None
            self.crashes.clear()
            log.info("the crash window has passed: trying the station page again")
            self.recovering = True  # /fallback is no longer allowed: no send-back meanwhile
            try:
                await self._load(self.opts.url)
            finally:
                self.recovering = False
            self.station.report("fallback_left")
            return
        hang = self.limits.hang_seconds
        grace = now - self.loaded_at > hang
        if st is None or st.get("connected") or self.fallback_until is not None:
            self.disconnected_since = None
        elif self.disconnected_since is None:
            self.disconnected_since = now
        elif grace and now - self.disconnected_since > hang:
            # the station answers, but the page has not connected to it for T seconds (its
            # own retries gave up, or it is not the station page): load it again
            self.disconnected_since = None
            log.warning("the station answers but its page has not connected for %.0f s; "
                        "loading it again", hang)
            await self._load(self.opts.url)
            self.station.report("page_reloaded", reason="disconnected")
            return
        beat_age = st.get("beat_age") if st else None
        if grace and st and st.get("connected") and isinstance(beat_age, (int, float)) \
                and beat_age > hang and self.fallback_until is None:
            self._spawn(self._recover_hang("beat", float(beat_age)))
            return
        probe = self.probe
        if probe is not None and probe.task.done():
            self.probe = probe = None
        if probe is None:
            self.probe = _Probe(now, asyncio.create_task(self._answer(b)))
        elif grace and now - probe.started > hang:
            self._spawn(self._recover_hang("eval", now - probe.started))
            return
        if now - self.last_memory >= self.opts.memory_every and \
                (self.memory_task is None or self.memory_task.done()):
            self.last_memory = now
            self.memory_task = asyncio.create_task(self._sample_memory(b))
        limits = self.limits
        if self.pending_reload is None and limits.reload_hours > 0 \
                and now - self.loaded_at > limits.reload_hours * 3600:
            self.pending_reload = ("schedule", {})
        if self.pending_reload is not None and st is not None and st.get("idle") is True \
                and self.fallback_until is None:
            reason, fields = self.pending_reload
            self._spawn(self._idle_reload(reason, fields))

    async def _answer(self, b: _Browser) -> None:
        """A trivial evaluate: done when the page's main thread answered (or refused)."""
        if b.session is None:
            return
        with contextlib.suppress(CDPError):
            await b.cdp.send("Runtime.evaluate", {"expression": "1"}, session=b.session,
                             timeout=3600)

    async def _sample_memory(self, b: _Browser) -> None:
        renderers = page_renderers(b.proc.pid)
        rss = max((rss_mb(p) for p in renderers), default=0.0)
        heap: float | None = None
        if b.session is not None:
            try:
                res = await b.cdp.send("Runtime.getHeapUsage", session=b.session, timeout=5)
                heap = float(res.get("usedSize", 0)) / MB
            except CDPError:
                heap = None
        fields: dict[str, Any] = {"rss_mb": round(rss, 1)}
        if heap is not None:
            fields["js_heap_mb"] = round(heap, 1)
        log.info("renderer memory: %.0f MB resident, JS heap %s", rss,
                 f"{heap:.0f} MB" if heap is not None else "not answered")
        self.station.report("memory", **fields)
        limit = self.limits.memory_mb
        recent = self.memory_reloaded is not None and \
            time.monotonic() - self.memory_reloaded < MEMORY_RELOAD_GAP
        if limit and rss > limit and recent and not self.memory_warned:
            self.memory_warned = True
            log.warning("the renderer uses %.0f MB, over the limit of %g MB, soon after a "
                        "reload: is the limit too low? (next reload in %g min at the earliest)",
                        rss, limit, MEMORY_RELOAD_GAP / 60)
        if limit and rss > limit and not recent and (self.pending_reload is None
                                                     or self.pending_reload[0] != "memory"):
            log.warning("the renderer uses %.0f MB, over the limit of %g MB: reloading the page "
                        "at the next idle moment", rss, limit)
            self.pending_reload = ("memory", {"limit_mb": limit, "rss_mb": round(rss, 1)})

    # -- test hooks ---------------------------------------------------------------------

    async def _test_hang(self) -> None:
        b = self.browser
        if b is None or b.session is None:
            return
        script = "setTimeout(() => { while (true) {} }, 0); 1"
        path = os.environ.get(TEST_SCRIPT)
        if path and os.path.exists(path):
            script = Path(path).read_text()
            log.info("test hook: running %s in the page", path)
        else:
            log.info("test hook: hanging the page")
        with contextlib.suppress(CDPError):
            await b.cdp.send("Runtime.evaluate", {"expression": script, "userGesture": True},
                             session=b.session)
            log.info("test hook: the script returned")

    async def _test_crash(self) -> None:
        b = self.browser
        if b is not None and b.session is not None:
            log.info("test hook: crashing the page's renderer")
            with contextlib.suppress(CDPError, CDPTimeout):
                await b.cdp.send("Page.crash", session=b.session, timeout=2)


def _host(host: str) -> str:
    return "127.0.0.1" if host in ("localhost", "::1", "127.0.0.1") else host


def _scheme(url: str) -> str:
    return _short(urlsplit(url).scheme or "")


def _short(text: str) -> str:
    """A report field: a short id ``[a-z0-9_.:-]{1,64}``."""
    out = "".join(c if c.isalnum() or c in "_.:-" else "_" for c in text.lower())[:64]
    return out.encode("ascii", "ignore").decode() or "other"


def setup_logging() -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("showfloor kiosk: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def run(opts: Options) -> int:
    """Supervise the kiosk browser until SIGTERM/SIGINT; 0 when stopped."""
    setup_logging()
    return asyncio.run(Supervisor(opts).run())
