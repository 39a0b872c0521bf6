from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from gql_analytics import cli
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.entrypoints.graphql.schema import export_sdl
from gql_analytics.errors import Unauthenticated
from gql_analytics.services.auth.access import Principal
from gql_analytics.services.auth.authenticator import Authenticator
from gql_analytics.settings import Settings, SettingsError
from gql_analytics.settings.flags import add_arguments, from_arguments, with_table
from tests.api.sockets import TRANSPORT_WS
from tests.kafka.broker import free_port
from tests.support import GATEWAY, serving


def parse(argv: list[str], env: dict[str, str]) -> Settings:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return from_arguments(parser.parse_args(argv), env)


def test_defaults_serve_the_embedded_store_on_loopback() -> None:
    settings = parse([], {})
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.store_url == "duckdb:///./data/analytics.duckdb"


def test_environment_variables_configure_and_flags_win() -> None:
    env = {
        "GQL_ANALYTICS_HOST": "0.0.0.0",
        "GQL_ANALYTICS_PORT": "9000",
        "GQL_ANALYTICS_STORE_URL": "duckdb:///:memory:",
        "GQL_ANALYTICS_RETENTION_DAYS": "7",
    }
    from_env = parse([], env)
    assert (from_env.host, from_env.port, from_env.store_url) == (
        "0.0.0.0",
        9000,
        "duckdb:///:memory:",
    )
    assert from_env.retention is not None
    assert from_env.retention.days == 7
    flagged = parse(["--port", "8123", "--store", "duckdb:///x.duckdb"], env)
    assert (flagged.port, flagged.store_url) == (8123, "duckdb:///x.duckdb")


@pytest.mark.parametrize(
    ("text", "on"),
    [(t, True) for t in ("1", "true", "yes", "on", "ON", " True ")]
    + [(t, False) for t in ("0", "false", "no", "off", "Off")],
)
def test_a_switch_reads_every_usual_way_of_saying_yes_and_no(text: str, on: bool) -> None:
    settings = parse([], {"GQL_ANALYTICS_PRODUCTION": text, "GQL_ANALYTICS_GRAPHIQL": text})
    assert (settings.production, settings.graphiql) == (on, on)
    assert settings.graphiql_on is False  # production turns it off; off is off


@pytest.mark.parametrize(
    ("variable", "text", "complaint"),
    [
        ("GQL_ANALYTICS_PRODUCTION", "maybe", "1/0, true/false, yes/no or on/off"),
        ("GQL_ANALYTICS_AUTH", "sometimes", "keys (on) or none (off)"),
        ("GQL_ANALYTICS_PORT", "eighty", "a whole number"),
        ("GQL_ANALYTICS_RATE_LIMIT", "fast", "a number"),
    ],
)
def test_a_setting_that_cannot_be_read_stops_start_up_naming_its_variable(
    variable: str, text: str, complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SettingsError) as refused:
        parse([], {variable: text})
    assert str(refused.value).startswith(f"{variable}: {text!r} ")
    assert complaint in str(refused.value)
    monkey = pytest.MonkeyPatch()
    with monkey.context() as patched:
        patched.setenv(variable, text)
        assert cli.main(["serve"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"gql-analytics: {variable}: ")


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--port", "eighty"], "--port: 'eighty' is not a whole number"),
        (["--kafka-on-position-reset", "latest"], "is not one of earliest or pause"),
        (["--ready-timeout", "soon"], "--ready-timeout: 'soon' is not a number"),
    ],
)
def test_a_flag_that_cannot_be_read_stops_start_up_naming_the_flag(
    argv: list[str], complaint: str
) -> None:
    with pytest.raises(SettingsError, match=complaint):
        parse(argv, {})


def test_zero_retention_keeps_raw_records_for_ever() -> None:
    assert parse(["--retention-days", "0"], {}).retention is None


def test_export_schema_prints_the_sdl(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["export-schema"]) == 0
    assert capsys.readouterr().out == export_sdl()


def test_demo_reports_an_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(["demo", "--url", "http://127.0.0.1:9/graphql", "--users", "1", "--days", "1"])
        == 1
    )
    assert "could not send" in capsys.readouterr().err


def test_auth_is_on_unless_turned_off() -> None:
    assert parse([], {}).auth is True
    assert parse([], {"GQL_ANALYTICS_AUTH": "none"}).auth is False
    assert parse(["--no-auth"], {}).auth is False


def test_keys_are_created_listed_and_revoked_with_the_server_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = ["--store", f"duckdb:///{tmp_path / 'keys.duckdb'}"]
    assert cli.main(["keys", "create", "--tenant", "acme", "--role", "read", *store]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]  # the key alone, on the last line
    key_id = key.split("_")[1]
    assert asyncio.run(holder(tmp_path, key)) == Principal("acme", "read", key_id)
    assert cli.main(["keys", "list", *store]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed
    assert key not in listed  # the secret is shown once, at creation
    assert cli.main(["keys", "revoke", key_id, *store]) == 0
    assert "revoked" in capsys.readouterr().out
    with pytest.raises(Unauthenticated, match="revoked"):
        asyncio.run(holder(tmp_path, key))
    assert cli.main(["keys", "revoke", "nope", *store]) == 1
    assert cli.main(["keys", "create", "--tenant", "acme", "--role", "root", *store]) == 2


async def holder(tmp_path: Path, key: str) -> Principal:
    store = DuckDBStore(str(tmp_path / "keys.duckdb"))
    try:
        return await Authenticator(store).principal(key)
    finally:
        await store.close()


@pytest.mark.parametrize(("flags", "compressed"), [([], False), (["--ws-compression"], True)])
async def test_served_sockets_are_compressed_only_when_asked(
    flags: list[str], compressed: bool
) -> None:
    port = free_port()
    serve = [GATEWAY, "serve", "--no-auth"]
    served = [*serve, "--store", "duckdb:///:memory:", "--port", str(port), *flags]
    with serving(served, f"http://127.0.0.1:{port}/health"):
        # The client offers permessage-deflate, as browsers do.
        async with connect(f"ws://127.0.0.1:{port}/graphql", subprotocols=[TRANSPORT_WS]) as ws:
            assert ws.response is not None
            extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
            assert ("permessage-deflate" in extensions) is compressed


def test_a_duckdb_file_held_by_another_process_is_said_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    hold = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); input()"
    with subprocess.Popen(
        [sys.executable, "-c", hold, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "held"
            command = [GATEWAY, "keys", "list"]
            second = subprocess.run(
                [*command, "--store", f"duckdb:///{path}"],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        finally:
            holder.communicate("\n", timeout=60)
    assert second.returncode == 1
    assert "Traceback" not in second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert f"in use by another process (PID {holder.pid})" in lines[0]


def test_serve_cancels_the_requests_still_running_a_grace_after_sigterm(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import uvicorn

    options: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **given: options.update(given))
    monkeypatch.setattr(cli, "_tune_interpreter", lambda: None)  # process-wide: not in a test
    cli._serve(Settings(auth=False, store_url="duckdb:///:memory:"))
    # else a runAnalysis(wait: true) holds the gateway until its job ends, or for ever
    assert options["timeout_graceful_shutdown"] == cli.SHUTDOWN_GRACE


def test_the_readme_configuration_table_is_the_one_the_settings_declare() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert readme == with_table(readme), "the README's table drifted: make settings-table"
    for flag in ("--max-cost", "--[no-]production", "--kafka-topics", "--[no-]auth"):
        assert f"| `{flag}` |" in readme


def test_consume_without_kafka_says_how_to_give_it(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # the command configures logging
    monkey = pytest.MonkeyPatch()
    try:
        with monkey.context() as patched:
            patched.delenv("GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS", raising=False)
            assert cli.main(["consume"]) == 2
    finally:
        root.handlers[:], root.level = handlers, level
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == "gql-analytics: consume: give --kafka or GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS"


def test_settings_built_in_code_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GQL_ANALYTICS_PORT", "7")
    monkeypatch.setenv("GQL_ANALYTICS_PRODUCTION", "maybe")
    assert Settings().port == 8000  # as the code says, whatever the shell has
    assert parse([], {}).port == 8000  # the variables given, and those only
    assert Settings.read({"production": False}).port == 7  # the process's, for the command
