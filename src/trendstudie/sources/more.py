"""All `raw/` files of the bundle that are read by `kwb.py`, `misc_csv.py` and `geo/shapes.py`,
in one call: `read_all(bundle, registry)`.

Observations come from the KWB extracts (2019, 2020–2025, 2024 v3), household composition 2020,
cars per household 2023, Leefbaarometer scores per wijk and the 2014 map attributes. The two
gemeentelijke-indeling lists are classifications, not observations: they are compared with the
registry on 1 January of their year and every difference becomes a warning. The 2024 boundary
GeoJSON is checked the same way. A missing file is a warning (the bundle may be partial); a
malformed one raises InputError.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..geo import shapes
from ..geo.regions import RegionRegistry
from . import kwb, misc_csv
from .records import Imported

RAW = "raw"
KWB_2019 = "raw/ujjwalx__dsa2022/kwb-2019.csv"
KWB_HOUSING = "raw/Marlinehuman__ProgrammingForEconG5/data/clean/CLEANED_municipal_housing_2020_2025.csv"
KWB_V3_DIR = "raw/niquedegraaff__Wikipedia-Generator-CBS-Kerncijfers-Wijken-en-Buurten/2024/cbs_data"
HUISHOUDENS = "raw/han-kwang__covid19/data/huishoudens_samenstelling_gemeentes.csv"
AUTOBEZIT = "raw/edugis-repo__cbsbuurtwijkgemeente/extra/gem-autobezit-huishouden_2023_gem.csv"
LEEFBAAROMETER = "raw/kuuroooo__LeefbaarometerPrototype/AmstelveenDataWithDimensions.csv"
INDELINGEN = ("raw/edugis-repo__cbsbuurtwijkgemeente/gemeenten-alfabetisch-2021.csv",
              "raw/edugis-repo__cbsbuurtwijkgemeente/gemeenten-alfabetisch-2023.csv")
ATTRIBUTES_2014 = "raw/rubennaatje__R-datascience-project-/maps/NL_Gemeenten2014/derived/gemeente_2014_attributes.csv"
BOUNDARIES_2024 = "raw/luc4sdreyer__dutch_demographics/web/nl_gemeenten.geojson"


V3_FILES = tuple(f"{KWB_V3_DIR}/{name}" for name in ("stripped_filtered_data_2024.json", "DataProperties.json",
                                                     "TableInfos.json"))


def inputs(bundle: Path) -> list[Path]:
    """The files `read_all` reads (for the build's fingerprint of this source)."""
    return [Path(bundle) / r for r in (KWB_2019, KWB_HOUSING, *V3_FILES, HUISHOUDENS, AUTOBEZIT, LEEFBAAROMETER,
                                       ATTRIBUTES_2014, *INDELINGEN, BOUNDARIES_2024)]


def read_all(bundle: Path, registry: RegionRegistry) -> Imported:
    bundle = Path(bundle)
    out = Imported()

    def present(*relative: str) -> bool:
        missing = [r for r in relative if not (bundle / r).is_file()]
        for r in missing:
            out.warnings.append(f"{r}: bestand ontbreekt in de bundel; overgeslagen")
        return not missing

    if present(KWB_2019):
        out.extend(kwb.read_kwb_2019(bundle / KWB_2019, registry, bundle))
    if present(KWB_HOUSING):
        out.extend(kwb.read_kwb_housing(bundle / KWB_HOUSING, registry, bundle))
    v3 = list(V3_FILES)
    if present(*v3):
        out.extend(kwb.read_kwb_v3(*(bundle / p for p in v3), registry=registry, root=bundle))
    if present(HUISHOUDENS):
        out.extend(misc_csv.read_huishoudens_samenstelling(bundle / HUISHOUDENS, registry, bundle))
    if present(AUTOBEZIT):
        out.extend(misc_csv.read_autobezit(bundle / AUTOBEZIT, registry, bundle))
    if present(LEEFBAAROMETER):
        out.extend(misc_csv.read_leefbaarometer(bundle / LEEFBAAROMETER, registry, bundle))
    if present(ATTRIBUTES_2014):
        out.extend(shapes.read_attributes_2014(bundle / ATTRIBUTES_2014, registry, bundle))
    for relative in INDELINGEN:
        if present(relative):
            rows = misc_csv.read_gemeentelijke_indeling(bundle / relative)
            year = misc_csv.indeling_year(bundle / relative)
            out.warnings.extend(f"{relative}: {m}"
                                for m in misc_csv.check_gemeentelijke_indeling(rows, registry, year))
    if present(BOUNDARIES_2024):
        features = shapes.load_features(bundle / BOUNDARIES_2024)
        out.warnings.extend(f"{BOUNDARIES_2024}: {m}"
                            for m in shapes.check_boundaries(features, registry, date(2024, 1, 1)))
    return out


__all__ = ["read_all"]
