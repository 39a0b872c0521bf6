"""Raw upstream messages as records: the decoding every store applies, and the reference way of
applying a batch of them (decode each in Python, then ``Store.apply``).

A store may prepare and apply messages faster its own way (DuckDB decodes and rolls up a batch in
SQL), but the effect must equal ``prepare_decoded`` and ``apply_decoded``'s, which the tests hold
it to.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

from gql_analytics.domain.normalize import Origin, normalize
from gql_analytics.domain.records import Batch, Record
from gql_analytics.domain.validation import Limits
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    MessageBatch,
    MessageKey,
    MessagesResult,
    PartitionMessages,
    PreparedMessages,
    Rejection,
    Store,
)
from gql_analytics.services.ingest.pipeline import changes_of


def decode(
    value: bytes | None,
    key: MessageKey,
    timestamp_ms: int,
    limits: Limits,
    tenant: str,
) -> Record:
    """One message as a record; ``InvalidRecord`` (reason included) when it is poison.

    Without an id of its own a record's id is ``topic:partition:offset@timestamp``, so a
    redelivered message keeps it, and a message of a recreated topic that stands where an older
    one stood (the same offset, another time) is not taken for it; without a time of its own it
    takes the message's timestamp."""
    try:
        payload = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRecord("message", "is not JSON", reason="NOT_JSON") from error
    topic, partition, offset = key
    origin = Origin(
        tenant=tenant,
        limits=limits,
        fallback_id=lambda: f"{topic}:{partition}:{offset}@{timestamp_ms}",
        fallback_time=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
    )
    return normalize(payload, origin)


def messages_of(
    part: PartitionMessages,
) -> Iterator[tuple[MessageKey, int, bytes | None]]:
    """(key, timestamp, value) of each message of a partition, in offset order."""
    for offset, timestamp, value in zip(part.offsets, part.timestamps, part.values, strict=True):
        yield (part.topic, part.partition, offset), timestamp, value


def decode_all(batch: MessageBatch, limits: Limits) -> tuple[list[Record], list[Rejection]]:
    """The records of a batch in message order, and the rejections of the rest."""
    records: list[Record] = []
    rejected: list[Rejection] = []
    for part in batch.partitions:
        for key, timestamp, value in messages_of(part):
            try:
                records.append(decode(value, key, timestamp, limits, batch.tenant))
            except InvalidRecord as error:
                rejected.append(Rejection(key, error.reason, error.message))
    return records, rejected


def prepare_decoded(batch: MessageBatch, limits: Limits) -> PreparedMessages:
    """``Store.prepare_messages`` by decoding every message in Python: the reference behaviour."""
    records, rejected = decode_all(batch, limits)
    return PreparedMessages(batch, limits, tuple(rejected), records)


def was_decoded(prepared: PreparedMessages) -> bool:
    """Whether ``prepare_decoded`` prepared the batch (its state is the decoded records)."""
    return isinstance(prepared.state, list)


async def apply_decoded(
    store: Store, prepared: PreparedMessages, *, with_events: bool = False
) -> MessagesResult:
    """``Store.apply_prepared`` for a batch ``prepare_decoded`` prepared: ``Store.apply``."""
    records = prepared.state
    assert isinstance(records, list), "prepared by prepare_decoded"  # as was_decoded tells
    result = await store.apply(Batch(records, prepared.batch.positions))
    return MessagesResult(
        applied=len(result.applied),
        duplicates=result.duplicates,
        changes=tuple(changes_of(result, with_events=with_events)),
    )
