"""The ``showfloor simulate`` report, as rich tables for a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from showfloor.content.model import Exhibit
from showfloor.engine.simulate import PROFILES, Report


def _s(seconds: float) -> str:
    if seconds >= 90:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.1f} s"


def render(console: Console, report: Report, exhibit: Exhibit) -> None:
    """Print the report: outcomes, coverage and dwell, scores, branches never taken."""
    data = report.as_json()
    n = report.visitors
    prof = PROFILES[report.profile]
    console.print(f"[bold]{exhibit.id} {exhibit.version}[/bold] — {n:,} simulated "
                  f"'{report.profile}' visitors ({prof.description}), seed {report.seed}")
    s = data["session"]
    console.print(f"reached an end: [bold]{data['completed_share']:.1%}[/bold]   "
                  f"timed out: [bold]{data['timed_out_share']:.1%}[/bold]   "
                  f"visit length: median {_s(s['median'])}, p90 {_s(s['p90'])}")
    other = {k: v for k, v in report.endings.items() if k not in ("completed", "timeout")}
    if other:
        console.print("[yellow]other endings:[/yellow] "
                      + ", ".join(f"{k} {v}" for k, v in other.items()))

    t = Table(title="Scenes", title_justify="left")
    t.add_column("scene")
    t.add_column("type")
    t.add_column("reached", justify="right")
    t.add_column("dwell median", justify="right")
    t.add_column("dwell p90", justify="right")
    for sc in exhibit.scenes:
        if sc.type == "attract":
            continue
        reached = report.reached.get(sc.id, 0)
        d = data["dwell"].get(sc.id, {"median": 0.0, "p90": 0.0, "n": 0})
        style = "red" if reached == 0 else ""
        t.add_row(sc.id, sc.type, f"{reached / n:.1%}", _s(d["median"]) if d["n"] else "—",
                  _s(d["p90"]) if d["n"] else "—", style=style)
    console.print(t)

    if report.scores:
        q = Table(title=f"Quiz scores ({len(report.scores):,} finished)", title_justify="left")
        q.add_column("percent")
        q.add_column("visitors", justify="right")
        q.add_column("")
        top = max(data["quiz_percent"].values()) or 1
        for bucket, count in data["quiz_percent"].items():
            q.add_row(bucket, f"{count:,}", "█" * round(30 * count / top))
        console.print(q)

    if data["never_reached"]:
        unreached = [x for x in data["never_reached"] if x != exhibit.attract]
        if unreached:
            console.print("[red]never reached:[/red] " + ", ".join(unreached))
    if report.never_taken:
        console.print(f"[yellow]branches never taken in {n:,} visits:[/yellow]")
        for e in report.never_taken:
            cond = f" (when: {e['when']})" if e["when"] is not None else ""
            console.print(f"  {e['scene']} → {e['target']}  [{e['label']}]{cond}", markup=False)
    else:
        console.print("[green]every branch was taken at least once[/green]")
    if report.errors:
        console.print("[red]run-time errors:[/red] "
                      + ", ".join(f"{k} ×{v}" for k, v in report.errors.items()))
