"""Kafka: the consumer that hands topics to the ingest layer, the producer behind the ingest
mutations when Kafka is on, and the live topic replicas share changes through."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from gql_analytics.adapters.kafka.options import KafkaOptions


def new_producer(options: KafkaOptions, *, linger_ms: int = 0) -> AIOKafkaProducer[bytes, bytes]:
    """The gateway's producer: every write waits for all in-sync replicas (``acks=all``);
    idempotence as configured (event ids already make retries harmless); a request, and a batch
    not yet acknowledged, expire after ``options.timeout`` (aiokafka's default: 40 s). Call it
    inside the running event loop, which aiokafka clients belong to."""
    return AIOKafkaProducer(
        bootstrap_servers=options.bootstrap_servers,
        acks="all",
        enable_idempotence=options.idempotence,
        linger_ms=linger_ms,
        request_timeout_ms=int(options.timeout * 1000),
    )
