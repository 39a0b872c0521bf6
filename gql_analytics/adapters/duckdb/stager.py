"""``DuckDBStore``'s ``MessageStager`` capability: large Kafka batches decoded and rolled up in
SQL (``messages/``), staged on a preparing cursor beside the writer, applied in its
transaction."""

from __future__ import annotations

import duckdb

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.messages.apply import apply
from gql_analytics.adapters.duckdb.messages.stage import Staged, stage
from gql_analytics.domain.validation import Limits
from gql_analytics.ports import MessageBatch, StagedMessages, StagedResult


class Stager(Database):
    def worth_staging(self, messages: int) -> bool:
        """From ``sql_from`` messages: for a few hundred, the staging query's fixed cost is more
        than decoding them in Python (~1 ms for 100 messages)."""
        return messages >= self._sql_from

    async def stage_messages(self, batch: MessageBatch, limits: Limits) -> StagedMessages:
        """Staged by SQL into the scratch database on a preparing cursor, beside the writer
        (``messages.stage``)."""

        def prepare() -> StagedMessages:
            cursor = self._preparers.get()
            try:
                self._drop_done(cursor)
                table = f"scratch.staged_{next(self._prepared)}"
                return stage(cursor, table, batch, limits)
            finally:
                self._preparers.put(cursor)

        return await self._run(prepare)

    async def apply_staged(self, staged: StagedMessages, *, with_events: bool) -> StagedResult:
        def write() -> StagedResult:
            result = self._transaction(
                lambda connection: apply(connection, staged, with_events),
                lambda result: result.series,
            )
            self._drop_staged(staged)
            return result

        return await self._run(write)

    async def discard_staged(self, staged: StagedMessages) -> None:
        await self._run(lambda: self._drop_staged(staged))

    def _drop_staged(self, staged: StagedMessages) -> None:
        """A staged table is dropped by the next staging (or with the store), so that an apply
        never waits for the staging running beside it."""
        state = staged.state
        if not isinstance(state, Staged):
            raise TypeError("a batch staged by another store")
        self._done.append(state.table)

    def _drop_done(self, cursor: duckdb.DuckDBPyConnection) -> None:
        while self._done:
            try:
                table = self._done.pop()
            except IndexError:  # taken by the other preparation
                return
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
