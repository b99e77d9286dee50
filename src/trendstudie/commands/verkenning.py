"""`trendstudie verkenning …`: run a foresight survey (Delphi) for a gemeente from the command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .. import jsonout, tables
from ..config import settings
from ..errors import TrendstudieError

app = typer.Typer(help="Verkenning: een Delphi-enquête over de trends van een gemeente, met eigen mensen.",
                  no_args_is_help=True)
err = Console(stderr=True)
out = Console()

HomeOpt = typer.Option(None, "--home", help="Map met de database (standaard $TRENDSTUDIE_HOME of ~/.trendstudie).")
UrlOpt = typer.Option("http://127.0.0.1:8000", "--url", help="Adres van de website, voor de links.")


def _db(home: Optional[Path]):
    from ..verkenning.db import open_database

    return open_database(home=settings(home=home).home)


@app.command()
def nieuw(gemeente: str = typer.Argument(..., help="Gemeente (naam of code) of groep (G40, M50)."),
          titel: str = typer.Option("", "--titel", help="Titel van de verkenning."),
          wachtwoord: bool = typer.Option(False, "--wachtwoord", help="Vraag om een wachtwoord voor de facilitator."),
          url: str = UrlOpt, home: Optional[Path] = HomeOpt) -> None:
    """Maak een verkenning, gevuld met de trends die in de gemeente spelen."""
    from .. import store
    from ..verkenning.service import create
    from ..verkenning.setup import items_for, resolve

    s = settings(home=home)
    con = store.connect(s.database)
    code, name = resolve(con, gemeente)
    items = items_for(con, code, name)
    password = typer.prompt("Wachtwoord (minstens 8 tekens)", hide_input=True, confirmation_prompt=True) \
        if wachtwoord else None
    made = create(_db(home), code, name, titel, items, password)
    out.print(f"Verkenning {made.id} voor {name} gemaakt met {made.items} items.", highlight=False)
    out.print(f"Facilitator-link (bewaar hem goed, hij wordt maar één keer getoond):\n"
              f"{url.rstrip('/')}/verkenning/beheer/{made.facilitator_token}", highlight=False, soft_wrap=True)
    out.print(f"Nodig deelnemers uit met: trendstudie verkenning uitnodigen {made.id} --aantal 25", highlight=False)


@app.command()
def uitnodigen(id: int = typer.Argument(..., help="Nummer van de verkenning."),
               aantal: int = typer.Option(..., "--aantal", help="Aantal persoonlijke links."),
               fmt: str = typer.Option("csv", "--format", help="csv of json."),
               url: str = UrlOpt, home: Optional[Path] = HomeOpt) -> None:
    """Maak persoonlijke deelnamelinks (voor een mail merge)."""
    from ..verkenning.service import invite

    if fmt not in ("csv", "json"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies csv of json.")
    tokens = invite(_db(home), id, aantal)
    links = [f"{url.rstrip('/')}/deelname/{t}" for t in tokens]
    text = tables.write(fmt, ["nummer", "link"], [(i + 1, link) for i, link in enumerate(links)])
    sys.stdout.write(text if fmt == "csv" else text + "\n")


@app.command()
def ronde(id: int = typer.Argument(..., help="Nummer van de verkenning."),
          sluiten: bool = typer.Option(False, "--sluiten", help="Sluit de lopende ronde."),
          open_: bool = typer.Option(False, "--open", help="Open de volgende ronde."),
          home: Optional[Path] = HomeOpt) -> None:
    """Sluit de lopende ronde of open de volgende."""
    from ..verkenning.service import set_round

    if sluiten == open_:
        raise TrendstudieError("Geef precies één van --sluiten en --open.")
    number, is_open = set_round(_db(home), id, "sluiten" if sluiten else "openen")
    out.print(f"Ronde {number} is nu {'open' if is_open else 'gesloten'}.")


@app.command()
def resultaten(id: int = typer.Argument(..., help="Nummer van de verkenning."),
               fmt: str = typer.Option("json", "--format", help="json (de uitkomsten), csv of xlsx (alle antwoorden)."),
               uitvoer: Optional[Path] = typer.Option(None, "--uitvoer", help="Bestand (verplicht voor xlsx)."),
               home: Optional[Path] = HomeOpt) -> None:
    """De uitkomsten: respons, mediaan, IQR, consensus, verschuiving, scenariokader; of alle antwoorden."""
    from .. import store
    from ..forecast import project
    from ..knowledge.graph import Graph
    from ..knowledge.model import load
    from ..verkenning.results import answers_csv, answers_xlsx, outcome
    from ..verkenning.service import by_id

    if fmt not in ("json", "csv", "xlsx"):
        raise TrendstudieError(f"Onbekend formaat {fmt!r}: kies json, csv of xlsx.")
    if fmt == "xlsx" and uitvoer is None:
        raise TrendstudieError("Geef met --uitvoer een bestand voor xlsx.")
    s = settings(home=home)
    kb = load()
    db = _db(home)
    con = store.connect(s.database) if fmt == "json" and s.database.exists() else None
    with db.read() as sess:
        v = by_id(sess, id)
        rows = (lambda scen: project(con, v.gemeente, scen, 2040)) if con is not None else None
        o = outcome(sess, v, kb, Graph(kb), rows)
    if fmt == "json":
        text = jsonout.dumps(o.as_json(), indent=1) + "\n"
    elif fmt == "csv":
        text = answers_csv(o)
    else:
        uitvoer.write_bytes(answers_xlsx(o))
        err.print(f"Geschreven: {uitvoer}")
        return
    if uitvoer:
        uitvoer.write_text(text, encoding="utf-8")
        err.print(f"Geschreven: {uitvoer}")
    else:
        sys.stdout.write(text)


@app.command()
def verwijderen(id: int = typer.Argument(..., help="Nummer van de verkenning."),
                ja: bool = typer.Option(False, "--ja", help="Niet om bevestiging vragen."),
                home: Optional[Path] = HomeOpt) -> None:
    """Verwijder de verkenning met alle items, deelnemers en antwoorden (AVG)."""
    from ..verkenning.service import remove

    if not ja and not typer.confirm(f"Verkenning {id} met alle antwoorden definitief verwijderen?"):
        raise TrendstudieError("Niets verwijderd.")
    remove(_db(home), id)
    out.print(f"Verkenning {id} en alle antwoorden zijn verwijderd.")


@app.command()
def lijst(home: Optional[Path] = HomeOpt) -> None:
    """Alle verkenningen in de database."""
    from ..verkenning.service import listing

    rows = listing(_db(home))
    if not rows:
        out.print("Er zijn nog geen verkenningen. Maak er een met: trendstudie verkenning nieuw GEMEENTE --titel …")
        return
    for r in rows:
        out.print(f"{r['id']:>4}  {r['gemeente_naam']} ({r['gemeente']}) — {r['titel']} — ronde {r['ronde']} "
                  f"{'open' if r['open'] else 'gesloten'}, {r['deelnemers']} deelnemers", highlight=False)
