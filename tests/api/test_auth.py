"""API keys on a live server: who may do what, and no tenant sees another's data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.secured import Keys, call, code
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, Socket, drain
from tests.support import Clock, ServerThread, within

TRACK = 'mutation { trackEvent(input: {name: "signup", userId: "u1"}) { accepted } }'
TOP = "{ topEvents { name count } }"


async def test_without_a_valid_key_nothing_is_answered(http: httpx.AsyncClient, keys: Keys) -> None:
    assert code(await call(http, TOP, None)) == "UNAUTHENTICATED"
    assert code(await call(http, TOP, "not-a-key")) == "UNAUTHENTICATED"
    assert code(await call(http, TOP, "gqa_0123456789abcdef_guess")) == "UNAUTHENTICATED"
    revoked = await keys.make("acme", "admin")
    await keys.revoke(revoked)
    body = await call(http, TRACK, revoked)
    assert (code(body), body["errors"][0]["message"]) == (
        "UNAUTHENTICATED",
        "the API key was revoked",
    )
    assert (await http.get("/health")).status_code == 200  # liveness needs no key


@pytest.mark.parametrize("header", ["bearer", "x-api-key"])
async def test_each_role_does_what_it_may_and_nothing_else(
    http: httpx.AsyncClient, keys: Keys, header: str
) -> None:
    ingest, read, admin = [await keys.make("acme", role) for role in ("ingest", "read", "admin")]
    run = (
        "mutation { runAnalysis(input: {operation: SUMMARY, dataset: {rows: [{a: 1}]}}) { state } }"
    )
    expected: dict[str, dict[str, str | None]] = {
        ingest: {TRACK: None, TOP: "FORBIDDEN", run: "FORBIDDEN"},
        read: {TRACK: "FORBIDDEN", TOP: None, run: "FORBIDDEN"},
        admin: {TRACK: None, TOP: None, run: None},
    }
    for key, outcomes in expected.items():
        for query, outcome in outcomes.items():
            assert code(await call(http, query, key, header)) == outcome, (key[:10], query)
    body = await call(http, TOP, read, header)
    assert body["data"]["topEvents"] == [{"name": "signup", "count": 2}]  # ingest's and admin's


async def test_a_tenant_sees_and_touches_only_its_own_data(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    acme, globex = await keys.make("acme", "admin"), await keys.make("globex", "admin")
    tracked = await call(
        http, 'mutation { trackEvent(input: {name: "secret", id: "e1"}) { ids } }', acme
    )
    assert tracked["data"]["trackEvent"]["ids"] == ["e1"]
    for mutation in (
        'mutation { trackEvents(inputs: [{name: "task_created", userId: "u1", '
        'occurredAt: "2026-11-20T11:59:00Z", properties: {task_id: "t1"}}]) { accepted } }',
        'mutation { recordMetric(input: {name: "latency", value: 12.5}) { accepted } }',
    ):
        assert code(await call(http, mutation, acme)) is None
    job = await call(
        http,
        "mutation { runAnalysis(wait: true, input: {operation: SUMMARY, "
        "dataset: {rows: [{a: 1}]}}) { id } }",
        acme,
    )
    job_id = job["data"]["runAnalysis"]["id"]
    reads = {
        TOP: {"topEvents": []},
        '{ eventCounts(names: ["secret"]) { total } }': {"eventCounts": [{"total": 0}]},
        '{ event(id: "e1") { id } }': {"event": None},
        "{ events { totalCount } }": {"events": {"totalCount": 0}},
        "{ dashboard { totalEvents eventNames } }": {
            "dashboard": {"totalEvents": 0, "eventNames": []}
        },
        f'{{ analysis(id: "{job_id}") {{ id }} }}': {"analysis": None},
        "{ analyses { edges { node { id } } } }": {"analyses": {"edges": []}},
        '{ metric(name: "latency") { count } }': {"metric": {"count": 0}},
        "{ metrics { name } }": {"metrics": []},
        "{ activeUsers { total } }": {"activeUsers": {"total": 0}},
        "{ tasksPerUser { totalCount } }": {"tasksPerUser": {"totalCount": 0}},
        "{ taskStats { created } }": {"taskStats": {"created": 0}},
    }
    theirs = {
        '{ metric(name: "latency") { count } }': {"metric": {"count": 1}},
        "{ activeUsers { total } }": {"activeUsers": {"total": 1}},
        "{ taskStats { created } }": {"taskStats": {"created": 1}},
    }
    for query, something in theirs.items():  # the data is there, for its own tenant
        assert (await call(http, query, acme))["data"] == something, query
    page = await call(http, "{ events(first: 1) { pageInfo { endCursor } } }", acme)
    cursor = page["data"]["events"]["pageInfo"]["endCursor"]
    after = f'{{ events(first: 5, after: "{cursor}") {{ edges {{ node {{ id }} }} }} }}'
    assert (await call(http, after, globex))["data"] == {"events": {"edges": []}}
    for query, nothing in reads.items():
        assert (await call(http, query, globex))["data"] == nothing, query
    cancel = await call(http, f'mutation {{ cancelAnalysis(id: "{job_id}") {{ id }} }}', globex)
    assert code(cancel) == "BAD_USER_INPUT"  # no such job, as far as globex can tell
    mine = await call(http, '{ event(id: "e1") { id name } }', acme)
    assert mine["data"]["event"] == {"id": "e1", "name": "secret"}


async def open_socket(server: ServerThread, protocol: Subprotocol, payload: dict[str, Any]) -> Any:
    connection = await connect(server.ws_url, subprotocols=[protocol])
    await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
    return connection


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)
async def test_sockets_authenticate_in_connection_init(
    secured: ServerThread, http: httpx.AsyncClient, keys: Keys, protocol: Subprotocol
) -> None:
    acme, globex = await keys.make("acme", "read"), await keys.make("globex", "admin")
    connection = await open_socket(secured, protocol, {"Authorization": f"Bearer {acme}"})
    ws = Socket(connection, protocol)
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.subscribe('subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }')
    assert (await ws.next_data())["eventCount"]["count"] == 0
    await call(http, TRACK, globex)  # another tenant's event: acme's count does not move
    await call(http, TRACK, await keys.make("acme", "ingest"))
    assert (await ws.next_data())["eventCount"]["count"] == 1
    await connection.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)
@pytest.mark.parametrize("payload", [{}, {"X-API-Key": "gqa_0_wrong"}], ids=["no key", "bad key"])
async def test_a_socket_without_a_valid_key_is_refused(
    secured: ServerThread, protocol: Subprotocol, payload: dict[str, Any]
) -> None:
    connection = await open_socket(secured, protocol, payload)
    with pytest.raises(ConnectionClosed):
        await until_closed(connection)


async def until_closed(connection: Any) -> None:
    """Read until the server closes the socket; nothing but a refusal may come first."""
    while True:
        message = json.loads(await within(connection.recv()))
        assert message["type"] in {"connection_error", "ka"}, message


async def test_the_legacy_protocol_cannot_skip_connection_init(secured: ServerThread) -> None:
    """CVE-2026-35523: graphql-ws once ran a `start` sent before `connection_init`."""
    async with connect(secured.ws_url, subprotocols=[LEGACY_WS]) as connection:
        start = {"type": "start", "id": "1", "payload": {"query": TOP}}
        await connection.send(json.dumps(start))
        try:
            reply = json.loads(await within(connection.recv()))
        except ConnectionClosed:
            return
        assert reply["type"] == "error" or "UNAUTHENTICATED" in json.dumps(reply), reply


def test_no_auth_is_refused_off_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        create_app(Settings(auth=False, host="0.0.0.0"), store=DuckDBStore())


async def test_an_ingest_key_cannot_open_a_socket(secured: ServerThread, keys: Keys) -> None:
    ingest = await keys.make("acme", "ingest")
    connection = await open_socket(secured, TRANSPORT_WS, {"X-API-Key": ingest})
    with pytest.raises(ConnectionClosed):
        await until_closed(connection)


CREATE = """
mutation($role: String!) {
  createApiKey(role: $role, name: "ci") { key apiKey { id tenant role name createdAt revokedAt } }
}"""


async def test_an_admin_creates_and_revokes_keys_of_its_own_tenant(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    admin = await keys.make("acme", "admin")
    created = (
        await http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"role": "read"}},
            headers={"Authorization": f"Bearer {admin}"},
        )
    ).json()["data"]["createApiKey"]
    assert created["apiKey"]["tenant"] == "acme"
    assert created["apiKey"]["role"] == "read"
    fresh = created["key"]
    assert (await call(http, TOP, fresh))["data"] == {"topEvents": []}
    listed = await call(http, "{ apiKeys { id role revokedAt } }", admin)
    assert {k["id"] for k in listed["data"]["apiKeys"]} == {
        admin.split("_")[1],
        fresh.split("_")[1],
    }
    revoke = f'mutation {{ revokeApiKey(id: "{created["apiKey"]["id"]}") {{ revokedAt }} }}'
    assert (await call(http, revoke, admin))["data"]["revokeApiKey"]["revokedAt"] is not None
    assert code(await call(http, TOP, fresh)) == "UNAUTHENTICATED"
    globex = await keys.make("globex", "admin")
    foreign = f'mutation {{ revokeApiKey(id: "{admin.split("_")[1]}") {{ id }} }}'
    assert code(await call(http, foreign, globex)) == "BAD_USER_INPUT"  # not a key it can see
    assert code(await call(http, "{ apiKeys { id } }", fresh)) == "UNAUTHENTICATED"
    reader = await keys.make("acme", "read")
    assert code(await call(http, "{ apiKeys { id } }", reader)) == "FORBIDDEN"
    bad_role = (
        await http.post(
            "/graphql",
            json={"query": CREATE, "variables": {"role": "root"}},
            headers={"Authorization": f"Bearer {admin}"},
        )
    ).json()
    assert code(bad_role) == "BAD_USER_INPUT"


@pytest.fixture
def watchful(store: DuckDBStore, clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(store_url="duckdb:///:memory:", credential_recheck=0.05)
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        yield server


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)
async def test_a_socket_is_closed_once_its_key_is_revoked(
    watchful: ServerThread, keys: Keys, protocol: Subprotocol
) -> None:
    key = await keys.make("acme", "read")
    connection = await open_socket(watchful, protocol, {"X-API-Key": key})
    ws = Socket(connection, protocol)
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.subscribe('subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }')
    assert (await ws.next_data())["eventCount"]["count"] == 0
    await keys.revoke(key)
    with pytest.raises(ConnectionClosed) as closed:
        await drain(connection)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_live_streams_carry_only_the_subscribers_tenant(
    secured: ServerThread, http: httpx.AsyncClient, keys: Keys
) -> None:
    acme, globex = await keys.make("acme", "admin"), await keys.make("globex", "admin")
    connection = await open_socket(secured, TRANSPORT_WS, {"X-API-Key": globex})
    ws = Socket(connection, TRANSPORT_WS)
    assert (await ws.receive())["type"] == "connection_ack"
    await ws.subscribe("subscription { eventStream { id name } }", id="events")
    await ws.subscribe(
        'subscription { metricUpdates(name: "latency", range: {last: "1h"}) { count } }',
        id="metric",
    )
    assert (await ws.next_data())["metricUpdates"]["count"] == 0
    for key, suffix in ((acme, "acme"), (globex, "globex")):  # acme's first: never seen
        await call(
            http, f'mutation {{ trackEvent(input: {{name: "n", id: "{suffix}"}}) {{ ids }} }}', key
        )
        await call(
            http, 'mutation { recordMetric(input: {name: "latency", value: 1}) { ids } }', key
        )
    seen = [await ws.next_data() for _ in range(2)]
    assert {"eventStream": {"id": "globex", "name": "n"}} in seen
    assert {"metricUpdates": {"count": 1}} in seen
    await connection.close()


def test_no_auth_on_loopback_serves_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    create_app(Settings(auth=False, host="127.0.0.1"), store=DuckDBStore())
    assert any(
        record.levelname == "WARNING" and "authentication is off" in record.getMessage()
        for record in caplog.records
    )


async def test_a_cached_answer_is_never_given_to_another_tenant(
    http: httpx.AsyncClient, keys: Keys
) -> None:
    a, b = await keys.make("acme", "admin"), await keys.make("globex", "admin")
    assert code(await call(http, TRACK, a)) is None
    first, again = await call(http, TOP, a), await call(http, TOP, a)
    assert (first["extensions"]["cache"], again["extensions"]["cache"]) == ("miss", "hit")
    other = await call(http, TOP, b)
    assert other["extensions"]["cache"] == "miss"
    assert other["data"] != first["data"]
