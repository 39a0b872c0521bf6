"""Every GraphQL example of the README's "Reading data" is answered by `make demo`'s data: each
runs against a served gateway the demo filled, without errors and with something to show."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from gql_analytics.commands.demo import send_demo
from tests.api.sockets import TRANSPORT_WS, socket
from tests.support import NOW, GraphQLClient, ServerThread

README = Path(__file__).parents[2] / "README.md"


def examples() -> list[str]:
    text = README.read_text()
    reading = text[text.index("## Reading data") : text.index("## Analysis")]
    return re.findall(r"```graphql\n(.*?)```", reading, re.S)


def filled(value: Any) -> bool:
    """Whether an answer holds something: somewhere in it a count or a value that is not zero."""
    if isinstance(value, dict):
        return any(filled(v) for v in value.values())
    if isinstance(value, list):
        return any(filled(v) for v in value)
    if isinstance(value, bool):
        return True
    return bool(value)  # a number that is not zero, a string that is not empty


def test_the_readme_has_an_example_of_each_capability() -> None:
    found = " ".join(examples())
    for capability in ("aggregate(", "declareDimensions(", "live {", "funnel(", "retention("):
        assert capability in found, capability


@pytest.mark.parametrize("example", examples(), ids=lambda e: " ".join(e.split())[:50])
async def test_a_readme_example_is_answered_by_the_demo_data(
    server: ServerThread, client: GraphQLClient, example: str
) -> None:
    url = server.base_url + "/graphql"
    assert await asyncio.to_thread(send_demo, url, users=20, days=7, seed=3, now=NOW) == 0
    if example.lstrip().startswith("subscription"):
        async with socket(server, TRANSPORT_WS) as ws:
            await ws.subscribe(example)
            data = await ws.next_data()
    else:
        data = await client.data(example)
    assert all(filled(answer) for answer in data.values()), data
