"""Importer for a directory of CBS OData v4 responses, one folder per table.

The layout is the bundle's `odata-v4/<table id>/` and also what `trendstudie sync` writes:
`Properties.json`, `Dimensions.json`, `MeasureCodes.json`, `<Dimension>Codes.json` and
`Observations.json` (`{"value": [...]}`, all pages joined).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..textfile import parse_json, read_text
from ..atomic import write_json
from .records import Imported, MeasureMeta, Observation, TableMeta, dims_key, is_period, number_problem

# How CBS's PresentationType / unit tell whether a measure may be summed over gemeenten.
_SUMMABLE_UNITS = {"aantal", "x 1 000", "x 1000", "aantal x 1 000", "hectare", "ha", "km2", "tj", "ton", "kton"}


def _load(path: Path) -> object:
    if not path.exists():
        raise InputError(path, "bestand ontbreekt in de spiegel van de OData v4-API")
    return parse_json(read_text(path), path)


def _values(path: Path) -> list[dict]:
    payload = _load(path)
    rows = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(rows, list):
        raise InputError(path, "verwacht een object met een lijst 'value'")
    return rows


def aggregation_for(unit: str, presentation: str | None) -> str:
    """'sum' for counts, 'mean' for averages, rates and shares, as CBS's metadata tell."""
    u = (unit or "").strip().lower()
    if presentation and presentation.lower() in ("average", "percentage", "ratio", "index", "relative"):
        return "mean"
    if u in _SUMMABLE_UNITS:
        return "sum"
    if u in ("euro", "%", "procent", "per 1 000 inwoners", "index", "jaar", "x 1 000 euro"):
        return "mean"
    return ""


def read_table(folder: Path, source: str | None = None) -> Imported:
    folder = Path(folder)
    source = source or str(folder)
    props = _load(folder / "Properties.json")
    if not isinstance(props, dict) or not props.get("Identifier"):
        raise InputError(folder / "Properties.json", "geen 'Identifier' in Properties")
    table_id = str(props["Identifier"])
    # A second slice of a table synced under its own name (03759ned_leeftijd) is still that table.
    if folder.name != table_id and not folder.name.startswith(table_id + "_"):
        raise InputError(folder / "Properties.json", f"tabel-id {table_id!r} wijkt af van de mapnaam {folder.name!r}")
    dims = _values(folder / "Dimensions.json")
    geo = [d["Identifier"] for d in dims if d.get("Kind") == "GeoDimension"]
    time = [d["Identifier"] for d in dims if d.get("Kind") == "TimeDimension"]
    if len(geo) > 1 or len(time) != 1:
        raise InputError(folder / "Dimensions.json", "verwacht hoogstens één GeoDimension en precies één TimeDimension")
    geo_dim = geo[0] if geo else None  # a national table (e.g. 82235NED) has no regions: Nederland
    time_dim = time[0]
    other = [d["Identifier"] for d in dims if d["Identifier"] not in (geo_dim, time_dim)]

    meta = TableMeta(
        table_id=table_id,
        title=str(props.get("Title") or table_id),
        catalog=str(props.get("Catalog") or "CBS"),
        source=source,
        modified=props.get("Modified"),
    )
    for m in _values(folder / "MeasureCodes.json"):
        unit = str(m.get("Unit") or "")
        meta.measures[m["Identifier"]] = MeasureMeta(
            title=str(m.get("Title") or m["Identifier"]).strip(),
            unit=unit,
            decimals=m.get("Decimals"),
            aggregation=aggregation_for(unit, m.get("PresentationType")),
            # Dwelling counts and prices of dwellings move with dwellings, the rest with inhabitants.
            basis="woningen" if "woning" in f"{m.get('Title')} {meta.title}".lower() else "inwoners",
        )
    for d in other:
        codes_file = folder / f"{d}Codes.json"
        if codes_file.exists():
            meta.dimensions[d] = {str(c["Identifier"]).strip(): str(c.get("Title") or "") for c in _values(codes_file)}
    status = {}
    periods_file = folder / f"{time_dim}Codes.json"
    if periods_file.exists():
        status = {str(p["Identifier"]).strip(): p.get("Status") for p in _values(periods_file)}

    obs_path = folder / "Observations.json"
    out = Imported(tables=[meta])
    rows = _values(obs_path)
    for i, row in enumerate(rows, start=1):
        try:
            measure = row["Measure"]
            region = str(row[geo_dim]).strip() if geo_dim else "NL01"
            period = str(row[time_dim]).strip()
            value = row.get("Value")
        except (KeyError, TypeError) as exc:
            raise InputError(obs_path, f"observatie {i} mist veld {exc}", line=i) from None
        if measure not in meta.measures:
            raise InputError(obs_path, f"observatie {i}: onbekende maatstaf {measure!r}", line=i, column="Measure")
        if not is_period(period):
            raise InputError(obs_path, f"observatie {i}: onbekende periodecode {period!r}", line=i, column=time_dim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise InputError(obs_path, f"observatie {i}: waarde {value!r} is geen getal", line=i, column="Value")
        if value is not None and (problem := number_problem(value)):
            raise InputError(obs_path, f"observatie {i}: waarde {value!r}: {problem}", line=i, column="Value")
        attribute = row.get("ValueAttribute")
        reason = None
        if value is None:
            reason = attribute if attribute not in (None, "None") else "ontbreekt"
        out.observations.append(
            Observation(
                table_id=table_id,
                measure=measure,
                region_code=region,
                period=period,
                value=float(value) if value is not None else None,
                status=status.get(period),
                dims=dims_key({d: str(row.get(d, "")) for d in other}),
                reason=reason,
                source=source,
            )
        )
    return out


def read_mirror(root: Path, prefix: str = "odata-v4") -> Imported:
    """Every table folder below `root` (a folder holding `<table id>/Properties.json`)."""
    out = Imported()
    for folder in sorted(p for p in Path(root).iterdir() if (p / "Properties.json").exists()):
        out.extend(read_table(folder, source=f"{prefix}/{folder.name}"))
    return out


def write_table(folder: Path, table: TableMeta, observations: list[Observation]) -> int:
    """Write one table in the v4 mirror layout that `read_table` reads (regions as `RegioS`,
    periods as `Perioden`), each file atomically. `sync` stores the sources that are not CBS
    tables this way, so one importer reads everything that was synced. Returns the row count."""
    folder = Path(folder)
    write_json(folder / "Properties.json", {
        "Identifier": table.table_id, "Title": table.title, "Catalog": table.catalog, "Modified": table.modified})
    write_json(folder / "Dimensions.json", {"value": [
        {"Identifier": "RegioS", "Title": "Regio's", "Kind": "GeoDimension", "ContainsCodes": True},
        {"Identifier": "Perioden", "Title": "Perioden", "Kind": "TimeDimension", "ContainsCodes": True}]})
    write_json(folder / "MeasureCodes.json", {"value": [
        {"Identifier": mid, "Title": m.title, "Unit": m.unit, "Decimals": m.decimals,
         "PresentationType": "Average" if m.aggregation == "mean" else "Absolute"}
        for mid, m in table.measures.items()]})
    regions = sorted({o.region_code for o in observations})
    periods = sorted({o.period for o in observations})
    status = {o.period: o.status for o in observations}
    write_json(folder / "RegioSCodes.json", {"value": [{"Identifier": r, "Title": ""} for r in regions]})
    write_json(folder / "PeriodenCodes.json",
                      {"value": [{"Identifier": p, "Title": p[:4], "Status": status[p]} for p in periods]})
    write_json(folder / "Observations.json", {"value": [
        {"Id": i, "Measure": o.measure, "ValueAttribute": None if o.value is not None else "Missing",
         "Value": o.value, "RegioS": o.region_code, "Perioden": o.period}
        for i, o in enumerate(observations)]})
    return len(observations)
