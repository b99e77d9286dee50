"""Dutch formatting of numbers, periods and dates, for everything a reader sees."""

from __future__ import annotations

from datetime import date

# Units of indicators that count things: said as "het aantal …", and drawn as an index beside
# groups (a gemeente's count and Nederland's differ a thousandfold).
COUNT_UNITS = frozenset({"inwoners", "huishoudens", "woningen"})

MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
          "oktober", "november", "december")


def number(value: float, decimals: int = 0) -> str:
    """1234567.891 → '1.234.567,9' (decimals=1); -0.0 is shown as 0."""
    text = f"{value:,.{decimals}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return text.replace(",", "\u0000").replace(".", ",").replace("\u0000", ".")


def with_unit(value: float, decimals: int, unit: str) -> str:
    n = number(value, decimals)
    if unit == "%":
        return f"{n}%"
    if unit == "euro":
        return f"€ {n}"
    return f"{n} {unit}"


def period(code: str) -> str:
    """'2024JJ00' → '2024'; '2024KW02' → '2e kwartaal 2024'; '2024MM03' → 'maart 2024'."""
    year, kind, n = code[:4], code[4:6], int(code[6:8])
    if kind == "KW":
        return f"{n}e kwartaal {year}"
    if kind == "MM":
        return f"{MONTHS[n - 1]} {year}"
    return year


def day(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"
