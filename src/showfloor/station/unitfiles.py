"""``showfloor kiosk --install``: the systemd units of deploy/, filled in for this machine.

The units ship inside the package (``showfloor/station/units/``; ``deploy/`` in a checkout
links to them). They are written as the checkout's files say, with what differs on this
machine put in: the ``showfloor`` executable of this installation (a venv or pipx),
the folder of station profiles, the data folder, the station's port and — for system
units — the user the station runs as. Run as root they are system units
(``/etc/systemd/system``; the kiosk unit, which belongs to the kiosk user's graphical
session, in ``/etc/systemd/user``); otherwise user units in ``~/.config/systemd/user``,
where systemd cannot switch users or sandbox a service, so those lines are left out.
A file already there that differs is never replaced without ``force``.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from showfloor.errors import ShowfloorError

UNITS = Path(__file__).resolve().parent / "units"
STATION = "showfloor-station@.service"
KIOSK = "showfloor-kiosk@.service"
HUB = "showfloor-hub.service"
ALL = (STATION, HUB, KIOSK)

#: What the units in deploy/ say, and is replaced.
DEPLOYED_EXE = "/opt/showfloor/.venv/bin/showfloor"
DEPLOYED_PROFILES = "/etc/showfloor"
DEPLOYED_DATA = "/var/lib/showfloor"
DEPLOYED_HUB_DATA = "/var/lib/showfloor-hub"
DEPLOYED_PORT = "8700"
DEPLOYED_USER = "showfloor"
#: Lines a user unit leaves out: systemd's user manager cannot switch users, and its
#: sandboxing needs privileges a user manager does not have.
SYSTEM_ONLY = ("User=", "Group=", "StateDirectory=", "ReadWritePaths=", "ProtectSystem=",
               "ProtectHome=", "PrivateTmp=", "NoNewPrivileges=", "ProtectKernelTunables=",
               "ProtectControlGroups=", "RestrictSUIDSGID=")


@dataclass(frozen=True)
class Plan:
    """Where the units go and what is filled in."""

    system: bool
    unit_dir: Path
    kiosk_dir: Path
    exe: str
    profiles: Path
    data: Path
    port: int
    user: str | None


def showfloor_exe() -> str:
    """The ``showfloor`` command of this installation (its venv's, pipx's), else
    ``python -m showfloor`` with this Python."""
    beside = Path(sys.executable).parent / "showfloor"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return f"{sys.executable} -m showfloor"


def plan(*, unit_dir: Path | None = None, profile: Path | None = None,
         data: Path | None = None, port: int = 8700, run_as: str | None = None,
         system: bool | None = None) -> Plan:
    """The defaults for this user: root gets system units, anyone else user units."""
    system = os.geteuid() == 0 if system is None else system
    home = Path.home()
    if system:
        where = unit_dir or Path("/etc/systemd/system")
        kiosk_dir = unit_dir or Path("/etc/systemd/user")
        profiles = profile.parent if profile else Path(DEPLOYED_PROFILES)
        folder = data or Path(DEPLOYED_DATA)
        user = run_as or _sudo_user() or DEPLOYED_USER
    else:
        where = unit_dir or home / ".config" / "systemd" / "user"
        kiosk_dir = where
        profiles = profile.parent if profile else home / ".config" / "showfloor"
        folder = data or Path(os.environ.get("SHOWFLOOR_DATA") or
                              Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
                              / "showfloor")
        user = None
    return Plan(system, where, kiosk_dir, showfloor_exe(), profiles.absolute(),
                folder.absolute(), port, user)


def _sudo_user() -> str | None:
    name = os.environ.get("SUDO_USER")
    return name if name and name != "root" else None


def render(name: str, p: Plan) -> str:
    """One unit's text for this machine."""
    text = (UNITS / name).read_text(encoding="utf-8")
    hub_data = DEPLOYED_HUB_DATA if p.system and p.data == Path(DEPLOYED_DATA) else \
        str(p.data / "hub")
    text = (text.replace(DEPLOYED_EXE, p.exe)
            .replace(DEPLOYED_HUB_DATA, hub_data)
            .replace(DEPLOYED_DATA, str(p.data))
            .replace(DEPLOYED_PROFILES + "/", str(p.profiles) + "/")
            .replace(f"--port {DEPLOYED_PORT}", f"--port {p.port}")
            .replace(f"localhost:{DEPLOYED_PORT}/", f"localhost:{p.port}/"))
    lines = text.splitlines()
    if p.system:
        group = _group_of(p.user or DEPLOYED_USER)
        lines = [f"User={p.user}" if ln == f"User={DEPLOYED_USER}" else
                 f"Group={group}" if ln == f"Group={DEPLOYED_USER}" else ln for ln in lines]
        if p.data != Path(DEPLOYED_DATA):  # StateDirectory= makes /var/lib/<name> only
            lines = [ln for ln in lines if not ln.startswith("StateDirectory=")]
    elif name != KIOSK:
        out: list[str] = []
        for ln in lines:
            if ln.startswith("# hardening"):
                out.append("# a user unit: no User= and no sandboxing (they need a system "
                           "unit: run showfloor kiosk --install as root for those)")
            elif ln.startswith(SYSTEM_ONLY):
                continue
            elif ln == "WantedBy=multi-user.target":
                out.append("WantedBy=default.target")
            else:
                out.append(ln)
        lines = out
    header = (f"# Written by `showfloor kiosk --install` from showfloor's {name} "
              "(deploy/ in the source); run it again after upgrading showfloor.")
    return "\n".join([header, *lines]) + "\n"


def _group_of(user: str) -> str:
    try:
        return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    except KeyError:
        return user  # not made yet (deploy/README.md: create the user first)


def install(p: Plan, *, force: bool = False) -> list[tuple[Path, str]]:
    """Write every unit; ``(path, "wrote" | "unchanged" | "replaced")`` for each.

    Nothing is written when one file there differs and ``force`` is not given.
    """
    todo = [((p.kiosk_dir if name == KIOSK else p.unit_dir) / name, render(name, p))
            for name in ALL]
    for path, text in todo:
        if path.is_file() and path.read_text(encoding="utf-8", errors="replace") != text \
                and not force:
            raise ShowfloorError(f"{path} is already there and differs from the unit showfloor "
                                 "would write; compare the two, then run again with --force "
                                 "to replace it")
    done: list[tuple[Path, str]] = []
    for path, text in todo:
        state = "wrote"
        if path.is_file():
            state = "unchanged" if path.read_text(encoding="utf-8",
                                                  errors="replace") == text else "replaced"
        if state != "unchanged":
            _write(path, text)
        done.append((path, state))
    _make_data(p)
    return done


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".showfloor-", suffix=".service", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except PermissionError as err:
        raise ShowfloorError(f"cannot write {path}: permission denied; run it as root, or "
                             "give --unit-dir a folder of yours") from err
    except OSError as err:
        raise ShowfloorError(f"cannot write {path}: {err.strerror}") from err


def _make_data(p: Plan) -> None:
    """The data folder, owned by the station's user (system units: when that user exists)."""
    if p.system and p.data == Path(DEPLOYED_DATA):
        return  # StateDirectory= makes it, owned by User=
    try:
        p.data.mkdir(parents=True, exist_ok=True)
        if p.system and p.user:
            # the user not made yet, or not root: next_steps says what it needs
            with contextlib.suppress(LookupError, PermissionError):
                shutil.chown(p.data, p.user, _group_of(p.user))
    except OSError as err:
        raise ShowfloorError(f"cannot make the data folder {p.data}: {err.strerror}") from err


def next_steps(p: Plan, profile: Path | None) -> list[str]:
    """The systemctl commands that enable what was written."""
    name = profile.stem if profile else "NAME"
    ctl = "systemctl" if p.system else "systemctl --user"
    steps = [f"{ctl} daemon-reload",
             f"{ctl} enable --now showfloor-station@{name}.service"
             + ("" if profile else f"   (NAME: a profile {p.profiles}/NAME.yaml)"),
             f"{ctl} enable --now showfloor-hub.service   (only where the hub runs)"]
    kiosk = f"systemctl --user enable --now showfloor-kiosk@{name}.service"
    if p.system:
        steps.append(f"as the kiosk user, in its graphical session: systemctl --user "
                     f"daemon-reload && {kiosk}")
        if p.user and p.data != Path(DEPLOYED_DATA):
            steps.append(f"the station runs as {p.user}: it needs to write {p.data}")
        if p.exe.startswith(("/home/", "/root/")):
            steps.append(f"note: {p.exe} is in a home folder, which the units' ProtectHome= "
                         "hides; install showfloor in a venv under /opt for system units")
    else:
        steps.append(kiosk)
        steps.append("loginctl enable-linger   (so the station starts at boot, not at login)")
    return steps
