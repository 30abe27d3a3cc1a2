"""The command line: parse options, build Settings, run one coroutine, map errors to exit codes.

No business logic or SQL lives here; each command hands off to one function. This module
holds the app, its global options, `scan` and `check`; the other commands are in
`cli_commands.py` and `cli_db.py`, how each runs (errors to exit codes) in `cli_run.py`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from frontscan import __version__, cli_commands
from frontscan.cli_db import db_app
from frontscan.cli_parts import (
    FrontHeadroomOption,
    FrontReserveOption,
    FrontRpmOption,
    OpenAIRpmOption,
    OpenAITpmOption,
    RootCommands,
)
from frontscan.cli_run import ConfigOption, err_console, run_guarded, set_debug, settings_for
from frontscan.errors import EXIT_USAGE

app = typer.Typer(
    cls=RootCommands,
    name="frontscan",
    help=(
        "Find shipment tracking numbers in Front conversations and keep them in PostgreSQL.\n\n"
        "Secrets come from the environment: FRONT_API_TOKEN, OPENAI_API_KEY, DATABASE_URL."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"frontscan {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="On an error, also print its traceback with every chained cause."
        ),
    ] = False,
    log_level: Annotated[
        str,
        typer.Option(
            "--log-level",
            help="Log lines on stderr from this level: DEBUG, INFO, WARNING or ERROR.",
        ),
    ] = "WARNING",
    log_file: Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            help="Also append every INFO (or lower) record to this file, one JSON object a line.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options, before the command: `frontscan --log-file scan.jsonl scan ...`."""
    from frontscan import logs

    set_debug(debug)
    run_guarded(lambda: logs.configure(log_level, log_file))


@app.command()
def scan(
    after: Annotated[
        str | None,
        typer.Option(
            help="Scan conversations with activity after this date (YYYY-MM-DD, UTC, or ISO 8601). "
            "Omit it under cron to continue from the last completed scan (minus 10 minutes).",
            show_default=False,
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(help="Only conversations with activity before this date.", show_default=False),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help="Conversations in flight at once (env FRONTSCAN_SCAN_CONCURRENCY, default 20).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            help="Conversations per database commit and timing line; a partial batch "
            "commits after 10 s anyway (env FRONTSCAN_SCAN_BATCH_SIZE, default 50).",
            show_default=False,
        ),
    ] = None,
    llm: Annotated[
        str | None,
        typer.Option(
            help="auto: ask the model only where the detector sees a candidate; always; never "
            "(patterns only, no OpenAI key needed) (env FRONTSCAN_SCAN_LLM, default auto).",
            show_default=False,
        ),
    ] = None,
    inbox: Annotated[
        str | None, typer.Option(help="Only this inbox (an inb_... id).", show_default=False)
    ] = None,
    query: Annotated[
        str | None,
        typer.Option(
            help="Extra Front search terms, e.g. 'tag:tag_123' or 'shipment'.", show_default=False
        ),
    ] = None,
    rescan: Annotated[
        bool,
        typer.Option(
            "--rescan", help="Ignore the ledger for this window and read every message again."
        ),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            "--retry-failed",
            help="Re-process only conversations whose last attempt failed, whatever their dates.",
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Stop after this many conversations.", show_default=False),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="List what would be scanned with the estimated OpenAI calls, "
            "tokens and cost; call no model and write nothing.",
        ),
    ] = False,
    max_cost: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="Stop cleanly before the estimated OpenAI spend (USD) would pass this.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="events: read Front's event stream (about 1 call per 15 messages; needs the "
            "events:*:read scope); search: search, then list each conversation's messages "
            "(about 1 call per conversation); auto: events when the token can and event "
            "messages carry bodies, else search with a note (env FRONTSCAN_FRONT_SOURCE, "
            "default auto).",
            show_default=False,
        ),
    ] = None,
    openai_batch: Annotated[
        bool,
        typer.Option(
            "--openai-batch",
            help="Send the model calls through the OpenAI Batch API: half the price, "
            "answers within 24 h, collected by later scans or `frontscan batches` "
            "(env FRONTSCAN_OPENAI_BATCH).",
        ),
    ] = False,
    batch_older_than: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            help="With --openai-batch: batch only conversations quiet for this many days; "
            "newer ones go online now (env FRONTSCAN_OPENAI_BATCH_OLDER_THAN_DAYS, default 0).",
            show_default=False,
        ),
    ] = None,
    slice_days: Annotated[
        float,
        typer.Option(
            help="Split the window into slices of this many days, so backfills checkpoint."
        ),
    ] = 7.0,
    front_rpm: FrontRpmOption = None,
    front_headroom: FrontHeadroomOption = None,
    front_reserve: FrontReserveOption = None,
    openai_rpm: OpenAIRpmOption = None,
    openai_tpm: OpenAITpmOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object on stdout.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Scan Front conversations for tracking numbers and record them in PostgreSQL.

    Needs FRONT_API_TOKEN, OPENAI_API_KEY (unless --llm never) and optionally
    DATABASE_URL (else an embedded PostgreSQL). FRONT_API_URL and OPENAI_BASE_URL point
    at other hosts. Exit codes: 0 done, 1 some conversations failed (or --max-cost
    reached), 2 bad input or configuration, 75 another scan is running, 130 interrupted.
    """
    from frontscan import runner, window
    from frontscan.ledger import connect
    from frontscan.report import make_reporter
    from frontscan.summary import print_summary

    def body() -> None:
        settings = settings_for(
            config,
            **{
                "scan.concurrency": concurrency,
                "scan.batch_size": batch_size,
                "scan.llm": llm,
                "front.source": source,
                "front.rpm": front_rpm,
                "front.headroom": front_headroom,
                "front.reserve": front_reserve,
                "openai.rpm": openai_rpm,
                "openai.tpm": openai_tpm,
                "openai.batch": True if openai_batch else None,
                "openai.batch_older_than_days": batch_older_than,
            },
        )
        request = runner.ScanRequest(
            after=window.parse_when(after, "--after") if after else None,
            before=window.parse_when(before, "--before") if before else None,
            inbox=inbox,
            query=query,
            rescan=rescan,
            limit=limit,
            dry_run=dry_run,
            max_cost=max_cost,
            retry_failed=retry_failed,
            slice_days=slice_days,
        )
        reporter = make_reporter(tty=sys.stderr.isatty())
        with reporter:
            result = asyncio.run(runner.scan(settings, request, reporter))
        print_summary(
            result.summary,
            json_mode=as_json,
            console=Console(stderr=as_json),
            planned=result.planned if dry_run else None,
            database=connect.describe(settings),
        )
        problem = result.summary.problem
        if problem is not None and as_json:  # the object above already says it: no second one
            err_console.print(f"frontscan: {problem}", markup=False)
            raise typer.Exit(problem.exit_code)
        if problem is not None:
            raise problem

    run_guarded(body, json_errors=as_json)


@app.command()
def check(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout (for monitoring).")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Run this first: check FRONT_API_TOKEN, its scopes, OPENAI_API_KEY and the database.

    One line per check (ok, warn, fail with what to do), the limits Front and OpenAI
    state in their headers, and the source and limits a scan would use. About six Front
    calls and one tiny OpenAI call. Exit codes: 0 all usable, 2 something must be fixed.
    """
    from frontscan.check import run_checks

    def body() -> None:
        report = asyncio.run(run_checks(settings_for(config)))
        if as_json:
            print(json.dumps(report.as_json()))
        else:
            for line in report.lines():
                print(line)
        if not report.ok:
            raise typer.Exit(EXIT_USAGE)

    run_guarded(body)


app.command()(cli_commands.detect)
app.add_typer(db_app, name="db")
for command in (cli_commands.demo, cli_commands.status, cli_commands.batches,
                cli_commands.export, cli_commands.shipments):  # fmt: skip
    app.command()(command)


def main() -> None:
    from frontscan.streams import guard_stderr

    guard_stderr()
    app()
