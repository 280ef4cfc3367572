"""The monthly report of one hall as a PDF: how long ``showfloor hub report --pdf`` takes.

The hall is bench/metrics.py's (8 stations, ``--sessions`` visits over a year, loaded
through the hub's own ingest and summarised); the report is one month of it. Timed,
each ``--runs`` times: the page's numbers and HTML rendered in process
(``monthly_pdf.monthly_html``), Chromium printing it (``monthly_pdf.print_pdf``: start,
load, draw the charts, print A4), and the whole command as an operator runs it (a new
process: Python's start and imports included). The goal (issue 11) is at most 5 s.

    .venv/bin/python bench/report_pdf.py --sessions 12000 --runs 5
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import metrics as hall_year  # bench/metrics.py: its hall and its loader
from _common import median, percentile, table
from showfloor.hub import db as t
from showfloor.hub import summaries
from showfloor.hub.dashboard import monthly_pdf
from showfloor.hub.settings import HubSettings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sessions", type=int, default=12_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--month", default="2026-06")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/hub.sqlite"
        db = t.Database(url)
        t.upgrade(db)
        events, load_s = hall_year.load(db, args.sessions, 1)
        summaries.summarise_all(db)
        cfg = HubSettings(db=url)
        out = Path(tmp) / "h1.pdf"
        render, prints, whole = [], [], []
        pages = 0
        for _ in range(args.runs):
            began = time.perf_counter()
            html = monthly_pdf.monthly_html(db, cfg, args.month, "h1")
            render.append(time.perf_counter() - began)
            began = time.perf_counter()
            pages = monthly_pdf.print_pdf(html, out)
            prints.append(time.perf_counter() - began)
        for _ in range(args.runs):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "showfloor", "hub", "report", "--db", url,
                            "--month", args.month, "--hall", "h1", "--pdf", str(out)],
                           check=True, capture_output=True)
            whole.append(time.perf_counter() - began)
        db.dispose()

        def row(name: str, xs: list[float]) -> tuple[str, str, str]:
            return name, f"{median(xs):.2f}", f"{percentile(xs, 99):.2f}"

        table(f"Monthly PDF, one hall ({args.sessions:,} visits a year, {events:,} events "
              f"loaded in {load_s:.0f} s; month {args.month}; {pages} pages, "
              f"{out.stat().st_size // 1024} KiB; {args.runs} runs)",
              ["step", "median s", "p99 s"],
              [row("numbers + HTML (in process)", render),
               row("Chromium: start, draw, print A4", prints),
               row("showfloor hub report --pdf (new process)", whole)])


if __name__ == "__main__":
    main()
