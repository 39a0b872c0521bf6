"""Kafka ingestion: the consumer that applies topics to the store, and the producer behind the
ingest mutations when Kafka is on."""
