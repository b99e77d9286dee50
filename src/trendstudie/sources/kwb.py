"""Importers for extracts of CBS *Kerncijfers wijken en buurten* (KWB) found in `raw/`.

KWB is published as one StatLine table per edition. The edition ids used here are CBS's:
2019 84583NED, 2020 84799NED, 2021 85039NED, 2022 85318NED, 2023 85618NED, 2024 85984NED,
2025 86165NED (PROVENANCE.md names 2019 and 2024; the others were established from several
independent public code bases that call CBS with them). The period of every value is the
edition year (`2024JJ00`): KWB variables refer to different moments within an edition
(population on 1 January, WOZ values of the previous valuation date), which the edition's
documentation describes; we keep the edition as CBS labels it.

Three shapes:

- `read_kwb_2019`: `ujjwalx__dsa2022/kwb-2019.csv`, a gemeente extract of 84583NED whose
  publisher renamed the columns into English. The columns are mapped back to the KWB variable
  names (`population` → `a_inw`, `b_00_14` → `a_00_14`, `unmarried` → `a_ongeh`, ...): the
  measure ids are CBS's. Code and name are checked against the registry on 1 January 2019.
- `read_kwb_housing`: `Marlinehuman__…/CLEANED_municipal_housing_2020_2025.csv`, gemeente rows
  of the KWB editions 2020–2025 (one table id per edition). The publisher's own derived columns
  (`housing_pressure`, `effective_housing_stock`, `vacancy_adjusted_pressure`,
  `rental_vulnerability`, `paradox_index`, `urbanity_label`, `price_pressure`) are not CBS
  figures and are dropped with a warning. **WOZ decision**: CBS publishes `g_wozbag` in
  "x 1 000 euro"; the publisher multiplied it by 1000. We undo that (value / 1000, unit
  "x 1 000 euro", as CBS publishes it) so that `g_wozbag` means the same in every source; a value
  that is not a whole number of thousands is reported. R wrote some of those values in
  scientific notation (`3e+05`); they are exact and read as such, with one warning.
- `read_kwb_v3`: the niquedegraaff 2024 extract: a JSON object keyed by region code (GM and WK)
  holding v3 topic keys, plus the real v3 `DataProperties.json` and `TableInfos.json` of
  85984NED. Keys are mapped through DataProperties (Key → Title, Unit, Decimals,
  PresentationType); the measure id is the key stem (`AantalInwoners_5` → `AantalInwoners`),
  the full key where a stem is not unique. Table id, title, period and modification date come
  from TableInfos.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..geo.regions import RegionRegistry
from ..textfile import load_json
from .misc_csv import (check_code_name, check_wijk, gemeente_rows, header_and_records, header_index, parse_number,
                       source_name)
from .records import Imported, MeasureMeta, Observation, TableMeta, number_problem, year_period

KWB_TABLES: dict[int, str] = {
    2019: "84583NED",
    2020: "84799NED",
    2021: "85039NED",
    2022: "85318NED",
    2023: "85618NED",
    2024: "85984NED",
    2025: "86165NED",
}

_GM = re.compile(r"^GM\d{4}$")
# CBS gives some wijken letters: Amsterdam's are WK0363AA ... (KWB 2024). They are real codes.
_WK = re.compile(r"^WK\d{4}[0-9A-Z]{2}$")


def kwb_title(year: int) -> str:
    return f"Kerncijfers wijken en buurten {year}"


# --------------------------------------------------------------------------------------------
# KWB 2019 (English column names)
# --------------------------------------------------------------------------------------------

# publisher's column → (KWB variable, CBS title)
KWB2019_COLUMNS: dict[str, tuple[str, str]] = {
    "population": ("a_inw", "Aantal inwoners"),
    "men": ("a_man", "Mannen"),
    "women": ("a_vrouw", "Vrouwen"),
    "b_00_14": ("a_00_14", "Personen 0 tot 15 jaar"),
    "b_15_24": ("a_15_24", "Personen 15 tot 25 jaar"),
    "b_25_44": ("a_25_44", "Personen 25 tot 45 jaar"),
    "b_45_64": ("a_45_64", "Personen 45 tot 65 jaar"),
    "b_65_oo": ("a_65_oo", "Personen 65 jaar en ouder"),
    "unmarried": ("a_ongeh", "Ongehuwd"),
    "married": ("a_gehuwd", "Gehuwd"),
    "divorced": ("a_gesch", "Gescheiden"),
    "widowed": ("a_verwed", "Verweduwd"),
}


def read_kwb_2019(path: str | Path, registry: RegionRegistry | None = None,
                  root: str | Path | None = None, year: int = 2019) -> Imported:
    """A gemeente extract of KWB 2019 (84583NED) with English column names."""
    if year not in KWB_TABLES:
        raise ValueError(f"no known KWB edition for {year}")
    source = source_name(path, root)
    out = Imported()
    table_id = KWB_TABLES[year]
    header_line, header, records = header_and_records(path)
    required = ["region", "unique_id", *KWB2019_COLUMNS]
    idx = header_index(header, required, path, header_line)
    names = [h.strip() for h in header]
    extra = [n for n in names if n not in required]
    if extra:
        out.warnings.append(f"{source}: onbekende kolommen genegeerd: {', '.join(extra)}")
    day, period = date(year, 1, 1), year_period(year)
    for line, cells, code in gemeente_rows(records, idx, "unique_id", "region", path, source, registry, day, out):
        values = {}
        for column, (measure, _) in KWB2019_COLUMNS.items():
            v = parse_number(cells[idx[column]], path, line, column)
            values[measure] = v
            out.observations.append(Observation(
                table_id, measure, code, period, v, None,
                reason=None if v is not None else "leeg in het bestand", source=source))
        out.check_sum(f"{source}, regel {line}", code, values, "a_inw", ["a_man", "a_vrouw"])
        out.check_sum(f"{source}, regel {line}", code, values, "a_inw", ["a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo"])
        out.check_sum(f"{source}, regel {line}", code, values, "a_inw", ["a_ongeh", "a_gehuwd", "a_gesch", "a_verwed"])
    measures = {m: MeasureMeta(t, "aantal", 0, "sum", "inwoners") for m, t in KWB2019_COLUMNS.values()}
    out.tables.append(TableMeta(table_id, kwb_title(year), "CBS", measures, source=source))
    return out


# --------------------------------------------------------------------------------------------
# KWB 2020–2025 housing and households (Marlinehuman)
# --------------------------------------------------------------------------------------------

KWB_HOUSING_MEASURES: dict[str, MeasureMeta] = {
    "a_woning": MeasureMeta("Woningvoorraad", "aantal", 0, "sum", "woningen"),
    "a_hh": MeasureMeta("Huishoudens totaal", "aantal", 0, "sum", "inwoners"),
    "p_leegsw": MeasureMeta("Percentage leegstaande woningen", "%", 0, "mean", "woningen"),
    "g_wozbag": MeasureMeta("Gemiddelde WOZ-waarde van woningen", "x 1 000 euro", 0, "mean", "woningen"),
    "p_koopw": MeasureMeta("Koopwoningen", "%", 0, "mean", "woningen"),
    "p_huurw": MeasureMeta("Huurwoningen totaal", "%", 0, "mean", "woningen"),
    "p_wcorpw": MeasureMeta("In bezit woningcorporatie", "%", 0, "mean", "woningen"),
    "p_ov_hw": MeasureMeta("In bezit overige verhuurders", "%", 0, "mean", "woningen"),
    # urbanity is a class (1 very strongly urban … 5 not urban): not summable, not averageable
    "ste_mvs": MeasureMeta("Mate van stedelijkheid", "code (1-5)", 0, "", "inwoners"),
    # a density must be recomputed from inhabitants and area, never weighted by inhabitants
    "bev_dich": MeasureMeta("Bevolkingsdichtheid", "aantal inwoners per km²", 0, "", "inwoners"),
    "a_inw": MeasureMeta("Aantal inwoners", "aantal", 0, "sum", "inwoners"),
}

PUBLISHER_COLUMNS = ("housing_pressure", "effective_housing_stock", "vacancy_adjusted_pressure",
                     "rental_vulnerability", "paradox_index", "urbanity_label", "price_pressure")


def read_kwb_housing(path: str | Path, registry: RegionRegistry | None = None,
                     root: str | Path | None = None) -> Imported:
    """Gemeente rows of the KWB editions 2020–2025 (housing, households, WOZ)."""
    source = source_name(path, root)
    out = Imported()
    header_line, header, records = header_and_records(path)
    required = ["year", "gwb_code", "gm_naam", "recs"]
    idx = header_index(header, required, path, header_line)
    names = [h.strip() for h in header]
    measures = [n for n in names if n in KWB_HOUSING_MEASURES]
    if not measures:
        raise InputError(path, "geen enkele KWB-variabele gevonden in de kopregel", line=header_line)
    dropped = [n for n in names if n in PUBLISHER_COLUMNS]
    if dropped:
        out.warnings.append(f"{source}: kolommen van de uitgever (geen CBS-cijfers) weggelaten: {', '.join(dropped)}")
    unknown = [n for n in names if n not in required and n not in KWB_HOUSING_MEASURES and n not in PUBLISHER_COLUMNS]
    if unknown:
        out.warnings.append(f"{source}: onbekende kolommen genegeerd: {', '.join(unknown)}")
    seen: dict[tuple[str, int], int] = {}
    years: set[int] = set()
    scientific: list[str] = []
    for line, cells in records:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(names):
            raise InputError(path, f"verwacht {len(names)} kolommen, vond er {len(cells)}", line=line)
        ytext = cells[idx["year"]].strip()
        if not re.fullmatch(r"\d{4}", ytext):
            raise InputError(path, f"geen jaartal: {ytext!r}", line=line, column="year")
        year = int(ytext)
        if year not in KWB_TABLES:
            raise InputError(path, f"geen bekende KWB-editie: {year} (bekend: {min(KWB_TABLES)}–{max(KWB_TABLES)})",
                             line=line, column="year")
        code = cells[idx["gwb_code"]].strip().upper()
        recs = cells[idx["recs"]].strip()
        if recs != "Gemeente" or not _GM.match(code):
            out.warnings.append(f"{source}, regel {line}: {code!r} ({recs}) is geen gemeenterij; overgeslagen")
            continue
        if (code, year) in seen:
            raise InputError(path, f"{code} {year} staat er al op regel {seen[(code, year)]}", line=line)
        seen[(code, year)] = line
        years.add(year)
        problem = check_code_name(registry, code, cells[idx["gm_naam"]].strip(), date(year, 1, 1),
                                  f"{source}, regel {line}")
        if problem:
            out.warnings.append(problem)
        for m in measures:
            raw = cells[idx[m]]
            v = parse_number(raw, path, line, m)
            if m == "g_wozbag" and v is not None:
                if "e" in raw.lower():
                    scientific.append(f"{code} {year} {raw.strip()!r}")
                if v % 1000:
                    out.warnings.append(f"{source}, regel {line}: {code} {year}: WOZ-waarde {v:g} euro is geen "
                                        "veelvoud van 1000; de vermenigvuldiging met 1000 van de uitgever is "
                                        "toch teruggedraaid")
                v = v / 1000
            out.observations.append(Observation(
                KWB_TABLES[year], m, code, year_period(year), v, None,
                reason=None if v is not None else "leeg in het bestand", source=source))
    if "g_wozbag" in measures:
        out.warnings.append(f"{source}: g_wozbag stond door de uitgever in euro (x 1000); teruggezet naar "
                            "x 1 000 euro zoals CBS het publiceert")
    if scientific:
        out.warnings.append(f"{source}: {len(scientific)} WOZ-waarden in wetenschappelijke notatie (R-uitvoer), "
                            f"exact gelezen: {', '.join(scientific[:5])}")
    for year in sorted(years):
        out.tables.append(TableMeta(KWB_TABLES[year], kwb_title(year), "CBS",
                                    {m: KWB_HOUSING_MEASURES[m] for m in measures}, source=source))
    return out


# --------------------------------------------------------------------------------------------
# KWB v3 (DataProperties + TableInfos + a data extract keyed by region code)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topic:
    key: str
    title: str
    unit: str
    decimals: int | None
    presentation: str
    datatype: str


def _load_json(path: str | Path):
    return load_json(path)


def _value_list(payload, path: str | Path, what: str) -> list:
    if isinstance(payload, dict) and isinstance(payload.get("value"), list):
        return payload["value"]
    if isinstance(payload, list):
        return payload
    raise InputError(path, f"verwacht een lijst (of een object met 'value') met {what}")


def read_data_properties(path: str | Path) -> dict[str, Topic]:
    """The topics of a v3 `DataProperties` resource, by Key."""
    topics: dict[str, Topic] = {}
    for i, entry in enumerate(_value_list(_load_json(path), path, "DataProperties"), start=1):
        if not isinstance(entry, dict):
            raise InputError(path, f"item {i} is geen object")
        if entry.get("Type") != "Topic":
            continue
        key = entry.get("Key")
        if not isinstance(key, str) or not key:
            raise InputError(path, f"topic {i} heeft geen 'Key'")
        if key in topics:
            raise InputError(path, f"topic {key!r} komt twee keer voor")
        decimals = entry.get("Decimals")
        topics[key] = Topic(
            key, str(entry.get("Title") or key).strip(), str(entry.get("Unit") or "").strip(),
            decimals if isinstance(decimals, int) and not isinstance(decimals, bool) else None,
            str(entry.get("PresentationType") or ""), str(entry.get("Datatype") or ""))
    if not topics:
        raise InputError(path, "geen enkele Topic gevonden")
    return topics


def read_table_info(path: str | Path) -> dict:
    """The single table description of a v3 `TableInfos` resource."""
    items = _value_list(_load_json(path), path, "TableInfos")
    if len(items) != 1 or not isinstance(items[0], dict):
        raise InputError(path, f"verwacht precies één tabelbeschrijving, vond er {len(items)}")
    info = items[0]
    for field_name in ("Identifier", "Title", "Period"):
        if not isinstance(info.get(field_name), str) or not info[field_name].strip():
            raise InputError(path, f"veld {field_name!r} ontbreekt of is leeg")
    return info


def _stem(key: str) -> str:
    return re.sub(r"_\d+$", "", key)


def topic_measure_meta(topic: Topic) -> MeasureMeta:
    """How a v3 topic may be carried over boundary changes, from its metadata:
    'Absolute' → sum; 'Relative'/'Average' → mean, except per-area figures (densities), which
    must be recomputed and get ''. Titles about dwellings move with dwellings."""
    unit = topic.unit.lower()
    if topic.presentation == "Absolute":
        aggregation = "sum"
    elif topic.presentation in ("Relative", "Average") and not ("km²" in unit or "km2" in unit or "per ha" in unit):
        aggregation = "mean"
    else:
        aggregation = ""
    basis = "woningen" if "woning" in topic.title.lower() else "inwoners"
    return MeasureMeta(topic.title, topic.unit, topic.decimals, aggregation, basis)


def read_kwb_v3(data_path: str | Path, properties_path: str | Path, tableinfos_path: str | Path,
                registry: RegionRegistry | None = None, root: str | Path | None = None) -> Imported:
    """A KWB extract keyed by region code (`{"GM0363": {"AantalInwoners_5": 931298, ...}}`)."""
    topics = read_data_properties(properties_path)
    info = read_table_info(tableinfos_path)
    table_id = info["Identifier"].strip()
    m = re.fullmatch(r"(\d{4})", info["Period"].strip())
    if not m:
        raise InputError(tableinfos_path, f"periode {info['Period']!r} is geen jaartal")
    year = int(m.group(1))
    if KWB_TABLES.get(year) not in (None, table_id.upper()):
        raise InputError(tableinfos_path, f"tabel {table_id} past niet bij KWB {year} ({KWB_TABLES[year]})")
    period, day = year_period(year), date(year, 1, 1)
    payload = _load_json(data_path)
    source = source_name(data_path, root)
    if not isinstance(payload, dict):
        raise InputError(data_path, "verwacht een object met regiocodes als sleutels")
    out = Imported()
    stems: dict[str, list[str]] = {}
    for key in topics:
        stems.setdefault(_stem(key), []).append(key)
    measure_of = {key: (_stem(key) if len(stems[_stem(key)]) == 1 else key) for key in topics}
    used: dict[str, MeasureMeta] = {}
    unknown: set[str] = set()
    lettered: list[str] = []
    for raw_code, row in payload.items():
        code = str(raw_code).strip().upper()
        if not (_GM.match(code) or _WK.match(code)):
            raise InputError(data_path, f"geen gemeente- of wijkcode: {raw_code!r}", column=str(raw_code))
        if not isinstance(row, dict):
            raise InputError(data_path, f"{code}: verwacht een object met onderwerpen", column=code)
        where = f"{source}, {code}"
        if code.startswith("WK") and not code[2:].isdigit():
            lettered.append(code)
        problem = check_wijk(registry, code, day, where) if code.startswith("WK") else _check_gm(registry, code, day, where)
        if problem:
            out.warnings.append(problem)
        for key, value in row.items():
            topic = topics.get(key)
            if topic is None:
                unknown.add(key)
                continue
            if topic.datatype == "String":
                continue  # names and codes, not figures
            v, reason = _v3_value(value, data_path, code, key)
            measure = measure_of[key]
            used[measure] = topic_measure_meta(topic)
            out.observations.append(Observation(table_id, measure, code, period, v, None, reason=reason, source=source))
    if lettered:
        out.warnings.append(f"{source}: {len(lettered)} wijkcodes met letters, zoals CBS ze sinds kort voor "
                            f"sommige gemeenten gebruikt ({', '.join(lettered[:3])}, ...), overgenomen zoals gepubliceerd")
    if unknown:
        out.warnings.append(f"{source}: onderwerpen die niet in DataProperties staan, overgeslagen: "
                            f"{', '.join(sorted(unknown))}")
    out.tables.append(TableMeta(table_id, info["Title"].strip(), str(info.get("Catalog") or "CBS"), used,
                                source=source, modified=info.get("Modified")))
    return out


def _check_gm(registry: RegionRegistry | None, code: str, day: date, where: str) -> str | None:
    if registry is None:
        return None
    region = registry.regions.get(code)
    if region is None or region.kind != "GM":
        return f"{where}: gemeentecode {code} is bij CBS onbekend"
    if not region.valid_on(day):
        return f"{where}: gemeentecode {code} ({region.name}) bestond niet op 1 januari {day.year}"
    return None


def _v3_value(value, path: str | Path, code: str, key: str) -> tuple[float | None, str | None]:
    if value is None:
        return None, "leeg in de bron (null)"
    if isinstance(value, bool):
        raise InputError(path, f"{code}: {key} is geen getal: {value!r}", column=key)
    if isinstance(value, (int, float)):
        if problem := number_problem(value):
            raise InputError(path, f"{code}: {key} {value!r}: {problem}", column=key)
        return float(value), None
    if isinstance(value, str):
        cell = value.strip()
        if cell in (".", ""):
            return None, "onbekend ('.')" if cell == "." else "leeg in de bron"
        if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cell):
            if problem := number_problem(float(cell)):
                raise InputError(path, f"{code}: {key} {value!r}: {problem}", column=key)
            return float(cell), None
    raise InputError(path, f"{code}: {key} is geen getal: {value!r}", column=key)


__all__ = ["KWB_TABLES", "read_kwb_2019", "read_kwb_housing", "read_kwb_v3", "read_data_properties",
           "read_table_info", "topic_measure_meta", "Topic"]
