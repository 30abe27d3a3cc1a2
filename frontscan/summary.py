"""The end-of-run account: how a finished pipeline is summed up, judged and shown.

The same `Summary` feeds the table a person reads, the `--json` object cron keeps, and the
exit code: a run can end cleanly and still deserve a non-zero code (failures recorded,
`--max-cost` reached, interrupted).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Literal, TextIO

from rich.console import Console
from rich.table import Table

from frontscan.answers import cost_usd
from frontscan.errors import FrontscanError, Interrupted, ItemError
from frontscan.models import Planned
from frontscan.pipeline import Pipeline
from frontscan.window import iso

Status = Literal["succeeded", "partial", "failed", "interrupted"]


@dataclass(frozen=True, slots=True)
class Summary:
    """The end-of-run account, the same facts for the table and for `--json`."""

    run_id: int | None
    status: Status
    window_after: str | None
    window_before: str | None
    conversations_seen: int
    scanned: int
    skipped: int
    failed: int
    numbers_found: int
    llm_dropped: int
    front_calls: int
    openai_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    wall_seconds: float
    bound_seconds: float
    rate_limited: int
    throttled_seconds: float
    stop_reason: str | None
    dry_run: bool
    claims_dropped: int = 0  # model statements about parcels that their message did not back

    @property
    def ratio_to_bound(self) -> float:
        """bound / wall: 1.0 means the run went as fast as the rate limits allow."""
        return self.bound_seconds / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def to_json(self) -> str:
        """One line, keys in field order; floats rounded so diffs and dashboards stay quiet."""
        data = asdict(self)
        data["cost_usd"] = round(self.cost_usd, 6)
        for key in ("wall_seconds", "bound_seconds", "throttled_seconds"):
            data[key] = round(data[key], 3)
        data["ratio_to_bound"] = round(self.ratio_to_bound, 3)
        return json.dumps(data)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m" if hours else f"{minutes} m {secs:02d} s"


def summary_table(summary: Summary) -> Table:
    """Two columns a person reads top to bottom: what was done, what it cost, how fast."""
    s = summary
    title = f"run {s.run_id if s.run_id is not None else '-'}: {s.status}"
    table = Table(title=title + (" (dry run)" if s.dry_run else ""), show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    speed = f"{s.ratio_to_bound:.0%} of the rate-limit bound ({_duration(s.bound_seconds)})"
    rows = [
        ("scanned", f"{s.scanned:,}"),
        ("skipped as up to date", f"{s.skipped:,}"),
        ("tracking numbers found", f"{s.numbers_found:,}"),
        ("failed", f"{s.failed:,}"),
        ("Front calls", f"{s.front_calls:,}"),
        ("OpenAI calls", f"{s.openai_calls:,}"),
        ("tokens", f"{s.prompt_tokens:,} prompt + {s.completion_tokens:,} completion"),
        ("estimated cost", f"${s.cost_usd:,.4f}"),
        ("wall time", _duration(s.wall_seconds)),
        ("throughput", speed if s.bound_seconds > 0 else "n/a"),
        ("429s", f"{s.rate_limited:,}"),
        ("waiting for rate budgets", f"{_duration(s.throttled_seconds)}, summed over workers"),
    ]
    if s.stop_reason:
        rows.append(("stopped", s.stop_reason))
    for label, value in rows:
        table.add_row(label, value)
    return table


def print_summary(
    summary: Summary, *, json_mode: bool, console: Console, stdout: TextIO | None = None
) -> None:
    """`--json`: one object on stdout for machines; otherwise the table on `console`."""
    if json_mode:
        out = stdout if stdout is not None else sys.stdout
        out.write(summary.to_json() + "\n")
        out.flush()
    else:
        console.print(summary_table(summary))


def print_planned(
    planned: Sequence[Planned], *, json_mode: bool, console: Console, stdout: TextIO | None = None
) -> None:
    """A dry run's list: each conversation that would be scanned and what it would cost."""
    if json_mode:
        out = stdout if stdout is not None else sys.stdout
        for item in planned:
            row = {
                "conversation_id": item.ref.id,
                "subject": item.ref.subject,
                "new_messages": item.new_messages,
                "asks_model": item.asks_model,
                "prompt_tokens": item.prompt_tokens,
                "completion_budget": item.completion_budget,
            }
            out.write(json.dumps(row) + "\n")
        return
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
            "yes" if item.asks_model else "-",
            f"{tokens:,}" if tokens else "-",
        )
    console.print(table)


def ending(pipeline: Pipeline, max_cost: float | None) -> FrontscanError | None:
    """Why a run that ended cleanly still deserves a non-zero exit code, if it does."""
    if pipeline.stop_reason == "max-cost":
        return ItemError(
            f"stopped before the estimated OpenAI spend passed --max-cost {max_cost}; "
            "the next run picks up the conversations left"
        )
    if pipeline.stop_reason == "interrupted":
        return Interrupted(
            "interrupted: finished conversations are recorded; run the same command again "
            "to continue"
        )
    if pipeline.stats.conversations_failed:
        return ItemError(
            f"{pipeline.stats.conversations_failed} conversations failed and were recorded; "
            "the next run retries them (see `frontscan status`)"
        )
    return None


def run_status(pipeline: Pipeline, error: FrontscanError | None) -> Status:
    if error is not None:
        return "failed"
    if pipeline.stop_reason is not None:
        return "interrupted"
    return "partial" if pipeline.stats.conversations_failed else "succeeded"


def summarize(
    run_id: int | None,
    status: Status,
    after: float | None,
    before: float | None,
    pipeline: Pipeline,
    wall: float,
    bound: float,
    dry_run: bool,
) -> Summary:
    stats = pipeline.stats
    prompt, completion, calls = stats.prompt_tokens, stats.completion_tokens, stats.openai_calls
    cost = pipeline.spent_usd
    if dry_run:  # estimates: the calls the scan would make, tokens at their upper bound
        asks = [p for p in pipeline.planned if p.asks_model]
        calls = len(asks)
        prompt = sum(p.prompt_tokens for p in asks)
        completion = sum(p.completion_budget for p in asks)
        cost = cost_usd(pipeline.plan.model, prompt, completion)
    return Summary(
        run_id=run_id,
        status=status,
        window_after=iso(after),
        window_before=iso(before),
        conversations_seen=stats.conversations_seen,
        scanned=stats.conversations_scanned,
        skipped=stats.conversations_skipped,
        failed=stats.conversations_failed,
        numbers_found=stats.numbers_found,
        llm_dropped=stats.llm_dropped,
        front_calls=stats.front_calls,
        openai_calls=calls,
        prompt_tokens=prompt,
        completion_tokens=completion,
        cost_usd=cost,
        wall_seconds=wall,
        bound_seconds=bound,
        rate_limited=stats.rate_limited,
        throttled_seconds=stats.throttled_seconds,
        stop_reason=pipeline.stop_reason,
        dry_run=dry_run,
        claims_dropped=stats.claims_dropped,
    )
