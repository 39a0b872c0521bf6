"""A flood from one key is slowed down; other keys are not."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.domain.keys import new_key
from gql_analytics.entrypoints.graphql.rate_limit import RateLimiter
from gql_analytics.errors import RateLimited
from gql_analytics.settings import Settings
from tests.support import DEADLINE, NOW, Clock, ServerThread


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=2, burst=3, clock=ticks)
    for _ in range(3):
        limiter.take("k")
    with pytest.raises(RateLimited) as limited:
        limiter.take("k")
    assert limited.value.retry_after == pytest.approx(0.5)
    limiter.take("other")  # buckets are per key
    ticks.now = 0.5
    limiter.take("k")
    ticks.now = 100.0  # a long pause refills no more than the burst
    for _ in range(3):
        limiter.take("k")
    with pytest.raises(RateLimited):
        limiter.take("k")


@pytest.fixture
def store() -> DuckDBStore:
    return DuckDBStore()


@pytest.fixture
def limited(store: DuckDBStore, clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(store_url="duckdb:///:memory:", rate_limit=0.01, rate_burst=5)
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        yield server


async def test_a_flood_past_the_rate_is_refused_with_a_retry_after(
    limited: ServerThread, store: DuckDBStore
) -> None:
    flooder, calm = new_key("acme", "read", NOW), new_key("acme", "read", NOW)
    for _, key in (flooder, calm):
        await store.save_key(key)
    async with httpx.AsyncClient(base_url=limited.base_url, timeout=DEADLINE) as http:

        async def ask(text: str) -> dict[str, Any]:
            headers = {"Authorization": f"Bearer {text}"}
            body: dict[str, Any] = (
                await http.post(
                    "/graphql", json={"query": "{ topEvents { name } }"}, headers=headers
                )
            ).json()
            return body

        answers = [await ask(flooder[0]) for _ in range(20)]
        assert all("data" in a and a["data"] is not None for a in answers[:5])
        refused = answers[5:]
        assert all(a["errors"][0]["extensions"]["code"] == "RATE_LIMITED" for a in refused)
        assert all(a["errors"][0]["extensions"]["retryAfter"] > 50 for a in refused)
        assert (await ask(calm[0]))["data"] == {"topEvents": []}
        assert (await http.get("/health")).status_code == 200
