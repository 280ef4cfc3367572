"""systemd's notification protocol (``sd_notify``): READY and the watchdog.

Under a unit with ``Type=notify`` and ``WatchdogSec=``, systemd sets
``NOTIFY_SOCKET``; the station says ``READY=1`` once it serves, and
``WATCHDOG=1`` from its tick loop, so a hung loop gets the station restarted.
Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import socket


def notify(message: str) -> bool:
    """Send one notification; False when not running under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True
