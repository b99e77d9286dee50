"""A gemeente's profile: every figure traced back to indicator_values, phrases present or absent."""

from __future__ import annotations

import json

import pytest

from trendstudie.analysis import build_profile, indicator_profile
from trendstudie.analysis.neighbours import neighbours
from trendstudie.errors import TrendstudieError

ZWOLLE = "GM0193"


@pytest.fixture(scope="module")
def zwolle(values):
    return build_profile(values, ZWOLLE)


def test_header(zwolle, values):
    assert zwolle.name == "Zwolle" and zwolle.province == "Overijssel"
    assert [g.group_id for g in zwolle.groups] == ["G40", "PV23", "GK6", "NL01"]
    assert [n.code for n in zwolle.neighbours] == [n.code for n in neighbours(values, ZWOLLE)]
    assert len(zwolle.neighbour_basis) >= 6


def test_domains_in_registry_order_and_only_indicators_with_data(zwolle, con):
    rows = con.execute("SELECT indicator_id, domain FROM indicators ORDER BY position").fetchall()
    with_data = {r[0] for r in con.execute(
        "SELECT DISTINCT indicator_id FROM indicator_values WHERE region_code = ?", [ZWOLLE]).fetchall()}
    expected_domains = []
    for ind, dom in rows:
        if ind in with_data and dom not in expected_domains:
            expected_domains.append(dom)
    assert [d.domain for d in zwolle.domains] == expected_domains
    got = [i.indicator_id for d in zwolle.domains for i in d.indicators]
    assert set(got) == with_data
    order = [r[0] for r in rows]
    for d in zwolle.domains:
        ids = [i.indicator_id for i in d.indicators]
        assert ids == sorted(ids, key=order.index)
    assert zwolle.indicator("jeugdzorg") is None


def test_every_latest_value_has_its_own_period_and_status(zwolle, con):
    for d in zwolle.domains:
        for i in d.indicators:
            period, value, status = con.execute(
                "SELECT period, value, status FROM indicator_values WHERE indicator_id = ? AND region_code = ? "
                "ORDER BY period DESC LIMIT 1", [i.indicator_id, ZWOLLE]).fetchone()
            assert (i.period, i.latest.value, i.latest.status) == (period, value, status)
            assert i.value_text


def test_population_change_and_comparisons(zwolle, raw):
    b = zwolle.indicator("bevolking")
    end = b.period
    start = f"{int(end[:4]) - 5}JJ00"
    v0, v1 = raw("bevolking", ZWOLLE, start), raw("bevolking", ZWOLLE, end)
    assert b.change.periods == (start, end)
    assert b.change.percent == pytest.approx((v1 - v0) / v0 * 100)
    assert b.change_phrase.startswith(f"tussen {start[:4]} en {end[:4]} gestegen van ")
    assert b.trend is not None and b.trend_phrase
    assert [g.group.group_id for g in b.comparisons] == ["G40", "PV23", "GK6", "NL01"]
    g40 = b.comparisons[0]
    assert g40.rank_phrase.endswith("40 G40-gemeenten") or "alle G40-gemeenten" in g40.rank_phrase
    assert g40.change is not None and g40.change.change.periods == (start, end)
    assert g40.change_rank_phrase
    # counts are compared with the members' mean, in words that say so
    assert "gemiddelde van de G40-gemeenten" in g40.phrase


def test_sparse_indicator_has_no_change_sentence(zwolle, con):
    # aandeel_0_15 is published in a few years only; without a period within five years of the
    # latest there is no change, and so no sentence
    periods = sorted(r[0] for r in con.execute(
        "SELECT period FROM indicator_values WHERE indicator_id = 'aandeel_0_15' AND region_code = ?", [ZWOLLE]).fetchall())
    i = zwolle.indicator("aandeel_0_15")
    if int(periods[-1][:4]) - int(periods[-2][:4]) > 5:
        assert i.change is None and i.change_phrase is None
        assert all(g.change is None and g.change_rank_phrase is None for g in i.comparisons)
    else:
        assert i.change is not None


def test_signed_indicators_compare_differences_not_ratios(zwolle):
    i = zwolle.indicator("binnenlands_migratiesaldo_per_1000")
    for g in i.comparisons:
        assert "keer" not in g.phrase and ("hoger dan" in g.phrase or "lager dan" in g.phrase or "gelijk" in g.phrase)


def test_neighbour_median(zwolle, values):
    i = zwolle.indicator("misdrijven_per_1000")
    table = values.indicator("misdrijven_per_1000")
    vals = sorted(table[n.code][i.period].value for n in zwolle.neighbours if i.period in table.get(n.code, {}))
    import statistics
    assert i.neighbours.median == pytest.approx(statistics.median(vals))
    assert i.neighbours.n == len(vals)
    assert "meest vergelijkbare gemeenten" in i.neighbours.phrase


def test_direction_gives_judgements(zwolle):
    i = zwolle.indicator("misdrijven_per_1000")
    for g in i.comparisons:
        if g.assessment:
            assert g.phrase.endswith(f"({g.assessment})")
    neutral = zwolle.indicator("bevolking")
    assert all(g.assessment is None for g in neutral.comparisons)


def test_no_placeholders_anywhere(zwolle):
    text = json.dumps(zwolle.to_dict(), ensure_ascii=False)
    assert "n.v.t" not in text and "None" not in text and "NaN" not in text
    assert "\"members\"" not in text  # the long member lists are left out


def test_indicator_profile_alone_and_unknown_codes(values):
    assert indicator_profile(values, ZWOLLE, "jeugdzorg") is None
    assert indicator_profile(values, ZWOLLE, "bestaat_niet") is None
    assert indicator_profile(values, ZWOLLE, "bevolking").comparisons
    with pytest.raises(TrendstudieError):
        build_profile(values, "GM9999")
    with pytest.raises(TrendstudieError):
        build_profile(values, "G40")


def test_profile_from_a_connection(con, zwolle):
    p = build_profile(con, ZWOLLE, k=5)
    assert len(p.neighbours) == 5
    assert p.indicator("bevolking").latest == zwolle.indicator("bevolking").latest


def test_sentences(zwolle):
    i = zwolle.indicator("misdrijven_per_1000")
    s = i.sentences()
    assert s[0] == f"{i.title}: {i.value_text} ({i.period_text}, {i.latest.status.lower()})."
    assert all(x[0].isupper() or x[0].isdigit() or x[0] == "-" for x in s) and all(x.endswith(".") for x in s)
    assert len(s) == 2 + len(i.comparisons) + 1
    # a balance changes without a percentage
    m = zwolle.indicator("binnenlands_migratiesaldo_per_1000")
    assert m.change_phrase and "%" not in m.change_phrase
    assert all(g.change is None or g.change.measure == "absoluut" for g in m.comparisons)
