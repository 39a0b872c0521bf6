from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gql_analytics.adapters.duckdb import writing
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.stores import open_store
from gql_analytics.domain.records import Batch
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import EventQuery, MessageBatch, PartitionMessages, Store
from tests.contract.ingest import message_ingest
from tests.contract.store_contract import T0, FailHalfway, Halfway, StoreContract, event


class DuckDBContract(StoreContract):
    @pytest.fixture
    def fail_halfway(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> FailHalfway:
        """The rollup write fails, after the raw records' inserts, in the batch's transaction."""

        def failing(*args: object) -> None:
            raise Halfway("the disk went away")

        @contextmanager
        def halfway() -> Iterator[None]:
            with monkeypatch.context() as patched:
                patched.setattr(writing, "write_rollup", failing)
                yield

        return halfway


class TestDuckDBInMemory(DuckDBContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[Store]:
        store = DuckDBStore()
        yield store
        await store.close()


class TestDuckDBInMemoryAlwaysSQL(DuckDBContract):
    """Every Kafka batch staged in SQL, however small (the contract's batches are)."""

    @pytest.fixture
    async def store(self) -> AsyncIterator[Store]:
        store = DuckDBStore(sql_from=0)
        yield store
        await store.close()


class TestDuckDBFile(DuckDBContract):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[Store]:
        store = open_store(f"duckdb:///{tmp_path}/nested/analytics.duckdb")
        yield store
        await store.close()


async def test_records_survive_reopening_the_file(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path}/a.duckdb"
    store = open_store(url)
    await store.apply(Batch([event("1", 1)]))
    await store.close()
    reopened = open_store(url)
    duplicate = await reopened.apply(Batch([event("1", 1)]))
    assert duplicate.duplicates == 1
    assert await reopened.count_events(EventQuery("default")) == 1
    await reopened.close()


async def test_a_failing_batch_leaves_nothing_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    store = DuckDBStore()

    def explode(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writing, "write_rollup", explode)
    with pytest.raises(RuntimeError):
        await store.apply(Batch([event("1", 1)]))
    monkeypatch.undo()
    assert await store.count_events(EventQuery("default")) == 0
    assert (await store.apply(Batch([event("1", 1)]))).duplicates == 0
    await store.close()


async def test_a_closed_store_is_unavailable() -> None:
    store = DuckDBStore()
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.ping()


def staged_tables(store: DuckDBStore) -> int:
    (count,) = store.rows(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'scratch'", []
    )[0]
    return int(count)


async def prepare_and_apply_logins(store: DuckDBStore, batches: int) -> None:
    """Every other batch applied, the others discarded, as the ingest layer would."""
    ingest, _ = message_ingest(store, T0)
    at = int(T0.timestamp() * 1000)
    for offset in range(batches):
        value = f'{{"event": "login", "id": "{offset}"}}'.encode()
        batch = MessageBatch([PartitionMessages("t", 0, [offset], [at], [value])])
        prepared = await ingest.prepare(batch)
        if offset % 2:
            await ingest.discard(prepared)
        else:
            await ingest.apply(prepared)


async def test_staged_batches_do_not_pile_up_in_memory() -> None:
    store = DuckDBStore(sql_from=0)
    await prepare_and_apply_logins(store, 5)
    assert staged_tables(store) == 1  # the last batch's, dropped by the next preparation
    assert await store.count_events(EventQuery("default")) == 3
    await store.close()


async def test_a_batch_of_few_messages_is_decoded_in_python_and_stages_nothing() -> None:
    store = DuckDBStore(sql_from=2)
    await prepare_and_apply_logins(store, 5)
    assert staged_tables(store) == 0
    assert await store.count_events(EventQuery("default")) == 3
    await store.close()
