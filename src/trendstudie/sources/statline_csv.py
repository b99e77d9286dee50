"""Importer for StatLine CSV downloads, the files analysts click together on opendata.cbs.nl.

Two shapes occur:

* the download itself: `;`-separated, decimal comma, UTF-8 with BOM, CRLF, one column per
  topic with a hierarchical header ending in its unit
  (`Bevolking/Bevolkingssamenstelling op 1 januari/Totale bevolking (aantal)`), one row per
  region and period, regions by name (`Groningen (gemeente)`, `Bergen (NH.)`);
* the same download passed through a spreadsheet: `,`-separated, decimal point, headers without
  units, either long (`Regio's, Perioden, <topic>, …`) or wide with the years as columns
  (`Regio's, Onderwerp, 2012, 2016, …`), and a trailing `Bron: …` line.

Headers (or `Onderwerp` values) become measure ids only through an explicit mapping (see
`exports.yaml`): an unmapped column is skipped with a warning, never given an invented id.
Region names become codes only through `RegionRegistry.resolve`, on 1 January of the year of
the value. A name without any value in the file (a gemeente that no longer existed in the
years exported) is skipped with a warning; a name that cannot be resolved but carries values
is an error naming the line and column.

Missing values: StatLine writes `.` for "unknown" and `x` for "secret"; an empty cell is not
explained by the export, so it becomes a missing value with reason `leeg`. Empty cells of a
region in a year in which it did not exist are dropped (they are not missing, they cannot be).
A trailing `*` on a period (`2024*`) marks provisional figures, `**` revised provisional ones.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import InputError, TrendstudieError
from ..textfile import csv_rows, read_text
from .records import Imported, MeasureMeta, Observation, TableMeta, checked_value, is_period, period_year

REGION_KINDS = ("NL", "LD", "PV", "CR", "GM")

_REGION_HEADERS = {"regio's", "regios", "regio", "regio’s", "gemeente", "gemeenten", "gemeentenaam"}
_PERIOD_HEADERS = {"perioden", "periode", "periods", "jaar"}
_TOPIC_HEADERS = {"onderwerp", "onderwerpen"}

_MONTHS = {
    name: i
    for i, name in enumerate(
        "januari februari maart april mei juni juli augustus september oktober november december".split(), start=1
    )
}
_UNIT = re.compile(r"^(?P<path>.*?)\s*\((?P<unit>[^()]*)\)\s*$")
_SUM_UNITS = {"aantal", "x 1 000", "x 1000", "aantal x 1 000", "ha", "hectare", "km²", "km2", "are"}
_MISSING = {".": "onbekend", "x": "geheim", "": "leeg"}
_STATUS_BY_STARS = {0: None, 1: "Voorlopig", 2: "NaderVoorlopig"}


# --- shared helpers (also used by cbsodata_csv) ------------------------------------------------


def parse_rows(path: Path, text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """CSV rows with the (1-based) line on which each ends; quoting errors name their line."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError(path, "bevat een NUL-teken: geen tekstbestand", line=line)
    return [(last, row) for _, last, row in csv_rows(text, path, delimiter)]


def aggregation_for_unit(unit: str, title: str = "") -> str:
    """'sum' for counts and areas, 'mean' for shares, rates and averages, '' when the unit
    alone does not tell (e.g. an amount in euro that is not said to be an average)."""
    u = unicodedata.normalize("NFKC", unit).strip().lower()
    t = title.lower()
    if u in _SUM_UNITS:
        return "sum"
    if u in ("%", "procent", "index", "jaar", "km") or u.startswith("per ") or " per " in f" {u} ":
        return "mean"
    if "euro" in u and "gemiddeld" in t:
        return "mean"
    return ""


def split_unit(header: str) -> tuple[str, str]:
    """'Bevolking/…/Totale bevolking (aantal)' → ('Bevolking/…/Totale bevolking', 'aantal')."""
    text = " ".join(header.split())
    m = _UNIT.match(text)
    if m and m.group("path"):
        return m.group("path"), m.group("unit").strip()
    return text, ""


def parse_period(label: str) -> tuple[str, str | None] | None:
    """A StatLine period label as (CBS period code, status), or None when it is not one.
    '2024' → 2024JJ00; '2024*' → provisional; '2024 3e kwartaal' → 2024KW03;
    '2024 maart' → 2024MM03; a CBS code passes through."""
    text = " ".join(label.split())
    stripped = text.rstrip("*").strip()
    stars = len(text) - len(text.rstrip("*"))
    if stars not in _STATUS_BY_STARS or not stripped:
        return None
    status = _STATUS_BY_STARS[stars]
    if is_period(stripped):
        return stripped, status
    if re.fullmatch(r"\d{4}", stripped):
        return f"{stripped}JJ00", status
    m = re.fullmatch(r"(\d{4}) ([1-4])e kwartaal", stripped.lower())
    if m:
        return f"{m.group(1)}KW0{m.group(2)}", status
    m = re.fullmatch(r"(\d{4}) ([a-z]+)", stripped.lower())
    if m and m.group(2) in _MONTHS:
        return f"{m.group(1)}MM{_MONTHS[m.group(2)]:02d}", status
    return None


def exists_in(region, year: int) -> bool:
    """Whether a region existed at some time during `year`. CBS publishes a year's figures for
    a gemeente that got its code during that year (a mid-year rename such as Bergeijk,
    25 September 1998) under the new code, so 1 January alone would be too strict."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    return (region.valid_from is None or region.valid_from < end) and (region.valid_to is None or region.valid_to > start)


def _norm_header(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").split()).lower()


@dataclass
class _Cell:
    line: int
    column: str
    name: str
    period: str
    status: str | None
    measure: str
    value: float | None
    reason: str | None


class _Parser:
    def __init__(self, path: Path, delimiter: str):
        self.path = path
        self.decimal = "," if delimiter == ";" else "."

    def number(self, raw: str, line: int, column: str) -> tuple[float | None, str | None]:
        text = raw.strip()
        if text in _MISSING:
            return None, _MISSING[text]
        other = "." if self.decimal == "," else ","
        candidate = text.replace(self.decimal, ".") if other not in text else None
        if candidate is not None and re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", candidate):
            return checked_value(float(candidate), raw, self.path, line, column), None
        sep = "komma" if self.decimal == "," else "punt"
        raise InputError(
            self.path, f"geen getal: {raw!r} (verwacht een getal met decimale {sep}, '.', 'x' of leeg)", line, column
        )


def read_statline_csv(
    path: Path,
    registry,
    *,
    table_id: str,
    headers: Mapping[str, str],
    title: str | None = None,
    measures: Mapping[str, MeasureMeta] | None = None,
    topic: str | None = None,
    source: str | None = None,
) -> Imported:
    """Read one StatLine CSV download (or its spreadsheet variant).

    headers: topic path (without unit), full header, or `Onderwerp` value → measure id.
    measures: declared metadata per measure id, used where the header carries no unit.
    topic: the measure's header for a wide file without an `Onderwerp` column.
    """
    path = Path(path)
    source = source or path.name
    measures = dict(measures or {})
    mapping = {_norm_header(k): v for k, v in headers.items()}
    text = read_text(path)
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first else ","
    rows = [(n, r) for n, r in parse_rows(path, text, delimiter) if any(c.strip() for c in r)]
    if not rows:
        raise InputError(path, "leeg bestand: geen kopregel gevonden", line=1)
    header_line, header = rows[0]
    header = [h.replace("\ufeff", "").strip() for h in header]
    norm = [_norm_header(h) for h in header]
    out = Imported()
    p = _Parser(path, delimiter)

    region_cols = [i for i, h in enumerate(norm) if h in _REGION_HEADERS]
    if len(region_cols) != 1:
        raise InputError(path, f"verwacht precies één regiokolom (Regio's), gevonden: {len(region_cols)}", line=header_line)
    rcol = region_cols[0]
    period_cols = [i for i, h in enumerate(norm) if h in _PERIOD_HEADERS]
    topic_cols = [i for i, h in enumerate(norm) if h in _TOPIC_HEADERS]
    if len(period_cols) > 1 or len(topic_cols) > 1:
        raise InputError(path, "meer dan één kolom Perioden of Onderwerp", line=header_line)

    # value columns: index → (measure id, or None in a wide file where the row's Onderwerp says;
    #                         (period, status) in a wide file, or None where the row's Perioden says)
    meta: dict[str, MeasureMeta] = {}
    skipped: list[str] = []
    value_cols: dict[int, tuple[str | None, tuple[str, str | None] | None]] = {}
    wide = not period_cols
    if wide:
        for i, h in enumerate(header):
            if i == rcol or i in topic_cols:
                continue
            per = parse_period(h)
            if per is None:
                raise InputError(
                    path, f"kolomkop {h!r} is geen periode (bestand zonder kolom Perioden)", header_line, h or i + 1
                )
            value_cols[i] = (None, per)
        if not topic_cols and topic is None:
            raise InputError(path, "breed bestand zonder kolom Onderwerp: geef het onderwerp op", line=header_line)
    else:
        for i, h in enumerate(header):
            if i in (rcol, period_cols[0]) or i in topic_cols:
                continue
            mid = _measure_for(h, mapping, measures, meta, out, source)
            if mid is None:
                skipped.append(h)
                continue
            value_cols[i] = (mid, None)
    if not value_cols and not skipped:
        raise InputError(path, "geen kolommen met waarden gevonden", line=header_line)

    cells: list[_Cell] = []
    footer_line = None
    after_footer = 0
    for line, row in rows[1:]:
        if footer_line is None and _is_footer(row):
            footer_line = line
            continue
        if footer_line is not None:
            after_footer += 1
            continue
        if len(row) != len(header):
            raise InputError(path, f"verwacht {len(header)} velden, gevonden {len(row)}", line=line)
        name = row[rcol].strip()
        if not name:
            raise InputError(path, "lege regionaam", line, header[rcol])
        if wide:
            label = row[topic_cols[0]] if topic_cols else topic
            mid = _measure_for(label, mapping, measures, meta, out, source)
            if mid is None:
                if label not in skipped:
                    skipped.append(label)
                continue
        else:
            per = parse_period(row[period_cols[0]])
            if per is None:
                raise InputError(path, f"onbekende periode {row[period_cols[0]]!r}", line, header[period_cols[0]])
        for i, (col_mid, col_per) in value_cols.items():
            value, reason = p.number(row[i], line, header[i])
            m_id = col_mid or mid
            code, status = col_per or per
            cells.append(_Cell(line, header[i], name, code, status, m_id, value, reason))

    if after_footer:
        out.warnings.append(f"{source}: {after_footer} regel(s) na de bronregel (regel {footer_line}) genegeerd")
    if skipped:
        out.warnings.append(
            f"{source}: {len(skipped)} kolom(men)/onderwerp(en) zonder koppeling aan een maatstaf overgeslagen: "
            + "; ".join(skipped[:10])
            + (" …" if len(skipped) > 10 else "")
        )
    # Columns without a single value in the file (e.g. topics CBS stopped publishing).
    with_value = {c.measure for c in cells if c.value is not None}
    empty = sorted({c.measure for c in cells} - with_value)
    if empty:
        out.warnings.append(f"{source}: {len(empty)} maatstaf(fen) zonder enige waarde overgeslagen: {', '.join(empty)}")
        cells = [c for c in cells if c.measure in with_value]

    out.observations.extend(_resolve(path, source, table_id, registry, cells, header[rcol], out))
    used = {o.measure for o in out.observations}
    out.tables.append(
        TableMeta(
            table_id=table_id,
            title=title or table_id,
            measures={k: v for k, v in meta.items() if k in used},
            source=source,
        )
    )
    return out


def _is_footer(row: list[str]) -> bool:
    first = row[0].strip().strip('"').lower()
    return (first.startswith("bron:") or first.startswith("bron :") or first == "bron") and not any(
        c.strip() for c in row[1:]
    )


def _measure_for(header: str, mapping, measures, meta, out: Imported, source: str) -> str | None:
    path_, unit = split_unit(header)
    mid = mapping.get(_norm_header(path_)) or mapping.get(_norm_header(header))
    if mid is None:
        return None
    if mid in meta:
        return mid
    declared = measures.get(mid)
    if unit:
        title = path_.rsplit("/", 1)[-1]
        agg = aggregation_for_unit(unit, title)
        basis = declared.basis if declared else ("woningen" if "woning" in title.lower() else "inwoners")
        if declared and declared.unit and _norm_header(declared.unit) != _norm_header(unit):
            out.warnings.append(
                f"{source}: eenheid {unit!r} in de kop van {mid} wijkt af van de opgegeven eenheid {declared.unit!r}"
            )
        meta[mid] = MeasureMeta(title=declared.title if declared else title, unit=unit, aggregation=agg, basis=basis)
    elif declared:
        meta[mid] = declared
    else:
        meta[mid] = MeasureMeta(title=path_.rsplit("/", 1)[-1], unit="", aggregation="")
    return mid


def _resolve(path: Path, source: str, table_id: str, registry, cells: list[_Cell], region_header: str, out: Imported):
    """Turn names into codes per year; skip names without values; report the questionable."""
    by_name: dict[str, list[_Cell]] = {}
    for c in cells:
        by_name.setdefault(c.name, []).append(c)
    no_values_known: list[str] = []
    no_values_unknown: list[str] = []
    not_valid: list[str] = []
    dropped = 0
    result: list[Observation] = []
    seen: dict[tuple[str, str, str], tuple[int, str]] = {}
    for name, group in by_name.items():
        if all(c.value is None for c in group):
            try:
                registry.resolve(name, kinds=REGION_KINDS)
                no_values_known.append(name)
            except TrendstudieError:
                no_values_unknown.append(name)
            continue
        codes: dict[int, str | None] = {}
        for c in group:
            year = period_year(c.period)
            if year in codes and (codes[year] is not None or c.value is None):
                continue
            try:
                codes[year] = registry.resolve(name, on=date(year, 1, 1), kinds=REGION_KINDS)
            except TrendstudieError as exc:
                if c.value is not None:
                    raise InputError(path, f"{exc} (met waarden)", c.line, region_header) from None
                codes[year] = None  # only empty cells in this year: nothing to place
        for c in group:
            year = period_year(c.period)
            code = codes[year]
            if code is None:
                dropped += 1
                continue
            region = registry.regions.get(code)
            if region is not None and not exists_in(region, year):
                if c.value is None:
                    dropped += 1
                    continue
                label = f"{name} ({code}) {year}"
                if label not in not_valid:
                    not_valid.append(label)
            key = (code, c.period, c.measure)
            if key in seen:
                line, other = seen[key]
                raise InputError(
                    path, f"dubbele waarde voor {code} {c.period} {c.measure} ({other!r} op regel {line} en {name!r})",
                    c.line, c.column,
                )
            seen[key] = (c.line, name)
            result.append(
                Observation(
                    table_id=table_id,
                    measure=c.measure,
                    region_code=code,
                    period=c.period,
                    value=c.value,
                    status=c.status,
                    reason=c.reason,
                    source=source,
                )
            )
    if dropped:
        out.warnings.append(f"{source}: {dropped} lege cel(len) van regio's in jaren waarin zij niet bestonden weggelaten")
    if no_values_known:
        out.warnings.append(
            f"{source}: {len(no_values_known)} regionaam/-namen zonder enige waarde overgeslagen (historische gemeenten), "
            f"bv. {', '.join(no_values_known[:8])}"
        )
    if no_values_unknown:
        out.warnings.append(
            f"{source}: {len(no_values_unknown)} onbekende regionaam/-namen zonder waarden overgeslagen: "
            f"{', '.join(no_values_unknown[:20])}"
        )
    if not_valid:
        out.warnings.append(
            f"{source}: waarden voor een regio in een jaar waarin zij volgens RegioSCodes niet bestond: "
            f"{'; '.join(not_valid[:10])}" + (" …" if len(not_valid) > 10 else "")
        )
    return result
