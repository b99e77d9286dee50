"""Peer comparison against values counted by hand from indicator_values."""

from __future__ import annotations

import statistics

import pytest

from trendstudie.analysis import Values
from trendstudie.analysis.compare import compare, compare_all, compare_change, latest, peer_groups, standing

ZWOLLE = "GM0193"
AMSTERDAM = "GM0363"


def members(con, group_id):
    return [r[0] for r in con.execute("SELECT region_code FROM group_members WHERE group_id = ?", [group_id]).fetchall()]


def member_values(con, indicator_id, group_id, period):
    return dict(con.execute(
        "SELECT v.region_code, v.value FROM indicator_values v JOIN group_members m ON m.region_code = v.region_code "
        "WHERE m.group_id = ? AND v.indicator_id = ? AND v.period = ?", [group_id, indicator_id, period]).fetchall())


def test_peer_groups(values):
    assert [g.group_id for g in peer_groups(values, ZWOLLE)] == ["G40", "PV23", "GK6", "NL01"]
    assert [g.group_id for g in peer_groups(values, AMSTERDAM)] == ["G4", "PV27", "GK8", "NL01"]
    g = peer_groups(values, ZWOLLE)[0]
    assert g.reference_label == "het G40-gemiddelde" and g.plural == "G40-gemeenten"
    prov = peer_groups(values, ZWOLLE)[1]
    assert prov.reference_label == "Overijssel" and prov.plural == "gemeenten in Overijssel"
    assert peer_groups(values, "GM9999") == []


def test_latest_is_per_indicator_with_period_and_status(con, values):
    for indicator_id in ("bevolking", "aandeel_0_15", "geboorten_per_1000", "misdrijven_per_1000"):
        period, value, status = con.execute(
            "SELECT period, value, status FROM indicator_values WHERE indicator_id = ? AND region_code = ? "
            "ORDER BY period DESC LIMIT 1", [indicator_id, ZWOLLE]).fetchone()
        v = latest(values, indicator_id, ZWOLLE)
        assert (v.period, v.value, v.status) == (period, value, status)
    # periods differ between indicators: latest is never global
    assert latest(values, "bevolking", ZWOLLE).period != latest(values, "geboorten_per_1000", ZWOLLE).period
    assert latest(values, "jeugdzorg", ZWOLLE) is None  # no data in the bundle


def test_zwolle_population_rank_in_g40_counted_by_hand(con, values):
    vals = member_values(con, "bevolking", "G40", "2026JJ00")
    own = vals[ZWOLLE]
    rank = 1 + sum(1 for v in vals.values() if v > own)
    below = sum(1 for v in vals.values() if v < own)
    c = compare(values, "bevolking", ZWOLLE, "G40", "2026JJ00")
    assert c.period == "2026JJ00" and c.value == own
    assert c.n == len(vals) == 40 and c.n_members == 40
    assert c.rank == rank
    assert c.percentile == pytest.approx(below / 39 * 100)
    assert c.mean == pytest.approx(statistics.fmean(vals.values()))
    assert c.median == pytest.approx(statistics.median(vals.values()))
    assert c.zscore == pytest.approx((own - statistics.fmean(vals.values())) / statistics.pstdev(vals.values()))
    assert c.highest == max(vals, key=vals.get)
    # inwoners add up: the group value is the members' sum, so phrases compare with the mean
    assert c.group_value == pytest.approx(sum(vals.values()))
    assert c.additive and c.reference_kind == "gemiddelde" and c.reference == pytest.approx(c.mean)


def test_rate_compares_with_the_groups_own_value(con, values, raw):
    c = compare(values, "misdrijven_per_1000", ZWOLLE, "G40")
    assert c.period == latest(values, "misdrijven_per_1000", ZWOLLE).period
    g40 = raw("misdrijven_per_1000", "G40", c.period)
    assert c.group_value == g40 and c.reference == g40
    assert not c.additive and c.reference_kind == "groepswaarde"
    assert c.reference_label == "het G40-gemiddelde"
    # the group's own value is not the unweighted mean of its members
    assert c.group_value != pytest.approx(c.mean, rel=1e-6)


def test_nederland_rank_and_percentile_by_hand(con, values):
    c = compare(values, "aandeel_65_plus", ZWOLLE, "NL01")
    vals = member_values(con, "aandeel_65_plus", "NL01", c.period)
    own = vals[ZWOLLE]
    assert c.n == 342
    assert c.rank == 1 + sum(1 for v in vals.values() if v > own)
    ties = sum(1 for k, v in vals.items() if v == own and k != ZWOLLE)
    assert c.percentile == pytest.approx((sum(1 for v in vals.values() if v < own) + ties / 2) / 341 * 100)


def test_compare_all_and_missing_data(values):
    assert [c.group.group_id for c in compare_all(values, "bevolking", ZWOLLE)] == ["G40", "PV23", "GK6", "NL01"]
    assert compare(values, "jeugdzorg", ZWOLLE, "G40") is None
    assert compare(values, "bevolking", ZWOLLE, "NOPE") is None
    assert compare(values, "bevolking", ZWOLLE, "G40", "1850JJ00") is None
    assert compare_all(values, "jeugdzorg", ZWOLLE) == []


def test_change_rank_in_g40_by_hand(con, values):
    start, end = "2021JJ00", "2026JJ00"
    v0, v1 = member_values(con, "bevolking", "G40", start), member_values(con, "bevolking", "G40", end)
    growth = {k: (v1[k] - v0[k]) / v0[k] * 100 for k in v1 if k in v0}
    cc = compare_change(values, "bevolking", ZWOLLE, "G40", start, end)
    assert cc.n == len(growth)
    assert cc.rank == 1 + sum(1 for g in growth.values() if g > growth[ZWOLLE])
    assert cc.change.percent == pytest.approx(growth[ZWOLLE])
    # shares rank on their difference in procentpunt
    cc = compare_change(values, "aandeel_koopwoningen", ZWOLLE, "G40", "2020JJ00", "2025JJ00", "absoluut")
    a0, a1 = member_values(con, "aandeel_koopwoningen", "G40", "2020JJ00"), member_values(con, "aandeel_koopwoningen", "G40", "2025JJ00")
    diffs = {k: a1[k] - a0[k] for k in a1 if k in a0}
    assert cc.rank == 1 + sum(1 for d in diffs.values() if d > diffs[ZWOLLE])
    assert compare_change(values, "bevolking", ZWOLLE, "G40", "1850JJ00", end) is None


def test_standing_with_ties_and_equal_values():
    st = standing({"a": 3, "b": 5, "c": 5, "d": 1}, "b")
    assert (st.rank, st.ties, st.n) == (1, 1, 4)
    assert st.percentile == pytest.approx((2 + 0.5) / 3 * 100)
    st = standing({"a": 3, "b": 5, "c": 5, "d": 1}, "c")
    assert st.rank == 1
    assert standing({"a": 2, "b": 2}, "a").zscore is None
    assert standing({"a": 2}, "a").percentile is None
    assert standing({"a": 2, "b": None}, "b") is None
    assert standing({}, "x") is None


def test_values_accepts_a_connection(con):
    assert compare(con, "bevolking", ZWOLLE, "G40").rank == compare(Values(con), "bevolking", ZWOLLE, "G40").rank


def test_counts_are_recognised_from_the_data(con, values):
    for indicator_id in ("bevolking", "woningvoorraad", "misdrijven_per_1000", "aandeel_65_plus"):
        period = con.execute("SELECT max(period) FROM indicator_values WHERE indicator_id = ? AND region_code = 'NL01'",
                             [indicator_id]).fetchone()[0]
        nl = con.execute("SELECT value FROM indicator_values WHERE indicator_id = ? AND region_code = 'NL01' AND period = ?",
                         [indicator_id, period]).fetchone()[0]
        total = sum(member_values(con, indicator_id, "NL01", period).values())
        assert values.additive(indicator_id) == (abs(nl - total) <= 0.005 * total)
    assert values.additive("bevolking") and not values.additive("misdrijven_per_1000")


from hypothesis import given, strategies as st  # noqa: E402


@given(st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), st.integers(-5, 5), min_size=1, max_size=12))
def test_standing_properties(values):
    ordered = sorted(values.values(), reverse=True)
    for code, v in values.items():
        s = standing(values, code)
        assert 1 <= s.rank <= s.n == len(values)
        assert ordered[s.rank - 1] == v and (s.rank == 1 or ordered[s.rank - 2] > v)
        assert s.ties == sum(1 for k, w in values.items() if w == v and k != code)
        if s.percentile is not None:
            assert 0 <= s.percentile <= 100
        assert s.minimum <= s.median <= s.maximum


def test_load_all_gives_the_same_answers(con, values):
    every = Values(con).load_all()
    for indicator_id in ("bevolking", "misdrijven_per_1000", "aandeel_0_15"):
        assert every.indicator(indicator_id) == values.indicator(indicator_id)
    assert every.indicator("jeugdzorg") == {}
    assert compare(every, "bevolking", ZWOLLE, "G40") == compare(values, "bevolking", ZWOLLE, "G40")
