"""The chapter "Verkenning" of a gemeente's trend study: the results of its latest verkenning
that has answers (see trendstudie.verkenning), or nothing when there is none.

Where the answers live follows the verkenning's own rule (TRENDSTUDIE_DATABASE_URL, else
verkenning.sqlite beside the store); a report never creates that database.
"""

from __future__ import annotations

from pathlib import Path

from .content import Chapter, Context, Figure, Table


def _home(ctx: Context) -> Path | None:
    try:
        row = ctx.con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    except Exception:  # noqa: BLE001 - an in-memory or odd store: no verkenning beside it
        return None
    return Path(row[0]).parent if row and row[0] else None


def _database(ctx: Context):
    import os

    from ..verkenning.db import ENV_URL, SQLITE_NAME, open_database

    if os.environ.get(ENV_URL):
        return open_database()
    home = _home(ctx)
    if home is None or not (home / SQLITE_NAME).exists():
        return None
    return open_database(home=home)


def _num(x: float | None) -> str:
    if x is None:
        return "–"
    return (f"{x:.1f}" if x != int(x) else str(int(x))).replace(".", ",")


def verkenning_chapter(ctx: Context, code: str, name: str) -> Chapter | None:
    """The chapter for the newest verkenning of `code` with answers, or None."""
    from sqlalchemy import select

    from ..forecast import project
    from ..verkenning.models import Verkenning
    from ..verkenning.results import PROJECTION_YEAR, outcome

    db = _database(ctx)
    if db is None:
        return None
    with db.read() as s:
        for v in s.scalars(select(Verkenning).where(Verkenning.gemeente == code).order_by(Verkenning.id.desc())):
            o = outcome(s, v, ctx.kb, ctx.graph, lambda scen: project(ctx.con, code, scen, PROJECTION_YEAR))
            if o.has_results:
                break
        else:
            return None
    last = o.results.latest_round
    resp = o.results.rounds[last - 1]
    intro = [f"In de verkenning „{o.titel}” wogen {resp.responded} van de {resp.invited} uitgenodigde deelnemers "
             f"de trends die in {name} spelen, in {last} {'ronde' if last == 1 else 'rondes'} (Delphi-methode, zoals "
             "HCSS die gebruikt: drijvende krachten, scenario's, een enquête onder kenners, een basisscenario en "
             "uitdagingen). Per trend gaven zij de impact (1–5), de onzekerheid (1–5), de horizon en de relevantie.",
             "De tabel geeft de mediaan en de interkwartielafstand (IQR) van de laatste ronde; er is consensus als "
             "de IQR van impact en onzekerheid allebei hoogstens 1 is."]
    rows = []
    for n, r in o.numbered():
        lr = r.latest()
        i, u = lr.stats["impact"], lr.stats["onzekerheid"]
        shift = r.shift(lr.ronde, "impact")
        rows.append([f"{n}. {r.item.titel}", _num(i.median), _num(i.iqr), _num(u.median), _num(u.iqr),
                     "ja" if lr.consensus else "nee", "–" if shift is None else f"{shift:+.1f}".replace(".", ",")])
    table = Table(f"Weging van de trends door de deelnemers ({name})",
                  ["Trend", "Impact", "IQR", "Onzekerheid", "IQR", "Consensus", "Verschuiving"], rows,
                  ["Verschuiving: verandering van de mediaan van de impact ten opzichte van de ronde ervoor."])
    figures = [Figure(o.radar_svg(), f"Trendradar van {name}",
                      "Trendradar: sectoren zijn domeinen, ringen de horizon (binnen: binnen 5 jaar), de grootte is de "
                      "impact en de kleur de onzekerheid (donkerder is onzekerder). Nummers als in de tabel."),
               Figure(o.matrix_svg(), f"Impact en onzekerheid in {name}",
                      "Impact tegen onzekerheid (medianen). Linksboven: het basisscenario; rechtsboven: de assen van "
                      "het scenariokader.")]
    paragraphs = []
    if o.frame:
        figures.append(Figure(o.frame_svg(), f"Scenariokader {name}",
                              f"Scenariokader met de prognose per kwadrant (inwoners, huishoudens en woningbehoefte "
                              f"op 1 januari {PROJECTION_YEAR})."))
        a, b = o.frame.axes
        paragraphs.append(f"Scenariokader. De assen zijn de twee trends met de grootste impact én onzekerheid: "
                          f"„{a.item.titel}” en „{b.item.titel}”.")
        for q in o.frame.quadrants:
            paragraphs.append(f"{q.title}. " + " ".join(q.storyline) +
                              f" Prognose: scenario {q.projection} ({q.projection_reason}).")
    if o.base:
        paragraphs.append("Basisscenario (grote impact, weinig onzeker): " +
                          "; ".join(f"{r.item.titel}" for r in o.base) + ".")
    challenges = o.challenge_list()
    if challenges:
        paragraphs.append("Uitdagingen: " + " ".join(f"{k + 1}. {c['titel']}." for k, c in enumerate(challenges)))
    return Chapter("verkenning", "Verkenning", intro, table=table, figures=figures, paragraphs=paragraphs)


def verkenning_stamp(ctx: Context, code: str) -> str:
    """What changes when the chapter would: the gemeente's verkenningen, answers and edits (for the
    report writer's 'did the inputs change' check)."""
    from sqlalchemy import func, select

    from ..verkenning.models import Answer, Item, Participant, Verkenning

    db = _database(ctx)
    if db is None:
        return ""
    with db.read() as s:
        ids = select(Verkenning.id).where(Verkenning.gemeente == code)
        answers = s.execute(select(func.count(), func.max(Answer.updated_at)).join(
            Participant, Participant.id == Answer.participant_id).where(Participant.verkenning_id.in_(ids))).one()
        edits = s.execute(select(Verkenning.id, Verkenning.ronde, Verkenning.ronde_open, Verkenning.uitdagingen,
                                 Verkenning.titel).where(Verkenning.id.in_(ids)).order_by(Verkenning.id)).all()
        items = s.execute(select(Item.id, Item.titel, Item.domein, Item.actief).where(Item.verkenning_id.in_(ids))
                          .order_by(Item.id)).all()
    return repr((tuple(answers), [tuple(e) for e in edits], [tuple(i) for i in items]))
