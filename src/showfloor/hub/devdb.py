"""A throwaway PostgreSQL cluster for tests, benchmarks and demos.

``TempPostgres`` runs ``initdb`` in a temporary directory and starts a server
on a free loopback port, with durability turned off (it is thrown away), and
removes everything again on ``stop()``::

    with TempPostgres() as pg:
        url = pg.create_database("hub")  # postgresql+psycopg://showfloor@127.0.0.1:PORT/hub
        ...

It uses Debian's server binaries (``/usr/lib/postgresql/<version>/bin``, the
newest version) or ones on ``PATH``; ``scripts/ensure-postgres.sh`` installs
them. PostgreSQL refuses to run as root, so as root the cluster belongs to the
``postgres`` system user and its commands run through ``runuser``. The only
role is the superuser ``showfloor``, trusted without a password.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from showfloor.errors import ShowfloorError

USER = "showfloor"
"""The superuser role the cluster is created with."""

_SERVER_USER = "postgres"
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_TOOLS = ("initdb", "pg_ctl", "postgres")
_INSTALL_HINT = ("install PostgreSQL with scripts/ensure-postgres.sh (or: apt-get install postgresql), "
                 "or put initdb, pg_ctl and postgres on PATH")
_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "max_connections": "300",
}
_START_ATTEMPTS = 3
_TIMEOUT_S = 120  # longer than pg_ctl's own 60 s wait, so pg_ctl reports first


def find_bindir() -> Path:
    """The directory with ``initdb``, ``pg_ctl`` and ``postgres``: Debian's newest, else ``PATH``'s."""

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)

    debian = sorted((d for d in _DEBIAN_ROOT.glob("*/bin") if _has_tools(d)), key=version)
    if debian:
        return debian[-1]
    initdb = shutil.which("initdb")
    if initdb is not None and _has_tools(Path(initdb).parent):
        return Path(initdb).parent
    raise ShowfloorError(f"no PostgreSQL server found (initdb, pg_ctl and postgres under "
                         f"{_DEBIAN_ROOT}/*/bin or on PATH) — {_INSTALL_HINT}")


def _has_tools(bindir: Path) -> bool:
    return all(os.access(bindir / tool, os.X_OK) for tool in _TOOLS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class TempPostgres:
    """A PostgreSQL cluster in a temporary directory, on a free loopback port.

    Use it as a context manager, or call ``start()`` and ``stop()``; ``stop()``
    is safe to call twice, and runs at interpreter exit if nobody called it.
    """

    def __init__(self, bindir: Path | None = None) -> None:
        self._bindir = bindir
        self._tmp: Path | None = None
        self._port: int | None = None

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._port is not None

    def start(self) -> None:
        """Create the cluster and start its server; returns once it accepts connections."""
        if self._tmp is not None:
            raise ShowfloorError(f"this PostgreSQL cluster is already started (port {self._port})")
        self._bindir = bindir = self._bindir or find_bindir()
        if not _has_tools(bindir):
            raise ShowfloorError(f"{bindir} does not hold PostgreSQL's initdb, pg_ctl and postgres — "
                                 f"{_INSTALL_HINT}")
        self._tmp = Path(tempfile.mkdtemp(prefix="showfloor-pg-"))
        atexit.register(self.stop)
        try:
            if os.geteuid() == 0:
                self._hand_to_server_user()
            self._initdb(bindir)
            self._start_server(bindir)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server (fast: open connections are cut) and remove the cluster."""
        tmp, self._tmp = self._tmp, None
        if tmp is None:
            return
        atexit.unregister(self.stop)
        try:
            # postmaster.pid: a server runs, even one that pg_ctl gave up waiting for.
            if self._bindir is not None and (tmp / "data" / "postmaster.pid").exists():
                for mode in ("fast", "immediate"):
                    try:
                        stopped = self._run([str(self._bindir / "pg_ctl"), "stop", "-w", "-m", mode,
                                             "-D", str(tmp / "data")], cwd=tmp)
                    except ShowfloorError:
                        continue
                    if stopped.returncode == 0:
                        break
        finally:
            self._port = None
            shutil.rmtree(tmp, ignore_errors=True)

    # -- databases ---------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise ShowfloorError("this PostgreSQL cluster is not running — call start() first")
        return self._port

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of database ``dbname`` in this cluster."""
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name``; returns its SQLAlchemy URL."""
        self._admin(f"create database '{name}'",
                    sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, cutting its open connections first; a missing one is fine."""
        self._admin(f"drop database '{name}'",
                    sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = {} AND pid <> pg_backend_pid()").format(sql.Literal(name)),
                    sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def _admin(self, what: str, *statements: sql.Composed) -> None:
        conninfo = make_conninfo(host="127.0.0.1", port=self.port, user=USER, dbname="postgres")
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                for statement in statements:
                    conn.execute(statement)
        except psycopg.Error as err:
            raise ShowfloorError(f"could not {what} in the PostgreSQL cluster on port "
                                 f"{self.port}: {err}") from err

    # -- the server --------------------------------------------------------

    def _hand_to_server_user(self) -> None:
        assert self._tmp is not None
        try:
            account = pwd.getpwnam(_SERVER_USER)
        except KeyError:
            raise ShowfloorError(
                f"PostgreSQL does not run as root, and there is no '{_SERVER_USER}' user to run it "
                f"as — {_INSTALL_HINT} (Debian's package creates the user), or run as another user"
            ) from None
        os.chown(self._tmp, account.pw_uid, account.pw_gid)

    def _run(self, command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            command = ["runuser", "-u", _SERVER_USER, "--", *command]
        # cwd: the server user must be able to enter it (root's home is closed to it).
        try:
            return subprocess.run(command, cwd=cwd, capture_output=True, text=True, errors="replace",
                                  timeout=_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise ShowfloorError(f"could not run {shlex.join(command)}: {err}") from err

    def _initdb(self, bindir: Path) -> None:
        assert self._tmp is not None
        data = self._tmp / "data"
        base = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER, "-E", "UTF8"]
        done = self._run([*base, "--locale=C.UTF-8"], cwd=self._tmp)
        if done.returncode != 0 and "locale" in done.stdout + done.stderr:
            # C.UTF-8 is missing here (a non-glibc or minimal system): the byte-order C locale.
            shutil.rmtree(data, ignore_errors=True)
            done = self._run([*base, "--no-locale"], cwd=self._tmp)
        if done.returncode != 0:
            output = _tail(f"{done.stdout}\n{done.stderr}")
            raise ShowfloorError(f"initdb failed to create a PostgreSQL cluster in {data} "
                                 f"(exit {done.returncode}):\n{output}")

    def _start_server(self, bindir: Path) -> None:
        assert self._tmp is not None
        data, log = self._tmp / "data", self._tmp / "server.log"
        settings = " ".join(f"-c {key}={value}" for key, value in _SETTINGS.items())
        for attempt in range(1, _START_ATTEMPTS + 1):
            port = _free_port()
            log.unlink(missing_ok=True)
            done = self._run([str(bindir / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(log),
                              "-o", f"-p {port} -k {shlex.quote(str(self._tmp))} {settings}"], cwd=self._tmp)
            if done.returncode == 0:
                self._port = port
                return
            logged = log.read_text(errors="replace") if log.exists() else ""
            # Another process may take the free port before the server binds it: try another.
            if "could not bind" not in logged or attempt == _START_ATTEMPTS:
                output = _tail(f"{done.stdout}\n{done.stderr}\n{logged}")
                raise ShowfloorError(f"pg_ctl failed to start PostgreSQL from {data} on port {port} "
                                     f"(exit {done.returncode}):\n{output}")
