"""A broker that dies or freezes under a running gateway: /ready says so, mutations fail fast."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.kafka.broker import KAFKA_DEADLINE, create_topics
from tests.kafka.conftest import OwnBroker
from tests.support import DEADLINE, GraphQLClient, ServerThread, eventually

KAFKA_TIMEOUT = 2.0
TRACK = 'mutation { trackEvent(input: {name: "x"}) { accepted } }'


@pytest.fixture
async def outage_settings(own_broker: OwnBroker) -> Settings:
    await create_topics(own_broker.address, ["outage"])
    return Settings(
        auth=False,
        kafka_bootstrap_servers=own_broker.address,
        kafka_topics=("outage",),
        kafka_group_id="outage",
        kafka_live_topic="outage.live",
        kafka_timeout=KAFKA_TIMEOUT,
        ready_timeout=1.0,
    )


@pytest.fixture
def outage_server(outage_settings: Settings) -> Iterator[ServerThread]:
    app = create_app(outage_settings, store=DuckDBStore(), clock=utc_now)
    with ServerThread(app) as server:
        yield server


@pytest.fixture
async def http(outage_server: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=outage_server.base_url, timeout=DEADLINE) as client:

        async def ready() -> bool:
            return (await client.get("/ready")).status_code == 200

        await eventually(ready, "the gateway never became ready", deadline=KAFKA_DEADLINE)
        yield client


async def _broker_reported_unreachable(http: httpx.AsyncClient) -> bool:
    response = await http.get("/ready")
    return response.status_code == 503 and "not reachable" in response.json()["kafka"]


async def _fails_fast_with_broker_unavailable(http: httpx.AsyncClient) -> None:
    started = time.monotonic()
    error = await GraphQLClient(http).error(TRACK)
    assert error["extensions"]["code"] == "BROKER_UNAVAILABLE"
    # Well under aiokafka's own 40 s, with room for a loaded machine.
    assert time.monotonic() - started < KAFKA_TIMEOUT + 10.0


async def test_a_killed_broker_makes_the_gateway_unready_and_mutations_fail_fast(
    own_broker: OwnBroker, http: httpx.AsyncClient
) -> None:
    own_broker.kill()

    async def unready() -> bool:
        return await _broker_reported_unreachable(http)

    await eventually(unready, "/ready stayed 200 with the broker dead")
    await _fails_fast_with_broker_unavailable(http)
    assert (await http.get("/ready")).json()["store"] == "ok"


async def test_a_frozen_broker_makes_the_gateway_unready_and_mutations_fail_fast(
    own_broker: OwnBroker, http: httpx.AsyncClient
) -> None:
    own_broker.freeze()
    try:

        async def unready() -> bool:
            return await _broker_reported_unreachable(http)

        await eventually(unready, "/ready stayed 200 with the broker frozen")
        await _fails_fast_with_broker_unavailable(http)
    finally:
        own_broker.thaw()

    async def ready_again() -> bool:
        return (await http.get("/ready")).status_code == 200

    await eventually(ready_again, "/ready did not recover with the broker", KAFKA_DEADLINE)
    accepted = await GraphQLClient(http).data(TRACK)
    assert accepted["trackEvent"] == {"accepted": 1}
