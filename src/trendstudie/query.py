"""Queries over the store that several front ends share (CLI, report, web)."""

from __future__ import annotations

import duckdb

from .errors import TrendstudieError
from .harmonise import DEFAULT_RANK, SOURCE_RANKS
from .sources.records import parse_dims

_RANK_SQL = "CASE " + " ".join(f"WHEN source LIKE '{p}%' THEN {r}" for p, r in SOURCE_RANKS) + f" ELSE {DEFAULT_RANK} END"


def check_table_measure(con: duckdb.DuckDBPyConnection, table: str, measure: str) -> None:
    tables = [r[0] for r in con.execute("SELECT DISTINCT table_id FROM measures").fetchall()]
    if table not in tables:
        same = [t for t in tables if t.lower() == table.lower()]
        hint = f" Bedoelt u {same[0]}? (CBS-tabelnamen zijn hoofdlettergevoelig.)" if same else ""
        raise TrendstudieError(f"Onbekende tabel {table!r}.{hint} Beschikbaar: {', '.join(sorted(tables))}")
    measures = [r[0] for r in con.execute("SELECT DISTINCT measure FROM measures WHERE table_id = ?", [table]).fetchall()]
    if measure not in measures:
        shown = ", ".join(sorted(measures)[:30]) + (" …" if len(measures) > 30 else "")
        raise TrendstudieError(f"Tabel {table} heeft geen maatstaf {measure!r}. Beschikbaar: {shown}")


def choose_dims(con: duckdb.DuckDBPyConnection, table: str, measure: str, wanted: list[str]) -> str:
    """The one dimension selection meant: exactly the given Dim=code pairs, or the only one."""
    filters = {}
    for item in wanted:
        if "=" not in item:
            raise TrendstudieError(f"Dimensiefilter {item!r} moet de vorm Dimensie=code hebben, bijv. SoortMisdrijf=1.1.1")
        k, v = item.split("=", 1)
        filters[k.strip()] = v.strip()
    options = [r[0] for r in con.execute(
        "SELECT DISTINCT dims FROM observations WHERE table_id = ? AND measure = ? ORDER BY 1", [table, measure]).fetchall()]
    matching = [d for d in options if all(parse_dims(d).get(k) == v for k, v in filters.items())]
    if len(matching) == 1:
        return matching[0]
    if not matching:
        raise TrendstudieError(f"Geen gegevens voor {table} {measure} met {', '.join(wanted)}. Mogelijk: "
                               + "; ".join(options[:20]))
    shown = "; ".join(matching[:20]) + (" …" if len(matching) > 20 else "")
    raise TrendstudieError(f"Kies een dimensie met --dim (bijv. --dim {matching[0].split(';')[0]}). Mogelijk: {shown}")


def series(con: duckdb.DuckDBPyConnection, table: str, measure: str, regions: list[str] | None = None,
           from_year: int | None = None, to_year: int | None = None, dims: list[str] | None = None,
           as_published: bool = False) -> list[dict]:
    """A series, harmonised to today's gemeenten by default, as a list of dicts."""
    check_table_measure(con, table, measure)
    if from_year is not None and to_year is not None and from_year > to_year:
        raise TrendstudieError(f"--from {from_year} ligt na --to {to_year}.")
    dims_key = choose_dims(con, table, measure, dims or [])
    where = ["table_id = ?", "measure = ?", "dims = ?"]
    params: list = [table, measure, dims_key]
    if regions:
        where.append("region_code IN (" + ", ".join("?" * len(regions)) + ")")
        params += regions
    if from_year is not None:
        where.append("CAST(substr(period, 1, 4) AS INTEGER) >= ?")
        params.append(from_year)
    if to_year is not None:
        where.append("CAST(substr(period, 1, 4) AS INTEGER) <= ?")
        params.append(to_year)
    cond = " AND ".join(where)
    if as_published:
        sql = (f"SELECT table_id, measure, region_code, period, value, status, false AS harmonised, source FROM ("
               f"SELECT *, row_number() OVER (PARTITION BY region_code, period ORDER BY {_RANK_SQL}) AS rn "
               f"FROM observations WHERE {cond}) WHERE rn = 1 ORDER BY region_code, period")
    else:
        sql = (f"SELECT table_id, measure, region_code, period, value, status, harmonised, provenance AS source "
               f"FROM facts WHERE {cond} ORDER BY region_code, period")
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def indicator_table(con: duckdb.DuckDBPyConnection, regions: list[str], group: str | None,
                    indicators: list[str]) -> list[dict]:
    """Indicator values for gemeenten (and/or a group's members), long format; `harmonised` says
    the value is reconstructed for today's gemeente over a herindeling or grenswijziging."""
    known = {r[0] for r in con.execute("SELECT indicator_id FROM indicators").fetchall()}
    unknown = [i for i in indicators if i not in known]
    if unknown:
        raise TrendstudieError(f"Onbekende indicator: {', '.join(unknown)}. Zie trendstudie indicatoren.")
    codes = list(regions)
    if group:
        groups = {r[0].lower(): r[0] for r in con.execute("SELECT group_id FROM groups").fetchall()}
        if group.lower() not in groups:
            raise TrendstudieError(f"Onbekende groep {group!r}; kies uit: {', '.join(sorted(groups.values()))}")
        codes += [r[0] for r in con.execute(
            "SELECT region_code FROM group_members WHERE group_id = ? ORDER BY 1", [groups[group.lower()]]).fetchall()]
    where, params = [], []
    if codes:
        where.append("region_code IN (" + ", ".join("?" * len(codes)) + ")")
        params += codes
    else:
        where.append("region_code LIKE 'GM%'")
    if indicators:
        where.append("indicator_id IN (" + ", ".join("?" * len(indicators)) + ")")
        params += indicators
    cur = con.execute(
        "SELECT v.indicator_id, v.region_code, v.period, v.value, v.status, v.harmonised FROM indicator_values v "
        "JOIN indicators i USING (indicator_id) WHERE " + " AND ".join(where)
        + " ORDER BY i.position, v.region_code, v.period", params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]
