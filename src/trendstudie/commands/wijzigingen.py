"""`trendstudie wijzigingen [GEMEENTE] [--sinds EDITIE] [--format tekst|json|csv]`: what the
latest edition (or every edition after EDITIE) changed, for one gemeente or for all; `--edities`
(or `trendstudie edities`) lists the editions. The history itself is kept by editions.py."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .. import editions, formatting, jsonout, tables
from ..config import settings
from ..errors import TrendstudieError

out = Console(highlight=False, markup=False, soft_wrap=True)

FORMATS = ("tekst", "json", "csv")


def _when(iso: str) -> str:
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{formatting.day(moment.date())} {moment:%H:%M} UTC"


def _format(fmt: str) -> str:
    fmt = "tekst" if fmt == "text" else fmt
    if fmt not in FORMATS:
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies tekst, json of csv.")
    return fmt


def edition_json(e: editions.Edition) -> dict:
    return {"editie": e.nummer, "gebouwd": e.gebouwd, "vastgelegd": e.vastgelegd, "vorige": e.vorige,
            "wijzigingen": e.wijzigingen, "opmerking": e.opmerking,
            "bronnen": [s.model_dump() for s in e.bronnen], "vingerafdrukken": e.vingerafdrukken}


def wijzigingen(
    gemeente: Optional[str] = typer.Argument(None, help="Gemeentecode of -naam (zonder: alle gemeenten)."),
    sinds: Optional[int] = typer.Option(None, "--sinds", help="Alle wijzigingen van de edities na deze editie "
                                        "(standaard: alleen wat de nieuwste editie veranderde)."),
    fmt: str = typer.Option("tekst", "--format", help="tekst, json of csv."),
    lijst: bool = typer.Option(False, "--edities", help="Toon de edities in plaats van de wijzigingen."),
    home: Optional[Path] = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME)."),
) -> None:
    """Wat er veranderde sinds de vorige editie: cijfers, nieuwe perioden, oordelen en prognoses."""
    fmt = _format(fmt)
    s = settings(home=home)
    if lijst:
        _editions(s.home, fmt)
        return
    history = editions.history(s.home)
    if not history:
        raise TrendstudieError(f"Er zijn nog geen edities in {editions.folder(s.home)}: bouw eerst de database "
                               "(trendstudie build); elke build legt een editie vast.")
    if sinds is not None:
        if sinds < 0:
            raise TrendstudieError(f"--sinds {sinds}: een editie heeft een nummer van 1 of hoger.")
        if sinds:
            editions.require_edition(s.home, sinds)
    code = None
    names: dict[str, str] = {}
    if gemeente is not None or fmt == "tekst":
        from ..reader import Reader

        reader = Reader(s.database)
        try:
            if gemeente is not None:
                code = reader.resolve(gemeente, kinds=("GM",))
            names = {c: r.name for c, r in reader.regions.items()}
        finally:
            reader.close()
    rows = editions.changes(s.home, code, sinds)
    chosen = [e for e in history if (e.nummer > sinds if sinds is not None else e is history[-1])]
    if fmt == "json":
        doc = {"gemeente": code, "sinds": sinds if sinds is not None else history[-1].vorige,
               "edities": [e.nummer for e in chosen], "wijzigingen": [c.as_json() for c in rows]}
        sys.stdout.write(jsonout.dumps(doc, indent=1) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(tables.to_csv(editions.COLUMNS, tables.rows_of([c.as_json() for c in rows], editions.COLUMNS)))
        return
    where = f" voor {names.get(code, code)} ({code})" if code else ""
    for e in chosen:
        mine = [c for c in rows if c.editie == e.nummer]
        head = f"Editie {e.nummer} ({_when(e.gebouwd)})"
        if e.vorige is None and not e.opmerking:
            out.print(f"{head}: de eerste editie; er is nog niets om mee te vergelijken.")
            continue
        out.print(f"{head}: {_count(len(mine))}{where} sinds editie {e.vorige}." if e.vorige
                  else f"{head}: {_count(len(mine))}{where}.")
        if e.opmerking:
            out.print(f"  {e.opmerking}")
        for c in mine:
            who = "" if code else f"{names.get(c.region_code, c.region_code)} ({c.region_code}) · "
            out.print(f"  {who}{c.soort}: {c.label}")


def _count(n: int) -> str:
    return "geen wijzigingen" if n == 0 else "één wijziging" if n == 1 else f"{n} wijzigingen"


def _editions(home: Path, fmt: str) -> None:
    history = editions.history(home)
    if fmt == "json":
        sys.stdout.write(jsonout.dumps({"edities": [edition_json(e) for e in history]}, indent=1) + "\n")
        return
    if fmt == "csv":
        sys.stdout.write(tables.to_csv(
            ["editie", "gebouwd", "vorige", *editions.KINDS, "bronnen"],
            [[e.nummer, e.gebouwd, e.vorige, *[e.wijzigingen.get(k, 0) for k in editions.KINDS],
              "; ".join(f"{s.tabel} {s.gewijzigd or ''}".strip() for s in e.bronnen)] for e in history]))
        return
    if not history:
        out.print(f"Er zijn nog geen edities in {editions.folder(home)}: elke build legt er een vast.")
        return
    for e in history:
        counts = ", ".join(f"{e.wijzigingen.get(k, 0)} {k}" for k in editions.KINDS if e.wijzigingen.get(k))
        dated = sorted({s.tabel for s in e.bronnen if s.gewijzigd})
        out.print(f"Editie {e.nummer}: {_when(e.gebouwd)} — {len({s.tabel for s in e.bronnen})} tabellen"
                  + (f" ({len(dated)} met een wijzigingsdatum van CBS)" if dated else "")
                  + (f"; {counts}" if counts else "; geen wijzigingen" if e.vorige else "; eerste editie"))
        if e.opmerking:
            out.print(f"  {e.opmerking}")


def edities(
    fmt: str = typer.Option("tekst", "--format", help="tekst, json of csv."),
    home: Optional[Path] = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME)."),
) -> None:
    """De edities: elke build met zijn datum, bronnen en het aantal wijzigingen."""
    _editions(settings(home=home).home, _format(fmt))


def after_build(home: Path, database: Path) -> str:
    """The line `trendstudie build` ends with: the edition it recorded, or why there is none."""
    import duckdb

    history = editions.history(home)
    try:
        con = duckdb.connect(str(database), read_only=True)
        try:
            built_at = con.execute("SELECT value FROM build_info WHERE key = 'built_at'").fetchone()[0]
        finally:
            con.close()
    except (duckdb.Error, TypeError):
        return ""
    if not history:
        return ""
    last = history[-1]
    if last.gebouwd != built_at:
        return f"Geen nieuwe editie: de inhoud is gelijk aan die van editie {last.nummer}."
    if last.vorige is None:
        return f"Editie {last.nummer} vastgelegd (de eerste; `trendstudie edities`)."
    return (f"Editie {last.nummer} vastgelegd: {_count(last.total)} sinds editie {last.vorige}"
            + (" (zie `trendstudie wijzigingen`)." if last.total else "."))
