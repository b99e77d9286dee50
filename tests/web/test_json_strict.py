"""The API's JSON is strict JSON (no NaN or Infinity), so any client's parser can read it."""

from __future__ import annotations

import json

import pytest


def strict(text: str):
    def refuse(token):
        raise ValueError(f"{token} is geen JSON")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("path", [
    "/api/v1/gemeenten/GM0193/profile",
    "/api/v1/gemeenten/GM1992/findings",
    "/api/v1/indicator-values?indicator=bevolkingsgroei&region=GM0363",
    "/api/v1/regions/GM1992",
    "/api/v1/prognose/GM0193",
])
def test_api_json_is_strict(client, path):
    r = client.get(path)
    assert r.status_code == 200, (path, r.text[:300])
    strict(r.text)
