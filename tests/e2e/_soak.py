"""An accelerated soak of a demo station in headless Chromium: visits as fast as a busy hall.

Shared by ``bench/kiosk_soak.py`` (the long run) and ``tests/e2e/test_soak.py`` (5 minutes).
The station runs as its own process (``showfloor station``) with the demo's touch
profile (short idle times, so a visitor who walks away is reset in seconds); one
page at a small viewport takes the visits. Each visit touches the attract screen
and walks the exhibit by real taps and drags — the four organ models (orbit, the
years slider, a hotspot), the 360° panorama, the story, the quiz — then ends by
the idle reset (the visitor walks away) or the end screen's "back to start".
Every ``sample_every`` visits the soak reads the page's memory (CDP
``Performance.getMetrics`` after a forced GC: JS heap, DOM nodes, listeners), the
RSS of Chromium's renderer and GPU processes from /proc, and the live WebGL
objects (counted by a small init script that wraps the WebGL create/delete calls).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from playwright.sync_api import Browser, CDPSession, Page, ViewportSize
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "drug-prevention"
VIEWPORT: ViewportSize = {"width": 480, "height": 270}
#: the demo's idle times are 45 + 10 s; a soak's visitor who walks away is reset in 8 + 2 s
IDLE = {"timeout": 8, "countdown": 2}
#: the longest narration in the demo (seconds)
NARRATION_MAX = 30

#: Counts the page's live WebGL objects (contexts made, textures, buffers, programs,
#: framebuffers, renderbuffers): a scene change that forgets to dispose shows as a
#: count that grows visit after visit. Injected by the soak only (CDP init script).
GL_COUNTER = """
(() => {
  const keys = ['textures', 'buffers', 'programs', 'shaders', 'framebuffers', 'renderbuffers',
                'vertexArrays'];
  const live = {contexts: 0, lost: 0};
  for (const k of keys) live[k] = 0;
  Object.defineProperty(window, '__soakGL', {value: live});
  const per = new WeakMap();  // context -> its live objects (all freed when it is lost)
  const mine = (gl) => {
    let c = per.get(gl);
    if (!c) { c = {}; for (const k of keys) c[k] = 0; per.set(gl, c); }
    return c;
  };
  const pairs = [['createTexture', 'deleteTexture', 'textures'],
                 ['createBuffer', 'deleteBuffer', 'buffers'],
                 ['createProgram', 'deleteProgram', 'programs'],
                 ['createShader', 'deleteShader', 'shaders'],
                 ['createFramebuffer', 'deleteFramebuffer', 'framebuffers'],
                 ['createRenderbuffer', 'deleteRenderbuffer', 'renderbuffers'],
                 ['createVertexArray', 'deleteVertexArray', 'vertexArrays']];
  for (const C of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    if (!C) continue;
    for (const [mk, rm, key] of pairs) {
      const make = C.prototype[mk], drop = C.prototype[rm];
      if (!make || !drop) continue;
      C.prototype[mk] = function (...a) {
        const o = make.apply(this, a);
        if (o && !this.isContextLost()) { live[key] += 1; mine(this)[key] += 1; }
        return o;
      };
      C.prototype[rm] = function (o) {
        if (o && !this.isContextLost() && mine(this)[key] > 0) { live[key] -= 1; mine(this)[key] -= 1; }
        return drop.call(this, o);
      };
    }
  }
  const get = HTMLCanvasElement.prototype.getContext;
  const seen = new WeakSet();
  HTMLCanvasElement.prototype.getContext = function (kind, ...a) {
    const gl = get.call(this, kind, ...a);
    if (gl && /webgl/.test(String(kind)) && !seen.has(gl)) {
      seen.add(gl); live.contexts += 1;
      this.addEventListener('webglcontextlost', () => {
        live.lost += 1;
        const c = mine(gl);
        for (const k of keys) { live[k] -= c[k]; c[k] = 0; }
      }, {once: true});
    }
    return gl;
  };
})();
"""

#: The longest the page's main thread went without running a 100 ms timer since the last
#: sample (a model's load can hold it for seconds on SwiftShader): what the kiosk's hang
#: watchdog (``kiosk.hang_seconds``) would see as a page that stopped answering.
STALLS = """
(() => {
  const s = {worst: 0, last: performance.now()};
  Object.defineProperty(window, '__soakStall', {value: s});
  setInterval(() => {
    const now = performance.now();
    s.worst = Math.max(s.worst, now - s.last - 100);
    s.last = now;
  }, 100);
})();
"""

GL_INFO = """() => {
  const c = document.createElement('canvas').getContext('webgl');
  if (!c) return null;
  const d = c.getExtension('WEBGL_debug_renderer_info');
  const r = d ? c.getParameter(d.UNMASKED_RENDERER_WEBGL) : c.getParameter(c.RENDERER);
  c.getExtension('WEBGL_lose_context')?.loseContext();
  return String(r);
}"""

FIELDS = ["t_s", "visits", "settled", "js_heap_mb", "js_total_mb", "nodes", "listeners", "documents",
          "renderer_mb", "gpu_mb", "browser_mb", "gl_contexts", "gl_live_contexts", "gl_textures",
          "gl_buffers", "gl_programs", "sessions", "crashes", "stall_s"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the station --------------------------------------------------------------------------

@dataclass
class Station:
    """``showfloor station`` as a separate process; its output goes to a file (a long run
    would fill a pipe nobody reads)."""

    proc: subprocess.Popen[bytes]
    port: int
    data: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def health(self) -> dict[str, Any]:
        r = httpx.get(f"{self.url}/healthz", timeout=10)
        r.raise_for_status()
        return dict(r.json())

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def soak_profile(tmp: Path, name: str = "touch") -> Path:
    """The demo's station profile ``name`` with the exhibit's full path and soak idle times."""
    body = yaml.safe_load((DEMO / "stations" / f"{name}.yaml").read_text(encoding="utf-8"))
    body["exhibit"] = str(DEMO)
    body["idle"] = dict(IDLE)
    out = tmp / f"soak-{name}.yaml"
    out.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return out


def start_station(tmp: Path, name: str = "touch", nice: int = 0) -> Station:
    port = free_port()
    data = tmp / "data"
    log = tmp / "station.log"
    cmd = [sys.executable, "-m", "showfloor", "station", str(soak_profile(tmp, name)),
           "--port", str(port), "--data", str(data)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=(lambda: os.nice(nice)) if nice else None)
    st = Station(proc, port, data, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the station exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            st.health()
            return st
        except httpx.HTTPError:
            time.sleep(0.1)
    st.stop()
    raise RuntimeError("the station did not come up in 60 s")


def recorded(data: Path) -> dict[str, int]:
    """Sessions the station's event log holds (all boots): started, ended, inputs."""
    con = sqlite3.connect(data / "events.sqlite")
    try:
        rows = dict(con.execute("SELECT kind, COUNT(*) FROM events WHERE source = 'engine' "
                                "AND kind IN ('session_started', 'session_ended', 'input') "
                                "GROUP BY kind").fetchall())
    finally:
        con.close()
    return {"started": int(rows.get("session_started", 0)),
            "ended": int(rows.get("session_ended", 0)), "inputs": int(rows.get("input", 0))}


# -- Chromium's processes ------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def chromium_memory() -> dict[str, float]:
    """RSS (MB) of this process's Chromium: renderers (summed), the GPU process, the browser."""
    kids = _children()
    todo, mine = [os.getpid()], []
    while todo:
        p = todo.pop()
        for k in kids.get(p, []):
            mine.append(k)
            todo.append(k)
    out = {"renderer_mb": 0.0, "gpu_mb": 0.0, "browser_mb": 0.0}
    for pid in mine:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()  # Chromium rewrites its children's titles: one string
        except OSError:
            continue
        if b"chrom" not in cmd.split(b"\0")[0].split(b" ")[0]:
            continue
        if b"--type=renderer" in cmd:
            out["renderer_mb"] += _rss_mb(pid)
        elif b"--type=gpu-process" in cmd:
            out["gpu_mb"] += _rss_mb(pid)
        elif b"--type=" not in cmd:
            out["browser_mb"] += _rss_mb(pid)
    return {k: round(v, 1) for k, v in out.items()}


# -- the visitor ---------------------------------------------------------------------------

def wait(page: Page, expr: str, timeout: float = 10000) -> None:
    """Poll a JS expression until it is true. (Playwright's wait_for_function evaluates its
    predicate with eval(), which the page's Content-Security-Policy forbids.)"""
    fn = f"() => Boolean({expr})"
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(fn):
        if time.monotonic() > deadline:
            raise PlaywrightError(f"timed out after {timeout / 1000:g} s waiting for {expr}")
        time.sleep(0.04)

#: Routes through the demo, taken in turn: which choice each story scene gets, where the
#: visitor walks away (None: on to the end screen and "back to start").
ROUTES: list[tuple[str, dict[str, int], str | None]] = [
    ("organs", {"organs_offer": 2}, "party"),          # four models and the panorama
    ("story", {"organs_offer": 0}, "quiz"),            # the party story, then leaves
    ("organs", {"organs_offer": 2}, "organ_lungs"),    # two models, then leaves
    ("quiz", {"organs_offer": 1}, None),               # the quiz to the end screen
    ("organs-full", {"organs_offer": 2, "party": 3}, None),  # everything, to the end
]


class Visitor:
    """Drives one page through visits by taps, drags and the years slider."""

    def __init__(self, page: Page) -> None:
        self.page = page
        size = page.viewport_size or VIEWPORT
        self.w, self.h = size["width"], size["height"]
        self.scenes = 0      # scene changes seen
        self.stuck = 0       # steps that got no answer in time
        self.early = 0       # visits the idle reset ended before the visitor left
        self.loaded = 0      # 3-D scenes seen drawn (then orbited, scrubbed, a hotspot opened)
        self.unloaded = 0    # 3-D scenes left before they were drawn
        self.began = False   # the visit under way has started a session

    def view(self) -> dict[str, Any]:
        return dict(self.page.evaluate("window.showfloor.lastView"))

    def _press(self, name: str, scene: str | None = None, timeout: float = 10000) -> bool:
        """A tap on the middle of the visible button with this name (a raw mouse click:
        Playwright's click waits for the button to stop moving, which a scene's entrance
        animation on a busy CPU can make take seconds)."""
        find = """([name, scene]) => {
          const v = window.showfloor.lastView;
          if (window.showfloor.state.phase !== 'session' || (scene && v.scene !== scene)) return false;
          const shown = [...document.querySelectorAll('button, [role=button]')].filter((b) => {
            const r = b.getBoundingClientRect();
            return r.width > 0 && r.height > 0 && !b.closest('[inert], [hidden]');
          });
          const text = (b) => [b.getAttribute('aria-label') || '', b.innerText.trim()];
          const b = shown.find((b) => text(b).includes(name))
            || shown.find((b) => text(b).some((t) => t.includes(name)));
          if (!b) return null;
          const r = b.getBoundingClientRect();
          return [r.x + r.width / 2, r.y + r.height / 2];
        }"""
        deadline = time.monotonic() + timeout / 1000
        while (at := self.page.evaluate(find, [name, scene])) is None:
            if time.monotonic() > deadline:
                raise PlaywrightError(f"no visible button {name!r}")
            time.sleep(0.05)
        if at is False:
            return False  # the idle reset ended the visit (or the scene moved on) meanwhile
        self.page.mouse.click(at[0], at[1])
        return True

    def _answered(self, before: int, timeout: float = 10000) -> bool:
        try:
            wait(self.page, f"window.showfloor.received > {before}", timeout=timeout)
            return True
        except PlaywrightError:
            self.stuck += 1
            return False

    def _play_3d(self, v: dict[str, Any], n: int) -> None:
        """Orbit the model (or look around the panorama), move the slider, open a hotspot."""
        p = self.page
        here = ("window.showfloor.state.phase === 'session' && "
                f"window.showfloor.lastView.scene === {json.dumps(v['scene'])}")
        # a patient visitor waits for the model (as long as the idle timer allows); an
        # impatient one taps on after a second, while it is still loading
        patient = n % 2 == 0
        try:
            wait(p, f"!({here}) || (window.showfloor3d.loaded && "
                    f"window.showfloor3d.scene === {json.dumps(v['scene'])})",
                 timeout=(IDLE["timeout"] - 2 if patient else 1) * 1000)
        except PlaywrightError:
            self.unloaded += 1
            return
        self.loaded += 1
        if not p.evaluate(f"() => {here}"):
            return  # the visit ended (or moved on) while the scene loaded: no stray touch
        y = self.h * 0.45
        p.mouse.move(self.w * 0.35, y)
        p.mouse.down()
        for i in range(1, 6):
            p.mouse.move(self.w * 0.35 + i * 12, y + (i % 2) * 4)
        p.mouse.up()
        if v["type"] == "model" and v.get("timeline"):
            slider = p.locator("input[type=range]").first
            try:
                if slider.count():
                    before = int(p.evaluate("window.showfloor.received"))
                    slider.focus(timeout=3000)
                    p.keyboard.press("End" if n % 2 == 0 else "PageUp")
                    self._answered(before, 5000)
            except PlaywrightError:
                self.stuck += 1
        if n % 3 == 0:
            spot = p.locator("button.hotspot:visible").first
            if spot.count():
                before = int(p.evaluate("window.showfloor.received"))
                try:
                    spot.click(timeout=3000)
                    self._answered(before, 5000)
                except PlaywrightError:
                    pass

    def visit(self, n: int) -> str:
        """One visit: touch the attract screen, walk a route, leave. Returns how it ended."""
        _, picks, leave_at = ROUTES[n % len(ROUTES)]
        p = self.page
        wait(p, "window.showfloor.state.phase === 'attract'", timeout=30000)
        # (a poll, not wait_for_selector: its element handle would keep the section alive)
        wait(p, "(() => { const a = document.querySelector('section.attract'); "
                "return a && a.getBoundingClientRect().width > 0; })()", timeout=15000)
        self.began = False
        p.mouse.click(self.w // 2, self.h // 2)
        wait(p, "window.showfloor.state.phase === 'session'", timeout=15000)
        self.began = True
        last = None
        for _ in range(80):
            v = self.view()
            if v.get("phase") != "session":
                self.early += 1
                return "reset"
            if v["scene"] != last:
                self.scenes += 1
                last = v["scene"]
            if leave_at is not None and v["scene"] == leave_at:
                break  # the visitor walks away: the idle reset ends the visit
            kind, scene = v["type"], v["scene"]
            if kind in ("model", "panorama"):
                self._play_3d(v, n)
            before = int(p.evaluate("window.showfloor.received"))
            if kind == "story":
                choices = v["choices"]
                name = choices[picks.get(scene, n) % len(choices)]["label"]
            elif kind == "quiz" and v.get("stage") == "question":
                q = v["question"]
                name = q["choices"][n % len(q["choices"])]["text"]
                if q["kind"] == "multiple":  # a selection first (kept on the page), then Check
                    if not self._press(name, scene):
                        continue
                    name = v["ui"]["check"]
            elif kind == "end":
                name = v["ui"]["restart"]
            else:
                name = v["ui"]["next"]
            if not self._press(name, scene):
                continue  # the visit ended meanwhile, or the scene moved on: look again
            self._answered(before)
            if kind == "end":
                wait(p, "window.showfloor.state.phase === 'attract'", timeout=15000)
                return "end"
        # the idle timer starts once the scene's narration has played (up to 30 s in the
        # demo: party_leave in Chinese), so wait for that too
        wait(p, "window.showfloor.state.phase === 'attract'",
             timeout=(NARRATION_MAX + IDLE["timeout"] + IDLE["countdown"] + 20) * 1000)
        return "idle"


# -- the soak ------------------------------------------------------------------------------

@dataclass
class Soak:
    """Visits, memory samples and what went wrong, for one run."""

    samples: list[dict[str, float]] = field(default_factory=list)
    visits: int = 0
    endings: dict[str, int] = field(default_factory=dict)
    crashes: int = 0
    errors: list[str] = field(default_factory=list)   # page errors (uncaught JS)
    failures: list[str] = field(default_factory=list)  # visits that could not be made
    seconds: float = 0.0
    gl_renderer: str | None = None
    recorded: dict[str, int] = field(default_factory=dict)
    health_sessions: int = 0
    scenes: int = 0
    stuck: int = 0
    loaded: int = 0      # 3-D scenes drawn, then played with
    unloaded: int = 0    # 3-D scenes left while still loading

    def add(self, v: Visitor) -> None:
        self.scenes += v.scenes
        self.stuck += v.stuck
        self.loaded += v.loaded
        self.unloaded += v.unloaded

    def series(self, key: str) -> list[tuple[float, float]]:
        return [(s["visits"], s[key]) for s in self.samples]


def open_page(browser: Browser, port: int, soak: Soak,
              motion: bool = False) -> tuple[Page, CDPSession]:
    """The station's page; ``motion``: no reduced-motion preference (models turn by themselves,
    drawn every frame: several times the CPU on SwiftShader)."""
    context = browser.new_context(viewport=VIEWPORT,
                                  reduced_motion="no-preference" if motion else "reduce")
    context.add_init_script(GL_COUNTER)
    context.add_init_script(STALLS)
    page = context.new_page()

    def crashed(_: Page) -> None:
        soak.crashes += 1

    page.on("crash", crashed)
    page.on("pageerror", lambda e: soak.errors.append(str(e)[:300]))
    page.goto(f"http://127.0.0.1:{port}/?surface=main")
    wait(page, "window.showfloor && window.showfloor.connected", timeout=30000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return page, cdp


#: the attract screen alone: the last scene has left the DOM and no WebGL context is alive
SETTLED = ("document.querySelectorAll('.scene').length === 1 && "
           "document.querySelector('.scene.attract') && "
           "window.__soakGL.contexts === window.__soakGL.lost")


def sample(page: Page, cdp: CDPSession, st: Station, soak: Soak, t0: float,
           gc: bool = True, settle_ms: int = 20000) -> dict[str, float]:
    """Memory on the attract screen. The last scene goes after its fade, and a model still
    loading when its visit ended is disposed once its load returns: wait (up to
    ``settle_ms``) for that, so a sample never counts a scene on its way out. A sample taken
    before the page settled says so (``settled`` 0): on a slow machine a model load can
    outlast the wait, and such a sample holds one scene's nodes more."""
    try:
        wait(page, SETTLED, timeout=settle_ms)
        settled = 1
    except PlaywrightError:
        settled = 0
    if gc:
        cdp.send("HeapProfiler.collectGarbage")
    m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
    gl = page.evaluate("({...window.__soakGL})")
    stall = float(page.evaluate("(() => { const w = window.__soakStall.worst; "
                                "window.__soakStall.worst = 0; return w; })()"))
    row: dict[str, float] = {
        "t_s": round(time.monotonic() - t0, 1), "visits": soak.visits, "settled": settled,
        "js_heap_mb": round(m.get("JSHeapUsedSize", 0) / 2**20, 2),
        "js_total_mb": round(m.get("JSHeapTotalSize", 0) / 2**20, 2),
        "nodes": int(m.get("Nodes", 0)), "listeners": int(m.get("JSEventListeners", 0)),
        "documents": int(m.get("Documents", 0)),
        **chromium_memory(),
        "gl_contexts": gl["contexts"], "gl_live_contexts": gl["contexts"] - gl["lost"],
        "gl_textures": gl["textures"],
        "gl_buffers": gl["buffers"], "gl_programs": gl["programs"],
        "sessions": int(st.health().get("sessions", 0)), "crashes": soak.crashes,
        "stall_s": round(max(stall, 0) / 1000, 1),
    }
    soak.samples.append(row)
    return row


def run(browser: Browser, st: Station, *, seconds: float, visits: int | None = None,
        sample_every: int = 20, csv_path: Path | None = None, motion: bool = False,
        progress: Callable[[dict[str, float]], None] | None = None) -> Soak:
    """Visits until ``seconds`` have passed (or ``visits`` are done), sampling memory."""
    soak = Soak()
    page, cdp = open_page(browser, st.port, soak, motion)
    soak.gl_renderer = page.evaluate(GL_INFO)
    visitor = Visitor(page)
    out = csv_path.open("w", newline="", encoding="utf-8") if csv_path else None
    writer = csv.DictWriter(out, fieldnames=FIELDS) if out else None
    if writer:
        writer.writeheader()
    t0 = time.monotonic()

    def take(settle_ms: int = 20000) -> None:
        row = sample(page, cdp, st, soak, t0, settle_ms=settle_ms)
        if writer and out:
            writer.writerow(row)
            out.flush()
        if progress:
            progress(row)

    try:
        take()
        while time.monotonic() - t0 < seconds and (visits is None or soak.visits < visits):
            crashes = soak.crashes
            try:
                how = visitor.visit(soak.visits)
                soak.endings[how] = soak.endings.get(how, 0) + 1
                soak.visits += 1
            except PlaywrightError as err:
                soak.failures.append(f"visit {soak.visits}: {str(err).splitlines()[0][:200]}")
                if soak.crashes > crashes or page.is_closed():
                    # the renderer died: a new page, as the kiosk supervisor would reload it
                    soak.add(visitor)
                    page.context.close()
                    page, cdp = open_page(browser, st.port, soak, motion)
                    visitor = Visitor(page)
                else:
                    # a visit begun counts (the station records it); wait for the idle
                    # reset, then go on
                    if visitor.began:
                        soak.visits += 1
                    wait(page, "window.showfloor.state.phase === 'attract'", timeout=60000)
                if len(soak.failures) > 20:
                    raise
            if soak.visits % sample_every == 0 and soak.samples[-1]["visits"] != soak.visits:
                take()
        # the last sample is the one judged against the warm-up: give the page time to settle,
        # and take it again until the DOM count holds still (a toast or an overlay on its way
        # out reads as tens of nodes more for a moment; what a leak leaves stays)
        if soak.samples[-1]["visits"] != soak.visits or not soak.samples[-1]["settled"]:
            take(settle_ms=90000)
        for _ in range(4):
            if len(soak.samples) >= 2 and soak.samples[-1]["nodes"] == soak.samples[-2]["nodes"]:
                break
            time.sleep(3)
            take(settle_ms=90000)
        soak.seconds = time.monotonic() - t0
        soak.add(visitor)
        soak.health_sessions = int(st.health().get("sessions", 0))
    finally:
        if out:
            out.close()
        page.context.close()
    return soak


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of value per visit."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


def robust_slope(points: list[tuple[float, float]]) -> float:
    """Siegel's repeated-median slope of value per visit: for each point the median of its
    slopes to the others, then the median of those. Up to half the points can be outliers
    (a sample that still held a scene fading out) without tipping it."""
    per_point = []
    for i, (x1, y1) in enumerate(points):
        slopes = [(y2 - y1) / (x2 - x1) for j, (x2, y2) in enumerate(points) if j != i and x2 != x1]
        if slopes:
            per_point.append(statistics.median(slopes))
    return statistics.median(per_point) if per_point else 0.0


def summary(soak: Soak, key: str, warmup: int) -> dict[str, float]:
    """start, after warm-up, end, peak, and the slope per 1000 visits over the second half."""
    s = soak.series(key)
    warm = next((y for x, y in s if x >= warmup), s[-1][1])
    half = [(x, y) for x, y in s if x >= soak.visits / 2]
    return {"start": s[0][1], "warm": warm, "end": s[-1][1], "peak": max(y for _, y in s),
            "slope": slope(half) * 1000}


METRICS = [("js_heap_mb", "JS heap (MB)"), ("nodes", "DOM nodes"),
           ("listeners", "JS event listeners"), ("renderer_mb", "renderer RSS (MB)"),
           ("gpu_mb", "GPU process RSS (MB)"), ("gl_textures", "live WebGL textures"),
           ("gl_buffers", "live WebGL buffers"), ("gl_live_contexts", "live WebGL contexts")]


def report(soak: Soak, warmup: int) -> str:
    lines = [f"visits {soak.visits} in {soak.seconds / 60:.1f} min "
             f"({soak.visits / max(soak.seconds, 1) * 3600:.0f} an hour), endings {soak.endings}, "
             f"scene changes {soak.scenes}, 3-D scenes drawn {soak.loaded}, "
             f"left while loading {soak.unloaded}",
             f"crashes {soak.crashes}, page errors {len(soak.errors)}, failed visits "
             f"{len(soak.failures)}, slow steps {soak.stuck}, samples taken before the page "
             f"settled {sum(1 for x in soak.samples if not x['settled'])} of {len(soak.samples)}",
             f"recorded: {soak.recorded} (healthz sessions {soak.health_sessions}); "
             f"all visits recorded: {recorded_all(soak)}",
             f"WebGL: {soak.gl_renderer}; the page's main thread stalled at most "
             f"{max(s['stall_s'] for s in soak.samples):.1f} s at a time", "",
             f"| {'metric':24} | {'start':>8} | {'warm-up':>8} | {'end':>8} | {'peak':>8} "
             f"| {'slope /1000 visits':>18} |",
             f"|{'-' * 26}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 20}|"]
    for key, name in METRICS:
        s = summary(soak, key, warmup)
        lines.append(f"| {name:24} | {s['start']:8.1f} | {s['warm']:8.1f} | {s['end']:8.1f} "
                     f"| {s['peak']:8.1f} | {s['slope']:18.2f} |")
    return "\n".join(lines)


def recorded_all(soak: Soak) -> bool:
    return (soak.recorded.get("started") == soak.visits == soak.health_sessions
            and soak.recorded.get("ended") == soak.visits)


def curve(soak: Soak, points: int = 11) -> str:
    """The samples at about every tenth of the run."""
    s = soak.samples
    pick = sorted({round(i * (len(s) - 1) / (points - 1)) for i in range(points)})
    keys = ["t_s", "visits", "settled", "js_heap_mb", "nodes", "listeners", "renderer_mb", "gpu_mb",
            "gl_textures", "gl_buffers", "gl_live_contexts"]
    rows = [" ".join(f"{k:>11}" for k in keys)]
    rows += [" ".join(f"{s[i][k]:>11}" for k in keys) for i in pick]
    return "\n".join(rows)
