"""What a document costs before it runs: every field selected costs 1, times the ``first`` or
``limit`` of each field it sits in (given as a literal or a variable, else the argument's
default). A document past the limit is refused before any resolver runs; every answer reports
its cost in ``extensions.cost``. The estimate is the one GitHub's and Shopify's APIs publish in
spirit: list sizes times nesting, fragments counted where they are spread."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)
from strawberry.extensions import SchemaExtension

from gql_analytics.api.errors import refusal
from gql_analytics.errors import GatewayError

SIZE_ARGUMENTS = ("first", "limit")


class CostLimitExceeded(GatewayError):
    code = "COST_LIMIT_EXCEEDED"


def document_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {})
    return walk.cost(operation.selection_set, root, 1) if root is not None else 0


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def cost(self, selections: SelectionSetNode, parent: GraphQLNamedType, times: int) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += times
                definition = _field(parent, selection.name.value)
                if selection.selection_set is not None and definition is not None:
                    inner = times * self.size(selection, definition)
                    total += self.cost(
                        selection.selection_set, get_named_type(definition.type), inner
                    )
            else:
                for selection_set, condition in self._fragment(selection, parent):
                    total += self.cost(selection_set, condition, times)
        return total

    def _fragment(
        self, selection: Any, parent: GraphQLNamedType
    ) -> Iterator[tuple[SelectionSetNode, GraphQLNamedType]]:
        """The selections of an inline fragment or a spread, with the type they apply to."""
        if isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            named = self.schema.get_type(condition.name.value) if condition else parent
            yield selection.selection_set, named or parent
        elif isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            if fragment is not None:
                named = self.schema.get_type(fragment.type_condition.name.value)
                yield fragment.selection_set, named or parent

    def size(self, node: FieldNode, definition: GraphQLField) -> int:
        """The field's page size: its first/limit as given, else as defaulted, else 1."""
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in SIZE_ARGUMENTS:
            if name not in definition.args:
                continue
            value: Any = definition.args[name].default_value
            node_value = given.get(name)
            if isinstance(node_value, IntValueNode):
                value = int(node_value.value)
            elif isinstance(node_value, VariableNode):
                value = self.variables.get(node_value.name.value, value)
            if isinstance(value, int):
                return max(value, 1)
        return 1


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None  # __typename on a union, or introspection: no deeper cost


class CostLimit(SchemaExtension):
    """Refuses documents that cost more than ``limit``; reports the cost of every one."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.spent: int | None = None

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            self.spent = document_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if self.spent > self.limit:
                message = (
                    f"the query costs {self.spent:,}, past the limit of {self.limit:,}: ask for "
                    "smaller pages (first, limit) or fewer nested lists"
                )
                context.result = refusal(CostLimitExceeded(message))
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self.spent is None else {"cost": self.spent}
