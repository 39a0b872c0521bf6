"""Schemathesis sends generated GraphQL documents (every query and mutation of the schema) to a
live server: none may get a 500, hang, or leave the server unable to answer. Bounded: a fixed
number of derandomized examples per operation, each call with a timeout."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.support import DEADLINE, ServerThread

EXAMPLES = 8


@pytest.fixture
def fuzzed() -> Iterator[ServerThread]:
    configured = Settings(auth=False, store_url="duckdb:///:memory:", analysis_seconds=5)
    with ServerThread(create_app(configured, store=DuckDBStore())) as server:
        yield server


def test_no_generated_document_breaks_the_server(fuzzed: ServerThread) -> None:
    schema = schemathesis.graphql.from_url(f"{fuzzed.base_url}/graphql")
    operations: list[Any] = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 20  # every query and mutation field
    answered: list[int] = []

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def survives(case: Any) -> None:
            response = case.call(timeout=15)
            assert response.status_code < 500, (case.operation.label, response.text)
            answered.append(response.status_code)

        survives()
    assert len(answered) >= 2 * len(operations)  # the documents really went out
    assert httpx.get(f"{fuzzed.base_url}/health", timeout=DEADLINE).status_code == 200
    body = httpx.post(f"{fuzzed.base_url}/graphql", json={"query": "{ topEvents { name } }"})
    assert "data" in body.json()
