"""The ``showfloor`` command: thin, calls into the packages.

Every failure a person can cause ends in one plain sentence and a non-zero
exit; a traceback is shown only with ``SHOWFLOOR_DEBUG=1``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from showfloor import __version__
from showfloor.errors import ShowfloorError

app = typer.Typer(
    name="showfloor",
    help="The runtime for interactive exhibit stations: check, simulate and replay exhibits.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70


def _version(value: bool) -> None:
    if value:
        out.print(f"showfloor {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """showfloor: write an exhibit as content; check, simulate and replay it."""


def _media_length(root: Path) -> Any:
    from showfloor.content.media import media_duration

    return lambda path: media_duration(root, path)


def _load_ok(path: Path) -> Any:
    """Load and check an exhibit; refuse with the problems if it has errors."""
    from showfloor.content.lint import check

    report = check(path)
    if not report.ok or report.exhibit is None:
        for p in report.errors[:20]:
            err.print(str(p), markup=False)
        more = len(report.errors) - 20
        raise ShowfloorError(f"{path} has {len(report.errors)} error(s)"
                             + (f" ({more} more not shown)" if more > 0 else "")
                             + "; run 'showfloor check' and fix them first")
    return report


@app.command("check")
def check_cmd(
    path: Annotated[Path, typer.Argument(help="The exhibit folder (or its exhibit.yaml).")],
    format: Annotated[str, typer.Option("--format", "-f",
                                        help="Output: text, or json for tools.")] = "text",
    display: Annotated[str, typer.Option(help="Display kind whose media budgets apply: "
                                         "touch, projector, vr, hologram-pyramid, "
                                         "hologram-fan.")] = "touch",
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
) -> None:
    """Load and lint an exhibit; report every problem as file:line:column."""
    from showfloor.content.lint import BUDGETS, as_json, check

    if format not in ("text", "json"):
        raise ShowfloorError(f"--format '{format}' is not known; use text or json")
    if display not in BUDGETS:
        raise ShowfloorError(f"--display '{display}' is not known; use one of "
                             f"{', '.join(BUDGETS)}")
    if path.is_file() and path.name != "exhibit.yaml" and path.suffix in (".yaml", ".yml"):
        from showfloor.content.lint import check_profile

        report = check_profile(path)
    else:
        report = check(path, display=display)
    failed = bool(report.errors) or (strict and bool(report.warnings))
    if format == "json":
        sys.stdout.write(json.dumps(as_json(report), ensure_ascii=False, indent=2) + "\n")
        raise typer.Exit(EXIT_PROBLEMS if failed else 0)
    for p in report.problems:
        colour = "red" if p.severity == "error" else "yellow"
        text = p.message if not p.hint else f"{p.message} — {p.hint}"
        out.print(f"{p.where()}: [{colour}]{p.severity}[/{colour}]: ", end="")
        out.print(text, markup=False)
    n_err, n_warn = len(report.errors), len(report.warnings)
    ex = report.exhibit
    if not report.problems and ex is not None:
        out.print(f"[green]✓[/green] {ex.id} {ex.version}: {len(ex.scenes)} scenes, "
                  f"{len(ex.languages)} languages, no problems")
    else:
        out.print(f"{n_err} error(s), {n_warn} warning(s)")
    raise typer.Exit(EXIT_PROBLEMS if failed else 0)


@app.command("simulate")
def simulate_cmd(
    path: Annotated[Path, typer.Argument(help="The exhibit folder.")],
    visitors: Annotated[int, typer.Option("--visitors", "-n", min=1, max=10_000_000,
                                          help="How many visitors to simulate.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same report.")
                    ] = 0,
    profile: Annotated[str, typer.Option(help="random, diligent or hurried.")] = "random",
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
    record: Annotated[Path | None, typer.Option(help="Also write every event to this "
                                                 "JSON-lines file (for replay).")] = None,
) -> None:
    """Walk simulated visitors through an exhibit on a virtual clock and report."""
    from showfloor.engine.simulate import PROFILES, simulate

    if profile not in PROFILES:
        raise ShowfloorError(f"--profile '{profile}' is not known; use one of "
                             f"{', '.join(PROFILES)}")
    if format not in ("text", "json"):
        raise ShowfloorError(f"--format '{format}' is not known; use text or json")
    report = _load_ok(path)
    result = simulate(report.exhibit, visitors, profile=profile, seed=seed,
                      media_length=_media_length(report.root), record=record,
                      origin=str(report.root.resolve()))
    if format == "json":
        sys.stdout.write(json.dumps(result.as_json(), ensure_ascii=False, indent=2) + "\n")
        return
    from showfloor.analytics.simulation import render

    render(out, result, report.exhibit)


@app.command("replay")
def replay_cmd(
    events: Annotated[Path, typer.Argument(help="A JSON-lines event log.")],
    exhibit: Annotated[Path | None, typer.Option(help="The exhibit folder (default: the one "
                                                  "named in the log).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print every view.")] = False,
) -> None:
    """Feed a recorded event log through the engine again; check the views match."""
    from showfloor.engine.replay import read_events, replay

    try:
        evs = list(read_events(events))
    except UnicodeDecodeError as e:
        raise ShowfloorError(f"{events} is not an event log: it is not UTF-8 text; "
                             "give the .jsonl file that 'simulate --record' or a station "
                             "wrote") from e
    if exhibit is None:
        started = next((e for e in evs if e.kind == "engine_started"), None)
        where = started.data.get("path") if started else None
        if not where:
            raise ShowfloorError(f"{events} does not name its exhibit; give --exhibit PATH")
        exhibit = Path(str(where))
    report = _load_ok(exhibit)
    ex = report.exhibit
    started = next((e for e in evs if e.kind == "engine_started"), None)
    if started and started.data.get("exhibit") not in (None, ex.id):
        raise ShowfloorError(f"{events} was recorded with exhibit "
                             f"'{started.data.get('exhibit')}', not '{ex.id}'")
    result = replay(ex, evs, media_length=_media_length(report.root))
    width = max(len(result.expected), len(result.got))
    if verbose:
        table = Table("#", "recorded", "replayed", "")
        for i in range(width):
            a = result.expected[i] if i < len(result.expected) else None
            b = result.got[i] if i < len(result.got) else None
            table.add_row(str(i + 1), f"{a[0]} {a[1][:8]}" if a else "—",
                          f"{b[0]} {b[1][:8]}" if b else "—",
                          "[green]✓[/green]" if a == b else "[red]✗[/red]")
        out.print(table)
    if result.ok:
        out.print(f"[green]✓[/green] {result.inputs} inputs, {result.sessions} session(s): "
                  f"all {len(result.got)} views match")
        return
    k = result.first_difference()
    assert k is not None
    a = result.expected[k] if k < len(result.expected) else ("(none)", "")
    b = result.got[k] if k < len(result.got) else ("(none)", "")
    raise ShowfloorError(f"view {k + 1} differs: recorded '{a[0]}' ({a[1][:8]}), replayed "
                         f"'{b[0]}' ({b[1][:8]}); {len(result.expected)} views recorded, "
                         f"{len(result.got)} replayed")


@app.command("schema")
def schema_cmd(
    scenes: Annotated[bool, typer.Option(help="The schema of a scenes/*.yaml file instead.")
                      ] = False,
) -> None:
    """Print the JSON Schema of exhibit.yaml (for editors' autocompletion)."""
    from showfloor.content.schema import exhibit_schema, scene_list_schema

    schema = scene_list_schema() if scenes else exhibit_schema()
    sys.stdout.write(json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


@app.command("new")
def new_cmd(
    name: Annotated[Path, typer.Argument(help="Folder to create; its name becomes the id.")],
) -> None:
    """Start a new bilingual exhibit that passes check and runs."""
    from showfloor.content.scaffold import scaffold

    root = scaffold(name)
    out.print(f"[green]✓[/green] created {root}/ — next: showfloor check {root}")


@app.command("station")
def station_cmd(
    path: Annotated[Path | None, typer.Argument(help="The exhibit folder, or a station.yaml."
                                                )] = None,
    profile: Annotated[Path | None, typer.Option(help="A station profile (station.yaml).")
                       ] = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8700,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for a LAN).")
                    ] = "127.0.0.1",
    data: Annotated[Path | None, typer.Option(help="Folder for the event log (default: "
                                              "$SHOWFLOOR_DATA or ~/.local/share).")] = None,
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in a browser.")
                            ] = False,
    seed: Annotated[int | None, typer.Option(help="Fix the sessions' random seeds (quiz "
                                             "order): for demos and screenshots.")] = None,
    hub: Annotated[str | None, typer.Option(envvar="SHOWFLOOR_HUB", help="The hub to report "
                                            "to, e.g. http://hub.local:8800")] = None,
    enrol: Annotated[str | None, typer.Option(help="A one-time enrolment code from the hub "
                                              "(needed once; the identity is kept).")] = None,
) -> None:
    """Run an exhibit for visitors: serve its surfaces, run the engine, log events."""
    from showfloor.station.server import serve

    status = serve(path, profile, host=host, port=port, data=data, open_browser=open_browser,
                   seed=seed, hub=hub, enrol=enrol)
    if status:
        raise typer.Exit(status)


@app.command("preview")
def preview_cmd(
    path: Annotated[Path, typer.Argument(help="The exhibit folder.")],
    profile: Annotated[Path | None, typer.Option(help="A station profile.")] = None,
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8700,
    open_browser: Annotated[bool, typer.Option("--open")] = False,
) -> None:
    """A station that reloads when a file changes and shows content errors on the page."""
    from showfloor.station.server import serve

    serve(path, profile, port=port, open_browser=open_browser, preview=True)


@app.command("events")
def events_cmd(
    data: Annotated[Path, typer.Argument(help="A station's data folder (or its events.sqlite).")],
    boot: Annotated[str | None, typer.Option(help="Which station start (default: the last).")
                    ] = None,
    boots: Annotated[bool, typer.Option("--boots", help="List the station starts instead.")
                     ] = False,
) -> None:
    """Print a station's recorded engine events as JSON lines (for showfloor replay)."""
    from showfloor.station.store import boots as list_boots
    from showfloor.station.store import engine_events

    db = data / "events.sqlite" if data.is_dir() else data
    if not db.is_file():
        raise ShowfloorError(f"{data}: no event log here (expected events.sqlite)")
    if boots:
        for b in list_boots(db):
            sys.stdout.write(json.dumps(b, ensure_ascii=False) + "\n")
        return
    for ev in engine_events(db, boot):
        sys.stdout.write(json.dumps(ev.as_json(), ensure_ascii=False) + "\n")


@app.command("kiosk")
def kiosk_cmd(
    url: Annotated[str | None, typer.Argument(help="The surface URL (default: from the "
                                              "profile, or http://localhost:8700/).")] = None,
    profile: Annotated[Path | None, typer.Option(help="A station profile.")] = None,
    surface: Annotated[str | None, typer.Option(help="Which surface of the profile.")] = None,
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8700,
    browser: Annotated[str | None, typer.Option(help="The browser to run.")] = None,
    launch: Annotated[bool, typer.Option("--launch", help="Start the browser (else print "
                                         "the command).")] = False,
    policy: Annotated[bool, typer.Option("--policy", help="Print the Chromium policy JSON "
                                         "for /etc/chromium/policies/managed/.")] = False,
    install: Annotated[bool, typer.Option("--install", help="With --policy: write it as "
                                          "showfloor.json in --policy-dir (needs root).")
                       ] = False,
    policy_dir: Annotated[Path, typer.Option("--policy-dir", help="Where --install writes "
                                             "the policy.")
                          ] = Path("/etc/chromium/policies/managed"),
    headless: Annotated[bool, typer.Option("--headless", hidden=True, help="With --launch: "
                                           "run Chromium headless (tests, CI).")] = False,
    memory_every: Annotated[float, typer.Option("--memory-every", hidden=True, min=0.1,
                                                metavar="SECONDS", help="With --launch: "
                                                "sample the renderer's memory this often.")
                            ] = 30.0,
) -> None:
    """Print (or --launch) Chromium locked down as a kiosk, pointed at a station surface."""
    import shlex

    from showfloor.station import kiosk

    if install and not policy:
        raise ShowfloorError("--install goes with --policy: showfloor kiosk --policy --install")
    if policy and install:
        written = kiosk.install_policy(policy_dir)
        sys.stdout.write(f"wrote the kiosk policy to {written}; restart the kiosk browser "
                         "to apply it\n")
        return
    if policy:
        sys.stdout.write(kiosk.policy_json() + "\n")
        return
    zoom = 1.0
    chosen: str | None = surface
    if url is None:
        query = ""
        if profile is not None:
            from showfloor.station.profile import load_profile

            prof, problems = load_profile(profile)
            if prof is None:
                raise ShowfloorError("; ".join(str(p) for p in problems[:3]))
            zoom = prof.kiosk.zoom
            ids = [s.id for s in prof.surfaces]
            chosen = surface or ids[0]
            if chosen not in ids:
                raise ShowfloorError(f"the profile has no surface '{chosen}'; it has "
                                     f"{', '.join(ids)}")
            query = f"?surface={chosen}" + ("" if prof.kiosk.cursor else "&cursor=0")
        elif surface:
            query = f"?surface={surface}"
        url = f"http://localhost:{port}/{query}"
    args = kiosk.command(url, browser=browser, zoom=zoom)
    if not launch:
        sys.stdout.write(" ".join(shlex.quote(a) if "$" not in a else a for a in args) + "\n")
        return
    raise typer.Exit(kiosk.launch(args, surface=chosen, headless=headless,
                                  memory_every=memory_every))


@app.command("hall")
def hall_cmd(
    exhibit: Annotated[Path, typer.Argument(help="An exhibit folder with station profiles in "
                                            "stations/*.yaml.")],
    port: Annotated[int, typer.Option(min=1, max=65000, help="The hub's port; stations take "
                                      "the next ones.")] = 8700,
    data: Annotated[Path, typer.Option(help="Where the hub's database and the stations' "
                                       "logs and identities go.")] = Path(".showfloor-data/hall"),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    name: Annotated[str, typer.Option(help="The hall's name.")] = "Demo hall",
    watchdog: Annotated[float, typer.Option(min=0, max=3600, metavar="SECONDS",
                                            help="Restart a station that stops feeding its "
                                            "watchdog for this long (0: never).")] = 30.0,
) -> None:
    """Run a hall on this machine: a hub and every station of the exhibit, enrolled."""
    from showfloor.hall import run as run_hall

    _load_ok(exhibit)
    run_hall(exhibit, port=port, data=data, host=host, hall_name=name, watchdog=watchdog)


keys_app = typer.Typer(help="Signing keys for exhibit bundles.", no_args_is_help=True,
                       add_completion=False, pretty_exceptions_enable=False)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def keys_new(
    keyfile: Annotated[Path, typer.Argument(help="Where to write the private key (never "
                                            "overwritten).")],
) -> None:
    """Make an Ed25519 signing key for bundles (a PEM file only its owner can read)."""
    from showfloor.content.bundle import key_id, new_key

    key = new_key(keyfile)
    out.print(f"[green]✓[/green] wrote {keyfile} (key id {key_id(key.public_key())}); keep it "
              f"secret — give stations what 'showfloor keys show {keyfile}' prints")


@keys_app.command("show")
def keys_show(
    keyfile: Annotated[Path, typer.Argument(help="A private key that 'keys new' wrote.")],
) -> None:
    """Print the public key and its id, as one line of a trust list."""
    from showfloor.content.bundle import key_id, load_key, public_text

    public = load_key(keyfile).public_key()
    sys.stdout.write(f"{public_text(public)}  # key id {key_id(public)}\n")


@app.command("pack")
def pack_cmd(
    path: Annotated[Path, typer.Argument(help="The exhibit folder.")],
    key: Annotated[Path, typer.Option("--key", help="The private key to sign with "
                                      "('showfloor keys new').")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The bundle to write, e.g. "
                                         "NAME.showfloor.")],
    expires: Annotated[int, typer.Option("--expires", min=1, max=3650,
                                         help="Days the bundle stays valid after it was "
                                         "made.")] = 365,
) -> None:
    """Check an exhibit and pack it into a signed, reproducible bundle."""
    from showfloor.content.bundle import key_id, load_key, pack
    from showfloor.content.lint import check

    signing = load_key(key)
    report = check(path)
    if not report.ok or report.exhibit is None:
        for p in report.errors:
            err.print(str(p), markup=False)
        err.print("[red]error:[/red] ", end="")
        err.print(f"{path} has {len(report.errors)} error(s); fix them ('showfloor check "
                  f"{path}') before packing — nothing was packed", markup=False)
        raise typer.Exit(EXIT_PROBLEMS)
    ex = report.exhibit
    manifest = pack(report.root, ex.id, ex.version, signing, output, expires_days=expires)
    out.print(f"[green]✓[/green] packed {ex.id} {ex.version} into {output}: "
              f"{len(manifest.files)} files, {manifest.total:,} bytes, signed by key "
              f"{key_id(signing.public_key())}, expires "
              f"{manifest.expiry}")


@app.command("verify")
def verify_cmd(
    bundle: Annotated[Path, typer.Argument(help="A .showfloor bundle.")],
    trust: Annotated[list[str] | None, typer.Option("--trust", help="A trusted public key, or "
                                                    "a trust-list file (one key a line); "
                                                    "may be given more than once.")] = None,
) -> None:
    """Check a bundle: signature, expiry, and every file's size and SHA-256."""
    from showfloor.content.bundle import load_trusted, verify
    from showfloor.errors import BundleError

    trusted = load_trusted(trust or [])
    if not bundle.is_file():
        raise ShowfloorError(f"{bundle}: no such bundle file" if not bundle.exists() else
                             f"{bundle} is not a file; give a .showfloor bundle")
    try:
        verified = verify(bundle, trusted or None)
    except BundleError as e:
        err.print("[red]error:[/red] ", end="")
        said = str(e)
        err.print(said if said.startswith(str(bundle)) else f"{bundle}: {said}", markup=False)
        raise typer.Exit(EXIT_PROBLEMS) from None
    out.print(f"[green]✓[/green] {bundle}: ", end="")
    out.print(verified.summary(), markup=False)


hub_app = typer.Typer(help="The hub: enrol stations, watch them, command them, keep their "
                      "events.", no_args_is_help=False, add_completion=False,
                      pretty_exceptions_enable=False)
app.add_typer(hub_app, name="hub")
DbOption = Annotated[str | None, typer.Option("--db", help="A SQLite file or sqlite:/// URL, "
                                              "or postgresql://USER@HOST/DB (default: "
                                              "$SHOWFLOOR_HUB_DB or ~/.local/share/showfloor/"
                                              "hub.sqlite).")]


def _hub_db(db: str | None) -> Any:
    from showfloor.hub import db as hubdb
    from showfloor.hub.settings import HubSettings

    cfg = HubSettings.from_env(db=db)
    database = hubdb.Database(cfg.db)
    database.check()
    hubdb.upgrade(database)
    return cfg, database


@hub_app.callback(invoke_without_command=True)
def hub_cmd(
    ctx: typer.Context,
    db: DbOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8800,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for a LAN).")
                    ] = "127.0.0.1",
    heartbeat: Annotated[float | None, typer.Option(help="Seconds between station "
                                                    "heartbeats.")] = None,
) -> None:
    """Run the hub: the dashboard, the station API and its OpenAPI description."""
    if ctx.invoked_subcommand is not None:
        ctx.obj = db
        return
    from showfloor.hub.server import serve
    from showfloor.hub.settings import HubSettings

    serve(HubSettings.from_env(db=db, heartbeat=heartbeat), host=host, port=port)


def _parent_db(ctx: typer.Context, db: str | None) -> str | None:
    return db if db is not None else (ctx.obj if isinstance(ctx.obj, str) else None)


@hub_app.command("create-admin")
def hub_create_admin(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The new admin's user name.")],
    db: DbOption = None,
    password_file: Annotated[Path | None, typer.Option(help="Read the password from this "
                                                       "file (else $SHOWFLOOR_HUB_PASSWORD, "
                                                       "else asked twice).")] = None,
    role: Annotated[str, typer.Option(help="admin, operator or viewer.")] = "admin",
) -> None:
    """Make an operator account (the first admin, typically)."""
    import getpass
    import time

    from showfloor.hub import users

    if password_file is not None:
        password = password_file.read_text(encoding="utf-8").strip()
    elif os.environ.get("SHOWFLOOR_HUB_PASSWORD"):
        password = os.environ["SHOWFLOOR_HUB_PASSWORD"]
    else:
        password = getpass.getpass(f"password for {username}: ")
        if getpass.getpass("again: ") != password:
            raise ShowfloorError("the two passwords differ; nothing was changed")
    _cfg, database = _hub_db(_parent_db(ctx, db))
    with database.write() as conn:
        users.create(conn, time.time(), username, password, role, "cli")
    out.print(f"made {role} '{username}'")


@hub_app.command("hall")
def hub_hall(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The hall's name.")],
    db: DbOption = None,
    hall_id: Annotated[str | None, typer.Option("--id", help="Its id (default: from the "
                                                "name).")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Shanghai.")
                        ] = "UTC",
    hours: Annotated[str | None, typer.Option(help="Opening hours as JSON, e.g. "
                                              "'{\"mon-fri\": \"08:00-17:30\"}'.")] = None,
    closed_mode: Annotated[str, typer.Option(help="Outside the hours: attract_only or "
                                             "screen_off.")] = "attract_only",
) -> None:
    """Make a hall (or set its opening hours)."""
    import time

    from showfloor.hub import enrolment

    try:
        parsed = json.loads(hours) if hours else None
    except ValueError as e:
        raise ShowfloorError(f"--hours is not JSON: {e}") from e
    _cfg, database = _hub_db(_parent_db(ctx, db))
    with database.write() as conn:
        hid = enrolment.ensure_hall(conn, time.time(), name, hall_id=hall_id,
                                    timezone=timezone, opening_hours=parsed,
                                    closed_mode=closed_mode, actor="cli")
        if parsed is not None:
            enrolment.set_hours(conn, time.time(), "cli", hall_id=hid, opening_hours=parsed,
                                timezone=timezone, closed_mode=closed_mode)
    out.print(hid)


@hub_app.command("code")
def hub_code(
    ctx: typer.Context,
    hall: Annotated[str, typer.Option(help="The hall the station will belong to.")],
    db: DbOption = None,
    name: Annotated[str, typer.Option(help="A name for the station.")] = "",
    ttl: Annotated[float, typer.Option(help="Seconds the code stays valid.")] = 86400,
) -> None:
    """Make a one-time enrolment code for a station of a hall."""
    import time

    from showfloor.hub import enrolment

    _cfg, database = _hub_db(_parent_db(ctx, db))
    with database.write() as conn:
        code = enrolment.create_code(conn, time.time(), hall, "cli", name=name, ttl=ttl)
    out.print(code)


@hub_app.command("stations")
def hub_stations(ctx: typer.Context, db: DbOption = None) -> None:
    """List every station with its state."""
    from showfloor.hub import overview

    cfg, database = _hub_db(_parent_db(ctx, db))
    with database.read() as conn:
        halls = overview.fleet(conn, cfg)
    table = Table("hall", "station", "name", "state", "scene", "today", "last error")
    for h in halls:
        for s in h["stations"]:
            table.add_row(h["id"], s["id"], s["name"], s["state"], s["scene"] or "",
                          str(s["sessions_today"]), (s["last_error"] or "")[:40])
    out.print(table)


@hub_app.command("revoke")
def hub_revoke(ctx: typer.Context, station: Annotated[str, typer.Argument()],
               db: DbOption = None) -> None:
    """Revoke a station's identity (its next request is refused)."""
    import time

    from showfloor.hub import enrolment

    _cfg, database = _hub_db(_parent_db(ctx, db))
    with database.write() as conn:
        if not enrolment.revoke(conn, time.time(), station, "cli"):
            raise ShowfloorError(f"no station '{station}' that is not revoked already")
    out.print(f"revoked {station}")


@hub_app.command("migrate")
def hub_migrate(ctx: typer.Context, db: DbOption = None) -> None:
    """Create or upgrade the hub's database schema (the hub also does this at start)."""
    cfg, _database = _hub_db(_parent_db(ctx, db))
    out.print(f"{cfg.db}: schema is current")


def run() -> None:
    """Entry point: run the app, turning every failure into one plain sentence."""
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except ShowfloorError as e:
        err.print("[red]error:[/red] ", end="")
        err.print(str(e), markup=False)
        sys.exit(EXIT_USAGE)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
    except Exception as e:  # the last line of defence against tracebacks
        # Usage errors (unknown option, missing argument) come from click, or from the
        # copy of click that newer typer releases carry as typer._click: recognise them by
        # shape, since 'import click' may fail.
        show = getattr(e, "show", None)
        if callable(show) and isinstance(getattr(e, "exit_code", None), int):
            show()
            sys.exit(e.exit_code)  # type: ignore[attr-defined]
        if type(e).__name__ == "Abort":
            sys.exit(130)
        if os.environ.get("SHOWFLOOR_DEBUG"):
            raise
        err.print("[red]error:[/red] ", end="")
        err.print(f"showfloor hit an internal problem ({type(e).__name__}: {e}). Please "
                  "report it; run with SHOWFLOOR_DEBUG=1 to see the details.", markup=False)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    run()
