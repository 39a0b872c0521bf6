"""``gql-analytics``: serve, consume, export-schema, demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import sys
from collections.abc import Sequence

from gql_analytics import settings as settings_module
from gql_analytics.settings import flags

SHUTDOWN_GRACE = 10  # seconds after SIGTERM before requests still running are cancelled


def main(argv: Sequence[str] | None = None) -> int:
    from gql_analytics.errors import GatewayError

    try:
        return _main(argv)
    except settings_module.SettingsError as error:  # as argparse says of a bad flag
        print(f"gql-analytics: {error}", file=sys.stderr)
        return 2
    except GatewayError as error:  # what an operator can fix: one line, no traceback
        print(f"gql-analytics: {error.message}", file=sys.stderr)
        return 1


def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="gql-analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve /graphql (GraphiQL in a browser)")
    flags.add_arguments(serve)
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    consume = commands.add_parser("consume", help="run the Kafka consumer alone (a worker)")
    flags.add_arguments(consume)
    consume.add_argument(
        "--exit-at-end",
        action="store_true",
        help="stop once every assigned partition is read to its end (backfills, tests)",
    )
    produce = commands.add_parser("produce", help="send realistic live traffic to a Kafka topic")
    produce.add_argument(
        "--kafka", default=os.environ.get("GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    produce.add_argument("--topic", default="analytics.events")
    produce.add_argument(
        "--shape", choices=("event", "metric", "task", "seed-task"), default="event"
    )
    produce.add_argument("--count", type=int, default=1000)
    produce.add_argument(
        "--rate", type=float, default=100.0, help="messages per second; 0: no limit"
    )
    produce.add_argument("--seed", type=int, default=7)
    keys = commands.add_parser("keys", help="create, list and revoke API keys (server may be down)")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser(
        "create", help="a new key; printed once, alone on the last line"
    )
    create.add_argument("--tenant", required=True)
    create.add_argument("--role", required=True, help="ingest, read or admin")
    create.add_argument("--name", help="what the key is for")
    listing = key_commands.add_parser("list", help="every key (of --tenant), without secrets")
    listing.add_argument("--tenant")
    revoke = key_commands.add_parser("revoke", help="a key that opens nothing any more")
    revoke.add_argument("key_id")
    dimensions = commands.add_parser(
        "dimensions", help="declare which event properties and metric tags split the rollups"
    )
    dimension_commands = dimensions.add_subparsers(dest="dimensions_command", required=True)
    declare = dimension_commands.add_parser(
        "declare", help="make these keys the tenant's dimensions (a kind not given is kept)"
    )
    declare.add_argument("--tenant", default="default")
    declare.add_argument("--events", help="event property keys, comma separated ('' for none)")
    declare.add_argument("--metrics", help="metric tag keys, comma separated ('' for none)")
    declare.add_argument(
        "--max-values", type=int, default=1000, help="the most values each key splits by"
    )
    shown = dimension_commands.add_parser("list", help="the declared dimensions")
    shown.add_argument("--tenant")
    for command in (create, listing, revoke, declare, shown):
        command.add_argument(
            "--store",
            dest="store_url",
            default=os.environ.get("GQL_ANALYTICS_STORE_URL", settings_module.DEFAULT_STORE_URL),
        )
    demo = commands.add_parser("demo", help="send 30 days of realistic synthetic traffic")
    demo.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    demo.add_argument("--users", type=int, default=200)
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--api-key",
        default=os.environ.get("GQL_ANALYTICS_API_KEY"),
        help="an ingest (or admin) key, for a server with auth on",
    )
    arguments = parser.parse_args(argv)

    if arguments.command == "export-schema":
        from gql_analytics.entrypoints.graphql.schema import export_sdl

        sys.stdout.write(export_sdl())
        return 0
    if arguments.command == "produce":
        from gql_analytics.commands import traffic

        sent = asyncio.run(
            traffic.produce(
                arguments.kafka,
                arguments.topic,
                arguments.shape,
                arguments.count,
                arguments.rate,
                arguments.seed,
            )
        )
        print(f"produced {sent} {arguments.shape} messages to {arguments.topic}", file=sys.stderr)
        return 0
    if arguments.command == "keys":
        from gql_analytics.commands.keys import manage_keys

        return asyncio.run(manage_keys(arguments))
    if arguments.command == "dimensions":
        from gql_analytics.commands.dimensions import manage_dimensions

        return asyncio.run(manage_dimensions(arguments))
    if arguments.command == "demo":
        from gql_analytics.commands.demo import send_demo

        return send_demo(
            arguments.url,
            users=arguments.users,
            days=arguments.days,
            seed=arguments.seed,
            api_key=arguments.api_key,
        )
    settings = flags.from_arguments(arguments)
    _configure_logging(settings)
    if arguments.command == "consume":
        return _consume(settings, exit_at_end=arguments.exit_at_end)
    return _serve(settings)


def _configure_logging(settings: settings_module.Settings) -> None:
    from gql_analytics.observability import logs

    logs.configure(settings.log_level)


def _consume(settings: settings_module.Settings, *, exit_at_end: bool) -> int:
    """Consume until SIGTERM or SIGINT (finish the batch, commit, leave the group) and exit 0."""
    from gql_analytics import bootstrap

    async def run() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stopping.set)
        await bootstrap.consume(settings, stopping, exit_at_end=exit_at_end)

    asyncio.run(run())
    return 0


def _tune_interpreter() -> None:
    """Set for a server that is busy with many sockets (bench/live.py: 10,000 subscriptions)."""
    _collect_garbage_seldom()
    # A store call returns to a thread that must take the interpreter back from a busy event
    # loop; by default that waits for the loop to give it up, up to 5 ms, after every SQL
    # statement. With 1 ms, a batch was applied and pushed twice as soon (p50 1.0 -> 0.65 s).
    sys.setswitchinterval(0.001)


def _collect_garbage_seldom() -> None:
    """A server's objects mostly live long (modules, the schema, every subscription's state)
    or die young without cycles (freed by their reference counts at once). Python's default
    collector, made for short scripts, traversed the long-lived ones again and again: under
    10,000 live subscriptions it took a third of the event loop (bench/live.py). The objects of
    start-up are set aside for good, and the young generation is collected after 50,000 net
    allocations instead of 700 (a pause of a few milliseconds, a few times a minute)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _serve(settings: settings_module.Settings) -> int:
    import uvicorn

    from gql_analytics.bootstrap import create_app
    from gql_analytics.entrypoints.http.ws_protocol import WebSocketProtocol

    app = create_app(settings)
    _tune_interpreter()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        # In-flight requests get this long after SIGTERM; then they are cancelled and shutdown
        # goes on. Without it a runAnalysis(wait: true) holds the gateway until its job ends,
        # or for ever if that job can never start.
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
        log_config=None,  # uvicorn's loggers write through ours: JSON lines, or text on a tty
        ws=WebSocketProtocol,  # websockets' sans-I/O protocol, each turn's frames in one write
        # Deflating each small live message costs more CPU than all the rest of sending it.
        ws_per_message_deflate=settings.ws_compression,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
