"""Review: client input that should be a coded error, never INTERNAL."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_queries import RANGE
from tests.support import GraphQLClient, ServerThread

ASK = """query($r: TimeRange, $where: Condition) {
  aggregate(of: EVENTS, range: $r, where: $where, measures: [{op: COUNT}]) { groups { values } }
}"""


@pytest.mark.parametrize(
    "where",
    [
        {"match": {"by": "PROPERTY", "key": "n", "eq": 10**400}},
        {"match": {"by": "PROPERTY", "key": "n", "in": [10**400]}},
    ],
    ids=["eq a huge integer", "in a huge integer"],
)
async def test_a_huge_integer_is_refused_with_a_code(
    client: GraphQLClient, where: dict[str, Any]
) -> None:
    body = await client.post(ASK, {"r": RANGE, "where": where})
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes == ["BAD_USER_INPUT"], body


LIVE_AGGREGATE = """subscription { live { aggregate(of: EVENTS, names: ["purchase"],
    range: {last: "1h"}, measures: [{op: COUNT}]) { groups { values } } } }"""


async def test_a_live_querys_plans_do_not_pile_up(
    server: ServerThread, client: GraphQLClient
) -> None:
    from tests.api.sockets import TRANSPORT_WS, socket

    track = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(LIVE_AGGREGATE)
        messages = [await ws.receive()]
        for _ in range(3):
            await client.data(track, {"inputs": [{"name": "purchase", "userId": "u1"}]})
            messages.append(await ws.receive())
    plans = [m["payload"].get("extensions", {}).get("plan", []) for m in messages]
    assert [len(p) for p in plans] == [1, 1, 1, 1], plans
