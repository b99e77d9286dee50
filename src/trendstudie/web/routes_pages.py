"""The Dutch pages: home and search, gemeente, vergelijken, indicator, trend, samenhang and
downloads. Server-rendered, no JavaScript needed; pages are cached per URL (the store does not
change while the app runs)."""

from __future__ import annotations

import re
import threading
from pathlib import Path as FsPath
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from .. import formatting, tables
from ..knowledge.model import DOMAINS, SEEDS, lines_text
from ..knowledge.localise import rule_for, rule_in_words
from ..report.content import BASIS_LABEL, STRENGTH_LABEL, Options, build_report
from . import charts, export, prognose, ranking
from .routes_api import GM, GROUP, INDICATOR, KB_ID, PERIOD

router = APIRouter(include_in_schema=False)

NAME_OR_CODE = r"^[^<>\"`;{}\\\x00-\x1f]{1,100}$"
MAX_COMPARE = 6


def _d(request: Request):
    return request.app.state.data


def _render(request: Request, template: str, **ctx) -> str:
    nav = request.url.path.strip("/").split("/")[0] or "home"
    return request.app.state.env.get_template(template).render(request=request, nav=nav,
                                                                strength_label=STRENGTH_LABEL, basis_label=BASIS_LABEL, **ctx)


def cached_page(request: Request, build) -> Response:
    """Render the page; the response cache in app.Headers keeps it for the next request."""
    return Response(build().encode("utf-8"), media_type="text/html; charset=utf-8")


ChartFormat = Annotated[Literal["svg", "png"], Path(description="svg of png")]


def _gemeente_or_404(d, code: str):
    if code not in d.gemeenten:
        if code in d.successor:
            new = d.gemeenten[d.successor[code]]
            raise HTTPException(404, f"{code} ({d.regions[code][1]}) is geen gemeente meer; zij is opgegaan in "
                                     f"{new.name} ({new.code}), zie /gemeente/{new.code}.")
        if code in d.regions and d.regions[code].kind == "GM":
            r = d.reader.resolution(code)
            if r.split and r.successors:  # split over several: name them all, with their pages
                raise HTTPException(404, f"{code} ({d.regions[code][1]}) is geen gemeente meer. " + r.message + " Zie " + ", ".join(
                    f"/gemeente/{s.code}" for s in r.successors if s.code in d.gemeenten) + ".")
        if code in d.regions:
            raise HTTPException(404, f"{code} ({d.regions[code][1]}) is geen huidige gemeente.")
        raise HTTPException(404, f"Er is geen gemeente met code {code}.")
    return d.gemeenten[code]


def _indicator_or_404(d, indicator: str):
    if indicator not in d.indicators:
        raise HTTPException(404, f"Er is geen indicator {indicator!r}. Zie de lijst van indicatoren.")
    m = d.indicators[indicator]
    if not d.periods.get(indicator):
        raise HTTPException(404, f"Voor de indicator '{m.title}' staan geen gegevens in deze database "
                                 f"({m.missing or 'niet in de bundel'}).")
    return m


def _period_for(d, indicator: str, periode: str | None) -> str:
    periods = d.periods[indicator]
    if periode is None:
        return periods[-1]
    if periode not in periods:
        raise HTTPException(404, f"Voor deze indicator zijn er geen gegevens over {formatting.period(periode)}; "
                                 f"beschikbaar: {formatting.period(periods[0])} tot en met {formatting.period(periods[-1])}.")
    return periode


# --- home and search ------------------------------------------------------------------------

@router.get("/")
def home(request: Request):
    d = _d(request)

    def build():
        by_province: dict[str, list] = {}
        for g in d.sorted_gemeenten:
            by_province.setdefault(g.province_name or "Onbekend", []).append(g)
        strong = sorted(((sum(1 for s in v.values() if s == "sterk"), t) for t, v in d.strength.items()), reverse=True)[:8]
        return _render(request, "home.html", by_province=sorted(by_province.items()),
                       top_trends=[(d.kb.trends[t], n) for n, t in strong])
    return cached_page(request, build)


@router.get("/zoek")
def search(request: Request, q: Annotated[str, Query(max_length=100)] = ""):
    d = _d(request)
    results = d.search(q) if q.strip() else []
    exact = d.exact(q) if q.strip() else None
    if exact:
        return RedirectResponse(f"/gemeente/{exact}", status_code=303)
    # not kept in the page cache: every text typed would be a new entry, and a search is cheap
    return Response(_render(request, "zoek.html", q=q, results=results), media_type="text/html; charset=utf-8",
                    status_code=200, headers={"cache-control": "no-store"})


# --- gemeente -------------------------------------------------------------------------------

@router.get("/gemeente/{code}")
def gemeente(request: Request, code: Annotated[str, Path(max_length=100)]):
    d = _d(request)
    if not re.fullmatch(GM, code):
        # A name typed into the address bar (/gemeente/vaals): to the gemeente, or to the search.
        if not re.fullmatch(NAME_OR_CODE, code):
            raise HTTPException(422, f"Ongeldige gemeentenaam of -code: {code[:100]!r}.")
        exact = d.exact(code)
        if exact:
            return RedirectResponse(f"/gemeente/{exact}", status_code=303)
        return RedirectResponse(f"/zoek?{urlencode({'q': code})}", status_code=303)
    g = _gemeente_or_404(d, code)

    def build():
        peers = d.peers(code)
        report = build_report(d.ctx, code, Options(screen=True),
                              lambda ctx, c, f, p, o: charts.trend_figure(d, c, f, p))
        chapters = {c.anchor: c for c in report.chapters}
        _toekomst_fan(request, code, chapters.get("toekomst"))
        charts.samenhang_for_screens(chapters.get("samenhang"))
        profile = d.profile(code)
        domains = []
        for domain in DOMAINS:
            anchor = "".join(ch if ch.isalnum() else "-" for ch in domain.lower()).strip("-")
            ch = chapters.get(anchor)
            rows = profile.get(domain, [])
            if not rows and not ch:
                continue
            domains.append({"anchor": anchor, "title": domain[:1].upper() + domain[1:], "rows": rows,
                            "chapter": ch})
        pop = d.data.latest("bevolking", code)
        analysis = d.analysis(code)
        words: dict[str, list] = {}
        if analysis:
            for dp in analysis.domains:
                words[dp.domain] = [(f"{ip.title}: {ip.value_text} in {formatting.period(ip.latest.period)}",
                                     _in_words(ip)) for ip in dp.indicators]
            for dom in domains:
                dom["words"] = words.get(dom["title"].lower(), [])
        return _render(request, "gemeente.html", g=g, peers=peers, report=report, domains=domains, analysis=analysis,
                       toekomst=chapters.get("toekomst"), locator=getattr(report, "map", None),
                       samenhang=chapters.get("samenhang"), uitdagingen=chapters.get("uitdagingen"), pop=pop,
                       groups=[(gid, d.group_titles[gid]) for gid in sorted(d.ctx.member_of.get(code, set()))])
    return cached_page(request, build)


def _toekomst_fan(request: Request, code: str, chapter) -> None:
    """The Toekomst chapter's fan on the page: the prognose page's chart (every scenario, the basis
    with its band) in place of the report's drawing, laid out again for phones."""
    if chapter is None or not chapter.figures:
        return
    chart = prognose.fan_chart(request.app.state.forecasts, code, "basis", Options().until)
    if chart is not None:
        fig = chapter.figures[0]
        fig.svg, fig.alt = chart.svg, chart.alt
        fig.narrow = chart.narrow


def _rank_in(d, indicator: str, code: str, latest: tuple[str, float], members: set[str]) -> tuple[int, int] | None:
    """The position of a gemeente among the members of a group (itself included) in the period of
    its latest value: (1 = highest, of how many)."""
    period, value = latest
    values = [v for c in members | {code} if (v := d.data.value(indicator, c, period)) is not None]
    if len(values) < 2:
        return None
    return sum(1 for v in values if v > value) + 1, len(values)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _in_words(ip) -> str:
    """An indicator of the analysis profile as sentences: the first peer group (with rank),
    Nederland, the change over five years and the statistical neighbours."""
    out = []
    first = ip.comparisons[0] if ip.comparisons else None
    if first and first.phrase:
        out.append(_cap(first.phrase) + (f"; {first.rank_phrase}" if first.rank_phrase else "") + ".")
    for c in ip.comparisons[1:]:
        if c.comparison.group.group_id == "NL01" and c.phrase:
            out.append(_cap(c.phrase) + ".")
    if ip.change_phrase:
        out.append(_cap(ip.change_phrase) + ".")
    if ip.neighbours and ip.neighbours.phrase:
        out.append(_cap(ip.neighbours.phrase) + ".")
    return " ".join(out)


def _report_dir(d) -> FsPath:
    return d.database.parent / "cache" / "web-rapporten" / d.etag.strip('"')


_report_locks: dict[str, threading.Lock] = {}
_report_locks_guard = threading.Lock()


def _report_lock(code: str) -> threading.Lock:
    with _report_locks_guard:
        return _report_locks.setdefault(code, threading.Lock())


def report_key(d, code: str) -> str:
    """The report's fingerprint, the same as `trendstudie rapport` uses to skip unchanged reports:
    it changes with the build, the program and the gemeente's verkenning (new or changed answers,
    items, rounds, challenges), so the web re-renders the report on the next request after that."""
    from ..report.content import Options
    from ..report.write import inputs_key

    return inputs_key(d.ctx, code, Options(), pdf=False)


def _report_files(d, code: str, pdf: bool, key: str | None = None) -> dict[str, FsPath]:
    """Write the report of a gemeente into the cache dir (once per fingerprint, see report_key);
    return its files by kind."""
    from ..report.content import Options
    from ..report.write import slug, write_one

    key = key or report_key(d, code)
    outdir = _report_dir(d) / code / key
    base = outdir / f"{code}-{slug(d.gemeenten[code].name)}"
    files = {"html": base.with_suffix(".html"), "csv": base.with_name(base.name + "-data.csv"),
             "xlsx": base.with_name(base.name + "-data.xlsx"), "pdf": base.with_suffix(".pdf")}
    needed = ["html", "csv", "xlsx"] + (["pdf"] if pdf else [])
    if all(files[k].exists() for k in needed):
        return files
    from ..report.charts_for_report import make_chart

    with _report_lock(code):  # one writer per gemeente; other gemeenten are written meanwhile
        if not all(files[k].exists() for k in needed):
            write_one(d.ctx, code, outdir, Options(), pdf=pdf, chart_maker=make_chart)
            _remove_old_reports(outdir)
    return files


def _remove_old_reports(keep: FsPath, age: float = 600.0) -> None:
    """Delete this gemeente's reports of earlier fingerprints (left alone for ten minutes, in case
    another worker is still sending one)."""
    import shutil
    import time

    for sub in keep.parent.iterdir():
        try:
            if sub != keep and sub.is_dir() and time.time() - sub.stat().st_mtime > age:
                shutil.rmtree(sub, ignore_errors=True)
        except OSError:
            pass


@router.get("/gemeente/{code}/rapport.{kind}")
def report_file(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)],
                kind: Annotated[Literal["html", "pdf"], Path()]):
    """The gemeente's report. Not in the page cache: its ETag is the report's fingerprint, so a
    browser asks again each time and gets the new report as soon as a verkenning's answers change."""
    d = _d(request)
    g = _gemeente_or_404(d, code)
    key = report_key(d, code)
    headers = {"etag": f'"{key}-{kind}"', "cache-control": "no-cache"}
    if headers["etag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    files = _report_files(d, code, pdf=kind == "pdf", key=key)
    path = files[kind]
    if kind == "html":
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=headers)
    return FileResponse(path, media_type="application/pdf", filename=f"Trendstudie {g.name}.pdf", headers=headers)


@router.get("/gemeente/{code}/data.{kind}")
def gemeente_data(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)],
                  kind: Annotated[Literal["csv", "xlsx", "json"], Path()]):
    """Every indicator value of this gemeente (all years), with status and provenance."""
    d = _d(request)
    g = _gemeente_or_404(d, code)
    rows = d.reader.indicator_rows(code)
    return _table_download(rows, ["indicator_id", "region_code", "period", "value", "status", "provenance",
                                  "harmonised"], kind, f"{code}-{g.name}")


Scenario = Annotated[Literal[prognose.SCENARIO_IDS], Query(description="basis, hoog, laag, metropolisering, "
                                                                      "spreiding of de-urbanisatie")]
Until = Annotated[int, Query(ge=1900, le=prognose.MAX_UNTIL, description="eindjaar (1 januari)")]


@router.get("/gemeente/{code}/prognose")
def prognose_page(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)],
                  scenario: Scenario = "basis", tot: Until = prognose.DEFAULT_UNTIL):
    """Where the gemeente is heading under a chosen scenario, to a chosen year."""
    d = _d(request)
    g = _gemeente_or_404(d, code)
    f = request.app.state.forecasts
    prognose.check_until(f, tot)

    from ..forecast.others import other_prognoses

    def build():
        rows = f.rows(code, scenario, tot)
        origin = f.origin()
        years = prognose.table_years(origin, tot)
        return _render(request, "prognose.html", g=g, scenario=scenario, tot=tot, origin=origin, years=years,
                       scenarios=prognose.SCENARIOS, max_until=prognose.MAX_UNTIL,
                       summary=prognose.summary(f, code, scenario, rows, tot),
                       chart=prognose.fan_chart(f, code, scenario, tot),
                       housing=prognose.table(f, code, scenario, rows, prognose.HOUSING, years),
                       ages=prognose.table(f, code, scenario, rows, prognose.AGES, years),
                       comparison=prognose.comparison(f, code, tot),
                       others=other_prognoses(d.reader.con, code, tot, f.rows(code, "basis", tot)),
                       method=prognose.method_text(f, code, scenario, rows, tot),
                       query=f"scenario={scenario}&tot={tot}")
    return cached_page(request, build)


@router.get("/gemeente/{code}/prognose.{kind}")
def prognose_download(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)],
                      kind: Annotated[Literal["csv", "xlsx", "json"], Path()],
                      scenario: Scenario = "basis", tot: Until = prognose.DEFAULT_UNTIL):
    """The projection in the columns of `trendstudie prognose` (JSON also with method and origin)."""
    d = _d(request)
    g = _gemeente_or_404(d, code)
    f = request.app.state.forecasts
    prognose.check_until(f, tot)
    rows, columns = prognose.download(f.rows(code, scenario, tot), kind)
    return _table_download(rows, columns, kind, f"prognose-{code}-{g.name}-{scenario}-{tot}")


@router.get("/svg/prognose/{code}.{ext}")
def svg_prognose(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)], ext: ChartFormat,
                 scenario: Scenario = "basis", tot: Until = prognose.DEFAULT_UNTIL):
    d = _d(request)
    _gemeente_or_404(d, code)
    f = request.app.state.forecasts
    prognose.check_until(f, tot)
    label = export.prognose_label(d, code, prognose.SCENARIOS[scenario].titel, f.origin(), tot)
    return export.chart_file(prognose.fan_chart(f, code, scenario, tot), label, f"prognose-{code}-{scenario}-{tot}", ext)


def _table_download(rows: list[tuple], columns: list[str], kind: str, name: str) -> Response:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "data"
    return Response(tables.write(kind, columns, rows), media_type=tables.MEDIA_TYPES[kind],
                    headers={"content-disposition": f'attachment; filename="{safe}.{kind}"'})


# --- vergelijken ----------------------------------------------------------------------------

@router.get("/vergelijk")
def compare(request: Request,
            gemeente: Annotated[list[str] | None, Query(max_length=12)] = None,
            groep: Annotated[str | None, Query(max_length=40)] = None,
            indicator: Annotated[str | None, Query(max_length=60)] = None,
            sorteer: ranking.Sorteer = None, richting: ranking.Richting = None):
    d = _d(request)
    sort = ranking.parse_sort(sorteer, richting)  # the order of the group's members
    errors: list[str] = []
    notices: list[str] = []  # a former gemeente shown as the one it went into
    codes: list[str] = []
    inputs: list[str] = []  # the form as the user filled it: a text that found nothing stays to be corrected
    for text in [t for t in (gemeente or []) if t.strip()]:
        if not re.fullmatch(NAME_OR_CODE, text):
            raise HTTPException(422, f"Ongeldige gemeentenaam of -code: {text[:100]!r}.")
        exact = d.exact(text)
        found = [d.gemeenten[exact]] if exact else d.search(text)
        if len(found) == 1:
            if found[0].code not in codes:
                codes.append(found[0].code)
                inputs.append(found[0].name)
            if exact:
                history = d.reader.resolution(text).history  # the herindeling, as the API's /regions/{code} gives it
                if history:
                    notices.append(f"{history} Getoond: {found[0].name}.")
            continue
        inputs.append(text.strip())
        if found:
            errors.append(f"'{text}' is niet eenduidig; bedoelt u {', '.join(g.name for g in found[:5])}?")
        else:
            errors.append(f"Geen gemeente gevonden voor '{text}'.")
    if len(codes) > MAX_COMPARE:
        errors.append(f"Hoogstens {MAX_COMPARE} gemeenten tegelijk; de eerste {MAX_COMPARE} staan hieronder.")
        codes = codes[:MAX_COMPARE]
    if groep:
        if not re.fullmatch(GROUP, groep):
            raise HTTPException(422, f"Ongeldige groep {groep[:40]!r}: verwacht een groep als G40, M50, PV23 of GK5.")
        if groep not in d.group_titles:
            raise HTTPException(404, f"Er is geen groep {groep!r}.")
    if indicator:
        if not re.fullmatch(INDICATOR, indicator):
            raise HTTPException(422, f"Ongeldige indicator {indicator[:60]!r}.")
        _indicator_or_404(d, indicator)

    def build():
        columns = codes + ([groep] if groep else [])
        members_of = set(d.group_members.get(groep, [])) if groep else set()
        rows_by_domain = []
        if columns:
            for domain in DOMAINS:
                rows = []
                for m in d.indicators.values():
                    if m.domain != domain or not d.periods.get(m.id):
                        continue
                    cells = []
                    for c in columns:
                        if c == groep:
                            # the group in the latest period of the first gemeente, else its own latest
                            ref = d.data.latest(m.id, codes[0]) if codes else None
                            v = d.data.value(m.id, c, ref[0]) if ref else None
                            cells.append((ref[0], v) if v is not None else d.data.latest(m.id, c))
                        else:
                            latest = d.data.latest(m.id, c)
                            cells.append(latest + (_rank_in(d, m.id, c, latest, members_of),)
                                         if latest and groep else latest)
                    if any(cells):
                        rows.append((m, cells))
                if rows:
                    rows_by_domain.append((domain[:1].upper() + domain[1:], rows))
        chosen = indicator or "bevolkingsgroei"
        bar = ts = members = None
        member_sorts = []
        if columns and chosen in d.indicators and d.periods.get(chosen):
            period = d.data.latest(chosen, codes[0])[0] if codes and d.data.latest(chosen, codes[0]) else d.periods[chosen][-1]
            bar = charts.compare_bars(d, chosen, period, columns, set(codes))
            ts = charts.series(d, chosen, codes, (groep,) if groep else ("NL01",))
            if groep and codes:
                ranked = sorted(((c, v) for c in d.group_members.get(groep, [])
                                 if (v := d.data.value(chosen, c, period)) is not None),
                                key=lambda cv: (-cv[1], d.name(cv[0])))
                order = [c for _, c, _ in ranking.ordered(ranked, {c: d.name(c) for c, _ in ranked}, sort)]
                members = charts.compare_bars(d, chosen, period, order, set(codes))
                keep = [(k, v) for k, v in request.query_params.multi_items() if k not in ("sorteer", "richting")]
                member_sorts = [(s_, s_.describe(), ranking.sort_link(request.url.path, keep, s_, "leden"))
                                for s_ in (ranking.Sort("waarde", "af"), ranking.Sort("waarde", "op"),
                                           ranking.Sort("naam", "op"), ranking.Sort("naam", "af"))]
        own_groups = []
        if len(codes) == 1:  # one gemeente: offer the groups it belongs to (and Nederland)
            mine = d.ctx.member_of.get(codes[0], set())
            order = {"netwerk": 0, "provincie": 1, "grootteklasse": 2}
            own_groups = sorted((gid for gid in mine if gid in d.group_titles and gid != groep),
                                key=lambda gid: (order.get(d.group_kinds.get(gid), 3), gid))
            if groep != "NL01" and "NL01" in d.group_titles and "NL01" not in own_groups:
                own_groups.append("NL01")
        return _render(request, "vergelijk.html", codes=codes, groep=groep, columns=columns, errors=errors,
                       own_groups=own_groups,
                       rows_by_domain=rows_by_domain, chosen=chosen, bar=bar, ts=ts, members=members,
                       sort=sort, member_sorts=member_sorts,
                       notices=notices, inputs=inputs + [""] * (MAX_COMPARE - len(inputs)))
    if errors:  # names that found nothing: not kept in the page cache (any text would be a new entry)
        return Response(build(), media_type="text/html; charset=utf-8", headers={"cache-control": "no-store"})
    return cached_page(request, build)


# --- indicators -----------------------------------------------------------------------------

@router.get("/indicatoren")
def indicator_list(request: Request):
    d = _d(request)

    def build():
        by_domain = [(dom[:1].upper() + dom[1:], [m for m in d.indicators.values() if m.domain == dom]) for dom in DOMAINS]
        return _render(request, "indicatoren.html", by_domain=[x for x in by_domain if x[1]])
    return cached_page(request, build)


@router.get("/indicator/{indicator_id}")
def indicator_page(request: Request, indicator_id: Annotated[str, Path(pattern=INDICATOR, max_length=60)],
                   periode: Annotated[str | None, Query(pattern=PERIOD, max_length=8)] = None,
                   gemeente: Annotated[str | None, Query(pattern=GM, max_length=6)] = None,
                   sorteer: ranking.Sorteer = None, richting: ranking.Richting = None):
    d = _d(request)
    m = _indicator_or_404(d, indicator_id)
    period = _period_for(d, indicator_id, periode)
    if gemeente:
        _gemeente_or_404(d, gemeente)
    sort = ranking.parse_sort(sorteer, richting)
    keep = [("periode", periode), ("gemeente", gemeente)]
    if sort.is_default and (sorteer or richting):  # the default order has one URL: the page without them
        return RedirectResponse(ranking.sort_link(request.url.path, keep, sort), status_code=301)

    def build():
        ranked = d.ranking(indicator_id, period)
        groups = [(gid, d.group_label(gid), d.data.value(indicator_id, gid, period)) for gid in charts.SERIES_GROUPS]
        names = {c: g.name for c, g in d.gemeenten.items()}
        sort_links = {col: ranking.sort_link(request.url.path, keep, sort.next_for(col), "h-rang")
                      for col in ranking.SORT_KEYS}
        return _render(request, "indicator.html", m=m, period=period, periods=d.periods[indicator_id], gemeente=gemeente,
                       ranking=ranked, rows=ranking.ordered(ranked, names, sort), sort=sort, sort_links=sort_links,
                       groups=groups,
                       map=charts.indicator_map(d, indicator_id, period, gemeente),
                       dist=charts.distribution(d, indicator_id, period, gemeente),
                       strip=charts.rank_strip(d, indicator_id, period, gemeente) if gemeente else None,
                       position=next((i + 1 for i, (c, _) in enumerate(ranked) if c == gemeente), None),
                       ts=charts.series(d, indicator_id, [gemeente] if gemeente else []),
                       tables=[(t, d.tables.get(t)) for t in m.tables])
    return cached_page(request, build)


# --- knowledge base -------------------------------------------------------------------------

@router.get("/trends")
def trend_list(request: Request):
    d = _d(request)

    def build():
        by_domain = []
        for dom in DOMAINS:
            items = [(t, d.trend_counts(t.id) if t.id in d.strength else None, d.basis_counts(t.id))
                     for t in sorted(d.kb.trends.values(), key=lambda t: t.title) if t.domain == dom]
            if items:
                by_domain.append((dom[:1].upper() + dom[1:], items))
        return _render(request, "trends.html", by_domain=by_domain)
    return cached_page(request, build)


def _entry_or_404(d, entry_id: str):
    try:
        return d.kb.entry(entry_id)
    except KeyError:
        close = [k for k in list(d.kb.trends) + list(d.kb.opgaven) if entry_id in k][:8]
        raise HTTPException(404, f"Er is geen trend of opgave {entry_id!r} in de kennisbank."
                                 + (f" Bedoelt u: {', '.join(close)}?" if close else "")) from None


def _citations(d, entry_id: str) -> list[dict]:
    out = []
    for c in sorted(d.kb.citations_of(entry_id), key=lambda c: (c.year or 0, c.seed, c.lines)):
        out.append({"study": SEEDS[c.seed][1], "section": c.section, "lines": lines_text(c.lines), "year": c.year})
    return out


@router.get("/trend/{trend_id}")
def trend_page(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80)]):
    d = _d(request)
    entry = _entry_or_404(d, trend_id)

    def build():
        strengths = d.strength.get(trend_id)
        strong = sorted((d.gemeenten[c] for c, s in (strengths or {}).items() if s == "sterk"), key=lambda g: g.name)
        answers = [o for o in d.kb.opgaven.values() if trend_id in o.answers]
        answers_to = [d.kb.entry(a) for a in getattr(entry, "answers", []) if a]
        rule = rule_for(d.reader.rules, d.reader.data, trend_id) if strengths else None
        return _render(request, "trend.html", e=entry, id=trend_id, citations=_citations(d, trend_id),
                       rule=rule, rule_steps=rule_in_words(rule, d.reader.data) if rule else [],
                       causes=d.graph.causes(trend_id), effects=d.graph.effects(trend_id), opgaven=answers,
                       answers_to=answers_to, counts=d.trend_counts(trend_id) if strengths else None,
                       bases=d.basis_counts(trend_id) if strengths else None,
                       map=charts.strength_map(d, trend_id), strong=strong,
                       is_trend=trend_id in d.kb.trends, chain=_chain(d, trend_id))
    return cached_page(request, build)


def _chain(d, trend_id: str):
    """The item's place in the studies' chains, without the opgaven the page already lists."""
    from ..knowledge.chain import place

    return [s for s in place(d.kb, trend_id) if s.label not in ("Opgaven die erop antwoorden", "Antwoordt op")]


def _samenhang(d, trend_id: str, depth: int):
    from ..knowledge.graph import Graph
    from ..charts import bowtie

    causes, effects = d.graph.causes(trend_id, depth), d.graph.effects(trend_id, depth)
    nodes = {trend_id} | {s.edge.source for s in causes} | {s.edge.target for s in effects}
    titles = {n: d.kb.entry(n).title for n in nodes}
    # the drawing shows at most two steps each way (more does not fit a screen); the lists show all
    diagram = bowtie(trend_id, titles, causes, effects, min(depth, 2),
                     href=lambda n: f"/samenhang/{n}?diepte={depth}")
    loops = [c for c in d.graph.cycles(max_length=4, within=nodes) if any(trend_id in (e.source, e.target) for e in c)]
    steps = sorted(causes, key=lambda s: s.depth), sorted(effects, key=lambda s: s.depth)
    return steps, diagram, loops[:12], Graph.loop_kind


@router.get("/samenhang/{trend_id}")
def samenhang(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80)],
              diepte: Annotated[int, Query(ge=1, le=4)] = 2):
    d = _d(request)
    entry = _entry_or_404(d, trend_id)

    def build():
        (causes, effects), diagram, loops, loop_kind = _samenhang(d, trend_id, diepte)
        return _render(request, "samenhang.html", e=entry, id=trend_id, diepte=diepte, causes=causes, effects=effects,
                       diagram=diagram, loops=loops, loop_kind=loop_kind)
    return cached_page(request, build)


# --- downloads ------------------------------------------------------------------------------

@router.get("/downloads")
def downloads(request: Request):
    from ..eigen import imports_in_store

    d = _d(request)

    def build():
        return _render(request, "downloads.html", groups=sorted(d.group_titles.items()), imports=imports_in_store(d.reader.con),
                       indicators=[m for m in d.indicators.values() if d.periods.get(m.id)])
    return cached_page(request, build)


@router.get("/download/indicatoren")
def download_form(request: Request, formaat: Annotated[Literal["csv", "xlsx", "json"], Query()] = "csv",
                  gemeente: Annotated[list[str] | None, Query(max_length=MAX_COMPARE)] = None,
                  groep: Annotated[str | None, Query(max_length=40)] = None,
                  indicator: Annotated[str | None, Query(max_length=60)] = None):
    """The download form's target (a GET form cannot choose a path): on to the file in that format
    (the form's fields are declared here, so that they count as known parameters of this page)."""
    from urllib.parse import urlencode

    rest = [(k, v) for k, v in request.query_params.multi_items() if k != "formaat" and v.strip()]
    return RedirectResponse(f"/download/indicatoren.{formaat}" + (f"?{urlencode(rest)}" if rest else ""),
                            status_code=303)


@router.get("/download/indicatoren.{kind}")
def download_indicators(request: Request, kind: Annotated[Literal["csv", "xlsx", "json"], Path()],
                        gemeente: Annotated[list[str] | None, Query(max_length=MAX_COMPARE)] = None,
                        groep: Annotated[str | None, Query(max_length=40)] = None,
                        indicator: Annotated[str | None, Query(max_length=60)] = None):
    """Indicator values in the CLI's export columns, for gemeenten, a group, or all gemeenten."""
    d = _d(request)
    codes = []
    for text in [t for t in (gemeente or []) if t.strip()]:
        if not re.fullmatch(NAME_OR_CODE, text):
            raise HTTPException(422, f"Ongeldige gemeentenaam of -code: {text[:100]!r}.")
        exact = d.exact(text)
        if not exact:
            raise HTTPException(404, f"Geen gemeente gevonden die precies {text!r} heet; gebruik de code of de "
                                     "naam zoals op de pagina van de gemeente.")
        codes.append(exact)
    if groep:
        if not re.fullmatch(GROUP, groep) or groep not in d.group_titles:
            raise HTTPException(404, f"Er is geen groep {groep[:40]!r}.")
    inds = []
    if indicator:
        if not re.fullmatch(INDICATOR, indicator) or indicator not in d.indicators:
            raise HTTPException(404, f"Er is geen indicator {indicator[:60]!r}.")
        inds = [indicator]
    rows = d.reader.indicator_table(codes, groep or None, inds)
    columns = ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    name = "-".join(x for x in ["indicatoren", *codes, groep or "", indicator or ""] if x)
    return _table_download([tuple(r[c] for c in columns) for r in rows], columns, kind, name)


@router.get("/svg/kaart/{indicator_id}.{ext}")
def svg_map(request: Request, indicator_id: Annotated[str, Path(pattern=INDICATOR, max_length=60)], ext: ChartFormat,
            periode: Annotated[str | None, Query(pattern=PERIOD, max_length=8)] = None,
            gemeente: Annotated[str | None, Query(pattern=GM, max_length=6)] = None):
    d = _d(request)
    _indicator_or_404(d, indicator_id)
    period = _period_for(d, indicator_id, periode)
    highlight = gemeente if gemeente in d.gemeenten else None
    return export.chart_file(charts.indicator_map(d, indicator_id, period, highlight),
                             export.map_label(d, indicator_id, period, highlight), f"kaart-{indicator_id}-{period}", ext)


@router.get("/svg/verdeling/{indicator_id}.{ext}")
def svg_distribution(request: Request, indicator_id: Annotated[str, Path(pattern=INDICATOR, max_length=60)],
                     ext: ChartFormat,
                     periode: Annotated[str | None, Query(pattern=PERIOD, max_length=8)] = None,
                     gemeente: Annotated[str | None, Query(pattern=GM, max_length=6)] = None):
    d = _d(request)
    _indicator_or_404(d, indicator_id)
    period = _period_for(d, indicator_id, periode)
    highlight = gemeente if gemeente in d.gemeenten else None
    return export.chart_file(charts.distribution(d, indicator_id, period, highlight),
                             export.distribution_label(d, indicator_id, period, highlight),
                             f"verdeling-{indicator_id}-{period}", ext)


@router.get("/svg/reeks/{indicator_id}.{ext}")
def svg_series(request: Request, indicator_id: Annotated[str, Path(pattern=INDICATOR, max_length=60)], ext: ChartFormat,
               gemeente: Annotated[list[str] | None, Query(max_length=MAX_COMPARE)] = None,
               groep: Annotated[str | None, Query(pattern=GROUP, max_length=40)] = None):
    d = _d(request)
    _indicator_or_404(d, indicator_id)
    codes = []
    for c in gemeente or []:
        if not re.fullmatch(GM, c):
            raise HTTPException(422, f"Ongeldige gemeentecode {c[:20]!r}: verwacht een code als GM0193.")
        _gemeente_or_404(d, c)
        codes.append(c)
    if groep and groep not in d.group_titles:
        raise HTTPException(404, f"Er is geen groep {groep!r}.")
    groups = (groep,) if groep else charts.SERIES_GROUPS
    chart = charts.series(d, indicator_id, codes, groups)
    return export.chart_file(chart, export.series_label(d, indicator_id, chart), f"reeks-{indicator_id}", ext)


@router.get("/svg/trend/{trend_id}.{ext}")
def svg_trend_map(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80)], ext: ChartFormat):
    d = _d(request)
    _entry_or_404(d, trend_id)
    if trend_id not in d.kb.trends:
        raise HTTPException(404, f"'{trend_id}' is een opgave, geen trend: er is geen kaart van waar zij speelt.")
    return export.chart_file(charts.strength_map(d, trend_id), export.strength_label(d, trend_id), f"trend-{trend_id}", ext)


@router.get("/svg/samenhang/{trend_id}.{ext}")
def svg_samenhang(request: Request, trend_id: Annotated[str, Path(pattern=KB_ID, max_length=80)], ext: ChartFormat,
                  diepte: Annotated[int, Query(ge=1, le=4)] = 2):
    d = _d(request)
    _entry_or_404(d, trend_id)
    _, diagram, _, _ = _samenhang(d, trend_id, diepte)
    return export.chart_file(diagram, export.samenhang_label(d, trend_id, diepte), f"samenhang-{trend_id}", ext)


@router.get("/api")
def api_page(request: Request):
    def build():
        return _render(request, "api.html", example=next(iter(_d(request).sorted_gemeenten)).code)
    return cached_page(request, build)


@router.get("/over")
def about(request: Request):
    from ..report.content import method_text

    def build():
        return _render(request, "over.html", method=method_text(), sources=sorted(_d(request).tables.items()))
    return cached_page(request, build)


ROBOTS = """User-agent: *
Disallow: /zoek
Disallow: /vergelijk
Disallow: /download/
Disallow: /svg/
Disallow: /api/
Disallow: /gemeente/*/prognose
Disallow: /gemeente/*/rapport.pdf
Disallow: /gemeente/*/data.
Disallow: /indicator/*?
"""


@router.get("/robots.txt")
def robots() -> Response:
    """Crawlers may read every page once (home, gemeenten, indicatoren, trends, samenhang), not
    the endless combinations of searches, comparisons, charts, downloads and API queries."""
    return Response(ROBOTS, media_type="text/plain; charset=utf-8")


# Last: this route matches any file name under a gemeente, so every named page above wins.
@router.get("/gemeente/{code}/{filename}")
def report_attachment(request: Request, code: Annotated[str, Path(pattern=GM, max_length=6)],
                      filename: Annotated[str, Path(max_length=120)]):
    """The report's own data files (`GM0193-zwolle-data.csv`, `.xlsx`), which the served report
    links to beside itself, as it does when written to a folder."""
    d = _d(request)
    _gemeente_or_404(d, code)
    files = _report_files(d, code, pdf=False)
    for kind, media in (("csv", "text/csv; charset=utf-8"),
                        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")):
        if filename == files[kind].name:
            return FileResponse(files[kind], media_type=media, filename=filename)
    raise HTTPException(404, f"Geen pagina of bestand {filename[:60]!r} bij deze gemeente.")
