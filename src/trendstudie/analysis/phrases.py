"""Comparisons in Dutch words, in the spirit of Census Reporter's phrases.

Every function returns a phrase without a capital or full stop, so callers can build a sentence
around it, or None when there is nothing to say (no data, a group of one): the caller then drops
the sentence. Nothing here ever writes "n.v.t.".

Ratio phrases (`ratio_phrase`), with r = value / reference, both positive:

=====================  ==============================================================
r                      phrase
=====================  ==============================================================
0,95 ≤ r ≤ 1,05        ongeveer gelijk aan X
1,05 < r ≤ 1,15        iets hoger dan X             (0,85 ≤ r < 0,95: iets lager dan X)
1,15 < r < 1,35        ongeveer 25% hoger dan X     (0,55 ≤ r < 0,85: ongeveer 30% lager dan X;
                                                     the percentage rounded to 5)
r ≥ 1,35               multiples: anderhalf, twee, tweeënhalf, drie, drieënhalf, vier … tien
                       keer zo hoog als X; above 10,5 × "meer dan tien keer zo hoog als X"
r < 0,55               fractions: de helft, een derde, een kwart, een vijfde, een tiende van X;
                       below 0,095 × "minder dan een tiende van X"
=====================  ==============================================================

For multiples and fractions the nearest anchor (on a log scale) is chosen: within 0,5% of it
the phrase is exact ("twee keer zo hoog als"), within 5% it is "ongeveer", above it "ruim",
below it "bijna". So 2,0 → "twee keer zo hoog als", 1,95 → "ongeveer twee keer zo hoog als",
2,2 → "ruim twee keer zo hoog als", 2,8 → "bijna drie keer zo hoog als".

A ratio means nothing for an indicator that can be negative (the caller passes ratio=False),
when a value is zero or negative, or when the reference is so small that
it shows as 0 at the indicator's number of decimals (a tiny denominator). Then the phrase gives
the difference instead: "3,2 per 1.000 inwoners hoger dan X" (for shares: "procentpunt").

With a direction ('hoger is beter' / 'hoger is slechter') a phrase can carry a judgement
("(gunstig)", "(ongunstig)"); 'neutraal' indicators and "ongeveer gelijk" never do.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

from .. import formatting
from .change import Change, Trend

EQUAL = 0.05  # |r − 1| ≤ 5%: ongeveer gelijk
SLIGHT = 0.15  # up to 15% away: iets hoger / iets lager
PERCENT_UP = 1.35  # below this (and above 1.15) a rounded percentage
PERCENT_DOWN = 0.55  # above this (and below 0.85) a rounded percentage
EXACT = 0.005  # within 0,5% of an anchor: no qualifier
NEAR = 0.05  # within 5% of an anchor: "ongeveer"
EPS = 1e-9
SAME_PERCENT = 1.0  # a change hidden by rounding and under 1% is "gelijk gebleven"

WORDS = {1.5: "anderhalf", 2: "twee", 2.5: "tweeënhalf", 3: "drie", 3.5: "drieënhalf", 4: "vier",
         5: "vijf", 6: "zes", 7: "zeven", 8: "acht", 9: "negen", 10: "tien"}
FRACTIONS = {1 / 2: "de helft", 1 / 3: "een derde", 1 / 4: "een kwart", 1 / 5: "een vijfde",
             1 / 10: "een tiende"}


def _ok(x) -> bool:
    return x is not None and not (isinstance(x, float) and (math.isnan(x) or math.isinf(x)))


def _is_share(unit: str | None) -> bool:
    return (unit or "").strip().startswith("%")


def _num(value: float, decimals: int) -> str:
    """formatting.number with half-up rounding (1.234,5 → 1.235, not banker's 1.234)."""
    if math.isfinite(value) and abs(value) < 1e15:
        q = Decimal(1).scaleb(-decimals)
        value = float(Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP))
    return formatting.number(value, decimals)


def format_number(value: float, decimals: int = 0, unit: str | None = None) -> str | None:
    """A number in Dutch with its unit: 1234.5 → '1.234,5'; '12,3%'; '€ 312.000';
    '32,1 x 1.000 euro' → '€ 32.100'; '5,2 per 1.000 inwoners'. None for no value."""
    if not _ok(value):
        return None
    unit = (unit or "").strip()
    decimals = max(0, int(decimals or 0))
    if unit == "x 1.000 euro":
        return f"€ {_num(value * 1000, max(0, decimals - 3))}"
    if unit == "euro":
        return f"€ {_num(value, decimals)}"
    n = _num(value, decimals)
    if _is_share(unit):
        return f"{n}{unit}" if unit == "%" else f"{n}{unit[0]} {unit[1:].strip()}"
    return f"{n} {unit}" if unit else n


def _trailing_unit(unit: str | None) -> bool:
    """A unit written after the number as words (not %, not euro)."""
    u = (unit or "").strip()
    return bool(u) and not _is_share(u) and u not in ("euro", "x 1.000 euro")


def format_difference(diff: float, decimals: int = 0, unit: str | None = None) -> str | None:
    """The size of a difference: shares in procentpunt, everything else in its unit."""
    if not _ok(diff):
        return None
    if _is_share(unit):
        return f"{_num(abs(diff), decimals)} procentpunt"
    return format_number(abs(diff), decimals, unit)


def format_percent(p: float, decimals: int = 1, sign: bool = True) -> str | None:
    """+18,0% / -3,2% (with sign), or 18,0%."""
    if not _ok(p):
        return None
    text = _num(p, decimals)
    if sign and not text.startswith("-") and text.strip("0,") != "":
        text = "+" + text
    return f"{text}%"


def _half_unit(decimals: int) -> float:
    return 0.5 * 10 ** (-max(0, int(decimals or 0)))


def assessment(value: float, reference: float, direction: str | None, decimals: int = 1) -> str | None:
    """'gunstig' or 'ongunstig' for a value against a reference given the indicator's
    direction; None for 'neutraal', missing values, or when they are about equal."""
    if direction not in ("hoger is beter", "hoger is slechter") or not _ok(value) or not _ok(reference):
        return None
    if value > 0 and reference > 0:
        if abs(value / reference - 1) <= EQUAL + EPS:
            return None
    elif abs(value - reference) < _half_unit(decimals):
        return None
    higher = value > reference
    return "gunstig" if higher == (direction == "hoger is beter") else "ongunstig"


def _anchor_phrase(r: float, anchors: dict[float, str]) -> tuple[str, str]:
    """(qualifier, anchor words) for the anchor nearest to r on a log scale."""
    a = min(anchors, key=lambda k: abs(math.log(r / k)))
    dev = r / a - 1
    if abs(dev) <= EXACT + EPS:
        q = ""
    elif abs(dev) <= NEAR + EPS:
        q = "ongeveer "
    elif dev > 0:
        q = "ruim "
    else:
        q = "bijna "
    return q, anchors[a]


def _nearest_five(fraction: float) -> int:
    """0.225 → 25 (percent, rounded half up to a multiple of 5)."""
    return 5 * math.floor(fraction * 20 + 0.5 + EPS)


def ratio_words(r: float) -> str | None:
    """The comparison part of a ratio phrase, without the reference: 'ruim twee keer zo
    hoog als', 'ongeveer gelijk aan', 'iets lager dan', 'ongeveer de helft van'."""
    if not _ok(r) or r <= 0:
        return None
    if abs(r - 1) <= EQUAL + EPS:
        return "ongeveer gelijk aan"
    if 1 < r <= 1 + SLIGHT + EPS:
        return "iets hoger dan"
    if 1 - SLIGHT - EPS <= r < 1:
        return "iets lager dan"
    if 1 < r < PERCENT_UP:
        return f"ongeveer {_nearest_five(r - 1)}% hoger dan"
    if PERCENT_DOWN <= r < 1:
        return f"ongeveer {_nearest_five(1 - r)}% lager dan"
    if r > 10 * (1 + NEAR) + EPS:
        return "meer dan tien keer zo hoog als"
    if r < 0.1 * (1 - NEAR) - EPS:
        return "minder dan een tiende van"
    if r > 1:
        q, word = _anchor_phrase(r, WORDS)
        return f"{q}{word} keer zo hoog als"
    q, word = _anchor_phrase(r, FRACTIONS)
    return f"{q}{word} van"


def ratio_phrase(value: float | None, reference: float | None, label: str, decimals: int = 1,
                 unit: str | None = None, direction: str | None = None, ratio: bool = True) -> str | None:
    """'ruim twee keer zo hoog als het G40-gemiddelde', 'ongeveer gelijk aan Nederland'; for
    zero, negative values or a tiny reference the difference instead ('3,2 per 1.000
    inwoners lager dan Nederland'). `ratio=False` always gives the difference (for indicators
    that can be negative, such as a migration balance). With a non-neutral direction a
    judgement is added: 'iets lager dan Nederland (gunstig)'. None without data."""
    if not _ok(value) or not _ok(reference) or not label:
        return None
    if ratio and value > 0 and reference >= _half_unit(decimals):
        words = ratio_words(value / reference)
    else:
        diff = value - reference
        if abs(diff) < _half_unit(decimals):
            words = "gelijk aan"
        else:
            words = f"{format_difference(diff, decimals, unit)} {'hoger' if diff > 0 else 'lager'} dan"
    if words is None:
        return None
    verdict = assessment(value, reference, direction, decimals)
    return f"{words} {label}" + (f" ({verdict})" if verdict else "")


def rank_phrase(rank: int | None, n: int | None, plural: str, ties: int = 0) -> str | None:
    """'de hoogste van alle M50-gemeenten', 'de op één na laagste van de 40 G40-gemeenten',
    'op plaats 3 van de 40 G40-gemeenten' (1 = highest). None for a group of one."""
    if rank is None or n is None or n < 2 or not (1 <= rank <= n) or not plural:
        return None
    ties = max(0, min(ties or 0, n - rank))
    shared = "gedeeld " if ties else ""
    if rank == 1:
        return f"{shared}de hoogste van alle {plural}"
    if rank + ties == n:
        return f"{shared}de laagste van alle {plural}"
    if not ties and rank == 2:
        return f"de op één na hoogste van de {n} {plural}"
    if not ties and rank == n - 1:
        return f"de op één na laagste van de {n} {plural}"
    return f"{shared}op plaats {rank} van de {n} {plural}"


def change_phrase(ch: Change | None, decimals: int = 0, unit: str | None = None,
                  with_periods: bool = True, percent: bool = True) -> str | None:
    """'tussen 2021 en 2026 gestegen van 1.234 naar 1.456 inwoners (+18,0%)'; shares change in
    procentpunt. 'gelijk gebleven op …' when both values look the same at the indicator's
    decimals and (except for shares) the change is under 1%; a larger change hidden by rounding
    is shown with up to two more decimals ('van 0,83 naar 0,78'). `percent=False` leaves the
    percentage out (for a balance that can be negative, a percentage change means nothing)."""
    if ch is None or not _ok(ch.start_value) or not _ok(ch.end_value):
        return None
    when = f"tussen {formatting.period(ch.start_period)} en {formatting.period(ch.end_period)} " if with_periods else ""
    end_text = format_number(ch.end_value, decimals, unit)
    same_shown = _num(ch.start_value, decimals) == _num(ch.end_value, decimals)
    if ch.absolute == 0 or (same_shown and (_is_share(unit) or ch.percent is None or abs(ch.percent) < SAME_PERCENT)):
        return f"{when}gelijk gebleven op {end_text}"
    shown = decimals
    while shown < decimals + 2 and _num(ch.start_value, shown) == _num(ch.end_value, shown):
        shown += 1  # a change that rounds away is shown with more decimals, never as 'van 0,8 naar 0,8'
    if _num(ch.start_value, shown) == _num(ch.end_value, shown):
        return f"{when}gelijk gebleven op {end_text}"  # never 'gestegen' between two equal printed numbers
    end_text = format_number(ch.end_value, shown, unit)
    start_text = _num(ch.start_value, shown) if _trailing_unit(unit) else format_number(ch.start_value, shown, unit)
    verb = "gestegen" if ch.absolute > 0 else "gedaald"
    if _is_share(unit):
        sign = "+" if ch.absolute > 0 else "-"
        extra = f" ({sign}{_num(abs(ch.absolute), max(1, decimals))} procentpunt)"
    elif percent and ch.percent is not None:
        extra = f" ({format_percent(ch.percent, 1)})"
    else:
        extra = ""
    return f"{when}{verb} van {start_text} naar {end_text}{extra}"


def change_assessment(ch: Change | None, direction: str | None, decimals: int = 0) -> str | None:
    """'gunstig' / 'ongunstig' for a change given the direction; None if neutral or no change."""
    if ch is None or direction not in ("hoger is beter", "hoger is slechter") or abs(ch.absolute) < _half_unit(decimals):
        return None
    return "gunstig" if (ch.absolute > 0) == (direction == "hoger is beter") else "ongunstig"


def change_rank_phrase(rank: int | None, n: int | None, plural: str, change: float | None,
                       ties: int = 0, growth: bool = True) -> str | None:
    """Where a change ranks in a group (1 = largest increase): 'sneller gegroeid dan alle
    andere M50-gemeenten', 'sterker gedaald dan alle andere G40-gemeenten', 'qua groei op
    plaats 3 van de 40 G40-gemeenten'. `growth` words for counts (gegroeid/gekrompen), else
    gestegen/gedaald."""
    if rank is None or n is None or n < 2 or not (1 <= rank <= n) or not _ok(change) or not plural:
        return None
    up, down = ("gegroeid", "gekrompen") if growth else ("gestegen", "gedaald")
    if not ties and rank == 1:
        if change > 0:
            return f"{'sneller' if growth else 'sterker'} {up} dan alle andere {plural}"
        if change < 0:
            return f"minder {down} dan alle andere {plural}"
        return f"als enige niet {down} van alle {plural}"
    if not ties and rank == n:
        if change < 0:
            return f"sterker {down} dan alle andere {plural}"
        if change > 0:
            return f"{'langzamer' if growth else 'minder'} {up} dan alle andere {plural}"
        return f"als enige niet {up} van alle {plural}"
    shared = "gedeeld " if ties else ""
    noun = "groei" if growth else "stijging"
    return f"qua {noun} {shared}op plaats {rank} van de {n} {plural}"


TREND_WORDS = {"stijgend": "stijgend", "dalend": "dalend", "stabiel": "stabiel", "wisselend": "wisselend"}


def trend_phrase(t: Trend | None) -> str | None:
    """'stijgend tussen 2019 en 2025' (over the points the trend was judged on)."""
    if t is None:
        return None
    return (f"{TREND_WORDS[t.direction]} tussen {formatting.period(t.start_period)} en "
            f"{formatting.period(t.end_period)}")
