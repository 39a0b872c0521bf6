"""Automatic persisted queries (a query's sha256 instead of its text) and the allow-list mode."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.support import DEADLINE, Clock, GraphQLClient, ServerThread

TOP = "query Top { topEvents { name count } }"
OTHER = "{ metrics { name } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256(text)}}


async def post(http: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if errors else None


async def test_a_query_is_sent_by_its_hash_once_registered(http: httpx.AsyncClient) -> None:
    unknown = await post(http, {"extensions": persisted(TOP)})
    assert code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown["errors"][0]["message"] == "PersistedQueryNotFound"
    registered = await post(http, {"query": TOP, "extensions": persisted(TOP)})
    assert registered["data"] == {"topEvents": []}
    again = await post(http, {"extensions": persisted(TOP)})
    assert again["data"] == {"topEvents": []}
    by_get = await http.get(
        "/graphql",
        params={"extensions": json.dumps(persisted(TOP))},
        headers={"Accept": "application/json"},
    )
    assert by_get.json()["data"] == {"topEvents": []}


async def test_a_hash_that_is_not_its_query_is_refused(http: httpx.AsyncClient) -> None:
    wrong = await post(http, {"query": OTHER, "extensions": persisted(TOP)})
    assert code(wrong) == "BAD_USER_INPUT"
    assert code(await post(http, {"extensions": persisted(TOP)})) == "PERSISTED_QUERY_NOT_FOUND"
    bad = {"persistedQuery": {"version": 2, "sha256Hash": sha256(TOP)}}
    assert code(await post(http, {"query": TOP, "extensions": bad})) == "BAD_USER_INPUT"


async def test_allow_list_mode_runs_only_registered_operations(
    tmp_path: Path, clock: Clock
) -> None:
    manifest = tmp_path / "operations.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": sha256(TOP), "name": "Top", "type": "query", "body": TOP}],
            }
        )
    )
    settings = Settings(
        auth=False,
        store_url="duckdb:///:memory:",
        persisted_queries=str(manifest),
        persisted_only=True,
    )
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            assert (await post(http, {"extensions": persisted(TOP)}))["data"] == {"topEvents": []}
            assert (await post(http, {"query": TOP}))["data"] == {"topEvents": []}
            assert code(await post(http, {"query": OTHER})) == "PERSISTED_QUERY_NOT_ALLOWED"
            sent = {"query": OTHER, "extensions": persisted(OTHER)}
            assert code(await post(http, sent)) == "PERSISTED_QUERY_NOT_ALLOWED"
            assert code(await post(http, {"extensions": persisted(OTHER)})) == (
                "PERSISTED_QUERY_NOT_FOUND"
            )


def test_a_manifest_that_cannot_be_read_stops_the_start(tmp_path: Path) -> None:
    manifest = tmp_path / "operations.json"
    manifest.write_text('{"operations": [{"id": "0000", "body": "{ metrics { name } }"}]}')
    settings = Settings(auth=False, persisted_queries=str(manifest))
    with pytest.raises(ValueError, match="is not the sha256 of its body"):
        create_app(settings, store=DuckDBStore())


@pytest.fixture
def http(client: GraphQLClient) -> httpx.AsyncClient:
    return client.http
