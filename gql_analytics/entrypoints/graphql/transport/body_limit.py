"""Request bodies past a size are refused (413) before they are read whole."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gql_analytics.entrypoints.graphql.errors import refusal_response
from gql_analytics.errors import PayloadTooLarge


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: an HTTP request whose body passes ``limit`` bytes gets 413 with a coded
    GraphQL error. A declared length is checked before anything is read; a chunked body is
    counted as it arrives and cut off at the limit."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than {self.limit:,} bytes"
        await refusal_response(PayloadTooLarge(message))(scope, receive, send)
