"""The position keeper's contract: positions committed with the batches that reach them, only
ever forward, but for a rewind."""

from __future__ import annotations

from typing import Protocol

from gql_analytics.domain.records import Batch, SourcePosition
from gql_analytics.ports import PositionKeeper, RecordWriter
from tests.contract.roles.records import event


class KeptWithBatches(RecordWriter, PositionKeeper, Protocol):
    """Positions, and the batches that carry them."""


class PositionKeeperContract:
    """``PositionKeeper``, on the ``store`` an adapter's test class gives."""

    async def test_positions_are_committed_with_the_batch_and_only_move_forward(
        self, store: KeptWithBatches
    ) -> None:
        await store.apply(
            Batch([event("1", 1)], [SourcePosition("topic", 0, 10), SourcePosition("topic", 1, 4)])
        )
        await store.apply(Batch([], [SourcePosition("topic", 0, 7)]))
        assert await store.positions("topic") == {0: 10, 1: 4}
        assert await store.positions("elsewhere") == {}

    async def test_a_rewind_moves_a_position_back_and_batches_move_it_on_from_there(
        self, store: KeptWithBatches
    ) -> None:
        await store.apply(
            Batch([], [SourcePosition("topic", 0, 100), SourcePosition("topic", 1, 4)])
        )
        await store.rewind("topic", 0, 0)
        assert await store.positions("topic") == {0: 0, 1: 4}
        await store.apply(Batch([], [SourcePosition("topic", 0, 30)]))
        assert await store.positions("topic") == {0: 30, 1: 4}
        await store.rewind("fresh", 2, 5)  # a partition it never had
        assert await store.positions("fresh") == {2: 5}
