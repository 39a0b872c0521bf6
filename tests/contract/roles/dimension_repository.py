"""The dimension repository's contract: declarations replace a kind's keys, keep the time a key
was first declared, and are the tenant's own."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gql_analytics.domain.dimensions import since
from gql_analytics.domain.records import Batch
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.timerange import EPOCH
from gql_analytics.ports import DimensionRepository, RecordWriter
from tests.contract.roles.records import T0, event


class Declaring(DimensionRepository, RecordWriter, Protocol):
    """Declarations, and the writer of the records they split."""


class DimensionRepositoryContract:
    """``DimensionRepository``, on the ``store`` an adapter's test class gives."""

    async def test_a_declaration_replaces_the_kinds_keys_and_keeps_their_first_time(
        self, store: DimensionRepository
    ) -> None:
        await store.declare_dimensions("default", EVENT, ["plan", "country"], T0)
        later = T0 + timedelta(days=1)
        declared = await store.declare_dimensions("default", EVENT, ["plan", "device"], later)
        assert declared.keys("default", EVENT) == ("device", "plan")
        plan = declared.of("default", EVENT, "plan")
        device = declared.of("default", EVENT, "device")
        assert plan is not None
        assert plan.declared_at == T0
        assert device is not None
        assert device.declared_at == later
        assert declared.of("default", EVENT, "country") is None

    async def test_a_key_declared_before_any_record_is_held_from_the_start(
        self, store: Declaring
    ) -> None:
        (first,) = (await store.declare_dimensions("default", EVENT, ["plan"], T0)).declared
        assert first.since == EPOCH
        await store.apply(Batch([event("1", 1)]))
        declared = await store.declare_dimensions("default", EVENT, ["plan", "country"], T0)
        country = declared.of("default", EVENT, "country")
        assert country is not None
        assert country.since == since(T0, records_before=True) > T0
        assert declared.of("default", EVENT, "plan") == first  # kept as it was

    async def test_declarations_are_per_tenant_and_kind(self, store: DimensionRepository) -> None:
        await store.declare_dimensions("default", METRIC, ["region"], T0)
        await store.declare_dimensions("acme", METRIC, ["host"], T0)
        assert (await store.dimensions("default")).keys("default", METRIC) == ("region",)
        assert (await store.dimensions("default")).keys("default", EVENT) == ()
        everyone = await store.dimensions()
        assert everyone.keys("acme", METRIC) == ("host",)
        await store.declare_dimensions("acme", METRIC, [], T0)
        assert (await store.dimensions("acme")).keys("acme", METRIC) == ()
