"""`frontscan status`: what the ledger says, for the operator and for monitoring.

Only the database is read (no Front or OpenAI call), so it is cheap from cron or a health
check. Runs show whether scans keep up (throughput) and what they cost; the watermark is
where the next cron run starts, the first thing to check when numbers seem missing; the
failed conversations, with their last error, are what `--retry-failed` would pick up.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from frontscan.batch.report import BatchTotals
from frontscan.config import Settings
from frontscan.ledger.batches import BatchLedger
from frontscan.ledger.connect import open_store
from frontscan.ledger.rows import FailedConversation, RunRow, Totals
from frontscan.window import CRON_OVERLAP_SECONDS, duration, iso

FAILED_SHOWN = 50  # a long failure list is a symptom; the count says how big it is


@dataclass(frozen=True, slots=True)
class StatusReport:
    runs: tuple[RunRow, ...]  # newest first
    totals: Totals
    failed: tuple[FailedConversation, ...]  # newest failure first, at most FAILED_SHOWN
    last_completed_run_start: float | None  # the cron watermark (None: no completed run)
    # (status, carrier, parcels) whose latest status was stated today, UTC
    shipments_today: tuple[tuple[str, str, int], ...] = ()
    batches: BatchTotals | None = None  # OpenAI Batch API backfills, when there were any

    @property
    def next_cron_after(self) -> float | None:
        start = self.last_completed_run_start
        return None if start is None else start - CRON_OVERLAP_SECONDS

    @property
    def failed_not_shown(self) -> int:
        return max(0, self.totals.failed_conversations - len(self.failed))


async def collect(settings: Settings, *, runs: int = 10) -> StatusReport:
    """Read the report from the ledger (read-only queries, besides pending migrations)."""
    async with open_store(settings) as store:
        batch_totals = BatchTotals(**await BatchLedger(store).totals())
        return StatusReport(
            runs=tuple(await store.recent_runs(runs)),
            totals=await store.totals(),
            failed=tuple(await store.failed_shown(FAILED_SHOWN)),
            last_completed_run_start=await store.last_completed_run_start(),
            shipments_today=tuple(await store.shipments_today()),
            batches=batch_totals if batch_totals.batches else None,
        )


def _run(run: RunRow) -> dict[str, Any]:
    """A run for `--json`: the counters under the names `scan --json` uses too."""
    return {
        "id": run.id,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "status": run.status,
        "window_after": iso(run.window.after),
        "window_before": iso(run.window.before),
        **asdict(run.stats),
        "cost_usd": run.cost_usd,
        "error": run.error,
        "duration_seconds": _rounded(run.duration_seconds),
        "throughput_per_second": _rounded(run.throughput),
        "tokens_per_call": _rounded(run.tokens_per_call),
        "cost_per_1000": _rounded(run.cost_per_1000),
    }


def _failed(item: FailedConversation) -> dict[str, Any]:
    return {f.name: getattr(item, f.name) for f in fields(item)} | {
        "updated_at": iso(item.updated_at)
    }


def to_json(report: StatusReport) -> dict[str, Any]:
    """The `--json` object: ISO 8601 UTC times, stable keys, no rich markup."""
    t = report.totals
    return {
        "runs": [_run(r) for r in report.runs],
        "totals": {
            "conversations": t.conversations,
            "messages": t.messages,
            "tracking_numbers": t.tracking_numbers,
            "failed_conversations": t.failed_conversations,
            "numbers_by_carrier": dict(t.by_carrier),
        },
        "watermark": {
            "last_completed_run_start": iso(report.last_completed_run_start),
            "next_cron_after": iso(report.next_cron_after),
        },
        "failed_conversations": [_failed(f) for f in report.failed],
        "failed_conversations_not_shown": report.failed_not_shown,
        "shipments_today": {
            "by_status": _by_status(report.shipments_today),
            "by_status_and_carrier": [
                {"status": status, "carrier": carrier, "parcels": parcels}
                for status, carrier, parcels in report.shipments_today
            ],
        },
        "batches": None if report.batches is None else report.batches.to_json(),
    }


def _by_status(rows: tuple[tuple[str, str, int], ...]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for status, _, parcels in rows:
        totals[status] = totals.get(status, 0) + parcels
    return totals


def render(report: StatusReport, *, json_mode: bool, console: Console) -> None:
    """`--json`: one object on the console's file (stdout); otherwise rich tables."""
    if json_mode:
        console.file.write(json.dumps(to_json(report)) + "\n")
        console.file.flush()
        return
    console.print(*_runs_tables(report.runs) if report.runs else ["No scans recorded yet."])
    t = report.totals
    ledger = f"{t.conversations:,} conversations, {t.messages:,} messages, "
    ledger += f"{t.tracking_numbers:,} tracking numbers, {t.failed_conversations:,} failed"
    console.print(f"Ledger: {ledger}", highlight=False)
    if t.by_carrier:
        carriers = _table("Tracking numbers by carrier", "carrier", "numbers")
        for carrier, count in t.by_carrier:
            carriers.add_row(Text(carrier), f"{count:,}")
        console.print(carriers)
    if report.shipments_today:
        today = _table("Parcels with news today (UTC), by latest status", "status", "carrier",
                       "parcels")  # fmt: skip
        for status, carrier, parcels in report.shipments_today:
            today.add_row(Text(status), Text(carrier), f"{parcels:,}")
        console.print(today)
    console.print(
        "Watermark: none yet; the first scan needs --after YYYY-MM-DD."
        if report.last_completed_run_start is None
        else f"Watermark: last completed run started {_when(report.last_completed_run_start)}; "
        f"the next cron run scans after {_when(report.next_cron_after)}.",
        highlight=False,
    )
    if report.batches is not None:
        console.print(f"OpenAI batches: {report.batches.line()}", highlight=False)
    if report.failed:
        title = "Failed conversations (scan --retry-failed retries them)"
        failed = _table(title, "conversation", "subject", "attempts", "last error", "when")
        for f in report.failed:
            # Subjects and errors are data, not rich markup: Text() prints them verbatim.
            failed.add_row(Text(f.id), Text(f.subject), str(f.attempts), Text(f.last_error or ""),
                           _when(f.updated_at))  # fmt: skip
        console.print(failed)
        if report.failed_not_shown:
            console.print(f"… and {report.failed_not_shown:,} more failed conversations.")


_LEFT = frozenset({"started (UTC)", "status", "window", "carrier", "conversation", "subject",
                   "last error", "when"})  # fmt: skip
_WRAPS = frozenset({"started (UTC)", "window", "subject", "last error"})


def _table(title: str, *headers: str) -> Table:
    table = Table(*headers, title=title, box=box.SIMPLE_HEAD, min_width=len(title) + 2)
    for column in table.columns:
        column.no_wrap = column.header not in _WRAPS
        column.justify = "left" if column.header in _LEFT else "right"
    return table


def _runs_tables(runs: tuple[RunRow, ...]) -> tuple[Table, Table, Table]:
    """Three narrow tables rather than one wide one, so each reads in 80 columns."""
    timing = _table("Recent runs (newest first)", "run", "started (UTC)", "took", "status",
                    "window", "conv/s", "cost")  # fmt: skip
    counts = _table("Run counters", "run", "scanned", "skipped", "failed", "numbers",
                    "Front calls", "OpenAI calls")  # fmt: skip
    spend = _table("OpenAI spend", "run", "calls", "avoided", "tokens/call", "$/1000 conv")
    for r in runs:
        timing.add_row(
            str(r.id),
            _when(r.started_at),
            duration(r.duration_seconds),
            r.status,
            f"{_when(r.window.after) or '…'} → {_when(r.window.before) or 'now'}",
            "" if r.throughput is None else f"{r.throughput:,.1f}",
            f"${r.cost_usd:,.4f}",
        )
        n = r.stats
        numbers = (n.conversations_scanned, n.conversations_skipped, n.conversations_failed,
                   n.numbers_found, n.front_calls, n.openai_calls)  # fmt: skip
        counts.add_row(str(r.id), *(f"{n:,}" for n in numbers))
        spend.add_row(
            str(r.id),
            f"{r.stats.openai_calls:,}",
            f"{r.stats.model_calls_avoided:,}",
            "-" if r.tokens_per_call is None else f"{r.tokens_per_call:,.0f}",
            "-" if r.cost_per_1000 is None else f"${r.cost_per_1000:,.4f}",
        )
    return timing, counts, spend


def _when(seconds: float | None) -> str:
    """A compact UTC time for tables, to the minute (the JSON keeps full ISO 8601)."""
    text = iso(seconds)
    return "" if text is None else text[:16].replace("T", " ")


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
