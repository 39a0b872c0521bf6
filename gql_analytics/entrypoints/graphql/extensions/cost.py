"""What a document costs before it runs: every field selected costs 1, times the size of each
list it sits in. A list's size is its ``first`` or ``limit`` (given as a literal or a variable,
else the argument's default), else the length of its ``names`` (a funnel's: its ``steps``); a list
of ``points`` holds a point per bucket of the range and interval its series was asked for, and
so does a retention's list of ``cohorts``, whose ``periods`` argument counts as a list size (an
upper bound: it multiplies the cohorts' own fields too). A document past the limit
is refused before any resolver runs; every answer reports its cost in ``extensions.cost``. The
estimate is the one GitHub's and Shopify's APIs publish in spirit: list sizes times nesting,
fragments counted where they are spread. Where the number of series is known only once a query
runs (no ``names``: every name), the service holds its answer to the same limit."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
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
    SelectionSetNode,
    Undefined,
    get_named_type,
    get_operation_ast,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension

from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.entrypoints.graphql.errors import refusal
from gql_analytics.entrypoints.graphql.scalars import parse_datetime
from gql_analytics.errors import CostLimitExceeded, InvalidRange

SIZE_ARGUMENTS = ("first", "limit", "periods")
LIST_ARGUMENTS = ("names", "steps")
BUCKET_LISTS = ("points", "cohorts")


def document_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None = None,
    variables: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> int:
    """``now``: where a range ending now ends (the gateway's clock; the wall clock if None)."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, variables or {}, now or datetime.now(UTC))
    return walk.cost(operation.selection_set, root, 1) if root is not None else 0


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = dict(variables)
        self.now = now

    def cost(
        self, selections: SelectionSetNode, parent: GraphQLNamedType, times: int, buckets: int = 1
    ) -> int:
        """``buckets``: how many points a series holds where the selections are."""
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += times
                definition = _field(parent, selection.name.value)
                if selection.selection_set is not None and definition is not None:
                    given = self._arguments(selection)
                    if "interval" in definition.args:
                        buckets = bucket_count(definition, given, self.now)
                    size = (
                        buckets
                        if selection.name.value in BUCKET_LISTS
                        else self.size(definition, given)
                    )
                    total += self.cost(
                        selection.selection_set,
                        get_named_type(definition.type),
                        times * size,
                        buckets,
                    )
            else:
                for selection_set, condition in self._fragment(selection, parent):
                    total += self.cost(selection_set, condition, times, buckets)
        return total

    def _arguments(self, node: FieldNode) -> dict[str, Any]:
        """The arguments given to a field, variables replaced (what cannot be read is left out:
        its default counts, and the resolver refuses it)."""
        given: dict[str, Any] = {}
        for argument in node.arguments or ():
            value = value_from_ast_untyped(argument.value, self.variables)
            if value is not Undefined:
                given[argument.name.value] = value
        return given

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

    @staticmethod
    def size(definition: GraphQLField, given: Mapping[str, Any]) -> int:
        """The field's list size: its first/limit/periods as given, else as defaulted; else the
        number of names (or steps) it was given; else 1."""
        for name in SIZE_ARGUMENTS:
            if name in definition.args:
                value = given.get(name, definition.args[name].default_value)
                if isinstance(value, int):
                    return max(value, 1)
        for name in LIST_ARGUMENTS:
            listed = given.get(name)
            if isinstance(listed, list):
                return max(len(listed), 1)
        return 1


def bucket_count(definition: GraphQLField, given: Mapping[str, Any], now: datetime) -> int:
    """At most how many buckets of its interval a field's range touches (1 when either cannot be
    read: the resolver refuses it)."""
    interval = given.get("interval", definition.args["interval"].default_value)
    name = interval.name if isinstance(interval, enum.Enum) else interval
    width = Interval[name].nominal if name in Interval.__members__ else None
    span = _span(given.get("range"), now)
    if width is None or span is None:
        return 1
    return -(-span // width) + 1  # and the ragged bucket where the range starts


def _span(raw: object, now: datetime) -> timedelta | None:
    """How long a ``range`` argument is, resolved as its resolver will (None: it cannot be)."""
    if raw is not None and not isinstance(raw, Mapping):
        return None
    given: Mapping[str, Any] = raw or {}
    try:
        start, end = (
            None if given.get(bound) is None else parse_datetime(given[bound])
            for bound in ("from", "to")
        )
        last = given.get("last")
        window = TimeRange.resolve(
            start=start, end=end, last=None if last is None else str(last), now=now
        )
    except (InvalidRange, ValueError, TypeError):
        return None
    return window.end - window.start


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
                context.context.service.clock(),
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
