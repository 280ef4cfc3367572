"""A separate sACN receiver for tests/drivers/test_sacn.py (the ``sacn`` package's own).

``python _sacn_receiver.py PORT UNIVERSE`` prints ``ready`` once listening, then one JSON
line per change of the universe's data: ``{"t": MONOTONIC, "dmx": [ch1, ch2, ...]}`` with
the first 16 channels (time.monotonic is the system's clock, the test's too), and
``{"t": ..., "availability": "available" | "timeout"}`` when a source appears or ends its
stream (Stream_Terminated) or falls silent.
"""

from __future__ import annotations

import json
import sys
import time

import sacn


def main() -> None:
    port, universe = int(sys.argv[1]), int(sys.argv[2])
    receiver = sacn.sACNreceiver(bind_address="127.0.0.1", bind_port=port)

    def on_packet(packet: sacn.DataPacket) -> None:
        print(json.dumps({"t": time.monotonic(), "dmx": list(packet.dmxData[:16])}), flush=True)

    def on_availability(universe: int, changed: str) -> None:
        print(json.dumps({"t": time.monotonic(), "availability": changed}), flush=True)

    receiver.register_listener("universe", on_packet, universe=universe)
    receiver.register_listener("availability", on_availability)
    receiver.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin (or kills us)
    finally:
        receiver.stop()


if __name__ == "__main__":
    main()
