"""Boundary GeoJSON, the 2014 map attributes as observations, and the SVG projection."""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trendstudie.errors import InputError
from trendstudie.geo import shapes
from trendstudie.geo.regions import RegionRegistry

MAP2024 = "raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson"
DERIVED = "raw/rubennaatje__R-datascience-project-/maps/NL_Gemeenten2014/derived"
MAP2014 = f"{DERIVED}/gemeente_2014_wgs84.geojson"
ATTR2014 = f"{DERIVED}/gemeente_2014_attributes.csv"


@pytest.fixture(scope="module")
def registry(bundle: Path) -> RegionRegistry:
    return RegionRegistry.from_regioscodes(bundle / "odata-v4/03759ned/RegioSCodes.json")


@pytest.fixture(scope="module")
def boundaries_2024(bundle: Path) -> dict[str, dict]:
    return shapes.load_boundaries(bundle / MAP2024)


def test_2024_map_has_the_342_current_gemeenten(bundle, registry, boundaries_2024):
    assert len(boundaries_2024) == 342
    assert sorted(boundaries_2024) == registry.current_gemeenten()
    raw = json.loads((bundle / MAP2024).read_text(encoding="utf-8"))
    amsterdam = next(f for f in raw["features"] if f["properties"]["statcode"] == "GM0363")
    assert boundaries_2024["GM0363"] == amsterdam["geometry"]
    features = shapes.load_features(bundle / MAP2024)
    assert next(f.name for f in features if f.code == "GM0518") == "'s-Gravenhage"
    assert shapes.check_boundaries(features, registry, date(2024, 1, 1)) == []
    # on 1 January 2021 the map lacks the gemeenten merged since then
    messages = shapes.check_boundaries(features, registry, date(2021, 1, 1))
    assert any(m.startswith("GM0457 (Weesp) ontbreekt") for m in messages)


def test_2014_map_has_the_403_gemeenten_of_2014(bundle, registry):
    features = shapes.load_features(bundle / MAP2014)
    assert sorted(f.code for f in features) == registry.gemeenten_on(date(2014, 1, 1))
    assert len(features) == 403
    assert shapes.check_boundaries(features, registry, date(2014, 1, 1)) == []
    kinds = {f.geometry["type"] for f in features}
    assert kinds == {"Polygon", "MultiPolygon"}


def test_2014_attributes_as_observations(bundle, registry):
    imported = shapes.read_attributes_2014(bundle / ATTR2014, registry, bundle)
    got = {(o.measure, o.region_code): o.value for o in imported.observations}
    with open(bundle / ATTR2014, newline="", encoding="utf-8") as fh:
        rows = {r["CBSCODE"]: r for r in csv.DictReader(fh)}
    assert len(rows) == 403
    for code in ("GM0003", "GM0363", "GM0518", "GM0373"):
        for band in shapes.AGE_BANDS_2014 + ["Inwoners", "Mannen", "Vrouwen"]:
            assert got[(band, code)] == float(rows[code][band])
    assert sum(v for (m, _), v in got.items() if m == "Inwoners") == 16_829_289  # the national total
    assert {o.period for o in imported.observations} == {"2014JJ00"}
    assert {o.table_id for o in imported.observations} == {"NL_Gemeenten2014"}
    assert all(o.source == ATTR2014 for o in imported.observations)
    assert imported.warnings == []  # codes, names and provinces agree with CBS on 1 January 2014
    table = imported.tables[0]
    assert table.measures["inw_80j_en_ouder"].aggregation == "sum"
    assert table.measures["Dem_druk_grijs"].aggregation == ""


def test_2014_attributes_report_disagreements(bundle, registry, tmp_path):
    lines = (bundle / ATTR2014).read_text(encoding="utf-8").splitlines()
    row = next(line for line in lines if line.startswith("GM0003,"))
    row = row.replace("Appingedam", "Delfzijl", 1).replace(",PV20,", ",PV21,", 1)
    row = row.replace("12064.0", "12065.0", 1)  # Inwoners no longer the sum of the bands
    path = tmp_path / "attributes.csv"
    path.write_text(lines[0] + "\n" + row + "\n", encoding="utf-8")
    warnings = shapes.read_attributes_2014(path, registry).warnings
    assert any("GM0003" in w and "GM0010" in w for w in warnings)
    assert any("PV21" in w and "PV20" in w for w in warnings)
    assert sum("de som van" in w for w in warnings) == 2


# --- malformed ----------------------------------------------------------------------------------


def _collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def _square(code: str, lon: float = 5.0, lat: float = 52.0, size: float = 0.1, key: str = "statcode") -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Feature", "properties": {key: code, "statnaam": code},
            "geometry": {"type": "Polygon", "coordinates": [ring]}}


@pytest.mark.parametrize("text,fragment", [
    (_collection(_square("GM0363"), _square("GM0363")), "kwam al voor"),
    (_collection(_square("GM0363", lon=121000.0, lat=487000.0)), "RD"),
    (_collection(_square("Amsterdam")), "geen gemeentecode"),
    (_collection({"type": "Feature", "properties": {"statcode": "GM0363"}, "geometry": None}), "geen geometrie"),
    (_collection({"type": "Feature", "properties": {"statcode": "GM0363"},
                  "geometry": {"type": "Point", "coordinates": [5, 52]}}), "Point"),
    (json.dumps({"type": "Feature"}), "FeatureCollection"),
    (_collection(), "geen enkele feature"),
])
def test_malformed_geojson(tmp_path, text, fragment):
    path = tmp_path / "map.geojson"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        shapes.load_boundaries(path)
    assert fragment in str(err.value) and str(path) in str(err.value)


def test_invalid_json_and_csv_name_the_line(tmp_path, bundle):
    path = tmp_path / "map.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [\n  {"type": }\n]}', encoding="utf-8")
    with pytest.raises(InputError) as err:
        shapes.load_boundaries(path)
    assert err.value.line == 3
    header = (bundle / ATTR2014).read_text(encoding="utf-8").splitlines()[0]
    csv_path = tmp_path / "attributes.csv"
    row = ["GM0003", "Appingedam"] + ["1.0"] * (header.count(",") - 1)
    bad = list(row)
    bad[4] = "veel"
    csv_path.write_text("\n".join([header, ",".join(row), ",".join(bad).replace("GM0003", "GM0005")]), encoding="utf-8")
    with pytest.raises(InputError) as err:
        shapes.read_attributes_2014(csv_path)
    assert err.value.line == 3 and err.value.column == "Vrouwen"


# --- SVG ----------------------------------------------------------------------------------------


def test_projection_scales_longitude_by_cos_52():
    x, y = shapes.project(5.0, 52.0)
    assert x == pytest.approx(5.0 * math.cos(math.radians(52))) and y == -52.0


def test_svg_of_a_square_is_exact():
    svg = shapes.svg_paths({"GM0001": _square("GM0001", lon=5.0, lat=52.0, size=1.0)["geometry"]}, width=100)
    height = 100 / math.cos(math.radians(52))
    assert svg.height == pytest.approx(height)
    h = f"{height:.1f}".rstrip("0").rstrip(".")
    assert svg.paths["GM0001"] == f"M0,{h}L100,{h} 100,0 0,0Z"
    assert svg.view_box == f"0 0 100 {h}"


def test_svg_of_the_2024_map(boundaries_2024):
    svg = shapes.svg_paths(boundaries_2024, width=800, tolerance=0.5)
    assert set(svg.paths) == set(boundaries_2024) and all(svg.paths.values())
    assert 900 < svg.height < 1000  # the Netherlands is taller than wide with cos(52°)

    def centre(code: str) -> tuple[float, float]:
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", svg.paths[code])]
        xs, ys = nums[0::2], nums[1::2]
        assert all(-0.05 <= x <= 800.05 for x in xs) and all(-0.05 <= y <= svg.height + 0.05 for y in ys)
        return sum(xs) / len(xs), sum(ys) / len(ys)

    groningen, maastricht, amsterdam, middelburg = (centre(c) for c in ("GM0014", "GM0935", "GM0363", "GM0687"))
    assert groningen[1] < amsterdam[1] < maastricht[1]  # north above south
    assert middelburg[0] < amsterdam[0] < groningen[0]  # west left of east
    coarse = shapes.svg_paths(boundaries_2024, width=800, tolerance=4)
    assert sum(map(len, coarse.paths.values())) < sum(map(len, svg.paths.values()))
    assert set(coarse.paths) == set(boundaries_2024) and all(coarse.paths.values())
    document = shapes.svg_document(svg, fills={"GM0363": "#ff0000"})
    assert document.count("<path ") == 342 and 'id="GM0363" d="M' in document and "#ff0000" in document


def test_svg_keeps_holes_and_tiny_islands():
    outer = [[5.0, 52.0], [6.0, 52.0], [6.0, 53.0], [5.0, 53.0], [5.0, 52.0]]
    hole = [[5.4, 52.4], [5.6, 52.4], [5.6, 52.6], [5.4, 52.6], [5.4, 52.4]]
    speck = [[7.0, 52.0], [7.000001, 52.0], [7.000001, 52.000001], [7.0, 52.0]]
    svg = shapes.svg_paths({"GM0001": {"type": "Polygon", "coordinates": [outer, hole]},
                            "GM0002": {"type": "Polygon", "coordinates": [speck]}}, width=200)
    assert svg.paths["GM0001"].count("M") == 2  # outer ring and hole
    assert svg.paths["GM0002"].startswith("M")  # collapsed below tolerance, still drawn


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(
    st.integers(1, 9999).map(lambda n: f"GM{n:04d}"),
    st.lists(st.tuples(st.floats(3.3, 7.3), st.floats(50.7, 53.6)), min_size=3, max_size=12),
    min_size=1, max_size=6))
def test_svg_paths_stay_on_the_canvas(rings):
    geometries = {code: {"type": "Polygon", "coordinates": [[list(p) for p in pts] + [list(pts[0])]]}
                  for code, pts in rings.items()}
    svg = shapes.svg_paths(geometries, width=300, tolerance=1.0)
    assert set(svg.paths) == set(rings)
    for d in svg.paths.values():
        assert d.startswith("M") and d.endswith("Z")
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", d)]
        assert all(-0.05 <= x <= 300.05 for x in nums[0::2])
        assert all(-0.05 <= y <= svg.height + 0.05 for y in nums[1::2])


@settings(max_examples=120, deadline=None)
@given(which=st.sampled_from(["map", "attributes"]),
       edits=st.lists(st.tuples(st.integers(0, 100_000), st.integers(0, 3),
                                st.sampled_from([b"", b",", b'"', b"\n", b"]", b"[", b"{", b"}", b"x", b"9",
                                                 b"\xff", b"-", b"null", b"GM0363", b"1e999", b"NaN"])),
                      min_size=1, max_size=4))
def test_mangled_map_files_give_result_or_input_error(bundle, which, edits):
    import tempfile

    if which == "map":
        features = json.loads((bundle / MAP2024).read_text(encoding="utf-8"))["features"][:2]
        data = bytearray(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    else:
        data = bytearray(b"".join((bundle / ATTR2014).read_bytes().splitlines(keepends=True)[:3]))
    for position, length, insert in edits:
        position %= len(data) + 1
        data[position:position + length] = insert
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input"
        path.write_bytes(bytes(data))
        try:
            if which == "map":
                result = shapes.load_boundaries(path)
                shapes.svg_paths(result)
            else:
                result = shapes.read_attributes_2014(path)
                assert all(o.value is None or math.isfinite(o.value) for o in result.observations)
        except InputError as exc:
            assert exc.path == str(path)


def test_2014_map_properties_equal_the_attribute_csv(bundle):
    """The derived GeoJSON and CSV carry the same attribute table (one source, two files)."""
    raw = json.loads((bundle / MAP2014).read_text(encoding="utf-8"))
    props = {f["properties"]["CBSCODE"]: f["properties"] for f in raw["features"]}
    imported = shapes.read_attributes_2014(bundle / ATTR2014)
    assert len(imported.observations) == 403 * len(shapes.ATTRIBUTES_2014_MEASURES)
    for o in imported.observations:
        assert o.value == props[o.region_code][o.measure]
