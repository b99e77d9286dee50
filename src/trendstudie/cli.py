"""The `trendstudie` command. Each command is a thin call into a stage; errors a user can act on
are printed without a traceback and exit with status 2."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import typer

from . import atomic, jsonout, store, tables
from .config import settings
from .console import err, out, styled
from .errors import DatabaseError, TrendstudieError

app = typer.Typer(
    help="trendstudie: een datagedreven trendstudie voor elke Nederlandse gemeente.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

HomeOpt = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME of ~/.trendstudie).")
BundleOpt = typer.Option(None, "--bundle", help="Map met de databundel (standaard $TRENDSTUDIE_BUNDLE).")


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err, transient=False)


@app.command()
def build(bundle: Optional[Path] = BundleOpt, home: Optional[Path] = HomeOpt,
          groepen: Optional[Path] = typer.Option(None, "--groepen", help="Eigen groepen (YAML of CSV), zie docs/groepen.md."),
          waarschuwingen: bool = typer.Option(False, "--waarschuwingen", help="Toon alle waarschuwingen."),
          wacht: bool = typer.Option(False, "--wacht", help="Wacht op een build die al loopt in plaats van te weigeren."),
          opnieuw: bool = typer.Option(False, "--opnieuw", "--volledig",
                                       help="Lees alle bronnen opnieuw en bouw alles, ook als er niets veranderde.")) -> None:
    """Bouw de database uit de databundel (zonder netwerk) en wat `sync` ophaalde.

    Alleen bronnen die sinds de vorige bouw veranderden (bestanden, programma, indicatoren) worden opnieuw ingelezen; de rest komt uit de bouwcache in $TRENDSTUDIE_HOME/cache/build. Veranderde er niets, dan blijft de database staan. --opnieuw (of --volledig) bouwt alles opnieuw.
    """  # noqa: E501 - one paragraph, as the help shows it
    from .build import build as run_build

    s = settings(home=home, bundle=bundle)
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int | None) -> None:
            key = stage.split(":")[0]
            if key not in tasks:
                tasks[key] = progress.add_task(stage, total=total)
            progress.update(tasks[key], description=stage, completed=done, total=total)

        result = run_build(s, report, user_groups=groepen, wait=wacht, waiting=lambda text: err.print(text), full=opnieuw)
    if result.unchanged:
        from datetime import datetime

        try:
            when = "gebouwd " + datetime.fromisoformat(result.built_at or "").strftime("%d-%m-%Y %H:%M UTC")
        except ValueError:
            when = "gebouwd " + str(result.built_at)
        err.print(f"Niets veranderd sinds de vorige bouw ({when}; bronnen, programma en instellingen "
                  f"gelijk); de database blijft staan. Toch alles opnieuw: trendstudie build --opnieuw")
        return
    err.print(styled(("Database gebouwd", "green"), f": {result.database} — {result.observations:,} observaties, "
              f"{result.facts:,} geharmoniseerde feiten uit {len(result.tables)} tabellen, "
              f"{result.indicators - result.missing_indicators} van {result.indicators} indicatoren berekend "
              f"in {result.seconds:.1f} s.".replace(",", ".")))
    from .commands.wijzigingen import after_build  # the edition this build recorded (issue 17)

    if edition_line := after_build(s.home, result.database):
        err.print(edition_line)
    if result.cached:
        err.print(f"Opnieuw ingelezen: {', '.join(result.reread) or 'geen bron'}; uit de bouwcache: "
                  f"{', '.join(result.cached)}.")
    if result.missing_indicators:
        err.print(f"{result.missing_indicators} indicatoren hebben gegevens nodig die niet in de bundel staan: "
                  "zie `trendstudie indicatoren --ontbrekend`.")
    if result.warnings:
        err.print(f"{len(result.warnings)} waarschuwingen (zie `trendstudie build --waarschuwingen`)." if not waarschuwingen else "")
        if waarschuwingen:
            for stage, message in result.warnings:
                err.print(styled((stage, "yellow"), f": {message}"))


def _reader(home: Optional[Path]):
    """The one read model over the store (trendstudie.reader): the CLI asks it, never SQL."""
    from .reader import Reader

    return Reader(settings(home=home).database)


def _resolution(con, text: str, kinds: tuple[str, ...] | None = None):
    """What `text` names, through the one resolver (geo/resolve.py): former codes and names lead
    to their successor, typos get suggestions."""
    from .geo.resolve import ALL_KINDS
    from .reader import Reader

    return Reader.of(con).resolution(text, kinds or ALL_KINDS)


def _resolve_region(con, text: str, kinds: tuple[str, ...] | None = None) -> str:
    """The region to answer for; a former gemeente's successor is announced on stderr, and a
    split gemeente is refused with all its successors named."""
    r = _resolution(con, text, kinds)
    if r.message and r.code is not None:
        err.print(r.message)
    return r.require()


def years_outside(van: int | None, tot: int | None, first: int, last: int, names=("--van", "--tot")) -> str | None:
    """Why a requested range of years cannot be answered from data covering first..last, or None."""
    if van is not None and tot is not None and van > tot:
        return f"{names[0]} {van} ligt na {names[1]} {tot}; geef eerst het vroegste jaar."
    for flag, year in zip(names, (van, tot)):
        if year is not None and not first <= year <= last:
            return f"{flag} {year} ligt buiten de gegevens: die lopen van {first} tot en met {last}."
    return None


def max_workers() -> int:
    return (os.cpu_count() or 1) * 4


def _check_workers(n: int | None, flag: str = "--werkers") -> None:
    if n is not None and n > max_workers():
        raise TrendstudieError(f"{flag} {n} is te veel: deze computer heeft {os.cpu_count() or 1} kernen; "
                               f"kies hoogstens {max_workers()} (standaard: het aantal kernen).")


def _check_years(reader, van: int | None, tot: int | None, *names: str) -> None:
    if van is None and tot is None:
        return
    span = reader.year_range()
    if span is None:
        raise TrendstudieError("De database bevat geen indicatorwaarden; bouw haar opnieuw met trendstudie build.")
    problem = years_outside(van, tot, span[0], span[1], names or ("--van", "--tot"))
    if problem:
        raise TrendstudieError(problem)


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
    reader = _reader(home)
    r = _resolution(reader, naam_of_code)
    if r.former:  # the history of the former gemeente itself, with where it went
        err.print(r.history)
    code = r.former or r.require()
    regions = reader.regions
    region = regions[code]
    name, province, vfrom, vto = region.name, region.province, region.valid_from, region.valid_to
    prov = regions[province].name if province in regions else None
    out.print(styled((name, "bold"), f" ({code})" + (f", provincie {prov}" if prov else "")))
    out.print(f"Bestaat {'sinds ' + _fmt_date(vfrom) if vfrom else 'van vóór 1988'}"
              + (f" tot {_fmt_date(vto)}" if vto else " en nu nog") + ".")
    pop = reader.latest_fact("03759ned", "M000352", code)
    if pop:
        out.print(f"Inwoners op 1 januari {pop[0][:4]}: {_fmt_int(pop[1])} ({(pop[2] or 'status onbekend').lower()}; CBS 03759ned).")
    groups = reader.groups_of(code)
    if groups:
        out.print("Groepen: " + ", ".join(t for _, t in groups) + ".")
    from .sources.releases import read_announcements  # herindelingen CBS announced (seen by the last sync)

    for a in read_announcements(settings(home=home).synced):
        if code == a.to_code or code in (c for c, _, _ in a.sources):
            out.print(f"Aangekondigd: {a.sentence()}")
    events = sorted(reader.events_of(code), key=lambda e: e.from_code)
    events.sort(key=lambda e: e.date, reverse=True)

    def name_of(c: str) -> str | None:
        return regions[c].name if c in regions else None

    events = [(e.date, e.kind, e.from_code, name_of(e.from_code), e.to_code, name_of(e.to_code), e.inhabitants,
               e.dwellings, e.hectares) for e in events]
    if not events:
        out.print("Geen herindelingen of grenswijzigingen sinds 1988.")
        return
    out.print(f"Geschiedenis van {name} sinds 1988:")
    for d, kind_, fc, fn, tc, tn, inh, dw, ha in events:
        amounts = [f"{_fmt_int(inh)} inwoners" if inh is not None else None,
                   f"{_fmt_int(dw)} woningen" if dw is not None else None,
                   f"{_fmt_int(ha)} ha" if ha is not None else None]
        detail = ", ".join(a for a in amounts if a)
        out.print(f"  {_fmt_date(d)}: {kind_} van {fn} ({fc}) naar {tn} ({tc})" + (f": {detail}" if detail else ""))


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
    if fmt not in ("csv", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv of json.")
    reader = _reader(home)
    if as_published:  # published figures exist for the former code itself
        codes = [_resolution(reader, r).former or _resolve_region(reader, r) for r in region]
    else:  # harmonised series are on today's gemeenten: a former one is answered by its successor
        codes = [_resolve_region(reader, r) for r in region]
    if from_year is not None and to_year is not None and from_year > to_year:
        raise TrendstudieError(f"--from {from_year} ligt na --to {to_year}; geef eerst het vroegste jaar.")
    rows = reader.series(table, measure, codes, from_year, to_year, dim, as_published)
    if not rows and (from_year is not None or to_year is not None):
        whole = reader.series(table, measure, codes, None, None, dim, as_published)
        if whole:
            years = sorted(int(r["period"][:4]) for r in whole)
            raise TrendstudieError(f"Geen cijfers in de gevraagde jaren: de reeks loopt van {years[0]} tot en met "
                                   f"{years[-1]}.")
    columns = ["table_id", "measure", "region_code", "period", "value", "status", "harmonised"]
    _print_table(fmt, columns, rows)


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
    reader = _reader(home)
    code = _resolve_region(reader, gemeente)
    profile = build_profile(reader.values, code)
    domains = [d for d in profile.domains if not domein or d.domain == domein]
    if domein and not domains:
        raise TrendstudieError(f"Onbekend domein of geen gegevens voor {domein!r}.")
    if fmt == "json":
        data = profile.to_dict()
        data["domains"] = [d for d in data["domains"] if not domein or d["domain"] == domein]
        jsonout.dump(data, sys.stdout, indent=1, default=str)
        sys.stdout.write("\n")
        return
    out.print(styled((profile.name, "bold"), f" ({code})" + (f", provincie {profile.province}" if profile.province else "")))
    out.print("Vergeleken met: " + ", ".join(g.title for g in profile.groups))
    if profile.neighbours:
        names = ", ".join(n.name for n in profile.neighbours)
        out.print(f"Statistische buren: {names}")
    for d in domains:
        out.print(f"\n{d.domain[0].upper() + d.domain[1:]}", style="bold")
        for ind in d.indicators:
            sentences = ind.sentences()
            out.print(f"  {sentences[0]}", style="bold")
            for line in sentences[1:]:
                out.print(f"    {line}")


@app.command()
def indicatoren(
    ontbrekend: bool = typer.Option(False, "--ontbrekend", help="Alleen de indicatoren die niet berekend konden worden."),
    domein: Optional[str] = typer.Option(None, "--domein", help="Alleen dit domein, bijv. 'wonen en ruimte'."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Het register van indicatoren, met de perioden waarvoor gegevens zijn."""
    reader = _reader(home)
    rows = reader.indicator_overview()
    from .indicators.registry import DOMAINS

    rows.sort(key=lambda r: DOMAINS.index(r[2]) if r[2] in DOMAINS else len(DOMAINS))  # stable: registry order within a domain
    domains = sorted({m.domain for m in reader.indicators.values()})
    if domein and domein not in domains:
        raise TrendstudieError(f"Onbekend domein {domein!r}; kies uit: {', '.join(sorted(domains))}")
    current = None
    for id_, title, dom, unit, live, missing, first, last, n in rows:
        if (domein and dom != domein) or (ontbrekend and not missing):
            continue
        if dom != current:
            out.print(f"\n{dom}", style="bold")
            current = dom
        if missing:
            out.print(styled(f"  {id_}: {title} ({unit}) — ", ("niet in de bundel", "yellow"),
                             f"; live uit {live}. Ontbreekt: {missing}"))
        else:
            span = first[:4] if first == last else f"{first[:4]}–{last[:4]}"
            out.print(f"  {id_}: {title} ({unit}), {span}, {n} gemeenten")


@app.command()
def export(
    regions: list[str] = typer.Option([], "--regions", "--region", help="Gemeenten (code of naam); herhaalbaar."),
    group: Optional[str] = typer.Option(None, "--group", "--groep", help="Alle gemeenten van een groep, bijv. G40."),
    indicators: list[str] = typer.Option([], "--indicators", "--indicator", help="Indicator-id's; standaard alle."),
    fmt: str = typer.Option("csv", "--format", help="csv, json of xlsx."),
    uit: Optional[Path] = typer.Option(None, "--uit", help="Schrijf naar dit bestand (verplicht voor xlsx)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Indicatorwaarden met de vaste kolommen indicator_id,region_code,period,value,status,harmonised
    (harmonised: herberekend naar de gemeente van nu na een herindeling of grenswijziging)."""
    if fmt not in ("csv", "json", "xlsx"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv, json of xlsx.")
    if fmt == "xlsx" and uit is None:
        raise TrendstudieError("Voor xlsx is --uit BESTAND nodig.")
    if uit is not None:
        atomic.check_file_target(uit)  # before the work: a missing folder or a folder as file
    reader = _reader(home)
    codes = [_resolve_region(reader, r) for r in regions]
    rows = reader.indicator_table(codes, group, indicators)
    columns = ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    if fmt == "xlsx":
        atomic.write_bytes(uit, tables.to_xlsx(columns, tables.rows_of(rows, columns), "indicatoren"))
        err.print(f"{len(rows)} rijen geschreven naar {uit}")
        return
    _emit(_table_text(fmt, columns, rows), uit)


def _table_text(fmt: str, columns: list[str], rows) -> str:
    """A table as the CLI prints it (csv, or json with a final newline); rows are dicts or objects."""
    text = tables.write(fmt, columns, tables.rows_of(rows, columns))
    return text if fmt == "csv" else text + "\n"


def _print_table(fmt: str, columns: list[str], rows) -> None:
    sys.stdout.write(_table_text(fmt, columns, rows))


def _emit(text: str, uit: Optional[Path]) -> None:
    """A command's answer: on stdout, or written atomically to --uit (never half a file)."""
    if uit is None:
        sys.stdout.write(text)
    else:
        atomic.write_text(uit, text)
        err.print(f"Geschreven: {uit}")


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

    from .knowledge.model import lines_text

    return f"{SEEDS[c.seed][1]}, {c.section}, {lines_text(c.lines)} ({c.seed})"


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
    from .knowledge.verdict import as_json

    if fmt not in ("tekst", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies tekst of json.")
    if domein and domein not in DOMAINS:
        raise TrendstudieError(f"Onbekend domein {domein!r}; kies uit: {', '.join(DOMAINS)}.")
    if alle == (gemeente is not None):
        raise TrendstudieError("Noem één gemeente, of geef --alle voor alle gemeenten.")
    if alle and fmt != "json":
        raise TrendstudieError("--alle geeft één JSON-document; gebruik --format json.")
    reader = _reader(home)
    code = None if alle else _resolve_region(reader, gemeente)
    loc = reader.localiser if alle else reader.localiser_for(code)  # for one: only its own figures read
    kb = loc.kb

    def keep(v) -> bool:
        return not domein or kb.trends[v.trend].domain == domein

    if alle:
        doc = {code: [as_json(kb, v) for v in loc.verdicts(code) if keep(v)] for code in loc.gemeenten}
        sys.stdout.write(jsonout.dumps(doc) + "\n")
        return
    name = reader.regions[code].name
    verdicts = [v for v in loc.verdicts(code) if keep(v)]
    if fmt == "json":
        jsonout.dump([as_json(kb, v) for v in verdicts], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return
    out.print(f"Trends in {name} ({code})", style="bold")
    lines: list[str] = []  # printed at once: a rich print per line cost a tenth of a second
    words = {"sterk": "speelt sterk", "enigszins": "speelt enigszins", "niet": "speelt hier niet of nauwelijks",
             "onbekend": "onbekend"}
    answering: dict[str, list] = {}  # trend → the opgaven that answer it, in the knowledge base's order
    for o in kb.opgaven.values():
        for answered in dict.fromkeys(o.answers):
            answering.setdefault(answered, []).append(o)
    for v in verdicts:
        t = kb.trends[v.trend]
        basis = f" — op grond van {v.basis}" if v.basis else ""
        lines.append(f"\n➢ {t.title} ({t.domain}): {words[v.strength]}{basis}")
        lines.append(f"   {v.reason}")
        for e in v.evidence:
            lines.append(f"   + {e}")
        for e in v.counter:
            lines.append(f"   − {e}")
        for line in ([v.note] if v.note else []) + v.labels + ([v.disagreement] if v.disagreement else []):
            lines.append(f"   ! {line}")
        if v.basis == "cijfers" and v.typology:
            lines.append(f"   Typering: {v.typology}")
        if v.strength in ("sterk", "enigszins"):
            for o in answering.get(v.trend, [])[:3]:
                who = kb.actors[o.actors[0]].label if o.actors else None
                lines.append(f"   • {o.title}" + (f" (trekker: {who})" if who else ""))
    if lines:  # plain text without style or markup: written as it is (rich's rendering of these
        out.file.write("\n".join(lines) + "\n")  # 80 kB cost a twentieth of the command's time)


@app.command()
def trend(id: str = typer.Argument(..., help="Id van een trend, opgave, scenario of uitdaging.")) -> None:
    """Een item uit de kennisbank met bronnen, oorzaken, gevolgen en opgaven."""
    from .knowledge.graph import Graph
    from .knowledge.model import SEEDS

    kb = _kb()
    entry = _kb_entry(kb, id)
    g = Graph(kb)
    out.print(styled((entry.title, "bold"), f" ({id})"))
    extra = []
    for attr in ("kind", "domain", "certainty", "horizon", "direction"):
        if hasattr(entry, attr):
            extra.append(str(getattr(entry, attr)))
    if extra:
        out.print(" · ".join(extra))
    out.print(entry.summary)
    _print_rule(id)
    out.print("\nBronnen:")
    for c in sorted(kb.citations_of(id), key=lambda c: c.year or 0):
        out.print(f"  {c.year}: {_citation_text(c)}")
    for label, steps in (("Oorzaken", g.causes(id)), ("Gevolgen", g.effects(id))):
        if steps:
            out.print(f"\n{label}:")
            for st in steps:
                other = st.edge.source if label == "Oorzaken" else st.edge.target
                years = ", ".join(str(SEEDS[sd][0]) for sd in st.edge.studies)
                out.print(f"  ({st.edge.polarity}) {kb.entry(other).title} [{other}] ({years}): "
                          + " / ".join(a.mechanism for a in st.edge.accounts))
    from .knowledge.chain import place

    for step in place(kb, id):
        out.print(f"\n{step.label}:")
        for item in step.items:
            ref = f" [{item.id}]" if item.id else ""
            note = f": {item.note}" if item.note else ""
            out.print(f"  • {item.title}{ref}{note}")


def _print_rule(trend_id: str) -> None:
    """How the figures judge this trend for a gemeente (its rule in words), when there is a store
    to word it with (indicator titles and units, group names)."""
    from .knowledge.localise import rule_for, rule_in_words

    database = settings().database
    if not database.exists():
        return
    reader = _reader(None)
    try:
        rule = rule_for(reader.rules, reader.data, trend_id)
        if rule is None:
            return
        out.print("\nWanneer speelt deze trend in een gemeente?" + (f" {rule.reden}" if rule.reden else ""))
        for step in rule_in_words(rule, reader.data):
            out.print(f"  {step.label}:")
            for line in step.conditions:
                out.print(f"    - {line}")
    finally:
        reader.close()


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
        _emit(to_dot(kb, edges, focus=id) if fmt == "dot" else to_graphml(kb, edges), uit)
        return
    for label, steps in (("Oorzaken", causes), ("Gevolgen", effects)):
        out.print(f"{label} (tot {diepte} stappen)", style="bold")
        for st in sorted(steps, key=lambda s: s.depth):
            e = st.edge
            indent = "  " * st.depth
            out.print(f"{indent}{kb.entry(e.source).title} →({e.polarity}) {kb.entry(e.target).title}")
            for a in e.accounts:
                study = SEEDS[a.citations[0].seed][1]
                out.print(f"{indent}    {a.mechanism} ({study})")
    nodes = {id} | {s.edge.source for s in causes} | {s.edge.target for s in effects}
    loops = [c for c in g.cycles(max_length=4, within=nodes) if any(id in (e.source, e.target) for e in c)]
    if loops:
        out.print("Terugkoppelingen", style="bold")
        for c in loops:
            chain = " → ".join(kb.entry(e.source).title for e in c) + f" → {kb.entry(c[0].source).title}"
            out.print(f"  {Graph.loop_kind(c)}: {chain}")


@app.command()
def kennisbank(fmt: str = typer.Option("json", "--format", help="json (de hele kennisbank) of schema (JSON Schema)."),
               uit: Optional[Path] = typer.Option(None, "--uit", help="Schrijf naar dit bestand in plaats van stdout.")) -> None:
    """De hele kennisbank als één JSON-document met een vast schema (zie docs/kennisbank.md)."""
    from .knowledge.export import KennisbankExport, export

    if fmt not in ("json", "schema"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies json of schema.")
    doc = KennisbankExport.model_json_schema() if fmt == "schema" else export(_kb()).model_dump(mode="json")
    _emit(jsonout.dumps(doc, indent=1) + "\n", uit)


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
    logo: Optional[Path] = typer.Option(None, "--logo", help="Eigen logo op de voorkant: SVG, PNG of JPEG, hoogstens 1 MB (een SVG wordt ontdaan van scripts en externe verwijzingen)."),
    opnieuw: bool = typer.Option(False, "--opnieuw", help="Ook rapporten maken waarvan de invoer niet veranderde."),
    werkers: Optional[int] = typer.Option(None, "--werkers", min=1, help="Aantal processen (standaard: aantal kernen)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """De trendstudie van een gemeente (HTML en PDF), of van een hele groep tegelijk."""
    from .knowledge.model import DOMAINS
    from .report.content import Options
    from .report.write import write_many

    _check_workers(werkers)
    if sum(bool(x) for x in (gemeente, groep, alle)) != 1:
        raise TrendstudieError("Geef één gemeente, of --groep GROEP, of --alle.")
    bad = [d for d in domein if d not in DOMAINS]
    if bad:
        raise TrendstudieError(f"Onbekend domein {bad[0]!r}; kies uit: {', '.join(DOMAINS)}")
    if van is not None and tot is not None and van > tot:
        raise TrendstudieError(f"--van {van} ligt na --tot {tot}; geef eerst het vroegste jaar.")
    logo_svg = None
    if logo:
        from .report.logo import load_logo

        checked = load_logo(logo)
        logo_svg = checked.svg
        if checked.removed:
            err.print(f"Uit het logo weggelaten: {', '.join(checked.removed)}.", markup=False, highlight=False)
    s = settings(home=home)
    reader = _reader(home)
    _check_years(reader, van, tot, "--van", "--tot")
    atomic.ensure_dir(uit)  # before the work: the folder exists (or is made) and can be written
    if gemeente:
        codes = [_resolve_region(reader, gemeente)]
        title = None
    elif alle:
        codes = sorted(c for c, r in reader.regions.items() if r.current)
        title = "Trendstudies van alle gemeenten"
    else:
        gid = reader.group_id(groep, "--groep")
        codes = sorted(reader.group_members.get(gid, []))
        title = f"Trendstudies {reader.groups[gid][0]}"
    if vergelijk:
        vergelijk = reader.group_id(vergelijk, "--vergelijk")
    reader.close()
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
                  + (" (ongewijzigd)" if w.skipped else ""))
    else:
        err.print(f"{len(made)} rapporten geschreven, {skipped} ongewijzigd; overzicht: {uit / 'index.html'}")


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
    from .sources.releases import date_text as _date_text
    from .sources.sync import FAILED, sync as run_sync

    s = settings(home=home)
    atomic.ensure_dir(s.synced)  # before fetching: the home can be written
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
        if t.changed:
            extra += f" (nieuwe versie bij CBS: {_date_text(t.previous_modified)} → {_date_text(t.modified)})"
        err.print(styled((t.status, colour), f" {t.catalog}/{t.name}{rows}{extra}" + (f": {t.reason}" if t.reason else "")))
    for label, text in result.news():
        err.print(styled((label, "yellow"), f": {text}"), markup=False, highlight=False)
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
    reader = _reader(home)
    code = _resolve_region(reader, gemeente)
    rows = project(reader.con, code, scenario, tot, overrides, scenariobestand)
    columns = ["indicator_id", "region_code", "period", "value", "lower", "upper", "scenario"]
    _print_table(fmt, columns if fmt == "csv" else columns + ["method", "origin"], rows)


@app.command()
def backtest(
    oorsprong: Optional[int] = typer.Option(None, "--oorsprong", help="Startjaar, bijv. 2019 (standaard: alle)."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Toets de bevolkingsprognose op het verleden: fout per horizon tegen naïeve methoden."""
    from .forecast.backtest import backtest as run_backtest

    out.print(run_backtest(_reader(home).con, oorsprong).format())


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Adres om op te luisteren."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Poort."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Aantal processen (standaard: het aantal "
                                          "kernen, hoogstens 4); elk laadt de database in zijn geheugen."),
    home: Optional[Path] = HomeOpt,
) -> None:
    """Start het webdashboard en de API (alleen lezen op de database)."""
    from .web.app import default_workers, serve as run

    _check_workers(workers, "--workers")
    workers = workers or default_workers()
    s = settings(home=home)
    store.connect(s.database).close()  # a clear error before the server starts when there is no database
    from .web.workers import check_port

    check_port(host, port)  # before the server says it runs
    err.print(f"trendstudie draait op http://{host}:{port}/ (stoppen met Ctrl+C)")
    run(host=host, port=port, database=s.database, workers=workers)


from .commands import importeer as _importeer  # noqa: E402

app.command(name="importeer")(_importeer.importeer)
from .commands import verkenning as _verkenning  # noqa: E402

app.add_typer(_verkenning.app, name="verkenning")
from .commands import wijzigingen as _wijzigingen  # noqa: E402

app.command(name="wijzigingen")(_wijzigingen.wijzigingen)
app.command(name="edities")(_wijzigingen.edities)
from .commands import bijwerken as _bijwerken  # noqa: E402

app.command(name="bijwerken")(_bijwerken.bijwerken)


_DUTCH_REASONS = [
    (r"Input should be a valid integer.*", "dat is geen geheel getal"),
    (r"Input should be a valid number.*", "dat is geen getal"),
    (r"Input should be greater than or equal to (\S+?)\.?$", r"die moet minstens \1 zijn"),
    (r"Input should be greater than (\S+?)\.?$", r"die moet groter zijn dan \1"),
    (r"Input should be less than or equal to (\S+?)\.?$", r"die mag hoogstens \1 zijn"),
    (r"Input should be less than (\S+?)\.?$", r"die moet kleiner zijn dan \1"),
    (r"Value (.*) is not a valid (.*)\.$", r"\1 is geen geldige \2"),
    (r"(.*) is not one of (.*)\.$", r"\1 is geen van \2"),
]


def _click_message(exc) -> str:
    """Click's usage errors in Dutch, naming the option or argument."""
    import re

    click = _click()

    def reason(text: str) -> str:
        for pattern, dutch in _DUTCH_REASONS:
            if re.match(pattern, text):
                return re.sub(pattern, dutch, text)
        return text

    def name(param) -> str:
        if param is None:
            return "een waarde"
        opts = getattr(param, "opts", None) or [getattr(param, "name", "?")]
        return opts[0] if opts[0].startswith("-") else opts[0].upper()

    if isinstance(exc, click.exceptions.NoSuchOption):
        close = sorted(p for p in exc.possibilities or () if p != "--help")
        hint = f" Bedoelde u: {' of '.join(close)}?" if close else ""
        return f"Onbekende optie {exc.option_name}.{hint} Zie trendstudie --help."
    if isinstance(exc, click.exceptions.MissingParameter):
        return f"{name(exc.param)} ontbreekt. Zie de hulp met --help."
    if isinstance(exc, click.exceptions.BadParameter):
        return f"Ongeldige waarde voor {name(exc.param)}: {reason(exc.message)}."
    if isinstance(exc, click.exceptions.BadOptionUsage):
        return f"Onjuist gebruik van {exc.option_name}: {exc.message}"
    if isinstance(exc, click.exceptions.UsageError):
        text = exc.format_message()
        if text.startswith("No such command"):
            return f"Onbekende opdracht{text[len('No such command'):]} Zie trendstudie --help."
        if text.startswith("Got unexpected extra argument"):
            return f"Onverwacht extra argument{text[text.index(' ('):] if ' (' in text else ''}. Zie --help."
        return f"Onjuist gebruik: {text}"
    return exc.format_message()


def _click():
    """The click that typer uses (typer ships its own copy)."""
    try:
        from typer import _click as click
    except ImportError:  # an older typer on plain click
        import click
    return click


def run(argv: list[str] | None = None) -> int:
    """The command with its one error boundary: every failure becomes a Dutch message on stderr and
    an exit code (see boundary.py); no traceback reaches the user."""
    from typer.exceptions import Abort, Exit

    from . import boundary as b

    click = _click()
    exits = tuple({Exit, getattr(click.exceptions, "Exit", Exit)})
    aborts = tuple({Abort, getattr(click.exceptions, "Abort", Abort), KeyboardInterrupt})
    try:
        rv = app(args=argv, prog_name="trendstudie", standalone_mode=False)
        # Without standalone mode click *returns* the code of an Exit instead of raising it, and
        # typer turns Ctrl-C into Exit(130): so an interrupted command arrives here as 130.
        if rv == b.EXIT_INTERRUPTED:
            err.print("Afgebroken.")
        return rv if isinstance(rv, int) else 0
    except exits as exc:
        if exc.exit_code == b.EXIT_INTERRUPTED:  # typer turns Ctrl-C into Exit(130)
            err.print("Afgebroken.")
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        err.print(exc.format_message())
        return b.EXIT_INPUT
    except click.exceptions.ClickException as exc:
        err.print(styled(("Fout:", "red"), " " + _click_message(exc)))
        return b.EXIT_INPUT
    except aborts:
        err.print("Afgebroken.")
        return b.EXIT_INTERRUPTED
    except TrendstudieError as exc:
        err.print(styled(("Fout:", "red"), f" {exc}"))
        return b.EXIT_DATABASE if isinstance(exc, DatabaseError) else b.EXIT_INPUT
    except BrokenPipeError:  # `trendstudie export | head`: the reader went away; nothing to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except OSError as exc:
        err.print(styled(("Fout:", "red"), " " + b.describe_oserror(exc)))
        return b.EXIT_OS
    except MemoryError:
        err.print(styled(("Fout:", "red"), " niet genoeg geheugen; sluit andere programma's of gebruik minder --werkers."))
        return b.EXIT_OS
    except Exception as exc:  # noqa: BLE001 - the last resort: a message, never a traceback
        if b.is_database_error(exc):
            err.print(styled(("Fout:", "red"), " " + b.describe_database_error(exc)))
            return b.EXIT_DATABASE
        if b.debug():
            import traceback

            traceback.print_exc()
        err.print(styled(("Fout:", "red"), " " + b.last_resort(exc)))
        return b.EXIT_INTERNAL


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
