"""`frontscan batches [--wait]`: show the submitted batches and collect the finished ones.

Collection is the same as at the start of every scan (`batch.collect.Collector`): safe to
run at any time, from cron too, beside a running scan (a batch is committed by whichever
collector claims it first; the other adds nothing). With `--wait` it polls until no batch
is open, collecting each as it finishes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from frontscan.batch.api import opened
from frontscan.batch.collect import Collector
from frontscan.batch.report import batch_json, batches_table
from frontscan.config import Settings
from frontscan.errors import ConfigError
from frontscan.ledger.batches import BatchLedger
from frontscan.ledger.connect import open_store
from frontscan.models import BatchStats

logger = logging.getLogger(__name__)
SHOWN = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchesReport:
    collected: BatchStats  # what this command collected; waiting = what still is
    recent: tuple[dict[str, Any], ...]


async def collect(
    settings: Settings,
    *,
    wait: bool,
    poll_seconds: float,
    note: Callable[[str], None] | None = None,
) -> BatchesReport:
    if not settings.openai.api_key:
        raise ConfigError("OPENAI_API_KEY is not set: export it to collect OpenAI batches")
    key = settings.openai.api_key.reveal()
    async with (
        opened(key, settings.openai.base_url) as client,
        open_store(settings, note=note) as store,
    ):
        ledger = BatchLedger(store)
        collector = Collector(
            client,
            ledger,
            completion_budget=settings.openai.max_completion_tokens,
            run_id=None,
        )
        stats = await collector.collect()
        while wait and stats.open_batches:
            logger.info(
                "%d requests wait in %d batches; next look in %.0f s",
                stats.waiting, stats.open_batches, poll_seconds,
                extra={"event": "batch.waiting", "waiting": stats.waiting,
                       "open_batches": stats.open_batches, "delay": poll_seconds},
            )  # fmt: skip
            if note is not None:
                note(f"waiting: {stats.waiting:,} requests in {stats.open_batches:,} batches")
            await asyncio.sleep(poll_seconds)
            stats = await collector.collect()
        recent = tuple(await ledger.recent(SHOWN))
    return BatchesReport(collected=stats, recent=recent)


def render(report: BatchesReport, *, json_mode: bool, console: Console) -> None:
    if json_mode:
        data = {"collected": batch_json(report.collected), "batches": list(report.recent)}
        console.file.write(json.dumps(data) + "\n")
        console.file.flush()
        return
    if not report.recent:
        console.print("No batches submitted yet (scan with --openai-batch).")
        return
    console.print(batches_table(report.recent))
    c = report.collected
    console.print(
        f"Collected now: {c.collected_batches:,} batches, {c.answered:,} answered, "
        f"{c.returned:,} back to the queue, {c.numbers_found:,} numbers, "
        f"${c.cost_usd:,.4f} (saved ${c.saved_usd:,.4f}). "
        f"Still waiting: {c.waiting:,} requests in {c.open_batches:,} batches.",
        highlight=False,
    )
