"""The device end of a socat pseudo-terminal pair: an 'Arduino' for the serial tests.

    python _serial_peer.py PATH HEX [--read]

Opens PATH, writes the bytes HEX, and with --read then waits (5 s at most) for one
line from the station and prints it.
"""

from __future__ import annotations

import os
import select
import sys


def main() -> None:
    path, data = sys.argv[1], bytes.fromhex(sys.argv[2])
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    os.write(fd, data)
    if "--read" in sys.argv:
        print("ready", flush=True)
        line = b""
        while not line.endswith(b"\n"):
            ready, _, _ = select.select([fd], [], [], 5.0)
            if not ready:
                break
            line += os.read(fd, 256)
        print(line.decode("utf-8", "replace").strip(), flush=True)
    os.close(fd)


if __name__ == "__main__":
    main()
