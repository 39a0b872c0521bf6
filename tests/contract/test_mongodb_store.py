"""Every role's contract on the MongoDB store: a real server when ``MONGODB_URL`` is set
(``MONGODB_URL=mongodb://localhost:27017/?replicaSet=rs0 make test``), otherwise the in-process
stand-in of ``tests/mongodb_standin.py``; and what only MongoDB does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gql_analytics.adapters.mongodb.store import MongoStore
from gql_analytics.bootstrap import create_app
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import EventQuery, Store
from gql_analytics.settings import Settings
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
from tests.contract.roles.retention import RetentionContract
from tests.contract.roles.rollup_reader import RollupReaderContract
from tests.contract.roles.task_reader import TaskReaderContract
from tests.mongodb_standin import NAME, REAL, StandInClient, mongodb_store
from tests.support import DEADLINE, GraphQLClient, ServerThread


class MongoDB:
    """A role's contract on MongoDB."""

    @pytest.fixture(ids=[f"mongodb {REAL or NAME}"], params=[None])
    async def store(self) -> AsyncIterator[Store]:
        async for store in mongodb_store():
            yield store

    @pytest.fixture
    def fail_halfway(self, monkeypatch: pytest.MonkeyPatch) -> FailHalfway:
        """The batch's raw records are inserted, then its transaction fails."""
        insert_new = MongoStore._insert_new

        async def failing(self: MongoStore, *args: Any, **kwargs: Any) -> Any:
            await insert_new(self, *args, **kwargs)
            raise Halfway("the primary stepped down")

        @contextmanager
        def halfway() -> Iterator[None]:
            with monkeypatch.context() as patched:
                patched.setattr(MongoStore, "_insert_new", failing)
                yield

        return halfway


class TestRecordWriter(MongoDB, RecordWriterContract):
    pass


class TestPositionKeeper(MongoDB, PositionKeeperContract):
    pass


class TestRollupReader(MongoDB, RollupReaderContract):
    pass


class TestQuestionReader(MongoDB, QuestionReaderContract):
    pass


class TestJourneyReader(MongoDB, JourneyReaderContract):
    pass


class TestEventReader(MongoDB, EventReaderContract):
    pass


class TestTaskReader(MongoDB, TaskReaderContract):
    pass


class TestDatasetReader(MongoDB, DatasetReaderContract):
    pass


class TestRetention(MongoDB, RetentionContract):
    pass


class TestJobRepository(MongoDB, JobRepositoryContract):
    pass


class TestDimensionRepository(MongoDB, DimensionRepositoryContract):
    pass


class TestKeyRepository(MongoDB, KeyRepositoryContract):
    pass


class TestLifecycle(MongoDB, LifecycleContract):
    pass


async def test_raw_records_expire_after_the_retention_through_a_ttl_index() -> None:
    client = StandInClient()
    store = MongoStore(client, "analytics", retention=timedelta(days=30))
    await store.ping()
    assert await store.count_events(EventQuery("default")) == 0  # collections set up
    for collection in ("events", "metric_points"):
        indexes = await client["analytics"][collection].index_information()
        expiring = [i for i in indexes.values() if "expireAfterSeconds" in i]
        assert [(i["key"], i["expireAfterSeconds"]) for i in expiring] == [
            ([("occurred_at", 1)], 30 * 24 * 3600)
        ]
    await store.close()


def test_nothing_imports_motor() -> None:
    """Motor reached end of life on 2026-05-14; the adapter is on PyMongo's own async API."""
    program = (
        "import sys, gql_analytics.cli, gql_analytics.bootstrap, gql_analytics.adapters.mongodb.store, "
        "gql_analytics.adapters.kafka.consumer; "
        "sys.exit('motor' in sys.modules or any(m.startswith('motor.') for m in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", program], check=False).returncode == 0


async def test_an_unreachable_mongodb_is_not_ready_and_queries_fail_with_a_code() -> None:
    client = StandInClient()
    store = MongoStore(client, "analytics")
    assert await store.count_events(EventQuery("default")) == 0
    await client.go_down()
    with pytest.raises(StoreUnavailable):
        await store.count_events(EventQuery("default"))
    with ServerThread(create_app(Settings(auth=False), store=store)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            ready = await http.get("/ready")
            error = await GraphQLClient(http).error("{ events { edges { node { id } } } }")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert error["extensions"]["code"] == "STORE_UNAVAILABLE"
    assert "Traceback" not in str(error)
