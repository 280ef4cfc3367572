"""A whole hall on one machine: a hub and every station profile of an exhibit, enrolled.

``showfloor hall EXHIBIT`` is the quickest way to see a live fleet (the
README's demo), and a small hall's real set-up when one computer drives
several screens. It starts the hub, makes the hall and a first admin if
the database has none, enrols each station in ``EXHIBIT/stations/*.yaml``
with a fresh one-time code (only the first time: identities are kept in the
data folder), and keeps every process running: a station that asks for a
restart (exit status 75, the hub's ``restart`` command) or stops
unexpectedly is started again. It prints one address per surface of each
station. Ctrl+C (or ``SIGTERM``) stops the stations, then the hub — each in
its own process group, so the order is the hall's — and the hall exits 0.

It supervises the stations the way systemd runs ``showfloor-station@.service``
(``Type=notify``, ``WatchdogSec=``, ``NotifyAccess=main``, the start limit):
each station gets its own ``NOTIFY_SOCKET`` (a datagram socket in a private
temporary folder, removed when the hall stops) and ``WATCHDOG_USEC``. A
station that said ``READY=1`` and then sends no ``WATCHDOG=1`` for the
watchdog interval — a hung loop, a ``SIGSTOP`` — is killed (``SIGABRT``, then
``SIGKILL``, its whole process group) and started again. A process started
:data:`START_LIMIT_BURST` times within :data:`START_LIMIT_INTERVAL` seconds
(restarts the hub asked for are not counted) is not started again: the hall
says so and keeps the hub and the other stations running.

It is ready to deliver new versions from the start (docs/deploy.md, "Try it in
the demo hall"): the first time, it makes a publisher key and a rollback key in
``DATA/keys/``, gives the hub the publisher as its trusted key and the rollback
key to sign rollbacks with, gives every station a trust list of both
(``--trust``), packs the exhibit into a signed bundle in ``DATA/bundles/``,
publishes it on the hub and installs it into each station's content store, so
the stations run from their stores and a rollout has a version to go back to.
A restart makes none of it again; it installs the exhibit only into a station
that runs nothing, or an older version of it (the exhibit's version was raised).
An exhibit that cannot be packed (a symbolic link in it, say) is run from its
folder, as before, and the hall says why.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from showfloor.competition.room import HOST_KEY_ENV, competition_urls
from showfloor.content import bundle
from showfloor.content.load import load as load_exhibit
from showfloor.errors import BundleError, ShowfloorError
from showfloor.hub import bundles as hub_bundles
from showfloor.hub import db as hubdb
from showfloor.hub import enrolment, users
from showfloor.station.content_store import ContentStore, version_key, version_name
from showfloor.station.profile import Surface, load_profile
from showfloor.station.systemd import Notice, NotifySocket

RESTART = 75
#: the start limit (systemd's StartLimitBurst= and StartLimitIntervalSec=, as in
#: deploy/showfloor-station@.service): a process started this many times within this
#: many seconds is given up on rather than started again
START_LIMIT_BURST = 5
START_LIMIT_INTERVAL = 600.0
#: the station unit's WatchdogSec= (s); ``showfloor hall --watchdog`` changes it
WATCHDOG_SECONDS = 30.0
#: TimeoutStartSec=: a station that has not said READY=1 by then is restarted (s)
START_TIMEOUT = 60.0
#: TimeoutAbortSec=: how long SIGABRT may take before SIGKILL (s)
ABORT_SECONDS = 5.0
#: what the hall's own environment says to a service manager; not for its children
_SYSTEMD_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
#: the hall's signing keys and trust lists, in its data folder
KEYS = "keys"
#: the exhibit as the hall packed it, in its data folder
BUNDLES = "bundles"
#: days a bundle the hall packs stays valid from now
BUNDLE_DAYS = 365


@dataclass
class Child:
    """One supervised process: the hub (no notify socket) or a station."""

    name: str
    args: list[str]
    url: str
    label: str = ""
    #: added to ``args`` while ``identity`` does not exist (a station's one-time code)
    enrol: list[str] = field(default_factory=list)
    #: set in its environment (the hub's settings)
    env: dict[str, str] = field(default_factory=dict)
    identity: Path | None = None
    #: where a station says READY=1 / WATCHDOG=1 / STOPPING=1 (None: the hub)
    notify: NotifySocket | None = None
    #: WATCHDOG_USEC for it, in seconds (0: no watchdog)
    watchdog: float = 0.0
    proc: subprocess.Popen[bytes] | None = None
    #: monotonic times of the starts that count towards the start limit
    starts: list[float] = field(default_factory=list)
    given_up: bool = False
    ready: bool = False
    stopping: bool = False
    started_at: float = 0.0
    last_ping: float = 0.0

    def __post_init__(self) -> None:
        self.label = self.label or f"station {self.name}"

    def start(self, now: float | None = None, *, counted: bool = True) -> None:
        now = time.monotonic() if now is None else now
        if counted:
            self.starts.append(now)
        self.ready = self.stopping = False
        self.started_at = self.last_ping = now
        env = {k: v for k, v in os.environ.items() if k not in _SYSTEMD_ENV}
        env.update(self.env)
        if self.notify is not None:
            env["NOTIFY_SOCKET"] = str(self.notify.path)
            if self.watchdog > 0:
                env["WATCHDOG_USEC"] = str(round(self.watchdog * 1e6))
            # SIGABRT from the watchdog prints where every thread was, for the log
            env["PYTHONFAULTHANDLER"] = "1"
        args = list(self.args)
        if self.enrol and not (self.identity is not None and self.identity.exists()):
            args += self.enrol
        # a process group of its own: Ctrl+C in the terminal reaches the hall only, which
        # then stops the stations before the hub (a station whose hub went first would
        # say so while stopping); and the watchdog kills the whole group
        self.proc = subprocess.Popen([sys.executable, "-m", "showfloor", *args],
                                     stdout=subprocess.DEVNULL, env=env, process_group=0)

    def heard(self, notice: Notice, now: float) -> None:
        """A datagram on its notify socket; only its main process is listened to
        (``NotifyAccess=main``): a message from any other pid is ignored."""
        if self.proc is None or (notice.pid is not None and notice.pid != self.proc.pid):
            return
        fields = notice.fields
        if fields.get("READY") == "1":
            self.ready = True
            self.last_ping = now
        if fields.get("WATCHDOG") == "1":
            self.last_ping = now
        elif fields.get("WATCHDOG") == "trigger":  # sd_notify's "act as if it ran out"
            self.last_ping = -float("inf")
        if fields.get("STOPPING") == "1":
            self.stopping = True

    def overdue(self, now: float) -> str | None:
        """Why a running station must be killed now (None: it is fine)."""
        if self.notify is None or self.stopping or self.given_up:
            return None
        if not self.ready:
            if now - self.started_at > START_TIMEOUT:
                return f"{self.label} did not say it was ready within {START_TIMEOUT:g} s"
            return None
        if self.watchdog > 0 and now - self.last_ping > self.watchdog:
            return f"{self.label} stopped answering its watchdog for {self.watchdog:g} s"
        return None

    def may_start_again(self, now: float) -> bool:
        """The start limit: fewer than the burst of counted starts within the interval."""
        self.starts = [t for t in self.starts if now - t < START_LIMIT_INTERVAL]
        return len(self.starts) < START_LIMIT_BURST

    def kill(self) -> None:
        """What systemd does when the watchdog runs out: SIGABRT to the process group
        (with SIGCONT, so a stopped process gets it), then SIGKILL to whatever is left."""
        proc = self.proc
        if proc is None:
            return
        for signum in (signal.SIGABRT, signal.SIGCONT):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signum)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=ABORT_SECONDS)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _local_zone() -> str:
    tz = os.environ.get("TZ")
    if tz and "/" in tz:
        return tz.lstrip(":")
    with contextlib.suppress(OSError):
        text = Path("/etc/timezone").read_text().strip()
        if "/" in text:
            return text
    with contextlib.suppress(OSError):
        target = os.readlink("/etc/localtime")
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    return "UTC"


def _wait_up(url: str, child: Child, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if child.proc is not None and child.proc.poll() is not None:
            raise ShowfloorError(f"{child.name} stopped at start (exit {child.proc.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise ShowfloorError(f"{child.name} did not answer on {url} within {seconds:g} s")


@dataclass(frozen=True)
class Keys:
    """The hall's keys and trust lists (``DATA/keys/``), made the first time it starts.

    ``publisher.pem`` signs bundles: the hub trusts it (``publisher.txt``, its
    ``trusted_keys``) and so does every station. ``rollback.pem`` is the hub's
    ``rollback_key``. ``trust.txt`` is the stations' trust list: both public keys in a
    plain list, where a key has both roles — on one machine that holds both private
    keys, a signed ``trust.json`` with roles would protect nothing more.
    """

    publisher: Path
    rollback: Path
    hub_trust: Path
    trust: Path
    #: the publisher's public key by its id: what the hall's installs accept
    trusted: dict[str, Ed25519PublicKey]
    signing: Ed25519PrivateKey


def _key(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        return bundle.new_key(path)
    try:
        return bundle.load_key(path)
    except BundleError as err:
        raise ShowfloorError(f"{err} — the hall made {path} itself: delete it (and the "
                             "hall's data folder, whose stations trust it) and start the "
                             "hall again") from err


def _write_if_changed(path: Path, text: str) -> None:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def make_keys(data: Path) -> Keys:
    """The hall's keys and trust lists: made once, read on every later start."""
    folder = data / KEYS
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    publisher = _key(folder / "publisher.pem")
    rollback = _key(folder / "rollback.pem")

    def line(key: Ed25519PrivateKey, what: str) -> str:
        public = key.public_key()
        return f"{bundle.public_text(public)}  # key id {bundle.key_id(public)}: {what}\n"

    keys = Keys(folder / "publisher.pem", folder / "rollback.pem", folder / "publisher.txt",
                folder / "trust.txt",
                {bundle.key_id(publisher.public_key()): publisher.public_key()}, publisher)
    _write_if_changed(keys.hub_trust, "# the publisher the hall's hub accepts bundles from\n"
                      + line(publisher, "the hall's publisher"))
    _write_if_changed(keys.trust, "# what the hall's stations trust (a plain list: both "
                      "roles)\n" + line(publisher, "the hall's publisher")
                      + line(rollback, "the hall's hub signs rollbacks with it"))
    return keys


@dataclass(frozen=True)
class Packed:
    """The exhibit as a signed bundle (``DATA/bundles/ID-VERSION.showfloor``)."""

    path: Path
    exhibit: str
    version: str
    #: the exhibit folder no longer holds what the bundle of its version holds
    changed: bool


def _listing(root: Path) -> list[bundle.FileEntry]:
    out = []
    for rel, path in bundle.exhibit_files(root):
        with path.open("rb") as f:
            digest = hashlib.file_digest(f, "sha256")
        out.append(bundle.FileEntry(rel, path.stat().st_size, digest.hexdigest()))
    return out


def pack_exhibit(exhibit: Path, data: Path, keys: Keys) -> Packed:
    """Pack the exhibit with the hall's publisher key, once per version (reproducibly:
    its time is its newest file's). A bundle of that version made before is kept, even
    when the folder changed since (``changed``): the stations run it already."""
    loaded = load_exhibit(exhibit).exhibit
    if loaded is None:
        raise ShowfloorError(f"{exhibit} cannot be loaded; run 'showfloor check {exhibit}'")
    folder = data / BUNDLES
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{loaded.id}-{loaded.version}.showfloor"
    if out.is_file():
        with contextlib.suppress(BundleError):  # damaged or expired: packed again below
            made = bundle.verify(out, keys.trusted).manifest
            changed = list(made.files) != _listing(exhibit)
            return Packed(out, loaded.id, loaded.version, changed)
    newest = bundle.created_time(bundle.exhibit_files(exhibit))
    days = BUNDLE_DAYS + max(0, int(time.time() - newest) // 86400)
    bundle.pack(exhibit, loaded.id, loaded.version, keys.signing, out, expires_days=days)
    return Packed(out, loaded.id, loaded.version, False)


def install(packed: Packed, data: Path, keys: Keys, keep: int = 3) -> str | None:
    """Install the hall's bundle into a station's content store (the station is not
    running) and make it current, as ``showfloor install`` does when nothing runs —
    unless the station runs that version or a newer one (a rollout brought it).
    Returns what was installed, or None."""
    store = ContentStore(data, keep=keep)
    store.recover()
    running = store.current()
    if running is not None:
        exhibit, _, version = running.partition("@")
        if exhibit == packed.exhibit and version_key(version) >= version_key(packed.version):
            return None
    name = version_name(packed.exhibit, packed.version)
    store.install_bundle(packed.path, keys.trusted)
    store.activate(name)
    store.confirm(name)
    return name


def surface_lines(station: str, url: str, surfaces: Sequence[Surface]) -> list[str]:
    """One line per surface of a station: its id, what it is for, and the page to open."""
    return [f"  {station:<20} {s.id:<10} {s.role:<8} {url}?surface={s.id}" for s in surfaces]


def run(exhibit: Path, *, port: int = 8700, data: Path, host: str = "127.0.0.1",
        hall_name: str = "Demo hall", watchdog: float = WATCHDOG_SECONDS) -> None:
    """Run the hall until interrupted; ``watchdog``: each station's WatchdogSec (0: none)."""
    if 0 < watchdog < 1:
        raise ShowfloorError("--watchdog is 0 (no watchdog) or at least 1 second: a station "
                             "pings at most every 0.1 s")
    profiles = sorted((exhibit / "stations").glob("*.yaml"))
    if not profiles:
        raise ShowfloorError(f"{exhibit}/stations has no station profiles (*.yaml)")
    data.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{(data / 'hub.sqlite').resolve()}"
    db = hubdb.Database(db_url)
    hubdb.upgrade(db)
    now = time.time()
    password_file = data / "admin-password.txt"
    with db.write() as conn:
        hall_id = enrolment.ensure_hall(conn, now, hall_name, timezone=_local_zone(),
                                        actor="hall")
        if not users.all_users(conn):
            password = secrets.token_urlsafe(12)
            users.create(conn, now, "admin", password, "admin", "hall")
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
    # a station killed by its watchdog (SIGABRT) leaves a traceback in the log, not a
    # core file in the current folder
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    hub_url = f"http://127.0.0.1:{port}"
    keys = make_keys(data)
    hub = Child("hub", ["hub", "--db", db_url, "--port", str(port), "--host", host],
                f"http://{shown}:{port}/", label="the hub",
                env={"SHOWFLOOR_HUB_TRUSTED_KEYS": str(keys.hub_trust.resolve()),
                     "SHOWFLOOR_HUB_ROLLBACK_KEY": str(keys.rollback.resolve())})
    hub.start()
    children = [hub]
    sockets = Path(tempfile.mkdtemp(prefix="showfloor-hall-"))  # 0700: the hall's alone
    # the installs run while the hub starts (and station i starts during install i + 1)
    pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                              thread_name_prefix="hall-install")
    try:
        for signum in (signal.SIGTERM, signal.SIGHUP):  # the terminal closed: stop too
            signal.signal(signum, signal.default_int_handler)
        stations = []
        for path in profiles:
            profile, problems = load_profile(path)
            if profile is None:
                raise ShowfloorError(f"{path}: {problems[0] if problems else 'not valid'}")
            stations.append((path, profile))
        packed: Packed | None = None
        try:
            packed = pack_exhibit(exhibit, data, keys)
        except BundleError as err:
            print(f"the hall cannot pack {exhibit} into a bundle ({err}); its stations run "
                  "the folder itself", file=sys.stderr, flush=True)
        installs = {} if packed is None else {
            profile.station.id: pool.submit(install, packed,
                                            data / "stations" / profile.station.id, keys,
                                            keep=profile.delivery.keep)
            for _, profile in stations}
        if packed is not None:
            try:  # on the Rollouts page: what the stations run, the version to roll back to
                hub_bundles.publish(db, packed.path, "hall", keys.trusted)
            except hub_bundles.PublishError as err:
                print(f"the hall could not publish {packed.path.name} on its hub: {err}",
                      file=sys.stderr, flush=True)
        _wait_up(hub_url, hub)
        lines = []
        for i, (path, profile) in enumerate(stations, start=1):
            sdata = data / "stations" / profile.station.id
            base = ["station", str(path), "--port", str(port + i), "--host", host,
                    "--data", str(sdata), "--hub", hub_url,
                    "--trust", str(keys.trust.resolve())]
            installing = installs.get(profile.station.id)
            try:
                if installing is not None:
                    installing.result()
            except BundleError as err:
                print(f"{profile.station.id}: the hall could not install its bundle ({err}); "
                      "it runs what it ran before", file=sys.stderr, flush=True)
            enrol: list[str] = []
            if not (sdata / "hub.json").exists():
                with db.write() as conn:
                    code = enrolment.create_code(conn, time.time(), hall_id, "hall",
                                                 name=profile.station.name or
                                                 profile.station.id, ttl=600)
                # the code is spent once it has enrolled: a restart must not reuse it
                enrol = ["--enrol", code]
            url = f"http://{shown}:{port + i}/"
            env: dict[str, str] = {}
            if profile.competition is not None:
                # the host page's key: the hall makes it, so it can print the host's address
                key = os.environ.get(profile.competition.host_key_env or "") or \
                    secrets.token_urlsafe(9)
                env[HOST_KEY_ENV] = key
            child = Child(profile.station.id, base, url, enrol=enrol, env=env,
                          identity=sdata / "hub.json",
                          notify=NotifySocket(sockets / f"{i}.sock"), watchdog=watchdog)
            child.start()
            children.append(child)
            lines += surface_lines(profile.station.id, url, profile.surfaces)
            if profile.competition is not None:
                lines += [f"  {profile.station.id:<20} {'competition ' + role:<19} {address}"
                          for role, address in competition_urls(
                              url.rstrip("/"), env[HOST_KEY_ENV]).items()]
        # each station says READY=1 once it serves (or is given up on, and the rest go on)
        while not all(c.ready or c.given_up for c in children[1:]):
            _step(children)
        db.dispose()
        secret = password_file.read_text().strip() if password_file.exists() else "(yours)"
        live = sum(c.ready for c in children[1:])
        print(f"\nshowfloor hall '{hall_name}': a hub and {live} station"
              f"{'' if live == 1 else 's'}, "
              "enrolled and live\n", flush=True)
        print(f"  {'dashboard':<41}{hub.url}   (user admin, password {secret})")
        print("\n".join(lines))
        print()
        print(f"  {'publisher key':<41}{keys.publisher}   (the hub and every station "
              "trust it)")
        print(f"  {'a new version':<41}showfloor pack COPY --key {keys.publisher} -o "
              f"new.showfloor\n  {'':<41}(COPY: a copy of {exhibit} with a higher version), "
              f"then publish it on {hub.url}rollouts")
        if packed is not None and packed.changed:
            print(f"\n  note: {exhibit} changed since the hall packed its version "
                  f"{packed.version} ({packed.path}); the stations run that one — raise the "
                  "version in exhibit.yaml and start the hall again to install it")
        print(f"\n  data: {data}   stop: Ctrl+C\n", flush=True)
        _supervise(children)
    finally:
        pool.shutdown(cancel_futures=True)
        _stop(children)
        for child in children:
            if child.notify is not None:
                child.notify.close()
        shutil.rmtree(sockets, ignore_errors=True)


def _step(children: list[Child], wait: float = 0.2) -> None:
    """One turn of the supervisor: read what the stations said (waiting up to ``wait``
    seconds for it), then restart what stopped or stopped answering."""
    notifying = [c.notify for c in children if c.notify is not None]
    with contextlib.suppress(InterruptedError):
        select.select(notifying, [], [], wait)
    now = time.monotonic()
    for child in children:
        if child.notify is not None:
            for notice in child.notify.receive():
                child.heard(notice, now)
    for child in children:
        proc = child.proc
        if proc is None or child.given_up:
            continue
        hung = proc.poll() is None
        if hung:
            why = child.overdue(now)
            if why is None:
                continue
        elif proc.returncode == RESTART:
            # asked for (the hub's restart command): not counted towards the start limit
            print(f"{child.label}: restarting (asked by the hub)", flush=True)
            child.start(now, counted=False)
            continue
        else:
            why = f"{child.label} stopped (exit {proc.returncode})"
        again = child.may_start_again(now)
        if again:
            print(f"{why}; restarting it", flush=True)
        else:
            minutes = START_LIMIT_INTERVAL / 60
            print(f"{why}, and it has been started {START_LIMIT_BURST} times in "
                  f"{minutes:g} minutes: the hall gives up on it and leaves it stopped "
                  "(the hub and the other stations keep running; fix it, then restart "
                  "the hall)", file=sys.stderr, flush=True)
        if hung:  # the sentence first, then whatever the dying process prints
            child.kill()
        if again:
            child.start()
        else:
            child.given_up = True


def _supervise(children: list[Child]) -> None:
    stopping: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        stopping.append(signum)

    # a flag, not an exception: a signal must not land between starting a child and
    # remembering it
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    while not stopping:
        _step(children)


def _stop(children: list[Child]) -> None:
    """Stop the stations, then the hub (so no station asks a hub that is gone)."""
    for group in (children[1:], children[:1]):
        for child in group:
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
                # as systemd does: a stopped process must go on to read its SIGTERM
                child.proc.send_signal(signal.SIGCONT)
        for child in group:
            if child.proc is not None:
                try:
                    child.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(child.proc.pid, signal.SIGKILL)
                    child.proc.wait()
