"""Time per report (HTML, PDF) and for all 342 HTML reports in parallel.

Usage: python benchmarks/report.py [BUNDLE_DIR]   (builds a temporary store first; not timed)
Targets (issue 6): all 342 HTML reports in under a minute on 2 cores; each PDF well under a second.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from trendstudie import store
from trendstudie.build import build
from trendstudie.config import settings
from trendstudie.report.charts_for_report import make_chart
from trendstudie.report.content import Context, Options, build_report
from trendstudie.report.html import render_html
from trendstudie.report.pdf import render_pdf
from trendstudie.report.write import write_many

bundle = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[1].parent / "shared/data/bundle")

with tempfile.TemporaryDirectory() as home:
    build(settings(home=home, bundle=bundle))
    db = Path(home) / "trendstudie.duckdb"
    ctx = Context(store.connect(db))
    sample = ["GM0363", "GM0193", "GM1992", "GM1680", "GM1980", "GM0014", "GM0599", "GM0855"]
    html_t, pdf_t = [], []
    for code in sample:
        t0 = time.perf_counter()
        report = build_report(ctx, code, Options(), make_chart)
        render_html(report)
        html_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        render_pdf(report)
        pdf_t.append(time.perf_counter() - t0)
    print(f"HTML per rapport (inhoud + grafieken + HTML): mediaan {statistics.median(html_t) * 1000:.0f} ms")
    print(f"PDF per rapport (Typst): mediaan {statistics.median(pdf_t) * 1000:.0f} ms, max {max(pdf_t) * 1000:.0f} ms")
    codes = [r[0] for r in ctx.con.execute("SELECT code FROM regions WHERE current ORDER BY code").fetchall()]
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        write_many(db, codes, Path(out), Options(), pdf=False, workers=2)
        total = time.perf_counter() - t0
    print(f"alle {len(codes)} HTML-rapporten met databijlage, 2 processen: {total:.1f} s")
