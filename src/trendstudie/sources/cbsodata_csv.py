"""Importer for wide CSV exports of CBS OData v3 data sets, in two flavours:

* the `UntypedDataSet` CSV export (`70072ned_UntypedDataSet_06062018_000805.csv`): `;`-separated,
  every value a quoted, right-aligned, space-padded string, `"."` = unknown, `""` = impossible,
  an `ID` column first, codes padded (`"GM0363    "`), decimal point;
* CSVs written with the `cbsodata` Python package: `,`-separated, each dimension as a code
  column plus a `<name> Label` column (`Regions`, `Regions Label`, `Sex`, `Sex Label`), empty
  cells for every missing value (cbsodata turns both "." and "" into None, so an empty cell
  here cannot say why; its reason is `leeg`).

Columns are recognised by name: `ID` is ignored, `RegioS`/`Regions` is the region, `Perioden`/
`Periods` the period, `… Label` columns are labels, v3 topic keys (`TotaleBevolking_1`) are
measures, and every other column is a dimension (`Geslacht`, `Leeftijd`, `Sex`).

Measure ids are the topic key without its numeric suffix (the suffix is a position that changes
between editions). Where a stem occurs more than once in one file (`JongerDan5Jaar_4` in numbers,
`JongerDan5Jaar_13` in %), the occurrences are told apart by their order, written `Stem#k`, and
must be mapped explicitly (see `exports.yaml`); unmapped repeated stems are skipped with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Literal
from pathlib import Path

from ..errors import InputError
from ..textfile import read_text
from .records import (Imported, MeasureMeta, Observation, TableMeta, checked_value, dims_key, is_period, is_region,
                      period_year)
from .statline_csv import exists_in, parse_rows

_TOPIC = re.compile(r"^(?P<stem>[A-Za-z][A-Za-z0-9_]*?)_(?P<pos>\d+)$")
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
_GEO = {"regios", "regions", "wijkenenbuurten"}
_TIME = {"perioden", "periods"}


def topic_columns(header: Iterable[str]) -> dict[str, str]:
    """v3 key → reference: the stem when it occurs once, `Stem#k` for its k-th occurrence."""
    keys = [h for h in header if _TOPIC.match(h)]
    stems = [_TOPIC.match(k).group("stem") for k in keys]
    seen: dict[str, int] = {}
    refs = {}
    for key, stem in zip(keys, stems):
        seen[stem] = seen.get(stem, 0) + 1
        refs[key] = stem if stems.count(stem) == 1 else f"{stem}#{seen[stem]}"
    return refs


def read_untyped_csv(path: Path, **kwargs) -> Imported:
    """An OData v3 `UntypedDataSet` CSV export (`;`, quoted, `"."` unknown, `""` impossible)."""
    return read_v3_csv(path, flavour="untyped", **kwargs)


def read_cbsodata_csv(path: Path, **kwargs) -> Imported:
    """A cbsodata-style CSV (`,`, `Regions`/`Regions Label` code and label pairs, empty = missing)."""
    return read_v3_csv(path, flavour="cbsodata", **kwargs)


def read_v3_csv(
    path: Path,
    *,
    table_id: str,
    title: str | None = None,
    columns: Mapping[str, str] | None = None,
    measures: Mapping[str, MeasureMeta] | None = None,
    text_columns: Iterable[str] = (),
    registry=None,
    source: str | None = None,
    flavour: Literal["untyped", "cbsodata"] | None = None,
) -> Imported:
    """Read a wide v3 CSV export.

    flavour: "untyped" (`"."` unknown, `""` impossible) or "cbsodata" (an empty cell is missing
    for a reason the file does not give, "leeg"; a lone "." is then an error). By default a
    `;`-separated file is taken as untyped, a `,`-separated one as cbsodata.

    columns: topic reference (`Stem` or `Stem#k`) → measure id, where it is not the stem itself
    (e.g. `GemiddeldeVerkoopprijs` → `M001534`, the v4 code of the same measure).
    measures: declared title, unit and aggregation per measure id; undeclared measures get an
    empty unit and aggregation "" (not guessed).
    text_columns: stems of topics holding text (regional classification codes and names).
    registry: when given, rows of codes that did not exist in that year and hold no value are
    dropped, and values for such codes are reported.
    """
    path = Path(path)
    source = source or path.name
    columns = dict(columns or {})
    measures = dict(measures or {})
    text_stems = set(text_columns)
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first else ","
    untyped = delimiter == ";" if flavour is None else flavour == "untyped"
    rows = [(n, r) for n, r in parse_rows(path, text, delimiter) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(path, "leeg bestand: geen kopregel gevonden", line=1)
    header_line, header = rows[0]
    header = [h.replace("\ufeff", "").strip() for h in header]
    lower = [h.lower() for h in header]
    out = Imported()

    geo = [i for i, h in enumerate(lower) if h in _GEO]
    time = [i for i, h in enumerate(lower) if h in _TIME]
    if len(geo) != 1 or len(time) != 1:
        raise InputError(path, "verwacht precies één regiokolom (RegioS/Regions) en één periodekolom (Perioden/Periods)",
                         line=header_line)
    gcol, tcol = geo[0], time[0]
    refs = topic_columns(header)
    labels = {h[: -len(" Label")]: i for i, h in enumerate(header) if h.endswith(" Label")}
    dim_cols = [
        i for i, h in enumerate(header)
        if i not in (gcol, tcol) and h not in refs and not h.endswith(" Label") and h.lower() != "id"
    ]
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise InputError(path, f"dubbele kolomnamen: {', '.join(dup)}", line=header_line)

    measure_cols: dict[int, str] = {}
    meta: dict[str, MeasureMeta] = {}
    skipped: list[str] = []
    for i, key in enumerate(header):
        ref = refs.get(key)
        if ref is None:
            continue
        stem = ref.split("#")[0]
        if stem in text_stems:
            continue
        mid = columns.get(ref) or (ref if "#" not in ref else None)
        if mid is None:
            skipped.append(key)
            continue
        if mid in meta:
            raise InputError(path, f"twee kolommen leveren maatstaf {mid}", line=header_line, column=key)
        measure_cols[i] = mid
        meta[mid] = measures.get(mid) or MeasureMeta(title=stem)
    if skipped:
        out.warnings.append(
            f"{source}: {len(skipped)} kolom(men) met een herhaalde sleutel zonder koppeling overgeslagen: "
            + ", ".join(skipped)
        )
    if not refs:
        raise InputError(path, "geen onderwerpkolommen (sleutels als TotaleBevolking_1) gevonden", line=header_line)

    dimensions: dict[str, dict[str, str]] = {header[i]: {} for i in dim_cols}
    dropped = 0
    seen: dict[tuple[str, str, str], int] = {}
    not_valid: list[str] = []
    unknown: list[str] = []
    valid_codes: set[str] = set()  # region and period codes found valid already (repeated on every row)
    valid_periods: set[str] = set()
    for line, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(path, f"verwacht {len(header)} velden, gevonden {len(row)}", line=line)
        code = row[gcol].strip()
        if code not in valid_codes:
            if not is_region(code):
                raise InputError(path, f"geen CBS-regiocode: {row[gcol]!r}", line, header[gcol])
            valid_codes.add(code)
        period = row[tcol].strip()
        if period not in valid_periods:
            if not is_period(period):
                raise InputError(path, f"geen CBS-periodecode: {row[tcol]!r}", line, header[tcol])
            valid_periods.add(period)
        dims = {}
        for i in dim_cols:
            value = row[i].strip()
            if not value:
                raise InputError(path, "lege dimensiecode", line, header[i])
            dims[header[i]] = value
            if header[i] in labels:
                dimensions[header[i]].setdefault(value, row[labels[header[i]]].strip())
        key = dims_key(dims)
        if (code, period, key) in seen:
            raise InputError(path, f"dubbele rij voor {code} {period} {key} (ook op regel {seen[(code, period, key)]})", line)
        seen[(code, period, key)] = line
        cells = []
        for i, mid in measure_cols.items():
            raw = row[i].strip()
            if raw == "" or (untyped and raw == "."):
                reason = ("onmogelijk" if raw == "" else "onbekend") if untyped else "leeg"
                cells.append((mid, None, reason))
            elif raw.isdigit() and raw.isascii() and len(raw) < 16:  # a whole number (most cells), quickly
                cells.append((mid, float(raw), None))
            elif _NUMBER.fullmatch(raw):
                cells.append((mid, checked_value(float(raw), row[i], path, line, header[i]), None))
            else:
                raise InputError(path, f"geen getal: {row[i]!r}", line, header[i])
        if registry is not None:
            region = registry.regions.get(code)
            has_value = any(v is not None for _, v, _ in cells)
            if region is None:
                if has_value and code not in unknown:
                    unknown.append(code)
            elif not exists_in(region, period_year(period)):
                if not has_value:
                    dropped += 1
                    continue
                label = f"{code} {period}"
                if label not in not_valid:
                    not_valid.append(label)
        out.observations.extend(
            Observation(table_id, mid, code, period, value, None, key, reason, source) for mid, value, reason in cells
        )
    if dropped:
        out.warnings.append(
            f"{source}: {dropped} rij(en) zonder waarden overgeslagen van regiocodes die in dat jaar niet bestonden"
        )
    if not_valid:
        out.warnings.append(
            f"{source}: waarden voor regiocodes in een jaar waarin zij volgens RegioSCodes niet bestonden: "
            + ", ".join(not_valid[:10]) + (" …" if len(not_valid) > 10 else "")
        )
    if unknown:
        out.warnings.append(f"{source}: regiocodes met waarden die RegioSCodes niet kent: {', '.join(unknown[:20])}")
    out.tables.append(
        TableMeta(
            table_id=table_id,
            title=title or table_id,
            measures=meta,
            dimensions={k: v for k, v in dimensions.items() if v},
            source=source,
        )
    )
    return out
