"""Gemeente boundaries: reading GeoJSON, checking codes against the registry, and drawing them
as SVG paths for maps in reports and on the web.

Sources in the bundle:

- `raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson`: the 342 gemeenten of 2024
  (a simplified CBS/PDOK map), WGS84, code in the property `statcode`, name in `statnaam`.
- `raw/rubennaatje__R-datascience-project-/maps/NL_Gemeenten2014/derived/`: the 403 gemeenten
  of 2014 as WGS84 GeoJSON (code in `CBSCODE`) and the same attribute table as CSV. The CSV also
  holds CBS's 2014 population by sex and 9 age bands per gemeente; `read_attributes_2014`
  imports those as observations (table id `NL_Gemeenten2014`, the dataset's own name: it is CBS
  *Demografische kerncijfers per gemeente 2014* as compiled by TWIAV, not a StatLine table;
  attribution "Bron: © 2015, Centraal Bureau voor de Statistiek / Kadaster, Zwolle").
  The MapInfo originals beside it (`.TAB/.MAP/.DAT/.ID/.IND`) hold the same features and
  attributes in RD New; they are deliberately not parsed here: the derived GeoJSON is their
  exact content in WGS84 and needs no GIS library.

The SVG projection is equirectangular with the longitude scaled by cos(52°), which keeps the
Netherlands' proportions to within a few percent; y grows southwards as SVG expects. Rings are
simplified by dropping points closer than `tolerance` pixels to the last kept point.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..errors import InputError
from ..sources.misc_csv import (check_code_name, gemeente_rows, header_and_records, header_index, parse_number,
                                source_name)
from ..sources.records import Imported, MeasureMeta, Observation, TableMeta, year_period
from ..textfile import parse_json, read_text

# Where the map of today's gemeenten comes from, as maps name it under their drawing.
BOUNDARY_SOURCE = "Grenzen: CBS/PDOK 2024"
from .regions import RegionRegistry

CODE_PROPERTIES = ("statcode", "CBSCODE")
NAME_PROPERTIES = ("statnaam", "Gemeentenaam")
_GM = re.compile(r"^GM\d{4}$")
COS52 = math.cos(math.radians(52.0))


@dataclass(frozen=True)
class Boundary:
    code: str
    name: str
    geometry: dict  # GeoJSON Polygon or MultiPolygon, WGS84 (lon, lat)


def load_features(path: str | Path, code_property: str | None = None) -> list[Boundary]:
    """The gemeente features of a GeoJSON FeatureCollection, validated.

    The code property is `code_property`, else the first of `statcode` / `CBSCODE` present.
    Every feature needs a GM code, a Polygon or MultiPolygon, and WGS84 coordinates (RD
    coordinates in metres are refused: reproject first)."""
    text = read_text(path)
    payload = parse_json(text, path)
    if not isinstance(payload, dict) or payload.get("type") != "FeatureCollection" \
            or not isinstance(payload.get("features"), list):
        raise InputError(path, "verwacht een GeoJSON FeatureCollection met 'features'")
    crs = payload.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs.get("properties"), dict) else ""
        if name and not re.search(r"(CRS84|4326)$", name):
            raise InputError(path, f"coördinaatsysteem {name!r} is geen WGS84")
    features: list[Boundary] = []
    seen: dict[str, int] = {}
    for i, feature in enumerate(payload["features"], start=1):
        where = f"feature {i}"
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            raise InputError(path, f"{where}: geen feature met properties")
        props = feature["properties"]
        key = code_property or next((k for k in CODE_PROPERTIES if k in props), None)
        if key is None or not isinstance(props.get(key), str):
            raise InputError(path, f"{where}: geen gemeentecode (verwacht een van {', '.join(CODE_PROPERTIES)})")
        code = props[key].strip().upper()
        if not _GM.match(code):
            raise InputError(path, f"{where}: {key} {props[key]!r} is geen gemeentecode")
        if code in seen:
            raise InputError(path, f"{where}: {code} kwam al voor in feature {seen[code]}")
        seen[code] = i
        name = next((str(props[k]).strip() for k in NAME_PROPERTIES if isinstance(props.get(k), str)), "")
        geometry = feature.get("geometry")
        _validate_geometry(geometry, path, f"{where} ({code})")
        features.append(Boundary(code, name, geometry))
    if not features:
        raise InputError(path, "geen enkele feature")
    return features


def load_boundaries(path: str | Path, code_property: str | None = None) -> dict[str, dict]:
    """Geometry (GeoJSON dict, WGS84) per gemeente code."""
    return {f.code: f.geometry for f in load_features(path, code_property)}


def _validate_geometry(geometry, path, where: str) -> None:
    if not isinstance(geometry, dict):
        raise InputError(path, f"{where}: geen geometrie")
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind == "Polygon":
        polygons = [coords]
    elif kind == "MultiPolygon":
        polygons = coords if isinstance(coords, list) else None
    else:
        raise InputError(path, f"{where}: geometrie {kind!r} is geen Polygon of MultiPolygon")
    if not polygons:
        raise InputError(path, f"{where}: lege coördinaten")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            raise InputError(path, f"{where}: polygoon zonder ringen")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                raise InputError(path, f"{where}: ring met minder dan 4 punten")
            for pos in ring:
                if not (isinstance(pos, list) and len(pos) >= 2
                        and all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in pos[:2])):
                    raise InputError(path, f"{where}: ongeldig punt {pos!r}")
                lon, lat = pos[0], pos[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise InputError(path, f"{where}: punt ({lon}, {lat}) valt buiten WGS84; "
                                           "zijn dit RD-coördinaten (meters)?")


def check_boundaries(features: list[Boundary], registry: RegionRegistry, day: date) -> list[str]:
    """Dutch messages where the map's gemeenten differ from CBS's on `day` (codes and names)."""
    expected = set(registry.gemeenten_on(day))
    codes = {f.code for f in features}
    messages = [f"{c} ({registry.regions[c].name}) ontbreekt op de kaart" for c in sorted(expected - codes)]
    messages += [f"{c} staat op de kaart, maar bestond niet op {day.isoformat()}" for c in sorted(codes - expected)]
    for f in features:
        if f.code in expected and f.name:
            problem = check_code_name(registry, f.code, f.name, day, "kaart")
            if problem:
                messages.append(problem)
    return messages


# --------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular, longitude scaled by cos(52°); y grows southwards (SVG)."""
    return lon * COS52, -lat


@dataclass
class SvgMap:
    width: float
    height: float
    paths: dict[str, str] = field(default_factory=dict)

    @property
    def view_box(self) -> str:
        return f"0 0 {_fmt(self.width, 1)} {_fmt(self.height, 1)}"


def _polygons(geometry: dict) -> list:
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]


def _fmt(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def svg_paths(boundaries: dict[str, dict], width: float = 800.0, tolerance: float = 0.5,
              decimals: int = 1) -> SvgMap:
    """SVG path data per code, all on one canvas `width` pixels wide (height follows).

    A pure function of the geometries. Rings collapse to fewer points where consecutive points
    lie within `tolerance` pixels; a ring that collapses below 3 points is dropped, except that
    every gemeente keeps at least its first outer ring. Use `fill-rule="evenodd"` for holes."""
    if width <= 0:
        raise ValueError("width must be positive")
    if not boundaries:
        return SvgMap(width, 0.0, {})
    xs: list[float] = []
    ys: list[float] = []
    for geometry in boundaries.values():
        for polygon in _polygons(geometry):
            for ring in polygon:
                for pos in ring:
                    x, y = project(pos[0], pos[1])
                    xs.append(x)
                    ys.append(y)
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    span = max(max_x - min_x, max_y - min_y, 1e-12)
    scale = width / (max_x - min_x if max_x > min_x else span)
    height = (max_y - min_y) * scale
    paths: dict[str, str] = {}
    for code, geometry in boundaries.items():
        parts: list[str] = []
        first_ring: list[tuple[float, float]] | None = None
        for polygon in _polygons(geometry):
            for ring in polygon:
                pts = [((p[0] * COS52 - min_x) * scale, (-p[1] - min_y) * scale) for p in ring]
                if first_ring is None:
                    first_ring = pts
                kept = _simplify(pts, tolerance)
                if len(kept) >= 3:
                    parts.append(_ring_path(kept, decimals))
        if not parts and first_ring:
            parts.append(_ring_path(_dedupe(first_ring), decimals))
        paths[code] = "".join(parts)
    return SvgMap(width, height, paths)


def _dedupe(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = [pts[0]]
    for p in pts[1:]:
        if p != out[-1]:
            out.append(p)
    if len(out) > 1 and out[-1] == out[0]:
        out.pop()
    return out


def _simplify(pts: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Radial-distance simplification of a closed ring (the closing point is implied)."""
    if not pts:
        return []
    t2 = tolerance * tolerance
    kept = [pts[0]]
    for p in pts[1:-1]:
        q = kept[-1]
        if (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 > t2:
            kept.append(p)
    last = pts[-1]
    if last != pts[0] and (last[0] - kept[-1][0]) ** 2 + (last[1] - kept[-1][1]) ** 2 > t2:
        kept.append(last)
    return kept


def _ring_path(pts: list[tuple[float, float]], decimals: int) -> str:
    coords = [f"{_fmt(x, decimals)},{_fmt(y, decimals)}" for x, y in pts]
    return "M" + coords[0] + "L" + " ".join(coords[1:]) + "Z"


def svg_document(svg: SvgMap, fills: dict[str, str] | None = None, stroke: str = "#ffffff") -> str:
    """A complete standalone SVG (one <path> per gemeente, id = code)."""
    fills = fills or {}
    rows = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{svg.view_box}" '
            f'width="{_fmt(svg.width, 1)}" height="{_fmt(svg.height, 1)}">']
    for code, d in svg.paths.items():
        rows.append(f'<path id="{code}" d="{d}" fill="{fills.get(code, "#cccccc")}" stroke="{stroke}" '
                    'stroke-width="0.3" fill-rule="evenodd"/>')
    rows.append("</svg>")
    return "\n".join(rows)


# --------------------------------------------------------------------------------------------
# 2014 attributes: population by sex and 9 age bands as observations
# --------------------------------------------------------------------------------------------

ATTRIBUTES_2014_TABLE = "NL_Gemeenten2014"

ATTRIBUTES_2014_MEASURES: dict[str, MeasureMeta] = {
    "Inwoners": MeasureMeta("Aantal inwoners", "aantal", 0, "sum"),
    "Mannen": MeasureMeta("Mannen", "aantal", 0, "sum"),
    "Vrouwen": MeasureMeta("Vrouwen", "aantal", 0, "sum"),
    "inw_jonger_dan_5j": MeasureMeta("Jonger dan 5 jaar", "aantal", 0, "sum"),
    "inw_5_9j": MeasureMeta("5 tot 10 jaar", "aantal", 0, "sum"),
    "inw_10_14j": MeasureMeta("10 tot 15 jaar", "aantal", 0, "sum"),
    "inw_15_19j": MeasureMeta("15 tot 20 jaar", "aantal", 0, "sum"),
    "inw_20_24j": MeasureMeta("20 tot 25 jaar", "aantal", 0, "sum"),
    "inw_25_44j": MeasureMeta("25 tot 45 jaar", "aantal", 0, "sum"),
    "inw_45_64j": MeasureMeta("45 tot 65 jaar", "aantal", 0, "sum"),
    "inw_65_79j": MeasureMeta("65 tot 80 jaar", "aantal", 0, "sum"),
    "inw_80j_en_ouder": MeasureMeta("80 jaar of ouder", "aantal", 0, "sum"),
    # ratios of age groups: recompute from the bands, never weight
    "Dem_druk_tot": MeasureMeta("Demografische druk", "%", 1, ""),
    "Dem_druk_groen": MeasureMeta("Groene druk", "%", 1, ""),
    "Dem_druk_grijs": MeasureMeta("Grijze druk", "%", 1, ""),
    "Oppervlakte": MeasureMeta("Oppervlakte totaal", "km²", 2, "sum"),
    "Land": MeasureMeta("Oppervlakte land", "km²", 2, "sum"),
    "Binnenwater": MeasureMeta("Oppervlakte binnenwater", "km²", 2, "sum"),
    "Buitenwater": MeasureMeta("Oppervlakte buitenwater", "km²", 2, "sum"),
    "Bevolkingsdichtheid": MeasureMeta("Bevolkingsdichtheid", "inwoners per km²", 0, ""),
}
AGE_BANDS_2014 = ["inw_jonger_dan_5j", "inw_5_9j", "inw_10_14j", "inw_15_19j", "inw_20_24j", "inw_25_44j",
                  "inw_45_64j", "inw_65_79j", "inw_80j_en_ouder"]


def read_attributes_2014(path: str | Path, registry: RegionRegistry | None = None,
                         root: str | Path | None = None, year: int = 2014) -> Imported:
    """Population (total, sex, 9 age bands), area and density per gemeente on 1 January 2014
    from the attribute table of the 2014 map. Code and name are checked against the registry;
    so is the province column."""
    source = source_name(path, root)
    out = Imported()
    header_line, header, records = header_and_records(path)
    required = ["CBSCODE", "Gemeentenaam", "Inwoners", "Mannen", "Vrouwen", *AGE_BANDS_2014]
    idx = header_index(header, required, path, header_line)
    names = [h.strip() for h in header]
    measures = [n for n in names if n in ATTRIBUTES_2014_MEASURES]
    day, period = date(year, 1, 1), year_period(year)
    for line, cells, code in gemeente_rows(records, idx, "CBSCODE", "Gemeentenaam", path, source, registry, day, out):
        where = f"{source}, regel {line}"
        if registry is not None and "Provincie_code" in idx and code in registry.regions:
            pv = cells[idx["Provincie_code"]].strip()
            known = registry.regions[code].province
            if pv and known and pv != known:
                out.warnings.append(f"{where}: {code} ligt volgens het bestand in {pv}, volgens CBS in {known}")
        values = {m: parse_number(cells[idx[m]], path, line, m) for m in measures}
        for m in measures:
            v = values[m]
            out.observations.append(Observation(
                ATTRIBUTES_2014_TABLE, m, code, period, v, None,
                reason=None if v is not None else "leeg in het bestand", source=source))
        for parts in (["Mannen", "Vrouwen"], AGE_BANDS_2014):
            out.check_sum(where, code, values, "Inwoners", parts)
    out.tables.append(TableMeta(
        ATTRIBUTES_2014_TABLE, f"Demografische kerncijfers per gemeente {year} (kaart NL_Gemeenten{year})",
        "CBS/Kadaster (TWIAV)", {m: ATTRIBUTES_2014_MEASURES[m] for m in measures}, source=source))
    return out


__all__ = ["Boundary", "SvgMap", "load_features", "load_boundaries", "check_boundaries", "project",
           "svg_paths", "svg_document", "read_attributes_2014"]
