"""Write reports to disk: one gemeente (HTML, PDF, data appendix) or a whole group in parallel,
with an index page and a comparison overview, skipping reports whose inputs did not change."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .. import atomic, formatting, tables
from ..config import processes
from .content import Context, Options, build_report
from .html import render_html
from .pdf import render_pdf

MANIFEST = ".trendstudie-rapporten.json"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass
class Written:
    code: str
    name: str
    files: list[str]
    skipped: bool = False


def _write_atomic(path: Path, data: bytes) -> None:
    atomic.write_bytes(path, data)


def _data_appendix(ctx: Context, report, base: Path) -> list[str]:
    """CSV and XLSX with every figure of the report and where it came from."""
    prov = {}
    keys = {(r["indicator_id"], r["region_code"], r["period"]) for r in report.data_rows}
    if keys:
        for ind, region, period, status, harmonised, provenance in ctx.con.execute(
                "SELECT indicator_id, region_code, period, status, harmonised, provenance FROM indicator_values "
                "WHERE indicator_id IN (SELECT unnest(?)) AND region_code IN (SELECT unnest(?))",
                [sorted({k[0] for k in keys}), sorted({k[1] for k in keys})]).fetchall():
            prov[(ind, region, period)] = (status, "ja" if harmonised else "nee", provenance)
    columns = ["indicator_id", "title", "unit", "region_code", "region_name", "period", "value", "status", "harmonised",
               "provenance"]
    meta = ctx.data.meta

    def region_name(code: str) -> str:
        return ctx.regions[code][0] if code in ctx.regions else ctx.groups[code][0] if code in ctx.groups else code

    rows = [[r["indicator_id"], meta[r["indicator_id"]].title, meta[r["indicator_id"]].unit, r["region_code"],
             region_name(r["region_code"]), r["period"], r["value"],
             *prov.get((r["indicator_id"], r["region_code"], r["period"]), (None, None, None))]
            for r in report.data_rows]
    csv_path, xlsx_path = base.with_name(base.name + "-data.csv"), base.with_name(base.name + "-data.xlsx")
    _write_atomic(csv_path, tables.to_csv(columns, rows).encode("utf-8"))
    _write_atomic(xlsx_path, tables.to_xlsx(columns, rows))
    return [csv_path.name, xlsx_path.name]


@functools.lru_cache(maxsize=1)
def program_fingerprint() -> str:
    """A digest of the program itself (code, templates, knowledge base, rules), so that a report
    is rewritten after an update even when the version number stayed the same."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".j2", ".css", ".typ") and path.is_file():
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def inputs_key(ctx: Context, code: str, opts: Options, pdf: bool) -> str:
    """Changes whenever the database, the options or the program change."""
    from .. import __version__

    from .nieuw import stamp as edition_stamp  # a new edition changes "nieuw sinds de vorige editie" (issue 17)
    from .verkenning import verkenning_stamp  # a verkenning's new answers change the report (issue 18)

    payload = json.dumps([ctx.built_at, code, asdict(opts), pdf, __version__, verkenning_stamp(ctx, code),
                          program_fingerprint(), edition_stamp(ctx)],
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def write_one(ctx: Context, code: str, outdir: Path, opts: Options, pdf: bool = True,
              manifest: dict | None = None, chart_maker=None) -> Written:
    outdir.mkdir(parents=True, exist_ok=True)
    name = ctx.regions[code][0]
    base = outdir / f"{code}-{slug(name)}"
    key = inputs_key(ctx, code, opts, pdf)
    expected = [base.name + ".html"] + ([base.name + ".pdf"] if pdf else []) + [base.name + "-data.csv", base.name + "-data.xlsx"]
    if manifest is not None and manifest.get(code) == key and all((outdir / f).exists() for f in expected):
        return Written(code, name, expected, skipped=True)
    report = build_report(ctx, code, opts, chart_maker)
    data_files = _data_appendix(ctx, report, base)
    html = render_html(report, data_files=data_files, logo_svg=opts.logo_svg)
    _write_atomic(base.with_suffix(".html"), html.encode("utf-8"))
    files = [base.name + ".html"]
    if pdf:
        _write_atomic(base.with_suffix(".pdf"), render_pdf(report, logo_svg=opts.logo_svg))
        files.append(base.name + ".pdf")
    if manifest is not None:
        manifest[code] = key
    return Written(code, name, files + data_files)


# --- batch ---------------------------------------------------------------------------------------

_worker: dict = {}


def _init(database: str) -> None:
    from .charts_for_report import make_chart

    _worker["ctx"] = Context(Path(database))  # through a Reader of the file: the Localiser from its cache
    _worker["chart"] = make_chart


def _run(args) -> Written:
    code, outdir, opts, pdf = args
    return write_one(_worker["ctx"], code, Path(outdir), opts, pdf, None, _worker["chart"])


def write_many(database: Path, codes: list[str], outdir: Path, opts: Options, pdf: bool = True,
               workers: int | None = None, progress: Callable[[int, int], None] | None = None,
               force: bool = False, title: str = "Trendstudies") -> list[Written]:
    """Every gemeente's report, in parallel processes, plus an index page; unchanged ones skipped."""
    from .charts_for_report import make_chart

    outdir.mkdir(parents=True, exist_ok=True)
    manifest_path = outdir / MANIFEST
    manifest = {} if force or not manifest_path.exists() else json.loads(manifest_path.read_text())
    ctx = Context(Path(database))
    todo, done = [], []
    for code in codes:
        key = inputs_key(ctx, code, opts, pdf)
        name = ctx.regions[code][0]
        base = f"{code}-{slug(name)}"
        files = [base + ".html"] + ([base + ".pdf"] if pdf else []) + [base + "-data.csv", base + "-data.xlsx"]
        if manifest.get(code) == key and all((outdir / f).exists() for f in files):
            done.append(Written(code, name, files, skipped=True))
        else:
            todo.append((code, key))
    total = len(codes)
    if progress:
        progress(len(done), total)
    workers = workers or processes(4)
    if todo:
        if workers == 1 or len(todo) == 1:
            for code, key in todo:
                done.append(write_one(ctx, code, outdir, opts, pdf, None, make_chart))
                manifest[code] = key
                if progress:
                    progress(len(done), total)
        else:
            with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(str(database),)) as pool:
                keys = dict(todo)
                for w in pool.map(_run, [(c, str(outdir), opts, pdf) for c, _ in todo], chunksize=4):
                    done.append(w)
                    manifest[w.code] = keys[w.code]
                    if progress:
                        progress(len(done), total)
    _write_atomic(manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode())
    if len(codes) > 1:
        write_index(ctx, sorted(done, key=lambda w: w.name), outdir, title)
    return done


OVERVIEW = ("bevolking", "bevolkingsgroei", "aandeel_65_plus", "aandeel_eenpersoonshuishoudens",
            "woningen_per_huishouden", "gemiddelde_verkoopprijs", "misdrijven_per_1000", "woninginbraak_per_1000")


def write_index(ctx: Context, written: list[Written], outdir: Path, title: str) -> Path:
    """An index page with a comparison overview of the group (latest values, Dutch formatting)."""
    from html import escape

    meta = {m.id: m for m in ctx.indicators}
    cols = [i for i in OVERVIEW if i in meta]
    head = "".join(f"<th scope='col'>{escape(meta[i].title)}<br><small>{escape(meta[i].unit)}</small></th>" for i in cols)
    body = []
    for w in written:
        cells = []
        for i in cols:
            latest = ctx.data.latest(i, w.code)
            cells.append(f"<td>{formatting.number(latest[1], meta[i].decimals)}<br><small>{formatting.period(latest[0])}</small></td>"
                         if latest else "<td>–</td>")
        links = " · ".join(f"<a href='{escape(f)}'>{escape(f.rsplit('.', 1)[-1].upper())}</a>" for f in w.files
                           if f.endswith((".html", ".pdf")))
        body.append(f"<tr><th scope='row'><a href='{escape(w.files[0])}'>{escape(w.name)}</a> "
                    f"<small>({w.code})</small><br><small>{links}</small></th>{''.join(cells)}</tr>")
    css = (Path(__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    html = (f"<!DOCTYPE html><html lang='nl'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title><style>{css}"
            f" main {{ max-width: 90rem; }}</style></head><body><main><h1>{escape(title)}</h1>"
            f"<p>{len(written)} gemeenten. Per gemeente een trendstudie (HTML en PDF) en een databijlage; hieronder de "
            f"laatste waarde van enkele kernindicatoren, met het jaar.</p><table><caption>Vergelijking</caption>"
            f"<thead><tr><th scope='col'>Gemeente</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p class='note'>Bron: CBS StatLine en politie via CBS (CC BY 4.0); database gebouwd {escape(ctx.built_at[:10])}.</p>"
            f"</main></body></html>")
    path = outdir / "index.html"
    _write_atomic(path, html.encode("utf-8"))
    return path
