"""The API: every endpoint, its CSV form, and bad parameters (4xx with a Dutch message, never 500)."""

from __future__ import annotations

import csv
import json
import io

import duckdb
import pytest


def rows_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_regions_lists_the_342_current_gemeenten(client):
    r = client.get("/api/v1/regions", params={"kind": "GM", "current": "true"})
    assert r.status_code == 200
    data = r.json()
    assert len(data) == 342
    assert {"code": "GM0193", "name": "Zwolle"}.items() <= next(x for x in data if x["code"] == "GM0193").items()


def test_regions_csv_has_fixed_columns(client):
    r = client.get("/api/v1/regions?kind=PV&format=csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = rows_csv(r.text)
    assert list(rows[0]) == ["code", "name", "kind", "province", "valid_from", "valid_to", "current"]
    assert len(rows) == 12


def test_region_detail_with_events(client):
    r = client.get("/api/v1/regions/GM1992")  # Voorne aan Zee, formed in 2023
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Voorne aan Zee" and body["events"]


def test_groups_and_members(client):
    r = client.get("/api/v1/groups")
    assert r.status_code == 200
    g4 = next(g for g in r.json() if g["group_id"] == "G4")
    assert g4["members"] == 4
    r = client.get("/api/v1/groups/G4")
    assert sorted(r.json()["members"]) == ["GM0344", "GM0363", "GM0518", "GM0599"]


def test_indicators(client):
    r = client.get("/api/v1/indicators")
    assert r.status_code == 200
    ids = [i["indicator_id"] for i in r.json()]
    assert "bevolking" in ids
    r = client.get("/api/v1/indicators/bevolking")
    assert r.json()["unit"] == "inwoners" and "03759ned" in r.json()["tables"]
    r = client.get("/api/v1/indicators?domain=veiligheid&format=csv")
    assert all(row["domain"] == "veiligheid" for row in rows_csv(r.text))


def test_indicator_values_match_the_store(client, database):
    con = duckdb.connect(str(database), read_only=True)
    expected = con.execute("SELECT period, value FROM indicator_values WHERE indicator_id = 'bevolking' "
                           "AND region_code = 'GM0193' ORDER BY period").fetchall()
    con.close()
    r = client.get("/api/v1/indicator-values", params={"indicator": "bevolking", "region": "GM0193"})
    assert r.status_code == 200
    assert [(x["period"], x["value"]) for x in r.json()] == expected
    r = client.get("/api/v1/indicator-values", params={"indicator": "bevolking", "region": "GM0193", "format": "csv"})
    rows = rows_csv(r.text)
    assert list(rows[0]) == ["indicator_id", "region_code", "period", "value", "status", "harmonised"]
    assert len(rows) == len(expected)
    r = client.get("/api/v1/indicator-values", params={"indicator": "bevolking", "region": "GM1992"})
    assert {x["harmonised"] for x in r.json() if x["period"] < "2023"} == {True}  # Voorne aan Zee, 2023
    assert {x["harmonised"] for x in r.json() if x["period"] >= "2023"} == {False}


def test_indicator_values_for_a_group_and_period(client):
    r = client.get("/api/v1/indicator-values", params={"indicator": "bevolking", "group": "G4", "period": "2024JJ00"})
    assert r.status_code == 200
    assert {x["region_code"] for x in r.json()} == {"GM0344", "GM0363", "GM0518", "GM0599"}


def test_facts_same_columns_as_cli(client, database):
    con = duckdb.connect(str(database), read_only=True)
    latest = con.execute("SELECT period, value FROM facts WHERE table_id='03759ned' AND measure='M000352' "
                         "AND region_code='GM0193' AND value IS NOT NULL ORDER BY period DESC LIMIT 1").fetchone()
    con.close()
    r = client.get("/api/v1/facts", params={"table": "03759ned", "measure": "M000352", "region": "GM0193",
                                           "format": "csv"})
    assert r.status_code == 200
    rows = rows_csv(r.text)
    assert list(rows[0]) == ["table_id", "measure", "region_code", "period", "value", "status", "harmonised"]
    last = [x for x in rows if x["value"]][-1]
    assert (last["period"], float(last["value"])) == latest


def test_profile_and_findings(client):
    r = client.get("/api/v1/gemeenten/GM0193/profile")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Zwolle"
    pop = next(x for x in body["indicators"] if x["indicator_id"] == "bevolking")
    assert pop["value"] > 100_000 and pop["period"].endswith("JJ00") and "NL01" in pop
    r = client.get("/api/v1/gemeenten/GM0193/findings?strength=sterk&basis=cijfers")
    assert r.status_code == 200
    assert r.json() and all(f["strength"] == "sterk" and f["basis"] == "cijfers" and f["evidence"] for f in r.json())
    r = client.get("/api/v1/gemeenten/GM0193/findings?format=csv")
    assert list(rows_csv(r.text)[0]) == ["trend", "title", "domain", "strength", "basis", "reason", "evidence",
                                         "counter", "labels", "note", "disagreement"]


def test_findings_are_the_cli_verdicts(client, app, built_home):
    """The API gives every trend and force with the same strength and basis as `trendstudie trends`."""
    from trendstudie.cli import app as cli_app
    from typer.testing import CliRunner

    api = {f["trend"]: f for f in client.get("/api/v1/gemeenten/GM0193/findings").json()}
    assert len(api) == len(app.state.data.kb.trends)
    res = CliRunner().invoke(cli_app, ["trends", "GM0193", "--format", "json", "--home", str(built_home)])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.stdout)
    cli = {v["trend"]: v for v in (cli["trends"] if isinstance(cli, dict) else cli)}
    assert api.keys() == cli.keys()
    for tid, f in api.items():
        assert (f["strength"], f["basis"]) == (cli[tid]["sterkte"], cli[tid]["basis"]), tid
    share = sum(f["basis"] is not None for f in api.values()) / len(api)
    assert share >= 0.9


def test_findings_keep_counter_evidence_old_figures_and_labels(client):
    """What the report shows beside the evidence reaches the API too (Voorne aan Zee, merged in 2023)."""
    found = client.get("/api/v1/gemeenten/GM1992/findings").json()
    assert any(f["counter"] for f in found)
    assert any(f["note"] and "rust alleen op cijfers uit" in f["note"] for f in found)
    rebuilt = [l for f in found for l in f["labels"] if l.startswith("Herberekend")]
    assert rebuilt and all("Voorne aan Zee" in l for l in rebuilt)
    assert any(l.startswith("Voorlopig: de cijfers van 2025") for f in found for l in f["labels"])
    body = client.get("/api/v1/gemeenten/GM1992/profile").json()
    pop = {x["indicator_id"]: x for x in body["indicators"]}["bevolking"]
    assert pop["harmonised"] is False and pop["status"] == "Definitief" and pop["labels"] == []


def test_trends(client):
    r = client.get("/api/v1/trends")
    assert r.status_code == 200
    assert any(t["id"] == "vergrijzing" for t in r.json())
    r = client.get("/api/v1/trends/vergrijzing")
    body = r.json()
    assert body["citations"] and body["domain"] == "demografie"
    assert sum(body["gemeenten"].values()) == 342
    r = client.get("/api/v1/trends/vergrijzing/gemeenten?format=csv")
    assert len(rows_csv(r.text)) == 342


def test_openapi_describes_every_endpoint(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ("/api/v1/regions", "/api/v1/facts", "/api/v1/indicator-values", "/api/v1/gemeenten/{code}/findings",
              "/api/v1/trends/{trend_id}"):
        assert p in paths
    assert not any(p.startswith("/gemeente") for p in paths)  # pages are not API


def test_etag_and_conditional_get(client):
    r = client.get("/api/v1/groups")
    etag = r.headers["etag"]
    assert "max-age" in r.headers["cache-control"]
    r2 = client.get("/api/v1/groups", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b""


BAD = [
    ("/api/v1/regions/GM0193' OR 1=1", 422, "code"),
    ("/api/v1/regions/<script>", 422, "code"),
    ("/api/v1/regions/GM9999", 404, "GM9999"),
    ("/api/v1/regions?kind=XX", 422, "kind"),
    ("/api/v1/regions?current=misschien", 422, "current"),
    ("/api/v1/groups/G41", 404, "G41"),
    ("/api/v1/groups/G4;DROP", 422, "group_id"),
    ("/api/v1/indicators/DROP TABLE", 422, "indicator_id"),
    ("/api/v1/indicators/bestaat_niet", 404, "bestaat_niet"),
    ("/api/v1/indicators?domain=<script>", 422, "domein"),
    ("/api/v1/indicator-values?indicator=bevolking&period=2024XX00", 422, "period"),
    ("/api/v1/indicator-values?indicator=bevolking&period=2024MM13", 422, "period"),
    ("/api/v1/indicator-values?indicator=bevolking&region=GM0193' OR 1=1", 422, "regio"),
    ("/api/v1/indicator-values?indicator=bevolking&region=GM9999", 404, "GM9999"),
    ("/api/v1/indicator-values?indicator=<script>alert(1)</script>", 422, "indicator"),
    ("/api/v1/indicator-values?indicator=bevolking&from=2020&to=2010", 404, "from"),
    ("/api/v1/indicator-values?indicator=bevolking&from=abc", 422, "from"),
        ("/api/v1/facts?table=03759ned", 422, "measure"),
    ("/api/v1/facts?table=03759ned&measure=M000352&region=GM0193' OR 1=1", 422, "regio"),
    ("/api/v1/facts?table=03759ned' OR 1=1&measure=M000352", 422, "table"),
    ("/api/v1/facts?table=bestaatniet&measure=M000352", 404, "tabel"),
    ("/api/v1/facts?table=03759ned&measure=M000352&region=GM0001", 404, "bestaat niet meer"),
    ("/api/v1/facts?table=03759ned&measure=M000352&dim=<script>", 422, "dimensiefilter"),
    ("/api/v1/facts?table=03759ned&measure=M000352&dim=Geslacht=nee", 404, "Geen gegevens"),
    ("/api/v1/facts?table=03759ned&measure=M000352&format=xml", 422, "format"),
    ("/api/v1/gemeenten/GM0193'/profile", 422, "code"),
    ("/api/v1/gemeenten/GM0001/profile", 404, "geen huidige gemeente"),
    ("/api/v1/gemeenten/GM0193/findings?strength=heel", 422, "strength"),
    ("/api/v1/trends/Vergrijzing", 422, "trend_id"),
    ("/api/v1/trends/bestaat-niet", 404, "bestaat-niet"),
    ("/api/v1/trends/bestaat-niet/gemeenten", 404, "bestaat-niet"),
    ("/api/v1/bestaat-niet", 404, "bestaat niet"),
    ("/api/v1/indicator-values?indicator=bevolking&regio=GM0193", 422, "onbekende queryparameter 'regio'"),
    ("/api/v1/groups?formaat=csv", 422, "format"),
]


@pytest.mark.parametrize("url,status,word", BAD)
def test_bad_parameters_give_a_clear_dutch_4xx(client, url, status, word):
    r = client.get(url)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["fout"] and word.lower() in (body["fout"] + " ".join(body["details"])).lower()
    assert r.headers["cache-control"] == "no-store"


def test_post_is_refused_in_dutch(client):
    r = client.post("/api/v1/regions")
    assert r.status_code == 405 and "GET" in r.json()["fout"]


def test_kennisbank_is_the_cli_export_and_in_the_openapi_description(client):
    import jsonschema

    from trendstudie.knowledge.export import KennisbankExport, export
    from trendstudie.knowledge.model import load

    r = client.get("/api/v1/kennisbank")
    assert r.status_code == 200
    doc = r.json()
    assert doc == export(load()).model_dump(mode="json")
    jsonschema.validate(doc, KennisbankExport.model_json_schema())
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/kennisbank" in spec["paths"]


def test_trend_detail_carries_its_place_in_the_chain(client):
    r = client.get("/api/v1/trends/woningtekort")
    labels = [s["label"] for s in r.json()["chain"]]
    assert "Opgaven die erop antwoorden" in labels
