"""Property-based run of the whole API from its OpenAPI description: no input, valid or not,
may produce a server error (a bounded number of examples per operation and mode).

Schemathesis's pytest plugin does not run under pytest 9 yet, so the operations are driven
through its Hypothesis strategies directly."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402

EXAMPLES = 30


def operations(app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return [r.ok() for r in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["geldig", "ongeldig"])
def test_api_never_fails_with_a_server_error(app, mode):
    ops = operations(app)
    assert len(ops) >= 12
    seen: dict[str, set[int]] = {}
    for op in ops:
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            response = case.call()
            seen.setdefault(op.path, set()).add(response.status_code)
            assert response.status_code < 500, (f"{case.method} {case.formatted_path} {case.query} → "
                                                f"{response.status_code}: {response.text[:300]}")
            if response.status_code >= 400 and response.status_code != 405:
                assert response.json()["fout"], response.text

        try:
            run()
        except Unsatisfiable:  # an operation without parameters has no invalid input
            assert mode == GenerationMode.NEGATIVE
    assert len(seen) >= (12 if mode == GenerationMode.POSITIVE else 8)
