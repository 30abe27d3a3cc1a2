"""What the operator sees while a scan runs and after it ends (DESIGN §6).

Two reporters share one interface: a rich progress bar for a person at a terminal, and
one timestamped line per batch for cron, whose output ends up in a mail or a log file.
Both write to stderr only, so `--json` keeps stdout for the single summary object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.table import Table
from rich.text import Text

from frontscan.models import BatchTiming, Outcome, Planned

Status = Literal["succeeded", "partial", "failed", "interrupted"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def batch_line(timing: BatchTiming) -> str:
    """One batch's timing, worded the same on a terminal and in a cron log so both grep alike."""
    return (
        f"batch {timing.index}: {_plural(timing.conversations, 'conversation')} in "
        f"{timing.seconds:.1f} s, p95 {timing.p95_seconds:.1f} s, "
        f"{_plural(timing.numbers, 'number')}, {timing.failed} failed, "
        f"{timing.throttled} throttled"
    )


def bound_seconds(
    *,
    front_calls: int,
    front_rpm: float,
    llm_calls: int,
    openai_rpm: float,
    llm_tokens: int,
    openai_tpm: float,
    conversations: int,
    latency_seconds: float,
    concurrency: int,
) -> float:
    """The fastest this work could possibly have run (DESIGN §4), in seconds.

    Whichever budget is tightest sets the pace: each rate-limited resource needs
    amount / per-minute-rate minutes, and latency caps what `concurrency` workers can do.
    A rate of 0 means "not limited / not used", so that term is left out.
    """
    budgets = ((front_calls, front_rpm), (llm_calls, openai_rpm), (llm_tokens, openai_tpm))
    terms = [60.0 * amount / per_minute for amount, per_minute in budgets if per_minute > 0]
    terms.append(0.0)
    if concurrency > 0:
        terms.append(conversations * latency_seconds / concurrency)
    return max(terms)


class ScanReporter:
    """Counts progress for the pipeline's `Reporter` Protocol; subclasses decide how to show it.

    Skipped conversations count as done so the bar reaches 100% of the search total.
    The 429 count may come both from batch timings and from `set_throttled`; both count
    the same events, so the larger one wins instead of adding them twice.
    """

    def __init__(self) -> None:
        self.total: int | None = None  # unknown until the first search page arrives
        self.done = 0
        self.processed = 0
        self.failed = 0
        self.numbers = 0
        self.throttled = 0
        self.throttled_seconds = 0.0
        self._batch_throttled = 0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Begin the live display, if this reporter has one."""

    def stop(self) -> None:
        """End the live display, leaving its final state on screen."""

    def add_total(self, conversations: int) -> None:
        self.total = (self.total or 0) + conversations
        self._refresh()

    def skipped(self, conversations: int) -> None:
        self.done += conversations
        self._refresh()

    def conversation_done(self, outcome: Outcome) -> None:
        self.done += 1
        self.processed += 1
        self.failed += outcome.status == "failed"
        self._refresh()

    def batch_committed(self, timing: BatchTiming) -> None:
        self.numbers += timing.numbers
        self._batch_throttled += timing.throttled
        self.throttled = max(self.throttled, self._batch_throttled)
        self._refresh()
        self._emit(batch_line(timing))

    def set_throttled(self, count: int, seconds: float) -> None:
        """Run-wide 429 count and seconds spent paused, from the rate limiters."""
        self.throttled = max(count, self._batch_throttled)
        self.throttled_seconds = seconds
        self._refresh()

    def note(self, text: str) -> None:
        """A one-off line, e.g. which database is used or why the scan stopped."""
        self._emit(text)

    def _refresh(self) -> None:
        """Redraw after a counter changed; only a live display needs to."""

    def _emit(self, line: str) -> None:
        raise NotImplementedError


class PlainReporter(ScanReporter):
    """For cron: no cursor tricks, one UTC-stamped line per event so logs stay readable."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def _emit(self, line: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._stream.write(f"{stamp} {line}\n")
        self._stream.flush()


class _RateColumn(ProgressColumn):
    """Conversations actually processed per second; skips cost nothing and would flatter it."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.fields["processed"] / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f} conv/s", style="progress.data.speed")


class _EtaColumn(ProgressColumn):
    """Remaining time at the overall pace so far, which already mixes skips and real work."""

    def render(self, task: Task) -> Text:
        if task.total is None or not task.completed or not task.elapsed:
            return Text("ETA -:--:--", style="progress.remaining")
        left = max(0.0, task.total - task.completed) * task.elapsed / task.completed
        return Text(f"ETA {timedelta(seconds=int(left))}", style="progress.remaining")


class RichReporter(ScanReporter):
    """For a person at a terminal: a live bar, with batch lines and notes printed above it."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[numbers]} found"),
            _RateColumn(),
            _EtaColumn(),
            TextColumn("{task.fields[throttle]}", style="yellow"),
            console=console,
        )
        self._task = self._progress.add_task(
            "scanning", total=None, start=False, numbers=0, processed=0, throttle=""
        )

    def start(self) -> None:
        self._progress.start()
        self._progress.start_task(self._task)  # the clock for rate and ETA starts here

    def stop(self) -> None:
        self._progress.stop()

    def _refresh(self) -> None:
        throttle = ""
        if self.throttled or self.throttled_seconds:
            throttle = f"429s {self.throttled}, {self.throttled_seconds:.0f} s paused"
        total = None if self.total is None else float(max(self.total, self.done))
        self._progress.update(
            self._task,
            total=total,  # None leaves it unknown (a pulsing bar) until search reports one
            completed=self.done,
            numbers=self.numbers,
            processed=self.processed,
            throttle=throttle,
        )

    def _emit(self, line: str) -> None:
        self._progress.console.print(line, markup=False)


def make_reporter(*, tty: bool, json_mode: bool, stream: TextIO | None = None) -> ScanReporter:
    """The reporter for this terminal, always on `stream` (default stderr).

    `json_mode` changes nothing here on purpose: stdout must stay clean for the JSON
    summary, and no reporter ever writes to stdout.
    """
    del json_mode
    if tty:
        return RichReporter(Console(file=stream, stderr=True, force_terminal=True))
    return PlainReporter(stream if stream is not None else sys.stderr)


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
        ("429s", f"{s.rate_limited:,} ({_duration(s.throttled_seconds)} paused)"),
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
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
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
