"""The deployment files, read as the tools would (no Docker engine runs here)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from gql_analytics.settings.flags import add_arguments, from_arguments

ROOT = Path(__file__).parent.parent


def test_the_compose_stack_runs_gateway_and_worker_on_a_mongodb_replica_set_and_kafka() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["mongo"]["image"] == "mongo:8"
    assert "--replSet" in services["mongo"]["command"]
    assert services["kafka"]["image"].startswith("apache/kafka")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for name, command in (("gateway", ["serve"]), ("worker", ["consume"])):
        service = services[name]
        assert (ROOT / "deploy" / service["build"]["context"] / "Dockerfile").is_file()
        assert service.get("command", command) == command
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        settings = from_arguments(
            parser.parse_args([]), env=service["environment"]
        )  # as the container reads it
        assert settings.store_url.startswith("mongodb://mongo:27017/")
        assert "replicaSet=rs0" in settings.store_url
        assert settings.kafka_bootstrap_servers == "kafka:9092"
        assert service["depends_on"]["mongo"] == {"condition": "service_healthy"}


def test_the_image_runs_as_a_user_with_a_health_check() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
    assert any(line.startswith("HEALTHCHECK ") for line in lines)
