"""forecast.inputs and extrapolates_to: what an edition uses to decide that the projections did not
change (editions.py). Sound only if the models read no fact outside forecast._model_facts(): a store
without any other fact must give the very same projections."""

from __future__ import annotations

import shutil

import duckdb
from helpers import changed_copy

from trendstudie import forecast, store
from trendstudie.forecast import components

END = forecast.DEFAULT_UNTIL


def _end_rows(con, codes):
    return {(r.region_code, r.indicator_id): (r.value, r.lower, r.upper)
            for code in codes for r in forecast.project(con, code, "basis", extrapolated=False)
            if r.period == f"{END}JJ00"}


def test_models_read_only_the_fingerprinted_facts(built_home, tmp_path):
    source = built_home / "trendstudie.duckdb"
    bare = changed_copy(source, tmp_path / "alleen-modelcijfers.duckdb",
                        f"DELETE FROM facts WHERE NOT {forecast._model_facts()}",
                        "UPDATE build_info SET value = value || '-kaal' WHERE key = 'built_at'")  # its own model cache
    full, kaal = store.connect(source), store.connect(bare)
    try:
        count = "SELECT count(*) FROM facts"
        assert 0 < kaal.execute(count).fetchone()[0] < full.execute(count).fetchone()[0]
        assert forecast.inputs(full, END) == forecast.inputs(kaal, END)
        codes = components.current_gemeenten(full)
        sample = codes[:: max(1, len(codes) // 12)]
        assert _end_rows(full, sample) == _end_rows(kaal, sample)
    finally:
        full.close()
        kaal.close()


def test_extrapolations_do_not_reach_the_end_year(con):
    """With the bundle's figures (up to 2026) no extrapolation reaches 2040: the end year's rows
    are the models' alone, with or without the extrapolations."""
    assert not forecast.extrapolates_to(con, END)
    assert forecast.extrapolates_to(con, END - 10)
    with_trends = [r for r in forecast.project(con, "GM0193", "basis") if r.period == f"{END}JJ00"]
    assert with_trends == [r for r in forecast.project(con, "GM0193", "basis", extrapolated=False)
                           if r.period == f"{END}JJ00"]


def test_inputs_see_a_changed_model_fact_only(built_home, tmp_path):
    copy = tmp_path / "kopie.duckdb"
    shutil.copy(built_home / "trendstudie.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        first = forecast.inputs(con, END)
        con.execute("UPDATE facts SET value = value + 1 WHERE table_id = '83625NED' AND region_code = 'GM0193'")
        assert forecast.inputs(con, END) == first  # house prices: no model reads them
        con.execute("UPDATE facts SET value = value + 1 WHERE table_id = '03759ned' AND measure = 'M000352' "
                    "AND region_code = 'GM0193'")
        assert forecast.inputs(con, END) != first
    finally:
        con.close()
