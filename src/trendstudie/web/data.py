"""What the web app reads, loaded once per process at start-up through the one read model.

Everything goes through `trendstudie.reader.Reader` (the only way to query the store; it gives
each thread its own DuckDB cursor, so pages render in parallel without a lock). What the pages
need in memory (indicator values, the knowledge base, the verdicts on every trend in all
342 gemeenten, the map geometry) is loaded here once; the store does not change while the app runs.
"""

from __future__ import annotations

import difflib
from bisect import bisect_right
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..geo.regions import normalise_name
from ..knowledge.verdict import STRENGTHS, Verdict
from ..knowledge.model import DOMAINS
from ..reader import IndicatorRow, Reader
from ..report.content import Context, peer_groups

GEOJSON = Path("raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson")


def code_fingerprint() -> str:
    """A hash of the program that renders pages (web, report, knowledge, analysis), so that cached
    responses and ETags change with the code as well as with the build."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for sub in ("web", "report", "knowledge", "analysis", "indicators"):
        for path in sorted((root / sub).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".html", ".css", ".j2", ".yaml", ".svg", ".js"):
                h.update(path.relative_to(root).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def etag_of(database: Path, built_at: str) -> str:
    """The ETag of every page: the build, the program version and code, the database's place and
    its edition stamp. Also the name of the page cache's directory (without the quotes)."""
    from .. import editions  # a new edition (recorded just after the swap) changes the pages too

    return '"' + hashlib.sha256(f"{built_at}|{__version__}|{database}|{code_fingerprint()}"
                                f"|{editions.stamp(database.parent)}".encode()).hexdigest()[:20] + '"'


@dataclass
class Gemeente:
    code: str
    name: str
    province: str | None  # PV code
    province_name: str | None


@dataclass
class ProfileRow:
    indicator: IndicatorRow
    period: str
    value: float
    peers: list[tuple[str, str, float | None]]  # (group id, label, value in the same period)
    rank: int | None  # 1 = highest among gemeenten in that period
    of: int


class WebData:
    """Everything loaded at start-up; thread-safe for reads."""

    def __init__(self, database: Path):
        self.database = Path(database)
        self.reader = Reader(self.database)
        r = self.reader
        self.con = r.con  # a connection of the calling thread (for code that takes one)
        self.ctx = Context(r)
        self.kb = r.kb
        self.graph = r.graph
        self.data = r.data
        self.built_at: str = r.built_at
        self.info = r.info
        self.etag = etag_of(self.database, self.built_at)
        self.regions = r.regions
        self.group_titles = {gid: t for gid, (t, _) in r.groups.items()}
        self.group_kinds = {gid: k for gid, (_, k) in r.groups.items()}
        self.group_members: dict[str, list[str]] = r.group_members
        self.gemeenten: dict[str, Gemeente] = {}
        for code in r.gemeenten:
            g = r.regions[code]
            pname = r.regions[g.province].name if g.province in r.regions else None
            self.gemeenten[code] = Gemeente(code, g.name, g.province, pname)
        self.sorted_gemeenten = sorted(self.gemeenten.values(), key=lambda g: normalise_name(g.name))
        self._names = {normalise_name(g.name): g.code for g in self.gemeenten.values()}
        self.tables = r.source_tables
        self.indicators: dict[str, IndicatorRow] = r.indicators  # with their source tables
        self.periods: dict[str, list[str]] = r.periods
        self.with_figures = sum(1 for i in self.indicators if i in self.periods)  # indicators with values here
        # every trend and force judged in every gemeente, once: the same verdicts as `trendstudie trends`
        self.verdicts: dict[str, list[Verdict]] = {code: r.verdicts(code) for code in self.gemeenten}
        self.flags = r.localiser.flags  # reconstructed and provisional figures, for labels
        self.strength: dict[str, dict[str, str]] = {}
        self.basis: dict[str, dict[str, str | None]] = {}
        for code, vs in self.verdicts.items():
            for v in vs:
                self.strength.setdefault(v.trend, {})[code] = v.strength
                self.basis.setdefault(v.trend, {})[code] = v.basis
        self.measure_keys = r.measure_keys
        self.map = self._load_map()
        self.values = None
        try:  # the analysis stage (phrases, neighbours), when present; warmed here once
            from ..analysis.profile import build_profile

            self.values = r.values
            build_profile(self.values, next(iter(self.gemeenten)))
        except Exception:  # the pages fall back to the tables without phrases
            self.values = None
        self.successor: dict[str, str] = r.successors

    def _load_map(self):
        from ..geo import shapes

        stored = getattr(self.ctx, "boundaries", None)  # today's boundaries, kept in the store by the build
        if stored:
            current = {c: g for c, g in stored.items() if c in self.gemeenten}
            if current:
                return shapes.svg_paths(current, width=420.0, tolerance=0.6)
        bundle = self.info.get("bundle")
        if not bundle:
            return None
        path = Path(bundle) / GEOJSON
        if not path.exists():
            return None
        try:
            boundaries = shapes.load_boundaries(path)
        except Exception:  # a broken map file must not stop the site; pages show no map then
            return None
        current = {c: g for c, g in boundaries.items() if c in self.gemeenten}
        return shapes.svg_paths(current, width=420.0, tolerance=0.6) if current else None

    # --- lookups -----------------------------------------------------------------------------
    def name(self, code: str) -> str:
        if code in self.regions:
            return self.regions[code].name
        if code == "NL01":
            return "Nederland"
        return self.group_titles.get(code, code)

    def group_label(self, gid: str) -> str:
        return self.data.group_label(gid)

    def short_label(self, gid: str) -> str:
        """A column header: 'G40', 'Prov. Overijssel', '100.000–150.000 inw.', 'Nederland' (a
        province is marked, or Groningen and Utrecht would head two columns with one name)."""
        import re as _re

        if gid == "NL01":
            return "Nederland"
        kind, title = self.group_kinds.get(gid), self.group_titles.get(gid, gid)
        if kind == "provincie":
            return "Prov. " + title.removeprefix("Provincie ")
        if kind == "grootteklasse":
            nums = _re.findall(r"[0-9.]+[0-9]", title)
            if "minder dan" in title and nums:
                return f"< {nums[0]} inw."
            if "of meer" in title and nums:
                return f"≥ {nums[0]} inw."
            if len(nums) == 2:
                return f"{nums[0]}–{nums[1]} inw."
        if kind == "netwerk":
            return gid
        return title

    def exact(self, text: str) -> str | None:
        """The current gemeente that `text` names exactly (code, name, CBS spelling, or a former
        gemeente's code or name, which leads to the gemeente it went into); else None."""
        return self.reader.gemeente_of(text)

    def search(self, text: str, limit: int = 12) -> list[Gemeente]:
        """Gemeenten matching a code, a name (CBS disambiguations known) or a misspelt name."""
        text = text.strip()
        if not text:
            return []
        exact = self.exact(text)
        if exact:
            return [self.gemeenten[exact]]
        try:  # a former gemeente split over several: all of them
            split = self.reader.resolution(text)
        except Exception:
            split = None
        if split is not None and split.split and split.successors:
            return [self.gemeenten[s.code] for s in split.successors if s.code in self.gemeenten][:limit]
        key = normalise_name(text)
        found: list[str] = []
        for n, code in sorted(self._names.items()):
            if n.startswith(key):
                found.append(code)
        for n, code in sorted(self._names.items()):
            if key in n and code not in found:
                found.append(code)
        for n in difflib.get_close_matches(key, list(self._names), n=limit, cutoff=0.6):
            if self._names[n] not in found:
                found.append(self._names[n])
        return [self.gemeenten[c] for c in found[:limit]]

    def peers(self, code: str) -> list[tuple[str, str]]:
        return peer_groups(self.ctx, code)

    def ranking(self, indicator: str, period: str) -> list[tuple[str, float]]:
        """All gemeenten with a value in `period`, highest first."""
        out = []
        for code in self.gemeenten:
            v = self.data.value(indicator, code, period)
            if v is not None:
                out.append((code, v))
        out.sort(key=lambda cv: (-cv[1], self.gemeenten[cv[0]].name))
        return out

    def latest_period(self, indicator: str) -> str | None:
        ps = self.periods.get(indicator)
        return ps[-1] if ps else None

    def profile(self, code: str) -> dict[str, list[ProfileRow]]:
        """Per domain: every indicator with a value here, its latest period, peers and rank."""
        peers = self.peers(code)
        out: dict[str, list[ProfileRow]] = {}
        for meta in self.indicators.values():
            latest = self.data.latest(meta.id, code)
            if latest is None:
                continue
            period, value = latest
            pv = [(gid, label, self.data.value(meta.id, gid, period)) for gid, label in peers]
            ordered = self.data._by_period.get((meta.id, period), [])  # ascending (IndicatorData sorts them)
            rank = len(ordered) - bisect_right(ordered, value) + 1 if ordered else None
            out.setdefault(meta.domain, []).append(ProfileRow(meta, period, value, pv, rank, len(ordered)))
        return {d: out[d] for d in DOMAINS if d in out}

    def analysis(self, code: str):
        """The analysis profile (comparisons in words, statistical neighbours), or None."""
        if self.values is None:
            return None
        from ..analysis.profile import build_profile

        try:
            return build_profile(self.values, code)
        except Exception:
            return None

    def opgaven_for(self, trend_id: str, limit: int = 4):
        found = [o for o in self.kb.opgaven.values() if trend_id in o.answers]
        found.sort(key=lambda o: (-len(o.answers), o.id))
        return found[:limit]

    def trend_counts(self, trend_id: str) -> dict[str, int]:
        s = self.strength.get(trend_id, {})
        return {k: sum(1 for v in s.values() if v == k) for k in STRENGTHS}

    def basis_counts(self, trend_id: str) -> dict[str, int]:
        """In how many gemeenten the trend is judged on figures, by typology, as a national trend."""
        b = self.basis.get(trend_id, {})
        return {k: sum(1 for v in b.values() if v == k) for k in ("cijfers", "typering", "landelijk")}

    def json_info(self) -> str:
        return json.dumps({"built_at": self.built_at, "gemeenten": len(self.gemeenten)})
