"""`trendstudie importeer`: an analyst's own StatLine, Excel or prognosis file into the study.

The file is read completely (sources/eigen.py) and checked against the region registry before
anything is written; then it is kept in TRENDSTUDIE_HOME/imports (eigen.py) and the database is
rebuilt, so that `facts --table eigen:NAAM`, own indicators, profiel, export, report and web show
it. `--controle` only reports what would be imported. See docs/importeren.md.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .. import formatting, store
from ..config import Settings, settings
from ..errors import TrendstudieError

err = Console(stderr=True, highlight=False, markup=False, soft_wrap=True)

SHAPES = {
    "statline-codes": "StatLine-download met codes (RegioS, Perioden, onderwerpsleutels)",
    "statline-labels": "StatLine-download met namen en eenheden",
    "lang": "lange tabel (gemeente, periode, waarde)",
    "breed": "tabel met de jaren als kolommen",
}


def importeer(
    bestand: Optional[Path] = typer.Argument(None, help="CSV- of Excel-bestand (.csv, .xlsx)."),
    naam: Optional[str] = typer.Option(None, "--naam", help="Naam van de import (standaard de bestandsnaam); "
                                       "de tabel heet dan eigen:NAAM."),
    soort: Optional[str] = typer.Option(None, "--soort", help="aantal, aandeel, gemiddelde of verhouding, voor "
                                        "maatstaven waarvan de kop geen eenheid noemt."),
    blad: Optional[str] = typer.Option(None, "--blad", help="Het blad van een Excel-bestand (standaard het eerste)."),
    prognose: Optional[str] = typer.Option(None, "--prognose", help="bevolking of huishoudens: het bestand is een "
                                           "prognose per gemeente per jaar, te tonen naast die van trendstudie."),
    controle: bool = typer.Option(False, "--controle", help="Alleen laten zien wat geïmporteerd zou worden."),
    lijst: bool = typer.Option(False, "--lijst", help="Toon de imports."),
    verwijder: Optional[str] = typer.Option(None, "--verwijder", help="Verwijder de import met deze naam."),
    bundle: Optional[Path] = typer.Option(None, "--bundle", help="Databundel voor het opnieuw bouwen "
                                          "(standaard die van de vorige build)."),
    groepen: Optional[Path] = typer.Option(None, "--groepen", help="Eigen groepen voor het opnieuw bouwen."),
    niet_bouwen: bool = typer.Option(False, "--niet-bouwen", help="Alleen bewaren; de volgende trendstudie build "
                                     "neemt de import mee (handig bij meerdere bestanden)."),
    home: Optional[Path] = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME)."),
) -> None:
    """Importeer een eigen bestand (StatLine-CSV, Excel, lange tabel of prognose) als eigen bron."""
    from .. import eigen  # with pyarrow: only when an import is made or listed
    from ..sources import eigen as reader

    s = settings(home=home, bundle=bundle)
    if lijst:
        _list(s)
        return
    if verwijder:
        meta = eigen.remove(s.home, verwijder)
        err.print(f"Import {meta.naam} ({meta.bestand}) verwijderd.")
        if not niet_bouwen:
            _rebuild(s, groepen)
        return
    if bestand is None:
        raise TrendstudieError("Geef een bestand om te importeren, of --lijst of --verwijder NAAM.")
    name = reader.check_name(naam or reader.name_from_file(bestand))
    registry, con = _registry(s)
    parsed = reader.read_file(bestand, registry, naam=name, soort=soort, sheet=blad)
    eigen.check_prognosis(parsed, prognose)
    meta = eigen.meta_for(parsed, bestand, prognose, blad)
    facts, warnings = _harmonised(parsed, registry, con)
    if con is not None:
        con.close()
    _report(parsed, meta, facts, warnings, registry)
    if controle:
        err.print("Niets bewaard (--controle).")
        return
    existed = {m.naam for m in eigen.listing(s.home)}
    backup = _backup(s.home, name) if name in existed else None
    path = eigen.save(s.home, parsed, meta)
    err.print(f"Bewaard als {path} ({'vervangt de vorige versie' if backup else 'nieuw'}).")
    if niet_bouwen:
        err.print("De volgende trendstudie build neemt de import mee.")
        return
    try:
        _rebuild(s, groepen)
    except BaseException:
        _restore(s.home, name, backup)
        err.print("De import is teruggedraaid; de database is ongewijzigd.")
        raise


def _registry(s: Settings):
    """The region registry the database was built with (or the bundle's), and the database."""
    from ..build import _registry_source
    from ..geo.regions import RegionRegistry

    con = None
    source = None
    if s.database.exists():
        con = store.connect(s.database)
        row = con.execute("SELECT value FROM build_info WHERE key = 'regions_source'").fetchone()
        if row and Path(row[0]).exists():
            source = Path(row[0])
    if source is None:
        bundle = s.bundle or _stored_bundle(con)
        if bundle is None:
            raise TrendstudieError("Er is nog geen database en geen databundel: bouw eerst met "
                                   "trendstudie build --bundle <map>, of geef --bundle.")
        source = _registry_source(s, bundle)
    return RegionRegistry.from_regioscodes(source), con


def _stored_bundle(con) -> Path | None:
    if con is None:
        return None
    row = con.execute("SELECT value FROM build_info WHERE key = 'bundle'").fetchone()
    return Path(row[0]) if row and row[0] and Path(row[0]).is_dir() else None


def _harmonised(parsed, registry, con):
    """The import harmonised as the next build would: with the database's inhabitants and
    dwellings for boundary changes (without a database, only what the file itself gives)."""
    from .. import eigen
    from ..harmonise import SIZE_SOURCES, harmonise
    from ..sources.records import Observation

    sizes = []
    if con is not None:
        for sources in SIZE_SOURCES.values():
            for table, measure, dims in sources:
                sizes += [Observation(table, measure, r, p, v, None, dims, None, src) for r, p, v, src in con.execute(
                    "SELECT region_code, period, value, source FROM observations WHERE table_id = ? AND measure = ? "
                    "AND dims = ? AND region_code LIKE 'GM%' AND value IS NOT NULL", [table, measure, dims]).fetchall()]
    own = parsed.imported
    facts, warnings = harmonise(sizes + own.observations, own.tables, registry)
    tid = parsed.table.table_id
    facts = [f for f in facts if f.table_id == tid]
    facts = eigen.complete_facts(facts, own.observations, own.tables, registry)
    return facts, [w for w in warnings if w.startswith(tid)]


def _report(parsed, meta, facts, warnings, registry) -> None:
    obs = parsed.imported.observations
    err.print(f"{meta.bestand}: {SHAPES.get(parsed.shape, parsed.shape)}; tabel {parsed.table.table_id} "
              f"({parsed.title}).")
    err.print("Maatstaven:")
    for mid, m in meta.maatstaven.items():
        unit = f", {m['eenheid']}" if m["eenheid"] and m["eenheid"] != m["soort"] else ""
        err.print(f"  {mid}: {m['titel']} ({m['soort']}{unit})")
    if meta.prognose:
        err.print(f"Prognose van de {meta.prognose}: te zien naast die van trendstudie (prognosepagina, Toekomst).")
    kinds = Counter(o.region_code[:2] for o in {o.region_code: o for o in obs}.values())
    gm = sorted({o.region_code for o in obs if o.region_code.startswith("GM")})
    former = [c for c in gm if registry.regions[c].valid_to is not None]
    parts = [f"{kinds['GM']} gemeenten"] + [f"{n} {label}" for k, label in (("PV", "provincies"), ("NL", "x Nederland"),
                                                                               ("LD", "landsdelen"), ("CR", "COROP-gebieden"))
                                             if (n := kinds.get(k))]
    err.print("Regio's: " + ", ".join(parts).replace("1 x Nederland", "Nederland") + ".")
    if former:
        names = {code: name for name, code in parsed.names.items()}
        shown = [f"{names.get(c, registry.regions[c].name)} ({c})" for c in former[:8]]
        err.print(f"  waarvan {len(former)} voormalige gemeenten, omgerekend naar de huidige: {', '.join(shown)}"
                  + (" …" if len(former) > 8 else ""))
    aliases = sorted(n for n, c in parsed.names.items() if n.upper() != c and registry.regions[c].name != n)
    if aliases:
        err.print("  herkend: " + "; ".join(f"{n} = {registry.regions[parsed.names[n]].name} ({parsed.names[n]})"
                                           for n in aliases[:8]) + (" …" if len(aliases) > 8 else ""))
    periods = sorted({o.period for o in obs})
    provisional = sorted({o.period for o in obs if o.status in ("Voorlopig", "NaderVoorlopig")})
    err.print(f"Perioden: {formatting.period(periods[0])} tot en met {formatting.period(periods[-1])}"
              + (f" (voorlopig: {', '.join(formatting.period(p) for p in provisional)})" if provisional else "") + ".")
    missing = Counter(o.reason for o in obs if o.value is None)
    err.print(f"Waarden: {meta.waarden}" + (" (ontbrekend: " + ", ".join(f"{n} {r}" for r, n in missing.most_common())
                                            + ")" if missing else "") + ".")
    own = [f for f in facts if f.region_code.startswith("GM") and not f.measure.endswith((".teller", ".noemer"))]
    methods = Counter(f.method for f in own)
    words = {"ongewijzigd": "ongewijzigd", "samengeteld": "samengeteld uit voorgangers", "benaderd": "benaderd",
             "herberekend": "herberekend uit teller en noemer", "zoals gepubliceerd": "op de indeling van toen",
             "ontbreekt": "ontbreekt"}
    err.print("Op de huidige gemeentelijke indeling: " + ", ".join(
        f"{methods[k]} {w}" for k, w in words.items() if methods.get(k)) + ".")
    for w in [*meta.waarschuwingen, *warnings]:
        err.print(f"Let op: {w}")


def _list(s: Settings) -> None:
    from .. import eigen

    metas = eigen.listing(s.home)
    if not metas:
        err.print(f"Geen imports in {eigen.imports_dir(s.home)}.")
        return
    for m in metas:
        span = "–".join(dict.fromkeys(p[:4] for p in m.perioden))
        extra = f", prognose {m.prognose}" if m.prognose else ""
        print(f"{m.naam}\t{m.table_id}\t{m.titel}\t{m.bestand}\t{span}\t{m.waarden} waarden{extra}\t"
              f"{', '.join(m.maatstaven)}")


def _rebuild(s: Settings, groepen: Path | None) -> None:
    from ..build import build

    bundle = s.bundle
    if bundle is None and s.database.exists():
        con = store.connect(s.database)
        try:
            bundle = _stored_bundle(con)
        finally:
            con.close()
    if bundle is None:
        err.print("Geen databundel bekend: bouw de database opnieuw met trendstudie build --bundle <map> om de "
                  "wijziging te gebruiken.")
        return
    err.print("De database wordt opnieuw gebouwd …")
    result = build(Settings(home=s.home, bundle=bundle, cbs_url=s.cbs_url), user_groups=groepen)
    err.print(f"Database gebouwd in {result.seconds:.0f} s: {result.database}.")


def _backup(home: Path, name: str) -> dict[str, bytes]:
    from .. import eigen

    folder = eigen.imports_dir(home)
    return {suffix: (folder / f"{name}{suffix}").read_bytes() for suffix in (".parquet", ".json")
            if (folder / f"{name}{suffix}").exists()}


def _restore(home: Path, name: str, backup: dict[str, bytes] | None) -> None:
    from .. import eigen

    folder = eigen.imports_dir(home)
    for suffix in (".json", ".parquet"):
        path = folder / f"{name}{suffix}"
        if backup and suffix in backup:
            path.write_bytes(backup[suffix])
        else:
            path.unlink(missing_ok=True)
