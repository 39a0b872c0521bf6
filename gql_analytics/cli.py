"""``gql-analytics``: serve, export-schema, demo."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from gql_analytics import settings as settings_module


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gql-analytics", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve /graphql (GraphiQL in a browser)")
    settings_module.add_arguments(serve)
    commands.add_parser("export-schema", help="print the GraphQL SDL")
    demo = commands.add_parser("demo", help="send 30 days of realistic synthetic traffic")
    demo.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    demo.add_argument("--users", type=int, default=200)
    demo.add_argument("--days", type=int, default=30)
    demo.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args(argv)

    if arguments.command == "export-schema":
        from gql_analytics.api.schema import export_sdl

        sys.stdout.write(export_sdl())
        return 0
    if arguments.command == "demo":
        from gql_analytics.demo import send_demo

        return send_demo(
            arguments.url, users=arguments.users, days=arguments.days, seed=arguments.seed
        )
    return _serve(settings_module.from_arguments(arguments))


def _serve(settings: settings_module.Settings) -> int:
    import uvicorn

    from gql_analytics.app import create_app

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        ws="websockets-sansio",  # uvicorn's default websockets backend is the deprecated legacy one
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
