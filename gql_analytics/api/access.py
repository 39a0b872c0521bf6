"""Every operation is checked against its caller's role before anything runs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, OperationDefinitionNode, get_operation_ast
from strawberry.extensions import SchemaExtension

from gql_analytics.api.errors import refusal
from gql_analytics.api.rate_limit import RateLimited, RateLimiter
from gql_analytics.auth.access import may, role_needed
from gql_analytics.errors import Forbidden, GatewayError, Unauthenticated


class AccessControl(SchemaExtension):
    """UNAUTHENTICATED without a valid credential (when auth is on), FORBIDDEN when the
    credential's role may not run one of the operation's root fields, RATE_LIMITED past the
    key's rate."""

    def __init__(self, *, limiter: RateLimiter | None = None) -> None:
        self.limiter = limiter

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        problem: GatewayError | None = None
        if context.auth and document is not None:
            operation = get_operation_ast(document, self.execution_context.operation_name)
            problem = None if operation is None else self._problem(context, operation)
        taken = context.shared  # each subscriber of a shared stream took its own (``sharing``)
        if problem is None and self.limiter is not None and context.principal and not taken:
            try:
                self.limiter.take(context.principal.credential)
            except RateLimited as limited:
                problem = limited
        if problem is not None:
            self.execution_context.result = refusal(problem)
        yield

    @staticmethod
    def _problem(context: Any, operation: OperationDefinitionNode) -> GatewayError | None:
        principal = context.principal
        if principal is None:
            return context.auth_error or Unauthenticated(
                "send an API key: Authorization: Bearer <key>, or X-API-Key"
            )
        kind = operation.operation.value
        for selection in operation.selection_set.selections:
            name = selection.name.value if isinstance(selection, FieldNode) else ""
            if name.startswith("__"):
                continue
            needed = role_needed(kind, name)
            if not may(principal, needed):
                return Forbidden(f"{name}: needs the {needed} role; this key has {principal.role}")
        return None
