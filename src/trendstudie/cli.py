"""The `trendstudie` command. Each command is a thin call into a stage; errors a user can act on
are printed without a traceback and exit with status 2."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from . import store
from .config import settings
from .errors import TrendstudieError

app = typer.Typer(
    help="trendstudie: een datagedreven trendstudie voor elke Nederlandse gemeente.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True)
out = Console()

HomeOpt = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME of ~/.trendstudie).")
BundleOpt = typer.Option(None, "--bundle", help="Map met de databundel (standaard $TRENDSTUDIE_BUNDLE).")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


@app.command()
def build(bundle: Optional[Path] = BundleOpt, home: Optional[Path] = HomeOpt,
          groepen: Optional[Path] = typer.Option(None, "--groepen", help="Eigen groepen (YAML of CSV), zie docs/groepen.md."),
          waarschuwingen: bool = typer.Option(False, "--waarschuwingen", help="Toon alle waarschuwingen.")) -> None:
    """Bouw de database uit de databundel (zonder netwerk) en wat `sync` ophaalde."""
    from .build import build as run_build

    s = settings(home=home, bundle=bundle)
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            key = stage.split(":")[0]
            if key not in tasks:
                tasks[key] = progress.add_task(stage, total=total)
            progress.update(tasks[key], description=stage, completed=done, total=total)

        result = run_build(s, report, user_groups=groepen)
    err.print(f"[green]Database gebouwd[/green]: {result.database} — {result.observations:,} observaties, "
              f"{result.facts:,} geharmoniseerde feiten uit {len(result.tables)} tabellen, "
              f"{result.indicators - result.missing_indicators} van {result.indicators} indicatoren berekend "
              f"in {result.seconds:.1f} s.".replace(",", "."))
    if result.missing_indicators:
        err.print(f"{result.missing_indicators} indicatoren hebben gegevens nodig die niet in de bundel staan: "
                  "zie `trendstudie indicatoren --ontbrekend`.")
    if result.warnings:
        err.print(f"{len(result.warnings)} waarschuwingen (zie `trendstudie build --waarschuwingen`)." if not waarschuwingen else "")
        if waarschuwingen:
            for stage, message in result.warnings:
                err.print(f"[yellow]{stage}[/yellow]: {message}")


def _resolve_region(con, text: str) -> str:
    """A code or a name, through the registry's one name-resolving function."""
    from .geo.regions import RegionRegistry, Region

    rows = con.execute("SELECT code, name, title, kind, province, valid_from, valid_to FROM regions").fetchall()
    registry = RegionRegistry({r[0]: Region(*r) for r in rows}, [])
    return registry.resolve(text, kinds=("GM", "PV", "NL", "LD", "CR"))


def _fmt_int(v) -> str:
    return f"{v:,.0f}".replace(",", ".") if v is not None else "–"


def _fmt_date(d) -> str:
    months = ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
              "oktober", "november", "december"]
    return f"{d.day} {months[d.month - 1]} {d.year}" if d else "–"


@app.command()
def regio(naam_of_code: str = typer.Argument(..., help="Gemeentecode (GM1992) of naam (Voorne aan Zee)."),
          home: Optional[Path] = HomeOpt) -> None:
    """Toon een gemeente met haar geschiedenis van herindelingen en grenswijzigingen."""
    s = settings(home=home)
    con = store.connect(s.database)
    code = _resolve_region(con, naam_of_code)
    code_, name, title, kind, province, vfrom, vto, current = con.execute(
        "SELECT code, name, title, kind, province, valid_from, valid_to, current FROM regions WHERE code = ?", [code]
    ).fetchone()
    prov = con.execute("SELECT name FROM regions WHERE code = ?", [province]).fetchone() if province else None
    out.print(f"[bold]{name}[/bold] ({code})" + (f", provincie {prov[0]}" if prov else ""))
    out.print(f"Bestaat {'sinds ' + _fmt_date(vfrom) if vfrom else 'van vóór 1988'}"
              + (f" tot {_fmt_date(vto)}" if vto else " en nu nog") + ".")
    pop = con.execute(
        "SELECT period, value, status FROM facts WHERE table_id='03759ned' AND measure='M000352' AND region_code=? "
        "AND value IS NOT NULL ORDER BY period DESC LIMIT 1", [code]).fetchone()
    if pop:
        out.print(f"Inwoners op 1 januari {pop[0][:4]}: {_fmt_int(pop[1])} ({(pop[2] or 'status onbekend').lower()}; CBS 03759ned).")
    groups = con.execute("SELECT g.group_id, g.title FROM group_members m JOIN groups g USING (group_id) "
                         "WHERE m.region_code = ? ORDER BY g.kind, g.group_id", [code]).fetchall()
    if groups:
        out.print("Groepen: " + ", ".join(t for _, t in groups) + ".")
    events = con.execute(
        "SELECT e.date, e.kind, e.from_code, f.name, e.to_code, t.name, e.inhabitants, e.dwellings, e.hectares "
        "FROM region_events e LEFT JOIN regions f ON f.code = e.from_code LEFT JOIN regions t ON t.code = e.to_code "
        "WHERE ? IN (e.from_code, e.to_code) ORDER BY e.date DESC, e.from_code", [code]).fetchall()
    if not events:
        out.print("Geen herindelingen of grenswijzigingen sinds 1988.")
        return
    out.print(f"Geschiedenis van {name} sinds 1988:")
    for d, kind_, fc, fn, tc, tn, inh, dw, ha in events:
        amounts = [f"{_fmt_int(inh)} inwoners" if inh is not None else None,
                   f"{_fmt_int(dw)} woningen" if dw is not None else None,
                   f"{_fmt_int(ha)} ha" if ha is not None else None]
        detail = ", ".join(a for a in amounts if a)
        out.print(f"  {_fmt_date(d)}: {kind_} van {fn} ({fc}) naar {tn} ({tc})" + (f": {detail}" if detail else ""),
                  highlight=False, soft_wrap=True)


def _format_value(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else repr(round(v, 6))


@app.command()
def facts(
    table: str = typer.Option(..., "--table", help="CBS-tabel, bijvoorbeeld 03759ned."),
    measure: str = typer.Option(..., "--measure", help="Maatstaf, bijvoorbeeld M000352."),
    region: list[str] = typer.Option([], "--region", help="Regiocode of -naam; herhaalbaar. Standaard alle."),
    from_year: Optional[int] = typer.Option(None, "--from", help="Eerste jaar."),
    to_year: Optional[int] = typer.Option(None, "--to", help="Laatste jaar."),
    dim: list[str] = typer.Option([], "--dim", help="Dimensiefilter zoals SoortMisdrijf=1.1.1; herhaalbaar."),
    as_published: bool = typer.Option(False, "--as-published", help="Zoals gepubliceerd, niet geharmoniseerd."),
    fmt: str = typer.Option("csv", "--format", help="csv of json."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Een reeks als CSV of JSON op stdout (stabiele kolommen: scripts hangen ervan af)."""
    from .query import series

    if fmt not in ("csv", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv of json.")
    s = settings(home=home)
    con = store.connect(s.database)
    codes = [_resolve_region(con, r) for r in region]
    if not as_published:
        gone = [c for c in codes if c.startswith("GM") and not con.execute(
            "SELECT current FROM regions WHERE code = ?", [c]).fetchone()[0]]
        if gone:
            raise TrendstudieError(
                f"{', '.join(gone)} bestaat niet meer; geharmoniseerde reeksen staan op de huidige gemeenten "
                f"(zie trendstudie regio {gone[0]}). Gebruik --as-published voor de cijfers zoals gepubliceerd.")
    rows = series(con, table, measure, codes, from_year, to_year, dim, as_published)
    columns = ["table_id", "measure", "region_code", "period", "value", "status", "harmonised"]
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([r["table_id"], r["measure"], r["region_code"], r["period"], _format_value(r["value"]),
                        r["status"] or "", "true" if r["harmonised"] else "false"])
    else:
        json.dump([{c: r[c] for c in columns} for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")


@app.command()
def profiel(
    gemeente: str = typer.Argument(..., help="Gemeentecode of -naam."),
    domein: Optional[str] = typer.Option(None, "--domein", help="Alleen dit domein."),
    fmt: str = typer.Option("tekst", "--format", help="tekst of json."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Een leesbaar overzicht per domein: elke indicator met verandering en vergelijking in woorden."""
    from .analysis.profile import build_profile

    if fmt not in ("tekst", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies tekst of json.")
    s = settings(home=home)
    con = store.connect(s.database)
    code = _resolve_region(con, gemeente)
    profile = build_profile(con, code)
    domains = [d for d in profile.domains if not domein or d.domain == domein]
    if domein and not domains:
        raise TrendstudieError(f"Onbekend domein of geen gegevens voor {domein!r}.")
    if fmt == "json":
        data = profile.to_dict()
        data["domains"] = [d for d in data["domains"] if not domein or d["domain"] == domein]
        json.dump(data, sys.stdout, ensure_ascii=False, indent=1, default=str)
        sys.stdout.write("\n")
        return
    out.print(f"[bold]{profile.name}[/bold] ({code})" + (f", provincie {profile.province}" if profile.province else ""),
              highlight=False)
    out.print("Vergeleken met: " + ", ".join(g.title for g in profile.groups), highlight=False, soft_wrap=True)
    if profile.neighbours:
        names = ", ".join(n.name for n in profile.neighbours)
        out.print(f"Statistische buren: {names}", highlight=False, soft_wrap=True)
    for d in domains:
        out.print(f"\n[bold]{d.domain[0].upper() + d.domain[1:]}[/bold]", highlight=False)
        for ind in d.indicators:
            sentences = ind.sentences()
            out.print(f"  [bold]{sentences[0]}[/bold]", highlight=False, soft_wrap=True)
            for line in sentences[1:]:
                out.print(f"    {line}", highlight=False, soft_wrap=True)


@app.command()
def indicatoren(
    ontbrekend: bool = typer.Option(False, "--ontbrekend", help="Alleen de indicatoren die niet berekend konden worden."),
    domein: Optional[str] = typer.Option(None, "--domein", help="Alleen dit domein, bijv. 'wonen en ruimte'."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Het register van indicatoren, met de perioden waarvoor gegevens zijn."""
    s = settings(home=home)
    con = store.connect(s.database)
    rows = con.execute(
        "SELECT i.indicator_id, i.title, i.domain, i.unit, i.live, i.missing, min(v.period), max(v.period), "
        "count(DISTINCT v.region_code) FILTER (WHERE v.region_code LIKE 'GM%') "
        "FROM indicators i LEFT JOIN indicator_values v USING (indicator_id) "
        "GROUP BY ALL ORDER BY min(i.position)").fetchall()
    from .indicators.registry import DOMAINS

    rows.sort(key=lambda r: DOMAINS.index(r[2]) if r[2] in DOMAINS else len(DOMAINS))  # stable: registry order within a domain
    domains = [r[0] for r in con.execute("SELECT DISTINCT domain FROM indicators").fetchall()]
    if domein and domein not in domains:
        raise TrendstudieError(f"Onbekend domein {domein!r}; kies uit: {', '.join(sorted(domains))}")
    current = None
    for id_, title, dom, unit, live, missing, first, last, n in rows:
        if (domein and dom != domein) or (ontbrekend and not missing):
            continue
        if dom != current:
            out.print(f"\n[bold]{dom}[/bold]")
            current = dom
        if missing:
            out.print(f"  {id_}: {title} ({unit}) — [yellow]niet in de bundel[/yellow]; live uit {live}. Ontbreekt: {missing}",
                      highlight=False, soft_wrap=True)
        else:
            span = first[:4] if first == last else f"{first[:4]}–{last[:4]}"
            out.print(f"  {id_}: {title} ({unit}), {span}, {n} gemeenten", highlight=False, soft_wrap=True)


@app.command()
def export(
    regions: list[str] = typer.Option([], "--regions", "--region", help="Gemeenten (code of naam); herhaalbaar."),
    group: Optional[str] = typer.Option(None, "--group", "--groep", help="Alle gemeenten van een groep, bijv. G40."),
    indicators: list[str] = typer.Option([], "--indicators", "--indicator", help="Indicator-id's; standaard alle."),
    fmt: str = typer.Option("csv", "--format", help="csv, json of xlsx."),
    uit: Optional[Path] = typer.Option(None, "--uit", help="Schrijf naar dit bestand (verplicht voor xlsx)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Indicatorwaarden met de vaste kolommen indicator_id,region_code,period,value,status."""
    from .query import indicator_table

    if fmt not in ("csv", "json", "xlsx"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv, json of xlsx.")
    if fmt == "xlsx" and uit is None:
        raise TrendstudieError("Voor xlsx is --uit BESTAND nodig.")
    s = settings(home=home)
    con = store.connect(s.database)
    codes = [_resolve_region(con, r) for r in regions]
    rows = indicator_table(con, codes, group, indicators)
    columns = ["indicator_id", "region_code", "period", "value", "status"]
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "indicatoren"
        ws.append(columns)
        for r in rows:
            ws.append([r[c] for c in columns])
        uit.parent.mkdir(parents=True, exist_ok=True)
        wb.save(uit)
        err.print(f"{len(rows)} rijen geschreven naar {uit}")
        return
    stream = open(uit, "w", encoding="utf-8", newline="") if uit else sys.stdout
    try:
        if fmt == "csv":
            w = csv.writer(stream, lineterminator="\n")
            w.writerow(columns)
            for r in rows:
                w.writerow([r["indicator_id"], r["region_code"], r["period"], _format_value(r["value"]), r["status"] or ""])
        else:
            json.dump([{c: r[c] for c in columns} for r in rows], stream, ensure_ascii=False, indent=1)
            stream.write("\n")
    finally:
        if uit:
            stream.close()


def _kb():
    from .knowledge import model

    return model.load()


def _kb_entry(kb, id: str):
    """The knowledge-base entry with this id, or an error that suggests the nearest ids."""
    import difflib

    try:
        return kb.entry(id)
    except KeyError:
        ids = list(kb.trends) + list(kb.opgaven)
        close = [k for k in ids if id.lower() in k][:10] or difflib.get_close_matches(id.lower(), ids, n=5, cutoff=0.6)
        raise TrendstudieError(f"Onbekend id {id!r}." + (f" Bedoelt u: {', '.join(close)}?" if close else "")) from None


def _citation_text(c) -> str:
    from .knowledge.model import SEEDS

    return f"{SEEDS[c.seed][1]}, {c.section}, regels {c.lines[0]}–{c.lines[1]} ({c.seed})"


@app.command()
def trends(
    gemeente: Optional[str] = typer.Argument(None, help="Gemeentecode of -naam."),
    alle: bool = typer.Option(False, "--alle", help="Alle 342 gemeenten (alleen met --format json)."),
    domein: Optional[str] = typer.Option(None, "--domein", help="Alleen dit domein, bijv. 'wonen en ruimte'."),
    fmt: str = typer.Option("tekst", "--format", help="tekst of json."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Hoe sterk elke trend hier speelt, en op welke grond: cijfers, typering of landelijk."""
    from .knowledge.model import DOMAINS
    from .knowledge.verdict import Localiser, as_json

    if fmt not in ("tekst", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies tekst of json.")
    if domein and domein not in DOMAINS:
        raise TrendstudieError(f"Onbekend domein {domein!r}; kies uit: {', '.join(DOMAINS)}.")
    if alle == (gemeente is not None):
        raise TrendstudieError("Noem één gemeente, of geef --alle voor alle gemeenten.")
    if alle and fmt != "json":
        raise TrendstudieError("--alle geeft één JSON-document; gebruik --format json.")
    s = settings(home=home)
    con = store.connect(s.database)
    loc = Localiser(con)
    kb = loc.kb

    def keep(v) -> bool:
        return not domein or kb.trends[v.trend].domain == domein

    if alle:
        doc = {code: [as_json(kb, v) for v in loc.verdicts(code) if keep(v)] for code in loc.gemeenten}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, allow_nan=False) + "\n")
        return
    code = _resolve_region(con, gemeente)
    name = con.execute("SELECT name FROM regions WHERE code = ?", [code]).fetchone()[0]
    verdicts = [v for v in loc.verdicts(code) if keep(v)]
    if fmt == "json":
        json.dump([as_json(kb, v) for v in verdicts], sys.stdout, ensure_ascii=False, indent=1, allow_nan=False)
        sys.stdout.write("\n")
        return
    out.print(f"Trends in {name} ({code})", style="bold", markup=False, highlight=False)
    words = {"sterk": "speelt sterk", "enigszins": "speelt enigszins", "niet": "speelt hier niet of nauwelijks",
             "onbekend": "onbekend"}
    for v in verdicts:
        t = kb.trends[v.trend]
        basis = f" — op grond van {v.basis}" if v.basis else ""
        out.print(f"\n➢ {t.title} ({t.domain}): {words[v.strength]}{basis}", markup=False, highlight=False,
                  soft_wrap=True)
        out.print(f"   {v.reason}", markup=False, highlight=False, soft_wrap=True)
        for e in v.evidence:
            out.print(f"   + {e}", markup=False, highlight=False, soft_wrap=True)
        for e in v.counter:
            out.print(f"   − {e}", markup=False, highlight=False, soft_wrap=True)
        for line in ([v.note] if v.note else []) + v.labels + ([v.disagreement] if v.disagreement else []):
            out.print(f"   ! {line}", markup=False, highlight=False, soft_wrap=True)
        if v.basis == "cijfers" and v.typology:
            out.print(f"   Typering: {v.typology}", markup=False, highlight=False, soft_wrap=True)
        if v.strength in ("sterk", "enigszins"):
            for o in [o for o in kb.opgaven.values() if v.trend in o.answers][:3]:
                who = kb.actors[o.actors[0]].label if o.actors else None
                out.print(f"   • {o.title}" + (f" (trekker: {who})" if who else ""), markup=False, highlight=False,
                          soft_wrap=True)


@app.command()
def trend(id: str = typer.Argument(..., help="Id van een trend, opgave, scenario of uitdaging.")) -> None:
    """Een item uit de kennisbank met bronnen, oorzaken, gevolgen en opgaven."""
    from .knowledge.graph import Graph
    from .knowledge.model import SEEDS

    kb = _kb()
    entry = _kb_entry(kb, id)
    g = Graph(kb)
    out.print(f"[bold]{entry.title}[/bold] ({id})", highlight=False)
    extra = []
    for attr in ("kind", "domain", "certainty", "horizon", "direction"):
        if hasattr(entry, attr):
            extra.append(str(getattr(entry, attr)))
    if extra:
        out.print(" · ".join(extra), highlight=False)
    out.print(entry.summary, highlight=False, soft_wrap=True)
    out.print("\nBronnen:")
    for c in sorted(kb.citations_of(id), key=lambda c: c.year or 0):
        out.print(f"  {c.year}: {_citation_text(c)}", highlight=False, soft_wrap=True)
    for label, steps in (("Oorzaken", g.causes(id)), ("Gevolgen", g.effects(id))):
        if steps:
            out.print(f"\n{label}:")
            for st in steps:
                other = st.edge.source if label == "Oorzaken" else st.edge.target
                years = ", ".join(str(SEEDS[sd][0]) for sd in st.edge.studies)
                out.print(f"  ({st.edge.polarity}) {kb.entry(other).title} [{other}] ({years}): "
                          + " / ".join(a.mechanism for a in st.edge.accounts),
                          markup=False, highlight=False, soft_wrap=True)
    from .knowledge.chain import place

    for step in place(kb, id):
        out.print(f"\n{step.label}:", markup=False)
        for item in step.items:
            ref = f" [{item.id}]" if item.id else ""
            note = f": {item.note}" if item.note else ""
            out.print(f"  • {item.title}{ref}{note}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def samenhang(id: str = typer.Argument(..., help="Id van een trend."),
              diepte: int = typer.Option(2, "--diepte", min=1, max=4, help="Aantal stappen (1-4)."),
              fmt: str = typer.Option("tekst", "--format", help="tekst, dot (Graphviz) of graphml."),
              uit: Optional[Path] = typer.Option(None, "--uit", help="Schrijf naar dit bestand in plaats van stdout.")) -> None:
    """De oorzaken en gevolgen van een trend tot een diepte, met uitleg en studies per verband,
    en de terugkoppelingen; als DOT of GraphML om verder te tekenen."""
    from .knowledge.export import to_dot, to_graphml
    from .knowledge.graph import Graph
    from .knowledge.model import SEEDS

    if fmt not in ("tekst", "dot", "graphml"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies tekst, dot of graphml.")
    kb = _kb()
    _kb_entry(kb, id)
    g = Graph(kb)
    causes, effects = g.causes(id, diepte), g.effects(id, diepte)
    if fmt != "tekst":
        edges = list({(s.edge.source, s.edge.target): s.edge for s in causes + effects}.values())
        text = to_dot(kb, edges, focus=id) if fmt == "dot" else to_graphml(kb, edges)
        if uit is None:
            sys.stdout.write(text)
        else:
            Path(uit).write_text(text, encoding="utf-8")
            err.print(f"Geschreven: {uit}", markup=False, highlight=False)
        return
    for label, steps in (("Oorzaken", causes), ("Gevolgen", effects)):
        out.print(f"{label} (tot {diepte} stappen)", style="bold", markup=False)
        for st in sorted(steps, key=lambda s: s.depth):
            e = st.edge
            indent = "  " * st.depth
            out.print(f"{indent}{kb.entry(e.source).title} →({e.polarity}) {kb.entry(e.target).title}",
                      markup=False, highlight=False, soft_wrap=True)
            for a in e.accounts:
                study = SEEDS[a.citations[0].seed][1]
                out.print(f"{indent}    {a.mechanism} ({study})", markup=False, highlight=False, soft_wrap=True)
    nodes = {id} | {s.edge.source for s in causes} | {s.edge.target for s in effects}
    loops = [c for c in g.cycles(max_length=4, within=nodes) if any(id in (e.source, e.target) for e in c)]
    if loops:
        out.print("Terugkoppelingen", style="bold", markup=False)
        for c in loops:
            chain = " → ".join(kb.entry(e.source).title for e in c) + f" → {kb.entry(c[0].source).title}"
            out.print(f"  {Graph.loop_kind(c)}: {chain}", markup=False, highlight=False, soft_wrap=True)


@app.command()
def kennisbank(fmt: str = typer.Option("json", "--format", help="json (de hele kennisbank) of schema (JSON Schema)."),
               uit: Optional[Path] = typer.Option(None, "--uit", help="Schrijf naar dit bestand in plaats van stdout.")) -> None:
    """De hele kennisbank als één JSON-document met een vast schema (zie docs/kennisbank.md)."""
    from .knowledge.export import KennisbankExport, export

    if fmt not in ("json", "schema"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies json of schema.")
    doc = KennisbankExport.model_json_schema() if fmt == "schema" else export(_kb()).model_dump(mode="json")
    text = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    if uit is None:
        sys.stdout.write(text)
    else:
        Path(uit).write_text(text, encoding="utf-8")
        err.print(f"Geschreven: {uit}", markup=False, highlight=False)


@app.command()
def rapport(
    gemeente: Optional[str] = typer.Argument(None, help="Gemeentecode of -naam, bijv. Zwolle of GM0193."),
    groep: Optional[str] = typer.Option(None, "--groep", help="Een rapport voor elke gemeente van een groep, bijv. G40."),
    alle: bool = typer.Option(False, "--alle", help="Een rapport voor elk van de 342 gemeenten."),
    uit: Path = typer.Option(Path("rapporten"), "--uit", help="Map voor de rapporten."),
    pdf: bool = typer.Option(True, "--pdf/--geen-pdf", help="Ook een PDF maken."),
    domein: list[str] = typer.Option([], "--domein", help="Alleen deze domeinen; herhaalbaar."),
    vergelijk: Optional[str] = typer.Option(None, "--vergelijk", help="Vergelijk ook met deze groep (bijv. een eigen groep)."),
    van: Optional[int] = typer.Option(None, "--van", help="Eerste jaar in grafieken en tabellen."),
    tot: Optional[int] = typer.Option(None, "--tot", help="Laatste jaar in grafieken en tabellen."),
    titel: Optional[str] = typer.Option(None, "--titel", help="Eigen titel (eigen editie van een gemeente)."),
    logo: Optional[Path] = typer.Option(None, "--logo", help="Eigen logo (SVG) op de voorkant."),
    opnieuw: bool = typer.Option(False, "--opnieuw", help="Ook rapporten maken waarvan de invoer niet veranderde."),
    werkers: Optional[int] = typer.Option(None, "--werkers", min=1, help="Aantal processen (standaard: aantal kernen)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """De trendstudie van een gemeente (HTML en PDF), of van een hele groep tegelijk."""
    from .knowledge.model import DOMAINS
    from .report.content import Options
    from .report.write import write_many

    if sum(bool(x) for x in (gemeente, groep, alle)) != 1:
        raise TrendstudieError("Geef één gemeente, of --groep GROEP, of --alle.")
    bad = [d for d in domein if d not in DOMAINS]
    if bad:
        raise TrendstudieError(f"Onbekend domein {bad[0]!r}; kies uit: {', '.join(DOMAINS)}")
    if van and tot and van > tot:
        raise TrendstudieError(f"--van {van} ligt na --tot {tot}.")
    logo_svg = None
    if logo:
        if logo.suffix.lower() != ".svg" or not logo.is_file():
            raise TrendstudieError(f"Logo {logo} moet een bestaand SVG-bestand zijn.")
        logo_svg = logo.read_text(encoding="utf-8")
    s = settings(home=home)
    con = store.connect(s.database)
    if gemeente:
        codes = [_resolve_region(con, gemeente)]
        title = None
    elif alle:
        codes = [r[0] for r in con.execute("SELECT code FROM regions WHERE current ORDER BY code").fetchall()]
        title = "Trendstudies van alle gemeenten"
    else:
        groups = {r[0].lower(): r for r in con.execute("SELECT group_id, title FROM groups").fetchall()}
        if groep.lower() not in groups:
            raise TrendstudieError(f"Onbekende groep {groep!r}; kies uit: {', '.join(sorted(g[0] for g in groups.values()))}")
        gid, gtitle = groups[groep.lower()]
        codes = [r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id = ? ORDER BY 1", [gid]).fetchall()]
        title = f"Trendstudies {gtitle}"
    if vergelijk and not con.execute("SELECT 1 FROM groups WHERE group_id = ?", [vergelijk]).fetchone():
        raise TrendstudieError(f"Onbekende groep {vergelijk!r} voor --vergelijk.")
    con.close()
    opts = Options(domains=tuple(domein) or None, peer_group=vergelijk, from_year=van, to_year=tot, title=titel,
                   logo_svg=logo_svg)
    with _progress() as progress:
        task = progress.add_task("rapporten schrijven", total=len(codes))
        written = write_many(s.database, codes, uit, opts, pdf=pdf, workers=werkers,
                             progress=lambda done, total: progress.update(task, completed=done), force=opnieuw,
                             title=title or "Trendstudies")
    made = [w for w in written if not w.skipped]
    skipped = len(written) - len(made)
    if len(codes) == 1:
        w = written[0]
        err.print(f"Trendstudie {w.name}: " + ", ".join(str(uit / f) for f in w.files)
                  + (" (ongewijzigd)" if w.skipped else ""), highlight=False)
    else:
        err.print(f"{len(made)} rapporten geschreven, {skipped} ongewijzigd; overzicht: {uit / 'index.html'}",
                  highlight=False)


@app.command()
def sync(
    tabellen: list[str] = typer.Argument(None, help="Alleen deze tabellen (naam of id uit de catalogus)."),
    opnieuw: bool = typer.Option(False, "--opnieuw", help="Ook tabellen die al compleet zijn opnieuw ophalen."),
    cache: bool = typer.Option(False, "--cache", help="Eerder opgehaalde antwoorden hergebruiken."),
    url: Optional[str] = typer.Option(None, "--url", help="Basisadres van de OData v4-dienst (standaard $TRENDSTUDIE_CBS_URL)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Haal alle tabellen uit de catalogus op bij CBS (OData v4). Daarna: trendstudie build."""
    from .sources.odata import ODataClient
    from .sources.sync import FAILED, sync as run_sync

    s = settings(home=home)
    client = ODataClient(url or s.cbs_url, cache_dir=s.http_cache, use_cache=cache)
    try:
        with _progress() as progress:
            tasks: dict[str, int] = {}

            def report(table: str, done: int, total: int | None) -> None:
                if table not in tasks:
                    tasks[table] = progress.add_task(f"{table}", total=total)
                progress.update(tasks[table], completed=done, total=total)

            result = run_sync(None, url or s.cbs_url, s.synced, tables=tabellen or None, refresh=opnieuw,
                              progress=report, client=client)
    finally:
        client.close()
    failed = [t for t in result.tables if t.status == FAILED]
    for t in result.tables:
        rows = f", {t.rows:,} rijen".replace(",", ".") if t.rows is not None else ""
        extra = f" ({t.resumed_pages} pagina's hervat)" if t.resumed_pages else ""
        colour = {"ok": "green", "skipped": "blue"}.get(t.status, "red")
        err.print(f"[{colour}]{t.status}[/{colour}] {t.catalog}/{t.name}{rows}{extra}"
                  + (f": {t.reason}" if t.reason else ""), highlight=False)
    if failed:
        raise TrendstudieError(f"{len(failed)} van {len(result.tables)} tabellen niet (volledig) opgehaald; "
                               "wat wel binnen is, blijft bewaard. Probeer later opnieuw: trendstudie sync hervat.")
    err.print("Klaar. Bouw de database opnieuw met: trendstudie build --bundle <map>")


@app.command()
def prognose(
    gemeente: str = typer.Argument(..., help="Gemeentecode of -naam."),
    scenario: str = typer.Option("basis", "--scenario", help="basis, hoog, laag, metropolisering, spreiding, "
                                 "de-urbanisatie, of een eigen scenario uit --scenariobestand."),
    tot: int = typer.Option(2040, "--tot", help="Laatste jaar (1 januari)."),
    als: list[str] = typer.Option([], "--als", help="Wat-als: parameter=factor, bijv. immigratie=1.2; herhaalbaar."),
    scenariobestand: Optional[Path] = typer.Option(None, "--scenariobestand", help="Eigen scenario's (YAML)."),
    fmt: str = typer.Option("csv", "--format", help="csv of json."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Waar de gemeente heen gaat: bevolking, leeftijd, huishoudens en woningbehoefte per scenario."""
    from .forecast import project

    if fmt not in ("csv", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv of json.")
    from .forecast.scenarios import parse_overrides

    overrides = parse_overrides(list(als)) if als else None
    s = settings(home=home)
    con = store.connect(s.database)
    code = _resolve_region(con, gemeente)
    rows = project(con, code, scenario, tot, overrides, scenariobestand)
    columns = ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]
    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            w.writerow([r.indicator_id, r.region_code, r.period, _format_value(r.value), _format_value(r.lower),
                        _format_value(r.upper), r.scenario])
    else:
        json.dump([{c: getattr(r, c) for c in columns + ["method", "origin"]} for r in rows], sys.stdout,
                  ensure_ascii=False, indent=1)
        sys.stdout.write("\n")


@app.command()
def backtest(
    oorsprong: Optional[int] = typer.Option(None, "--oorsprong", help="Startjaar, bijv. 2019 (standaard: alle)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Toets de bevolkingsprognose op het verleden: fout per horizon tegen naïeve methoden."""
    from .forecast.backtest import backtest as run_backtest

    s = settings(home=home)
    con = store.connect(s.database)
    out.print(run_backtest(con, oorsprong).format(), highlight=False, soft_wrap=True)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Adres om op te luisteren."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Poort."),
    workers: int = typer.Option(1, "--workers", min=1, help="Aantal processen; elk leest de database alleen."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Start het webdashboard en de API (alleen lezen op de database)."""
    from .web.app import serve as run

    s = settings(home=home)
    store.connect(s.database).close()  # a clear error before the server starts when there is no database
    err.print(f"trendstudie draait op http://{host}:{port}/ (stoppen met Ctrl+C)")
    run(host=host, port=port, database=s.database, workers=workers)


from .commands import verkenning as _verkenning; app.add_typer(_verkenning.app, name="verkenning")  # noqa: E402,E702


def main() -> None:
    try:
        app()
    except TrendstudieError as exc:
        err.print(f"[red]Fout:[/red] {exc}", highlight=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("Afgebroken.")
        sys.exit(130)


if __name__ == "__main__":
    main()
