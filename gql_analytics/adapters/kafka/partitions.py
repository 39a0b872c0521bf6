"""What the consumer knows of its partitions across rebalances, and the listener that keeps it.

Positions move (a rebalance, a seek to the store's position, a reset log read again) only while
no batch is being applied: both hold ``in_flight``. A batch fetched before a position moved is
stale where it moved: ``current`` tells which of its partitions are not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from aiokafka import ConsumerRebalanceListener, TopicPartition

from gql_analytics.adapters.kafka.batches import Fetched
from gql_analytics.adapters.kafka.clients import Consumer, Records
from gql_analytics.domain.records import SourcePosition
from gql_analytics.ports import PositionKeeper

log = logging.getLogger(__name__)


class Partitions:
    """The rebalances seen (``generation``), the seeks of each partition, where each resumes
    (the next offset to apply) and the positions resumed at that the broker has not yet shown
    its log holds (``unconfirmed``: ``PositionCheck`` confirms them)."""

    def __init__(self, store: PositionKeeper) -> None:
        self._store = store
        self.in_flight = asyncio.Lock()  # held while a batch is applied, and while positions move
        self._generation = 0
        self._seeks: dict[TopicPartition, int] = {}
        self._next: dict[TopicPartition, int] = {}
        self._unconfirmed: dict[TopicPartition, int] = {}

    @property
    def generation(self) -> int:
        return self._generation

    def seeks(self, tp: TopicPartition) -> int:
        return self._seeks.get(tp, 0)

    def next_offset(self, tp: TopicPartition) -> int:
        """The next offset of ``tp`` to apply: where it resumed, or what was applied since."""
        return self._next.get(tp, 0)

    @property
    def unconfirmed(self) -> Mapping[TopicPartition, int]:
        return MappingProxyType(self._unconfirmed)

    # -- what a batch knew ----------------------------------------------------------------------

    def stamp(self, records: Records) -> Fetched:
        """``records`` as fetched now."""
        return Fetched(self._generation, {tp: self.seeks(tp) for tp in records}, records)

    def current(self, fetched: Fetched) -> Records:
        """The partitions of ``fetched`` whose position has not moved since it arrived: none
        after a rebalance (positions restart from the committed or stored offsets), and none
        sought since (they are fetched again from there)."""
        if fetched.generation != self._generation:
            return {}
        return {
            tp: messages
            for tp, messages in fetched.records.items()
            if fetched.seeks[tp] == self.seeks(tp)
        }

    # -- what moves them ------------------------------------------------------------------------

    async def revoked(self) -> None:
        """Waits for the batch being applied; the batches fetched before are stale."""
        async with self.in_flight:
            self._generation += 1

    async def assigned(self, consumer: Consumer, assigned: Sequence[TopicPartition]) -> None:
        """Each partition resumes at the store's position where it is ahead of Kafka's
        committed offset (a crash between the store's commit and Kafka's), else at that."""
        async with self.in_flight:
            self._unconfirmed = {}
            for topic in {tp.topic for tp in assigned}:
                stored = await self._store.positions(topic)
                for tp in (tp for tp in assigned if tp.topic == topic):
                    committed = await consumer.committed(tp)
                    ahead = stored.get(tp.partition)
                    self.resumed(tp, max(committed or 0, ahead or 0))
                    if ahead is not None and (committed is None or ahead > committed):
                        log.info("kafka: %s resumes at the store's offset %d", tp, ahead)
                        self.seek(consumer, tp, ahead)
                    elif committed is not None and (ahead or 0) < committed:
                        log.warning(
                            "kafka: %s: the store's position (%s) is behind the group's "
                            "committed offset %d: records before it are not in this store",
                            tp,
                            ahead,
                            committed,
                        )

    def resumed(self, tp: TopicPartition, position: int) -> None:
        """``tp`` resumes at ``position``, unconfirmed until the broker shows its log holds it
        (a log's start needs no confirming)."""
        self._next[tp] = position
        if position > 0:
            self._unconfirmed[tp] = position

    def seek(self, consumer: Consumer, tp: TopicPartition, offset: int) -> None:
        """``tp`` is read from ``offset`` on: what was fetched of it before is stale."""
        consumer.seek(tp, offset)
        self._seeks[tp] = self.seeks(tp) + 1

    def read_again(self, consumer: Consumer, tp: TopicPartition, start: int) -> None:
        """``tp``'s log was reset: it is read, and applied, from ``start`` again."""
        self.seek(consumer, tp, start)
        self._next[tp] = start

    def applied(self, positions: Iterable[SourcePosition]) -> None:
        for position in positions:
            self._next[TopicPartition(position.source, position.partition)] = position.next_offset

    def suspect(self, tp: TopicPartition) -> None:
        """Records of ``tp`` before its next offset arrived mid-stream (aiokafka went back to
        its log's start by itself): its position is checked again."""
        self._unconfirmed.setdefault(tp, self._next[tp])

    def confirm(self, tp: TopicPartition) -> None:
        del self._unconfirmed[tp]


class Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Revocation waits for the batch in flight to be applied; assignment resumes from the store
    wherever it is ahead of Kafka's committed offsets."""

    def __init__(self, partitions: Partitions, consumer: Consumer) -> None:
        self._partitions = partitions
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        await self._partitions.revoked()

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        await self._partitions.assigned(self._consumer, assigned)
