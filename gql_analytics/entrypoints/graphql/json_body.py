"""JSON from clients (request bodies, socket frames), read within bounds: UTF-8 only and at most
``MAX_DEPTH`` levels deep, so that no document can exhaust the parser's or a resolver's stack."""

from __future__ import annotations

import json
from collections.abc import Iterable

MAX_DEPTH = 64


def decode(data: str | bytes) -> object:
    """The value ``data`` holds; ``json.JSONDecodeError`` saying why when it is not JSON this
    gateway reads (what its callers already answer as malformed)."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError("not UTF-8", "", error.start) from None
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        deep = True
    else:
        deep = depth_over(value, MAX_DEPTH)
    if deep:
        raise json.JSONDecodeError(f"nested deeper than {MAX_DEPTH} levels", "", 0)
    return value


def depth_over(value: object, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` in ``value`` (without recursion)."""
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        children: Iterable[object]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
