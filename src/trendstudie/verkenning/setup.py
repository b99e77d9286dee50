"""Starting a verkenning from the store: which gemeente or group, and the items that play there."""

from __future__ import annotations

from collections import Counter

from ..errors import TrendstudieError
from .service import Prefill, prefill_items


def resolve(con, text: str) -> tuple[str, str]:
    """A gemeente (code or name) or a group id (G40, M50, PV23, …) → (code, name)."""
    from ..geo.regions import Region, RegionRegistry

    groups = {g: t for g, t in con.execute("SELECT group_id, title FROM groups").fetchall()}
    if text.strip().upper() in {g.upper() for g in groups}:
        gid = next(g for g in groups if g.upper() == text.strip().upper())
        return gid, groups[gid]
    rows = con.execute("SELECT code, name, title, kind, province, valid_from, valid_to FROM regions").fetchall()
    registry = RegionRegistry({r[0]: Region(*r) for r in rows}, [])
    try:
        code = registry.resolve(text, kinds=("GM",))
    except TrendstudieError:
        raise TrendstudieError(f"Onbekende gemeente of groep {text!r}: geef een gemeentenaam of -code (GM0193) of "
                               "een groep als G40 of M50.") from None
    return code, registry.regions[code].name


def group_prefill(localiser, members: list[str], title: str) -> list[Prefill]:
    """For a group: the trends that play (sterk or enigszins) in at least half its gemeenten."""
    kb = localiser.kb
    counts: dict[str, Counter] = {}
    for code in members:
        for v in localiser.verdicts(code):
            counts.setdefault(v.trend, Counter())[v.strength] += 1
    out = []
    n = len(members)
    for tid, c in counts.items():
        playing = c["sterk"] + c["enigszins"]
        if n and playing * 2 >= n:
            t = kb.trends[tid]
            strength = "sterk" if c["sterk"] * 2 >= n else "enigszins"
            out.append((-(c["sterk"]), -playing, tid, Prefill(
                tid, t.title, t.summary, t.domain, strength, "cijfers",
                [f"Speelt sterk in {c['sterk']} en enigszins in {c['enigszins']} van de {n} gemeenten van {title}."])))
    return [p for *_, p in sorted(out, key=lambda x: x[:3])]


def items_for(con, code: str, name: str, localiser=None) -> list[Prefill]:
    from ..knowledge.verdict import Localiser

    loc = localiser or Localiser(con)
    if code.startswith("GM"):
        return prefill_items(loc, code)
    members = [r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id = ? ORDER BY 1",
                                         [code]).fetchall() if r[0] in set(loc.gemeenten)]
    return group_prefill(loc, members, name)
