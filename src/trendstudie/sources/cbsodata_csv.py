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
from .records import (MAX_MAGNITUDE, Imported, MeasureMeta, TableMeta, checked_value, dims_key,
                      is_period, is_region, period_year)
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
    # Row by row: the codes, dimensions and labels of each row (a few per row).
    dim_names = [header[i] for i in dim_cols]
    labelled = [(i, header[i], labels[header[i]]) for i in dim_cols if header[i] in labels]
    seen: dict[tuple[str, str, str], int] = {}
    valid_codes: set[str] = set()  # region and period codes found valid already (repeated on every row)
    valid_periods: set[str] = set()
    data = rows[1:]
    keys: list[tuple[str, str, str]] = []
    for line, row in data:
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
        values = [row[i].strip() for i in dim_cols]
        for name, value in zip(dim_names, values):
            if not value:
                raise InputError(path, "lege dimensiecode", line, name)
        for i, name, label in labelled:
            dimensions[name].setdefault(row[i].strip(), row[label].strip())
        key = dims_key(dict(zip(dim_names, values)))
        cell = (code, period, key)
        if cell in seen:
            raise InputError(path, f"dubbele rij voor {code} {period} {key} (ook op regel {seen[cell]})", line)
        seen[cell] = line
        keys.append(cell)
    # Column by column: the figures (most of the file), see `_measure_column`.
    lines = [line for line, _ in data]
    cells = list(zip(*(row for _, row in data))) if data else [()] * len(header)
    figures = _measure_columns([cells[i] for i in measure_cols], untyped, path, lines, [header[i] for i in measure_cols])
    kept = _kept_rows(keys, figures, registry, out, source)
    out.columns = _observations(table_id, list(measure_cols.values()), keys, figures, kept, source)
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


# The figures of one measure column, worked column-wise: REASONS index per cell.
REASONS = (None, "onmogelijk", "onbekend", "leeg")
_PLAIN_NUMBER = r"^ *[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+) *$"


def _measure_column(raw: tuple[str, ...], untyped: bool, path: Path, lines: list[int], column: str):
    """(values, reasons) of one measure column: float64 values (0 where missing) and the index in
    REASONS of each cell (0 = a value). The common cells (a plain number between spaces, an empty
    cell, "." in an untyped export) are worked column-wise; a column with any other cell goes
    cell by cell through `_measure_cell`, which reads what it can and names the line of what it
    cannot (other whitespace, a number out of range, no number)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(raw)
    column_array = pa.array(raw, type=pa.string())
    trimmed = pc.utf8_trim(column_array, " ")
    empty = pc.equal(trimmed, "")
    dot = pc.equal(trimmed, ".") if untyped else pa.array(np.zeros(n, dtype=bool))
    number = pc.match_substring_regex(column_array, _PLAIN_NUMBER)
    plain = pc.or_(pc.or_(empty, dot), number)
    if n and pc.all(plain).as_py():
        is_number = number.to_numpy(zero_copy_only=False)
        values = np.zeros(n, dtype=np.float64)
        if is_number.any():
            try:
                values[is_number] = pc.cast(pc.filter(trimmed, number), pa.float64()).to_numpy(zero_copy_only=False)
            except pa.ArrowInvalid:
                return _cell_by_cell(raw, untyped, path, lines, column)
        if np.abs(values).max(initial=0.0) <= MAX_MAGNITUDE:
            reasons = np.zeros(n, dtype=np.int8)
            if untyped:
                reasons[empty.to_numpy(zero_copy_only=False)] = 1
                reasons[dot.to_numpy(zero_copy_only=False)] = 2
            else:
                reasons[empty.to_numpy(zero_copy_only=False)] = 3
            return values, reasons
    return _cell_by_cell(raw, untyped, path, lines, column)


def _measure_columns(columns: list[tuple[str, ...]], untyped: bool, path: Path, lines: list[int], names: list[str]):
    """`_measure_column` of each column, worked on all columns at once (one Arrow array of every
    cell, column after column): a column that is not plain throughout goes cell by cell, in
    column order, so that the first bad cell reported is the same."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    k, n = len(columns), len(lines)
    if not k or not n:
        return [_measure_column(column, untyped, path, lines, name) for column, name in zip(columns, names)]
    cells = pa.array([cell for column in columns for cell in column], type=pa.string())
    trimmed = pc.utf8_trim(cells, " ")
    empty = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    dot = pc.equal(trimmed, ".").to_numpy(zero_copy_only=False) if untyped else np.zeros(k * n, dtype=bool)
    number_mask = pc.match_substring_regex(cells, _PLAIN_NUMBER)
    number = number_mask.to_numpy(zero_copy_only=False)
    values = np.zeros(k * n, dtype=np.float64)
    try:
        values[number] = pc.cast(pc.filter(trimmed, number_mask), pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # a number Arrow will not read: each column on its own
        return [_measure_column(column, untyped, path, lines, name) for column, name in zip(columns, names)]
    plain = (empty | dot | number).reshape(k, n).all(axis=1) & (np.abs(values).reshape(k, n).max(axis=1) <= MAX_MAGNITUDE)
    reasons = np.zeros(k * n, dtype=np.int8)
    if untyped:
        reasons[empty] = 1
        reasons[dot] = 2
    else:
        reasons[empty] = 3
    values, reasons = values.reshape(k, n), reasons.reshape(k, n)
    return [(values[c], reasons[c]) if plain[c] else _cell_by_cell(columns[c], untyped, path, lines, names[c])
            for c in range(k)]


def _cell_by_cell(raw: tuple[str, ...], untyped: bool, path: Path, lines: list[int], column: str):
    import numpy as np

    values = np.zeros(len(raw), dtype=np.float64)
    reasons = np.zeros(len(raw), dtype=np.int8)
    for j, (cell, line) in enumerate(zip(raw, lines)):
        value, reason = _measure_cell(cell, untyped, path, line, column)
        if reason is None:
            values[j] = value
        else:
            reasons[j] = REASONS.index(reason)
    return values, reasons


def _measure_cell(cell: str, untyped: bool, path: Path, line: int, column: str) -> tuple[float | None, str | None]:
    """One cell as (value, None) or (None, reason); an InputError naming the line when it is no figure."""
    raw = cell.strip()
    if raw == "" or (untyped and raw == "."):
        return None, (("onmogelijk" if raw == "" else "onbekend") if untyped else "leeg")
    if _NUMBER.fullmatch(raw):
        return checked_value(float(raw), cell, path, line, column), None
    raise InputError(path, f"geen getal: {cell!r}", line, column)


def _kept_rows(keys: list[tuple[str, str, str]], figures: list, registry, out: Imported, source: str):
    """The rows to keep, as a boolean array: with a registry, rows of codes that did not exist in
    that year and hold no value are dropped; values for such codes, and codes the registry does
    not know, are reported in `out.warnings`."""
    import numpy as np

    kept = np.ones(len(keys), dtype=bool)
    if registry is None or not keys:
        return kept
    has_value = np.zeros(len(keys), dtype=bool)
    for _values, reasons in figures:
        has_value |= reasons == 0
    dropped = 0
    not_valid: list[str] = []
    unknown: list[str] = []
    exists: dict[tuple[str, str], bool | None] = {}  # (code, period) → existed that year; None: unknown code
    for j, (code, period, _key) in enumerate(keys):
        state = exists.get((code, period), False)
        if state is False and (code, period) not in exists:
            region = registry.regions.get(code)
            state = exists[(code, period)] = None if region is None else exists_in(region, period_year(period))
        if state is None:
            if has_value[j] and code not in unknown:
                unknown.append(code)
        elif not state:
            if not has_value[j]:
                dropped += 1
                kept[j] = False
                continue
            label = f"{code} {period}"
            if label not in not_valid:
                not_valid.append(label)
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
    return kept


def _observations(table_id: str, measures: list[str], keys: list[tuple[str, str, str]], figures: list, kept,
                  source: str):
    """The observations of the kept rows, row by row and within a row in column order, as an
    Arrow table (buildcache.OBSERVATION_COLUMNS). Texts repeat (a row's codes in each of its
    cells): each is kept once, and each cell gets its number (a few_texts column) or its text taken
    by number."""
    import numpy as np
    import pyarrow as pa

    from ..buildcache import OBSERVATION_COLUMNS
    from ..store import few_texts

    k = len(measures)
    rows = np.flatnonzero(kept)
    if not k or not len(rows):
        return OBSERVATION_COLUMNS.empty_table()
    n = len(rows) * k
    values = np.stack([v[rows] for v, _ in figures], axis=1).ravel()  # row-major: a row's cells together
    reasons = np.stack([r[rows] for _, r in figures], axis=1).ravel()
    present = reasons == 0

    def column(name: str, texts: list[str], number) -> pa.Array:  # `number`: each cell's index into `texts`
        if OBSERVATION_COLUMNS.field(name).type == few_texts():
            return pa.DictionaryArray.from_arrays(pa.array(number.astype(np.int32)), pa.array(texts, type=pa.string()))
        return pa.array(texts, type=pa.string()).take(number)

    by_row = []  # region code, period, dimensions: a row's, repeated for each of its cells
    for part in range(3):
        distinct: dict[str, int] = {}
        number = np.fromiter((distinct.setdefault(keys[j][part], len(distinct)) for j in rows.tolist()),
                             dtype=np.int64, count=len(rows))
        by_row.append((list(distinct), number.repeat(k)))
    (codes, code_of), (periods, period_of), (dims, dims_of) = by_row
    once = np.zeros(n, dtype=np.int64)
    return pa.Table.from_arrays([
        column("table_id", [table_id], once), column("measure", measures, np.tile(np.arange(k), len(rows))),
        column("region_code", codes, code_of), column("period", periods, period_of),
        pa.array(values, mask=~present, type=pa.float64()), pa.nulls(n, type=pa.string()),
        column("dims", dims, dims_of), column("reason", list(REASONS), reasons.astype(np.int64)),
        column("source", [source], once),
    ], schema=OBSERVATION_COLUMNS)
