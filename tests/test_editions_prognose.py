"""A projection that left its margin, end to end (issue 17, point 3): a copy of the bundle in which
one gemeente's population on the projections' start date is half as large again is built over the
shared store; `wijzigingen GEMEENTE --format json` then lists that figure and exactly the
projections of the end year that `prognose` puts outside the previous projection's 90% margin, and
a gemeente that was not touched gets no projection change. Every expected figure comes from the
stores (the facts and `prognose` on the old and the new store), none is written here."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from editions_bundle import POPULATION, population_bundle
from trendstudie import editions, forecast
from trendstudie.cli import app

FACTOR = 1.5  # far beyond any 90% margin of the population 15 years on


def cli(home, *args):
    result = CliRunner().invoke(app, list(args), env={"TRENDSTUDIE_HOME": str(home)})
    assert result.exit_code == 0, (result.output, result.exception)
    return json.loads(result.output)


def _population_cells(con, period: str) -> dict[str, float]:
    """Gemeente → its population on 1 January of `period` as 03759ned published it, for current
    gemeenten that no herindeling touched (their fact is the source's figure, unharmonised)."""
    touched = {c for row in con.execute("SELECT from_code, to_code FROM region_events").fetchall() for c in row}
    return {code: value for code, value in con.execute(
        "SELECT f.region_code, f.value FROM facts f JOIN group_members m ON m.region_code = f.region_code "
        "AND m.group_id = 'NL01' WHERE f.table_id = ? AND f.measure = ? AND f.dims = ? AND f.period = ? "
        "AND f.value IS NOT NULL AND f.method = 'ongewijzigd' AND NOT f.harmonised ORDER BY f.region_code",
        [*POPULATION, period]).fetchall() if code not in touched}


@pytest.fixture(scope="module")
def moved(built_home, bundle, tmp_path_factory):
    """(home with editions 1 and 2, the changed gemeente, an untouched one, the changed cell)."""
    from trendstudie import store
    from trendstudie.build import build
    from trendstudie.config import settings
    from trendstudie.forecast import components

    con = store.connect(built_home / "trendstudie.duckdb")
    try:
        period = f"{components.load_history(con).last_population_year()}JJ00"  # where the projections start
        cells = {c: v for c, v in _population_cells(con, period).items() if v >= 20_000}
    finally:
        con.close()
    assert len(cells) >= 2, cells
    code, quiet = min(cells), max(cells)
    root = tmp_path_factory.mktemp("prognose")
    home = root / "home"
    home.mkdir()
    shutil.copy(built_home / "trendstudie.duckdb", home / "trendstudie.duckdb")
    assert editions.record(home, home / "trendstudie.duckdb", None).nummer == 1
    old, new = population_bundle(bundle, root / "bundle", code, period, FACTOR)
    assert old == cells[code]  # the store holds the published figure
    build(settings(home=home, bundle=root / "bundle"))
    return home, code, quiet, (period, old, new)


def _end_year(rows: list[dict]) -> dict[str, dict]:
    """`prognose --format json` rows of the end year that have a 90% margin, by indicator."""
    end = f"{forecast.DEFAULT_UNTIL}JJ00"
    return {r["indicator_id"]: r for r in rows
            if r["period"] == end and r["lower"] is not None and r["upper"] is not None}


def _outside(before: dict[str, dict], after: dict[str, dict]) -> dict[str, tuple[float, float]]:
    return {ind: (o["value"], after[ind]["value"]) for ind, o in before.items()
            if ind in after and not o["lower"] <= after[ind]["value"] <= o["upper"]}


def test_projection_that_left_its_margin_is_listed(moved, built_home):
    home, code, _, (period, old, new) = moved
    rows = cli(home, "wijzigingen", code, "--format", "json")["wijzigingen"]
    assert {r["region_code"] for r in rows} == {code}
    # the figure that was changed, and no other of this gemeente
    cells = [(r["soort"], r["onderwerp"], r["dims"], r["period"], r["oud"], r["nieuw"], r["afgeleid"])
             for r in rows if r["soort"] in ("waarde", "periode")]
    assert cells == [("waarde", f"{POPULATION[0]}/{POPULATION[1]}", POPULATION[2], period, old, new, False)]
    # exactly the projections of the end year that `prognose` on the two stores puts outside the old margin
    before = _end_year(cli(built_home, "prognose", code, "--format", "json"))
    after = _end_year(cli(home, "prognose", code, "--format", "json"))
    expected = _outside(before, after)
    assert "bevolking" in expected
    listed = {r["onderwerp"]: r for r in rows if r["soort"] == "prognose"}
    assert set(listed) == set(expected)
    for ind, (was, now) in expected.items():
        r = listed[ind]
        assert r["period"] == f"{forecast.DEFAULT_UNTIL}JJ00"
        assert r["oud"] == pytest.approx(was, rel=1e-12) and r["nieuw"] == pytest.approx(now, rel=1e-12)
        assert "buiten de marge van de vorige prognose" in r["label"]


def test_untouched_gemeente_gets_no_projection_change(moved, built_home):
    home, _, quiet, _ = moved
    rows = cli(home, "wijzigingen", quiet, "--format", "json")["wijzigingen"]
    assert [r for r in rows if r["soort"] in ("prognose", "waarde", "periode")] == []
    # and indeed `prognose` keeps every figure of its end year within the previous margin
    before = _end_year(cli(built_home, "prognose", quiet, "--format", "json"))
    after = _end_year(cli(home, "prognose", quiet, "--format", "json"))
    assert before and set(before) == set(after) and _outside(before, after) == {}


def test_projection_snapshot_is_what_prognose_gives(moved):
    """The projections the edition keeps for the next one are those `prognose` gives."""
    import pyarrow.parquet as pq

    home, code, quiet, _ = moved
    e = editions.history(home)[-1]
    assert e.prognoses is not None and e.wijzigingen["prognose"] >= 1
    kept = pq.read_table(editions.folder(home) / e.prognoses.bestand).to_pylist()
    for gemeente in (code, quiet):
        mine = {r["indicator_id"]: r for r in kept if r["region_code"] == gemeente}
        given = _end_year(cli(home, "prognose", gemeente, "--format", "json"))
        assert set(mine) == set(given)
        for ind, r in given.items():
            assert (mine[ind]["value"], mine[ind]["lower"], mine[ind]["upper"]) == \
                pytest.approx((r["value"], r["lower"], r["upper"]), rel=1e-12)
