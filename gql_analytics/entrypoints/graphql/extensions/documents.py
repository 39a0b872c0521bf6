"""Documents parsed and validated once: a repeated query text (a dashboard's, a persisted query)
skips both steps. The validation rules (depth, aliases, operations) are fixed per schema, so a
document's validation errors, none or some, are too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension

from gql_analytics.services.recent import Recent


@dataclass(slots=True)
class _Known:
    document: DocumentNode
    errors: list[GraphQLError] | None = None  # None until validated once


class Documents(Recent[str, _Known]):
    """The most recently used documents, by their text."""

    def __init__(self, entries: int = 1000) -> None:
        super().__init__(entries)


class CachedDocuments(SchemaExtension):
    def __init__(self, *, documents: Documents) -> None:
        self.documents = documents
        self.known: _Known | None = None  # this request's document, once parsed or found

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        known = self.documents.get(context.query) if context.query else None
        if known is not None:
            context.graphql_document = known.document  # Strawberry then does not parse
        yield
        parsed = context.graphql_document
        if known is None and context.query and parsed is not None:
            known = _Known(parsed)
            self.documents.put(context.query, known)
        self.known = known

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        known = self.known
        if known is not None and known.errors is not None:
            context.pre_execution_errors = list(known.errors)  # Strawberry then does not validate
        yield
        if known is not None and known.errors is None and context.pre_execution_errors is not None:
            known.errors = list(context.pre_execution_errors)
