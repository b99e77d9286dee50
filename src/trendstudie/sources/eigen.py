"""Reading an analyst's own files (`trendstudie importeer`): StatLine CSV downloads, Excel sheets
and plain long tables, into the common shape every importer produces (`Imported`).

One reader serves every shape, because all of them are the same table underneath: a region
column, a period column (or periods as column heads), and value columns. A file is first turned
into a grid of cells that know where they are (`regel 12, kolom Perioden` in a CSV, `cel B17`
in a sheet); then the header row is found, and every row below it becomes observations.

Shapes recognised:

* the StatLine download with codes ("untyped"): `ID;RegioS;Perioden;TotaleBevolking_1`, codes
  padded with spaces, decimal point, `.` unknown; other columns are dimensions (`Geslacht`);
* the StatLine download with labels: an optional title block above the table (title, `Onderwerp`
  rows, units), then `Regio's;Perioden;<onderwerp> (eenheid)`, regions by name, decimal comma,
  and a `Bron: CBS` line below;
* a plain long table: `gemeente, periode, waarde[, status][, teller, noemer]`;
* a wide table with the periods as column heads (`gemeente, 2025, 2026, …`), as prognoses come.

Separator `;` or `,` (or tab), quotes, decimal comma or point; `.`, `x`, `-`, `?` and an empty cell
are missing values with their reason; a trailing `*` on a period marks provisional figures.
Regions are codes (`GM0363`, `363`) or names of any year, resolved through
`RegionRegistry.resolve` on 1 January of the value's year, so former gemeenten ('Brielle' in 2020)
get their own code and are harmonised like CBS data.

Every problem is an `InputError` naming the file, the line or cell, and what was expected; the
reader never writes anything.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal

from ..errors import InputError, TrendstudieError
from ..textfile import read_text
from .cbsodata_csv import topic_columns
from .records import Imported, MeasureMeta, Observation, TableMeta, dims_key, is_period, is_region
from .statline_csv import aggregation_for_unit, parse_period, parse_rows, split_unit

Soort = Literal["aantal", "aandeel", "gemiddelde", "verhouding"]
SOORTEN: tuple[str, ...] = ("aantal", "aandeel", "gemiddelde", "verhouding")
REGION_KINDS = ("GM", "PV", "NL", "LD", "CR")
TABLE_PREFIX = "eigen:"

_REGION_HEADERS = {"regio's", "regios", "regio", "regio’s", "gemeente", "gemeenten", "gemeentenaam", "gemeentecode",
                   "regioS".lower(), "regions", "region", "regiocode", "code", "naam"}
_PERIOD_HEADERS = {"perioden", "periode", "periods", "period", "jaar", "year", "peildatum"}
_TOPIC_HEADERS = {"onderwerp", "onderwerpen"}
_STATUS_HEADERS = {"status"}
_IGNORED_HEADERS = {"id"}
_NUMERATOR, _DENOMINATOR = "teller", "noemer"
MISSING = {"": "leeg", ".": "onbekend", "x": "geheim", "-": "nihil of onbekend (-)", "?": "onbekend", "..": "onbekend"}
_STATUSES = {"definitief": "Definitief", "voorlopig": "Voorlopig", "nader voorlopig": "NaderVoorlopig",
             "nadervoorlopig": "NaderVoorlopig", "*": "Voorlopig", "**": "NaderVoorlopig", "": None}
_V3_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*?_\d+$")
_COMMA_NUMBER = re.compile(r"[-+]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_POINT_NUMBER = re.compile(r"[-+]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|[-+]?\.\d+")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")

# Counts are summed over predecessors by the harmoniser; shares, averages and ratios are not
# weighted there but re-computed from their numerator and denominator (eigen.py), or kept on the
# boundaries they were published on.
KIND_AGGREGATION = {"aantal": "sum", "aandeel": "", "gemiddelde": "", "verhouding": ""}


def table_id(naam: str) -> str:
    return f"{TABLE_PREFIX}{naam}"


def check_name(naam: str) -> str:
    if not _NAME.match(naam):
        raise TrendstudieError(
            f"Ongeldige naam {naam!r} voor een import: gebruik kleine letters, cijfers, - en _ (hoogstens 40 tekens), "
            "bijvoorbeeld jeugdzorg of primos-2024.")
    return naam


def name_from_file(path: Path) -> str:
    text = unicodedata.normalize("NFKD", Path(path).stem)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40].strip("-")
    return text or "import"


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("%", " procent "))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_") or "waarde"


# --- the grid ------------------------------------------------------------------------------------


@dataclass
class Grid:
    """A file's cells, each row with the line (CSV) or row number (sheet) it came from."""

    path: Path
    rows: list[tuple[int, list[object]]]  # (line or sheet row, cells: str | float | None)
    sheet: str | None = None  # set for a spreadsheet: cells are named like B17
    delimiter: str | None = None

    def fail(self, message: str, row: int | None = None, col: int | None = None, header: str | None = None):
        """An InputError at a line/column (CSV) or a cell (sheet)."""
        if self.sheet is not None:
            where = f"{self.path}, blad {self.sheet!r}"
            if row is not None and col is not None:
                where += f", cel {_column_letter(col)}{row}"
            elif row is not None:
                where += f", rij {row}"
            return InputError(where, message)
        column = header if header else (col + 1 if col is not None else None)
        return InputError(self.path, message, line=row, column=column)


def _column_letter(index: int) -> str:
    letters = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def read_grid(path: Path, sheet: str | None = None) -> Grid:
    path = Path(path)
    if not path.exists():
        raise InputError(path, "bestand niet gevonden")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx_grid(path, sheet)
    if path.suffix.lower() == ".xls":
        raise InputError(path, "het oude Excel-formaat .xls wordt niet gelezen: sla het op als .xlsx of als CSV")
    if sheet is not None:
        raise InputError(path, "--blad geldt alleen voor Excel-bestanden (.xlsx)")
    text = read_text(path)
    delimiter = _delimiter(text)
    rows = [(n, list(r)) for n, r in parse_rows(path, text, delimiter)]
    return Grid(path, rows, delimiter=delimiter)


def _delimiter(text: str) -> str:
    """The separator that splits most of the first lines into the same number of fields (a title
    block above the table may contain commas or none at all); ';' on a tie, as StatLine writes."""
    head = "\n".join(line for line in text.splitlines()[:40] if line.strip())
    best, score = ";", (-1, -1)
    for d in (";", "\t", ","):
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(head), delimiter=d) if len(r) > 1]
        except csv.Error:
            continue
        common = max(set(widths), key=widths.count) if widths else 0
        candidate = (widths.count(common) if widths else 0, common)
        if candidate > score:
            best, score = d, candidate
    return best


def _xlsx_grid(path: Path, sheet: str | None) -> Grid:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(path, f"geen leesbaar Excel-bestand (.xlsx): {exc}") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise InputError(path, f"geen blad {sheet!r}; de bladen zijn: {', '.join(wb.sheetnames)}")
        rows = []
        for r, cells in enumerate(ws.iter_rows(values_only=True), start=1):
            values: list[object] = []
            for v in cells:
                if isinstance(v, bool):
                    v = str(v)
                elif isinstance(v, (int, float)):
                    v = float(v)
                elif v is not None and not isinstance(v, str):
                    v = str(v)  # dates and the like: read as text, refused where a number is expected
                values.append(v)
            rows.append((r, values))
        return Grid(path, rows, sheet=ws.title)
    finally:
        wb.close()


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return str(cell).replace("\ufeff", "").strip()


def _norm(cell: object) -> str:
    return " ".join(_text(cell).split()).lower()


# --- what the reader returns ---------------------------------------------------------------------


@dataclass
class Column:
    index: int
    header: str
    measure: str
    title: str
    unit: str
    period: tuple[str, str | None] | None = None  # wide by period: this column's period


@dataclass
class Parsed:
    """An own file, read: observations as published (codes of their own year) and metadata."""

    naam: str
    title: str
    shape: str  # 'statline-codes' | 'statline-labels' | 'lang' | 'breed'
    imported: Imported
    soorten: dict[str, str] = field(default_factory=dict)  # measure → aantal/aandeel/gemiddelde/verhouding
    names: dict[str, str] = field(default_factory=dict)  # region name as written → code (for --controle)

    @property
    def table(self) -> TableMeta:
        return self.imported.tables[0]


def _header_kind(text: str) -> str | None:
    t = _norm(text)
    if t in _REGION_HEADERS:
        return "region"
    if t in _PERIOD_HEADERS:
        return "period"
    if t in _TOPIC_HEADERS:
        return "topic"
    if t in _STATUS_HEADERS:
        return "status"
    if t in _IGNORED_HEADERS:
        return "ignore"
    if t == _NUMERATOR:
        return "numerator"
    if t == _DENOMINATOR:
        return "denominator"
    return None


def _find_header(grid: Grid) -> int:
    """Index (into grid.rows) of the header row: the first with a region column and a period
    column, or a region column and periods as column heads."""
    for i, (_, cells) in enumerate(grid.rows[:60]):
        kinds = [_header_kind(_text(c)) for c in cells]
        if "region" not in kinds:
            continue
        if "period" in kinds or any(parse_period(_text(c)) for c, k in zip(cells, kinds) if k is None and _text(c)):
            return i
    raise grid.fail("geen kopregel gevonden: verwacht een kolom met de gemeente (kop 'gemeente', 'Regio's' of "
                    "'RegioS') en een kolom met de periode (kop 'periode', 'Perioden' of 'jaar'), of de jaren als "
                    "kolomkoppen", row=grid.rows[0][0] if grid.rows else 1)


def read_file(path: Path, registry, *, naam: str, soort: str | None = None, sheet: str | None = None,
              title: str | None = None) -> Parsed:
    """Read an own file into observations of table `eigen:<naam>` (see the module docstring)."""
    if soort is not None and soort not in SOORTEN:
        raise TrendstudieError(f"Onbekende soort {soort!r}: kies uit {', '.join(SOORTEN)}.")
    grid = read_grid(path, sheet)
    rows = [(n, cells) for n, cells in grid.rows if any(_text(c) for c in cells)]
    if not rows:
        raise grid.fail("leeg bestand: geen kopregel en geen waarden", row=1)
    grid.rows = rows
    h = _find_header(grid)
    header_row, header_cells = rows[h]
    header = [_text(c) for c in header_cells]
    width = len(header)
    above = rows[:h]
    kinds = [_header_kind(x) for x in header]
    region_cols = [i for i, k in enumerate(kinds) if k == "region"]
    if len(region_cols) > 1:
        # 'code' and 'naam' side by side: the code column wins (codes never need resolving).
        codes = [i for i in region_cols if _norm(header[i]) in ("regios", "regiocode", "gemeentecode", "code")]
        region_cols = codes[:1] or region_cols[:1]
        for i, k in enumerate(kinds):
            if k == "region" and i not in region_cols:
                kinds[i] = "ignore"
    rcol = region_cols[0]
    period_cols = [i for i, k in enumerate(kinds) if k == "period"]
    if len(period_cols) > 1:
        raise grid.fail("meer dan één periodekolom", row=header_row, col=period_cols[1], header=header[period_cols[1]])
    pcol = period_cols[0] if period_cols else None
    topic_cols = [i for i, k in enumerate(kinds) if k == "topic"]
    scol = next((i for i, k in enumerate(kinds) if k == "status"), None)
    num_col = next((i for i, k in enumerate(kinds) if k == "numerator"), None)
    den_col = next((i for i, k in enumerate(kinds) if k == "denominator"), None)
    if (num_col is None) != (den_col is None):
        which = "noemer" if den_col is None else "teller"
        raise grid.fail(f"kolom '{which}' ontbreekt: teller en noemer horen samen", row=header_row)
    untyped = _norm(header[rcol]) in ("regios", "regions") and any(_V3_KEY.match(x) for x in header)
    refs = topic_columns(header) if untyped else {}

    # A units row just below the header (StatLine's labels download): region and period cells empty.
    units_row: dict[int, str] = {}
    body = rows[h + 1:]
    if body and pcol is not None:
        cells = body[0][1]
        cell = lambda i: _text(cells[i]) if i < len(cells) else ""  # noqa: E731
        values = [cell(i) for i in range(width) if kinds[i] is None]
        if not cell(rcol) and not cell(pcol) and values and all(v and _parse_number(v, ",") is None
                                                                 and v not in MISSING for v in values if v):
            units_row = {i: cell(i) for i in range(width) if kinds[i] is None and cell(i)}
            body = body[1:]
    # Topic paths in the title block: rows directly above the header with text above value columns.
    prefixes: dict[int, list[str]] = {}
    title_lines: list[str] = []
    for _, cells in above:
        texts = [_text(c) for c in cells]
        filled = [i for i, t in enumerate(texts) if t]
        lead = texts[rcol] if rcol < len(texts) else ""
        if len(filled) == 1 or (lead and _norm(lead) not in _TOPIC_HEADERS):
            # a title line (an unquoted title may have been split at the separator: join it again)
            title_lines.append((f"{grid.delimiter} " if grid.delimiter else " ").join(texts[i] for i in filled))
            continue
        for i in range(min(width, len(texts))):
            if kinds[i] is None and texts[i] and _norm(texts[i]) not in _TOPIC_HEADERS:
                prefixes.setdefault(i, []).append(texts[i])

    dims_cols: list[int] = []
    columns: list[Column] = []
    used_ids: set[str] = set()
    wide = pcol is None
    for i, x in enumerate(header):
        if kinds[i] is not None:
            continue
        if not x and not prefixes.get(i):
            if any(i < len(c) and _text(c[i]) for _, c in body):
                raise grid.fail("kolom zonder kop met waarden: geef elke kolom een kop", row=header_row, col=i)
            continue
        if wide:
            per = parse_period(x)
            if per is None:
                raise grid.fail(f"kolomkop {x!r} is geen periode (verwacht bijvoorbeeld 2025, 2025JJ00 of 2025*; "
                                "het bestand heeft geen kolom 'periode', dus staan de jaren als kolomkoppen)",
                                row=header_row, col=i, header=x)
            columns.append(Column(i, x, "", "", "", per))
            continue
        if untyped:
            ref = refs.get(x)
            if ref is None:
                dims_cols.append(i)  # Geslacht, Leeftijd: a dimension of the v3 download
                continue
            mid = ref.replace("#", "_")
            columns.append(Column(i, x, mid, ref.split("#")[0], ""))
            continue
        path_, unit = split_unit(x)
        if not unit and i in units_row:
            unit = units_row[i]
        parts = prefixes.get(i, []) + [path_]
        leaf = (path_ or parts[-1]).rsplit("/", 1)[-1].strip()
        mid = slug(leaf)
        for candidate in (mid, slug(f"{leaf} {unit}"), slug("/".join(parts) + f" {unit}")):
            if candidate not in used_ids:
                mid = candidate
                break
        else:
            raise grid.fail(f"twee kolommen met dezelfde kop {x!r}", row=header_row, col=i, header=x)
        used_ids.add(mid)
        columns.append(Column(i, x, mid, title or (naam if _norm(leaf) == "waarde" else leaf), unit))
    if not columns:
        raise grid.fail("geen kolommen met waarden gevonden naast gemeente en periode", row=header_row)

    shape = "statline-codes" if untyped else ("breed" if wide else ("statline-labels" if (
        above or units_row or any(split_unit(c.header)[1] for c in columns)) else "lang"))
    decimal = "." if untyped or grid.delimiter in (",", "\t") else ","
    table_title = title or (title_lines[0] if title_lines else naam)

    # Wide by period: one measure, named after the topic column or the import.
    wide_measure = None
    if wide:
        if topic_cols:
            wide_measure = None  # per row, from the Onderwerp column
        else:
            wide_measure = Column(-1, "", "waarde", table_title, "")

    measures: dict[str, MeasureMeta] = {}
    soorten: dict[str, str] = {}
    warnings: list[str] = []

    def declare(col: Column) -> None:
        if col.measure in measures:
            return
        from_unit = aggregation_for_unit(col.unit, col.title) if col.unit else ""
        unit_kind = _kind_of_unit(col.unit, col.title) if from_unit else None
        kind = unit_kind or soort
        if unit_kind and soort and unit_kind != soort:
            warnings.append(f"{col.title}: de eenheid {col.unit!r} zegt {unit_kind}, --soort zegt {soort}; "
                            f"de eenheid is aangehouden")
        if kind is None:
            raise grid.fail(
                f"van {col.title!r} is niet bekend of het een aantal, aandeel, gemiddelde of verhouding is "
                "(de kop noemt geen eenheid als '(aantal)' of '(%)'): geef --soort aantal|aandeel|gemiddelde|verhouding",
                row=header_row, col=col.index if col.index >= 0 else None, header=col.header or None)
        soorten[col.measure] = kind
        basis = "woningen" if "woning" in col.title.lower() else "inwoners"
        measures[col.measure] = MeasureMeta(title=col.title, unit=col.unit or _default_unit(kind),
                                            aggregation=KIND_AGGREGATION[kind], basis=basis)

    for c in columns:
        if c.measure:
            declare(c)
    if wide_measure is not None:
        declare(wide_measure)

    source = f"eigen/{naam} ({Path(path).name})"
    tid = table_id(naam)
    out = Imported()
    seen: dict[tuple[str, str, str, str], tuple[int, str]] = {}
    names: dict[str, str] = {}
    resolved: dict[tuple[str, int], str] = {}
    dimensions: dict[str, dict[str, str]] = {header[i]: {} for i in dims_cols}
    footer = False
    for line, cells in body:
        cells = list(cells) + [None] * (width - len(cells))
        first = _norm(cells[0]) if cells else ""
        if first.startswith("bron") and not any(_text(c) for c in cells[1:]):
            footer = True
            continue
        if footer:
            continue  # notes below the source line ('Gewijzigd op …')
        if len(cells) > width and any(_text(c) for c in cells[width:]):
            raise grid.fail(f"{len([c for c in cells if _text(c)])} gevulde velden, verwacht hoogstens {width} (zoals de kopregel)",
                            row=line)
        name = _text(cells[rcol])
        if not name:
            if all(not _text(c) for i, c in enumerate(cells[:width]) if i != rcol):
                continue
            raise grid.fail("lege gemeente: verwacht een gemeentenaam of -code", row=line, col=rcol, header=header[rcol])
        row_periods: list[tuple[Column, str, str | None]] = []
        if wide:
            for c in columns:
                row_periods.append((c, c.period[0], c.period[1]))
        else:
            raw_period = _text(cells[pcol])
            per = parse_period(raw_period)
            if per is None:
                raise grid.fail(f"periode {raw_period!r} is niet te lezen: verwacht een jaar (2021), een CBS-code "
                                "(2021JJ00, 2021KW03), een voorlopig jaar (2021*), '2021 1e kwartaal' of '2021 maart'",
                                row=line, col=pcol, header=header[pcol])
            row_periods = [(c, per[0], per[1]) for c in columns]
        status_override = None
        if scol is not None:
            raw_status = _norm(cells[scol])
            if raw_status not in _STATUSES:
                raise grid.fail(f"status {_text(cells[scol])!r} is niet te lezen: verwacht definitief, voorlopig, "
                                "nader voorlopig of leeg", row=line, col=scol, header=header[scol])
            status_override = _STATUSES[raw_status]
        dims = {}
        for i in dims_cols:
            code = _text(cells[i])
            if not code:
                raise grid.fail(f"lege code voor {header[i]}", row=line, col=i, header=header[i])
            dims[header[i]] = code
            dimensions[header[i]].setdefault(code, code)
        dkey = dims_key(dims)
        row_measure = wide_measure
        if wide and wide_measure is None:
            label = _text(cells[topic_cols[0]])
            path_, unit = split_unit(label)
            row_measure = Column(topic_cols[0], label, slug(path_.rsplit("/", 1)[-1]), path_.rsplit("/", 1)[-1], unit)
            declare(row_measure)
        for c, period, star_status in row_periods:
            year = int(period[:4])
            code = resolved.get((name, year))
            if code is None:
                code = _resolve(grid, registry, name, year, line, rcol, header[rcol])
                resolved[(name, year)] = code
                names.setdefault(name, code)
            measure = c.measure or row_measure.measure
            raw = cells[c.index]
            value, reason = _value(grid, raw, decimal, line, c.index, c.header or header[c.index])
            key = (code, period, measure, dkey)
            if key in seen:
                other_line, other_name = seen[key]
                also = f" (daar als {other_name!r})" if other_name != name else ""
                raise grid.fail(
                    f"dubbele waarde voor {registry.regions[code].name if code in registry.regions else code} ({code}) "
                    f"{period} {measure}{' [' + dkey + ']' if dkey else ''}: die staat ook op "
                    f"{'rij' if grid.sheet else 'regel'} {other_line}{also}; verwacht één waarde per gemeente, "
                    "periode en maatstaf", row=line, col=c.index, header=c.header or None)
            seen[key] = (line, name)
            status = status_override if scol is not None and status_override is not None else star_status
            out.observations.append(Observation(tid, measure, code, period, value, status, dkey, reason, source))
            if num_col is not None:
                for col, suffix in ((num_col, _NUMERATOR), (den_col, _DENOMINATOR)):
                    v, r = _value(grid, cells[col], decimal, line, col, header[col])
                    out.observations.append(Observation(tid, f"{measure}.{suffix}", code, period, v, status, dkey, r,
                                                        source))
    if not out.observations:
        raise grid.fail("geen regels met waarden onder de kopregel", row=header_row)
    if num_col is not None:
        for mid in list(measures):
            for suffix, what in ((_NUMERATOR, "teller"), (_DENOMINATOR, "noemer")):
                measures[f"{mid}.{suffix}"] = MeasureMeta(title=f"{measures[mid].title} ({what})", unit="aantal",
                                                          aggregation="sum", basis=measures[mid].basis)
    out.tables.append(TableMeta(table_id=tid, title=table_title, catalog="eigen", measures=measures,
                                dimensions={k: v for k, v in dimensions.items() if v}, source=source))
    out.warnings.extend(warnings)
    return Parsed(naam=naam, title=table_title, shape=shape, imported=out, soorten=soorten, names=names)


def _kind_of_unit(unit: str, title: str) -> str | None:
    agg = aggregation_for_unit(unit, title)
    if agg == "sum":
        return "aantal"
    if agg != "mean":
        return None
    u = unit.strip().lower()
    if u in ("%", "procent"):
        return "aandeel"
    if "gemiddeld" in title.lower() or u in ("jaar", "km"):
        return "gemiddelde"
    return "verhouding"


def _default_unit(kind: str) -> str:
    return {"aantal": "aantal", "aandeel": "%"}.get(kind, "")


def _parse_number(text: str, decimal: str) -> float | None:
    t = text.replace("\u00a0", "").replace(" ", "")
    if decimal == ",":
        if _COMMA_NUMBER.fullmatch(t):
            value = float(t.replace(".", "").replace(",", "."))
        elif "," not in t and re.fullmatch(r"[-+]?\d*\.\d+", t) and not re.fullmatch(r"[-+]?\d{1,3}\.\d{3}", t):
            value = float(t)  # a decimal point where a comma was expected, unambiguous
        else:
            return None
    else:
        if not _POINT_NUMBER.fullmatch(t):
            return None
        value = float(t.replace(",", ""))
    return value if math.isfinite(value) else None


def _value(grid: Grid, raw: object, decimal: str, line: int, col: int, header: str) -> tuple[float | None, str | None]:
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise grid.fail(f"{raw!r} is geen eindig getal", row=line, col=col, header=header)
        return raw, None
    text = _text(raw)
    if text.lower() in MISSING:
        return None, MISSING[text.lower()]
    value = _parse_number(text, decimal)
    if value is None:
        sep = "komma" if decimal == "," else "punt"
        raise grid.fail(f"{text!r} is geen getal: verwacht een getal (met decimale {sep}), of '.', 'x', '-' of een "
                        "lege cel voor een onbekende of geheime waarde", row=line, col=col, header=header)
    return value, None


def _resolve(grid: Grid, registry, name: str, year: int, line: int, col: int, header: str) -> str:
    text = name.strip().strip('"').strip()
    if re.fullmatch(r"\d{1,4}", text):
        text = f"GM{int(text):04d}"
    upper = text.upper()
    if is_region(upper):
        if upper in registry.regions:
            return upper
        raise grid.fail(f"onbekende regiocode {name!r}: geen gemeente, provincie of land van CBS", row=line, col=col,
                        header=header)
    try:
        return registry.resolve(text, on=date(year, 1, 1), kinds=REGION_KINDS)
    except TrendstudieError as exc:
        message = str(exc)
        if message.startswith("Onbekende regionaam"):
            message = (f"onbekende gemeente {name!r}: verwacht de naam van een gemeente van nu of vroeger (zoals Zwolle "
                       "of Brielle) of een code als GM0193")
            hint = suggest(registry, text)
            if hint:
                message += f". Bedoelt u {' of '.join(repr(h) for h in hint)}?"
        raise grid.fail(message, row=line, col=col, header=header) from None


def suggest(registry, text: str, n: int = 3) -> list[str]:
    from ..geo.regions import normalise_name

    names = {}
    for r in registry.regions.values():
        if r.kind in REGION_KINDS:
            names.setdefault(normalise_name(r.name), r.name)
    hits = difflib.get_close_matches(normalise_name(text), list(names), n=n, cutoff=0.75)
    return [names[h] for h in hits]


__all__ = ["Parsed", "read_file", "read_grid", "table_id", "check_name", "name_from_file", "SOORTEN", "TABLE_PREFIX",
           "is_period"]
