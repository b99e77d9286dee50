"""Localisation: which trends apply to a gemeente, checked against the indicator values."""

from __future__ import annotations

import re

import pytest
from helpers import tiny_indicator_store

from trendstudie.errors import InputError
from trendstudie.knowledge import model
from trendstudie.knowledge.localise import (Condition, IndicatorData, Rule, Rules, Scale, Settings, evaluate,
                                            load_rules, localise, localise_all, rule_in_words)


@pytest.fixture(scope="module")
def data(con):
    return IndicatorData(con)


def val(con, ind, region, period):
    return con.execute("SELECT value FROM indicator_values WHERE indicator_id=? AND region_code=? AND period=?",
                       [ind, region, period]).fetchone()[0]


def test_rules_name_known_trends_and_indicators(con):
    kb = model.load()
    rules = load_rules()
    indicators = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
    for d in rules.derived:
        assert d.id not in indicators and {d.aantal, *d.aandelen} <= indicators
    indicators |= {d.id for d in rules.derived}
    for rule in rules:
        assert rule.trend in kb.trends
        for c in rule.sterk + rule.enigszins:
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


# --- evidence, counter-evidence and old figures, on a small store of our own -------------------


def tiny_store(values: dict[tuple[str, str, str], float], units: dict[str, str] | None = None):
    """A store with the tables IndicatorData reads: one gemeente GM0001 in Nederland NL01."""
    units = units or {}
    indicators = {ind: (ind.capitalize().replace("_", " "), units.get(ind, "per 1.000 inwoners"), 1)
                  for ind in sorted({k[0] for k in values})}
    con = tiny_indicator_store(values, indicators)
    return IndicatorData(con, derived=[])


def cond(**kw) -> Condition:
    return Condition.model_validate(kw)


@pytest.fixture
def tiny():
    return tiny_store({
        # a: above Nederland in 2025 (fresh); b: fell from 2020 to 2025; c: only 2015 (old), far above Nederland
        ("a", "GM0001", "2025JJ00"): 12.0, ("a", "NL01", "2025JJ00"): 10.0,
        ("b", "GM0001", "2020JJ00"): 5.0, ("b", "GM0001", "2025JJ00"): 4.0,
        ("c", "GM0001", "2015JJ00"): 30.0, ("c", "NL01", "2015JJ00"): 10.0,
        ("bevolking", "GM0001", "2026JJ00"): 1000.0,  # the newest year in the store: 2026
    })


def test_a_condition_that_fails_is_counter_evidence_not_support(tiny):
    """'enigszins' because one condition holds: the one that does not hold is listed against, never for."""
    rule = Rule(trend="t", indicators=["a", "b"],
                sterk=[cond(indicator="a", **{"is": "hoger"}, dan="NL01", marge=0.5), cond(indicator="b", verandering="stijgend")],
                enigszins=[cond(indicator="a", **{"is": "hoger"}, dan="NL01"), cond(indicator="b", verandering="stijgend")])
    f = localise(rule, tiny, "GM0001")
    assert f.strength == "enigszins"
    assert f.evidence == ["A: 12,0 per 1.000 inwoners in 2025, hoger dan Nederland (10,0)."]
    assert f.counter == ["B: gedaald van 5,0 in 2020 naar 4,0 per 1.000 inwoners in 2025 (-20,0%)."]
    # 'a' is above Nederland but not by the 50% of 'sterk': that is no counter-evidence next to its support
    assert not any(s.startswith("A:") for s in f.counter)
    assert f.note is None


def test_a_margin_not_met_says_what_the_rule_asks(tiny):
    check = evaluate(cond(indicator="a", **{"is": "hoger"}, dan="NL01", marge=0.5), tiny, "GM0001")
    assert check.holds is False
    assert check.sentence == ("A: 12,0 per 1.000 inwoners in 2025, hoger dan Nederland (10,0), maar het verschil is "
                              "kleiner dan de 50% die de regel vraagt.")


def test_a_verdict_on_old_figures_only_is_capped_and_says_so(tiny):
    rule = Rule(trend="t", indicators=["c"], sterk=[cond(indicator="c", **{"is": "hoger"}, dan="NL01")],
                enigszins=[cond(indicator="c", **{"is": "hoger"}, dan="NL01")])
    f = localise(rule, tiny, "GM0001")
    assert f.strength == "enigszins"
    assert "2015" in f.evidence[0]
    assert f.note and "op cijfers uit 2015" in f.note and "hooguit 'speelt enigszins'" in f.note
    # with a wider setting 2015 is recent enough, and the verdict stands
    f = localise(rule, tiny, "GM0001", Settings(oude_cijfers_jaren=11))
    assert f.strength == "sterk" and f.note is None


def test_a_verdict_partly_on_old_figures_says_so(tiny):
    rule = Rule(trend="t", indicators=["a", "c"],
                sterk=[cond(indicator="a", **{"is": "hoger"}, dan="NL01"), cond(indicator="c", **{"is": "hoger"}, dan="NL01")])
    f = localise(rule, tiny, "GM0001")
    assert f.strength == "sterk"
    assert f.note and "deels op cijfers uit 2015" in f.note


def test_the_rule_file_holds_the_old_figures_setting():
    rules = load_rules()
    assert isinstance(rules, Rules) and rules.settings.oude_cijfers_jaren == 5
    assert [d.id for d in rules.derived] == ["inwoners_15_65"]


def test_a_plain_list_of_rules_still_loads(tmp_path):
    p = tmp_path / "rules.yaml"
    p.write_text("- trend: x\n  reden: waarom\n  indicators: [a]\n  sterk:\n    - {indicator: a, boven: 1, reden: grens}\n",
                 encoding="utf-8")
    rules = load_rules(p)
    assert [r.trend for r in rules] == ["x"] and rules.settings == Settings()


# --- the real rules over the real store -------------------------------------------------------


@pytest.fixture(scope="module")
def all_findings(con, data):
    codes = [c for (c,) in con.execute("SELECT code FROM regions WHERE current AND code LIKE 'GM%'").fetchall()]
    return {c: {f.trend: f for f in localise_all(con, c, data=data)} for c in codes}


def test_evidence_and_counter_evidence_never_overlap(all_findings):
    for code, findings in all_findings.items():
        for f in findings.values():
            assert not set(f.evidence) & set(f.counter), (code, f.trend)
            if f.strength != "onbekend":
                assert f.evidence, (code, f.trend)  # a verdict always comes with what bears it out


def test_groningen_does_not_shrink(all_findings):
    """Groningen grows: 'Bevolkingsdaling' does not apply and its growth is never listed as support for it."""
    krimp = all_findings["GM0014"]["krimp"]
    assert krimp.strength == "niet van toepassing"
    # the evidence for 'niet van toepassing' is the growth; nothing speaks for a decline
    assert krimp.evidence and all("steeg" in s for s in krimp.evidence) and not krimp.counter
    verharding = all_findings["GM0014"]["verharding-criminaliteit"]
    assert not any(s.startswith("Geweldsmisdrijven, drie jaar samen: gedaald") for s in verharding.evidence)
    assert any(s.startswith("Geweldsmisdrijven, drie jaar samen: gedaald") for s in verharding.counter)


def test_trends_about_decline_need_a_decline(con, data, all_findings):
    for code, findings in all_findings.items():
        if findings["krimp"].strength in ("sterk", "enigszins"):
            series = dict(data.series("bevolking", code))
            last = max(series)
            starts = [next(p for p in sorted(series) if int(p[:4]) >= int(last[:4]) - years) for years in (5, 10)]
            assert any(series[last] < series[start] for start in starts), code
            assert all("daalde" in s for s in findings["krimp"].evidence), code
        if findings["krimp-potentiele-beroepsbevolking"].strength in ("sterk", "enigszins"):
            assert any("inwoners van 15 tot 65 jaar daalde" in s for s in findings["krimp-potentiele-beroepsbevolking"].evidence)


def test_growing_car_ownership_needs_growth(all_findings):
    for code, findings in all_findings.items():
        f = findings["dominantie-auto"]
        if f.strength == "sterk":
            assert any("Personenauto's per huishouden: gestegen" in s for s in f.evidence), code
        if f.strength in ("sterk", "enigszins"):
            assert not any("lager dan Nederland" in s for s in f.evidence), code


def test_vaals_evidence_supports_the_verdict(all_findings):
    vaals = all_findings["GM0981"]
    jongeren = vaals["wegtrekkende-jongeren"]
    assert not any("Binnenlands migratiesaldo" in s for s in jongeren.evidence)
    assert any("Binnenlands migratiesaldo" in s and "positief" in s for s in jongeren.counter)
    ondermijning = vaals["ondermijning"]
    assert not any("lager dan Nederland" in s for s in ondermijning.evidence)
    assert vaals["dominantie-auto"].strength == "niet van toepassing"
    # a growing share needs a series: 2015 only, so the figures do not judge it and say why
    groei = vaals["groeiend-aandeel-migratieachtergrond"]
    assert groei.strength == "onbekend" and "alleen een cijfer uit 2015" in groei.note


def test_every_condition_can_be_judged(con, data):
    """A condition whose window finds no start period (e.g. 'jaren: 6' on an indicator with 2015 and
    2025 only) can never hold: every condition with data must be judged for most gemeenten."""
    codes = [c for (c,) in con.execute("SELECT code FROM regions WHERE current AND code LIKE 'GM%'").fetchall()]
    for rule in load_rules():
        for c in rule.sterk + rule.enigszins:
            if not any(data.latest(c.indicator, code) for code in codes):
                continue  # no figures at all (the trend is 'onbekend' everywhere)
            # judged, or refused with a reason (too few cases: see kleine_aantallen)
            judged = sum(check.holds is not None or bool(check.sentence)
                         for check in (evaluate(c, data, code) for code in codes))
            assert judged > 0.9 * len(codes), (rule.trend, c)


def _dutch(text: str) -> float:
    return float(text.replace(".", "").replace(",", "."))


def _change_as_printed(sentence: str) -> None:
    """'van 18,8% in 2015 naar 16,2% in 2025 (-2,6 procentpunt': the change is what a reader works
    out from the two printed values (a relative change to its printed decimal)."""
    m = re.search(r"van (-?[\d.,]+)(%?) in \S+ naar (-?[\d.,]+)%?.*? in \S+ \(([+-]?[\d.,]+)( procentpunt|%)", sentence)
    if not m:
        return
    a, b, said = _dutch(m[1]), _dutch(m[3]), _dutch(m[4])
    if m[5] == " procentpunt":
        assert abs(said - (b - a)) < 1e-6, sentence
    elif a:
        decimals = len(m[4].partition(",")[2])
        assert abs(said - (b - a) / abs(a) * 100) <= 0.5 * 10 ** -decimals + 1e-9, sentence


def test_sentences_read_as_dutch(all_findings):
    groningen = all_findings["GM0014"]
    assert ("Het aantal inwoners steeg van 233.273 in 2021 naar 244.427 in 2026 (+4,8%, tegen +3,7% in Nederland)."
            in groningen["bevolkingsgroei-steden"].evidence)
    assert any("hoort Groningen bij de 2% van de gemeenten met de hoogste waarde" in s
               for s in groningen["concentratie-criminaliteit-hotspots"].evidence)
    for findings in all_findings.values():
        for f in findings.values():
            for s in f.evidence + f.counter:
                assert not re.search(r"\b(\w+) steeg van [\d.,]+ \1\b", s, re.I), s  # 'Inwoners steeg van 3 inwoners'
                assert "))" not in s and "% gemeenten" not in s, s
                assert " de 0% van de gemeenten" not in s, s  # the lowest of 342 is 0,3%: 'de 1%'
                assert not s.startswith(("Inwoners steeg", "Inwoners daalde")), s
                _change_as_printed(s)
            for s in f.counter if f.strength in ("sterk", "enigszins") else f.evidence:
                if re.search(r"\(.*, tegen .* in .*\)", s):  # a comparison that speaks against: says why
                    assert re.search(r"die de regel vraagt\.$|: niet (sneller|trager) dan .*\.$", s), s


def test_one_word_for_the_middle_verdict_old_rule_files_still_read(tiny):
    """'enigszins' in rule files as in pages, API, CLI and report; a rule file of before that lists
    its conditions under 'matig' (and caps a scale at 'matig') is read as it meant."""
    from trendstudie.knowledge.localise import ORDER, Scale

    assert "matig" not in ORDER
    old = Rule.model_validate({"trend": "t", "indicators": ["a"],
                               "sterk": [{"indicator": "a", "is": "hoger", "dan": "NL01", "marge": 0.5, "reden": "r"}],
                               "matig": [{"indicator": "a", "is": "hoger", "dan": "NL01"}]})
    assert len(old.enigszins) == 1
    assert localise(old, tiny, "GM0001").strength == "enigszins"
    scale = Scale.model_validate({"voorwaarden": [{"indicator": "a", "boven": 1, "reden": "r"}], "hooguit": "matig",
                                  "omschrijving": "de steden", "reden": "r"})
    assert scale.hooguit == "enigszins"
    from trendstudie.knowledge.localise import RULES

    assert sum(len(r.enigszins) for r in load_rules()) > 20
    assert "matig" not in RULES.read_text(encoding="utf-8")  # the built-in rules use the one word


def test_a_difference_of_shares_changes_in_procentpunten():
    """An indicator in procentpunt (a gap between wijken) rises by points, as one in %: 4,0 → 5,5 is
    +1,5 procentpunt and meets a margin of 1 point (relatively it would be +37,5%, short of +100%)."""
    data = tiny_store({("gap", "GM0001", "2020JJ00"): 4.0, ("gap", "GM0001", "2025JJ00"): 5.5,
                       ("bevolking", "GM0001", "2025JJ00"): 1000.0}, units={"gap": "procentpunt"})
    check = evaluate(cond(indicator="gap", verandering="stijgend", jaren=5, marge=1.0), data, "GM0001")
    assert check.holds is True
    assert check.sentence.endswith("(+1,5 procentpunt).")


def test_a_rule_in_words():
    """Every part of a rule, as the trend page and `trendstudie trend` show it: the margins of a
    level relative, of a change in the indicator's own terms, each with the rule file's reason."""
    data = tiny_store({("a", "GM0001", "2025JJ00"): 12.0, ("s", "GM0001", "2025JJ00"): 20.0,
                       ("bevolking", "GM0001", "2025JJ00"): 1000.0}, units={"s": "%"})
    rule = Rule(trend="t", indicators=["a", "s"],
                vereist=[cond(indicator="s", verandering="stijgend", jaren=10, marge=1.0, reden="groei")],
                sterk=[cond(indicator="s", **{"is": "hoger"}, dan="NL01", marge=0.1),
                       cond(indicator="a", sneller_dan="NL01", marge=0.005)],
                enigszins=[cond(indicator="a", percentiel_boven=75), cond(indicator="a", onder=0)],
                schaal=Scale(voorwaarden=[cond(indicator="bevolking", boven=50000)], omschrijving="de grote steden",
                             reden="r"))
    steps = rule_in_words(rule, data)
    assert [s.label for s in steps] == [
        "Eerst moet dit gelden (anders speelt de trend niet)", "Sterk als al deze voorwaarden gelden",
        "Anders enigszins als een van deze geldt",
        "De trend gaat over de grote steden; waar dit niet geldt, speelt hij hooguit enigszins"]
    assert steps[0].conditions == ["S meer dan 1,0 procentpunt gestegen over 10 jaar: groei"]
    assert steps[1].conditions == ["S meer dan 10% hoger dan Nederland",
                                   "A over 5 jaar sterker gestegen dan in Nederland (een verschil van meer dan 0,5%)"]
    assert steps[2].conditions == ["A bij de hoogste 25% van de gemeenten", "A negatief"]
    assert steps[3].conditions == ["Bevolking boven 50.000,0"]
