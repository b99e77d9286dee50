"""Every JSON the CLI and the API write is valid JSON: no NaN or Infinity, whatever a computation
produced (they become null), and every JSON writer goes through trendstudie.jsonout."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from trendstudie import jsonout
from trendstudie.cli import app

SRC = Path(__file__).resolve().parents[1] / "src" / "trendstudie"


def strict(text: str):
    """json.loads as a JSON parser other than Python's reads it: NaN and Infinity are errors."""
    def refuse(token):
        raise ValueError(f"{token} is geen JSON")
    return json.loads(text, parse_constant=refuse)


def test_non_finite_numbers_become_null_at_any_depth():
    doc = {"a": float("nan"), "b": [1.5, float("inf"), (float("-inf"), np.float64("nan"))],
           "c": {"d": np.float32(2.5), "e": Decimal("NaN"), "f": Decimal("1.25"), "g": np.int64(3)}, "h": None}
    text = jsonout.dumps(doc)
    assert strict(text) == {"a": None, "b": [1.5, None, [None, None]],
                            "c": {"d": 2.5, "e": None, "f": 1.25, "g": 3}, "h": None}


def test_every_json_writer_of_the_cli_and_the_api_goes_through_jsonout():
    files = [SRC / "cli.py", *sorted((SRC / "commands").glob("*.py")), *sorted((SRC / "web").glob("routes_*.py"))]
    offenders = [f"{f.relative_to(SRC)}:{n}" for f in files if f.exists()
                 for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"\bjson\.dumps?\(|JSONResponse\(", line)]
    assert not offenders, f"JSON output zonder trendstudie.jsonout (kan NaN/Infinity schrijven): {offenders}"


@pytest.fixture(scope="module")
def cli(built_home):
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, list(args), env={"TRENDSTUDIE_HOME": str(built_home)})
        assert result.exit_code == 0, (args, result.output, result.exception)
        return result.stdout

    return run


@pytest.mark.parametrize("args", [
    ("facts", "--table", "03759ned", "--measure", "M000352", "--region", "GM1992", "--format", "json"),
    ("profiel", "Zwolle", "--format", "json"),
    ("trends", "GM1992", "--format", "json"),
    ("export", "--groep", "G4", "--indicator", "bevolkingsgroei", "--format", "json"),
    ("prognose", "Zwolle", "--tot", "2030", "--format", "json"),
])
def test_cli_json_is_strict_json(cli, args):
    strict(cli(*args))
