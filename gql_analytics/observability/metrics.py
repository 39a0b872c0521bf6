"""What operators see at /metrics (Prometheus text format, prometheus-client): one registry per
app, never the library's global one, so every app (and every test) counts for itself."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from gql_analytics.ports import IngestTotals

PREFIX = "gql_analytics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Consumer(Protocol):
    """What /metrics reads of the Kafka consumer at each scrape."""

    @property
    def totals(self) -> IngestTotals: ...

    def lag(self) -> Mapping[tuple[str, int], int]:
        """Records not yet applied, per assigned (topic, partition) whose end is known."""
        ...


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.records = Counter(
            f"{PREFIX}_records_ingested",
            "Records by outcome: applied, duplicate (seen before), rejected (invalid input)",
            ["outcome"],
            registry=registry,
        )
        self.batch_size = Histogram(
            f"{PREFIX}_ingest_batch_records",
            "Records per batch applied to the store",
            buckets=(1, 10, 100, 1_000, 10_000, 100_000),
            registry=registry,
        )
        self.apply_seconds = Histogram(
            f"{PREFIX}_ingest_apply_seconds",
            "Time to apply one batch to the store",
            registry=registry,
        )
        self.requests = Counter(
            f"{PREFIX}_graphql_requests",
            "GraphQL operations by operation (type and root field) and outcome (ok, error)",
            ["operation", "outcome"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            f"{PREFIX}_graphql_request_seconds",
            "Time to answer a GraphQL operation",
            ["operation", "outcome"],
            registry=registry,
        )
        self.sockets = Gauge(
            f"{PREFIX}_websocket_connections", "Open WebSocket connections", registry=registry
        )
        self.subscriptions = Gauge(
            f"{PREFIX}_subscriptions_active", "Live subscriptions", registry=registry
        )
        self.live_computations = Gauge(
            f"{PREFIX}_live_computations",
            "Computations running for live subscriptions, each shared by every subscriber of the"
            " same question (or the same operation)",
            registry=registry,
        )
        self.pushed = Counter(
            f"{PREFIX}_subscription_messages", "Messages pushed to subscribers", registry=registry
        )
        self.jobs = Counter(
            f"{PREFIX}_analysis_jobs_ended",
            "Analysis jobs by the state they ended in",
            ["state"],
            registry=registry,
        )
        self.cache = Counter(
            f"{PREFIX}_query_cache",
            "Queries by what the cache did: hit, miss, bypass (not cacheable)",
            ["result"],
            registry=registry,
        )
        self.store_errors = Counter(
            f"{PREFIX}_store_errors",
            "Store calls that failed (STORE_UNAVAILABLE)",
            registry=registry,
        )

    def watch_consumer(self, consumer: Consumer) -> None:
        """Read the Kafka consumer's own totals and lag at every scrape."""
        self.registry.register(_ConsumerCollector(consumer))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _ConsumerCollector(Collector):
    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        totals = self._consumer.totals
        consumed = CounterMetricFamily(
            f"{PREFIX}_kafka_records",
            "Records the Kafka consumer handled, by outcome (applied, duplicate, dead_lettered)",
            labels=["outcome"],
        )
        consumed.add_metric(["applied"], totals.applied)
        consumed.add_metric(["duplicate"], totals.duplicates)
        consumed.add_metric(["dead_lettered"], totals.dead_lettered)
        yield consumed
        lag = GaugeMetricFamily(
            f"{PREFIX}_kafka_consumer_lag",
            "Records on the broker not yet applied, per assigned topic-partition",
            labels=["topic", "partition"],
        )
        for (topic, partition), behind in sorted(self._consumer.lag().items()):
            lag.add_metric([topic, str(partition)], behind)
        yield lag
        resets = CounterMetricFamily(
            f"{PREFIX}_kafka_position_resets",
            "Partitions whose log did not hold the position the consumer resumed at, by kind:"
            " beyond_end (topic recreated, broker data lost), before_start (retention)",
            labels=["topic", "partition", "kind"],
        )
        lost = CounterMetricFamily(
            f"{PREFIX}_kafka_records_lost",
            "Records deleted from a partition (retention) before they were applied",
            labels=["topic", "partition"],
        )
        counted: Tally[tuple[str, str, str]] = Tally()
        lost_by: Tally[tuple[str, str]] = Tally()
        for reset in totals.position_resets:
            counted[(reset.topic, str(reset.partition), reset.kind.value)] += 1
            lost_by[(reset.topic, str(reset.partition))] += reset.lost
        for kind_labels, count in sorted(counted.items()):
            resets.add_metric(list(kind_labels), count)
        for partition_labels, count in sorted(lost_by.items()):
            lost.add_metric(list(partition_labels), count)
        yield resets
        yield lost
