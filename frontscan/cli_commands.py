"""The commands besides `scan`: the detector alone, the demo, and what reads the ledger.

Each is registered on the top-level app by `cli.py`, in the order `--help` lists them.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from frontscan.cli_run import (
    ConfigOption,
    announce_database,
    err_console,
    note,
    run_guarded,
    settings_for,
)
from frontscan.errors import UsageError


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
        settings = settings_for(None)
        tty = sys.stderr.isatty()

        def reporter_for(label: str) -> ScanReporter:
            return make_reporter(tty=tty, label=label)

        console = Console()
        asyncio.run(
            run_demo(settings, reporter_for, console, conversations=conversations, seed=seed)
        )

    run_guarded(body)


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
        settings = settings_for(config)
        database = announce_database(connect.prepare(settings))
        report = asyncio.run(status_module.collect(settings, runs=runs))
        if as_json:
            print(json.dumps(status_module.to_json(report) | {"database": database}))
            return
        print(f"Database: {database}")
        status_module.render(report, json_mode=False, console=Console())

    run_guarded(body, json_errors=as_json)


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
            batches_module.collect(settings_for(config), wait=wait, poll_seconds=poll, note=note)
        )
        batches_module.render(report, json_mode=as_json, console=Console())

    run_guarded(body, json_errors=as_json)


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
        settings = settings_for(config)
        database = announce_database(connect.prepare(settings))
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
                    settings_for(config), history, output_format, sys.stdout
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
            shipments_module.list_shipments(settings_for(config), where, output_format, sys.stdout)
        )

    run_guarded(body)
