"""Documents parsed and validated once: a repeated query text (a dashboard's, a persisted query)
skips both steps. The validation rules (depth, aliases, operations) are fixed per schema, so a
document's validation errors, none or some, are too."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension


@dataclass(slots=True)
class _Known:
    document: DocumentNode
    errors: list[GraphQLError] | None = None  # None until validated once


class Documents:
    """The most recently used documents, by their text."""

    def __init__(self, entries: int = 1000) -> None:
        self._entries = entries
        self._known: OrderedDict[str, _Known] = OrderedDict()

    def get(self, text: str) -> _Known | None:
        known = self._known.get(text)
        if known is not None:
            self._known.move_to_end(text)
        return known

    def put(self, text: str, document: DocumentNode) -> None:
        self._known[text] = _Known(document)
        if len(self._known) > self._entries:
            self._known.popitem(last=False)


class CachedDocuments(SchemaExtension):
    def __init__(self, *, documents: Documents) -> None:
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        known = self.documents.get(context.query) if context.query else None
        if known is not None:
            context.graphql_document = known.document  # Strawberry then does not parse
        yield
        parsed = context.graphql_document
        if known is None and context.query and parsed is not None:
            self.documents.put(context.query, parsed)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        known = self.documents.get(context.query) if context.query else None
        if known is not None and known.errors is not None:
            context.pre_execution_errors = list(known.errors)  # Strawberry then does not validate
        yield
        if known is not None and known.errors is None and context.pre_execution_errors is not None:
            known.errors = list(context.pre_execution_errors)
