"""Successors are decided in one place: for every former gemeente code in the store, the CLI,
the web search and the API give the same successor, and that successor is where the herindeling
data (region_events) lead."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from trendstudie.cli import app as cli_app
from trendstudie.geo.regions import RegionRegistry
from trendstudie.geo.resolve import resolve_gemeente


@pytest.fixture(scope="module")
def former(con):
    registry = RegionRegistry.from_store(con)
    codes = sorted(c for c, r in registry.regions.items() if r.kind == "GM" and r.valid_to is not None)
    assert len(codes) > 300
    return {c: resolve_gemeente(c, registry) for c in codes}


@pytest.fixture(scope="module")
def reachable(con):
    """Per former code: every code its territory reached through the herindeling data."""
    moves: dict[str, set[str]] = {}
    for f, t in con.execute("SELECT from_code, to_code FROM region_events WHERE from_code <> to_code").fetchall():
        moves.setdefault(f, set()).add(t)
    current = {r[0] for r in con.execute("SELECT code FROM regions WHERE kind = 'GM' AND current").fetchall()}

    def reach(code: str) -> set[str]:
        seen, todo = set(), [code]
        while todo:
            c = todo.pop()
            for t in moves.get(c, ()):
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        return seen & current

    return reach


def test_known_cases(former):
    assert former["GM0006"].code == "GM1895"  # Beerta went to Oldambt, not to Westerwolde
    assert former["GM0001"].split  # Adorp: via Winsum over Het Hogeland and Westerkwartier


def test_successors_follow_the_herindeling_data(former, reachable):
    for code, r in former.items():
        targets = reachable(code)
        if r.code:
            assert r.code in targets, (code, r.code, targets)
        else:
            assert {s.code for s in r.successors} <= targets, code


def test_api_and_web_search_give_the_same_successor(client, app, former):
    d = app.state.data
    for code, r in former.items():
        api = client.get(f"/api/v1/regions/{code}").json()
        assert api["successor"] == r.code, code
        assert [s["code"] for s in api["successors"]] == [s.code for s in r.successors], code
        assert d.reader.successor(code) == r.code
        search = client.get("/zoek", params={"q": code}, follow_redirects=False)
        if r.code:
            assert search.status_code == 303 and search.headers["location"] == f"/gemeente/{r.code}", code
            page = client.get(f"/gemeente/{code}")
            assert page.status_code == 404 and f"/gemeente/{r.code}" in page.text, code
        else:
            assert search.status_code == 200, code
            for s in r.successors:
                assert f'href="/gemeente/{s.code}"' in search.text, (code, s.code)


def test_cli_gives_the_same_successor(built_home, former):
    runner = CliRunner()
    env = {"TRENDSTUDIE_HOME": str(built_home)}
    for code, r in former.items():
        result = runner.invoke(cli_app, ["export", "--region", code, "--indicator", "bevolking", "--format", "json"],
                               env=env)
        if r.code:
            assert result.exit_code == 0, (code, result.output)
            rows = json.loads(result.stdout[result.stdout.index("["):])
            assert {row["region_code"] for row in rows} <= {r.code}, code
            assert r.code in result.output, code  # the note on stderr names where it went
        else:
            assert result.exit_code != 0, code
            for s in r.successors:
                assert s.code in str(result.output) + str(result.exception), (code, s.code)
