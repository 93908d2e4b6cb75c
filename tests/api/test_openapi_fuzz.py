"""Schemathesis over /openapi.json, in process against the ASGI app with the admin token:
every operation, requests that fit the schema and requests that do not, and not one server
error (5xx).

One fresh database per run and backend (SQLite; PostgreSQL when a server listens), loaded
with the portfolio example of the schema, so the examples and the requests built from them
reach a real debtor and debt.
Schemathesis' own pytest plugin does not run under pytest 9, so each operation is driven
through its Hypothesis strategy here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi as schemathesis_asgi

from bot.app import create_app
from bot.clock import FixedClock
from bot.schemas import PORTFOLIO_EXAMPLE
from tests.conftest import ADMIN_TOKEN, NOW, ScriptedDialogue, make_settings
from tests.storage.conftest import BACKENDS, create_postgres_database, drop_postgres_database

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EXAMPLES = {GenerationMode.POSITIVE: 90, GenerationMode.NEGATIVE: 70}
REQUESTS: dict[str, int] = {}


def _operation_labels() -> list[str]:
    """Every operation of the schema (read at collection; nothing is started)."""
    app = create_app(make_settings(Path("unused")))
    return [f"{method.upper()} {path}" for path, operations in app.openapi()["paths"].items()
            for method in operations]


@pytest.fixture(scope="module", params=BACKENDS)
def api_schema(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    """The schema of an app on a fresh database of the run: a SQLite file, or a PostgreSQL
    database made for it and dropped after (it enforces column lengths SQLite ignores)."""
    tmp_path = tmp_path_factory.mktemp("fuzz")
    url = (asyncio.run(create_postgres_database()) if request.param == "postgres"
           else f"sqlite:///{tmp_path / 'acordo.db'}")
    try:
        app = create_app(make_settings(tmp_path, database_url=url), clock=FixedClock(NOW),
                         dialogue=ScriptedDialogue())
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        with schemathesis_asgi.get_client(app) as client:
            seeded = client.post("/api/v1/portfolio", json=PORTFOLIO_EXAMPLE, headers=ADMIN)
            assert seeded.status_code == 200 and seeded.json()["rejected"] == [], seeded.text
        yield schema
        schemathesis_asgi.shutdown_lifespans()
    finally:
        if request.param == "postgres":
            asyncio.run(drop_postgres_database(url))
    total = sum(REQUESTS.values())
    print(f"\nschemathesis: {total} requests over {len({k.split(' ', 2)[2] for k in REQUESTS})} "  # noqa: T201
          "operations so far, 0 server errors")


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=str)
@pytest.mark.parametrize("label", _operation_labels())
def test_no_operation_answers_a_server_error(api_schema: schemathesis.BaseSchema, label: str,
                                            mode: GenerationMode) -> None:
    method, path = label.split(" ", 1)
    operation = api_schema[path][method]
    key = f"{id(api_schema)} {mode} {label}"  # per backend, mode and operation

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES[mode], deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers=ADMIN)
        REQUESTS[key] = REQUESTS.get(key, 0) + 1
        case.validate_response(response, checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # an operation that takes anything
        pytest.skip(f"{label}: nothing in its schema can be violated")


async def test_the_schema_examples_are_valid_requests(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    sent = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            reference = body.get("schema", {}).get("$ref", "")
            for example in spec["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {}).get(
                    "examples", []):
                response = await client.request(method, path, json=example, headers=ADMIN)
                assert response.status_code == 200, (path, response.text)
                sent.append(path)
    assert {"/api/v1/portfolio", "/api/v1/payments", "/channels/web/messages"} <= set(sent)
