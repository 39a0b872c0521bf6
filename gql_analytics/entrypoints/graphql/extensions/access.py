"""Every operation is checked against its caller's role before anything runs, on the root fields
that will run (through fragments, inline fragments and ``@skip``/``@include`` alike); each
privileged resolver checks again on its own (``require_role``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from gql_analytics.entrypoints.graphql.errors import refusal
from gql_analytics.errors import Forbidden, GatewayError, RateLimited, Unauthenticated
from gql_analytics.services.auth.access import Principal, may, role_needed


class AccessControl(SchemaExtension):
    """UNAUTHENTICATED without a valid credential (when auth is on), FORBIDDEN when the
    credential's role may not run one of the operation's root fields, RATE_LIMITED past the
    key's rate (a token taken as the context's admission says)."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        problem: GatewayError | None = None
        if execution.result is not None:  # refused already
            yield
            return
        if context.auth and document is not None:
            operation = get_operation_ast(document, execution.operation_name)
            if operation is not None:
                fields = root_fields(document, operation, execution.variables or {})
                problem = _problem(context.principal, context.auth_error, operation, fields)
        if problem is None and context.principal is not None:
            try:
                context.admission.take_token(context.principal)
            except RateLimited as limited:
                problem = limited
        if problem is not None:
            execution.result = refusal(problem)
        yield


def _problem(
    principal: Principal | None,
    auth_error: GatewayError | None,
    operation: OperationDefinitionNode,
    fields: set[str],
) -> GatewayError | None:
    if principal is None:
        return auth_error or Unauthenticated(
            "send an API key: Authorization: Bearer <key>, or X-API-Key"
        )
    kind = operation.operation.value
    for name in sorted(fields):
        if name.startswith("__"):
            continue
        problem = forbidden(principal, kind, name)
        if problem is not None:
            return problem
    return None


def forbidden(principal: Principal, kind: str, field: str) -> Forbidden | None:
    needed = role_needed(kind, field)
    if may(principal, needed):
        return None
    return Forbidden(f"{field}: needs the {needed} role; this key has {principal.role}")


def root_fields(
    document: DocumentNode, operation: OperationDefinitionNode, variables: Mapping[str, Any]
) -> set[str]:
    """The names of the root fields an operation runs: fragments spread, ``@skip`` and
    ``@include`` decided by their literals or variables (a condition that cannot be read counts
    the field in, so that doubt never lets a field pass unchecked)."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    defaults = {
        definition.variable.name.value: definition.default_value
        for definition in operation.variable_definitions or ()
    }
    names: set[str] = set()

    def included(selection: SelectionNode) -> bool:
        for directive in selection.directives or ():
            wanted = {"include": True, "skip": False}.get(directive.name.value)
            if wanted is None:
                continue
            arguments = directive.arguments or ()
            condition = next((a.value for a in arguments if a.name.value == "if"), None)
            value: object = None
            if isinstance(condition, BooleanValueNode):
                value = condition.value
            elif isinstance(condition, VariableNode):
                name = condition.name.value
                default = defaults.get(name)
                fallback = default.value if isinstance(default, BooleanValueNode) else None
                value = variables.get(name, fallback)
            if value is (not wanted):
                return False
        return True

    def walk(selection_set: SelectionSetNode, spread: frozenset[str]) -> None:
        for selection in selection_set.selections:
            if not included(selection):
                continue
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                walk(selection.selection_set, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in spread:
                    walk(fragment.selection_set, spread | {name})

    walk(operation.selection_set, frozenset())
    return names
