"""The verkenning's web pages and API through the ASGI app: a whole round trip, and the security
rules (tokens, CSRF, escaping, rate limits, no other participant's answers)."""

from __future__ import annotations

import re

import pytest


@pytest.fixture(autouse=True)
def _fresh_limits(app):
    app.state.verkenning.tokens.reset()
    app.state.verkenning.passwords.reset()
    yield
    app.state.verkenning.tokens.reset()
    app.state.verkenning.passwords.reset()


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def fresh(client):
    """A new TestClient cookie jar per test: (client, csrf)."""
    client.cookies.clear()
    r = client.get("/verkenning/nieuw")
    assert r.status_code == 200
    return client, csrf_of(r.text)


def make(fresh, titel="Zwolle 2040", password="") -> tuple[str, list[str], list[int]]:
    c, csrf = fresh
    r = c.post("/verkenning/nieuw", data={"csrf": csrf, "gemeente": "Zwolle", "titel": titel, "wachtwoord": password},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    token = r.headers["location"].split("/")[3].split("?")[0]
    r = c.post(f"/verkenning/beheer/{token}/uitnodigen", data={"csrf": csrf, "aantal": "3"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    links = [line.split(",")[1] for line in r.text.strip().splitlines()[1:]]
    ptokens = [link.rsplit("/", 1)[1] for link in links]
    items = [i["id"] for i in c.get(f"/api/v1/deelname/{ptokens[0]}").json()["items"]]
    return token, ptokens, items


def test_prefilled_with_the_trends_that_play_in_the_gemeente(fresh, app, con):
    token, ptokens, items = make(fresh)
    c, _ = fresh
    doc = c.get(f"/api/v1/deelname/{ptokens[0]}").json()
    assert doc["gemeente"] == "Zwolle" and doc["ronde"] == 1 and doc["ronde_open"] is True
    verdicts = [v for v in app.state.verkenning.localiser().verdicts("GM0193") if v.strength in ("sterk", "enigszins")]
    # on: what the figures bear out, filled up to MIN_ACTIVE with what the typology says (strongest first)
    from trendstudie.verkenning.service import MIN_ACTIVE

    figures = [v for v in verdicts if v.basis == "cijfers"]
    typed = [v for v in verdicts if v.basis == "typering"][:max(0, MIN_ACTIVE - len(figures))]
    active = [v for v in verdicts if v in figures or v in typed]
    assert 10 <= len(active) <= 25
    assert [i["titel"] for i in doc["items"]] == [app.state.data.kb.trends[v.trend].title for v in active]
    figures = [v for v in active if v.basis == "cijfers"]
    assert figures and doc["items"][0]["onderbouwing"] == figures[0].evidence


def test_round_trip_form_api_results_and_exports(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    form = {"csrf": csrf, "naam": "Anna"}
    for k, i in enumerate(items[:4]):
        form.update({f"i{i}_impact": str(2 + k % 3), f"i{i}_onzekerheid": "4", f"i{i}_horizon": "na 10 jaar"})
    r = c.post(f"/deelname/{ptokens[0]}", data=form, follow_redirects=False)
    assert r.status_code == 303
    r = c.put(f"/api/v1/deelname/{ptokens[1]}", json={"antwoorden": [
        {"item": i, "impact": 5, "onzekerheid": 1, "horizon": "binnen 5 jaar", "relevantie": 4} for i in items[:4]]})
    assert r.status_code == 200 and r.json() == {"opgeslagen": 4}
    page = c.get(f"/deelname/{ptokens[0]}").text
    assert 'value="na 10 jaar" checked' in page
    res = c.get(f"/api/v1/verkenning/{token}/resultaten").json()
    assert res["rondes"][0]["geantwoord"] == 2 and res["rondes"][0]["uitgenodigd"] == 3
    first = next(x for x in res["items"] if x["item"] == items[0])["rondes"][0]
    assert first["impact"]["mediaan"] == 3.5 and first["impact"]["iqr"] == 1.5 and first["consensus"] is False
    assert res["scenariokader"]["kwadranten"][0]["cijfers_2040"]["bevolking"] > 100_000
    html = c.get(f"/verkenning/beheer/{token}/resultaten").text
    assert 'class="radar"' in html and 'class="matrix"' in html and 'class="kader"' in html
    csv_text = c.get(f"/verkenning/beheer/{token}/export.csv").text
    assert csv_text.splitlines()[0].startswith("ronde,deelnemer,item") and len(csv_text.splitlines()) == 9
    assert ptokens[0] not in csv_text and "Anna" not in csv_text
    x = c.get(f"/verkenning/beheer/{token}/export.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    # round 2: the group's median beside one's own score, revise with a reason
    assert c.post(f"/verkenning/beheer/{token}/ronde", data={"csrf": csrf, "actie": "sluiten"}).status_code == 200
    assert c.put(f"/api/v1/deelname/{ptokens[0]}", json={"antwoorden": []}).status_code == 409
    c.post(f"/verkenning/beheer/{token}/ronde", data={"csrf": csrf, "actie": "openen"})
    page = c.get(f"/deelname/{ptokens[0]}").text
    assert "Te weinig antwoorden in de vorige ronde" in page  # two answers: no group median shown
    assert "Uw score in ronde 1: impact 2" in page


def test_other_and_wrong_tokens_get_the_same_404(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    other, other_p, other_items = make(fresh, "Andere")
    unknown = "A" * 32
    bodies = set()
    for url in (f"/deelname/{token}", f"/deelname/{unknown}", f"/verkenning/beheer/{ptokens[0]}",
                f"/verkenning/beheer/{unknown}", f"/verkenning/beheer/{unknown}/resultaten",
                f"/verkenning/beheer/{ptokens[0]}/export.csv"):
        r = c.get(url)
        assert r.status_code == 404, url
        bodies.add(r.text)
    assert len(bodies) == 1
    api = {c.get(f"/api/v1/deelname/{t}").text for t in (token, unknown)}
    api |= {c.get(f"/api/v1/verkenning/{t}/resultaten").text for t in (ptokens[0], unknown)}
    assert len(api) == 1 and c.get(f"/api/v1/deelname/{unknown}").status_code == 404
    # an item of another verkenning is refused, and nothing is stored
    r = c.put(f"/api/v1/deelname/{ptokens[0]}", json={"antwoorden": [{"item": other_items[0], "impact": 3}]})
    assert r.status_code == 422
    assert all(i["antwoord"] is None for i in c.get(f"/api/v1/deelname/{ptokens[0]}").json()["items"])


def test_forms_need_the_csrf_token(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    for data in ({}, {"csrf": "x" * 64}):
        r = c.post(f"/verkenning/beheer/{token}/ronde", data={**data, "actie": "sluiten"})
        assert r.status_code == 403 and "beveiligingscode" in r.text
        r = c.post(f"/deelname/{ptokens[0]}", data={**data, f"i{items[0]}_impact": "3"})
        assert r.status_code == 403
        r = c.post(f"/verkenning/beheer/{token}/verwijderen", data={**data, "bevestig": "VERWIJDEREN"})
        assert r.status_code == 403
    # a token made for another cookie does not fit this browser's cookie
    c.cookies.set("vk_csrf", "een-ander-koekje")
    assert c.post(f"/verkenning/beheer/{token}/ronde", data={"csrf": csrf, "actie": "sluiten"}).status_code == 403
    c.cookies.clear()
    assert c.get(f"/api/v1/verkenning/{token}/resultaten").json()["ronde_open"] is True
    assert c.get(f"/api/v1/deelname/{ptokens[0]}").json()["items"][0]["antwoord"] is None


def test_script_in_comments_and_items_is_escaped(fresh):
    c, csrf = fresh
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    token, ptokens, items = make(fresh, titel=evil)
    r = c.post(f"/verkenning/beheer/{token}/items", data={
        "csrf": csrf, "item": str(items[0]), f"titel_{items[0]}": evil, f"tekst_{items[0]}": evil,
        f"domein_{items[0]}": "bestuur", f"actief_{items[0]}": "1", "nieuw_titel": evil, "nieuw_tekst": evil,
        "nieuw_domein": "veiligheid"}, follow_redirects=False)
    assert r.status_code == 303
    c.post(f"/deelname/{ptokens[0]}", data={"csrf": csrf, "naam": evil, f"i{items[0]}_impact": "5",
                                             f"i{items[0]}_onzekerheid": "5", f"i{items[0]}_toelichting": evil})
    c.put(f"/api/v1/deelname/{ptokens[1]}", json={"antwoorden": [{"item": items[0], "impact": 4, "onzekerheid": 4},
                                                                   {"item": items[1], "impact": 4, "onzekerheid": 4}]})
    for url in (f"/verkenning/beheer/{token}", f"/verkenning/beheer/{token}/resultaten", f"/deelname/{ptokens[0]}"):
        html = c.get(url).text
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url
    assert c.get(f"/verkenning/beheer/{token}/export.csv").text.count("<script>") >= 1  # data, not a page


def test_participants_never_see_other_answers(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    secret = "alleen-voor-de-facilitator"
    c.put(f"/api/v1/deelname/{ptokens[0]}", json={"naam": "Bram", "antwoorden": [
        {"item": items[0], "impact": 5, "onzekerheid": 5, "toelichting": secret}]})
    for url in (f"/deelname/{ptokens[1]}", f"/api/v1/deelname/{ptokens[1]}"):
        text = c.get(url).text
        assert secret not in text and "Bram" not in text
    assert secret in c.get(f"/verkenning/beheer/{token}/export.csv").text


def test_brute_force_of_tokens_and_passwords_is_stopped(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh, password="lang-genoeg-wachtwoord")
    c.cookies.delete("vk_beheer", path="/verkenning/")
    c.cookies.clear()
    r = c.get(f"/verkenning/beheer/{token}")
    assert r.status_code == 401 and "wachtwoord" in r.text
    csrf = csrf_of(r.text)
    for _ in range(5):
        r = c.post(f"/verkenning/beheer/{token}/inloggen", data={"csrf": csrf, "wachtwoord": "fout-wachtwoord"})
        assert r.status_code == 401
    r = c.post(f"/verkenning/beheer/{token}/inloggen", data={"csrf": csrf, "wachtwoord": "lang-genoeg-wachtwoord"})
    assert r.status_code == 429  # even the right password waits now
    assert c.get(f"/api/v1/verkenning/{token}/resultaten").status_code == 401
    from trendstudie.web.routes_verkenning import TOKEN_FAILURES

    for k in range(TOKEN_FAILURES):
        assert c.get(f"/deelname/{'B' * 31}{k}").status_code == 404
    assert c.get(f"/deelname/{'C' * 32}").status_code == 429
    assert c.get(f"/deelname/{ptokens[0]}").status_code == 429  # this address is blocked for a while
    assert c.put(f"/api/v1/deelname/{ptokens[0]}", json={"antwoorden": []}).status_code == 429


def test_password_login_opens_the_pages(fresh, app):
    c, _ = fresh
    token, ptokens, items = make(fresh, password="lang-genoeg-wachtwoord")
    assert c.get(f"/verkenning/beheer/{token}").status_code == 200  # the creator is logged in
    c.cookies.clear()
    r = c.get(f"/verkenning/beheer/{token}")
    assert r.status_code == 401
    r = c.post(f"/verkenning/beheer/{token}/inloggen", data={"csrf": csrf_of(r.text), "wachtwoord": "lang-genoeg-wachtwoord"},
               follow_redirects=False)
    assert r.status_code == 303
    assert c.get(f"/verkenning/beheer/{token}").status_code == 200


def test_invalid_form_changes_nothing_and_says_why(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    c.put(f"/api/v1/deelname/{ptokens[0]}", json={"antwoorden": [{"item": items[0], "impact": 2}]})
    r = c.post(f"/deelname/{ptokens[0]}", data={"csrf": csrf, f"i{items[0]}_impact": "4", f"i{items[1]}_impact": "9"})
    assert r.status_code == 422 and "niet opgeslagen" in r.text and "1 tot en met 5" in r.text
    r = c.put(f"/api/v1/deelname/{ptokens[0]}", json={"antwoorden": [{"item": items[0], "impact": 4},
                                                                       {"item": items[1], "horizon": "morgen"}]})
    assert r.status_code == 422 and "horizon" in r.json()["fout"]
    doc = c.get(f"/api/v1/deelname/{ptokens[0]}").json()
    assert doc["items"][0]["antwoord"]["impact"] == 2 and doc["items"][1]["antwoord"] is None


def test_delete_removes_the_verkenning_and_its_links(fresh):
    c, csrf = fresh
    token, ptokens, items = make(fresh)
    assert c.post(f"/verkenning/beheer/{token}/verwijderen", data={"csrf": csrf, "bevestig": "nee"}).status_code == 422
    r = c.post(f"/verkenning/beheer/{token}/verwijderen", data={"csrf": csrf, "bevestig": "VERWIJDEREN"})
    assert r.status_code == 200 and "verwijderd" in r.text
    assert c.get(f"/verkenning/beheer/{token}").status_code == 404
    assert c.get(f"/api/v1/deelname/{ptokens[0]}").status_code == 404


def test_api_in_openapi_and_pages_not_cached(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/deelname/{token}"])
    assert "get" in spec["paths"]["/api/v1/verkenning/{token}/resultaten"]
    r = client.get("/verkenning/nieuw")
    assert r.headers["cache-control"] == "no-store" and r.headers["referrer-policy"] == "no-referrer"
    assert "etag" not in r.headers


def test_report_on_the_web_follows_new_answers(fresh):
    """The gemeente's report (with the chapter Verkenning) is rendered again on the next request
    after answers change: not served from the page cache, and its ETag is the report's fingerprint."""
    c, _ = fresh
    token, ptokens, items = make(fresh, titel="Zwolle weegt")

    def answer(k: int, impact: int) -> None:
        r = c.put(f"/api/v1/deelname/{ptokens[k]}", json={"antwoorden": [
            {"item": i, "impact": impact, "onzekerheid": 2, "horizon": "5-10 jaar"} for i in items[:3]]})
        assert r.status_code == 200

    answer(0, 4)
    first = c.get("/gemeente/GM0193/rapport.html")
    assert first.status_code == 200 and "Zwolle weegt" in first.text and "wogen 1 van de 3" in first.text
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    assert c.get("/gemeente/GM0193/rapport.html", headers={"if-none-match": etag}).status_code == 304
    answer(1, 2)
    second = c.get("/gemeente/GM0193/rapport.html")
    assert second.status_code == 200 and "wogen 2 van de 3" in second.text
    assert second.headers["etag"] != etag and second.text != first.text
    assert c.get("/gemeente/GM0193/rapport.html", headers={"if-none-match": etag}).status_code == 200
    answer(1, 5)  # a changed score, no new participant
    assert c.get("/gemeente/GM0193/rapport.html").headers["etag"] != second.headers["etag"]


def test_report_fingerprint_changes_with_answers(database, tmp_path, monkeypatch):
    """`trendstudie rapport` and the web re-render a report when its verkenning changes: the
    fingerprint (report.write.inputs_key) follows the answers."""
    from trendstudie import store
    from trendstudie.report.content import Context, Options
    from trendstudie.report.write import inputs_key
    from trendstudie.verkenning import service
    from trendstudie.verkenning.db import open_database
    from trendstudie.verkenning.models import Verkenning
    from trendstudie.verkenning.service import validate_submission

    url = f"sqlite:///{tmp_path / 'eigen.sqlite'}"
    monkeypatch.setenv("TRENDSTUDIE_DATABASE_URL", url)
    ctx = Context(store.connect(database))
    db = open_database(url)
    made = service.create(db, "GM0193", "Zwolle", "Vingerafdruk",
                          [service.Prefill(None, "Eigen item", "", "demografie", None, "eigen weging", [])])
    token = service.invite(db, made.id, 1)[0]
    with db.read() as s:
        item = s.get(Verkenning, made.id).items[0].id
    before = inputs_key(ctx, "GM0193", Options(), pdf=False)
    service.submit(db, token, validate_submission({"antwoorden": [{"item": item, "impact": 3}]}))
    after = inputs_key(ctx, "GM0193", Options(), pdf=False)
    service.submit(db, token, validate_submission({"antwoorden": [{"item": item, "impact": 4}]}))
    changed = inputs_key(ctx, "GM0193", Options(), pdf=False)
    assert len({before, after, changed}) == 3
