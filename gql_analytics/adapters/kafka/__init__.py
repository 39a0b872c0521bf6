"""Kafka ingestion: the consumer that applies topics to the store, and the producer behind the
ingest mutations when Kafka is on."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from gql_analytics.settings import Settings


def new_producer(settings: Settings, *, linger_ms: int = 0) -> AIOKafkaProducer[bytes, bytes]:
    """The gateway's producer: every write waits for all in-sync replicas (``acks=all``);
    idempotence as configured (event ids already make retries harmless); a request, and a batch
    not yet acknowledged, expire after ``kafka_timeout`` (aiokafka's default: 40 s). Call it
    inside the running event loop, which aiokafka clients belong to."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=int(settings.kafka_timeout * 1000),
    )
