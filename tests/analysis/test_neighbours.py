"""Statistical neighbours: sane, deterministic, documented."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from trendstudie.analysis import Values
from trendstudie.analysis.neighbours import PROFILE, distance, neighbours, profile_scores

DOCS = Path(__file__).resolve().parents[2] / "docs" / "buren.md"


def test_profile_is_standardised_over_all_gemeenten(con, values):
    prof = profile_scores(values)
    assert len(prof.scores) == 342
    assert [i for i, _, _ in prof.indicators] == [i for i, _ in PROFILE]
    for col, (indicator_id, period, log) in enumerate(prof.indicators):
        z = [s[col] for s in prof.scores.values() if s[col] is not None]
        assert len(z) >= 0.95 * 342
        assert sum(z) / len(z) == pytest.approx(0, abs=1e-9)
        assert math.sqrt(sum(x * x for x in z) / len(z)) == pytest.approx(1)
        # the period is the latest with (nearly) full coverage, counted here
        counts = dict(con.execute(
            "SELECT period, count(*) FROM indicator_values v JOIN regions r ON r.code = v.region_code "
            "WHERE r.kind = 'GM' AND r.current AND indicator_id = ? GROUP BY period", [indicator_id]).fetchall())
        assert period == max(p for p, n in counts.items() if n >= 0.95 * 342)


def test_zscore_by_hand_for_one_gemeente(con, values):
    prof = profile_scores(values)
    col = [i for i, _, _ in prof.indicators].index("bevolking")
    period = prof.indicators[col][1]
    pops = dict(con.execute("SELECT v.region_code, v.value FROM indicator_values v JOIN regions r ON r.code = v.region_code "
                            "WHERE r.kind = 'GM' AND r.current AND indicator_id = 'bevolking' AND period = ?", [period]).fetchall())
    logs = {k: math.log(v) for k, v in pops.items()}
    mean = sum(logs.values()) / len(logs)
    sd = math.sqrt(sum((x - mean) ** 2 for x in logs.values()) / len(logs))
    assert prof.scores["GM0193"][col] == pytest.approx((logs["GM0193"] - mean) / sd)


def test_a_gemeente_is_not_its_own_neighbour_and_distances_ascend(values):
    for code in ("GM0193", "GM0363", "GM0014", "GM0080"):
        near = neighbours(values, code, 10)
        assert len(near) == 10
        assert code not in [n.code for n in near]
        assert len({n.code for n in near}) == 10
        assert [n.distance for n in near] == sorted(n.distance for n in near)


def test_neighbours_of_a_big_city_include_other_big_cities(con, values):
    top = [r[0] for r in con.execute(
        "SELECT v.region_code FROM indicator_values v JOIN regions r ON r.code = v.region_code "
        "WHERE r.kind = 'GM' AND r.current AND indicator_id = 'bevolking' AND period = "
        "(SELECT max(period) FROM indicator_values WHERE indicator_id = 'bevolking') ORDER BY value DESC LIMIT 10").fetchall()]
    biggest = top[0]
    near = {n.code for n in neighbours(values, biggest, 10)}
    assert len(near & set(top[1:4])) >= 2  # at least two of the next three largest
    assert len(near & set(top[1:])) >= 5


def test_deterministic(con):
    a = [(n.code, n.distance) for n in neighbours(Values(con), "GM0193", 10)]
    b = [(n.code, n.distance) for n in neighbours(Values(con), "GM0193", 10)]
    assert a == b


def test_edges(values):
    assert neighbours(values, "GM9999") == []
    assert neighbours(values, "G40") == []
    assert neighbours(values, "GM0193", 0) == []
    assert len(neighbours(values, "GM0193", 3)) == 3


def test_distance_over_shared_components():
    assert distance((0.0, 0.0), (3.0, 4.0)) == pytest.approx(5.0)
    assert distance((0.0, None), (3.0, 4.0)) == pytest.approx(math.sqrt(9 * 2))
    assert distance((None,), (1.0,)) is None


def test_documented():
    text = DOCS.read_text(encoding="utf-8")
    for indicator_id, _ in PROFILE:
        assert f"`{indicator_id}`" in text
