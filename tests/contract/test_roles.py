"""Every role of the ``Store`` port has its contract, and every adapter runs every contract."""

from __future__ import annotations

from types import ModuleType
from typing import Protocol

import pytest

from gql_analytics.ports import Store
from tests.contract import test_duckdb_store, test_mongodb_store
from tests.contract.roles.dataset_reader import DatasetReaderContract
from tests.contract.roles.dimension_repository import DimensionRepositoryContract
from tests.contract.roles.event_reader import EventReaderContract
from tests.contract.roles.job_repository import JobRepositoryContract
from tests.contract.roles.journey_reader import JourneyReaderContract
from tests.contract.roles.key_repository import KeyRepositoryContract
from tests.contract.roles.lifecycle import LifecycleContract
from tests.contract.roles.position_keeper import PositionKeeperContract
from tests.contract.roles.question_reader import QuestionReaderContract
from tests.contract.roles.record_writer import RecordWriterContract
from tests.contract.roles.retention import RetentionContract
from tests.contract.roles.rollup_reader import RollupReaderContract
from tests.contract.roles.task_reader import TaskReaderContract

CONTRACTS: list[type] = [
    RecordWriterContract,
    PositionKeeperContract,
    RollupReaderContract,
    QuestionReaderContract,
    JourneyReaderContract,
    EventReaderContract,
    TaskReaderContract,
    DatasetReaderContract,
    RetentionContract,
    JobRepositoryContract,
    DimensionRepositoryContract,
    KeyRepositoryContract,
    LifecycleContract,
]


def test_every_role_of_the_store_has_a_contract() -> None:
    roles = [base.__name__ for base in Store.__bases__ if base is not Protocol]
    assert [contract.__name__.removesuffix("Contract") for contract in CONTRACTS] == roles


@pytest.mark.parametrize(
    "adapter", [test_duckdb_store, test_mongodb_store], ids=lambda m: m.__name__
)
def test_every_adapter_runs_every_contract(adapter: ModuleType) -> None:
    run = [
        contract
        for contract in CONTRACTS
        if any(
            isinstance(test, type) and name.startswith("Test") and issubclass(test, contract)
            for name, test in vars(adapter).items()
        )
    ]
    assert run == CONTRACTS
