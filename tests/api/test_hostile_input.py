"""Hostile requests get a coded client error: never a 500, an INTERNAL or a crashed socket."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, Socket, drain
from tests.support import DEADLINE, GraphQLClient, ServerThread, within

TOP = "{ topEvents { name } }"
COUNT = 'subscription { eventCount(name: "x", range: {last: "1h"}) { count } }'
DEEP = 5000  # past Python's recursion limit


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "body",
    [
        b"null",
        b'"x"',
        b"5",
        b"true",
        b'{"query": "{ topEvents { name } }"}\xff',
        b'{"query": "{ topEvents { name } }", "variables": {"a": ' + nested(DEEP).encode() + b"}}",
        b'{"query": "{ topEvents { name } }", "x": ' + nested(DEEP).encode() + b"}",
        nested(DEEP).encode(),
        b'{"query": "{ topEvents { name } }", "variables": {"a": ' + nested(100).encode() + b"}}",
    ],
    ids=[
        "null",
        "string",
        "number",
        "boolean",
        "invalid utf-8",
        "deep variables",
        "deep body",
        "deep array",
        "variables deeper than the limit",
    ],
)
async def test_a_body_that_is_not_a_json_object_is_a_coded_client_error(
    server: ServerThread, body: bytes
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.post(
            "/graphql", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST", error
        assert "Traceback" not in response.text
        assert (await http.get("/health")).status_code == 200


async def test_a_properties_filter_with_an_empty_key_is_bad_user_input(
    client: GraphQLClient,
) -> None:
    query = "query($p: JSON) { events(filter: {properties: $p}) { totalCount } }"
    error = await client.error(query, {"p": {"": 1}})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "filter.properties",
    )


def cursor(*parts: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        cursor("ev", "0001-01-01T00:00:00", "x"),
        cursor("ev", "0001-01-01T00:00:00+14:00", "x"),
        cursor("ev", "9999-12-31T23:59:59-14:00", "x"),
        cursor("jb", "0001-01-01T00:00:00+14:00", "x"),
        cursor("jb", "0001-01-01T00:00:00", "x"),
        base64.urlsafe_b64encode(nested(DEEP).encode()).decode(),
    ],
    ids=["year 1", "before year 1 in utc", "after year 9999 in utc", "job", "job naive", "deep"],
)
@pytest.mark.parametrize("field", ["events", "analyses"])
async def test_a_forged_cursor_is_bad_user_input(
    client: GraphQLClient, after: str, field: str
) -> None:
    error = await client.error(f'{{ {field}(after: "{after}") {{ pageInfo {{ hasNextPage }} }} }}')
    assert (error["extensions"]["code"], error["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "after",
    )


async def test_a_subscription_over_http_is_told_it_needs_a_websocket(
    client: GraphQLClient,
) -> None:
    error = await client.error('subscription { eventCount(name: "x") { count } }')
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"]


async def test_several_operations_without_an_operation_name_run_none(
    client: GraphQLClient,
) -> None:
    document = (
        "query Read { topEvents { name } } "
        'mutation Write { trackEvent(input: {name: "x"}) { accepted } }'
    )
    error = await client.error(document)
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "operationName" in error["message"]
    total = await client.data("{ dashboard { totalEvents } }")
    assert total["dashboard"]["totalEvents"] == 0  # the mutation did not run
    named = await client.http.post("/graphql", json={"query": document, "operationName": "Write"})
    assert named.json()["data"] == {"trackEvent": {"accepted": 1}}


@pytest.mark.parametrize(
    "payload", [None, "x", 5, [1], {"query": 5}, {"query": TOP, "variables": [1]}]
)
async def test_a_subscribe_frame_whose_payload_is_not_an_operation_closes_with_4400(
    server: ServerThread, payload: Any
) -> None:
    async with connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as connection:
        ws = Socket(connection, TRANSPORT_WS)
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await ws.receive())["type"] == "connection_ack"
        await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await drain(connection)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4400


@pytest.mark.parametrize("frame", [5, [1], "x", {"type": 5}])
@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)
async def test_a_frame_that_is_not_a_message_ends_only_that_socket(
    server: ServerThread, protocol: Subprotocol, frame: Any
) -> None:
    async with connect(server.ws_url, subprotocols=[protocol]) as connection:
        await connection.send(json.dumps(frame))
        with pytest.raises(ConnectionClosed):
            await drain(connection)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        assert (await http.post("/graphql", json={"query": TOP})).status_code == 200


@pytest.mark.parametrize("payload", [None, "x", 5, [1], {"query": 5}])
async def test_a_legacy_start_whose_payload_is_not_an_operation_gets_an_error(
    server: ServerThread, payload: Any
) -> None:
    async with connect(server.ws_url, subprotocols=[LEGACY_WS]) as connection:
        ws = Socket(connection, LEGACY_WS)
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await ws.receive())["type"] == "connection_ack"
        await connection.send(json.dumps({"id": "1", "type": "start", "payload": payload}))
        reply = await ws.receive()
        assert (reply["type"], reply["id"]) == ("error", "1"), reply
        await ws.subscribe(COUNT, id="2")  # the socket still works
        assert (await within(ws.next_data())) == {"eventCount": {"count": 0}}
