"""Persisted queries, as Apollo's Automatic Persisted Queries: a client sends a query's sha256
(``extensions.persistedQuery``) instead of its text; an unknown hash is answered
``PERSISTED_QUERY_NOT_FOUND``, and the client sends the text with the hash once, which registers
it. A manifest of operations (``--persisted-queries``: Apollo's persisted query manifest, or an
object of hash to text) registers them up front; with ``--persisted-only`` the gateway runs only
those (an allow-list: any other text is ``PERSISTED_QUERY_NOT_ALLOWED``, and none is registered).
Registrations by clients are kept per process, the most recent 10,000."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from strawberry.extensions import SchemaExtension

from gql_analytics.entrypoints.graphql.errors import refusal
from gql_analytics.errors import (
    GatewayError,
    InvalidInput,
    PersistedQueryNotAllowed,
    PersistedQueryNotFound,
)
from gql_analytics.services.recent import Recent

SHA256 = re.compile(r"[0-9a-f]{64}")
# Run in place of a refused one: Strawberry needs a document to go on to the result already set.
PLACEHOLDER = "{ __typename }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_manifest(path: str) -> dict[str, str]:
    """Hash to text, from an Apollo persisted query manifest (``operations``: ``id``, ``body``)
    or an object of hash to text; every hash must be its text's."""
    loaded: Any = json.loads(Path(path).read_text())
    if isinstance(loaded, dict) and isinstance(loaded.get("operations"), list):
        pairs = [(str(o.get("id")), str(o.get("body"))) for o in loaded["operations"]]
    elif isinstance(loaded, dict):
        pairs = [(str(key), str(value)) for key, value in loaded.items()]
    else:
        raise ValueError(f"{path}: expected a persisted query manifest or an object")
    for digest, text in pairs:
        if digest != sha256(text):
            raise ValueError(f"{path}: {digest} is not the sha256 of its body")
    return dict(pairs)


class PersistedQueries:
    def __init__(
        self, known: Mapping[str, str] | None = None, *, only: bool = False, entries: int = 10_000
    ) -> None:
        self._fixed = dict(known or {})
        self._only = only
        self._registered: Recent[str, str] = Recent(entries)

    def text(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The text to run for a request's query and extensions, or why there is none."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is not None and self._only and sha256(query) not in self._fixed:
                raise PersistedQueryNotAllowed("only registered operations may run here")
            return query
        if not isinstance(persisted, Mapping) or persisted.get("version") != 1:
            raise InvalidInput("extensions.persistedQuery: only version 1 is supported")
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or not SHA256.fullmatch(digest):
            raise InvalidInput("extensions.persistedQuery.sha256Hash: 64 lowercase hex digits")
        if query is None:
            return self._known(digest)
        if sha256(query) != digest:
            raise InvalidInput("extensions.persistedQuery: the hash is not the query's sha256")
        if digest not in self._fixed:
            if self._only:
                raise PersistedQueryNotAllowed("only registered operations may run here")
            self._registered.put(digest, query)
        return query

    def _known(self, digest: str) -> str:
        text = self._fixed.get(digest) or self._registered.get(digest)
        if text is None:
            raise PersistedQueryNotFound("PersistedQueryNotFound")
        return text


class PersistedQueryLookup(SchemaExtension):
    def __init__(self, *, queries: PersistedQueries) -> None:
        self.queries = queries

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        try:
            context.query = self.queries.text(context.query, context.operation_extensions)
        except GatewayError as error:
            context.query, context.result = PLACEHOLDER, refusal(error)
        yield
