"""A WebSocket's messages of shared streams, each encoded once and framed per subscriber."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gql_analytics.observability.metrics import Metrics

Result = ExecutionResult | PreExecutionError
SEND_TURN = 64
"""Messages a socket's writer sends in one turn of the event loop."""
BACKLOG = 10_000
"""Stream messages that may wait for one socket before it is closed as too slow."""


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Encoded:
    """A successful result of a shared stream, with the JSON of the payload it is sent in (its
    data and the operation's extensions), encoded once for every subscriber it is sent to."""

    result: ExecutionResult
    json: str

    @classmethod
    def of(cls, result: ExecutionResult) -> Encoded:
        data: dict[str, Any] | None = result.data
        extensions = result.extensions
        payload = {"data": data, "extensions": extensions} if extensions else {"data": data}
        return cls(result, _compact(payload))


Shared = Encoded | Result
"""What a shared stream yields: a result encoded once, or one (an error) each subscriber's own
operation sends."""


class LiveSocket:
    """A WebSocket's side of the shared streams: which of its operations is running in the
    current task (``operation_id``, from the protocol handler's own registry of operations), and
    the messages of its shared subscriptions, sent by one task (``run``), in the order they came: of a latest-value subscription the latest result when its turn comes, of a
    stream (``every``) each result. At most ``SEND_TURN`` messages leave in one turn of the event
    loop, so that a burst to many sockets shares the loop with every other request. A socket
    with more than ``backlog`` stream messages waiting is too slow to follow its streams: it is
    closed (1013, try again later) rather than held in memory for ever."""

    def __init__(
        self,
        send_text: Callable[[str], Awaitable[None]],
        kind: str,
        metrics: Metrics,
        *,
        close: Callable[[int, str], Awaitable[None]] | None = None,
        backlog: int = BACKLOG,
        operation_id: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.operation_id = operation_id
        self._send_text = send_text
        self._close = close
        self._metrics = metrics
        self._backlog = backlog
        # Each waiting message: its subscription's head, and its payload (None: the latest).
        self._queue: deque[tuple[str, Encoded | None]] = deque()
        self._latest: dict[str, Encoded] = {}
        self._heads: dict[str, str] = {}  # each subscription's message up to its payload
        self.kind = kind  # "next", or the legacy protocol's "data"
        self._kind = _compact(kind)
        self._ready = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None

    def take(self, id: str, value: Shared, *, every: bool = False) -> bool:
        """Queues a result whose payload was encoded once (True); leaves any other to the
        subscription's own operation, forgetting the latest value queued before it (False)."""
        if not isinstance(value, Encoded):
            self._latest.pop(id, None)
            return False
        head = self._heads.get(id)
        if head is None:
            head = self._heads[id] = f'{{"id":{_compact(id)},"type":{self._kind},"payload":'
        if every:
            if len(self._queue) < self._backlog:
                self._queue.append((head, value))
            elif self._closing is None and self._close is not None:  # its send may never end
                self._closing = asyncio.ensure_future(
                    self._close(1013, "too slow to follow its event streams")
                )
        elif self._latest.setdefault(id, value) is value:  # not queued yet: queued now
            self._queue.append((id, None))
        else:
            self._latest[id] = value
        self._ready.set()
        return True

    def forget(self, id: str) -> None:
        self._latest.pop(id, None)
        head = self._heads.pop(id, None)
        if head is not None:
            self._queue = deque(item for item in self._queue if item[0] != head)

    async def run(self) -> None:
        """Sends until the socket is gone."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                await self._send_waiting()
            except Exception:  # the socket closed: its handler ends the subscriptions
                return

    async def _send_waiting(self) -> None:
        sent = 0
        try:
            while self._queue:
                key, data = self._queue.popleft()
                if data is None:  # a latest-value subscription's turn
                    latest = self._latest.pop(key, None)
                    if latest is None:  # forgotten meanwhile
                        continue
                    key, data = self._heads[key], latest
                await self._send_text(key + data.json + "}")
                sent += 1
                if sent % SEND_TURN == 0:
                    await asyncio.sleep(0)  # a turn for everyone else
        finally:
            self._metrics.pushed.inc(sent)
