"""The content of a localised trend study, as plain data: one function from the store, the
knowledge base and the options to a `Report`, which html.py and pdf.py render the same way.

Nothing here formats for a medium; every figure in it is computed from the store, and a
missing figure removes its sentence, row or chart rather than printing a placeholder.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from .. import formatting
from ..formatting import COUNT_UNITS
from ..knowledge import model as kbmodel
from ..knowledge.graph import Graph
from ..knowledge.localise import load_rules, rule_for, unit_in_title, unit_label
from ..knowledge.verdict import Verdict

STRENGTH_LABEL = {"sterk": "speelt sterk", "enigszins": "speelt enigszins"}
BASIS_LABEL = {"cijfers": "volgens de cijfers", "typering": "volgens de typering", "landelijk": "landelijke trend"}


@dataclass
class Figure:
    svg: str
    alt: str
    caption: str
    narrow: str | None = None  # the chart laid out again for a phone (the HTML shows it there)
    rows: list[dict] = field(default_factory=list)  # its figures for the data appendix, where not in a table


@dataclass
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)


@dataclass
class Opgave:
    id: str
    title: str
    summary: str
    actors: str = ""  # who acts, the first leads: "gemeente, corporaties"
    local: bool = True  # the gemeente (or its region) leads: something it can do itself


@dataclass
class TrendBlock:
    id: str
    title: str
    strength: str
    summary: str
    evidence: list[str]  # what speaks for the trend here: the conditions of its rule that hold
    opgaven: list[Opgave]
    sources: list[str]
    figure: Figure | None = None
    rank: Figure | None = None  # where the gemeente stands among all 342 (strong trends only)
    counter: list[str] = field(default_factory=list)  # what speaks against it: conditions that do not hold
    note: str | None = None  # a caveat on the verdict, e.g. that it rests only on old figures
    basis: str = "cijfers"  # cijfers, typering or landelijk
    reason: str = ""  # why this verdict, in a sentence
    labels: list[str] = field(default_factory=list)  # reconstructed or provisional figures
    disagreement: str | None = None  # figures and the studies' typology point different ways


@dataclass
class Chapter:
    anchor: str
    title: str
    intro: list[str]
    trends: list[TrendBlock] = field(default_factory=list)
    table: Table | None = None
    figures: list[Figure] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    typed: list[TrendBlock] = field(default_factory=list)  # trends that play here by the studies' typology
    national: list[str] = field(default_factory=list)  # titles of national trends that reach this gemeente too
    less: list[tuple[str, str]] = field(default_factory=list)  # (title, why) of trends that play less here
    # the samenhang chapter's boxes and arrows (titles by id, the edges to draw), for the web to lay
    # the diagram out for a screen (web/charts.py samenhang_for_screens)
    graph: tuple[dict[str, str], list] | None = None

    @property
    def typed_groups(self) -> list[tuple[str, list[TrendBlock]]]:
        """The typed trends grouped by their reason ("Volgens HCSS (2024) speelt ... vooral in ..."),
        so that a reason shared by ten trends is said once."""
        groups: dict[str, list[TrendBlock]] = {}
        for t in self.typed:
            groups.setdefault(t.reason, []).append(t)
        return [(reason.replace("speelt deze trend", "spelen deze trends") if len(ts) > 1 else reason, ts)
                for reason, ts in groups.items()]


@dataclass
class SummaryItem:
    title: str
    domain: str
    key_figure: str | None  # why it matters here: the first evidence, or the typology
    anchor: str
    strength: str = "sterk"


@dataclass
class Report:
    code: str
    name: str
    province: str | None
    title: str
    subtitle: str
    data_date: str
    built_at: str
    summary_trends: list[SummaryItem]
    summary_opgaven: list[tuple[str, str]]  # (opgave title, answers which trends, in words)
    chapters: list[Chapter]
    sources: list[tuple[str, str]]  # (table id, title)
    method: list[str]
    data_rows: list[dict]  # the data appendix: indicator values used in the report
    peers: list[tuple[str, str]]  # (group id, label) the gemeente is compared with
    neighbours: list[str] = field(default_factory=list)  # names of the statistical neighbours
    map: Figure | None = None  # where the gemeente lies in its province
    nieuw: object | None = None  # report/nieuw.py News: what the latest edition changed here


@dataclass
class Options:
    domains: tuple[str, ...] | None = None  # None: all
    peer_group: str | None = None  # an extra group id to compare with (e.g. a user group)
    from_year: int | None = None
    to_year: int | None = None
    title: str | None = None  # a custom title for a gemeente's own edition
    logo_svg: str | None = None
    future: bool = True  # the chapter on projections and scenarios
    until: int = 2040
    screen: bool = False  # for the web: the samenhang diagram is laid out for a screen there, not here for print


def _anchor(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-")


class Context:
    """Everything a report reads, loaded once and shared between reports of one batch. It reads
    through the one read model (`trendstudie.reader.Reader`), so a Context over a Reader the web
    already holds loads nothing twice; `ctx.con` is a connection of the calling thread."""

    def __init__(self, source):
        from ..reader import Reader

        reader = Reader.of(source)
        self.reader = reader
        self.con = reader.con
        self.kb = reader.kb
        self.graph = reader.graph
        self.rules = reader.rules
        self.data = reader.data
        self.indicators = [m for m in reader.indicators.values() if m.missing is None]  # reader.IndicatorRow
        self.regions = {c: (r.name, r.province, r.current) for c, r in reader.regions.items()}
        self.groups = reader.groups
        self.built_at = reader.built_at
        self.sources = list(reader.source_tables.items())
        self.values = reader.values  # for statistical neighbours (analysis/neighbours.py)
        self.boundaries = reader.boundaries
        self.member_of = reader.member_of
        self.localiser = reader.localiser


def peer_groups(ctx: Context, code: str, extra: str | None = None) -> list[tuple[str, str]]:
    """The groups this gemeente is compared with, in a fixed order, with their labels."""
    mine = ctx.member_of.get(code, set())
    kinds = {gid: ctx.groups[gid][1] for gid in mine}
    out = [(g, ctx.groups[g][0]) for g in ("G4", "G40", "M50") if g in mine]
    out += [(g, ctx.groups[g][0]) for g in sorted(mine) if kinds[g] == "provincie"]
    out += [(g, ctx.groups[g][0]) for g in sorted(mine) if kinds[g] == "grootteklasse"]
    if extra:
        if extra not in ctx.groups:
            from ..errors import TrendstudieError

            raise TrendstudieError(f"Onbekende groep {extra!r}; kies uit: {', '.join(sorted(ctx.groups))}")
        out.append((extra, ctx.groups[extra][0]))
    out.append(("NL01", "Nederland"))
    return out


def _in_years(period: str, opts: Options) -> bool:
    y = int(period[:4])
    return (opts.from_year is None or y >= opts.from_year) and (opts.to_year is None or y <= opts.to_year)


def indicator_table(ctx: Context, code: str, name: str, domain: str, peers: list[tuple[str, str]],
                    opts: Options, buren: list[str] | None = None) -> tuple[Table | None, list[dict]]:
    buren = buren or []
    header = ["Indicator", name] + [label for _, label in peers] + (["Buren (mediaan)"] if buren else []) + ["Jaar"]
    rows, data_rows = [], []
    for m in ctx.indicators:
        if m.domain != domain:
            continue
        ind, title, unit, decimals = m.id, m.title, m.unit, m.decimals
        series = [(p, v) for p, v in ctx.data.series(ind, code) if _in_years(p, opts)]
        if not series:
            continue
        period, value = series[-1]
        row = [_label(title, unit), formatting.number(value, decimals)]
        data_rows.append({"indicator_id": ind, "region_code": code, "period": period, "value": value})
        for gid, _ in peers:
            other = ctx.data.value(ind, gid, period)
            row.append(formatting.number(other, decimals) if other is not None else "–")
            if other is not None:
                data_rows.append({"indicator_id": ind, "region_code": gid, "period": period, "value": other})
        if buren:
            values = {b: v for b in buren if (v := ctx.data.value(ind, b, period)) is not None}
            data_rows += [{"indicator_id": ind, "region_code": b, "period": period, "value": v} for b, v in values.items()]
            near = sorted(values.values())
            row.append(formatting.number(statistics.median(near), decimals) if len(near) >= len(buren) // 2 else "–")
        row.append(formatting.period(period))
        rows.append(row)
    if not rows:
        return None, []
    table = Table(
        caption=f"Indicatoren {domain}: {name} vergeleken met vergelijkbare gemeenten (laatste jaar per indicator)",
        header=header, rows=rows,
        notes=["Een streepje: voor die groep is er in dat jaar geen waarde. Groepswaarden zijn berekend uit de "
               "opgetelde tellers en noemers van de leden, niet als gemiddelde van percentages."]
        + ([f"Buren: de mediaan van de {len(buren)} gemeenten die qua structuur het meest op {name} lijken "
            "(zie Methode en bronnen)."] if buren else []))
    return table, data_rows


def _label(title: str, unit: str) -> str:
    """'Grijze druk (per 100 inwoners van 20-64 jaar)'; 'Inwoners', not 'Inwoners (inwoners)'."""
    return title if unit_in_title(title, unit) else f"{title} ({unit_label(unit)})"


LOCAL_ACTORS = ("gemeente", "regio")


def _opgaven_for(ctx: Context, trend_id: str, limit: int = 4) -> list[Opgave]:
    """The opgaven that answer a trend: what the gemeente (or its region) can do itself first,
    then what others lead; never a national lever presented as a local task."""
    found = [o for o in ctx.kb.opgaven.values() if trend_id in o.answers and not o.period]
    found.sort(key=lambda o: (not o.actors or o.actors[0] not in LOCAL_ACTORS, -len(o.answers), o.id))
    out = []
    for o in found[:limit]:
        labels = [ctx.kb.actors[a].label for a in o.actors]
        out.append(Opgave(o.id, o.title, o.summary, ", ".join(labels),
                          bool(o.actors) and o.actors[0] in LOCAL_ACTORS))
    return out


def _sources_text(ctx: Context, trend_id: str) -> list[str]:
    """One entry per study, with the lines of its text file: "Platform31 (2013), r. 76–82, 184–190"."""
    by_seed: dict[str, list[str]] = {}
    for c in sorted(ctx.kb.citations_of(trend_id), key=lambda c: (c.year or 0, c.seed, c.lines)):
        lines = kbmodel.line_span(c.lines)
        if lines not in by_seed.setdefault(c.seed, []):
            by_seed[c.seed].append(lines)
    return [f"{kbmodel.STUDY_SHORT[seed][0].upper()}{kbmodel.STUDY_SHORT[seed][1:]}, r. {', '.join(lines)}"
            for seed, lines in by_seed.items()]


def build_report(ctx: Context, code: str, opts: Options | None = None, chart_maker=None) -> Report:
    """The whole trend study of one gemeente, as data."""
    opts = opts or Options()
    name, province, current = ctx.regions[code]
    if not current or not code.startswith("GM"):
        from ..errors import TrendstudieError

        raise TrendstudieError(f"{code} is geen huidige gemeente; een trendstudie is er voor de 342 gemeenten van nu.")
    province_name = ctx.regions.get(province, (None,))[0] if province else None
    peers = peer_groups(ctx, code, opts.peer_group)
    from ..analysis.neighbours import neighbours

    near = neighbours(ctx.values, code)
    verdicts = {v.trend: v for v in ctx.localiser.verdicts(code)}
    domains = [d for d in kbmodel.DOMAINS if not opts.domains or d in opts.domains]
    chapters: list[Chapter] = []
    data_rows: list[dict] = []
    ranked: list[tuple[tuple, SummaryItem, list]] = []
    shown: set[str] = set()  # the captions of the charts so far
    charted = _charted(verdicts)
    for domain in domains:
        anchor = _anchor(domain)
        blocks, national, less = [], [], []
        for trend_id, v in verdicts.items():
            t = ctx.kb.trends[trend_id]
            if t.domain != domain:
                continue
            if v.basis == "landelijk":
                national.append(t.title)
                continue
            if v.strength == "niet":
                less.append((t.title, v.disagreement or v.reason))
                continue
            if v.strength not in ("sterk", "enigszins"):
                continue
            f = v.finding if v.basis == "cijfers" else None
            # a chart for what plays strongly ('enigszins' is said in words, to keep the study readable),
            # and where few trends play strongly, for the best-supported of those that play somewhat
            figure = chart_maker(ctx, code, f, peers, opts) if chart_maker and f and trend_id in charted else None
            # where the gemeente stands among all 342: once per domain, for its first strong trend
            rank = (rank_figure(ctx, code, f, peers)
                    if chart_maker and f and v.strength == "sterk" and not any(b.rank for b in blocks) else None)
            # trends judged on the same indicator would show the same chart again: once is enough
            figure, rank = ((None if x is None or x.caption in shown else x) for x in (figure, rank))
            shown.update(x.caption for x in (figure, rank) if x)
            by_figures = v.basis == "cijfers"
            if f:  # what the sentences and the chart of the trend cite: its indicators over the years
                data_rows += [{"indicator_id": ind, "region_code": region, "period": p, "value": value}
                              for ind in f.indicators for region in [code, *(g for g, _ in peers)]
                              for p, value in ctx.data.series(ind, region) if _in_years(p, opts)]
            if rank:
                data_rows += rank.rows
            blocks.append(TrendBlock(trend_id, t.title, v.strength, t.summary, v.evidence,
                                     _opgaven_for(ctx, trend_id, (3 if v.strength == "sterk" else 2) if by_figures else 1),
                                     _sources_text(ctx, trend_id) if by_figures else [], figure, rank,
                                     v.counter, v.note, v.basis or "", v.reason, v.labels, v.disagreement))
            if not v.note:  # a verdict on old figures only is not among what matters most here
                key = (v.strength != "sterk", v.basis != "cijfers", -len(v.evidence), t.title)
                ranked.append((key, SummaryItem(t.title, domain, None, f"trend-{trend_id}", v.strength),
                               v.evidence or [v.reason]))
        blocks.sort(key=lambda b: (b.strength != "sterk", b.basis != "cijfers", b.title))
        table, rows = indicator_table(ctx, code, name, domain, peers, opts, [n.code for n in near])
        data_rows.extend(rows)
        intro = _domain_intro(name, blocks, national, less)
        if not blocks and table is None and not national:
            continue
        chapters.append(Chapter(anchor, domain[0].upper() + domain[1:], intro,
                                [b for b in blocks if b.basis == "cijfers"], table,
                                typed=[b for b in blocks if b.basis != "cijfers"],
                                national=sorted(national), less=sorted(less)))
    strong = _key_figures([(item, why) for _, item, why in sorted(ranked, key=lambda x: x[0])[:8]])
    strong_ids = {b.id for c in chapters for b in c.trends + c.typed if b.strength == "sterk"}
    applying = {b.id for c in chapters for b in c.trends + c.typed}
    chapters.append(samenhang_chapter(ctx, name, applying, strong_ids, for_print=not opts.screen))
    challenges = challenges_chapter(ctx, name, verdicts)
    if challenges:
        chapters.append(challenges)
    future = future_chapter(ctx, code, name, opts) if opts.future else None
    if future:
        chapters.append(future)
    from .verkenning import verkenning_chapter  # the foresight workbench's results, when there are any (issue 18)
    from .nieuw import news_section  # "Nieuw sinds de vorige editie" (issue 17)

    chapters += [c for c in [verkenning_chapter(ctx, code, name)] if c]
    urgent = _urgent_opgaven(ctx, strong_ids)
    title = opts.title or f"Trendstudie {name}"
    return Report(
        code=code, name=name, province=province_name, title=title,
        subtitle=f"Trends en opgaven voor {name}, vertaald uit vijf trendstudies met de cijfers van CBS",
        data_date=_data_date(ctx, code, data_rows), built_at=ctx.built_at,
        summary_trends=strong, summary_opgaven=urgent, chapters=chapters,
        sources=_used_sources(ctx, data_rows, future is not None),
        method=method_text(ctx) + ([f"Statistische buren van {name}: {', '.join(n.name for n in near)}. Dat zijn de "
                                 "gemeenten die het dichtst bij liggen op een gestandaardiseerd profiel van "
                                 "structuurkenmerken (zoals de 'similar areas' van het Britse ONS)."] if near else []),
        data_rows=_one_each(data_rows), peers=peers, neighbours=[n.name for n in near],
        map=locator_map(ctx, code, name, province, province_name),
        nieuw=news_section(ctx, code),
    )


# The appendix chapter's text, in the HTML (with links to the files) and the PDF alike.
APPENDIX_TEXT = ("De CBS-cijfers van dit rapport, met hun reeksen en rangschikkingen, staan ook in {files}, met "
                 "per cijfer het gebied, de periode, de status en de herkomst (CBS-tabel en maatstaf).")


MIN_CHARTS = 6  # a study shows at least this many trends in a chart, where so many play by the figures


def _charted(verdicts: dict) -> set[str]:
    """The trends that get a chart: every one that plays strongly by the figures, and where those are
    fewer than MIN_CHARTS, the ones that play somewhat with the most evidence, up to MIN_CHARTS."""
    by_figures = [v for v in verdicts.values() if v.basis == "cijfers" and v.finding is not None]
    strong = {v.trend for v in by_figures if v.strength == "sterk"}
    some = sorted((v for v in by_figures if v.strength == "enigszins" and not v.note),
                  key=lambda v: (-len(v.evidence), v.trend))
    return strong | {v.trend for v in some[:max(0, MIN_CHARTS - len(strong))]}


def _key_figures(items: list[tuple[SummaryItem, list]]) -> list[SummaryItem]:
    """Each summary item with the first of its evidence sentences that no item before it shows: two
    trends judged on the same figure would otherwise say the same sentence twice in the summary."""
    said: set[str] = set()
    for item, sentences in items:
        item.key_figure = next((s for s in sentences if s not in said), sentences[0])
        said.add(item.key_figure)
    return [item for item, _ in items]


def _used_sources(ctx: Context, data_rows: list[dict], future: bool) -> list[tuple[str, str]]:
    """The tables this report's figures come from (those of its indicators, a derived indicator's
    through its inputs, and the prognosis models' when it has a Toekomst chapter), not every table
    the database holds (the Leefbaarometer covers one gemeente)."""
    tables = {m.id: set(m.tables) for m in ctx.indicators}
    for d in ctx.rules.derived:
        tables[d.id] = set().union(*(tables.get(i, set()) for i in [d.aantal, *d.aandelen]))
    used = set().union(*(tables.get(r["indicator_id"], set()) for r in data_rows))
    if future:
        from ..forecast import source_tables

        used |= source_tables()
    return [(t, title) for t, title in ctx.sources if t in used] or list(ctx.sources)


def _one_each(rows: list[dict]) -> list[dict]:
    """The appendix's rows, each figure once, sorted by indicator id, region code and period."""
    unique = {(r["indicator_id"], r["region_code"], r["period"]): r for r in rows}
    return [unique[k] for k in sorted(unique)]


def _count(n: int, one: str, many: str) -> str:
    return f"{'geen' if n == 0 else 'één' if n == 1 else n} {one if n == 1 else many}"


def _domain_intro(name: str, blocks: list[TrendBlock], national: list[str], less: list) -> list[str]:
    """What plays here in this domain, on what basis, in a sentence or two."""
    by_figures = [b for b in blocks if b.basis == "cijfers"]
    by_type = [b for b in blocks if b.basis == "typering"]
    n_strong = sum(1 for b in blocks if b.strength == "sterk")
    intro = []
    if blocks:
        parts = []
        if by_figures:
            parts.append(f"{_count(len(by_figures), 'trend', 'trends')} volgens de cijfers van {name}")
        if by_type:
            parts.append(f"{_count(len(by_type), 'trend', 'trends')} omdat de trendstudies "
                         f"{'hem' if len(by_type) == 1 else 'ze'} beschrijven voor gemeenten zoals {name}")
        intro.append(f"In dit domein {'speelt' if len(blocks) == 1 else 'spelen'} in {name} " + " en ".join(parts)
                     + (f"; {'die speelt' if len(blocks) == 1 else 'waarvan'} {n_strong if len(blocks) > 1 else ''}"
                        f"{' ' if len(blocks) > 1 else ''}sterk." if n_strong else "."))
    if national:
        intro.append(f"{'Daarnaast raken' if intro else 'In dit domein raken'} "
                     f"{_count(len(national), 'landelijke trend', 'landelijke trends')} ook {name}; de trendstudies "
                     f"beschrijven {'hem' if len(national) == 1 else 'ze'} voor elke gemeente (zie het eind van dit hoofdstuk).")
    if less:
        intro.append(f"{_count(len(less), 'trend', 'trends').capitalize()} uit de studies {'speelt' if len(less) == 1 else 'spelen'} "
                     f"hier minder; waarom staat aan het eind van dit hoofdstuk.")
    return intro


def challenges_chapter(ctx: Context, name: str, verdicts: dict[str, Verdict]) -> Chapter | None:
    """The HCSS challenges and strategic considerations and the Derksen agenda points, as they
    bear on this gemeente: those whose driving forces and trends play here."""
    playing = {t for t, v in verdicts.items() if v.strength in ("sterk", "enigszins")}
    strong = {t for t, v in verdicts.items() if v.strength == "sterk"}
    paras = []
    rows = []
    for c in ctx.kb.challenges.values():
        here = [d for d in c.drivers if d in playing]
        if not here:
            continue
        answers = [k.title for k in ctx.kb.considerations.values() if c.id in k.answers]
        rows.append((-sum(d in strong for d in here), -len(here), c, here, answers))
    rows.sort(key=lambda r: r[:2])
    if rows:
        paras.append(f"HCSS beschrijft voor de politie (2024) tien veiligheidsuitdagingen voor steden, elk voortkomend "
                     f"uit drijvende krachten en trends. Bij {_count(len(rows), 'uitdaging', 'uitdagingen')} spelen "
                     f"die krachten ook in {name}:")
    for _, _, c, here, answers in rows:
        here = sorted(here, key=lambda d: (d not in strong, ctx.kb.trends[d].title))
        why = "; ".join(ctx.kb.trends[d].title.lower() + (" (sterk)" if d in strong else "") for d in here[:5])
        if len(here) > 5:
            why += f" en {_count(len(here) - 5, 'andere trend', 'andere trends')}"
        text = f"{c.title}. Hier spelen: {why}."
        if answers:
            text += " Daarop antwoordt: " + "; ".join(a for a in answers[:2]) + "."
        paras.append(text)
    points = []
    for a in ctx.kb.agenda_points.values():
        here = [x for x in a.answers if x in playing]
        if here:
            points.append((-len(here), a.title, [ctx.kb.trends[x].title.lower() for x in here]))
    points.sort()
    if points:
        paras.append(f"De commissie-Derksen gaf de VNG in 2014 agendapunten voor de steden. Deze antwoorden op trends "
                     f"die in {name} spelen:")
        for _, title, hits in points[:8]:
            paras.append(f"{title} (antwoordt op: {'; '.join(hits[:3])}).")
    if not paras:
        return None
    return Chapter("uitdagingen", "Uitdagingen, afwegingen en agendapunten", [], [], None, [], paras)


def _data_date(ctx: Context, code: str, data_rows: list[dict] | None = None) -> str:
    """The years of the figures: each indicator's newest, which differ (2015 for some, 2026 for others)."""
    years = {int(r["period"][:4]) for r in data_rows or [] if r["region_code"] == code}
    if not years:
        latest = ctx.data.latest("bevolking", code)
        return f"cijfers tot en met {formatting.period(latest[0])}" if latest else ""
    if len(years) == 1:
        return f"cijfers uit {min(years)}"
    return f"cijfers van {min(years)} tot en met {max(years)}, per indicator de nieuwste"


def _urgent_opgaven(ctx: Context, strong: set[str], limit: int = 6) -> list[tuple[str, str]]:
    """The opgaven that answer most of the strong trends, what the gemeente leads first."""
    scored = []
    for o in ctx.kb.opgaven.values():
        hits = [a for a in o.answers if a in strong]
        if hits and not o.period:
            local = bool(o.actors) and o.actors[0] in LOCAL_ACTORS
            who = ctx.kb.actors[o.actors[0]].label if o.actors else "onbekend"
            scored.append((not local, -len(hits), o.title, who,
                           [ctx.kb.trends[h].title for h in hits if h in ctx.kb.trends]))
    scored.sort()
    return [(title, f"trekker: {who}; antwoordt op: " + "; ".join(h.lower() for h in hits))
            for _, _, title, who, hits in scored[:limit]]


# the relations the samenhang chapter explains in words: with the diagram (the most important
# relations, legibly) a study stays within 40 pages (issue 15)
RELATIONS_LISTED = 8
SAMENHANG_CAPTION = "Verbanden tussen de trends die hier spelen (+ versterkt, − remt; gestippeld: remmend)"


def samenhang_chapter(ctx: Context, name: str, applying: set[str], strong: set[str], for_print: bool = True) -> Chapter:
    """How the trends that apply here drive each other: the causal subgraph, its loops, a diagram
    (laid out for print; without `for_print` only its boxes and arrows, which a screen lays out)."""
    from ..charts.diagram import PRINT_HEIGHT, PRINT_WIDTH, causal_diagrams

    by_pair: dict[tuple[str, str], list] = {}
    for e in ctx.kb.edges:
        if e.source in applying and e.target in applying and e.source != e.target:
            by_pair.setdefault((e.source, e.target), []).append(e)
    edges = [v[0] for v in by_pair.values()]
    loops = ctx.graph.cycles(max_length=4, within=applying)
    paragraphs = []
    if edges:
        paragraphs.append(f"De trends die in {name} spelen, staan niet los van elkaar: de trendstudies beschrijven "
                          f"{len(edges)} verbanden tussen de {len(applying)} trends die hier sterk of enigszins spelen. "
                          "De belangrijkste:")
    # the most important first: between strong trends, then from one
    ranked = sorted(edges, key=lambda e: (e.source not in strong, e.target not in strong, e.source, e.target))
    for e in ranked[:RELATIONS_LISTED]:
        word = "versterkt" if e.polarity == "+" else "remt"
        studies = sorted({c.year for x in by_pair[(e.source, e.target)] for c in x.citations})
        paragraphs.append(f"{ctx.kb.entry(e.source).title} {word} {ctx.kb.entry(e.target).title[0].lower()}"
                          f"{ctx.kb.entry(e.target).title[1:]}: {e.mechanism} "
                          f"(trendstudie{'s' if len(studies) > 1 else ''} {', '.join(map(str, studies))})")
    for c in loops[:6]:
        chain = " → ".join(ctx.kb.entry(e.source).title.lower() for e in c)
        paragraphs.append(f"Terugkoppeling ({Graph.loop_kind(c)}): {chain} → {ctx.kb.entry(c[0].source).title.lower()}.")
    if not edges:
        paragraphs.append(f"Tussen de trends die in {name} spelen, beschrijven de trendstudies geen directe verbanden.")
    figures = []
    shown = ranked[:24]
    titles = {i: ctx.kb.entry(i).title for i in applying}
    # laid out for an A4 column at full text size, on one page at most: where the whole does not
    # fit, per trend what it drives, the most important relations first, as many as fit
    parts = causal_diagrams(titles, shown, PRINT_WIDTH, PRINT_HEIGHT) if shown and for_print else []
    if parts:
        svg, alt, drawn = parts[0]
        more = "; per trend wat die versterkt of remt" if len(drawn) < len(shown) else ""
        more += f", {len(drawn)} van de {len(edges)} verbanden" if len(drawn) < len(edges) else ""
        figures.append(Figure(svg, alt, f"{SAMENHANG_CAPTION}{more}."))
    return Chapter("samenhang", "Samenhang", [], [], None, figures, paragraphs,
                   graph=(titles, shown) if shown else None)


def locator_map(ctx: Context, code: str, name: str, province: str | None, province_name: str | None) -> Figure | None:
    """The province's gemeenten with this one outlined (the whole country when the province is unknown)."""
    from ..charts import map_svg

    # one features mapping per province, kept, so that its projection is made once (charts._projected)
    by_province = ctx.__dict__.setdefault("_locator_features", {})
    if province not in by_province:
        members = [c for c, groups in ctx.member_of.items() if province in groups] if province else list(ctx.boundaries)
        by_province[province] = {c: ctx.boundaries[c] for c in members if c in ctx.boundaries}
    features = by_province[province]
    if code not in features:
        return None
    names = {c: ctx.regions[c][0] for c in features}
    from ..geo.shapes import BOUNDARY_SOURCE

    where = f"de provincie {province_name}" if province_name else "Nederland"  # 'Groningen in de provincie Groningen'
    chart = map_svg(features, code, None, f"{name} in {where}", names=names, width=360)
    if chart is None:
        return None
    return Figure(chart.svg, chart.alt, f"Ligging van {name} in {where}. {BOUNDARY_SOURCE}.")


def rank_figure(ctx: Context, code: str, finding, peers: list[tuple[str, str]]) -> Figure | None:
    """Where the gemeente stands among all gemeenten on the indicator the trend is judged on."""
    from ..charts import rank_strip

    # The first indicator a condition of the rule judges that compares between gemeenten (not a count of
    # inwoners): a ranking on an indicator the verdict does not weigh (this year's growth beside a
    # verdict on five years') would show what the verdict is not about.
    rule = rule_for(ctx.rules, ctx.data, finding.trend)
    judged = {c.indicator for c in rule.conditions()} if rule else set(finding.indicators)
    ind = next((i for i in finding.indicators if i in judged and i in ctx.data.meta
                and ctx.data.meta[i].unit not in COUNT_UNITS), None)
    if ind is None:
        return None
    meta = ctx.data.meta.get(ind)
    latest = ctx.data.latest(ind, code)
    if meta is None or latest is None:
        return None
    period = latest[0]
    memo = ctx.__dict__.setdefault("_gemeente_values", {})  # the same in every gemeente's report
    if (ind, period) not in memo:
        memo[(ind, period)] = {c: v for c in ctx.regions
                               if c.startswith("GM") and (v := ctx.data.value(ind, c, period)) is not None}
    values = memo[(ind, period)]
    if len(values) < 20:
        return None
    network = next((gid for gid, _ in peers if gid in ("G4", "G40", "M50")), None)
    peer_set = {c for c, groups in ctx.member_of.items() if network in groups} if network else None
    names = {c: ctx.regions[c][0] for c in values}
    chart, narrow = (rank_strip(f"{meta.title}, {formatting.period(period)}", meta.unit, values, code, names, peer_set,
                                decimals=meta.decimals, width=width) for width in (640, 320))
    if chart is None:
        return None
    article = "de" if network == "G4" else "het"  # het G40-stedennetwerk, het M50-netwerk
    label = f"; {article} {dict(peers)[network]} in een tweede tint" if network else ""
    return Figure(chart.svg, chart.alt, f"{meta.title} in alle {len(values)} gemeenten in {formatting.period(period)}, "
                                        f"met {ctx.regions[code][0]} gemarkeerd{label}.", narrow.svg if narrow else None,
                  [{"indicator_id": ind, "region_code": c, "period": period, "value": v} for c, v in values.items()])


def future_chapter(ctx: Context, code: str, name: str, opts: Options) -> Chapter | None:
    """Where the gemeente is heading: population with its band, scenarios, age and housing need."""
    from ..forecast import project
    from .scenario_fan import population_fan, population_lines, scenario_sentence

    rows = project(ctx.con, code, "basis", opts.until)
    by = {}
    for r in rows:
        by.setdefault(r.indicator_id, []).append(r)
    if "bevolking" not in by:
        return None
    runs = {"basis": rows}  # each scenario once: the sentence and the chart both ask for every one

    def rows_of(sid: str):
        if sid not in runs:
            runs[sid] = project(ctx.con, code, sid, opts.until)
        return runs[sid]

    _, scen = population_lines(rows_of)  # every scenario of forecast/scenarios.yaml
    history = [(int(p[:4]), v) for p, v in ctx.data.series("bevolking", code)]
    pop = sorted(by["bevolking"], key=lambda r: r.period)
    last = pop[-1]
    origin_year, origin_value = history[-1] if history else (None, None)
    paras = []
    if origin_value:
        change = (last.value / origin_value - 1) * 100
        paras.append(
            f"Als de geboorte-, sterfte- en verhuiskansen van de afgelopen jaren blijven gelden, telt {name} op "
            f"1 januari {last.period[:4]} naar verwachting {formatting.number(last.value, 0)} inwoners "
            f"({'+' if change >= 0 else ''}{formatting.number(change, 1)}% ten opzichte van {origin_year}). "
            f"De marge van {formatting.number(last.lower, 0)} tot {formatting.number(last.upper, 0)} volgt uit de fouten "
            "die hetzelfde model maakte wanneer het vanuit eerdere jaren voor alle 342 gemeenten werd doorgerekend.")
    if scen:
        parts = [f"'{k.lower()}' {formatting.number(v[-1][1], 0)}" for k, v in scen.items()]
        paras.append(f"In de scenario's loopt dat uiteen: {', '.join(parts)} inwoners in {last.period[:4]}. "
                     + scenario_sentence())
    for ind, text in (("aandeel_65_plus", "het aandeel inwoners van 65 jaar en ouder"),
                      ("aandeel_80_plus", "het aandeel inwoners van 80 jaar en ouder")):
        series = sorted(by.get(ind, []), key=lambda r: r.period)
        now = ctx.data.latest(ind, code)
        if series and now:
            paras.append(f"In de leeftijdsprognose stijgt {text} van {formatting.number(now[1], 1)}% in "
                         f"{formatting.period(now[0])} naar {formatting.number(series[-1].value, 1)}% in "
                         f"{series[-1].period[:4]}." if series[-1].value > now[1] else
                         f"In de leeftijdsprognose daalt {text} van {formatting.number(now[1], 1)}% in "
                         f"{formatting.period(now[0])} naar {formatting.number(series[-1].value, 1)}% in "
                         f"{series[-1].period[:4]}.")
    need = sorted(by.get("woningtekort", []), key=lambda r: r.period)
    hh = sorted(by.get("huishoudens", []), key=lambda r: r.period)
    if need and hh:
        end = need[-1]
        word = "tekort" if end.value > 0 else "overschot"
        paras.append(f"Het aantal huishoudens groeit naar verwachting tot {formatting.number(hh[-1].value, 0)} in "
                     f"{hh[-1].period[:4]}. Zet de woningbouw van de afgelopen jaren zich voort, dan is er in "
                     f"{end.period[:4]} een {word} van ongeveer {formatting.number(abs(end.value), 0)} woningen "
                     "(de woningbehoefte, huishoudens plus 2% frictieleegstand, min de woningvoorraad).")
    paras.append("Deze prognoses maakt trendstudie zelf, niet PBL of CBS: een cohort-componentenmodel per gemeente, "
                 "getoetst op het verleden.")
    figures = []
    chart = population_fan("Inwoners", history, rows_of)
    narrow = population_fan("Inwoners", history, rows_of, width=320, height=300) if chart else None
    if chart:
        figures.append(Figure(chart.svg, chart.alt, f"Inwoners van {name}: waargenomen, prognose (basis) met marge, "
                                                     "en scenario's. Bron: CBS 03759ned en 37259; prognose trendstudie.",
                              narrow.svg if narrow else None))
    from ..forecast.others import toekomst_part  # issue 19: imported prognoses beside ours

    others, table = toekomst_part(ctx.con, code, name, rows, opts.until)
    return Chapter("toekomst", "Toekomst", [], [], Table(**table) if table else None, figures, paras + others)


def method_text(ctx: Context | None = None) -> list[str]:
    rules = ctx.rules if ctx else load_rules()
    old = ctx.data.newest_year - rules.settings.oude_cijfers_jaren if ctx else None
    derived = [f"{d.titel.lower()} ({d.uitleg})" for d in rules.derived]
    return [
        "Alle cijfers komen uit open data van CBS StatLine (en de politie via CBS), ingelezen uit de tabellen die "
        "hieronder staan. Elk cijfer staat op de gemeentelijke indeling van nu: reeksen van gemeenten die zijn "
        "samengevoegd of van grens veranderden, zijn omgerekend met de aantallen inwoners en woningen die CBS bij "
        "elke herindeling publiceert. Groepswaarden (G4, G40, M50, provincie, "
        "grootteklasse) zijn berekend uit de opgetelde tellers en noemers van de leden. Nederland is het cijfer "
        "dat CBS voor Nederland publiceert; voor de politiecijfers, die geen landelijke rij hebben, is dat de som "
        "van alle gemeenten plus de misdrijven die niet aan een gemeente zijn toe te delen.",
        "Of een trend hier speelt, volgt uit regels die per trend vastleggen welke indicatoren ertoe doen en wanneer "
        "de trend sterk of enigszins speelt (hoger dan Nederland, stijgend over een periode, sneller dan Nederland). "
        + " ".join(s for s in (
            "Elke regel staat op de trendpagina van het dashboard. Bij elke trend staan de "
            "cijfers die ervoor spreken (de "
            "voorwaarden die gelden) en, apart, de cijfers die ertegen spreken (de voorwaarden die niet gelden), elk "
            "met het jaar waar het cijfer over gaat. Niet elke indicator is even actueel; voor sommige zijn er geen "
            "recente cijfers.",
            f"Een oordeel dat alleen rust op cijfers van vóór {old} is hooguit 'speelt enigszins', en dat staat er "
            "dan bij." if old else "",
            "Zelf berekend: " + "; ".join(derived) + "." if derived else "") if s),
        "Elk cijfer is te herleiden: de databijlage (CSV en XLSX) noemt per waarde de indicator, het gebied, de "
        "periode, de status (voorlopig of definitief), of de waarde is omgerekend naar de indeling van nu "
        "(geharmoniseerd), en de CBS-tabellen en maatstaven waaruit hij is berekend.",
        "De beschrijvingen van trends en opgaven zijn samenvattingen in eigen woorden van vijf trendstudies "
        "(2013–2024), met bronvermelding per passage.",
    ]
