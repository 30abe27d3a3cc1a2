"""What the operator sees while a scan runs and after it ends (DESIGN §6).

Two reporters share one interface: a rich progress bar for a person at a terminal, and
one timestamped line per batch for cron, whose output ends up in a mail or a log file.
Both write to stderr only, so `--json` keeps stdout for the single summary object.
"""

from __future__ import annotations

import math
import sys
import time
from abc import ABC, abstractmethod
from datetime import timedelta
from typing import Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from frontscan.models import BatchTiming, Outcome
from frontscan.window import iso


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


class ScanReporter(ABC):
    """Counts progress for the pipeline's `Reporter` Protocol; subclasses decide how to show it.

    Skipped conversations count as done so the bar reaches 100% of the search total.
    429s and the time spent waiting for rate budgets arrive with each batch's timing.
    """

    def __init__(self) -> None:
        self.total: int | None = None  # unknown until the first search page arrives
        self.done = 0
        self.processed = 0
        self.failed = 0
        self.numbers = 0
        self.throttled = 0
        self.throttled_seconds = 0.0

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Begin the live display, if this reporter has one."""
        return None  # a hook: the plain reporter has nothing to do

    def stop(self) -> None:
        """End the live display, leaving its final state on screen."""
        return None  # a hook: the plain reporter has nothing to do

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
        self.throttled += timing.throttled
        self.throttled_seconds += timing.waited_seconds
        self._refresh()
        self._emit(batch_line(timing))

    def tally(self, *, numbers: int, failed: bool, rate_limited: int) -> None:
        """One conversation finished outside the pipeline (the old design, in the demo).

        `rate_limited` is the 429 count the servers report so far, not a guess.
        """
        self.done += 1
        self.processed += 1
        self.failed += failed
        self.numbers += numbers
        self.throttled = rate_limited
        self._refresh()

    def note(self, text: str) -> None:
        """A one-off line, e.g. which database is used or why the scan stopped."""
        self._emit(text)

    def _refresh(self) -> None:
        """Redraw after a counter changed; only a live display needs to."""
        return None  # a hook: the plain reporter has nothing to do

    @abstractmethod
    def _emit(self, line: str) -> None:
        """Write one line: above the live bar, or to the log stream."""


class PlainReporter(ScanReporter):
    """For cron: no cursor tricks, one UTC-stamped line per event so logs stay readable."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream

    def _emit(self, line: str) -> None:
        stamp = iso(float(int(time.time())))  # to the second: cron logs stay narrow
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
        return Text(
            f"ETA {eta_text(task.total, task.completed, task.elapsed)}", "progress.remaining"
        )


def eta_text(total: float | None, completed: float, elapsed: float | None) -> str:
    """`H:MM:SS` left at the pace so far; never 0:00:00 while conversations remain."""
    if total is None or not completed or not elapsed:
        return "-:--:--"
    remaining = max(0.0, total - completed)
    if not remaining:
        return "0:00:00"
    return str(timedelta(seconds=max(1, math.ceil(remaining * elapsed / completed))))


class RichReporter(ScanReporter):
    """For a person at a terminal: a live bar, with batch lines and notes printed above it."""

    def __init__(self, console: Console, label: str = "scanning") -> None:
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
            label, total=None, start=False, numbers=0, processed=0, throttle=""
        )

    def start(self) -> None:
        self._progress.start()
        self._progress.start_task(self._task)  # the clock for rate and ETA starts here

    def stop(self) -> None:
        self._progress.stop()

    def _refresh(self) -> None:
        throttle = ""
        if self.throttled_seconds:
            throttle = f"429s {self.throttled}, {self.throttled_seconds:.0f} s waited"
        elif self.throttled:
            throttle = f"429s {self.throttled}"
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


def make_reporter(
    *, tty: bool, stream: TextIO | None = None, label: str = "scanning"
) -> ScanReporter:
    """The reporter for this terminal, always on `stream` (default stderr).

    Never stdout, `--json` or not: stdout stays clean for the JSON summary.
    """
    if tty:
        return RichReporter(Console(file=stream, stderr=True, force_terminal=True), label)
    return PlainReporter(stream if stream is not None else sys.stderr)
