"""The command line: parse options, build Settings, run one coroutine, map errors to exit codes.

No business logic or SQL lives here; each command hands off to one function.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from frontscan import __version__
from frontscan.errors import EXIT_INTERRUPTED, FrontscanError, UsageError

app = typer.Typer(
    name="frontscan",
    help=(
        "Find shipment tracking numbers in Front conversations and keep them in PostgreSQL.\n\n"
        "Secrets come from the environment: FRONT_API_TOKEN, OPENAI_API_KEY, DATABASE_URL."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database commands: migrations and the DSN in use.", no_args_is_help=True)
app.add_typer(db_app, name="db")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")
_debug = False


def run_guarded(action: Callable[[], T]) -> T:
    """Run a command body; turn FrontscanError and Ctrl-C into a one-line message + exit code."""
    try:
        return action()
    except FrontscanError as error:
        if _debug:
            raise
        err_console.print(f"frontscan: {error}", markup=False)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("frontscan: interrupted", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _version(value: bool) -> None:
    if value:
        print(f"frontscan {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks instead of one-line errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    global _debug
    _debug = debug


@app.command()
def detect(
    source: Annotated[
        str, typer.Argument(help="A text, HTML or .eml file; '-' or nothing reads stdin.")
    ] = "-",
    show_all: Annotated[
        bool, typer.Option("--all", help="Also print low-confidence hints, marked as such.")
    ] = False,
    output_format: Annotated[
        str, typer.Option("--format", help="'jsonl' (one JSON object per line) or 'table'.")
    ] = "jsonl",
) -> None:
    """Print the tracking numbers the detector alone would store. No network, no database."""
    from frontscan import detect as detector

    def body() -> None:
        if output_format not in ("jsonl", "table"):
            raise UsageError("--format must be 'jsonl' or 'table'")
        text = detector.load_text(sys.stdin.buffer if source == "-" else Path(source))
        records = detector.detect_records(text, include_hints=show_all)
        if output_format == "table":
            Console().print(detector.records_table(records))
        else:
            for record in records:
                print(json.dumps(record))

    run_guarded(body)


def main() -> None:
    app()
