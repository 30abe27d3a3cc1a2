"""The command line: parse options, build Settings, run one coroutine, map errors to exit codes.

No business logic or SQL lives here; each command hands off to one function.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from frontscan import __version__
from frontscan.cli_parts import (
    FrontHeadroomOption,
    FrontReserveOption,
    FrontRpmOption,
    LazyCommands,
    OpenAIRpmOption,
    OpenAITpmOption,
    RootCommands,
)
from frontscan.config import Settings
from frontscan.errors import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    FrontscanError,
    UsageError,
)

if TYPE_CHECKING:
    from frontscan.ledger.connect import DatabaseInfo


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
db_app = typer.Typer(
    cls=LazyCommands,
    help="The database: which one commands use (DATABASE_URL, else the embedded PostgreSQL), "
    "starting and stopping the embedded one, migrations.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
T = TypeVar("T")
_debug = False


def _note(text: str) -> None:
    """A progress line on stderr; data in it (ids, errors) is not rich markup."""
    err_console.print(text, markup=False)


def run_guarded(action: Callable[[], T], *, json_errors: bool = False) -> T:
    """Run a command body; turn FrontscanError and Ctrl-C into a one-line message + exit code.

    With `--debug` the traceback comes first, with every chained cause (the library error
    a FrontscanError was translated from), but the exit code stays the error's own: cron
    and scripts must see the same code whether or not someone is debugging. With
    `json_errors` (a command's `--json`) stdout also gets the failure as its one object,
    so a cron log that collects stdout records every run, failed ones included.
    """
    try:
        return action()
    except FrontscanError as error:
        if _debug:
            err_console.file.write("".join(traceback.format_exception(error)))
        err_console.print(f"frontscan: {error}", markup=False)
        _json_error(json_errors, str(error), error.exit_code)
        raise typer.Exit(error.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("frontscan: interrupted", markup=False)
        _json_error(json_errors, "interrupted", EXIT_INTERRUPTED)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except BrokenPipeError:
        # The reader went away (`frontscan export | head`): stop quietly, like other tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(EXIT_FAILURES) from None


def _json_error(wanted: bool, message: str, exit_code: int) -> None:
    if wanted:
        print(json.dumps({"status": "error", "error": message, "exit_code": exit_code}))
        sys.stdout.flush()


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
    global _debug
    from frontscan import logs

    _debug = debug
    run_guarded(lambda: logs.configure(log_level, log_file))


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
    from frontscan.detector.files import load_document

    def body() -> None:
        if output_format not in ("jsonl", "table"):
            raise UsageError("--format must be 'jsonl' or 'table'")
        document = load_document(sys.stdin.buffer if source == "-" else Path(source))
        records = detector.detect_records(document.text, show_all, document.links)
        if output_format == "table":
            Console().print(detector.records_table(records))
        else:
            for record in records:
                print(json.dumps(record))

    run_guarded(body)


ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML settings file (else FRONTSCAN_CONFIG, ./frontscan.toml, the user config dir).",
        show_default=False,
    ),
]


def _settings(config: Path | None, **flags: object) -> Settings:
    from frontscan.config import load_settings

    return load_settings(flags, config_path=config)


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
        settings = _settings(
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
        settings = _settings(config)
        if as_json:
            print(json.dumps(lifecycle.status_object(settings)))
        else:
            print("\n".join(lifecycle.status_lines(settings)))

    run_guarded(body, json_errors=as_json)


@db_app.command("start")
def db_start(config: ConfigOption = None) -> None:
    """Start the embedded PostgreSQL (any command that needs it starts it too)."""
    from frontscan.ledger import lifecycle

    run_guarded(lambda: print(lifecycle.start(_settings(config))))


@db_app.command("stop")
def db_stop(config: ConfigOption = None) -> None:
    """Stop the embedded PostgreSQL; its data stays, and the next command starts it again."""
    from frontscan.ledger import lifecycle

    run_guarded(lambda: print(lifecycle.stop(_settings(config))))


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
        report = asyncio.run(run_checks(_settings(config)))
        if as_json:
            print(json.dumps(report.as_json()))
        else:
            for line in report.lines():
                print(line)
        if not report.ok:
            raise typer.Exit(EXIT_USAGE)

    run_guarded(body)


@db_app.command("migrate")
def db_migrate(config: ConfigOption = None) -> None:
    """Apply pending schema migrations (every command that needs the database does this too)."""
    from frontscan.ledger import connect

    def body() -> None:
        applied = asyncio.run(connect.migrate(_settings(config)))
        print(f"applied migrations {applied}" if applied else "the schema is up to date")

    run_guarded(body)


@db_app.command("url")
def db_url(config: ConfigOption = None) -> None:
    """Print the database DSN in use, password redacted (starts the embedded server if needed)."""
    from frontscan.ledger import connect

    run_guarded(lambda: print(connect.shown_dsn(_settings(config))))


@app.command()
def demo(
    conversations: Annotated[
        int, typer.Option(min=10, max=5000, help="Conversations in the simulated inbox.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the simulated inbox.")] = 1,
) -> None:
    """Try frontscan in a minute: no accounts, no database setup.

    Starts the simulator (fake Front and OpenAI on loopback) and the embedded PostgreSQL,
    runs a real scan and a cron run through the production code path, then the old
    fixed-batch design on the same inbox, each with its own progress bar and summary, and
    ends with the two side by side. The results stay in the embedded PostgreSQL (never in
    DATABASE_URL's), which keeps running afterwards: `frontscan db stop` stops it.
    """
    from frontscan.demo import run_demo
    from frontscan.report import ScanReporter, make_reporter

    def body() -> None:
        settings = _settings(None)
        tty = sys.stderr.isatty()

        def reporter_for(label: str) -> ScanReporter:
            return make_reporter(tty=tty, label=label)

        console = Console()
        asyncio.run(
            run_demo(settings, reporter_for, console, conversations=conversations, seed=seed)
        )

    run_guarded(body)


@app.command()
def status(
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
    runs: Annotated[int, typer.Option(min=1, help="How many recent runs to show.")] = 10,
    config: ConfigOption = None,
) -> None:
    """Show recent runs, totals, the cron watermark and the conversations that failed.

    Reads the ledger at DATABASE_URL, or the embedded PostgreSQL when it is unset (and
    names the one it read); `frontscan db status` says which without starting anything.
    """
    from frontscan import status as status_module
    from frontscan.ledger import connect

    def body() -> None:
        settings = _settings(config)
        database = _announce_database(connect.prepare(settings))
        report = asyncio.run(status_module.collect(settings, runs=runs))
        if as_json:
            print(json.dumps(status_module.to_json(report) | {"database": database}))
            return
        print(f"Database: {database}")
        status_module.render(report, json_mode=False, console=Console())

    run_guarded(body, json_errors=as_json)


def _announce_database(info: DatabaseInfo) -> str:
    """Say on stderr when this command started the embedded server; return its name."""
    if info.started:
        err_console.print(f"frontscan: {info.note()}", markup=False)
    return info.described()


@app.command()
def batches(
    wait: Annotated[
        bool,
        typer.Option("--wait", help="Keep polling until no batch is open, collecting each."),
    ] = False,
    poll: Annotated[
        float, typer.Option(min=0.1, help="With --wait: seconds between looks at OpenAI.")
    ] = 60.0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Show the OpenAI batches `scan --openai-batch` submitted; collect the finished ones.

    Collecting downloads each finished batch's answers, checks them as an online scan
    would and records them; expired or failed lines go back to the normal queue. Every
    scan collects too. Needs OPENAI_API_KEY; reads DATABASE_URL (else the embedded one).
    """
    from frontscan.batch import command as batches_module

    def body() -> None:
        report = asyncio.run(
            batches_module.collect(_settings(config), wait=wait, poll_seconds=poll, note=_note)
        )
        batches_module.render(report, json_mode=as_json, console=Console())

    run_guarded(body, json_errors=as_json)


@app.command()
def export(
    output_format: Annotated[
        str, typer.Option("--format", help="jsonl (one JSON object per line) or csv.")
    ] = "jsonl",
    after: Annotated[
        str | None,
        typer.Option(
            help="Only numbers first seen after this date (YYYY-MM-DD or ISO 8601).",
            show_default=False,
        ),
    ] = None,
    before: Annotated[
        str | None,
        typer.Option(help="Only numbers first seen before this date.", show_default=False),
    ] = None,
    carrier: Annotated[
        str | None,
        typer.Option(
            help="Only this carrier (e.g. ups, fedex, usps, dhl, royal_mail).", show_default=False
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", show_default=False
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Stream every stored tracking number, one record each, with its carrier's tracking page.

    Reads the ledger at DATABASE_URL, or the embedded PostgreSQL when it is unset; stderr
    ends with how many records came from which database.
    """
    from frontscan import export as export_module
    from frontscan import window
    from frontscan.ledger import connect

    def body() -> None:
        if output_format not in ("jsonl", "csv"):
            raise UsageError("--format must be 'jsonl' or 'csv'")
        options = export_module.ExportOptions(
            output_format=output_format,
            after=window.parse_when(after, "--after") if after else None,
            before=window.parse_when(before, "--before") if before else None,
            carrier=carrier,
        )
        window.check_order(options.after, options.before)
        settings = _settings(config)
        database = _announce_database(connect.prepare(settings))
        asyncio.run(export_module.check_carrier(settings, options))  # before -o empties a file
        if output is None:
            count = asyncio.run(export_module.export(settings, options, sys.stdout))
        else:
            try:
                with output.open("w", encoding="utf-8", newline="") as stream:
                    count = asyncio.run(export_module.export(settings, options, stream))
            except OSError as error:
                raise UsageError(f"cannot write {output}: {error.strerror}") from error
        err_console.print(f"exported {count:,} tracking numbers from {database}", markup=False)

    run_guarded(body)


@app.command()
def shipments(
    status: Annotated[
        str | None,
        typer.Option(
            help="Only parcels whose latest status is this: label_created, in_transit, "
            "out_for_delivery, delivered, exception, returned or unknown.",
            show_default=False,
        ),
    ] = None,
    carrier: Annotated[
        str | None, typer.Option(help="Only this carrier (e.g. ups, dhl).", show_default=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only parcels mentioned since this date (YYYY-MM-DD or ISO 8601).",
            show_default=False,
        ),
    ] = None,
    stale: Annotated[
        float | None,
        typer.Option(
            metavar="DAYS",
            help="Only parcels not delivered or returned that no mail mentioned for DAYS.",
            show_default=False,
        ),
    ] = None,
    order: Annotated[
        str | None,
        typer.Option(
            help="Only parcels of this order reference (e.g. W123456).", show_default=False
        ),
    ] = None,
    history: Annotated[
        str | None,
        typer.Option(
            metavar="NUMBER",
            help="Instead: every mention of this tracking number, oldest first (what each "
            "message said and when it was sent).",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="table, jsonl (one JSON object per line) or csv.")
    ] = "table",
    config: ConfigOption = None,
) -> None:
    """List parcels with the latest word on each: status, when and where it was said.

    Reads the ledger at DATABASE_URL, or the embedded database when it is unset.
    """
    from frontscan import shipments as shipments_module
    from frontscan import window

    def body() -> None:
        if history is not None:
            if any(v is not None for v in (status, carrier, since, stale, order)):
                raise UsageError("--history lists one parcel's mentions; drop the other filters")
            asyncio.run(
                shipments_module.parcel_history(
                    _settings(config), history, output_format, sys.stdout
                )
            )
            return
        where = shipments_module.ShipmentFilter(
            status=status,
            carrier=carrier,
            since=window.parse_when(since, "--since") if since else None,
            stale_days=stale,
            order=order,
        )
        asyncio.run(
            shipments_module.list_shipments(_settings(config), where, output_format, sys.stdout)
        )

    run_guarded(body)


def main() -> None:
    from frontscan.streams import guard_stderr

    guard_stderr()
    app()
