"""Every table trendstudie hands out, written one way: CSV, JSON and XLSX for the CLI (`facts`,
`export`, `prognose`, verkenning results), the web downloads and API, and the report's data
appendix.

A table is its column names and its rows (sequences in column order). The three formats agree:

- CSV: a header row, `\\n` line ends, numbers with a decimal point as the data have them (integral
  values without `.0`, others to twelve significant digits, which keeps every figure as computed
  and drops only floating-point noise: `134147`, `0.251849637546`), no value as an empty field,
  true/false for yes/no; text as it is (line breaks as \\n), quoted by the csv module where needed.
- JSON: a list of objects with the column names as keys, written by `jsonout` (always valid JSON,
  a missing or non-finite number is `null`).
- XLSX: one sheet (or several) with the header row and the values as numbers, booleans and text.

Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a
carriage return, e.g. a name typed into a verkenning) is written with a leading apostrophe in CSV
and XLSX, so opening a download never runs anything (CSV injection). Numbers are never touched.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from . import jsonout

FORMATS = ("csv", "json", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard(value: Any) -> Any:
    """Text a spreadsheet would run as a formula, with a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def cell(value: Any) -> str:
    """One CSV field: '' for no value (or a non-finite number), true/false, an integral number
    without decimals, any other number to twelve significant digits, text guarded against formulas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return str(int(value)) if value.is_integer() else repr(float(f"{value:.12g}"))
    # A carriage return would end the record for a reader (the csv module does not quote it when
    # lines end in \n): line breaks inside text become \n, which is quoted.
    return guard(str(value)).replace("\r\n", "\n").replace("\r", "\n")


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    w.writerows([cell(v) for v in row] for row in rows)
    return buf.getvalue()


def to_json(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, indent: int | None = 1,
            compact: bool = False) -> str:
    """A list of objects, one per row, keyed by the column names (without a final newline)."""
    return jsonout.dumps([dict(zip(columns, row)) for row in rows], indent=None if compact else indent,
                         compact=compact)


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "dtype") and hasattr(value, "item"):  # a numpy scalar
        return _xlsx_value(value.item())
    return guard(value)


def to_xlsx_sheets(sheets: Sequence[Sheet]) -> bytes:
    """A workbook with these sheets, in order (streaming mode: fast for the full table)."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        ws.append([guard(c) for c in sheet.columns])
        for row in sheet.rows:
            ws.append([_xlsx_value(v) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_xlsx(columns: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str = "cijfers") -> bytes:
    return to_xlsx_sheets([Sheet(sheet, columns, rows)])


def write(fmt: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "cijfers",
          indent: int | None = 1, compact: bool = False) -> str | bytes:
    """The table in `fmt` (csv, json: text; xlsx: bytes)."""
    if fmt == "csv":
        return to_csv(columns, rows)
    if fmt == "json":
        return to_json(columns, rows, indent=indent, compact=compact)
    if fmt == "xlsx":
        return to_xlsx(columns, rows, sheet)
    raise ValueError(f"unknown table format {fmt!r}")


def rows_of(records: Iterable[Any], columns: Sequence[str]) -> list[list[Any]]:
    """Rows from dicts (by key) or objects (by attribute), in column order; a missing key is None."""
    out = []
    for r in records:
        if isinstance(r, dict):
            out.append([r.get(c) for c in columns])
        else:
            out.append([getattr(r, c, None) for c in columns])
    return out


__all__ = ["FORMATS", "MEDIA_TYPES", "Sheet", "guard", "cell", "to_csv", "to_json", "to_xlsx", "to_xlsx_sheets",
           "write", "rows_of"]
