"""Bad input gets a coded error, never a 500 or a stack trace; nothing of it is stored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.ports import EventQuery
from gql_analytics.settings import Settings
from tests.support import DEADLINE, NOW, GraphQLClient, ServerThread, iso

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted ids errors { index field code message } } }"


async def total_events(client: GraphQLClient) -> int:
    return int((await client.data("{ dashboard { totalEvents } }"))["dashboard"]["totalEvents"])


@pytest.mark.parametrize(
    ("input_literal", "field"),
    [
        ('{name: "bad name"}', "name"),
        ('{name: "ok", properties: [1, 2]}', "properties"),
        ('{name: "task_created"}', "properties.task_id"),
        ('{name: "ok", occurredAt: "2099-01-01T00:00:00Z"}', "occurredAt"),
        ('{name: "ok", userId: ""}', "userId"),
    ],
)
async def test_a_single_invalid_event_is_a_bad_user_input_naming_the_field(
    client: GraphQLClient, input_literal: str, field: str
) -> None:
    error = await client.error(f"mutation {{ trackEvent(input: {input_literal}) {{ accepted }} }}")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert field in error["message"]
    assert await total_events(client) == 0


async def test_an_invalid_metric_value_is_refused(client: GraphQLClient) -> None:
    error = await client.error(
        'mutation { recordMetric(input: {name: "m", value: 1, tags: {a: 1}}) { accepted } }'
    )
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "tags.a",
    )


async def test_a_batch_stores_its_valid_items_and_reports_the_rest_by_index(
    client: GraphQLClient,
) -> None:
    inputs = [
        {"name": "ok", "id": "1"},
        {"name": "not ok"},
        {"name": "ok", "id": "2"},
        {"name": "ok", "properties": {"x": "y" * 40000}},
    ]
    result = (await client.data(TRACK, {"inputs": inputs}))["trackEvents"]
    assert result["accepted"] == 2
    assert result["ids"] == ["1", "2"]
    assert [(e["index"], e["field"], e["code"]) for e in result["errors"]] == [
        (1, "name", "BAD_USER_INPUT"),
        (3, "properties", "BAD_USER_INPUT"),
    ]
    assert await total_events(client) == 2


async def test_batches_over_1000_items_are_refused_whole(client: GraphQLClient) -> None:
    error = await client.error(TRACK, {"inputs": [{"name": "ok"}] * 1001})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "1000" in error["message"]
    assert await total_events(client) == 0


async def test_retried_mutation_with_the_same_id_counts_once(client: GraphQLClient) -> None:
    for _ in range(3):
        await client.data(TRACK, {"inputs": [{"name": "ok", "id": "retry-me"}]})
    assert await total_events(client) == 1


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ dashboard { totalEvents }", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ dashboard { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ('{ events(after: "not-a-cursor") { totalCount } }', "BAD_USER_INPUT"),
        ('{ tasksPerUser(after: "eyJ4IjogMX0=") { totalCount } }', "BAD_USER_INPUT"),
        ("{ events(first: 501) { totalCount } }", "BAD_USER_INPUT"),
        ("{ tasksPerUser(first: 501) { totalCount } }", "BAD_USER_INPUT"),
        ('{ topEvents(range: {last: "forever"}) { name } }', "BAD_USER_INPUT"),
        (
            '{ topEvents(range: {from: "2026-11-20T10:00:00Z", to: "2026-11-20T09:00:00Z"}) { name } }',
            "BAD_USER_INPUT",
        ),
        ('{ topEvents(range: {from: "yesterday"}) { name } }', "BAD_USER_INPUT"),
        ('{ eventCounts(range: {last: "90d"}, interval: MINUTE) { total } }', "BAD_USER_INPUT"),
        ('{ metric(name: "m", tags: {a: 1}) { count } }', "BAD_USER_INPUT"),
        ("{ topEvents(limit: 0) { name } }", "BAD_USER_INPUT"),
        ("{ eventCounts(interval: CENTURY) { total } }", "GRAPHQL_VALIDATION_FAILED"),
    ],
)
async def test_malformed_requests_get_coded_errors(
    client: GraphQLClient, query: str, code: str
) -> None:
    error = await client.error(query)
    assert error["extensions"]["code"] == code
    assert "Traceback" not in error["message"]


async def test_variables_of_the_wrong_type_get_a_coded_error(client: GraphQLClient) -> None:
    body = await client.post("query($n: Int) { topEvents(limit: $n) { name } }", {"n": "ten"})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_body_that_is_not_json_is_a_client_error(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert 400 <= response.status_code < 500


async def test_mutations_over_get_are_refused(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.get(
            "/graphql",
            params={"query": 'mutation { trackEvent(input: {name: "x"}) { accepted } }'},
            headers={"GraphQL-Require-Preflight": "1"},  # past the CSRF guard: still refused
        )
    assert 400 <= response.status_code < 500


class BrokenStore(DuckDBStore):
    async def count_events(self, query: EventQuery) -> int:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")


@pytest.fixture
def broken_server() -> Iterator[ServerThread]:
    app = create_app(Settings(auth=False), store=BrokenStore(), clock=lambda: NOW)
    with ServerThread(app) as running:
        yield running


async def test_unexpected_errors_are_masked_with_a_request_id(
    broken_server: ServerThread, caplog: pytest.LogCaptureFixture
) -> None:
    async with httpx.AsyncClient(base_url=broken_server.base_url, timeout=DEADLINE) as http:
        body = (await http.post("/graphql", json={"query": "{ events { totalCount } }"})).json()
    error = body["errors"][0]
    assert error["message"] == "Internal error."
    assert error["extensions"]["code"] == "INTERNAL"
    assert "hunter2" not in str(body)
    assert error["extensions"]["requestId"] in caplog.text


async def test_occurred_at_without_offset_is_utc(client: GraphQLClient) -> None:
    naive = (NOW - timedelta(minutes=2)).replace(tzinfo=None).isoformat()
    await client.data(TRACK, {"inputs": [{"name": "ok", "id": "n1", "occurredAt": naive}]})
    found = await client.data('{ event(id: "n1") { occurredAt } }')
    assert found["event"]["occurredAt"] == iso(NOW - timedelta(minutes=2))
