"""Station memory (RSS) over 10,000 sessions driven through the WebSocket.

Goal: growth ≤ 5 % after warm-up. A real station process runs the demo; a
client plays whole visits (start, every scene, quiz answers, end) as fast as
the station answers, and the station's RSS is sampled (psutil) after each
block of sessions. Warm-up is the first block.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from websockets.sync.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEMO, table


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Client:
    def __init__(self, port: int) -> None:
        self.cm = connect(f"ws://127.0.0.1:{port}/ws", max_size=2**22)
        self.ws = self.cm.__enter__()
        self.seq = 0
        self.view: dict[str, Any] = {}

    def send(self, **msg: Any) -> None:
        self.seq += 1
        self.ws.send(json.dumps({"v": 1, "seq": self.seq, **msg}))

    def wait_view(self) -> dict[str, Any]:
        while True:
            m = json.loads(self.ws.recv(timeout=10))
            if m["type"] == "view":
                self.view = m["view"]
                return self.view
            if m["type"] == "error":
                return self.view

    def visit(self, rng: random.Random) -> None:
        self.send(type="input", input={"type": "start"})
        v = self.wait_view()
        for _ in range(200):
            if v["phase"] == "attract":
                return
            t = v["type"]
            if t == "story":
                inp = {"type": "choose", "choice": rng.choice(v["choices"])["id"]}
            elif t == "quiz" and v["stage"] == "question":
                q = v["question"]
                inp = {"type": "answer", "question": q["id"],
                       "choices": [rng.choice(q["choices"])["id"]]}
            else:
                inp = {"type": "advance"}
            self.send(type="input", input=inp)
            v = self.wait_view()
            if t == "end" and v["phase"] == "attract":
                return


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sessions", type=int, default=10_000)
    ap.add_argument("--blocks", type=int, default=10)
    args = ap.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "showfloor", "station", str(DEMO),
                                 "--port", str(port), "--data", tmp],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            ps = psutil.Process(proc.pid)
            client = Client(port)
            client.send(type="hello", surface="main")
            client.wait_view()
            rng = random.Random(1)
            per = args.sessions // args.blocks
            rows = []
            base = None
            t0 = time.perf_counter()
            for b in range(args.blocks):
                tb = time.perf_counter()
                for _ in range(per):
                    client.visit(rng)
                rss = ps.memory_info().rss / 2**20
                base = base or rss
                health = httpx.get(f"http://127.0.0.1:{port}/healthz").json()
                rows.append([(b + 1) * per, health["sessions"], f"{rss:.1f}",
                             f"{(rss / base - 1) * 100:+.1f} %",
                             f"{per / (time.perf_counter() - tb):.0f}"])
            total = time.perf_counter() - t0
            table(f"station RSS over {args.sessions:,} sessions through the WebSocket "
                  f"({total:.0f} s; goal: growth ≤ 5 % after the first block)",
                  ["sessions", "station count", "RSS MiB", "vs warm-up", "sessions/s"], rows)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
