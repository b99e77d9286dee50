"""Own data: the files an analyst imports (`trendstudie importeer`), kept in TRENDSTUDIE_HOME and
taken into every build like CBS data.

An import is two files in `<home>/imports/`: `<naam>.parquet` with the observations as the file
gave them (region codes of their own year, periods as CBS codes, missing values with their
reason) and `<naam>.json` with what the import is (title, file, shape, the kind of each measure,
whether it is a prognosis). Both are written only after the whole file was read without error,
each to a temporary name first, so a failed import leaves nothing behind.

At every build (`build.py`) the imports are read back as the table `eigen:<naam>` and harmonised
to today's gemeenten with the CBS data: counts by the harmoniser (summed over predecessors);
shares, averages and ratios here, in `complete_facts`: re-computed from their summed numerator
and denominator where the file gave both (`teller`, `noemer`), and otherwise kept on the
boundaries they were published on, marked so. Own indicators come from
`<home>/eigen-indicatoren.yaml`, in the schema of indicators/registry.yaml.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import InputError, TrendstudieError
from .harmonise import Fact
from .sources.eigen import TABLE_PREFIX, Parsed, table_id
from .sources.records import Imported, MeasureMeta, Observation, TableMeta

INDICATOR_FILE = "eigen-indicatoren.yaml"
OWN_MARK = "eigen bron"
PROGNOSES = ("bevolking", "huishoudens")
INFO_KEY = "eigen_imports"  # build_info key: the imports' metadata as JSON, for web and report


def _columns():
    """The Arrow schema of an import's observations (pyarrow imported here: a build with nothing
    to do reads only this module's names)."""
    import pyarrow as pa

    return pa.schema([("measure", pa.string()), ("dims", pa.string()), ("region_code", pa.string()),
                      ("period", pa.string()), ("value", pa.float64()), ("status", pa.string()),
                      ("reason", pa.string())])


@dataclass
class ImportMeta:
    naam: str
    titel: str
    bestand: str  # the file as given, for 'bron' on the downloads page
    vorm: str  # statline-codes | statline-labels | lang | breed
    maatstaven: dict[str, dict] = field(default_factory=dict)  # id → {titel, eenheid, soort}
    prognose: str | None = None  # 'bevolking' | 'huishoudens' when the file is a prognosis
    blad: str | None = None
    geimporteerd: str = ""
    waarden: int = 0
    regios: int = 0
    perioden: list[str] = field(default_factory=list)  # first and last
    waarschuwingen: list[str] = field(default_factory=list)

    @property
    def table_id(self) -> str:
        return table_id(self.naam)


def imports_dir(home: Path) -> Path:
    return Path(home) / "imports"


def meta_for(parsed: Parsed, path: Path, prognose: str | None, sheet: str | None) -> ImportMeta:
    obs = parsed.imported.observations
    periods = sorted({o.period for o in obs})
    return ImportMeta(
        naam=parsed.naam, titel=parsed.title, bestand=str(Path(path).name), vorm=parsed.shape,
        maatstaven={mid: {"titel": m.title, "eenheid": m.unit, "soort": parsed.soorten.get(mid, "aantal")}
                    for mid, m in parsed.table.measures.items() if mid in parsed.soorten},
        prognose=prognose, blad=sheet, geimporteerd=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        waarden=sum(1 for o in obs if o.value is not None), regios=len({o.region_code for o in obs}),
        perioden=[periods[0], periods[-1]] if periods else [], waarschuwingen=list(parsed.imported.warnings),
    )


def check_prognosis(parsed: Parsed, prognose: str | None) -> None:
    """A prognosis is one count per gemeente per year."""
    if prognose is None:
        return
    if prognose not in PROGNOSES:
        raise TrendstudieError(f"Onbekende prognose {prognose!r}: kies bevolking of huishoudens.")
    counts = [m for m, k in parsed.soorten.items() if k == "aantal"]
    if len(parsed.soorten) != 1 or len(counts) != 1:
        raise TrendstudieError(
            f"Een prognose ({prognose}) heeft precies één maatstaf die een aantal is; {parsed.naam} heeft: "
            + ", ".join(f"{m} ({k})" for m, k in parsed.soorten.items()))
    odd = sorted({o.period for o in parsed.imported.observations if not o.period.endswith("JJ00")})
    if odd:
        raise TrendstudieError(f"Een prognose geeft één waarde per jaar; gevonden: {', '.join(odd[:5])}")


def save(home: Path, parsed: Parsed, meta: ImportMeta) -> Path:
    """Keep an import: observations as Parquet, metadata as JSON; each written to a temporary
    file and renamed into place (metadata last, so a half-written import is never listed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = imports_dir(home)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        obs = parsed.imported.observations
        arrow = pa.table({
            "measure": [o.measure for o in obs], "dims": [o.dims for o in obs],
            "region_code": [o.region_code for o in obs], "period": [o.period for o in obs],
            "value": [o.value for o in obs], "status": [o.status for o in obs], "reason": [o.reason for o in obs],
        }, schema=_columns())
        table = parsed.table
        payload = asdict(meta)
        payload["tabel"] = {"titel": table.title, "maatstaven": {mid: asdict(m) for mid, m in table.measures.items()},
                            "dimensies": table.dimensions, "bron": table.source}
        data_path, meta_path = folder / f"{meta.naam}.parquet", folder / f"{meta.naam}.json"
        tmp_data, tmp_meta = data_path.with_suffix(".parquet.tmp"), meta_path.with_suffix(".json.tmp")
        try:
            pq.write_table(arrow, tmp_data)
            tmp_meta.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp_data, data_path)
            os.replace(tmp_meta, meta_path)
        finally:
            tmp_data.unlink(missing_ok=True)
            tmp_meta.unlink(missing_ok=True)
    except OSError as exc:
        raise TrendstudieError(f"De import kan niet bewaard worden in {folder}: {exc.strerror or exc}") from None
    return meta_path


def listing(home: Path) -> list[ImportMeta]:
    folder = imports_dir(home)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.glob("*.json")):
        if path.with_suffix(".parquet").exists():
            out.append(_read_meta(path)[0])
    return out


def _read_meta(path: Path) -> tuple[ImportMeta, dict]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        table = payload.pop("tabel")
        return ImportMeta(**payload), table
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise InputError(path, f"beschrijving van een import is onleesbaar ({exc}); verwijder de import met "
                               f"trendstudie importeer --verwijder {path.stem} en importeer opnieuw") from None


def remove(home: Path, naam: str) -> ImportMeta:
    folder = imports_dir(home)
    path = folder / f"{naam}.json"
    if not path.exists():
        known = [m.naam for m in listing(home)]
        raise TrendstudieError(f"Er is geen import {naam!r}." + (f" Wel: {', '.join(known)}." if known else
                                                                   " Er zijn nog geen imports."))
    meta = _read_meta(path)[0]
    path.unlink()
    path.with_suffix(".parquet").unlink(missing_ok=True)
    return meta


def read_imports(home: Path) -> Imported:
    """Every kept import as observations and table metadata (what a build takes in)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Imported()
    folder = imports_dir(home)
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        data_path = path.with_suffix(".parquet")
        if not data_path.exists():
            out.warnings.append(f"{path.name}: de gegevens ({data_path.name}) ontbreken; import overgeslagen")
            continue
        meta, table = _read_meta(path)
        try:
            rows = pq.read_table(data_path, schema=_columns()).to_pylist()
        except (OSError, pa.ArrowException) as exc:
            raise InputError(data_path, f"onleesbaar ({exc}); verwijder de import en importeer opnieuw") from None
        tid, source = meta.table_id, table.get("bron") or f"eigen/{meta.naam}"
        out.observations.extend(Observation(tid, r["measure"], r["region_code"], r["period"], r["value"], r["status"],
                                            r["dims"], r["reason"], source) for r in rows)
        out.tables.append(TableMeta(
            table_id=tid, title=table.get("titel") or meta.titel, catalog="eigen",
            measures={mid: MeasureMeta(**m) for mid, m in table.get("maatstaven", {}).items()},
            dimensions=table.get("dimensies") or {}, source=source))
    return out


# --- harmonising what the harmoniser leaves -----------------------------------------------------

NUMERATOR, DENOMINATOR = ".teller", ".noemer"


def _ratio_measures(tables: list[TableMeta]) -> set[tuple[str, str]]:
    """(table, measure) of own tables whose measures are neither counts nor averages."""
    return {(t.table_id, mid) for t in tables if t.table_id.startswith(TABLE_PREFIX)
            for mid, m in t.measures.items() if m.aggregation == ""}


def needs_completing(tables: list[TableMeta]) -> bool:
    """Whether `complete_facts` would change anything (only own tables with such measures)."""
    return bool(_ratio_measures(tables))


def complete_facts(facts: list[Fact], observations: list[Observation], tables: list[TableMeta],
                   registry) -> list[Fact]:
    """Finish the facts of own tables: shares, averages and ratios that the harmoniser could not
    carry over a boundary change are re-computed from their harmonised numerator and
    denominator; where the file gave none, the values stay on their published boundaries (the
    former gemeente's own code, `harmonised` false, method 'zoals gepubliceerd', with the reason),
    and today's gemeente keeps its 'ontbreekt' with the reason."""
    own = {t.table_id: t for t in tables if t.table_id.startswith(TABLE_PREFIX)}
    ratio = _ratio_measures(tables)
    if not ratio:
        return facts
    parts: dict[tuple, float] = {}
    for f in facts:
        if f.table_id in own and f.value is not None and f.measure.endswith((NUMERATOR, DENOMINATOR)):
            parts[(f.table_id, f.measure, f.dims, f.region_code, f.period)] = f.value
    factors = _factors(observations, ratio)
    published: dict[tuple, list[Observation]] = defaultdict(list)  # (table, measure, dims, period) → obs
    for o in observations:
        if (o.table_id, o.measure) in ratio and o.region_code.startswith("GM"):
            published[(o.table_id, o.measure, o.dims, o.period)].append(o)
    current = set(registry.current_gemeenten())
    out: list[Fact] = []
    for f in facts:
        if (f.table_id, f.measure) not in ratio or f.method != "ontbreekt" or not f.region_code.startswith("GM"):
            out.append(f)
            continue
        num = parts.get((f.table_id, f.measure + NUMERATOR, f.dims, f.region_code, f.period))
        den = parts.get((f.table_id, f.measure + DENOMINATOR, f.dims, f.region_code, f.period))
        factor = factors.get((f.table_id, f.measure))
        if num is not None and den and factor is not None:
            out.append(Fact(f.table_id, f.measure, f.dims, f.region_code, f.period, num / den * factor, f.status,
                            True, "herberekend", f"{f.provenance}; teller en noemer opgeteld",
                            None))
            continue
        same = next((o for o in published.get((f.table_id, f.measure, f.dims, f.period), [])
                     if o.region_code == f.region_code and o.value is not None), None)
        if same is not None:
            # A gemeente that still exists but whose boundary changed: its published value, as published.
            out.append(Fact(f.table_id, f.measure, f.dims, f.region_code, f.period, same.value, same.status, False,
                            "zoals gepubliceerd", f"{same.region_code} ({same.source})",
                            "grens sindsdien gewijzigd; zonder teller en noemer niet om te rekenen, "
                            "dus op de indeling van toen"))
            continue
        out.append(Fact(f.table_id, f.measure, f.dims, f.region_code, f.period, None, None, True, "ontbreekt",
                        f.provenance, "voorgangers apart gepubliceerd; zonder teller en noemer niet samen te nemen "
                                      "(de waarden staan op de codes van de voorgangers)"))
    for key, rows in published.items():
        for o in rows:
            if o.region_code in current or o.value is None:
                continue
            out.append(Fact(o.table_id, o.measure, o.dims, o.region_code, o.period, o.value, o.status, False,
                            "zoals gepubliceerd", f"{o.region_code} ({o.source})",
                            "op de indeling van toen: een aandeel, gemiddelde of verhouding zonder teller en noemer "
                            "is niet om te rekenen naar de huidige gemeente"))
    return out


def _factors(observations: list[Observation], ratio: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Per ratio measure: value = numerator / denominator × factor (1, 100, 1000 …), from the rows."""
    values: dict[tuple, dict[str, float]] = defaultdict(dict)
    for o in observations:
        if o.value is None or not o.table_id.startswith(TABLE_PREFIX):
            continue
        for suffix in ("", NUMERATOR, DENOMINATOR):
            base = o.measure[: -len(suffix)] if suffix and o.measure.endswith(suffix) else (o.measure if not suffix else None)
            if base is not None and (o.table_id, base) in ratio:
                values[(o.table_id, base, o.dims, o.region_code, o.period)][suffix] = o.value
    found: dict[tuple[str, str], list[float]] = defaultdict(list)
    for (tid, mid, *_), v in values.items():
        if len(v) == 3 and v[NUMERATOR] and v[DENOMINATOR]:
            found[(tid, mid)].append(v[""] / (v[NUMERATOR] / v[DENOMINATOR]))
    out = {}
    import math

    for key, xs in found.items():
        xs.sort()
        mid = xs[len(xs) // 2]
        if mid > 0:
            out[key] = 10 ** round(math.log10(mid))
    return out


# --- own indicators ------------------------------------------------------------------------------


def load_indicators(home: Path, base=None):
    """The product's indicator registry plus the user's own (eigen-indicatoren.yaml), each own
    indicator marked: its id starts with `eigen_`, its title ends in '(eigen bron)', its citation
    names the import."""
    from .indicators import registry as indicator_registry

    base = base or indicator_registry.load()
    path = Path(home) / INDICATOR_FILE
    if not path.exists():
        return base
    own = indicator_registry.load(path)
    known = {i.id for i in base.indicators}
    marked = []
    for ind in own.indicators:
        if not ind.id.startswith("eigen_"):
            raise InputError(path, f"indicator-id {ind.id!r} moet met 'eigen_' beginnen (zo is in elke export en "
                                   "elk overzicht te zien dat het een eigen bron is), bijvoorbeeld eigen_" + ind.id)
        if ind.id in known:
            raise InputError(path, f"indicator-id {ind.id!r} bestaat al")
        tables = sorted(ind.tables())
        own_tables = [t[len(TABLE_PREFIX):] for t in tables if t.startswith(TABLE_PREFIX)]
        title = ind.title if OWN_MARK in ind.title.lower() else f"{ind.title} ({OWN_MARK})"
        citation = ind.citation or ""
        if own_tables and OWN_MARK not in citation.lower():
            citation = (f"Eigen bron: {', '.join(own_tables)}" + (f"; {citation}" if citation else ""))
        marked.append(ind.model_copy(update={"title": title, "citation": citation}))
    return indicator_registry.Registry(indicators=[*base.indicators, *marked])


def store_info(home: Path) -> str:
    """The imports' metadata as one JSON text, kept in the store's build_info."""
    return json.dumps([asdict(m) for m in listing(home)], ensure_ascii=False)


def imports_in_store(con) -> list[ImportMeta]:
    """The imports a built database holds (empty for a database without any)."""
    if not con.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'build_info'").fetchone():
        return []
    row = con.execute("SELECT value FROM build_info WHERE key = ?", [INFO_KEY]).fetchone()
    if not row or not row[0]:
        return []
    return [ImportMeta(**m) for m in json.loads(row[0])]


def own_rules_text(home: Path, registry) -> str:
    """The `regels` of eigen-indicatoren.yaml (localisation rules, as in knowledge/localisation.yaml),
    checked against the indicators and the knowledge base, as JSON for the store ('' without any)."""
    from .knowledge.localise import Rule, load_rules
    from .textfile import load_yaml

    path = Path(home) / INDICATOR_FILE
    if not path.exists():
        return ""
    raw = load_yaml(path)
    items = raw.get("regels") if isinstance(raw, dict) else None
    if not items:
        return ""
    if not isinstance(items, list):
        raise InputError(path, "'regels' moet een lijst van regels zijn, zoals in knowledge/localisation.yaml")
    from .knowledge import model

    trends = set(model.load().trends)
    known = {i.id for i in registry.indicators} | {d.id for d in load_rules().derived}
    rules = []
    for n, item in enumerate(items, start=1):
        try:
            rule = Rule.model_validate(item)
        except ValueError as exc:
            raise InputError(path, f"regel {n} in 'regels': {exc}") from None
        if rule.trend not in trends:
            raise InputError(path, f"regel {n} in 'regels': onbekende trend {rule.trend!r} (zie trendstudie kennisbank)")
        used = set(rule.indicators) | {c.indicator for c in [*rule.sterk, *rule.enigszins]}
        unknown = sorted(used - known)
        if unknown:
            raise InputError(path, f"regel {n} in 'regels' ({rule.trend}): onbekende indicator(en) {', '.join(unknown)}")
        rules.append(rule.model_dump(by_alias=True, exclude_none=True))
    return json.dumps(rules, ensure_ascii=False)
