"""`frontscan status`: empty ledgers, real scans, the failure list, and the real CLI."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from rich.console import Console
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.config import DatabaseSettings, Secret, Settings
from frontscan.ledger.connect import migrate
from frontscan.ledger.dsn import redact_dsn
from frontscan.models import RunStats
from frontscan.simulator.runtime import running_simulator
from frontscan.status import FAILED_SHOWN, StatusReport, collect, render
from frontscan.window import CRON_OVERLAP_SECONDS
from tests.scanning import START, fast_options, run_scan, settings_for

runner = CliRunner()
KEYS = {
    "runs", "totals", "watermark", "failed_conversations", "failed_conversations_not_shown",
    "batches", "shipments_today",
}  # fmt: skip


def rendered(report: StatusReport, *, json_mode: bool) -> str:
    out = io.StringIO()
    render(report, json_mode=json_mode, console=Console(file=out, width=200))
    return out.getvalue()


def iso_time(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


async def one_row(dsn: str, query: str) -> tuple[object, ...]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(query)
        row = await cursor.fetchone()
    assert row is not None
    return tuple(row)


def test_status_of_an_empty_database_through_the_cli(database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.strip().splitlines()) == 1  # one JSON object, nothing else
    assert json.loads(result.stdout) == {
        "database": redact_dsn(database_url),  # the database it read, password hidden
        "runs": [],
        "totals": {
            "conversations": 0,
            "messages": 0,
            "tracking_numbers": 0,
            "failed_conversations": 0,
            "numbers_by_carrier": {},
        },
        "watermark": {"last_completed_run_start": None, "next_cron_after": None},
        "failed_conversations": [],
        "failed_conversations_not_shown": 0,
        "shipments_today": {"by_status": {}, "by_status_and_carrier": []},
        "batches": None,  # no OpenAI batch submitted yet
    }
    human = runner.invoke(app, ["status"], env=env)
    assert human.exit_code == 0, human.output
    assert "No scans recorded yet" in human.stdout
    assert "Watermark: none yet" in human.stdout


async def test_status_after_real_scans_matches_the_ledger(database_url: str) -> None:
    async with running_simulator(fast_options(30)) as sim:
        settings = settings_for(sim, database_url)
        first = await run_scan(settings, after=START.timestamp())
        cron = await run_scan(settings)  # continues from the first run: no new mail since
    report = await collect(settings, runs=10)
    data = json.loads(rendered(report, json_mode=True))

    assert set(data) == KEYS
    assert [r["id"] for r in data["runs"]] == [cron.summary.run_id, first.summary.run_id]
    newest, oldest = data["runs"]
    assert oldest["status"] == newest["status"] == "succeeded"
    assert oldest["conversations_scanned"] == first.summary.stats.conversations_scanned == 30
    assert oldest["numbers_found"] == first.summary.stats.numbers_found > 0
    assert oldest["front_calls"] == first.summary.stats.front_calls
    assert oldest["openai_calls"] == first.summary.stats.openai_calls
    # One vocabulary: every counter `scan --json` reports is in the run row by that name.
    scanned = json.loads(first.summary.to_json())
    for name in (f.name for f in dataclasses.fields(RunStats)):
        assert name in scanned
        assert oldest[name] == getattr(first.summary.stats, name), name
    assert oldest["cost_usd"] == round(first.summary.cost_usd, 6)
    assert iso_time(oldest["window_after"]) == START
    assert oldest["window_before"] is None
    duration = (iso_time(oldest["finished_at"]) - iso_time(oldest["started_at"])).total_seconds()
    assert oldest["duration_seconds"] == round(duration, 3) > 0
    # The ledger divides by its own epoch seconds, this test by the ISO times: at a rounding
    # boundary (72.9425) the third decimal may differ, nothing more.
    assert oldest["throughput_per_second"] == pytest.approx(30 / duration, abs=0.002, rel=1e-3)
    assert newest["conversations_scanned"] == 0
    overlap = timedelta(seconds=CRON_OVERLAP_SECONDS)
    assert iso_time(newest["window_after"]) == iso_time(oldest["started_at"]) - overlap

    conversations, messages, numbers, failed = await one_row(
        database_url,
        "SELECT (SELECT count(*) FROM frontscan.conversations),"
        " (SELECT count(*) FROM frontscan.messages),"
        " (SELECT count(*) FROM frontscan.tracking_numbers),"
        " (SELECT count(*) FROM frontscan.conversations WHERE status = 'failed')",
    )
    totals = data["totals"]
    assert (conversations, messages, numbers, failed) == (
        totals["conversations"],
        totals["messages"],
        totals["tracking_numbers"],
        totals["failed_conversations"],
    )
    assert (conversations, failed) == (30, 0)
    assert sum(totals["numbers_by_carrier"].values()) == numbers
    assert data["failed_conversations"] == []

    (started,) = await one_row(database_url, "SELECT max(started_at) FROM frontscan.runs")
    assert isinstance(started, datetime)
    watermark = data["watermark"]
    assert iso_time(watermark["last_completed_run_start"]) == started
    assert iso_time(watermark["next_cron_after"]) == started - overlap
    assert [r.id for r in (await collect(settings, runs=1)).runs] == [cron.summary.run_id]

    human = rendered(report, json_mode=False)
    assert "Recent runs" in human
    assert "succeeded" in human
    assert f"{numbers:,} tracking numbers" in human
    assert "Tracking numbers by carrier" in human
    assert "the next cron run scans after" in human


async def test_failed_conversations_are_listed_capped_and_printed_verbatim(
    database_url: str,
) -> None:
    settings = Settings(database=DatabaseSettings(url=Secret(database_url)))
    await migrate(settings)
    extra = 7
    now = datetime.now(UTC)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for i in range(FAILED_SHOWN + extra):
            await conn.execute(
                "INSERT INTO frontscan.conversations"
                " (id, subject, status, attempts, last_error, updated_at)"
                " VALUES (%s, %s, 'failed', %s, %s, %s)",
                (
                    f"cnv_{i:03d}",
                    f"[bold]Order[/bold] {i}",
                    1 + i % 3,
                    "Front GET /conversations/x/messages: 503",
                    now - timedelta(minutes=i),
                ),
            )
    report = await collect(settings)
    data = json.loads(rendered(report, json_mode=True))
    assert data["totals"]["failed_conversations"] == FAILED_SHOWN + extra
    assert data["failed_conversations_not_shown"] == extra
    shown = data["failed_conversations"]
    assert len(shown) == FAILED_SHOWN
    assert shown[0] == {
        "id": "cnv_000",
        "subject": "[bold]Order[/bold] 0",
        "attempts": 1,
        "last_error": "Front GET /conversations/x/messages: 503",
        "updated_at": shown[0]["updated_at"],
    }
    assert [f["id"] for f in shown] == [f"cnv_{i:03d}" for i in range(FAILED_SHOWN)]  # newest
    assert abs(iso_time(shown[0]["updated_at"]) - now) < timedelta(milliseconds=1)

    human = rendered(report, json_mode=False)
    assert "[bold]Order[/bold] 0" in human  # data is not rich markup
    assert f"and {extra} more failed conversations" in human
    assert "--retry-failed" in human


def test_status_cli_human_output_after_a_scan(database_url: str) -> None:
    async def scan() -> None:
        async with running_simulator(fast_options(10)) as sim:
            await run_scan(settings_for(sim, database_url), after=START.timestamp())

    asyncio.run(scan())
    result = runner.invoke(app, ["status", "--runs", "3"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "Recent runs" in result.stdout
    assert "succeeded" in result.stdout
    assert "10 conversations" in result.stdout
