"""What reaches /graphql from browsers: CSRF refusals, CORS for listed origins only, and the
production switch that hides introspection and GraphiQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.support import DEADLINE, Clock, ServerThread

QUERY = "{ dashboard { totalEvents } }"
TRACK = 'mutation { trackEvent(input: {name: "forged"}) { accepted } }'
PREFLIGHT = {"GraphQL-Require-Preflight": "1"}


@pytest.fixture
def settings() -> Settings:
    return Settings(auth=False, store_url="duckdb:///:memory:")


@pytest.fixture
def served(settings: Settings, clock: Clock) -> Iterator[ServerThread]:
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


@pytest.fixture
async def http(served: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=DEADLINE) as client:
        yield client


async def total_events(http: httpx.AsyncClient) -> int:
    response = await http.post("/graphql", json={"query": QUERY})
    total: int = response.json()["data"]["dashboard"]["totalEvents"]
    return total


async def test_a_get_query_without_a_preflight_header_is_refused(http: httpx.AsyncClient) -> None:
    refused = await http.get("/graphql", params={"query": QUERY})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["extensions"]["code"] == "CSRF_REFUSED"
    allowed = await http.get("/graphql", params={"query": QUERY}, headers=PREFLIGHT)
    assert allowed.json()["data"] == {"dashboard": {"totalEvents": 0}}


@pytest.mark.parametrize(
    "content",
    [
        {"content": TRACK.encode(), "headers": {"content-type": "text/plain"}},
        {"data": {"query": TRACK}},  # application/x-www-form-urlencoded
        {
            "files": {
                "operations": (None, f'{{"query": "{TRACK.replace(chr(34), chr(92) + chr(34))}"}}')
            }
        },
    ],
    ids=["text/plain", "form", "multipart"],
)
async def test_a_post_a_browser_form_could_send_is_refused_and_stores_nothing(
    http: httpx.AsyncClient, content: dict[str, object]
) -> None:
    response = await http.post("/graphql", **content)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "CSRF_REFUSED"
    assert await total_events(http) == 0


async def test_browsers_still_get_graphiql_without_a_header(http: httpx.AsyncClient) -> None:
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


@pytest.mark.parametrize(
    "settings",
    [Settings(auth=False, store_url="duckdb:///:memory:", cors_origins=("https://dash.example",))],
)
async def test_cors_answers_listed_origins_only(http: httpx.AsyncClient) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    listed = await http.options("/graphql", headers={"Origin": "https://dash.example", **ask})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == "https://dash.example"
    other = await http.options("/graphql", headers={"Origin": "https://evil.example", **ask})
    assert "access-control-allow-origin" not in other.headers
    response = await http.post(
        "/graphql", json={"query": QUERY}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_without_listed_origins_no_origin_is_allowed(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": QUERY}, headers={"Origin": "https://dash.example"}
    )
    assert "access-control-allow-origin" not in response.headers


INTROSPECT = "{ __schema { queryType { name } } }"


async def test_introspection_and_graphiql_are_on_by_default(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": INTROSPECT})
    assert response.json()["data"] == {"__schema": {"queryType": {"name": "Query"}}}


@pytest.mark.parametrize(
    "settings", [Settings(auth=False, store_url="duckdb:///:memory:", production=True)]
)
async def test_production_turns_introspection_and_graphiql_off(http: httpx.AsyncClient) -> None:
    error = (await http.post("/graphql", json={"query": INTROSPECT})).json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in error["message"].lower()
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    assert await total_events(http) == 0  # ordinary queries still answer
