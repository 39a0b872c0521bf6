"""Relay connections: one generic page of edges, each a node and its cursor.

``Connection[Event]`` is named ``EventConnection`` in the schema and its edges ``EventEdge``
(Strawberry names a generic after its type argument); a connection that also counts its whole
result subclasses it with ``total_count``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

import strawberry

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


def page(nodes: Iterable[tuple[str, T]], has_next: bool) -> tuple[list[Edge[T]], PageInfo]:
    """The edges of a page of (cursor, node), and its page info."""
    edges = [Edge(cursor=cursor, node=node) for cursor, node in nodes]
    end = edges[-1].cursor if edges else None
    return edges, PageInfo(has_next_page=has_next, end_cursor=end)
