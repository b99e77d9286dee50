"""The API against its own OpenAPI description, by schemathesis with every check: no server
error, every status code, content type, header and body as documented (errors included), valid
input accepted and invalid input rejected, and undeclared methods answered with 405 and an
`Allow` header. Schemathesis's own runner (all its phases) drives uvicorn on a loopback port,
with a bounded number of examples per operation and a fixed seed."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest

pytest.importorskip("schemathesis")

EXAMPLES = 15
SEED = 16


def test_openapi_describes_errors_csv_and_methods(server):
    spec = httpx.get(server + "/api/v1/openapi.json").json()
    assert "405" in spec["info"]["description"] and "Allow" in spec["info"]["description"]
    fout = spec["components"]["schemas"]["Fout"]
    assert set(fout["required"]) == {"fout", "details"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert method in ("get", "put"), path
            responses = op["responses"]
            assert responses["200"]["content"]["application/json"]["schema"], path  # no empty 200 schemas
            assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/Fout"), path
            params = {p["name"] for p in op.get("parameters", [])}
            if "format" in params:
                assert "text/csv" in responses["200"]["content"], path
            if "{" in path:
                assert responses["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/Fout"), path
    # a 405 names what is allowed
    r = httpx.post(server + "/api/v1/info")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert r.json()["fout"].startswith("De methode POST wordt hier niet ondersteund")
    r = httpx.request("DELETE", server + "/gemeente/GM0193")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


def test_schemathesis_finds_no_failure(server, tmp_path):
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", server + "/api/v1/openapi.json", "--checks", "all",
           "--max-examples", str(EXAMPLES), "--seed", str(SEED), "--workers", "1", "--request-timeout", "300",
           "--max-response-time", "300",  # correctness only: timing is benchmarks/web.py's job
           "--generation-database", "none", "--no-color", "--report-dir", str(tmp_path)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-6000:]
    tested = re.search(r"Tested: (\d+)", out)
    assert tested and int(tested.group(1)) >= 16, out[-2000:]
