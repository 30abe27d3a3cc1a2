"""The demo's tables: what one run of the old design did, and the closing side-by-side.

Every figure comes from what the servers and the ledger said: 429s from the simulator's
counters, numbers from the ledger (frontscan) or the answers kept (the old design), truth
from the simulated mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table

from frontscan.ledger.rows import FoundNumber
from frontscan.simulator.baseline import BaselineResult
from frontscan.summary import Summary
from frontscan.window import duration

Pair = set[tuple[str, str]]  # (conversation id, tracking number)


@dataclass(frozen=True, slots=True, kw_only=True)
class OldRun:
    """One run of the old design, with the 429s the servers sent it."""

    result: BaselineResult
    rate_limited: int


def found_table(rows: list[FoundNumber], limit: int = 15) -> Table:
    table = Table(
        title=f"{len(rows)} tracking numbers in the ledger for these runs"
        + (f" (first {limit})" if len(rows) > limit else "")
    )
    for name in ("carrier", "tracking number", "source", "conversation", "message"):
        table.add_column(name)
    for row in rows[:limit]:
        table.add_row(
            row.carrier, row.tracking_number, row.source, row.conversation_id, row.message_id
        )
    return table


def old_summary(title: str, run: OldRun, truth: Pair) -> Table:
    """The old design's own summary, worded like frontscan's so the two read alike."""
    r = run.result
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rows = [
        ("conversations listed", f"{r.conversations:,}"),
        ("read", f"{r.conversations - r.failed:,}"),
        ("lost (an error or a 429, never retried)", f"{r.failed:,}"),
        (
            "tracking numbers found",
            f"{len(r.numbers & truth):,} true, {len(r.numbers - truth)} false",
        ),
        ("429s", f"{run.rate_limited:,}"),
        ("wall time", duration(r.seconds)),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def comparison(
    ours: tuple[Summary, Summary], found: list[FoundNumber], truth: Pair, old: tuple[OldRun, OldRun]
) -> Table:
    """frontscan and the old design side by side, first scan and cron run together."""
    full, cron = ours
    mine = {(r.conversation_id, r.tracking_number) for r in found}
    theirs = old[0].result.numbers | old[1].result.numbers
    table = Table(title="frontscan vs the old design: same simulated inbox, same limits")
    for name in ("", "frontscan", "old design"):
        table.add_column(name, justify="right" if name else "left")
    failed = full.stats.conversations_failed + cron.stats.conversations_failed
    rows = [
        ("first scan: wall time", duration(full.wall_seconds), duration(old[0].result.seconds)),
        ("cron run: wall time", duration(cron.wall_seconds), duration(old[1].result.seconds)),
        (
            "conversations read by the cron run",
            f"{cron.stats.conversations_scanned:,}",
            f"{old[1].result.conversations - old[1].result.failed:,}",
        ),
        (
            "true numbers found",
            f"{len(mine & truth)} of {len(truth)}",
            f"{len(theirs & truth)} of {len(truth)}",
        ),
        ("false numbers stored", f"{len(mine - truth)}", f"{len(theirs - truth)}"),
        (
            "429s received",
            f"{full.stats.rate_limited + cron.stats.rate_limited:,}",
            f"{old[0].rate_limited + old[1].rate_limited:,}",
        ),
        (
            "conversations lost",
            f"0 ({failed} failed, recorded, retried next run)" if failed else "0",
            f"{old[0].result.failed + old[1].result.failed:,}",
        ),
        ("first scan vs the rate-limit bound", f"{full.ratio_to_bound:.0%}", "-"),
    ]
    for row in rows:
        table.add_row(*row)
    return table
