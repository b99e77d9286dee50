"""A copy of the data bundle with a few known changes, for the tests of editions (issue 17):
unchanged files are symbolic links, the two changed tables are real copies."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import linked_copy

# (table, measure, dims, region, period): (old, new) — what the changed copy changes
PRICE = ("83625NED", "M001534", "")
CRIME = ("47018NED", "GeregistreerdeMisdrijven", "SoortMisdrijf=1.1.1")
REVISED = {
    (*PRICE, "GM0193", "2024JJ00"): (450763.0, 500000.0),
    (*PRICE, "GM0363", "2025JJ00"): (630621.0, 820000.0),
    (*CRIME, "GM0193", "2025JJ00"): (127.0, 400.0),
}
NEW_PERIOD = "2026JJ00"
ADDED = {(*PRICE, "GM0193", NEW_PERIOD): 460000.0, (*PRICE, "GM0363", NEW_PERIOD): 640000.0}
DEFINITIVE = (*CRIME, "GM0193", "2024JJ00")  # voorlopig → definitief, same value


def changed_bundle(src: Path, dst: Path) -> Path:
    price_dir = "odata-v4/83625NED"
    crime_csv = "tidy/47018NED_geregistreerde_misdrijven.csv"
    linked_copy(src, dst, {f"{price_dir}/Observations.json", f"{price_dir}/PeriodenCodes.json", crime_csv})
    obs = json.loads((src / price_dir / "Observations.json").read_text(encoding="utf-8"))
    next_id = max(o["Id"] for o in obs["value"]) + 1
    for o in obs["value"]:
        key = (*PRICE, o["RegioS"], o["Perioden"])
        if key in REVISED:
            assert o["Value"] == REVISED[key][0], (key, o["Value"])
            o["Value"] = REVISED[key][1]
    for (_, measure, _, region, period), value in ADDED.items():
        obs["value"].append({"Id": next_id, "Measure": measure, "ValueAttribute": "None", "Value": value,
                             "StringValue": None, "RegioS": region, "Perioden": period})
        next_id += 1
    (dst / price_dir / "Observations.json").write_text(json.dumps(obs), encoding="utf-8")
    periods = json.loads((src / price_dir / "PeriodenCodes.json").read_text(encoding="utf-8"))
    periods["value"].append({"Identifier": NEW_PERIOD, "Index": len(periods["value"]) + 1, "Title": NEW_PERIOD[:4],
                             "Description": "", "DimensionGroupId": "0", "Status": "Voorlopig"})
    (dst / price_dir / "PeriodenCodes.json").write_text(json.dumps(periods), encoding="utf-8")
    lines = (src / crime_csv).read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        parts = line.rstrip("\n").split(",")
        if len(parts) == 7 and parts[0] == CRIME[0]:
            key = (parts[0], parts[1], f"SoortMisdrijf={parts[2]}", parts[3], parts[4])
            if key in REVISED:
                assert float(parts[5]) == REVISED[key][0], (key, parts[5])
                parts[5] = f"{REVISED[key][1]:g}"
            if key == DEFINITIVE:
                assert parts[6] == "Voorlopig", line
                parts[6] = "Definitief"
            line = ",".join(parts) + "\n"
        out.append(line)
    (dst / crime_csv).write_text("".join(out), encoding="utf-8")
    return dst


POPULATION = ("03759ned", "M000352", "BurgerlijkeStaat=T001019;Geslacht=T001038;Leeftijd=10000")  # on 1 January


def population_bundle(src: Path, dst: Path, region: str, period: str, factor: float) -> tuple[float, float]:
    """A copy of the bundle in which `region`'s population on 1 January of `period` (03759ned,
    the source the projections start from) is `factor` times what CBS published; (old, new)."""
    table = f"odata-v4/{POPULATION[0]}"
    linked_copy(src, dst, {f"{table}/Observations.json"})  # rewritten below
    obs = json.loads((src / table / "Observations.json").read_text(encoding="utf-8"))
    dims = dict(part.split("=") for part in POPULATION[2].split(";"))
    found = [o for o in obs["value"] if o["Measure"] == POPULATION[1] and o["RegioS"] == region
             and o["Perioden"] == period and all(o[d] == c for d, c in dims.items())]
    assert len(found) == 1, (region, period, found)
    old = float(found[0]["Value"])
    found[0]["Value"] = new = float(round(old * factor))
    (dst / table / "Observations.json").write_text(json.dumps(obs), encoding="utf-8")
    return old, new
