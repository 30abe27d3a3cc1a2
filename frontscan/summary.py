"""The end-of-run account: how a finished pipeline is summed up, judged and shown.

The same `Summary` feeds the table a person reads, the `--json` object cron keeps, and the
exit code: a run can end cleanly and still deserve a non-zero code (failures recorded,
`--max-cost` reached, interrupted).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Literal, TextIO

from rich.console import Console
from rich.table import Table

from frontscan.batch.report import batch_json, batch_rows
from frontscan.errors import FrontscanError, Interrupted, ItemError
from frontscan.models import BatchStats, Planned, RunStats, Window
from frontscan.prompt import BATCH_PRICE_FACTOR, worst_cost_usd
from frontscan.window import duration, iso

Status = Literal["succeeded", "partial", "failed", "interrupted"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """The end-of-run account, the same facts for the table, for `--json` and the exit code."""

    run_id: int | None
    status: Status
    window: Window
    stats: RunStats
    cost_usd: float  # online spend plus the batches collected by this run (server usage)
    wall_seconds: float
    bound_seconds: float
    stop_reason: str | None
    dry_run: bool
    max_cost: float | None = None  # what `--max-cost` was, for the message when it stopped
    batch: BatchStats | None = None  # the Batch API side, when this run had an OpenAI key
    database_away_seconds: float = 0.0  # the ledger's outages, ridden out (ledger.faults)
    database_outages: int = 0
    slices: int = 0  # the search windows the scan's window was split into (0: --retry-failed)
    slice_days: float = 0.0
    untrusted: tuple[str, ...] = ()  # Front listings that ended short (`frontscan.listing`)

    @property
    def ratio_to_bound(self) -> float:
        """bound / wall: 1.0 means the run went as fast as the rate limits allow."""
        return self.bound_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def tokens_per_call(self) -> float:
        """Prompt plus completion tokens (usage) per OpenAI call."""
        n = self.stats
        total = n.prompt_tokens + n.completion_tokens
        return total / n.openai_calls if n.openai_calls else 0.0

    @property
    def cost_per_1000(self) -> float:
        """Estimated OpenAI cost per 1,000 conversations scanned (USD)."""
        done = self.stats.conversations_scanned + self.stats.conversations_failed
        return 1000 * self.cost_usd / done if done else 0.0

    @property
    def problem(self) -> FrontscanError | None:
        """Why a run that ended cleanly still deserves a non-zero exit code, if it does."""
        if self.stop_reason == "max-cost":
            return ItemError(
                f"stopped before the estimated OpenAI spend passed --max-cost {self.max_cost}; "
                "the next run picks up the conversations left"
            )
        if self.stop_reason == "interrupted":
            return Interrupted(
                "interrupted: finished conversations are recorded; run the same command again "
                "to continue"
            )
        if self.untrusted:
            return ItemError(
                f"Front's listing was incomplete ({self.untrusted[0]}); what it listed is "
                "recorded, but this run does not move the cron watermark: the next run "
                "lists the window again"
            )
        if self.stats.conversations_failed:
            return ItemError(
                f"{self.stats.conversations_failed} conversations failed and were recorded; "
                "the next run retries them (see `frontscan status`)"
            )
        return None

    @property
    def exit_code(self) -> int:
        problem = self.problem
        return 0 if problem is None else problem.exit_code

    def to_json(self) -> str:
        """One line; the `RunStats` keys as they are named everywhere; floats rounded."""
        return json.dumps(self.as_dict())

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "run_id": self.run_id,
            "status": self.status,
            "window_after": iso(self.window.after),
            "window_before": iso(self.window.before),
            **asdict(self.stats),
            "cost_usd": round(self.cost_usd, 6),
            "wall_seconds": round(self.wall_seconds, 3),
            "bound_seconds": round(self.bound_seconds, 3),
            "stop_reason": self.stop_reason,
            "dry_run": self.dry_run,
            "ratio_to_bound": round(self.ratio_to_bound, 3),
            "tokens_per_call": round(self.tokens_per_call, 1),
            "cost_per_1000": round(self.cost_per_1000, 6),
            "batch": batch_json(self.batch),
        }
        data["throttled_seconds"] = round(self.stats.throttled_seconds, 3)
        data["database_away_seconds"] = round(self.database_away_seconds, 3)
        data["database_outages"] = self.database_outages
        data["slices"] = self.slices
        data["slice_days"] = self.slice_days
        data["untrusted_listings"] = list(self.untrusted)
        return data


def summary_table(summary: Summary) -> Table:
    """Two columns a person reads top to bottom: what was done, what it cost, how fast."""
    s, n = summary, summary.stats
    title = f"run {s.run_id if s.run_id is not None else '-'}: {s.status}"
    table = Table(title=title + (" (dry run)" if s.dry_run else ""), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    speed = f"{s.ratio_to_bound:.0%} of the rate-limit bound ({duration(s.bound_seconds)})"
    rows = [
        ("scanned", f"{n.conversations_scanned:,}"),
        ("skipped as up to date", f"{n.conversations_skipped:,}"),
        ("tracking numbers found", f"{n.numbers_found:,}"),
        ("failed", f"{n.conversations_failed:,}"),
        ("Front calls", f"{n.front_calls:,}"),
        ("OpenAI calls", f"{n.openai_calls:,} ({n.model_calls_avoided:,} avoided: detector sure)"),
        ("tokens", f"{n.prompt_tokens:,} prompt + {n.completion_tokens:,} completion"),
        ("tokens per call", f"{s.tokens_per_call:,.0f}"),
        ("estimated cost", f"${s.cost_usd:,.4f} (${s.cost_per_1000:,.4f} per 1,000 conversations)"),
        ("wall time", duration(s.wall_seconds)),
        ("throughput", speed if s.bound_seconds > 0 else "n/a"),
        ("429s", f"{n.rate_limited:,}"),
        ("waiting for rate budgets", f"{duration(n.throttled_seconds)}, summed over workers"),
    ]
    if s.slices:
        rows.insert(0, ("search slices", slices_text(s.slices, s.slice_days)))
    rows.extend(batch_rows(s.batch))
    if s.database_outages:
        away = f"{duration(s.database_away_seconds)} in {s.database_outages} outage(s), ridden out"
        rows.append(("database away", away))
    if s.stop_reason:
        rows.append(("stopped", s.stop_reason))
    if s.untrusted:
        rows.append(("Front listing incomplete", f"{len(s.untrusted)} (watermark kept)"))
    for label, value in rows:
        table.add_row(label, value)
    return table


def slices_text(count: int, slice_days: float) -> str:
    """How the window was searched: `9 of 7 days` (`--slice-days`), or one search."""
    return f"{count:,} of {slice_days:g} days" if count > 1 else "1 (the whole window)"


def print_summary(
    summary: Summary,
    *,
    json_mode: bool,
    console: Console,
    stdout: TextIO | None = None,
    planned: Sequence[Planned] | None = None,
    database: str | None = None,
) -> None:
    """`--json`: one object on stdout for machines; otherwise the table on `console`.

    The object is the only thing on stdout, whatever the run: a dry run's plan is a list
    inside it (`planned`), the exit code the process ends with is in it (`exit_code`), and
    so is the database it used. Failures before a summary exists print their own object.
    """
    if json_mode:
        data = summary.as_dict() | {"exit_code": summary.exit_code}
        if database is not None:
            data["database"] = database
        if planned is not None:
            data["planned"] = [planned_row(item) for item in planned]
        out = stdout if stdout is not None else sys.stdout
        out.write(json.dumps(data) + "\n")
        out.flush()
        return
    if planned is not None:
        print_planned(planned, console=console)
    console.print(summary_table(summary))
    if database is not None:
        console.print(f"database: {database}", markup=False, highlight=False)


def planned_row(item: Planned) -> dict[str, object]:
    """One conversation a dry run would scan, and what it would cost."""
    return {
        "conversation_id": item.ref.id,
        "subject": item.ref.subject,
        "new_messages": item.new_messages,
        "asks_model": item.asks_model,
        "via_batch": item.via_batch,
        "prompt_tokens": item.prompt_tokens,
        "completion_budget": item.completion_budget,
    }


def print_planned(planned: Sequence[Planned], *, console: Console) -> None:
    """A dry run's table: each conversation that would be scanned and what it would cost."""
    table = Table(title=f"would scan {len(planned):,} conversations")
    for name, justify in (
        ("conversation", "left"),
        ("subject", "left"),
        ("new messages", "right"),
        ("model", "center"),
        ("est. tokens", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]  # literals widened to str
    for item in planned:
        tokens = item.prompt_tokens + item.completion_budget
        table.add_row(
            item.ref.id,
            item.ref.subject[:60],
            str(item.new_messages),
            ("batch" if item.via_batch else "yes") if item.asks_model else "-",
            f"{tokens:,}" if tokens else "-",
        )
    console.print(table)


def run_status(
    stop_reason: str | None,
    stats: RunStats,
    error: FrontscanError | None,
    *,
    untrusted: bool = False,
) -> Status:
    """`untrusted`: a Front listing ended short, so not everything was seen: partial."""
    if error is not None:
        return "failed"
    if stop_reason is not None:
        return "interrupted"
    return "partial" if stats.conversations_failed or untrusted else "succeeded"


def dry_run_stats(stats: RunStats, planned: Sequence[Planned]) -> RunStats:
    """A dry run's estimates: the calls the scan would make, tokens at their upper bound."""
    asks = [p for p in planned if p.asks_model]
    return replace(
        stats,
        openai_calls=len(asks),
        prompt_tokens=sum(p.prompt_tokens for p in asks),
        completion_tokens=sum(p.completion_budget for p in asks),
        completion_budget=sum(p.completion_budget for p in asks),
        model_calls_avoided=sum(p.avoided for p in planned),
    )


def dry_run_cost(planned: Sequence[Planned]) -> float:
    """A dry run's worst case: online calls at full price, batch lines at half."""
    return sum(
        worst_cost_usd(p.call) * (BATCH_PRICE_FACTOR if p.via_batch else 1.0)
        for p in planned
        if p.call is not None
    )
