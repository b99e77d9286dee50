"""Importers for small, hand-made CSV files in the bundle's `raw/` folder, plus the text and
number helpers the other `raw/` importers share.

Files and their traps (see the bundle's PROVENANCE.md):

- `han-kwang__covid19/data/huishoudens_samenstelling_gemeentes.csv`: CBS 71486NED (household
  composition, 1 January 2020) with gemeenten **by name only**, a BOM, CRLF and `#` comment lines
  that name the table and the CBS titles of the columns. Names become codes through
  `RegionRegistry.resolve` on 1 January of the row's year; historic names (gemeenten that no
  longer existed) have empty cells and are skipped. The measure ids are the publisher's column
  names (`nHH`, `n1PHH`, ...): the v3 keys of 71486NED could not be established offline; the
  titles are CBS's, taken from the comment header.
- `edugis-repo__cbsbuurtwijkgemeente/extra/gem-autobezit-huishouden_2023_gem.csv`: a CBS/RDW
  custom table (not in StatLine): title line, empty line, header, data, empty line, source
  line; `;`-separated, decimal comma, BOM, CRLF; name **and** code, checked against each other.
  Table id `CBSRDW_AUTOBEZIT` (documented here, no CBS id exists), measure
  `PersonenautosPerHuishouden`, period from the title ("1 januari 2023" → `2023JJ00`).
- `kuuroooo__LeefbaarometerPrototype/AmstelveenDataWithDimensions.csv`: Leefbaarometer 3.0
  (BZK, not CBS) scores per wijk of Amstelveen. Table id `LBM3` (catalog `BZK`); measures are
  the Leefbaarometer variable names (`lbm`, `afw`, `fys`, `onv`, `soc`, `vrz`, `won`). The
  publisher's row-index column (header `1`) is dropped with a warning. Checked: `afw` is the sum
  of the five dimension scores.
- `edugis-repo__cbsbuurtwijkgemeente/gemeenten-alfabetisch-{2021,2023}.csv`: CBS's
  *Gemeentelijke indeling op 1 januari*: a classification list, not observations.
  `read_gemeentelijke_indeling` returns `(code, name, province_code)` rows and
  `check_gemeentelijke_indeling` compares them with the region registry on 1 January.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from ..errors import InputError, TrendstudieError
from ..geo.regions import RegionRegistry
from ..textfile import csv_rows, read_text
from .records import Imported, MeasureMeta, Observation, TableMeta, checked_value, year_period

# --------------------------------------------------------------------------------------------
# Shared helpers (also used by kwb.py and geo/shapes.py)
# --------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_GM = re.compile(r"^GM\d{4}$")
_WK = re.compile(r"^WK\d{4}[0-9A-Z]{2}$")  # CBS gives some wijken letters (WK0363AA)


def csv_records(text: str, path: str | Path, delimiter: str = ",", first_line: int = 1) -> list[tuple[int, list[str]]]:
    """Parse CSV text into (first line number, cells) pairs; CRLF and LF both work."""
    return [(first, cells) for first, _, cells in csv_rows(text, path, delimiter, first_line)]


def parse_number(
    text: str, path: str | Path, line: int, column: str | int, decimal_comma: bool = False
) -> float | None:
    """A published number; empty means missing (None). Anything else is an InputError."""
    cell = text.strip()
    if cell == "":
        return None
    if decimal_comma:
        if "." in cell and "," in cell:
            raise InputError(path, f"getal {text!r} heeft zowel punt als komma", line=line, column=column)
        cell = cell.replace(",", ".")
    if not _NUMBER.match(cell):
        raise InputError(path, f"geen getal: {text!r}", line=line, column=column)
    return checked_value(float(cell), text, path, line, column)


def source_name(path: str | Path, root: str | Path | None) -> str:
    """The path as stored in `Observation.source`: relative to the bundle root when given."""
    p = Path(path)
    if root is not None:
        try:
            return p.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()


def check_code_name(
    registry: RegionRegistry | None, code: str, name: str, day: date, where: str
) -> str | None:
    """A Dutch warning when a gemeente code and the name beside it disagree on `day`, or when
    the code did not exist on that day; None when they agree (or there is no registry)."""
    if registry is None:
        return None
    region = registry.regions.get(code)
    if region is None or region.kind != "GM":
        return f"{where}: gemeentecode {code} is bij CBS onbekend"
    if not region.valid_on(day):
        return f"{where}: gemeentecode {code} ({region.name}) bestond niet op {_dutch_date(day)}"
    try:
        resolved = registry.resolve(name, on=day)
    except TrendstudieError as exc:
        return f"{where}: naam {name!r} bij {code} niet herkend ({exc}); de code is aangehouden"
    if resolved != code:
        return (
            f"{where}: code {code} en naam {name!r} spreken elkaar tegen "
            f"(die naam hoort bij {resolved}); de code is aangehouden"
        )
    return None


def check_wijk(registry: RegionRegistry | None, code: str, day: date, where: str) -> str | None:
    """A wijk code's gemeente (WK036201 → GM0362) must exist on `day`."""
    if registry is None:
        return None
    gm = "GM" + code[2:6]
    region = registry.regions.get(gm)
    if region is None or not region.valid_on(day):
        return f"{where}: wijk {code} hoort bij {gm}, maar die gemeente bestond niet op {_dutch_date(day)}"
    return None


_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
           "september", "oktober", "november", "december")


def _dutch_date(day: date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def header_and_records(path: str | Path) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """A comma-separated file with a header: (the header's line, its cells, the records after
    it). An empty file is an InputError."""
    records = csv_records(read_text(path), path)
    if not records:
        raise InputError(path, "leeg bestand", line=1)
    (header_line, header), rest = records[0], records[1:]
    return header_line, header, rest


def header_index(header: list[str], required: list[str], path: str | Path, line: int) -> dict[str, int]:
    """Each (stripped) column name's position. A required column missing, or a name given twice,
    is an InputError naming them and the header's line."""
    names = [h.strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(path, f"kolom(men) ontbreken: {', '.join(missing)}", line=line)
    dupes = sorted({n for n in names if n and names.count(n) > 1})
    if dupes:
        raise InputError(path, f"kolom(men) dubbel: {', '.join(dupes)}", line=line)
    return {n: i for i, n in enumerate(names)}


def gemeente_rows(records: list[tuple[int, list[str]]], idx: dict[str, int], code_column: str, name_column: str,
                  path: str | Path, source: str, registry: RegionRegistry | None, day: date, out: Imported):
    """(line, cells, code) for each data row of a file with one row per gemeente: blank rows are
    skipped; a row of the wrong width, a cell that is no gemeente code or a code seen before is an
    InputError naming the line; a code whose name disagrees with the registry on `day` is a warning."""
    seen: dict[str, int] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(idx):
            raise InputError(path, f"verwacht {len(idx)} kolommen, vond er {len(cells)}", line=line)
        code = cells[idx[code_column]].strip().upper()
        if not _GM.match(code):
            raise InputError(path, f"geen gemeentecode: {code!r}", line=line, column=code_column)
        if code in seen:
            raise InputError(path, f"{code} staat er al op regel {seen[code]}", line=line, column=code_column)
        seen[code] = line
        problem = check_code_name(registry, code, cells[idx[name_column]].strip(), day, f"{source}, regel {line}")
        if problem:
            out.warnings.append(problem)
        yield line, cells, code


def _cell(cells: list[str], index: int, path: str | Path, line: int, n_columns: int) -> str:
    if len(cells) != n_columns:
        raise InputError(path, f"verwacht {n_columns} kolommen, vond er {len(cells)}", line=line)
    return cells[index]


def _year(text: str, path: str | Path, line: int, column: str) -> int:
    cell = text.strip()
    if not re.fullmatch(r"\d{4}", cell) or not 1800 <= int(cell) <= 2100:
        raise InputError(path, f"geen jaartal: {text!r}", line=line, column=column)
    return int(cell)


# --------------------------------------------------------------------------------------------
# 71486NED household composition, names only (han-kwang/covid19)
# --------------------------------------------------------------------------------------------

HUISHOUDENS_MEASURES = ["nHH", "n1PHH", "nMPHH", "nPaarNietGehuwd", "nPaarGehuwd", "nEenOuder",
                        "n2PHH", "n3pHH", "n4PHH", "n5PHH"]


def read_huishoudens_samenstelling(
    path: str | Path, registry: RegionRegistry, root: str | Path | None = None
) -> Imported:
    """Household composition per gemeente (CBS 71486NED) as published with names only."""
    text = read_text(path)
    source = source_name(path, root)
    out = Imported()
    comments: list[str] = []
    lines = text.split("\n")
    first_data = 0
    while first_data < len(lines) and (lines[first_data].startswith("#") or not lines[first_data].strip()):
        if lines[first_data].startswith("#"):
            comments.append(lines[first_data][1:].strip().rstrip("\r"))
        first_data += 1
    if first_data >= len(lines):
        raise InputError(path, "geen kopregel gevonden na de #-commentaarregels", line=first_data or 1)
    table_id = None
    for comment in comments:
        m = re.search(r"\b(\d{5}[A-Za-z]{3})\b", comment)
        if m:
            table_id = m.group(1).upper()
            break
    if table_id is None:
        table_id = "71486NED"
        out.warnings.append(f"{source}: het commentaar noemt geen CBS-tabel; aangenomen 71486NED "
                            "(Huishoudens; samenstelling, grootte, regio, 1 januari)")
    titles = [c for c in _after(comments, "Kolommen:") if c]
    body = "\n".join(lines[first_data:])
    records = csv_records(body, path, first_line=first_data + 1)
    if not records:
        raise InputError(path, "geen kopregel gevonden", line=first_data + 1)
    header_line, header = records[0]
    idx = header_index(header, ["Gemeente", "Jaar", *HUISHOUDENS_MEASURES], path, header_line)
    extra = [h.strip() for h in header if h.strip() not in ("Gemeente", "Jaar", *HUISHOUDENS_MEASURES)]
    if extra:
        out.warnings.append(f"{source}: onbekende kolommen genegeerd: {', '.join(extra)}")
    if len(titles) == len(HUISHOUDENS_MEASURES):
        title_of = dict(zip(HUISHOUDENS_MEASURES, titles))
    else:
        title_of = {m: m for m in HUISHOUDENS_MEASURES}
        out.warnings.append(f"{source}: het commentaar noemt {len(titles)} kolomtitels in plaats van "
                            f"{len(HUISHOUDENS_MEASURES)}; de kolomnamen zijn als titel gebruikt")
    measures = {
        m: MeasureMeta(title=_strip_unit(title_of[m]), unit="aantal", decimals=0, aggregation="sum")
        for m in HUISHOUDENS_MEASURES
    }
    title = comments[0] if comments else "Huishoudens; samenstelling, grootte, regio, 1 januari"
    out.tables.append(TableMeta(table_id, title, "CBS", measures, source=source))
    seen: dict[tuple[str, str], int] = {}
    unresolved_empty: list[str] = []
    for line, cells in records[1:]:
        if not any(c.strip() for c in cells):
            continue
        n = len(header)
        name = _cell(cells, idx["Gemeente"], path, line, n).strip()
        year = _year(_cell(cells, idx["Jaar"], path, line, n), path, line, "Jaar")
        values = {m: parse_number(cells[idx[m]], path, line, m) for m in HUISHOUDENS_MEASURES}
        if not name:
            raise InputError(path, "lege gemeentenaam", line=line, column="Gemeente")
        day = date(year, 1, 1)
        has_data = any(v is not None for v in values.values())
        try:
            code = registry.resolve(name, on=day)
        except TrendstudieError as exc:
            if has_data:
                out.warnings.append(f"{source}, regel {line}: {exc}; rij overgeslagen")
            else:
                unresolved_empty.append(name)
            continue
        if not registry.regions[code].valid_on(day):
            if has_data:
                out.warnings.append(f"{source}, regel {line}: {name} ({code}) bestond niet op "
                                    f"{_dutch_date(day)} maar heeft cijfers; rij overgeslagen")
            continue  # a historic name listed with empty cells: the gemeente did not exist
        period = year_period(year)
        if (code, period) in seen:
            out.warnings.append(f"{source}, regel {line}: {name} ({code}) staat er voor {year} al op "
                                f"regel {seen[(code, period)]}; deze rij is overgeslagen")
            continue
        seen[(code, period)] = line
        for m, v in values.items():
            out.observations.append(Observation(
                table_id, m, code, period, v, None,
                reason=None if v is not None else "leeg in het bestand", source=source))
        out.check_sum(f"{source}, regel {line}", code, values, "nHH", ["n1PHH", "nMPHH"])
        out.check_sum(f"{source}, regel {line}", code, values, "nMPHH", ["n2PHH", "n3pHH", "n4PHH", "n5PHH"])
    if unresolved_empty:
        out.warnings.append(f"{source}: {len(unresolved_empty)} lege rijen met onbekende namen "
                            f"overgeslagen: {', '.join(unresolved_empty[:5])}")
    return out


def _after(comments: list[str], marker: str) -> list[str]:
    for i, c in enumerate(comments):
        if c.strip() == marker:
            return comments[i + 1:]
    return []


def _strip_unit(title: str) -> str:
    return re.sub(r"\s*\((aantal|%)\)\s*$", "", title).strip()


# --------------------------------------------------------------------------------------------
# Cars per household 2023 (CBS/RDW custom table)
# --------------------------------------------------------------------------------------------

AUTOBEZIT_TABLE = "CBSRDW_AUTOBEZIT"
AUTOBEZIT_MEASURE = "PersonenautosPerHuishouden"


def read_autobezit(path: str | Path, registry: RegionRegistry | None, root: str | Path | None = None) -> Imported:
    """Average number of cars per household per gemeente (CBS/RDW, `;`, decimal comma)."""
    text = read_text(path)
    source = source_name(path, root)
    out = Imported()
    records = csv_records(text, path, delimiter=";")
    header_at = next((i for i, (_, cells) in enumerate(records)
                      if cells and cells[0].strip() == "Gemeentenaam"), None)
    if header_at is None:
        raise InputError(path, "geen kopregel die met 'Gemeentenaam' begint", line=1)
    title_cells = [c.strip() for _, cells in records[:header_at] for c in cells if c.strip()]
    title = title_cells[0] if title_cells else ""
    m = re.search(r"1 januari (\d{4})", title)
    if not m:
        raise InputError(path, f"de titel noemt geen peildatum '1 januari <jaar>': {title!r}", line=1)
    year = int(m.group(1))
    header_line, header = records[header_at]
    value_col = next((h.strip() for h in header if h.strip().lower().startswith("personenauto")), None)
    if value_col is None:
        raise InputError(path, "kolom met personenauto's per huishouden ontbreekt", line=header_line)
    idx = header_index(header, ["Gemeentenaam", "Gemeentecode", value_col], path, header_line)
    day = date(year, 1, 1)
    period = year_period(year)
    catalog = "CBS/RDW"
    seen: dict[str, int] = {}
    for line, cells in records[header_at + 1:]:
        if not any(c.strip() for c in cells):
            continue
        first = cells[0].strip()
        if first.lower().startswith("bron:"):
            catalog = first.split(":", 1)[1].strip() or catalog
            continue
        n = len(header)
        name = _cell(cells, idx["Gemeentenaam"], path, line, n).strip()
        code = cells[idx["Gemeentecode"]].strip().upper()
        if not _GM.match(code):
            raise InputError(path, f"geen gemeentecode: {code!r}", line=line, column="Gemeentecode")
        value = parse_number(cells[idx[value_col]], path, line, value_col, decimal_comma=True)
        if code in seen:
            raise InputError(path, f"{code} staat er al op regel {seen[code]}", line=line, column="Gemeentecode")
        seen[code] = line
        problem = check_code_name(registry, code, name, day, f"{source}, regel {line}")
        if problem:
            out.warnings.append(problem)
        if value is not None and not 0 <= value <= 10:
            out.warnings.append(f"{source}, regel {line}: {code} heeft {value:g} auto's per huishouden; "
                                "dat lijkt onwaarschijnlijk")
        out.observations.append(Observation(
            AUTOBEZIT_TABLE, AUTOBEZIT_MEASURE, code, period, value, None,
            reason=None if value is not None else "leeg in het bestand", source=source))
    if not seen:
        raise InputError(path, "geen gegevensregels na de kopregel", line=header_line)
    out.tables.append(TableMeta(
        AUTOBEZIT_TABLE, title, catalog,
        {AUTOBEZIT_MEASURE: MeasureMeta(value_col, unit="auto's per huishouden", decimals=1,
                                        aggregation="mean", basis="inwoners")},
        source=source))
    return out


# --------------------------------------------------------------------------------------------
# Leefbaarometer 3.0 per wijk (kuuroooo/LeefbaarometerPrototype)
# --------------------------------------------------------------------------------------------

LBM_TABLE = "LBM3"
LBM_MEASURES = {
    "lbm": "Leefbaarometer-score totaal",
    "afw": "Afwijking van het landelijk gemiddelde",
    "fys": "Fysieke omgeving (bijdrage aan de afwijking)",
    "onv": "Overlast en onveiligheid (bijdrage aan de afwijking)",
    "soc": "Sociale samenhang (bijdrage aan de afwijking)",
    "vrz": "Voorzieningen (bijdrage aan de afwijking)",
    "won": "Woningvoorraad (bijdrage aan de afwijking)",
}


def read_leefbaarometer(path: str | Path, registry: RegionRegistry | None = None,
                        root: str | Path | None = None) -> Imported:
    """Leefbaarometer 3.0 scores per wijk (`wk_code`, as in the bundle's Amstelveen file) or per
    gemeente (`gm_code`, the publisher's gemeente file that `sync` downloads). Wijk names cannot be
    checked (the registry holds no wijken); the wijk's gemeente must exist in the year of the
    score. The publisher gives every year on one (the latest) classification, so a gemeente code
    only has to be known to the registry, not to exist in that year."""
    source = source_name(path, root)
    out = Imported()
    header_line, header, records = header_and_records(path)
    names = {h.strip() for h in header}
    level = "gm" if "gm_code" in names and "wk_code" not in names else "wk"
    code_col, name_col = f"{level}_code", f"{level}_naam"
    idx = header_index(header, [code_col, "jaar", *LBM_MEASURES], path, header_line)
    known = {code_col, name_col, "jaar", *LBM_MEASURES}
    dropped = [h.strip() for h in header if h.strip() not in known]
    if dropped:
        out.warnings.append(f"{source}: kolom(men) {', '.join(repr(d) for d in dropped)} van de uitgever "
                            "(geen Leefbaarometer-gegeven) genegeerd")
    seen: dict[tuple[str, int], int] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        n = len(header)
        code = _cell(cells, idx[code_col], path, line, n).strip().upper()
        if level == "gm" and re.fullmatch(r"\d{1,4}", code):
            code = f"GM{int(code):04d}"  # a numeric gemeentecode, as some exports give it
        if not (_GM if level == "gm" else _WK).match(code):
            kind = "gemeentecode" if level == "gm" else "wijkcode"
            raise InputError(path, f"geen {kind}: {code!r}", line=line, column=code_col)
        year = _year(cells[idx["jaar"]], path, line, "jaar")
        if (code, year) in seen:
            raise InputError(path, f"{code} {year} staat er al op regel {seen[(code, year)]}", line=line)
        seen[(code, year)] = line
        if level == "wk":
            problem = check_wijk(registry, code, date(year, 1, 1), f"{source}, regel {line}")
        else:
            problem = (f"{source}, regel {line}: gemeentecode {code} is onbekend"
                       if registry is not None and code not in registry.regions else None)
        if problem:
            out.warnings.append(problem)
        values = {m: parse_number(cells[idx[m]], path, line, m) for m in LBM_MEASURES}
        for m, v in values.items():
            out.observations.append(Observation(
                LBM_TABLE, m, code, year_period(year), v, None,
                reason=None if v is not None else "leeg in het bestand", source=source))
        parts = [values[m] for m in ("fys", "onv", "soc", "vrz", "won")]
        if values["afw"] is not None and all(p is not None for p in parts):
            if abs(sum(parts) - values["afw"]) > 1e-6:
                out.warnings.append(f"{source}, regel {line}: {code} {year}: de dimensies tellen op tot "
                                    f"{sum(parts):.4f}, maar afw is {values['afw']:.4f}")
    measures = {m: MeasureMeta(t, unit="score", decimals=None, aggregation="") for m, t in LBM_MEASURES.items()}
    title = "Leefbaarometer 3.0, scores per " + ("gemeente" if level == "gm" else "wijk")
    out.tables.append(TableMeta(LBM_TABLE, title, "BZK", measures, source=source))
    return out


# --------------------------------------------------------------------------------------------
# Gemeentelijke indeling op 1 januari (classification lists)
# --------------------------------------------------------------------------------------------

INDELING_COLUMNS = ["Gemeentecode", "GemeentecodeGM", "Gemeentenaam", "Provinciecode", "ProvinciecodePV",
                    "Provincienaam"]


def read_gemeentelijke_indeling(path: str | Path) -> list[tuple[str, str, str]]:
    """CBS's list 'Gemeentelijke indeling op 1 januari <jaar>' as (GM code, name, PV code).

    The numeric and prefixed code columns must agree (`0363` and `GM0363`; `27` and `PV27`);
    a disagreement is an InputError, since the list then says two things at once."""
    header_line, header, records = header_and_records(path)
    idx = header_index(header, INDELING_COLUMNS, path, header_line)
    rows: list[tuple[str, str, str]] = []
    seen: dict[str, int] = {}
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        n = len(header)
        num = _cell(cells, idx["Gemeentecode"], path, line, n).strip()
        code = cells[idx["GemeentecodeGM"]].strip().upper()
        name = cells[idx["Gemeentenaam"]].strip()
        pnum = cells[idx["Provinciecode"]].strip()
        pcode = cells[idx["ProvinciecodePV"]].strip().upper()
        if not _GM.match(code):
            raise InputError(path, f"geen gemeentecode: {code!r}", line=line, column="GemeentecodeGM")
        if not re.fullmatch(r"\d{1,4}", num) or int(num) != int(code[2:]):
            raise InputError(path, f"Gemeentecode {num!r} past niet bij {code}", line=line, column="Gemeentecode")
        if not re.fullmatch(r"PV\d{2}", pcode):
            raise InputError(path, f"geen provinciecode: {pcode!r}", line=line, column="ProvinciecodePV")
        if not re.fullmatch(r"\d{1,2}", pnum) or int(pnum) != int(pcode[2:]):
            raise InputError(path, f"Provinciecode {pnum!r} past niet bij {pcode}", line=line, column="Provinciecode")
        if not name:
            raise InputError(path, "lege gemeentenaam", line=line, column="Gemeentenaam")
        if code in seen:
            raise InputError(path, f"{code} staat er al op regel {seen[code]}", line=line, column="GemeentecodeGM")
        seen[code] = line
        rows.append((code, name, pcode))
    return rows


def indeling_year(path: str | Path) -> int:
    """The year in a file name like `gemeenten-alfabetisch-2023.csv`."""
    m = re.search(r"(19|20)\d{2}", Path(path).name)
    if not m:
        raise InputError(path, "de bestandsnaam noemt geen jaar van de indeling")
    return int(m.group(0))


def check_gemeentelijke_indeling(
    rows: list[tuple[str, str, str]], registry: RegionRegistry, year: int
) -> list[str]:
    """Dutch messages for every difference between a classification list and the registry on
    1 January of `year`: missing or extra codes, names that belong to another code, provinces."""
    day = date(year, 1, 1)
    when = _dutch_date(day)
    expected = set(registry.gemeenten_on(day))
    listed = {code for code, _, _ in rows}
    messages: list[str] = []
    for code in sorted(expected - listed):
        messages.append(f"{code} ({registry.regions[code].name}) bestond op {when}, maar ontbreekt in de lijst")
    for code, name, province in rows:
        region = registry.regions.get(code)
        if region is None or region.kind != "GM":
            messages.append(f"{code} ({name}) staat in de lijst, maar is bij CBS onbekend")
            continue
        if code not in expected:
            messages.append(f"{code} ({name}) staat in de lijst, maar bestond volgens CBS niet op {when}")
            continue
        try:
            resolved = registry.resolve(name, on=day)
        except TrendstudieError as exc:
            messages.append(f"{code}: naam {name!r} niet herkend ({exc})")
        else:
            if resolved != code:
                messages.append(f"{code}: de naam {name!r} hoort volgens CBS bij {resolved}")
        if region.province and region.province != province:
            messages.append(f"{code} ({name}): provincie {province} in de lijst, {region.province} bij CBS")
    return messages


__all__ = [
    "read_text", "csv_records", "header_and_records", "header_index", "parse_number", "source_name", "check_code_name", "check_wijk",
    "read_huishoudens_samenstelling", "read_autobezit", "read_leefbaarometer",
    "read_gemeentelijke_indeling", "check_gemeentelijke_indeling", "indeling_year",
]
