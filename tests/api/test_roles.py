"""Roles are decided on the fields that will run, however a document reaches them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from gql_analytics.entrypoints.graphql.extensions.access import AccessControl
from gql_analytics.services.auth.access import Principal, may, role_needed
from tests.api.secured import Keys, call, code
from tests.api.sockets import TRANSPORT_WS, Socket
from tests.support import ServerThread

# Each privileged root field: its operation, the field with its arguments, its selection.
PRIVILEGED = {
    "apiKeys": ("query", "apiKeys", "{ id role name }"),
    "ingestStatus": ("query", "ingestStatus", "{ applied }"),
    "trackEvent": ("mutation", 'trackEvent(input: {name: "signup"})', "{ accepted }"),
    "runAnalysis": (
        "mutation",
        "runAnalysis(input: {operation: SUMMARY, dataset: {rows: [{a: 1}]}})",
        "{ state }",
    ),
    "cancelAnalysis": ("mutation", 'cancelAnalysis(id: "no-such-job")', "{ state }"),
    "createApiKey": ("mutation", 'createApiKey(role: "read")', "{ key }"),
    "revokeApiKey": ("mutation", 'revokeApiKey(id: "no-such-key")', "{ id }"),
}


def ways(kind: str, field: str, selection: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every way a document can reach a root field, with the variables it needs."""
    root = kind.capitalize()
    plain = f"{field} {selection}"
    return {
        "field": (f"{kind} {{ {plain} }}", {}),
        "alias": (f"{kind} {{ other: {plain} }}", {}),
        "inline fragment": (f"{kind} {{ ... on {root} {{ {plain} }} }}", {}),
        "untyped inline fragment": (f"{kind} {{ ... {{ {plain} }} }}", {}),
        "fragment": (f"{kind} {{ ...F }} fragment F on {root} {{ {plain} }}", {}),
        "nested fragments": (
            f"{kind} {{ ... {{ ...F }} }} fragment F on {root} {{ ...G }} "
            f"fragment G on {root} {{ {plain} }}",
            {},
        ),
        "include literal": (f"{kind} {{ {field} @include(if: true) {selection} }}", {}),
        "include variable": (
            f"{kind}($on: Boolean!) {{ ... @include(if: $on) {{ {plain} }} }}",
            {"on": True},
        ),
        "skip default": (
            f"{kind}($off: Boolean = false) {{ ...F @skip(if: $off) }} "
            f"fragment F on {root} {{ {plain} }}",
            {},
        ),
    }


def cases() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for field, (kind, head, selection) in PRIVILEGED.items():
        for way, (document, variables) in ways(kind, head, selection).items():
            yield field, way, document, variables


def forbidden(role: str, field: str) -> bool:
    kind = PRIVILEGED[field][0]
    return not may(Principal("acme", role, "k"), role_needed(kind, field))


@pytest.mark.parametrize("role", ["ingest", "read", "admin"])
async def test_every_privileged_field_is_refused_to_a_role_that_may_not_run_it_over_http(
    http: httpx.AsyncClient,
    keys: Keys,
    role: str,
) -> None:
    key = await keys.make("acme", role)
    headers = {"Authorization": f"Bearer {key}"}
    for field, way, document, variables in cases():
        response = await http.post(
            "/graphql", json={"query": document, "variables": variables}, headers=headers
        )
        outcome = code(response.json())
        if forbidden(role, field):
            assert outcome == "FORBIDDEN", (role, field, way, response.text)
        else:
            assert outcome != "FORBIDDEN", (role, field, way, response.text)


@pytest.mark.parametrize("role", ["read", "admin"])  # an ingest key cannot open a socket
async def test_every_privileged_field_is_refused_to_a_role_that_may_not_run_it_over_a_socket(
    secured: ServerThread,
    keys: Keys,
    role: str,
) -> None:
    key = await keys.make("acme", role)
    async with connect(secured.ws_url, subprotocols=[TRANSPORT_WS]) as connection:
        ws = Socket(connection, TRANSPORT_WS)
        init = {"type": "connection_init", "payload": {"X-API-Key": key}}
        await connection.send(json.dumps(init))
        assert (await ws.receive())["type"] == "connection_ack"
        for number, (field, way, document, variables) in enumerate(cases()):
            await ws.subscribe(document, variables, id=str(number))
            message = await ws.receive()
            while message["type"] == "complete":  # the end of the one before
                message = await ws.receive()
            errors = message["payload"] if message["type"] == "error" else None
            errors = errors or message["payload"].get("errors") or []
            outcome = errors[0]["extensions"]["code"] if errors else None
            if forbidden(role, field):
                assert outcome == "FORBIDDEN", (role, field, way, message)
            else:
                assert outcome != "FORBIDDEN", (role, field, way, message)


async def test_a_field_skipped_for_certain_does_not_count_against_the_role(
    http: httpx.AsyncClient,
    keys: Keys,
) -> None:
    read = await keys.make("acme", "read")
    skipped = "query($no: Boolean!) { topEvents { name } apiKeys @include(if: $no) { id } }"
    body = (
        await http.post(
            "/graphql",
            json={"query": skipped, "variables": {"no": False}},
            headers={"Authorization": f"Bearer {read}"},
        )
    ).json()
    assert (body["data"], body.get("errors")) == ({"topEvents": []}, None)
    asked = await http.post(
        "/graphql",
        json={"query": skipped, "variables": {"no": True}},
        headers={"Authorization": f"Bearer {read}"},
    )
    assert code(asked.json()) == "FORBIDDEN"


async def test_each_privileged_resolver_refuses_on_its_own(
    http: httpx.AsyncClient,
    keys: Keys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def let_everything_through(self: AccessControl) -> Iterator[None]:
        yield

    monkeypatch.setattr(AccessControl, "on_execute", let_everything_through)
    read = await keys.make("acme", "read")
    for field, (kind, head, selection) in PRIVILEGED.items():
        body = await call(http, f"{kind} {{ {head} {selection} }}", read)
        assert code(body) == "FORBIDDEN", (field, body)
        assert not (body.get("data") or {}).get(field), (field, body)
