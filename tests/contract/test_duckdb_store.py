"""Every role's contract on the DuckDB store: in memory, in a file, and, for the contracts that
write raw messages through the ingest layer, in memory with every batch staged in SQL; and what
only DuckDB does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
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
from tests.contract.roles.dataset_reader import DatasetReaderContract
from tests.contract.roles.dimension_repository import DimensionRepositoryContract
from tests.contract.roles.event_reader import EventReaderContract
from tests.contract.roles.job_repository import JobRepositoryContract
from tests.contract.roles.journey_reader import JourneyReaderContract
from tests.contract.roles.key_repository import KeyRepositoryContract
from tests.contract.roles.lifecycle import LifecycleContract
from tests.contract.roles.position_keeper import PositionKeeperContract
from tests.contract.roles.question_reader import QuestionReaderContract
from tests.contract.roles.record_writer import FailHalfway, Halfway, RecordWriterContract
from tests.contract.roles.records import T0, event
from tests.contract.roles.retention import RetentionContract
from tests.contract.roles.rollup_reader import RollupReaderContract
from tests.contract.roles.task_reader import TaskReaderContract

STORES: dict[str, Callable[[Path], Store]] = {
    "in memory": lambda tmp_path: DuckDBStore(),
    "in a file": lambda tmp_path: open_store(f"duckdb:///{tmp_path}/nested/analytics.duckdb"),
    # Every Kafka batch staged in SQL, however small (the contracts' batches are).
    "in memory, staging in SQL": lambda tmp_path: DuckDBStore(sql_from=0),
}


async def opened(variant: str, tmp_path: Path) -> AsyncIterator[Store]:
    store = STORES[variant](tmp_path)
    yield store
    await store.close()


class DuckDB:
    """A role's contract on DuckDB in memory and in a file."""

    @pytest.fixture(params=["in memory", "in a file"])
    async def store(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
        async for store in opened(request.param, tmp_path):
            yield store

    @pytest.fixture
    def fail_halfway(self, monkeypatch: pytest.MonkeyPatch) -> FailHalfway:
        """The rollup write fails, after the raw records' inserts, in the batch's transaction."""

        def failing(*args: object) -> None:
            raise Halfway("the disk went away")

        @contextmanager
        def halfway() -> Iterator[None]:
            with monkeypatch.context() as patched:
                patched.setattr(writing, "write_rollup", failing)
                yield

        return halfway


class DuckDBStagingInSQL(DuckDB):
    """And in memory staging every Kafka batch in SQL: for the contracts whose tests write raw
    messages through the ingest layer, which stages them when the store offers it."""

    @pytest.fixture(params=list(STORES))
    async def store(self, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
        async for store in opened(request.param, tmp_path):
            yield store


class TestRecordWriter(DuckDBStagingInSQL, RecordWriterContract):
    pass


class TestPositionKeeper(DuckDB, PositionKeeperContract):
    pass


class TestRollupReader(DuckDBStagingInSQL, RollupReaderContract):
    pass


class TestQuestionReader(DuckDB, QuestionReaderContract):
    pass


class TestJourneyReader(DuckDB, JourneyReaderContract):
    pass


class TestEventReader(DuckDB, EventReaderContract):
    pass


class TestTaskReader(DuckDB, TaskReaderContract):
    pass


class TestDatasetReader(DuckDB, DatasetReaderContract):
    pass


class TestRetention(DuckDB, RetentionContract):
    pass


class TestJobRepository(DuckDB, JobRepositoryContract):
    pass


class TestDimensionRepository(DuckDB, DimensionRepositoryContract):
    pass


class TestKeyRepository(DuckDB, KeyRepositoryContract):
    pass


class TestLifecycle(DuckDB, LifecycleContract):
    pass


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
