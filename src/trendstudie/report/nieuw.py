"""The report's short section "Nieuw sinds de vorige editie": what the edition of the store the
report reads changed for this gemeente (editions.py keeps the history). Only real changes;
nothing when there are none or when this is the first edition."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import editions

LIMIT = 12  # changes named in the report; the rest are counted (all: `trendstudie wijzigingen`)


@dataclass
class News:
    editie: int
    vorige: int | None
    gebouwd: str  # date (JJJJ-MM-DD) of the edition
    items: list[str] = field(default_factory=list)  # the changes in words
    meer: int = 0  # changes not named


def news_section(ctx, code: str) -> News | None:
    database = getattr(ctx.reader, "database", None)
    if database is None:
        return None
    edition, changes = editions.news(database.parent, ctx.built_at, code)
    if edition is None or not changes:
        return None
    changes = editions.by_importance(changes)
    return News(edition.nummer, edition.vorige, edition.gebouwd[:10], [c.label for c in changes[:LIMIT]],
                max(0, len(changes) - LIMIT))


def stamp(ctx) -> str:
    """For the report's inputs key: a new edition re-renders the report."""
    database = getattr(ctx.reader, "database", None)
    return editions.stamp(database.parent) if database is not None else ""
