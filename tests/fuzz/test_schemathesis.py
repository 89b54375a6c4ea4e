"""Property-based fuzzing of the whole HTTP API from its own OpenAPI schema: no 5xx, ever.

Every operation in ``app.openapi()`` gets requests schemathesis generates from its schema
(valid and edge-case values), sent in-process with a tenant key and then an admin key.
Any 5xx is a bug: a caller's input must never reach an unclassified error.

Nothing here is skipped: built-in models are turned off, so no inference call can load a
real model (every model a request names is unknown or a fuzzed registration, never
reachable), and no worker runs, so a fine-tuning job or evaluation that got created
would only be queued. Every generated case is also sent poisoned (:func:`_poison`): its
JSON strings carrying lone UTF-16 surrogates and its integers (body and query) past 64
bits, the two classes of input the schema's own strategies never produce. The CI run
keeps examples few and derandomised (about 20 s); for a
longer, random run::

    MODELYARD_FUZZ_EXAMPLES=500 pytest -m fuzz tests/fuzz
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from modelyard.app import create_app
from modelyard.config import Settings

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("MODELYARD_FUZZ_EXAMPLES", "20"))
_REQUEST_KEYS = ("method", "url", "headers", "params", "json", "content", "data", "files")
# Lone surrogates (JSON's "\\ud800" escapes decode to unencodable text) and integers no
# database column or C library holds.
LONE_SURROGATES = ("\ud800", "x\udfff", "\udbff\ud7ff")
HUGE_INTEGERS = (2**63, -(2**63) - 1, 10**30, 99999999999999999999999999)


class Target:
    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    home: Path = tmp_path_factory.mktemp("fuzz")
    # MODELYARD_FUZZ_DATABASE_URL: fuzz against another database (an empty PostgreSQL one).
    url = os.environ.get("MODELYARD_FUZZ_DATABASE_URL") or f"sqlite:///{home / 'fuzz.db'}"
    settings = Settings(home=home, database_url=url, builtin_models=False)
    app = create_app(settings)
    # raise_server_exceptions=False: an unhandled error must come back as the 500 it would
    # be in production, so that it is counted instead of aborting the run.
    with TestClient(app, raise_server_exceptions=False) as client:
        issued = app.state.services.tenancy.ensure_admin_key(settings.admin_key_file)
        assert issued is not None
        headers = {"Authorization": f"Bearer {issued.key}"}
        created = client.post("/v1/admin/tenants", json={"name": "fuzzed"}, headers=headers)
        yield Target(client, {"admin": issued.key, "tenant": created.json()["key"]["key"]})


def _send(client: TestClient, case: Any, key: str) -> Any:
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}
    )
    request = {k: v for k, v in kwargs.items() if k in _REQUEST_KEYS}
    if isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")  # raw bodies: httpx wants them as content
    return client.request(**request)


def _poison(value: Any, pick: Callable[[tuple[Any, ...]], Any]) -> Any:
    """``value`` with every string carrying a lone surrogate and every integer made huge."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return pick(HUGE_INTEGERS)
    if isinstance(value, str):
        return value + pick(LONE_SURROGATES)
    if isinstance(value, dict):
        return {key: _poison(item, pick) for key, item in value.items()}
    if isinstance(value, list):
        return [_poison(item, pick) for item in value]
    return value


def _send_poisoned(client: TestClient, case: Any, key: str, pick: Callable[[tuple[Any, ...]], Any]) -> Any:
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver", headers={"Authorization": f"Bearer {key}"}
    )
    request = {k: v for k, v in kwargs.items() if k in _REQUEST_KEYS}
    params = request.get("params")
    if isinstance(params, dict):
        # Surrogates cannot travel in a URL; huge numbers can, as text.
        request["params"] = {
            name: str(pick(HUGE_INTEGERS)) if str(value).lstrip("-").isdigit() else value
            for name, value in params.items()
        }
    if "json" in request:
        # ensure_ascii: the surrogate travels as its escape, as a hostile client would send it.
        request["content"] = json.dumps(_poison(request.pop("json"), pick)).encode()
        request["headers"] = {**request.get("headers", {}), "Content-Type": "application/json"}
    elif isinstance(request.get("data"), bytes | str):
        request["content"] = request.pop("data")
    return client.request(**request)


def _fuzz_operation(target: Target, operation: Any, key: str, failures: dict[str, str]) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    label = f"{operation.method.upper()} {operation.path}"

    from hypothesis import strategies as st

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize="MODELYARD_FUZZ_EXAMPLES" not in os.environ,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any, data: Any) -> None:
        response = _send(target.client, case, key)
        if response.status_code >= 500 and label not in failures:
            failures[label] = f"{response.status_code} for {case.as_curl_command()}: {response.text[:300]}"
        poisoned = _send_poisoned(
            target.client, case, key, lambda options: data.draw(st.sampled_from(options))
        )
        if poisoned.status_code >= 500 and label not in failures:
            failures[label] = (
                f"{poisoned.status_code} poisoned (surrogates, huge integers): {poisoned.text[:300]}"
            )

    run()


@pytest.mark.parametrize("role", ["tenant", "admin"])
def test_no_operation_answers_5xx(target: Target, role: str) -> None:
    schema = schemathesis.openapi.from_dict(target.client.app.openapi())
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30  # the whole API, not a schema that failed to load
    for operation in operations:
        _fuzz_operation(target, operation, target.keys[role], failures)
    assert failures == {}, "\n".join(f"{label}: {why}" for label, why in failures.items())
