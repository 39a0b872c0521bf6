"""The second line behind ``extensions.access.AccessControl``: each privileged resolver checks
its caller's role again on its own."""

from __future__ import annotations

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.extensions.access import forbidden
from gql_analytics.errors import Unauthenticated


def require_role(info: Info) -> None:
    """Refuses a privileged field to a caller whose role may not run it (FORBIDDEN), whatever
    let the operation through: the second line behind ``AccessControl``."""
    context = info.context
    if not context.auth:
        return
    if context.principal is None:
        raise context.auth_error or Unauthenticated("send an API key")
    problem = forbidden(context.principal, info.operation.operation.value, info.field_name)
    if problem is not None:
        raise problem
