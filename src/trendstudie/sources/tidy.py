"""Importer for the tidy long CSV format (our documented exchange format) with its sidecar.

`<name>.csv`: `table_id,measure,[dimension columns,]region_code,period,value,status`, one row per
value; an empty `value` is missing. `<name>.meta.json`: title, catalog, measures (title, unit,
decimals, optionally aggregation and basis), dimensions (code → title), note, licence.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..textfile import csv_rows, parse_json, read_text
from .mirror import aggregation_for
from .records import (STATUSES, Imported, MeasureMeta, Observation, TableMeta, checked_value, is_period,
                      is_region)

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

REQUIRED = ("table_id", "measure", "region_code", "period", "value", "status")


def read_meta(path: Path) -> TableMeta:
    if not path.exists():
        raise InputError(path, "het bijbehorende .meta.json-bestand ontbreekt")
    meta = parse_json(read_text(path), path)
    if not isinstance(meta, dict) or not isinstance(meta.get("measures"), dict) or not meta.get("table_id"):
        raise InputError(path, "verwacht 'table_id' en een object 'measures'")
    table = TableMeta(
        table_id=str(meta["table_id"]),
        title=str(meta.get("title") or meta["table_id"]),
        catalog=str(meta.get("catalog") or "CBS"),
        dimensions={k: dict(v) for k, v in (meta.get("dimensions") or {}).items()},
    )
    for mid, m in meta["measures"].items():
        if not isinstance(m, dict):
            raise InputError(path, f"maatstaf {mid!r} moet een object zijn")
        unit = str(m.get("unit") or "")
        table.measures[mid] = MeasureMeta(
            title=str(m.get("title") or mid),
            unit=unit,
            decimals=m.get("decimals"),
            aggregation=str(m.get("aggregation") or aggregation_for(unit, None)),
            basis=str(m.get("basis") or "inwoners"),
        )
    return table


def read_tidy(csv_path: Path, source: str | None = None) -> Imported:
    csv_path = Path(csv_path)
    source = source or csv_path.name
    meta = read_meta(csv_path.with_name(csv_path.name[: -len(".csv")] + ".meta.json"))
    meta.source = source
    rows = csv_rows(read_text(csv_path), csv_path)
    try:
        _, _, header = next(rows)
    except StopIteration:
        raise InputError(csv_path, "leeg bestand", line=1) from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(csv_path, f"kolommen ontbreken: {', '.join(missing)}", line=1)
    pos = {c: header.index(c) for c in header}
    dim_cols = [c for c in header if c not in REQUIRED]
    for d in dim_cols:
        meta.dimensions.setdefault(d, {})
    out = Imported(tables=[meta])
    value_column = f"{pos['value'] + 1} (value)"
    valid_regions: set[str] = set()  # codes found valid already (a file repeats them on every row)
    valid_periods: set[str] = set()
    # Looked up once, not per row: the columns' positions, and the dimensions in dims_key's order
    # with the codes each allows (None: any).
    at_table, at_measure, at_region, at_period, at_value, at_status = (
        pos[c] for c in ("table_id", "measure", "region_code", "period", "value", "status"))
    dims_at = [(d, pos[d], frozenset(meta.dimensions[d]) or None) for d in sorted(dim_cols)]
    append = out.observations.append
    for _, line, row in rows:
        if not row:
            continue
        if len(row) != len(header):
            raise InputError(csv_path, f"{len(row)} velden, verwacht {len(header)}", line=line)
        table_id, measure = row[at_table], row[at_measure]
        region, period = row[at_region].strip(), row[at_period].strip()
        raw, status = row[at_value].strip(), row[at_status].strip()
        if table_id != meta.table_id:
            raise InputError(csv_path, f"tabel {table_id!r} wijkt af van {meta.table_id!r} in de meta", line=line, column="table_id")
        if measure not in meta.measures:
            raise InputError(csv_path, f"onbekende maatstaf {measure!r}", line=line, column="measure")
        if region not in valid_regions:
            if not is_region(region):
                raise InputError(csv_path, f"onbekende regiocode {region!r}", line=line, column="region_code")
            valid_regions.add(region)
        if period not in valid_periods:
            if not is_period(period):
                raise InputError(csv_path, f"onbekende periodecode {period!r}", line=line, column="period")
            valid_periods.add(period)
        if status and status not in STATUSES:
            raise InputError(csv_path, f"onbekende status {status!r}", line=line, column="status")
        if not raw:
            value = None
        elif raw.isdigit() and raw.isascii() and len(raw) < 16:  # a whole number (most values), quickly
            value = float(raw)
        elif _NUMBER.fullmatch(raw):  # float() would also take nan, inf, Infinity and 1_000
            value = checked_value(float(raw), raw, csv_path, line, value_column)
        else:
            raise InputError(csv_path, f"waarde {raw!r} is geen getal", line=line, column=value_column)
        codes = [row[i].strip() for _, i, _ in dims_at]
        for (d, _, allowed), code in zip(dims_at, codes):
            if allowed is not None and code not in allowed:
                raise InputError(csv_path, f"onbekende code {code!r} voor {d}", line=line, column=d)
        append(Observation(meta.table_id, measure, region, period, value, status or None,
                           ";".join([f"{d}={code}" for (d, _, _), code in zip(dims_at, codes)]),  # dims_key
                           None if value is not None else "ontbreekt", source))
    return out


def read_tidy_dir(folder: Path, prefix: str = "tidy") -> Imported:
    out = Imported()
    for path in sorted(Path(folder).glob("*.csv")):
        out.extend(read_tidy(path, source=f"{prefix}/{path.name}"))
    return out
