"""What operation a request runs, as metrics and traces name it."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import FieldNode, get_operation_ast
from strawberry.types import ExecutionContext


@dataclass(frozen=True, slots=True)
class OperationInfo:
    kind: str  # query, mutation, subscription; "unparsed" or "unknown" when there is none
    root: str | None  # its first root field: one of a bounded set, unlike client-chosen names
    name: str | None  # the client's name for it


def describe(context: ExecutionContext) -> OperationInfo:
    if context.graphql_document is None:
        return OperationInfo("unparsed", None, context.operation_name)
    operation = get_operation_ast(context.graphql_document, context.operation_name)
    if operation is None:
        return OperationInfo("unknown", None, context.operation_name)
    roots = [s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)]
    name = context.operation_name or (operation.name.value if operation.name else None)
    return OperationInfo(operation.operation.value, roots[0] if roots else None, name)
