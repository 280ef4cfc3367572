"""Issue 10's reveal-skew goal on real Chromium pages, each behind its own delaying link.

bench/competition.py measures reveal skew with 40 protocol-level players in one
process; this bench measures it where a classroom sees it: real player pages
(renderer/web/competition/play.js) in Debian's Chromium, each page's every TCP
connection (the page's files and its WebSocket) through its own delaying proxy
written here (not tc netem: no network namespaces for this run). A proxy delays
each chunk by the page's one-way latency (--latency, ms, one per page, e.g.
0,100,200,300) plus exponential jitter (--jitter, mean ms), never reordering a
direction, like TCP. The pages learn the station's clock through those links (their
own NTP-style exchanges) and reveal each question at their local equivalent of the
station's "reveal at T".

Measured, per question and page: the moment the question's choices appear in the
page's DOM — a MutationObserver sees the question body lose its ``is-hidden`` class
and notes ``performance.timeOrigin + performance.now()`` (the page's clock) — mapped
to the station's clock and minus T. The mapping is the truth, not the page's
estimate: the page's clock is read through Playwright (CDP, on loopback, not through
the delaying link) 40 times against the bench's CLOCK_MONOTONIC (the station's clock:
one machine), and the read with the shortest round trip gives the offset (± half of
it, printed). Goal: p99 |reveal − T| ≤ 30 ms.

    python bench/competition_pages.py [--latency 0,100,200,300] [--jitter 10]
                                      [--questions 8] [--seconds 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import queue
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from websockets.sync.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, percentile, table
from competition import KEY, free_port, prepare

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run"]

#: installed in every page: the page-clock moment each question's choices appear
WATCH = """() => {
  window.__reveals = {};
  const now = () => (performance.timeOrigin + performance.now()) / 1000;
  new MutationObserver((records) => {
    const c = window.competition;
    if (!c || !c.view || c.view.phase !== 'question') return;
    for (const r of records) {
      if (r.attributeName === 'class' && (r.oldValue || '').includes('is-hidden') &&
          !r.target.classList.contains('is-hidden') && !(c.view.n in window.__reveals)) {
        window.__reveals[c.view.n] = now();
      }
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeOldValue: true,
                             attributeFilter: ['class']});
}"""


class DelayProxy:
    """TCP forwarding to ``target`` with ``one_way`` seconds (+ jitter) each direction."""

    def __init__(self, target: int, one_way: float, jitter: float, rng: random.Random) -> None:
        self.target, self.one_way, self.jitter, self.rng = target, one_way, jitter, rng
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.server.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _delay(self) -> float:
        with self.lock:
            return self.one_way + (self.rng.expovariate(1 / self.jitter) if self.jitter else 0)

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.server.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.target))
            for s in (near, far):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for a, b in ((near, far), (far, near)):
                line: queue.Queue[tuple[float, bytes]] = queue.Queue()
                threading.Thread(target=self._read, args=(a, line), daemon=True).start()
                threading.Thread(target=self._write, args=(b, line), daemon=True).start()

    def _read(self, src: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        last = 0.0
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            # never before the chunk ahead of it: a direction keeps its order, like TCP
            last = max(last, time.monotonic() + self._delay())
            line.put((last, data))
            if not data:
                return

    @staticmethod
    def _write(dst: socket.socket, line: queue.Queue[tuple[float, bytes]]) -> None:
        while True:
            at, data = line.get()
            time.sleep(max(0.0, at - time.monotonic()))
            if not data:
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.server.close()


def true_offset(page: Page, tries: int = 40) -> tuple[float, float]:
    """(page clock − station clock, round trip) through CDP on loopback, best of ``tries``."""
    best: tuple[float, float] | None = None
    for _ in range(tries):
        a = time.monotonic()
        p = float(page.evaluate("(performance.timeOrigin + performance.now()) / 1000"))
        b = time.monotonic()
        if best is None or b - a < best[1]:
            best = (p - (a + b) / 2, b - a)
    assert best is not None
    return best


def ws(port: int, role: str, **hello: Any) -> ClientConnection:
    c = connect(f"ws://127.0.0.1:{port}/competition/ws", open_timeout=20,
                max_size=2**22)
    c.send(json.dumps({"type": "hello", "role": role, **hello}))
    return c


def until(c: ClientConnection, kind: str, timeout: float = 30, **match: Any) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while True:
        msg = json.loads(c.recv(timeout=max(0.01, end - time.monotonic())))
        if msg.get("type") == "ping":
            c.send(json.dumps({"type": "pong", "n": msg["n"]}))
        if msg.get("type") != kind:
            continue
        view = msg.get("view") or {}
        if all(view.get(k) == v for k, v in match.items()):
            return dict(msg)


def poll(page: Page, expr: str, timeout: float = 60) -> None:
    """Until ``expr`` holds in the page (read through CDP: the page's CSP forbids the
    string evaluation Playwright's wait_for_function polls with)."""
    end = time.monotonic() + timeout
    while not page.evaluate(f"() => !!({expr})"):
        if time.monotonic() > end:
            raise TimeoutError(f"the page never had {expr}")
        time.sleep(0.05)


def join(browser: Browser, url: str, code: str) -> tuple[Page, str]:
    page = browser.new_context(viewport={"width": 480, "height": 640},
                               reduced_motion="reduce").new_page()
    page.goto(url, timeout=60000)
    poll(page, "window.competition && window.competition.connected && window.competition.view")
    for d in code:
        page.locator(f"button[data-digit='{d}']").click()
    team = str(page.evaluate("window.competition.view.open[0].team"))
    page.locator(f"button[data-team='{team}']").click()
    poll(page, f"window.competition.view.you === {json.dumps(team)}")
    page.evaluate(WATCH)
    return page, team


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--latency", default="0,100,200,300",
                    help="one-way latency of each page's link, ms (one page each)")
    ap.add_argument("--jitter", type=float, default=10.0, help="mean jitter per chunk, ms")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    latencies = [float(x) / 1000 for x in args.latency.split(",")]
    rng = random.Random(args.seed)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="sf-bench-pages-") as tmpdir:
        tmp = Path(tmpdir)
        profile = prepare(tmp, args.seconds, args.questions, len(latencies))
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "showfloor", "station", str(profile), "--port", str(port),
             "--data", str(tmp / "data")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            env={**os.environ, "SF_BENCH_KEY": KEY})
        proxies = [DelayProxy(port, lat, args.jitter / 1000, random.Random(rng.random()))
                   for lat in latencies]
        try:
            for _ in range(600):
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).raise_for_status()
                    break
                time.sleep(0.1)
            host = ws(port, "host", key=KEY)
            until(host, "welcome")
            lock = threading.Lock()

            def drain() -> None:  # the host answers the station's pings, as its page would
                with contextlib.suppress(Exception):
                    while True:
                        msg = json.loads(host.recv())
                        if msg.get("type") == "ping":
                            with lock:
                                host.send(json.dumps({"type": "pong", "n": msg["n"]}))

            threading.Thread(target=drain, daemon=True).start()

            def tell(kind: str, **body: Any) -> None:
                with lock:
                    host.send(json.dumps({"type": kind, **body}))

            board = ws(port, "board")
            code = until(board, "view")["view"]["code"]
            for k in range(len(latencies)):
                tell("add_team", name=f"Team {k + 1}")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                pages = [join(browser, f"http://127.0.0.1:{px.port}/competition/play", code)
                         for px in proxies]
                time.sleep(3.0)  # the pages' first burst of clock exchanges, through the links
                before = [true_offset(pg) for pg, _ in pages]
                tell("begin")
                skews: list[list[float]] = [[] for _ in pages]
                for n in range(args.questions):
                    tell("next")
                    at = float(until(board, "view", 30, phase="question", n=n)["view"]["at"])
                    until(board, "view", args.seconds + 15, phase="between")
                    for i, (pg, _team) in enumerate(pages):
                        got = pg.evaluate(f"window.__reveals[{n}]")
                        if got is None:
                            print(f"page {i}: question {n} never showed", file=sys.stderr)
                            continue
                        skews[i].append(float(got) - before[i][0] - at)
                after = [true_offset(pg) for pg, _ in pages]
                browser.close()
        finally:
            for px in proxies:
                px.close()
            proc.terminate()
            proc.wait(10)
    rows = []
    for lat, (off, rtt), (off2, _), s in zip(latencies, before, after, skews, strict=True):
        ms = [abs(x) * 1000 for x in s]
        rows.append([f"{lat * 1000:.0f} ms + jitter", len(ms),
                     f"{median(ms):.1f}" if ms else "-", f"{percentile(ms, 99):.1f}" if ms else "-",
                     f"{max(ms):.1f}" if ms else "-",
                     f"± {rtt * 500:.2f}", f"{(off2 - off) * 1000:+.2f}"])
    every = [abs(x) * 1000 for s in skews for x in s]
    rows.append(["all pages", len(every), f"{median(every):.1f}", f"{percentile(every, 99):.1f}",
                 f"{max(every):.1f}", "", ""])
    table(f"Reveal |skew| on real Chromium pages (ms; {args.questions} questions, jitter mean "
          f"{args.jitter:g} ms; goal p99 ≤ 30)",
          ["page's link (one way)", "n", "median", "p99", "max", "truth ±", "drift"], rows)
    print("verdict:", "pass" if every and percentile(every, 99) <= 30 else "FAIL")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
