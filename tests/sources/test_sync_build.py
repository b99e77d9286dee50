"""From the live API to the store: `trendstudie sync` against the loopback fake, then `build`;
synced data outranks the bundle's copy of the same cell."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from fake_cbs import FakeCBS


def run(home: Path, env_extra: dict, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRENDSTUDIE_HOME": str(home), **env_extra}
    return subprocess.run([sys.executable, "-m", "trendstudie", *args], capture_output=True, text=True, env=env, timeout=300)


def test_sync_then_build_uses_the_synced_table(bundle: Path, tmp_path: Path):
    table = bundle / "odata-v4" / "83625NED"
    endpoints = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in table.glob("*.json")}
    # A revision on the live service: Zwolle's 2024 price differs from the bundle's copy.
    rows = endpoints["Observations"]["value"]
    target = next(r for r in rows if r["RegioS"].strip() == "GM0193" and r["Perioden"] == "2024JJ00")
    revised = target["Value"] + 1000
    endpoints["Observations"] = {**endpoints["Observations"],
                                 "value": [dict(r, Value=revised) if r is target else r for r in rows]}
    fake = FakeCBS(page_size=1500)
    fake.add_table("CBS", "83625NED", endpoints)
    with fake:
        env = {"TRENDSTUDIE_CBS_URL": fake.base_url}
        r = run(tmp_path, env, "sync", "83625NED")
        assert r.returncode == 0, r.stderr
        assert "ok" in r.stderr and "83625NED" in r.stderr
        assert len(fake.observation_requests("83625NED")) > 1  # followed nextLink over several pages
        again = run(tmp_path, env, "sync", "83625NED")
        assert again.returncode == 0 and "skipped" in again.stderr
    synced = tmp_path / "cache" / "odata" / "CBS" / "83625NED" / "Observations.json"
    assert synced.exists()
    r = run(tmp_path, {}, "build", "--bundle", str(bundle))
    assert r.returncode == 0, r.stderr
    r = run(tmp_path, {}, "facts", "--table", "83625NED", "--measure", "M001534", "--region", "GM0193",
            "--from", "2024", "--to", "2024")
    assert r.returncode == 0, r.stderr
    got = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["value"] for row in got] == [str(revised)]


def test_sync_of_an_unreachable_service_fails_clearly_and_keeps_nothing_half(tmp_path: Path):
    r = run(tmp_path, {"TRENDSTUDIE_CBS_URL": "http://127.0.0.1:9/odata/v1"}, "sync", "82235NED")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.count("Geen verbinding met CBS") == 1 and "127.0.0.1" in r.stderr  # one message, at once
    assert not (tmp_path / "cache" / "odata" / "CBS" / "82235NED").exists()
