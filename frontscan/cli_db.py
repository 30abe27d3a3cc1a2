"""`frontscan db …`: which database commands use, the embedded PostgreSQL, migrations."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer

from frontscan.cli_parts import LazyCommands
from frontscan.cli_run import ConfigOption, run_guarded, settings_for

db_app = typer.Typer(
    cls=LazyCommands,
    help="The database: which one commands use (DATABASE_URL, else the embedded PostgreSQL), "
    "starting and stopping the embedded one, migrations.",
    no_args_is_help=True,
)


@db_app.command("status")
def db_status(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Say which database commands use, and whether the embedded PostgreSQL is running.

    Starts nothing. The embedded server lives under the user data dir (or
    FRONTSCAN_DATA_DIR) and keeps running between commands until `frontscan db stop`.
    """
    from frontscan.ledger import lifecycle

    def body() -> None:
        settings = settings_for(config)
        if as_json:
            print(json.dumps(lifecycle.status_object(settings)))
        else:
            print("\n".join(lifecycle.status_lines(settings)))

    run_guarded(body, json_errors=as_json)


@db_app.command("start")
def db_start(config: ConfigOption = None) -> None:
    """Start the embedded PostgreSQL (any command that needs it starts it too)."""
    from frontscan.ledger import lifecycle

    run_guarded(lambda: print(lifecycle.start(settings_for(config))))


@db_app.command("stop")
def db_stop(config: ConfigOption = None) -> None:
    """Stop the embedded PostgreSQL; its data stays, and the next command starts it again."""
    from frontscan.ledger import lifecycle

    run_guarded(lambda: print(lifecycle.stop(settings_for(config))))


@db_app.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply pending schema migrations (every command that needs the database does this too)."""
    from frontscan.ledger import connect

    def body() -> None:
        applied = asyncio.run(connect.migrate(settings_for(config)))
        print(f"applied migrations {applied}" if applied else "the schema is up to date")

    run_guarded(body)


@db_app.command("url")
def db_url(config: ConfigOption = None) -> None:
    """Print the database DSN in use, password redacted (starts the embedded server if needed)."""
    from frontscan.ledger import connect

    run_guarded(lambda: print(connect.shown_dsn(settings_for(config))))
