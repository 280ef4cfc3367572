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
    index: Annotated[bool, typer.Option(help="Also build (or find) the ask terminal's search "
                                        "index of the knowledge base in the user's cache "
                                        "(≈ 15 ms a phrasing the first time).")] = False,
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
    if index and ex is not None and not report.errors and \
            getattr(ex, "knowledge", None) is not None:
        from showfloor.ask.commands import prepare_index

        # the ask terminal's index, cached by content hash for the station (docs/ask.md)
        built, line = prepare_index(report.root, ex.knowledge)
        if not built:
            out.print("[red]error[/red]: ", end="")
            failed = True
        out.print(line, markup=False)
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
    knowledge: Annotated[bool, typer.Option(
        help="The schema of a knowledge/*.yaml file instead.")] = False,
) -> None:
    """Print the JSON Schema of exhibit.yaml (for editors' autocompletion)."""
    from showfloor.content.schema import exhibit_schema, knowledge_schema, scene_list_schema

    schema = knowledge_schema() if knowledge else \
        scene_list_schema() if scenes else exhibit_schema()
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
    trust: Annotated[list[str] | None, typer.Option(
        "--trust", envvar="SHOWFLOOR_TRUST", help="A publisher's public key or a trust-list "
        "file, trusted for bundles and rollback instructions besides the profile's "
        "delivery.trust; may be given more than once ($SHOWFLOOR_TRUST: separated by "
        "spaces).")] = None,
) -> None:
    """Run an exhibit for visitors: serve its surfaces, run the engine, log events."""
    from showfloor.station.server import serve

    status = serve(path, profile, host=host, port=port, data=data, open_browser=open_browser,
                   seed=seed, hub=hub, enrol=enrol, trust=trust)
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
    install: Annotated[bool, typer.Option("--install", help="Write the systemd units "
                                          "(station, kiosk, hub) for this installation into "
                                          "--unit-dir; with --policy: write the policy as "
                                          "showfloor.json in --policy-dir (needs root).")
                       ] = False,
    policy_dir: Annotated[Path, typer.Option("--policy-dir", help="Where --install writes "
                                             "the policy.")
                          ] = Path("/etc/chromium/policies/managed"),
    unit_dir: Annotated[Path | None, typer.Option("--unit-dir", help="Where --install writes "
                                                  "the units (default: /etc/systemd/system as "
                                                  "root, else ~/.config/systemd/user).")
                        ] = None,
    data: Annotated[Path | None, typer.Option(help="With --install: the stations' data "
                                              "folder (default: /var/lib/showfloor as root, "
                                              "else $SHOWFLOOR_DATA or ~/.local/share/"
                                              "showfloor).")] = None,
    run_as: Annotated[str | None, typer.Option("--run-as", help="With --install as root: the "
                                               "user the station and hub run as (default: "
                                               "$SUDO_USER, else showfloor).")] = None,
    force: Annotated[bool, typer.Option("--force", help="With --install: replace unit files "
                                        "that differ from what showfloor would write.")
                     ] = False,
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
        from showfloor.station import unitfiles

        chosen_plan = unitfiles.plan(unit_dir=unit_dir, profile=profile, data=data, port=port,
                                     run_as=run_as)
        for path, state in unitfiles.install(chosen_plan, force=force):
            sys.stdout.write(f"{state} {path}\n")
        sys.stdout.write("next:\n" + "".join(f"  {step}\n" for step in
                                              unitfiles.next_steps(chosen_plan, profile)))
        return
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


trust_app = typer.Typer(help="The signed trust list: which publisher keys stations accept, "
                        "for what (docs/deploy.md, 'Keys and trust').", no_args_is_help=True,
                        add_completion=False, pretty_exceptions_enable=False)
app.add_typer(trust_app, name="trust")
RootOption = Annotated[list[Path], typer.Option("--root", help="An offline root private key "
                                                "that signs the list ('showfloor keys new'); "
                                                "give it once per root signature needed.")]
BundlesOption = Annotated[list[str] | None, typer.Option(
    "--bundles", help="A key that may sign bundles: a public key (what 'keys show' prints), a "
    "file holding one, or a private key file; repeatable.")]
RollbackOption = Annotated[list[str] | None, typer.Option(
    "--rollback", help="A key that may sign rollback instructions (as --bundles); a key given "
    "to both gets both roles.")]
NoteOption = Annotated[str, typer.Option("--note", help="A note kept with the keys added "
                                         "(who holds it, why).")]
TrustExpires = Annotated[int, typer.Option("--expires", min=1, max=3650, help="Days the list "
                                           "stays valid from now.")]


def _trust_keys(bundles: list[str] | None, rollback: list[str] | None, note: str) -> list[Any]:
    from showfloor.content.bundle import key_id
    from showfloor.content.trust import TrustKey, public_of

    roles: dict[str, tuple[Any, set[str]]] = {}
    for role, values in (("bundles", bundles or []), ("rollback", rollback or [])):
        for value in values:
            public = public_of(value)
            roles.setdefault(key_id(public), (public, set()))[1].add(role)
    return [TrustKey(kid, public, tuple(sorted(r)), "active", note)
            for kid, (public, r) in roles.items()]


def _print_trust(path: Path, listed: Any) -> None:
    out.print(f"{path}: ", end="")
    out.print(listed.summary(), markup=False)
    for k in sorted(listed.keys, key=lambda k: (k.status, k.id)):
        out.print(f"  {k.id}  {k.status:<7}  {','.join(k.roles):<16}  {k.note}".rstrip(),
                  markup=False)


@trust_app.command("new")
def trust_new(
    output: Annotated[Path, typer.Argument(help="The trust list to write, e.g. trust.json "
                                           "(its signatures go to trust.json.sig).")],
    root: RootOption,
    bundles: BundlesOption = None,
    rollback: RollbackOption = None,
    note: NoteOption = "",
    expires: TrustExpires = 365,
) -> None:
    """Make version 1 of a trust list, signed by the root key(s)."""
    from showfloor.content.bundle import load_key
    from showfloor.content.trust import make_trust, sign, write_signed

    if output.exists():
        raise ShowfloorError(f"{output} already exists; make the next version from it with "
                             f"'showfloor trust next {output}'")
    keys = _trust_keys(bundles, rollback, note)
    if not keys:
        raise ShowfloorError("a trust list needs at least one key: give --bundles KEY "
                             "(and --rollback KEY)")
    roots = [load_key(r) for r in root]
    made = make_trust(keys, expires_days=expires)
    data = made.to_bytes()
    write_signed(output, data, sign(data, roots))
    _print_trust(output, made)


@trust_app.command("next")
def trust_next(
    previous: Annotated[Path, typer.Argument(help="The current trust.json (its .sig beside "
                                             "it).")],
    root: RootOption,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the "
                                                "new version (default: over PREVIOUS).")
                      ] = None,
    bundles: BundlesOption = None,
    rollback: RollbackOption = None,
    retire: Annotated[list[str] | None, typer.Option("--retire", help="A key to retire (its "
                                                     "id, or as --bundles): refused from this "
                                                     "version on; repeatable.")] = None,
    note: NoteOption = "",
    expires: TrustExpires = 365,
) -> None:
    """Make the next version of a trust list: add keys, retire keys, renew its expiry."""
    import re

    from showfloor.content.bundle import key_id, load_key
    from showfloor.content.trust import (
        next_trust,
        parse_trust,
        public_of,
        read_signed,
        sign,
        write_signed,
    )

    roots = [load_key(r) for r in root]
    data, sig = read_signed(previous)
    publics = {key_id(r.public_key()): r.public_key() for r in roots}
    try:
        old = parse_trust(data, sig, publics)
    except ShowfloorError as e:
        raise ShowfloorError(f"{previous}: {e}") from e
    retiring = [v if re.fullmatch(r"[0-9a-f]{16}", v) else key_id(public_of(v))
                for v in retire or []]
    made = next_trust(old, add=_trust_keys(bundles, rollback, note), retire=retiring,
                      expires_days=expires)
    body = made.to_bytes()
    target = output or previous
    write_signed(target, body, sign(body, roots))
    _print_trust(target, made)


@trust_app.command("show")
def trust_show(
    path: Annotated[Path, typer.Argument(help="A trust.json.")],
) -> None:
    """Print a trust list: its version, expiry and every key (signatures not checked)."""
    from showfloor.content.trust import read_signed, read_trust

    data, _sig = read_signed(path)
    try:
        listed = read_trust(data)
    except ShowfloorError as e:
        raise ShowfloorError(f"{path}: {e}") from e
    _print_trust(path, listed)


@trust_app.command("verify")
def trust_verify(
    path: Annotated[Path, typer.Argument(help="A trust.json (its .sig beside it).")],
    root: Annotated[list[str], typer.Option("--root", help="A root public key (what 'keys "
                                            "show' prints), a file holding one, or a root "
                                            "key file; repeatable.")],
    threshold: Annotated[int, typer.Option("--threshold", min=1, help="How many of the root "
                                           "keys must have signed.")] = 1,
) -> None:
    """Check a trust list's root signatures, content and expiry, as a station does."""
    from showfloor.content.bundle import key_id
    from showfloor.content.trust import parse_trust, public_of, read_signed
    from showfloor.errors import BundleError

    publics = {key_id(k): k for k in (public_of(r) for r in root)}
    data, sig = read_signed(path)
    try:
        listed = parse_trust(data, sig, publics, threshold=threshold)
        listed.check_fresh()
    except BundleError as e:
        err.print("[red]error:[/red] ", end="")
        err.print(f"{path}: {e}", markup=False)
        raise typer.Exit(EXIT_PROBLEMS) from None
    out.print("[green]✓[/green] ", end="")
    _print_trust(path, listed)


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


@app.command("install")
def install_cmd(
    bundle: Annotated[Path | None, typer.Argument(help="A .showfloor bundle (from a USB "
                                                  "stick).")] = None,
    data: Annotated[Path | None, typer.Option(help="The station's data folder, as given to "
                                              "'showfloor station --data' (default: "
                                              "$SHOWFLOOR_DATA/station or ~/.local/share).")
                    ] = None,
    trust: Annotated[list[str] | None, typer.Option("--trust", help="A trusted public key, or "
                                                    "a trust-list file (one key a line); "
                                                    "may be given more than once.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the installed versions, the "
                                        "current and pending ones and the floor.")] = False,
) -> None:
    """Install a signed bundle into a station's content folder (no hub needed)."""
    from showfloor.content.bundle import load_trusted
    from showfloor.errors import BundleError
    from showfloor.station.content_store import ContentStore
    from showfloor.station.server import data_dir

    store = ContentStore(data_dir("station", data))
    store.recover()
    if list_:
        state = store.state()
        for v in store.installed():
            marks = [w for w, on in (("current", v.current), ("pending", v.pending),
                                     ("previous", v.previous)) if on]
            out.print(f"{v.name}  {v.files} files, {v.size:,} bytes"
                      + (f"  ({', '.join(marks)})" if marks else ""), markup=False)
        for exhibit, version in sorted(state["floor"].items()):
            out.print(f"floor: {exhibit} {version}", markup=False)
        if state["last_error"]:
            out.print(f"last error: {state['last_error']}", markup=False)
        if bundle is None:
            return
    if bundle is None:
        raise ShowfloorError("give a bundle to install (or --list to see what is installed)")
    trusted = load_trusted(trust or [])
    if not trusted:
        raise ShowfloorError("give the publisher's key with --trust KEY|FILE: a station "
                             "installs only bundles signed by a key it trusts")
    if not bundle.is_file():
        raise ShowfloorError(f"{bundle}: no such bundle file" if not bundle.exists() else
                             f"{bundle} is not a file; give a .showfloor bundle")
    running = store.current()
    try:
        path = store.install_bundle(bundle, trusted)
        name = path.name
        if running is None:  # nothing runs: nothing to wait for, nothing to go back to
            store.activate(name)
            store.confirm(name)
    except BundleError as e:
        err.print("[red]error:[/red] ", end="")
        err.print(f"{bundle}: {e}", markup=False)
        raise typer.Exit(EXIT_PROBLEMS) from None
    what = name.replace("@", " ")
    if running is None:
        out.print("[green]✓[/green] ", end="")
        out.print(f"installed {what}; it is now current (nothing ran before) "
                  f"in {store.root}", markup=False)
    elif running == name:
        out.print("[green]✓[/green] ", end="")
        out.print(f"{what} is already the current version", markup=False)
    else:
        out.print("[green]✓[/green] ", end="")
        out.print(f"installed {what}; it is pending — the running station "
                  f"switches to it from {running.replace('@', ' ')} at its next idle moment",
                  markup=False)


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


@hub_app.command("publish")
def hub_publish(
    bundle: Annotated[Path, typer.Argument(help="The .showfloor bundle to publish.")],
    hub: Annotated[str, typer.Option("--hub", envvar="SHOWFLOOR_HUB", help="The hub, e.g. "
                                     "http://hub.local:8800.")],
    user: Annotated[str, typer.Option("--user", envvar="SHOWFLOOR_HUB_USER",
                                      help="An operator's (or admin's) user name.")],
    password_file: Annotated[Path | None, typer.Option(help="Read the password from this "
                                                       "file (else $SHOWFLOOR_HUB_PASSWORD, "
                                                       "else asked).")] = None,
) -> None:
    """Upload a signed bundle to a hub, which checks it and keeps its files for rollouts."""
    import getpass

    from showfloor.hub.bundles import upload

    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ShowfloorError(f"cannot read the password file {password_file} "
                                 f"({e.strerror})") from e
    elif os.environ.get("SHOWFLOOR_HUB_PASSWORD"):
        password = os.environ["SHOWFLOOR_HUB_PASSWORD"]
    else:
        password = getpass.getpass(f"password for {user}: ")
    status, body = upload(hub, bundle, user, password)
    detail = str(body.get("detail", body))
    if status in (200, 201):
        out.print(f"{'already published' if body.get('existed') else 'published'} "
                  f"{body['exhibit']} {body['version']} as bundle {body['bundle']}: "
                  f"{body['files']} files, {body['new_objects']} new, "
                  f"{body['bytes_stored']:,} bytes stored", markup=False)
        return
    if status in (409, 413, 422):  # the bundle itself is refused
        err.print("[red]error:[/red] ", end="")
        err.print(f"the hub refused {bundle}: {detail}", markup=False)
        raise typer.Exit(EXIT_PROBLEMS)
    raise ShowfloorError(f"the hub did not publish {bundle} ({status}): {detail}")


@hub_app.command("migrate")
def hub_migrate(ctx: typer.Context, db: DbOption = None) -> None:
    """Create or upgrade the hub's database schema (the hub also does this at start)."""
    cfg, _database = _hub_db(_parent_db(ctx, db))
    out.print(f"{cfg.db}: schema is current")


@hub_app.command("export")
def hub_export(
    ctx: typer.Context,
    xapi: Annotated[Path | None, typer.Option(help="Write the visits as xAPI 1.0.3 "
                                              "statements, one JSON line each, to this "
                                              "file.")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="Write every report table as "
                                             "CSV into this folder.")] = None,
    parquet: Annotated[Path | None, typer.Option(help="Write every report table as "
                                                 "Parquet into this folder.")] = None,
    hall: Annotated[str | None, typer.Option(help="Only this hall's visits.")] = None,
    exhibit: Annotated[str | None, typer.Option(help="Only this exhibit's visits.")] = None,
    exhibit_version: Annotated[str | None, typer.Option(help="Only visits to this exhibit "
                                                        "version.")] = None,
    start: Annotated[str | None, typer.Option("--from", help="The first day, YYYY-MM-DD, "
                                              "in each hall's time zone.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="The last day, YYYY-MM-DD "
                                            "(included).")] = None,
    min_cell: Annotated[int | None, typer.Option(help="k: hide table cells counting fewer "
                                                 "visits (default: the hub's "
                                                 "report_min_cell; at least 5).")] = None,
    db: DbOption = None,
) -> None:
    """Export visits: xAPI statements, and every report table as CSV or Parquet."""
    from showfloor.analytics import exports, metrics, privacy
    from showfloor.analytics import xapi as statements
    from showfloor.hub import summaries

    if xapi is None and csv is None and parquet is None:
        raise ShowfloorError("say what to export: --xapi FILE, --csv FOLDER or --parquet "
                             "FOLDER (any of them)")
    f = metrics.Filter(hall=hall, exhibit=exhibit, version=exhibit_version,
                       start=exports.parse_day(start, "--from") if start else None,
                       end=exports.parse_day(end, "--to") if end else None)
    cfg, database = _hub_db(_parent_db(ctx, db))
    try:
        k = privacy.check_k(min_cell if min_cell is not None else cfg.report_min_cell)
        summaries.summarise_all(database)  # the visits up to now, as the hub keeps them
        with database.read() as conn:
            metrics.check(conn, f)
            to = {fmt: folder for fmt, folder in (("csv", csv), ("parquet", parquet))
                  if folder is not None}
            if to:
                made = exports.export(conn, f, k, to)
                for fmt, folder in to.items():
                    m = made[fmt]
                    n = m["visits"]
                    visits = f"< {n['below']}" if isinstance(n, dict) else str(n)
                    out.print(f"wrote {len(m['tables'])} tables ({fmt}, {visits} visits), "
                              f"manifest.json and README.txt to {folder}", markup=False)
            if xapi is not None:
                home = statements.home_page(cfg.public_url)
                with xapi.open("w", encoding="utf-8", newline="\n") as fh:
                    n = statements.write_jsonl(conn, f, home, fh)
                out.print(f"wrote {n} xAPI statements to {xapi}", markup=False)
    except OSError as e:
        raise ShowfloorError(f"cannot write the export: {e.strerror} ({e.filename})") from e
    finally:
        database.dispose()


@hub_app.command("report")
def hub_report(
    ctx: typer.Context,
    month: Annotated[str, typer.Option(help="The month, YYYY-MM (e.g. 2026-11), in each "
                                       "hall's own days.")],
    pdf: Annotated[Path, typer.Option(help="Write the monthly report here, as an A4 PDF.")],
    hall: Annotated[str | None, typer.Option(help="One hall's id (default: the region, "
                                             "every hall, with a table per hall).")] = None,
    db: DbOption = None,
    browser: Annotated[str | None, typer.Option(help="The Chromium to print with "
                                                "(default: /usr/bin/chromium, else "
                                                "chromium on PATH).")] = None,
) -> None:
    """Print the monthly report (the dashboard's /reports/monthly page) to a PDF."""
    import time

    from showfloor.hub.dashboard import monthly_pdf

    began = time.perf_counter()
    cfg, database = _hub_db(_parent_db(ctx, db))
    try:
        html = monthly_pdf.monthly_html(database, cfg, month, hall)  # ReportError: exit 2
        try:
            pages = monthly_pdf.print_pdf(html, pdf, browser=browser)
        except monthly_pdf.PrintError as e:
            err.print("[red]error:[/red] ", end="")
            err.print(str(e), markup=False)
            raise typer.Exit(EXIT_PROBLEMS) from None
    finally:
        database.dispose()
    out.print(f"wrote {pdf}: {pages} page{'s' if pages != 1 else ''}, "
              f"{pdf.stat().st_size // 1024} KiB, in {time.perf_counter() - began:.1f} s",
              markup=False)


def _knowledge(path: Path) -> tuple[Path, Any]:
    """A checked exhibit's root and knowledge base; refused when it has none."""
    report = _load_ok(path)
    knowledge = getattr(report.exhibit, "knowledge", None)
    if knowledge is None or not knowledge.entries:
        raise ShowfloorError(f"{path} has no knowledge base (knowledge/*.yaml with entries); "
                             "see docs/ask.md")
    return Path(report.root), knowledge


@app.command("ask-eval")
def ask_eval_cmd(
    path: Annotated[Path, typer.Argument(help="The exhibit folder (with knowledge/).")],
    set_: Annotated[Path, typer.Option("--set", help="The labelled questions (YAML: "
                                       "questions: [{q, lang, expect}]).")],
    calibrate: Annotated[bool, typer.Option(help="Recalibrate the refusal rule on the set "
                                            "and write knowledge/_calibration.yaml.")] = False,
) -> None:
    """Measure the ask retriever on a labelled set: p@1, out-of-scope answered, safety/help
    routed, per language and cross-language, latency; BM25, embeddings and hybrid.

    Exit 0: the hybrid meets every goal (docs/ask.md); 1: a goal is missed; 2: the
    exhibit or the set cannot be used."""
    from showfloor.ask.commands import ask_eval
    from showfloor.ask.evaluate import read_set

    read_set(set_)  # a broken set is refused before the exhibit is loaded
    root, knowledge = _knowledge(path)
    ok = ask_eval(root, knowledge, set_, calibrate_it=calibrate, out=out)
    raise typer.Exit(0 if ok else EXIT_PROBLEMS)


ask_app = typer.Typer(help="The ask terminal's curator tools.", no_args_is_help=True,
                      add_completion=False)
app.add_typer(ask_app, name="ask")


@ask_app.command("review")
def ask_review_cmd(
    data: Annotated[Path | None, typer.Option(help="The station's data folder (or its "
                                              "ask.sqlite); default: as 'showfloor "
                                              "station' picks it.")] = None,
    station: Annotated[str, typer.Option(help="The station id, for the default data "
                                         "folder.")] = "station",
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many groups.")] = 100,
) -> None:
    """The questions visitors asked that had no answer (kept only when the station's
    profile says ask: {keep_unanswered: true}; scrubbed; 30 days), grouped."""
    from showfloor.ask.commands import ask_review
    from showfloor.station.server import data_dir

    ask_review(data if data is not None else data_dir(station, None), out, limit)


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
