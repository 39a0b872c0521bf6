"""Identical queries answered from a cache that is never stale, and documents parsed and
validated once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import strawberry.schema.schema
from prometheus_client.parser import text_string_to_metric_families

from tests.support import Clock, GraphQLClient, ServerThread

SIGNUPS = '{ eventCounts(names: ["signup"], range: {last: "1h"}) { total } }'
LATENCY = '{ metric(name: "latency", range: {last: "1h"}) { count sum } }'


async def answer(client: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> Any:
    body = await client.post(query, variables)
    assert "errors" not in body, body
    return body


async def cached(client: GraphQLClient, query: str, variables: dict[str, Any] | None = None) -> str:
    body = await answer(client, query, variables)
    state: str = body["extensions"]["cache"]
    return state


async def test_a_repeated_query_is_answered_from_the_cache(client: GraphQLClient) -> None:
    await client.data('mutation { trackEvent(input: {name: "signup"}) { accepted } }')
    first = await answer(client, SIGNUPS)
    second = await answer(client, SIGNUPS)
    assert (first["extensions"]["cache"], second["extensions"]["cache"]) == ("miss", "hit")
    assert first["data"] == second["data"] == {"eventCounts": [{"total": 1}]}


async def test_a_mutation_changes_the_next_answer(client: GraphQLClient) -> None:
    assert (await client.data(SIGNUPS))["eventCounts"] == [{"total": 0}]
    assert await cached(client, SIGNUPS) == "hit"
    await client.data('mutation { trackEvent(input: {name: "signup"}) { accepted } }')
    after = await answer(client, SIGNUPS)
    assert after["extensions"]["cache"] == "miss"
    assert after["data"]["eventCounts"] == [{"total": 1}]
    await client.data('mutation { trackEvent(input: {name: "signup", id: "x"}) { accepted } }')
    assert (await client.data(SIGNUPS))["eventCounts"] == [{"total": 2}]


async def test_an_unrelated_series_does_not_evict(client: GraphQLClient) -> None:
    await client.data('mutation { recordMetric(input: {name: "latency", value: 5}) { accepted } }')
    assert await cached(client, LATENCY) == "miss"
    await client.data('mutation { trackEvent(input: {name: "signup"}) { accepted } }')
    await client.data('mutation { recordMetric(input: {name: "cpu", value: 0.5}) { accepted } }')
    assert await cached(client, LATENCY) == "hit"
    await client.data('mutation { recordMetric(input: {name: "latency", value: 7}) { accepted } }')
    after = await answer(client, LATENCY)
    assert after["extensions"]["cache"] == "miss"
    assert after["data"]["metric"] == {"count": 2, "sum": 12.0}


async def test_a_query_over_every_name_is_evicted_by_any_new_name(client: GraphQLClient) -> None:
    top = '{ topEvents(range: {last: "1h"}) { name count } }'
    await client.data('mutation { trackEvent(input: {name: "signup"}) { accepted } }')
    assert await cached(client, top) == "miss"
    assert await cached(client, top) == "hit"
    await client.data('mutation { trackEvent(input: {name: "login"}) { accepted } }')
    after = await answer(client, top)
    assert after["extensions"]["cache"] == "miss"
    assert {row["name"] for row in after["data"]["topEvents"]} == {"signup", "login"}


async def test_variables_are_part_of_the_key(client: GraphQLClient) -> None:
    query = 'query($n: [String!]) { eventCounts(names: $n, range: {last: "1h"}) { name } }'
    assert await cached(client, query, {"n": ["a"]}) == "miss"
    assert await cached(client, query, {"n": ["b"]}) == "miss"
    assert await cached(client, query, {"n": ["a"]}) == "hit"


async def test_a_sliding_window_is_recomputed_when_a_minute_passes(
    client: GraphQLClient, clock: Clock
) -> None:
    assert await cached(client, SIGNUPS) == "miss"
    assert await cached(client, SIGNUPS) == "hit"
    clock.advance(timedelta(minutes=1))
    assert await cached(client, SIGNUPS) == "miss"


async def test_answers_with_errors_are_not_cached(client: GraphQLClient) -> None:
    bad = '{ eventCounts(names: ["signup"], range: {last: "forever"}) { total } }'
    for _ in range(2):
        body = await client.post(bad)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert body.get("extensions", {}).get("cache") != "hit"


async def test_queries_of_changing_state_bypass_the_cache(client: GraphQLClient) -> None:
    for query in ("{ ingestStatus { applied } }", "{ analyses { edges { cursor } } }"):
        assert await cached(client, query) == "bypass"
        assert await cached(client, query) == "bypass"
    body = await client.post('mutation { trackEvent(input: {name: "a"}) { accepted } }')
    assert "cache" not in body.get("extensions", {})


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each document that GraphQL validation runs on."""
    seen: list[str] = []
    validate = strawberry.schema.schema.validate_document

    def counted(schema: Any, document: Any, rules: Any) -> Any:
        seen.append(document.loc.source.body if document.loc else "")
        return validate(schema, document, rules)

    monkeypatch.setattr(strawberry.schema.schema, "validate_document", counted)
    return seen


async def test_a_document_is_validated_once(
    client: GraphQLClient, validations: list[str], server: ServerThread
) -> None:
    query = '{ metric(name: "x", range: {last: "1h"}) { count } }'
    for _ in range(3):
        await answer(client, query)
    invalid = "{ metric { nope } }"
    for _ in range(2):
        body = await client.post(invalid)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert validations.count(query) == 1
    assert validations.count(invalid) == 1


async def test_metrics_count_what_the_cache_did(client: GraphQLClient) -> None:
    await answer(client, SIGNUPS)
    await answer(client, SIGNUPS)
    await answer(client, "{ ingestStatus { applied } }")
    scraped = (await client.http.get("/metrics")).text
    counted = {
        sample.labels["result"]: sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "gql_analytics_query_cache_total"
    }
    assert counted == {"miss": 1.0, "hit": 1.0, "bypass": 1.0}
