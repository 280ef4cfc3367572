"""Listening sockets: bound before a server starts, so a busy port is one sentence."""

from __future__ import annotations

import errno
import socket

from showfloor.errors import ShowfloorError


def bind(host: str, port: int) -> socket.socket:
    """Bind now, so a busy port is one plain sentence instead of a server traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit this: no Nagle delay when a reset and the
    # attract view go out back to back (a 40 ms stall against delayed ACKs)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise ShowfloorError(f"port {port} on {host} is already in use (another station?); "
                                 f"stop it or choose another port with --port") from err
        if err.errno == errno.EACCES:
            raise ShowfloorError(f"port {port} needs more privileges; use a port above 1024"
                                 ) from err
        raise ShowfloorError(f"cannot listen on {host}:{port}: {err.strerror}") from err
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
