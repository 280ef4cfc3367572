"""Hall hardware against issue 13's goals, on loopback, with real peers and a real page.

Goals:
  A. physical input → new view in the page: a serial line and an OSC message, median
     ≤ 5 ms, p99 ≤ 15 ms;
  B. output on scene entry → packet on the wire (sACN, OSC, MQTT): p99 ≤ 5 ms;
  C. 200 device messages a second into one station for 60 s: no mapped input lost,
     event-loop lag p99 ≤ 5 ms.

Set-up: one real station process (``showfloor station``, through bench/drivers_probe.py,
which only adds two probes) runs a two-scene exhibit — ``ping`` and ``pong``, each a
story scene with a choice that goes to the other — with a profile of five devices:

- ``panel``: serial, through a ``socat`` pseudo-terminal pair; the bench writes the
  board's lines at the peer end (``S`` starts a visit, ``A`` is the big button, ``P`` a
  presence pulse);
- ``console``: OSC in; the bench sends ``/button 1`` and ``/count 1`` from python-osc;
- ``lights`` (sACN, unicast to a UDP socket of the bench), ``show`` (OSC out to a UDP
  socket of the bench) and ``broker`` (MQTT, a ``mosquitto`` the bench starts; the
  bench subscribes with paho-mqtt; the station's connection passes through a TCP tap
  of the bench that notes when each PUBLISH leaves the station): on each entry of
  ``ping`` / ``pong`` they send a preset / a message / a publish.

The button maps to ``{choose: to_pong}`` and ``{choose: to_ping}`` (one button, a
different choice in each scene), so each press is a new view. Debounce is 0 and the
rate limit 1000/s on every mapping, so nothing the bench sends is held back on purpose.

How each figure is taken (every clock is CLOCK_MONOTONIC or converted to it):

- **send**: ``time.monotonic()`` in the bench just before ``os.write`` on the pty /
  ``sendto`` of the OSC packet.
- **driver receive**: ``time.monotonic()`` when the station's DriverHost is handed the
  parsed event by the driver (the probe wraps ``Host.received``; the station and the
  bench share the clock).
- **in the page**: the renderer's own timestamp, ``window.showfloor.drawn.at`` —
  ``performance.now()`` taken in ``drawn()`` (renderer/web/app.js) when a view, whoever
  caused it, is in the DOM (before the next frame is painted). Converted to the bench's
  clock with an offset measured the NTP way: 40 times, read ``performance.now()``
  through Playwright and the bench's clock before and after; the read with the shortest
  round trip gives offset = page − midpoint, accurate to ± half that round trip
  (printed; read again at the end to show the drift). One press every ``--pause``
  seconds; the bench reads the page only after the pause, so Playwright's own work
  never overlaps a press. A press whose view count did not go up by exactly one is
  counted as missed.
- **scene entry → wire**: the ``scene_entered`` event's ``t`` (engine time: the
  monotonic clock when the station applied the input) to ``time.monotonic()`` when the
  bench's socket / MQTT tap (and, for comparison, its MQTT subscriber) received the
  packet (sACN: the first frame whose channel 1 changed, the once-a-second keep-alive
  frames are not entries). Entries and packets pair in order.
- **event-loop lag**: the probe sleeps 5 ms on the station's loop, over and over, and
  notes how late it woke.
- B is also split, for phase A: scene entry → the station hands the action to the
  device's loop (the probe's note in ``DriverHost._start``) → the driver's ``send``
  begins on the device's thread → the packet is received.

Run: ``.venv/bin/python bench/drivers_latency.py`` (``--presses 200 --seconds 60
--rate 200``). It prints the load average before and after: the figures are only as
quiet as the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from playwright.sync_api import Page, sync_playwright
from pythonosc.udp_client import SimpleUDPClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from _common import ROOT, median, percentile, table
from e2e._browser import ARGS, CHROMIUM, open_surface, wait_for
from station._support import Running, free_port

PICTURE = ROOT / "tests" / "corpus" / "_valid" / "media" / "pic.png"
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

EXHIBIT = """\
format: 1
id: bench-buttons
version: 1.0.0
title: {en: Ping and pong}
languages: [en]
default_language: en
idle: {timeout: 3600, countdown: 15}
attract: attract
start: ping
scenes:
  - id: attract
    type: attract
    loop: [{image: media/pic.png, duration: 6}]
    call: {en: Press the button}
  - id: ping
    type: story
    text: {en: Ping.}
    choices:
      - {id: to_pong, label: {en: Pong}, goto: pong}
      - {id: leave_ping, label: {en: Leave}, goto: ending}
  - id: pong
    type: story
    text: {en: Pong.}
    choices:
      - {id: to_ping, label: {en: Ping}, goto: ping}
      - {id: leave_pong, label: {en: Leave}, goto: ending}
  - id: ending
    type: end
    messages:
      - text: {en: Goodbye.}
"""

OPEN = "debounce_ms: 0, max_per_second: 1000"
PROFILE = f"""\
station: {{id: bench-drivers, name: Drivers bench}}
exhibit: EXHIBIT
idle: {{timeout: 3600, countdown: 10}}
surfaces: [{{id: main, role: kiosk}}]
devices:
  panel: {{driver: serial, port: PTY, framing: lines}}
  console: {{driver: osc, listen_host: 127.0.0.1, listen_port: OSC_IN}}
  lights: {{driver: sacn, destination: 127.0.0.1, port: SACN, presets: {{ping: {{1: 0}}, pong: {{1: 255}}}}}}
  show: {{driver: osc, send_host: 127.0.0.1, send_port: OSC_OUT}}
  broker: {{driver: mqtt, host: 127.0.0.1, port: MQTT}}
inputs:
  - {{device: panel, match: S, do: wake, {OPEN}}}
  - {{device: panel, match: A, do: {{choose: to_pong}}, {OPEN}}}
  - {{device: panel, match: A, do: {{choose: to_ping}}, {OPEN}}}
  - {{device: panel, match: P, do: presence, {OPEN}}}
  - {{device: console, address: /button, match: 1, do: {{choose: to_pong}}, {OPEN}}}
  - {{device: console, address: /button, match: 1, do: {{choose: to_ping}}, {OPEN}}}
  - {{device: console, address: /count, do: presence, {OPEN}}}
outputs:
  - {{when: {{scene: ping}}, device: lights, do: {{preset: ping}}}}
  - {{when: {{scene: pong}}, device: lights, do: {{preset: pong}}}}
  - {{when: {{scene: ping}}, device: show, do: {{send: {{address: /scene, args: [0]}}}}}}
  - {{when: {{scene: pong}}, device: show, do: {{send: {{address: /scene, args: [1]}}}}}}
  - {{when: {{scene: ping}}, device: broker, do: {{publish: {{topic: bench/scene, payload: ping}}}}}}
  - {{when: {{scene: pong}}, device: broker, do: {{publish: {{topic: bench/scene, payload: pong}}}}}}
"""


def ms(values: list[float]) -> tuple[str, str, str]:
    if not values:
        return "—", "—", "—"
    return (f"{median(values) * 1000:.2f}", f"{percentile(values, 99) * 1000:.2f}",
            f"{max(values) * 1000:.2f}")


def verdict(values: list[float], med: float | None, p99: float) -> str:
    if not values:
        return "no samples"
    ok = percentile(values, 99) <= p99 and (med is None or median(values) <= med)
    return "pass" if ok else "FAIL"


# -- peers ---------------------------------------------------------------------------


class Udp:
    """A UDP socket on loopback noting when each packet came (and what it was)."""

    def __init__(self, keep: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.keep = keep
        self.got: list[tuple[float, Any]] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data = self.sock.recv(2048)
            except OSError:
                return
            self.got.append((time.monotonic(), self.keep(data)))


def sacn_level(data: bytes) -> int | None:
    # E1.31: 38 bytes root layer, 77 framing layer, DMP layer to the start code at 125
    return data[126] if len(data) > 126 else None


class Broker:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        conf = folder / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                        "persistence false\nlog_dest none\n")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], start_new_session=True,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("mosquitto did not start") from None
                time.sleep(0.02)
        self.got: list[tuple[float, str]] = []
        self.tap: Tap  # set by main: the station's connection to this broker goes through it
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench")
        self.client.on_message = lambda _c, _u, msg: self.got.append(
            (time.monotonic(), msg.payload.decode()))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect("127.0.0.1", self.port)
        self.client.subscribe("bench/scene")
        self.client.loop_start()
        subscribed.wait(5)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


class Tap:
    """The station's MQTT connection passes through here on its way to the broker: the
    time each PUBLISH on ``topic`` arrives is when it came off the station's socket
    ("on the wire"), before the broker relays it to any subscriber."""

    def __init__(self, broker_port: int, topic: bytes) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.broker_port, self.topic = broker_port, topic
        self.got: list[float] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return
            far = socket.create_connection(("127.0.0.1", self.broker_port))
            for s in (near, far):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pipe, args=(near, far, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(far, near, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, outgoing: bool) -> None:
        pending = b""
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if outgoing and data:
                now = time.monotonic()
                pending += data
                pending = self._publishes(pending, now)
            if not data:
                for s in (src, dst):
                    with contextlib.suppress(OSError):
                        s.shutdown(socket.SHUT_RDWR)
                return
            with contextlib.suppress(OSError):
                dst.sendall(data)

    def _publishes(self, stream: bytes, now: float) -> bytes:
        """Note every whole PUBLISH on our topic in ``stream``; return the unfinished rest.
        MQTT 3.1.1 §2.2: a fixed header (type in the high 4 bits of byte 0, then the
        remaining length as 1-4 bytes of 7 bits) — several packets can come in one read."""
        while len(stream) >= 2:
            length, shift, i = 0, 0, 1
            while True:
                if i >= len(stream):
                    return stream
                byte = stream[i]
                length |= (byte & 0x7F) << shift
                i += 1
                if not byte & 0x80:
                    break
                shift += 7
            end = i + length
            if len(stream) < end:
                return stream
            if stream[0] >> 4 == 3:  # PUBLISH: the topic name is first, length-prefixed
                size = int.from_bytes(stream[i:i + 2], "big")
                if stream[i + 2:i + 2 + size] == self.topic:
                    self.got.append(now)
            stream = stream[end:]
        return stream

    def stop(self) -> None:
        self.listener.close()


class Pty:
    def __init__(self, folder: Path) -> None:
        self.dev, self.peer = folder / "ttyDEV", folder / "ttyPEER"
        self.proc = subprocess.Popen(
            ["socat", f"pty,raw,echo=0,link={self.dev}", f"pty,raw,echo=0,link={self.peer}"],
            start_new_session=True, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 5
        while not (self.dev.exists() and self.peer.exists()):
            if time.monotonic() > deadline:
                raise RuntimeError("socat did not make its pseudo-terminals")
            time.sleep(0.005)
        self.fd = os.open(self.peer, os.O_RDWR | os.O_NOCTTY)

    def line(self, text: str) -> None:
        os.write(self.fd, f"{text}\r\n".encode())

    def stop(self) -> None:
        os.close(self.fd)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


# -- clocks ----------------------------------------------------------------------------


def page_offset(page: Page, tries: int = 40) -> tuple[float, float]:
    """(offset, round trip): page performance.now()/1000 − the bench's monotonic clock."""
    best: tuple[float, float] | None = None
    for _ in range(tries):
        a = time.monotonic()
        p = float(page.evaluate("performance.now()")) / 1000
        b = time.monotonic()
        if best is None or b - a < best[1]:
            best = (p - (a + b) / 2, b - a)
    assert best is not None
    return best


def probe_notes(path: Path) -> dict[str, list[list[Any]]]:
    """The probe's notes by kind: recv, lag, out, gc."""
    notes: dict[str, list[list[Any]]] = {"recv": [], "lag": [], "out": [], "gc": []}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            for kind, value in json.loads(raw).items():
                notes[kind].append(value)
    return notes


# -- the bench -------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--presses", type=int, default=200, help="presses per transport (A)")
    ap.add_argument("--pause", type=float, default=0.12, help="seconds between press and look")
    ap.add_argument("--rate", type=int, default=200, help="device messages a second (C)")
    ap.add_argument("--seconds", type=float, default=60, help="how long the flood lasts (C)")
    args = ap.parse_args()
    # the bench's receiving threads must note a packet when it comes, not up to Python's
    # default 5 ms later when the main thread lets go of the GIL
    sys.setswitchinterval(0.0005)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")

    with tempfile.TemporaryDirectory(prefix="showfloor-drivers-bench-") as tmpdir:
        tmp = Path(tmpdir)
        exhibit = tmp / "exhibit"
        (exhibit / "media").mkdir(parents=True)
        shutil.copy(PICTURE, exhibit / "media" / "pic.png")
        (exhibit / "exhibit.yaml").write_text(EXHIBIT, encoding="utf-8")
        pty, broker = Pty(tmp), Broker(tmp)
        tap = broker.tap = Tap(broker.port, b"bench/scene")
        sacn_in = Udp(sacn_level)
        osc_out = Udp(lambda d: None)
        osc_in_port = free_port()
        prof = tmp / "station.yaml"
        prof.write_text(
            PROFILE.replace("EXHIBIT", str(exhibit)).replace("PTY", str(pty.dev))
            .replace("OSC_IN", str(osc_in_port)).replace("SACN", str(sacn_in.port))
            .replace("OSC_OUT", str(osc_out.port)).replace("MQTT", str(tap.port)),
            encoding="utf-8")
        notes = tmp / "probe.jsonl"
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("drivers_probe.py")), str(notes),
             "station", str(prof), "--port", str(port), "--data", str(tmp / "data")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        station = Running(proc, port)
        osc = SimpleUDPClient("127.0.0.1", osc_in_port)
        try:
            station.wait_up("the station")
            deadline = time.monotonic() + 20
            while not all(d["connected"] for d in station.health()["drivers"].values()):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"devices not connected: {station.health()['drivers']}")
                time.sleep(0.05)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                page = open_surface(browser, port, viewport={"width": 800, "height": 600})
                wait_for(page, phase="attract", timeout=15000)
                run(args, page, pty, osc, station, tmp, notes, sacn_in, osc_out, broker)
                browser.close()
        finally:
            out = station.stop()
            pty.stop()
            broker.stop()
            tap.stop()
            if "Traceback" in out:
                print(out[-3000:])
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def run(args: argparse.Namespace, page: Page, pty: Pty, osc: SimpleUDPClient,
        station: Running, tmp: Path, notes: Path, sacn_in: Udp, osc_out: Udp,
        broker: Broker) -> None:
    pty.line("S")  # the start button: a visit begins at ping
    wait_for(page, phase="session", scene="ping", timeout=10000)
    time.sleep(0.5)
    offset, rtt = page_offset(page)
    print(f"page clock offset measured with a {rtt * 1000:.2f} ms round trip "
          f"(± {rtt * 500:.2f} ms)")

    # -- A: one press at a time, serial and OSC in turn -----------------------------------
    loads = [("A starts", os.getloadavg()[0])]
    a_start = time.monotonic()
    sent: dict[str, list[float]] = {"serial": [], "osc": []}
    drawn: dict[str, list[float | None]] = {"serial": [], "osc": []}
    count = int(page.evaluate("window.showfloor.drawn.count"))
    for i in range(2 * args.presses):
        kind = "serial" if i % 2 == 0 else "osc"
        time.sleep(args.pause)
        t = time.monotonic()
        if kind == "serial":
            pty.line("A")
        else:
            osc.send_message("/button", 1)
        sent[kind].append(t)
        time.sleep(args.pause)
        d = page.evaluate("window.showfloor.drawn")
        ok = int(d["count"]) == count + 1
        count = int(d["count"])
        drawn[kind].append(float(d["at"]) / 1000 - offset if ok else None)
    a_end = time.monotonic()
    offset2, rtt2 = page_offset(page)
    print(f"page clock offset again after A: {(offset2 - offset) * 1000:+.2f} ms drift "
          f"(round trip {rtt2 * 1000:.2f} ms)")

    # -- C: the flood -------------------------------------------------------------------
    loads.append(("A ends", os.getloadavg()[0]))
    time.sleep(1)
    c_start = time.monotonic()
    n = int(args.rate * args.seconds)
    sent_c = {"button": 0, "presence": 0}
    late = 0.0
    for i in range(n):
        due = c_start + i / args.rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        else:
            late = max(late, -wait)
        if i % 10 == 0:  # the button, 20 times a second, serial and OSC in turn
            if (i // 10) % 2 == 0:
                pty.line("A")
            else:
                osc.send_message("/button", 1)
            sent_c["button"] += 1
        else:
            if i % 2:
                pty.line("P")
            else:
                osc.send_message("/count", 1)
            sent_c["presence"] += 1
    c_end = time.monotonic()
    loads.append(("C ends", os.getloadavg()[0]))
    print("load average (1 min): " + ", ".join(f"{w} {x:.2f}" for w, x in loads))
    time.sleep(2)
    health = station.health()["drivers"]
    time.sleep(1)  # the probe's last notes, the store's last batch

    report(args, tmp, notes, sent, drawn, sent_c, health, (a_start, a_end), (c_start, c_end),
           late, sacn_in, osc_out, broker)


def report(args: argparse.Namespace, tmp: Path, notes: Path, sent: dict[str, list[float]],
           drawn: dict[str, list[float | None]], sent_c: dict[str, int],
           health: dict[str, Any], a: tuple[float, float], c: tuple[float, float],
           late: float, sacn_in: Udp, osc_out: Udp, broker: Broker) -> None:
    found = probe_notes(notes)
    recv, lag, outs, pauses = found["recv"], found["lag"], found["out"], found["gc"]
    got = {"serial": [r[4] for r in recv if r[0] == "panel" and r[3] == "A" and r[4] < a[1]],
           "osc": [r[4] for r in recv if r[0] == "console" and r[2] == "/button"
                   and r[4] < a[1]]}
    rows = []
    for kind in ("serial", "osc"):
        to_page, recv_page, to_recv = [], [], []
        missed = sum(1 for x in drawn[kind] if x is None)
        lost = len(sent[kind]) - len(got[kind])
        for s, r, d in zip(sent[kind], got[kind], drawn[kind], strict=False):
            to_recv.append(r - s)
            if d is not None:
                to_page.append(d - s)
                recv_page.append(d - r)
        label = "serial line (pty)" if kind == "serial" else "OSC message (UDP)"
        rows.append([f"{label}: send → page", len(to_page), *ms(to_page),
                     "≤ 5 / ≤ 15", verdict(to_page, 0.005, 0.015)])
        rows.append([f"{label}: send → driver receive", len(to_recv), *ms(to_recv), "", ""])
        rows.append([f"{label}: driver receive → page", len(recv_page), *ms(recv_page),
                     "", ""])
        if missed or lost:
            rows.append([f"{label}: presses without one new view / not received",
                         f"{missed} / {lost}", "", "", "", "", ""])
    table(f"A. Physical input → new view in the page ({args.presses} presses each, one "
          f"every {2 * args.pause:g} s, Chromium 800×600, reduced motion)",
          ["path", "n", "median ms", "p99 ms", "max ms", "goal (median / p99)", ""], rows)

    con = sqlite3.connect(tmp / "data" / "events.sqlite")
    try:
        entries = [(t, s) for t, s in con.execute(
            "SELECT t, scene FROM events WHERE kind = 'scene_entered' AND scene IN "
            "('ping', 'pong') ORDER BY t")]
        chose = con.execute("SELECT count(*) FROM events WHERE kind = 'choice_made' "
                            "AND t >= ?", (c[0],)).fetchone()[0]
        counted = con.execute("SELECT count(*) FROM events WHERE kind = 'passer_by' "
                              "AND t >= ?", (c[0],)).fetchone()[0]
    finally:
        con.close()
    changes, last = [], None
    for t, level in sacn_in.got:
        if level != last:
            changes.append(t)
            last = level
    wire = {"sACN (first frame with the new level)": changes,
            "OSC (the /scene message)": [t for t, _ in osc_out.got],
            "MQTT (the publish, on the wire: off the station's socket)": broker.tap.got,
            "MQTT (the publish, at a subscriber, through the broker)":
                [t for t, _ in broker.got]}
    rows = []
    for name, times in wire.items():
        for phase, (lo, hi) in (("A, one press at a time", a), ("C, during the flood", c)):
            lat = [w - e for (e, _s), w in zip(entries, times, strict=False)
                   if lo <= e <= hi + 0.5]
            rows.append([f"{name}, {phase}", len(lat), *ms(lat), "p99 ≤ 5",
                         verdict(lat, None, 0.005)])
        if len(times) != len(entries):
            rows.append([f"{name}: packets / scene entries", f"{len(times)} / {len(entries)}",
                         "", "", "", "", ""])
    table("B. Scene entry (the engine's time) → packet received on loopback",
          ["path", "n", "median ms", "p99 ms", "max ms", "goal", ""], rows)
    rows = []
    for name, device, times in (("sACN", "lights", changes),
                                ("OSC", "show", [t for t, _ in osc_out.got]),
                                ("MQTT", "broker", broker.tap.got)):
        mine = [(h, b) for d, h, b in outs if d == device]
        parts: list[list[float]] = [[], [], []]
        for (e, _s), (handed, began), w in zip(entries, mine, times, strict=False):
            if a[0] <= e <= a[1] + 0.5:
                parts[0].append(handed - e)
                parts[1].append(began - handed)
                parts[2].append(w - began)
        for label, values in zip(("scene entry → handed to the device's loop",
                                  "handed → the driver's send begins (device thread)",
                                  "send begins → packet received"), parts, strict=True):
            rows.append([f"{name}: {label}", len(values), *ms(values)])
    table("B, phase A, split: where the time goes",
          ["step", "n", "median ms", "p99 ms", "max ms"], rows)

    lag_a = [x for t, x in lag if a[0] <= t <= a[1]]
    lag_c = [x for t, x in lag if c[0] <= t <= c[1]]
    rows = [["buttons (choices) sent / taken by the engine", f"{sent_c['button']} / {chose}",
             "", "", "", "no loss", "pass" if chose == sent_c["button"] else "FAIL"],
            ["presence pulses sent / passer_by recorded", f"{sent_c['presence']} / {counted}",
             "", "", "", "no loss", "pass" if counted == sent_c["presence"] else "FAIL"],
            ["event-loop lag during C", len(lag_c), *ms(lag_c), "p99 ≤ 5",
             verdict(lag_c, None, 0.005)],
            ["event-loop lag during A (for comparison)", len(lag_a), *ms(lag_a), "", ""]]
    dropped = {name: (d["dropped"], d["malformed"], d["errors"]) for name, d in health.items()
               if d["dropped"] or d["malformed"] or d["errors"]}
    table(f"C. {args.rate} device messages a second for {args.seconds:g} s (serial and OSC; "
          "one in ten the button, the rest presence pulses)",
          ["what", "n", "median ms", "p99 ms", "max ms", "goal", ""], rows)
    for phase, (lo, hi) in (("A", a), ("C", c)):
        mine = [took for t, took, _gen in pauses if lo <= t <= hi]
        print(f"the station's garbage collector paused it over 2 ms {len(mine)} times "
              f"during {phase}" + (f", at most {max(mine) * 1000:.1f} ms" if mine else ""))
    print(f"devices' dropped/malformed/errors in /healthz: {dropped or 'none'}; the "
          f"bench's sender fell behind its schedule by at most {late * 1000:.1f} ms")


if __name__ == "__main__":
    main()
