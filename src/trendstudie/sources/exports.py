"""The bundle's raw exports, read as `exports.yaml` says: which file, which importer, which
table, which columns become which measures.

`read_all(bundle, registry)` reads every listed file and returns one `Imported`, with one
`TableMeta` per table (measures of all files of that table merged) and all warnings, including
those of the declared plausibility checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError
from ..textfile import load_yaml
from .cbsodata_csv import read_v3_csv
from .records import Imported, MeasureMeta, TableMeta
from .statline_csv import aggregation_for_unit, read_statline_csv

SPEC = Path(__file__).with_name("exports.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeasureSpec(_Strict):
    title: str
    unit: str = ""
    aggregation: Literal["sum", "mean", ""] | None = None
    basis: Literal["inwoners", "woningen"] = "inwoners"

    def meta(self) -> MeasureMeta:
        agg = self.aggregation if self.aggregation is not None else aggregation_for_unit(self.unit, self.title)
        return MeasureMeta(title=self.title, unit=self.unit, aggregation=agg, basis=self.basis)


class TableSpec(_Strict):
    title: str
    measures: dict[str, MeasureSpec] = Field(default_factory=dict)
    v3_columns: dict[str, str] = Field(default_factory=dict)
    text_columns: list[str] = Field(default_factory=list)
    statline: dict[str, str] = Field(default_factory=dict)


class Balance(_Strict):
    start: str
    add: list[str]
    end: str
    tolerance: float = Field(gt=0)


class Check(_Strict):
    balance: Balance


class FileSpec(_Strict):
    path: str
    reader: Literal["statline_csv", "untyped_csv", "cbsodata_csv"]
    table: str
    checks: list[Check] = Field(default_factory=list)


class ExportsSpec(_Strict):
    tables: dict[str, TableSpec]
    files: list[FileSpec]


def load_spec(path: Path = SPEC) -> ExportsSpec:
    raw = load_yaml(path)
    try:
        spec = ExportsSpec.model_validate(raw)
    except ValidationError as exc:
        raise InputError(path, f"voldoet niet aan het schema: {exc}") from None
    for f in spec.files:
        if f.table not in spec.tables:
            raise InputError(path, f"bestand {f.path} verwijst naar onbekende tabel {f.table}")
    for tid, t in spec.tables.items():
        targets = list(t.statline.values()) + list(t.v3_columns.values())
        missing = sorted({m for m in targets if m not in t.measures})
        if missing:
            raise InputError(path, f"tabel {tid}: maatstaven zonder beschrijving: {', '.join(missing)}")
    return spec


def read_file(bundle: Path, spec: ExportsSpec, entry: FileSpec, registry) -> Imported:
    table = spec.tables[entry.table]
    measures = {k: v.meta() for k, v in table.measures.items()}
    path = Path(bundle) / entry.path
    if entry.reader == "statline_csv":
        out = read_statline_csv(
            path, registry, table_id=entry.table, title=table.title, headers=table.statline, measures=measures,
            source=entry.path,
        )
    else:
        out = read_v3_csv(
            path, table_id=entry.table, title=table.title, columns=table.v3_columns, measures=measures,
            text_columns=table.text_columns, registry=registry, source=entry.path,
            flavour="untyped" if entry.reader == "untyped_csv" else "cbsodata",
        )
    for check in entry.checks:
        out.warnings.extend(balance_warnings(out, check.balance, entry.path))
    return out


def balance_warnings(data: Imported, rule: Balance, source: str) -> list[str]:
    """Rows where start + add differs from end by more than `tolerance` × start."""
    wanted = {rule.start, rule.end, *rule.add}
    cells: dict[tuple[str, str, str], dict[str, float]] = {}
    for o in data.observations:
        if o.measure in wanted and o.value is not None:
            cells.setdefault((o.region_code, o.period, o.dims), {})[o.measure] = o.value
    found = []
    for (region, period, _dims), v in sorted(cells.items()):
        if not wanted <= v.keys() or v[rule.start] == 0:
            continue
        expected = v[rule.start] + sum(v[a] for a in rule.add)
        gap = v[rule.end] - expected
        if abs(gap) > rule.tolerance * abs(v[rule.start]):
            found.append(f"{region} {period}: {rule.end} {v[rule.end]:.0f} tegen {rule.start} + "
                         f"{' + '.join(rule.add)} = {expected:.0f}")
    if not found:
        return []
    return [f"{source}: {len(found)} opvallende waarde(n) — {rule.end} wijkt meer dan {rule.tolerance:.0%} af van "
            f"{rule.start} + {' + '.join(rule.add)}: " + "; ".join(found)]


def inputs(bundle: Path, spec: ExportsSpec | None = None) -> list[Path]:
    """The files `read_all` reads (for the build's fingerprint of this source)."""
    spec = spec or load_spec()
    return [Path(bundle) / entry.path for entry in spec.files]


def read_all(bundle: Path, registry, spec: ExportsSpec | None = None) -> Imported:
    """Every export listed in `exports.yaml`, read from `bundle`; one TableMeta per table."""
    spec = spec or load_spec()
    result = Imported()
    tables: dict[str, TableMeta] = {}
    from ..buildcache import table_of

    for entry in spec.files:
        part = read_file(bundle, spec, entry, registry)
        # The StatLine downloads (small) as a table too, so that the whole is one table (and its
        # tuples are made only when asked for, see Imported).
        result.extend(Imported(warnings=part.warnings, columns=table_of(part)))
        for meta in part.tables:
            merged = tables.get(meta.table_id)
            if merged is None:
                tables[meta.table_id] = TableMeta(
                    table_id=meta.table_id, title=meta.title, catalog=meta.catalog, measures=dict(meta.measures),
                    dimensions={k: dict(v) for k, v in meta.dimensions.items()}, source=meta.source,
                )
                continue
            merged.source = f"{merged.source}; {meta.source}"
            for mid, m in meta.measures.items():
                have = merged.measures.get(mid)
                if have is None or (not have.unit and m.unit):
                    merged.measures[mid] = m
                elif m.unit and have.unit != m.unit:
                    result.warnings.append(
                        f"{meta.table_id}/{mid}: eenheid {m.unit!r} in {meta.source} wijkt af van {have.unit!r}"
                    )
            for dim, codes in meta.dimensions.items():
                merged.dimensions.setdefault(dim, {}).update(codes)
    result.tables = list(tables.values())
    return result
