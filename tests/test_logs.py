"""Log lines: JSON objects for machines, with the request id and tenant of the request being
served; plain text on a terminal."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.observability import logs
from gql_analytics.ports import EventQuery
from gql_analytics.settings import Settings
from tests.support import DEADLINE, NOW, ServerThread


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_lines_are_json_objects_off_a_terminal(root_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("info", stream)
    ids = logs.request_id.set("req-1"), logs.tenant.set("acme")
    try:
        logging.getLogger("gql_analytics.test").warning("disk %s", "full")
    finally:
        logs.request_id.reset(ids[0])
        logs.tenant.reset(ids[1])
    line = json.loads(stream.getvalue())
    assert line["level"] == "warning"
    assert line["message"] == "disk full"
    assert line["logger"] == "gql_analytics.test"
    assert (line["request_id"], line["tenant"]) == ("req-1", "acme")
    assert "time" in line


def test_lines_are_plain_text_on_a_terminal(root_logging: None) -> None:
    stream = Terminal()
    logs.configure("info", stream)
    logging.getLogger("gql_analytics.test").info("hello")
    assert stream.getvalue().rstrip().endswith("INFO gql_analytics.test hello")


class BrokenStore(DuckDBStore):
    async def count_events(self, query: EventQuery) -> int:
        raise RuntimeError("boom")


async def test_a_request_logs_with_its_id_and_tenant(root_logging: None) -> None:
    stream = io.StringIO()
    logs.configure("info", stream)
    app = create_app(Settings(auth=False), store=BrokenStore(), clock=lambda: NOW)
    with ServerThread(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            response = await http.post(
                "/graphql",
                json={"query": "{ events { totalCount } }"},
                headers={"X-Request-ID": "trace-me-42"},
            )
            fresh = await http.get("/health")
    assert response.headers["x-request-id"] == "trace-me-42"
    assert len(fresh.headers["x-request-id"]) == 32  # one of ours when none was sent
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(line for line in lines if line["message"].startswith("unexpected error"))
    assert failure["level"] == "error"
    assert failure["request_id"] == "trace-me-42"
    assert failure["tenant"] == "default"
    assert len(failure["trace_id"]) == 32  # the request's trace
    assert "boom" in failure["exception"]
