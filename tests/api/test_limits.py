"""Hostile documents and bodies are refused with a code, and the server answers on afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.support import NOW, GraphQLClient, iso

NORMAL = "{ topEvents { name count } }"


async def still_answers(client: GraphQLClient) -> None:
    assert (await client.http.get("/health")).json() == {"status": "ok"}
    assert (await client.data(NORMAL))["topEvents"] == []


def nested(levels: int) -> str:
    return "{ " + "events { edges { node { " * levels + "id" + " } } }" * levels + " }"


async def test_a_query_nested_fifty_levels_is_refused(client: GraphQLClient) -> None:
    body = await client.post(nested(50))
    assert body.get("data") is None
    messages = [e["message"] for e in body["errors"]]
    assert any("exceeds maximum operation depth of 10" in m for m in messages), messages
    assert {e["extensions"]["code"] for e in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}
    await still_answers(client)


def spread(times: int) -> str:
    """``times`` aliased dashboards, each spreading a fragment of 10 aliases."""
    fields = " ".join(f"t{i}: totalEvents" for i in range(10))
    dashboards = " ".join(f"d{i}: dashboard {{ ...many }}" for i in range(times))
    return f"{{ {dashboards} }} fragment many on Dashboard {{ {fields} }}"


async def test_aliases_are_counted_through_fragments(client: GraphQLClient) -> None:
    assert (await client.data(spread(2)))["d1"]["t9"] == 0  # 2 + 2 x 10 aliases: allowed
    error = await client.error(spread(4))  # 4 + 4 x 10
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "44 aliases found. Allowed: 30"
    await still_answers(client)


async def test_a_document_of_too_many_tokens_is_refused(client: GraphQLClient) -> None:
    error = await client.error("{ " + "__typename " * 6_000 + "}")
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "more than 5000 tokens" in error["message"]
    await still_answers(client)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_a_ten_megabyte_body_is_refused_unread(client: GraphQLClient, chunked: bool) -> None:
    padding = "x" * 10_000_000
    body = (
        '{"query": "{ topEvents { name } }", "extensions": {"pad": "' + padding + '"}}'
    ).encode()

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    response = await client.http.post(
        "/graphql",
        content=stream() if chunked else body,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1,000,000 bytes" in error["message"]
    await still_answers(client)


EVENTS = "query($n: Int) { events(first: $n) { edges { node { id name } } totalCount } }"


async def test_every_answer_reports_its_cost(client: GraphQLClient) -> None:
    """A field costs 1, times the first/limit of every field it sits in."""
    body = await client.post("{ topEvents(limit: 5) { name count } }")
    assert body["extensions"]["cost"] == 1 + 5 * 2
    body = await client.post(EVENTS, {"n": 3})
    assert body["extensions"]["cost"] == 1 + 3 * 5  # edges, node, id, name, totalCount
    body = await client.post("query { events { edges { node { id } } } }")
    assert body["extensions"]["cost"] == 1 + 50 * 3  # events' own default, first: 50


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ events(first: 100000) { edges { node { id } } } }", None),
        (EVENTS, {"n": 100_000}),
        (
            f"{{ ...big }} fragment big on Query {{ {' '.join(f'e{i}: events(first: 500) {{ totalCount }}' for i in range(25))} }}",
            None,
        ),
    ],
    ids=["literal", "variable", "through a fragment"],
)
async def test_a_query_past_the_cost_limit_is_refused_before_it_runs(
    client: GraphQLClient, query: str, variables: dict[str, int] | None
) -> None:
    body = await client.post(query, variables)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert "limit of 10,000" in error["message"]
    assert body["extensions"]["cost"] > 10_000
    await still_answers(client)


def counts(names: list[str], last: str, interval: str) -> str:
    listed = ", ".join(f'"{name}"' for name in names)
    return (
        f'{{ eventCounts(names: [{listed}], range: {{last: "{last}"}}, interval: {interval}) '
        "{ points { bucket count } } }"
    )


async def test_the_cost_of_a_series_follows_its_names_and_buckets(client: GraphQLClient) -> None:
    """Each name is a series; each series a point per bucket of the range."""
    one_hour = (await client.post(counts(["a"], "1h", "MINUTE")))["extensions"]["cost"]
    # eventCounts, its points, and a bucket and a count for each of 60 minutes and the ragged one
    assert one_hour == 1 + 1 + 61 * 2
    two = (await client.post(counts(["a", "b"], "1h", "MINUTE")))["extensions"]["cost"]
    assert two == 1 + 2 * (1 + 61 * 2)
    coarse = (await client.post(counts(["a"], "1h", "FIFTEEN_MINUTES")))["extensions"]["cost"]
    assert coarse == 1 + 1 + 5 * 2
    defaulted = await client.post('{ activeUsers(range: {last: "2d"}) { points { count } } }')
    assert defaulted["extensions"]["cost"] == 1 + 1 + 3  # interval: DAY by default


async def test_a_range_that_ends_now_is_costed_by_the_gateways_clock(
    client: GraphQLClient,
) -> None:
    since = iso(NOW - timedelta(hours=1))  # the test server's now, weeks before the wall clock's
    query = (
        f'{{ eventCounts(names: ["a"], range: {{from: "{since}"}}, interval: MINUTE) '
        "{ points { bucket count } } }"
    )
    assert (await client.post(query))["extensions"]["cost"] == 1 + 1 + 61 * 2


async def test_fifty_names_by_the_minute_for_thirteen_days_is_refused_before_it_runs(
    client: GraphQLClient,
) -> None:
    """It was 936,050 points (41 MB) built in 40 s while /health waited."""
    body = await client.post(counts([f"name{n}" for n in range(50)], "13d", "MINUTE"))
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    assert body["extensions"]["cost"] > 50 * 13 * 24 * 60 * 2
    await still_answers(client)


async def test_series_found_only_when_it_runs_are_held_to_the_cost_limit(
    client: GraphQLClient,
) -> None:
    """Without names every name is a series: their number is checked once known."""
    events = [{"name": f"name{n}"} for n in range(12)]
    track = "mutation($e: [EventInput!]!) { trackEvents(inputs: $e) { accepted } }"
    assert (await client.data(track, {"e": events}))["trackEvents"]["accepted"] == 12
    every = '{ eventCounts(range: {last: "14h"}, interval: MINUTE) { points { count } } }'
    error = await client.error(every)  # 12 series of 841 buckets: 10,092 points
    assert error["extensions"]["code"] == "COST_LIMIT_EXCEEDED"
    fewer = every.replace("14h", "13h")  # 12 x 781: 9,372 points
    assert len((await client.data(fewer))["eventCounts"]) == 12


async def test_lists_of_names_are_bounded(client: GraphQLClient) -> None:
    names = [f"n{n}" for n in range(101)]
    for query in (
        "query($n: [String!]) { eventCounts(names: $n, interval: DAY) { total } }",
        "query($n: [String!]) { events(filter: {names: $n}, first: 1) { totalCount } }",
    ):
        error = await client.error(query, {"n": names})
        assert (error["extensions"]["code"], error["extensions"]["field"]) == (
            "BAD_USER_INPUT",
            "names",
        ), query
        assert (await client.post(query, {"n": names[:100]})).get("errors") is None


async def test_one_operation_runs_per_request(client: GraphQLClient) -> None:
    batch = [{"query": NORMAL}, {"query": NORMAL}]
    response = await client.http.post("/graphql", json=batch)
    assert response.status_code == 400  # batches are not accepted
    many = " ".join(f"query q{i} {{ topEvents {{ name }} }}" for i in range(11))
    error = await client.error(many)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["message"] == "11 operations in one document; at most 10 (one of them runs)"
    ten = " ".join(f"query q{i} {{ topEvents {{ name }} }}" for i in range(10))
    chosen = await client.http.post("/graphql", json={"query": ten, "operationName": "q3"})
    body = chosen.json()
    assert body["data"] == {"topEvents": []}
    await still_answers(client)
