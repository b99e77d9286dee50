"""Localisation: which trends apply to a gemeente, checked against the indicator values."""

from __future__ import annotations

import pytest

from trendstudie.errors import InputError
from trendstudie.knowledge import model
from trendstudie.knowledge.localise import IndicatorData, load_rules, localise_all


@pytest.fixture(scope="module")
def data(con):
    return IndicatorData(con)


def val(con, ind, region, period):
    return con.execute("SELECT value FROM indicator_values WHERE indicator_id=? AND region_code=? AND period=?",
                       [ind, region, period]).fetchone()[0]


def test_rules_name_known_trends_and_indicators(con):
    kb = model.load()
    indicators = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
    for rule in load_rules():
        assert rule.trend in kb.trends
        for c in rule.sterk + rule.matig:
            assert c.indicator in indicators


def test_vergrijzing_follows_the_data(con, data):
    """Strong exactly where the 65+ share is above Nederland's and rose since 2019."""
    nl = val(con, "aandeel_65_plus", "NL01", "2025JJ00")
    checked = 0
    for code in ("GM1680", "GM0363", "GM0193", "GM0080", "GM1992"):
        latest, earlier = val(con, "aandeel_65_plus", code, "2025JJ00"), val(con, "aandeel_65_plus", code, "2019JJ00")
        finding = next(f for f in localise_all(con, code, data=data) if f.trend == "vergrijzing")
        expected_strong = latest > nl and latest > earlier
        assert (finding.strength == "sterk") == expected_strong, code
        checked += 1
    assert checked == 5


def test_evidence_quotes_the_numbers(con, data):
    finding = next(f for f in localise_all(con, "GM0363", data=data) if f.trend == "internationale-migratie")
    v = val(con, "buitenlands_migratiesaldo_per_1000", "GM0363", "2023JJ00")
    shown = f"{v:.1f}".replace(".", ",")
    assert finding.strength == "sterk" and any(shown in e for e in finding.evidence)


def test_trends_without_data_are_unknown_not_absent(con, data):
    finding = next(f for f in localise_all(con, "GM0193", data=data) if f.trend == "energietransitie")
    assert finding.strength == "onbekend" and finding.evidence == []


def test_bad_rule_file_is_a_clear_error(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text("- trend: x\n  indicators: [a]\n  sterk:\n    - {indicator: a, is: hoger}\n", encoding="utf-8")
    with pytest.raises(InputError, match="dan"):
        load_rules(p)
