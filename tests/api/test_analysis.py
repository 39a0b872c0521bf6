"""Analysis jobs through GraphQL on a real server: run, follow, cancel, refuse, survive restarts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn.cluster import KMeans

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, Socket, socket
from tests.support import DEADLINE, NOW, Clock, GraphQLClient, ServerThread, iso

JOB = "id state operation progress createdAt finishedAt error result input"
TYPED = """
typedResult {
  __typename
  ... on ClusteringResult { k inertia silhouette sizes labels keys raw }
  ... on RegressionResult { target intercept r2 rows coefficients { name value stderr pvalue } }
  ... on TTestResult { kind statistic pvalue df }
  ... on SummaryResult { numeric { name count mean q50 } text { name unique top { value count } } }
  ... on CorrelationResult { method columns matrix }
  ... on AnomaliesResult { column threshold anomalies { bucket value expected score method } }
  ... on ForecastResult { level points { bucket value lower upper } }
}"""
TYPED_RUN = f"""
mutation($input: AnalysisInput!) {{
  runAnalysis(input: $input, wait: true) {{ state result {TYPED} }}
}}"""
RUN = f"""
mutation($input: AnalysisInput!, $wait: Boolean) {{
  runAnalysis(input: $input, wait: $wait) {{ {JOB} }}
}}"""
ANALYSIS = f"query($id: ID!) {{ analysis(id: $id) {{ {JOB} }} }}"
ANALYSES = """
query($first: Int, $after: String) {
  analyses(first: $first, after: $after) {
    edges { cursor node { id operation } } pageInfo { hasNextPage endCursor }
  }
}"""
CANCEL = "mutation($id: ID!) { cancelAnalysis(id: $id) { id state error finishedAt } }"
PROGRESS = "subscription($id: ID!) { analysisProgress(id: $id) { state progress error } }"


def blobs(rows: int, seed: int = 0, columns: int = 8) -> list[dict[str, float]]:
    """Rows of numeric columns around three centres."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (3, columns))
    points = centres[rng.integers(0, 3, rows)] + rng.normal(0, 1, (rows, columns))
    return [{f"x{i}": float(v) for i, v in enumerate(row)} for row in points]


@asynccontextmanager
async def serving(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[ServerThread, GraphQLClient]]:
    store = DuckDBStore(settings.store_url.removeprefix("duckdb:///"))
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            yield server, GraphQLClient(http)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        auth=False, store_url=f"duckdb:///{tmp_path / 'analytics.duckdb'}", analysis_workers=1
    )


@pytest.fixture
async def api(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[ServerThread, GraphQLClient]]:
    async with serving(settings, clock) as running:
        yield running


async def run(client: GraphQLClient, input: dict[str, Any], wait: bool = True) -> dict[str, Any]:
    job: dict[str, Any] = (await client.data(RUN, {"input": input, "wait": wait}))["runAnalysis"]
    return job


async def test_clustering_inline_rows_equals_scikit_learn(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    _, client = api
    rows = blobs(300)
    job = await run(
        client, {"operation": "CLUSTERING", "dataset": {"rows": rows}, "k": 3, "seed": 7}
    )
    assert job["state"] == "SUCCEEDED", job
    assert (job["progress"], job["error"]) == (1.0, None)
    direct = KMeans(n_clusters=3, random_state=7).fit(np.array([list(r.values()) for r in rows]))
    result = job["result"]
    assert result["inertia"] == pytest.approx(direct.inertia_, rel=1e-9)
    assert result["labels"] == direct.labels_.tolist()
    assert {"k", "inertia", "silhouette", "centroids", "sizes", "labels"} <= result.keys()
    assert job["createdAt"] == iso(NOW)
    assert job["input"]["operation"] == "CLUSTERING"
    assert job["input"]["k"] == 3


async def test_a_job_is_queued_runs_and_its_progress_is_pushed(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    server, client = api
    rows = blobs(400)
    job = await run(client, {"operation": "CLUSTERING", "dataset": {"rows": rows}}, wait=False)
    assert (job["state"], job["progress"], job["finishedAt"]) == ("QUEUED", 0.0, None)
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(PROGRESS, {"id": job["id"]})
        seen = [(await ws.next_data())["analysisProgress"]]
        while seen[-1]["state"] not in {"SUCCEEDED", "FAILED", "CANCELLED"}:
            seen.append((await ws.next_data())["analysisProgress"])
        assert (await ws.receive())["type"] == "complete"
    states = [s["state"] for s in seen]
    assert states[-1] == "SUCCEEDED"
    assert "RUNNING" in states
    assert states == sorted(states, key=["QUEUED", "RUNNING", "SUCCEEDED"].index)
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress)
    assert any(0 < p < 1 for p in progress)  # k = 2..10 are tried one after the other
    stored = (await client.data(ANALYSIS, {"id": job["id"]}))["analysis"]
    assert stored["state"] == "SUCCEEDED"
    assert stored["result"]["k"] == 3


async def test_anomalies_of_a_recorded_metric_find_the_spike(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    _, client = api
    start = NOW.replace(minute=0, second=0) - timedelta(days=21)
    rng = np.random.default_rng(1)
    points = []
    for hour in range(21 * 24):
        value = 100 + 20 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 2)
        points.append(
            {
                "name": "api_response_time",
                "value": float(value + (60 if hour == 300 else 0)),
                "occurredAt": iso(start + timedelta(hours=hour, minutes=30)),
            }
        )
    record = "mutation($inputs: [MetricInput!]!) { recordMetrics(inputs: $inputs) { accepted } }"
    for i in range(0, len(points), 500):
        await client.data(record, {"inputs": points[i : i + 500]})
    metric = {
        "name": "api_response_time",
        "range": {"from": iso(start), "to": iso(start + timedelta(days=21))},
        "interval": "HOUR",
    }
    job = await run(client, {"operation": "ANOMALIES", "dataset": {"metric": metric}})
    assert job["state"] == "SUCCEEDED", job
    assert [a["bucket"] for a in job["result"]["anomalies"]] == [
        (start + timedelta(hours=300)).isoformat()
    ]
    forecast = await run(
        client, {"operation": "FORECAST", "dataset": {"metric": metric}, "horizon": 3}
    )
    points_ahead = forecast["result"]["points"]
    assert [p["bucket"] for p in points_ahead] == [
        (start + timedelta(days=21, hours=h)).isoformat() for h in range(3)
    ]
    assert all(p["lower"] < p["value"] < p["upper"] for p in points_ahead)


@asynccontextmanager
async def running_job(
    server: ServerThread, client: GraphQLClient
) -> AsyncIterator[tuple[str, Socket]]:
    """A job of seconds (k-means for k = 2..10 over 10,000 rows), followed until it RUNS.
    Two columns: 10,000 rows of eight would pass the 1 MB limit of a request body."""
    rows = blobs(10_000, columns=2)
    job = await run(client, {"operation": "CLUSTERING", "dataset": {"rows": rows}}, wait=False)
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(PROGRESS, {"id": job["id"]})
        while (await ws.next_data())["analysisProgress"]["state"] != "RUNNING":
            pass
        yield job["id"], ws


async def last_state(ws: Socket) -> str:
    while True:
        state: str = (await ws.next_data())["analysisProgress"]["state"]
        if state in {"SUCCEEDED", "FAILED", "CANCELLED"}:
            return state


async def test_health_and_queries_answer_while_a_job_runs(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    server, client = api
    async with running_job(server, client) as (job_id, _):
        assert (await client.http.get("/health")).json() == {"status": "ok"}
        assert (await client.data("{ topEvents { name } }"))["topEvents"] == []
        # Both answered while the job still ran.
        still = (await client.data(ANALYSIS, {"id": job_id}))["analysis"]
        assert still["state"] == "RUNNING"
        await client.data(CANCEL, {"id": job_id})


async def test_a_cancelled_job_ends_cancelled_and_stays_so(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    server, client = api
    async with running_job(server, client) as (job_id, ws):
        cancelled = (await client.data(CANCEL, {"id": job_id}))["cancelAnalysis"]
        assert cancelled["state"] == "CANCELLED"
        assert cancelled["finishedAt"] is not None
        assert await last_state(ws) == "CANCELLED"
    again = (await client.data(CANCEL, {"id": job_id}))["cancelAnalysis"]
    assert again == cancelled
    # The worker was replaced: the next job runs.
    done = await run(client, {"operation": "SUMMARY", "dataset": {"rows": blobs(5)}})
    assert done["state"] == "SUCCEEDED"


async def test_jobs_past_a_limit_end_failed_with_the_reason(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(
        auth=False,
        store_url=f"duckdb:///{tmp_path / 'limits.duckdb'}",
        analysis_rows=2_000,
        analysis_seconds=0.05,
        analysis_workers=1,
    )
    async with serving(settings, clock) as (_, client):
        too_many = await run(client, {"operation": "SUMMARY", "dataset": {"rows": blobs(2_001)}})
        assert too_many["state"] == "FAILED"
        assert too_many["error"] == "the dataset has more than 2,000 rows, the limit of rows"
        # Nine k-means fits and silhouettes over 2,000 rows: far more than 50 ms anywhere.
        slow = await run(client, {"operation": "CLUSTERING", "dataset": {"rows": blobs(2_000)}})
        assert slow["state"] == "FAILED"
        assert slow["error"] == "the analysis ran past its limit of 0.05 seconds"


async def test_jobs_and_results_survive_a_restart(settings: Settings, clock: Clock) -> None:
    async with serving(settings, clock) as (_, client):
        first = await run(client, {"operation": "SUMMARY", "dataset": {"rows": blobs(20)}})
        clock.advance(timedelta(seconds=1))
        second = await run(
            client, {"operation": "CORRELATION", "dataset": {"rows": blobs(20)}}, wait=True
        )
    async with serving(settings, clock) as (_, client):
        assert (await client.data(ANALYSIS, {"id": first["id"]}))["analysis"] == first
        page = (await client.data(ANALYSES, {"first": 1}))["analyses"]
        assert [e["node"]["id"] for e in page["edges"]] == [second["id"]]
        assert page["pageInfo"]["hasNextPage"] is True
        rest = await client.data(ANALYSES, {"first": 5, "after": page["pageInfo"]["endCursor"]})
        assert [e["node"]["id"] for e in rest["analyses"]["edges"]] == [first["id"]]


NUMERIC = [{"a": 1.0, "b": 2.0, "name": "x"}, {"a": 2.0, "b": 4.5, "name": "y"}]


async def typed_run(client: GraphQLClient, input: dict[str, Any]) -> dict[str, Any]:
    job: dict[str, Any] = (await client.data(TYPED_RUN, {"input": input}))["runAnalysis"]
    assert job["state"] == "SUCCEEDED", job
    return job


async def test_each_operation_has_a_typed_result_beside_the_json(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    _, client = api
    rows = [
        {"x": float(i), "y": 2.0 * i + (i % 3), "group": "ab"[i % 2], "plan": "pro"}
        for i in range(30)
    ]
    data = {"rows": rows}
    clustering = await typed_run(client, {"operation": "CLUSTERING", "dataset": data, "k": 2})
    typed, result = clustering["typedResult"], clustering["result"]
    assert typed["__typename"] == "ClusteringResult"
    assert typed["raw"] == result
    assert [typed[key] for key in ("k", "inertia", "sizes", "labels", "keys")] == [
        result[key] for key in ("k", "inertia", "sizes", "labels", "keys")
    ]
    regression = await typed_run(
        client, {"operation": "REGRESSION", "dataset": data, "target": "y", "columns": ["x"]}
    )
    typed, result = regression["typedResult"], regression["result"]
    assert typed["coefficients"] == [
        {
            "name": "x",
            "value": result["coefficients"]["x"],
            "stderr": result["stderr"]["x"],
            "pvalue": result["pvalues"]["x"],
        }
    ]
    assert (typed["intercept"], typed["r2"], typed["rows"]) == (
        result["intercept"],
        result["r2"],
        30,
    )
    welch = {"operation": "T_TEST", "dataset": data, "target": "y", "groupColumn": "group"}
    t_test = await typed_run(client, {**welch, "groups": ["a", "b"]})
    assert t_test["typedResult"] == {"__typename": "TTestResult", **t_test["result"]}
    summary = (await typed_run(client, {"operation": "SUMMARY", "dataset": data}))["typedResult"]
    assert [c["name"] for c in summary["numeric"]] == ["x", "y"]
    assert {t["name"]: t["top"] for t in summary["text"]} == {
        "group": [{"value": "a", "count": 15}, {"value": "b", "count": 15}],
        "plan": [{"value": "pro", "count": 30}],
    }
    correlation = await typed_run(client, {"operation": "CORRELATION", "dataset": data})
    assert correlation["typedResult"]["matrix"] == correlation["result"]["matrix"]


@pytest.mark.parametrize(
    ("input", "complaint"),
    [
        ({"operation": "SUMMARY", "dataset": {"rows": []}}, "non-empty"),
        ({"operation": "SUMMARY", "dataset": {"events": {"last": "1h"}}}, "the dataset is empty"),
        ({"operation": "CLUSTERING", "dataset": {"rows": NUMERIC}, "k": 3}, "more than 2 rows"),
        ({"operation": "CORRELATION", "dataset": {"rows": [{"n": "x"}, {"n": "y"}]}}, "numeric"),
        (
            {"operation": "SUMMARY", "dataset": {"rows": NUMERIC}, "columns": ["nope"]},
            "no column nope",
        ),
        ({"operation": "REGRESSION", "dataset": {"rows": NUMERIC}, "target": "c"}, "no column c"),
        ({"operation": "SUMMARY", "dataset": {"rows": [{"a": 1}] * 10_001}}, "at most 10,000"),
        ({"operation": "SUMMARY", "dataset": {}}, "exactly one"),
        (
            {"operation": "SUMMARY", "dataset": {"rows": NUMERIC, "tasks": {"last": "1h"}}},
            "exactly one",
        ),
        ({"operation": "FORECAST", "dataset": {"rows": NUMERIC}}, "metric series"),
        ({"operation": "CLUSTERING", "dataset": {"rows": NUMERIC}, "seed": -5}, "seed: between"),
    ],
    ids=[
        "no rows",
        "empty dataset",
        "fewer rows than clusters",
        "no numeric column",
        "unknown column",
        "unknown target",
        "too many inline rows",
        "no dataset",
        "two datasets",
        "forecast of rows",
        "negative seed",
    ],
)
async def test_bad_input_is_refused_with_the_reason_and_no_job_is_stored(
    api: tuple[ServerThread, GraphQLClient], input: dict[str, Any], complaint: str
) -> None:
    _, client = api
    error = await client.error(RUN, {"input": input})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert complaint in error["message"]
    assert (await client.data(ANALYSES))["analyses"]["edges"] == []


@pytest.mark.parametrize("value", ["NaN", "Infinity"])
async def test_inline_rows_with_nan_or_infinity_are_refused(
    api: tuple[ServerThread, GraphQLClient], value: str
) -> None:
    _, client = api
    body = json.dumps({"query": RUN, "variables": {"input": {"operation": "SUMMARY"}}})
    body = body.replace('"SUMMARY"}', f'"SUMMARY", "dataset": {{"rows": [{{"a": {value}}}]}}}}')
    response = await client.http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "finite" in error["message"]
    assert (await client.data(ANALYSES))["analyses"]["edges"] == []


async def test_a_t_test_of_a_constant_column_fails_with_the_reason_and_the_next_job_runs(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    _, client = api
    constant = [{"a": 3.0}] * 5
    tested = {"operation": "T_TEST", "dataset": {"rows": constant}, "target": "a", "popmean": 3.0}
    job = await run(client, tested)
    assert job["state"] == "FAILED"
    assert "a t-test needs values that vary" in job["error"]
    summary = await run(client, {"operation": "SUMMARY", "dataset": {"rows": constant}})
    assert summary["state"] == "SUCCEEDED"


async def test_an_unknown_job_is_null_and_cannot_be_cancelled_or_followed(
    api: tuple[ServerThread, GraphQLClient],
) -> None:
    server, client = api
    assert (await client.data(ANALYSIS, {"id": "nope"}))["analysis"] is None
    error = await client.error(CANCEL, {"id": "nope"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(PROGRESS, {"id": "nope"})
        message = await ws.receive()
        assert message["type"] in {"error", "next"}
        assert "no analysis job nope" in json.dumps(message)
