"""A batch on its way through the consumer: the records fetched, what had happened when they
arrived, and the sink's preparation of them."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord, TopicPartition

from gql_analytics.adapters.kafka.clients import Records
from gql_analytics.ports import MessageBatch, PartitionMessages, PreparedBatch

_OFFSET, _TIMESTAMP, _VALUE = (operator.attrgetter(a) for a in ("offset", "timestamp", "value"))


def message_batch(
    batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
) -> MessageBatch:
    """A fetched batch, column by column, as a ``MessageSink`` takes it."""
    return MessageBatch(
        [
            PartitionMessages(
                topic=tp.topic,
                partition=tp.partition,
                offsets=list(map(_OFFSET, messages)),
                timestamps=list(map(_TIMESTAMP, messages)),
                values=list(map(_VALUE, messages)),
            )
            for tp, messages in batch.items()
            if messages
        ]
    )


@dataclass(frozen=True, slots=True)
class Fetched:
    """A batch, with what had happened when it arrived: the rebalances (``generation``) and the
    seeks of each of its partitions (``seeks``), to tell later whether it is still current."""

    generation: int
    seeks: dict[TopicPartition, int]
    records: Records


@dataclass(frozen=True, slots=True)
class Prepared:
    fetched: Fetched
    prepared: PreparedBatch
