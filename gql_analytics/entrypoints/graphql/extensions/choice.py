"""Which operation a request runs, and whether its transport can carry it.

A document of several operations names the one to run in ``operationName`` (the GraphQL spec's
GetOperation: otherwise it is a request error, never "the first one"); a subscription needs a
transport that streams, which over this gateway is a WebSocket.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import OperationDefinitionNode, OperationType, get_operation_ast
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from gql_analytics.entrypoints.graphql.errors import refusal
from gql_analytics.errors import BadRequest


class OperationChoice(SchemaExtension):
    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        # What the client sent: ``operation_name`` falls back to the first operation's name.
        document, name = execution.graphql_document, execution._provided_operation_name
        if document is not None and execution.result is None:
            operation = get_operation_ast(document, name)
            problem = _problem(operation, name, execution.context.request)
            if problem is not None:
                execution.result = refusal(problem)
        yield


def _problem(
    operation: OperationDefinitionNode | None, name: str | None, request: object
) -> BadRequest | None:
    if operation is None:
        if name is None:
            return BadRequest("the document holds several operations: name one in operationName")
        return BadRequest(f"operationName: the document has no operation named {name!r}")
    if operation.operation is OperationType.SUBSCRIPTION and not isinstance(request, WebSocket):
        return BadRequest(
            "subscriptions need a WebSocket: graphql-transport-ws or graphql-ws at /graphql"
        )
    return None
