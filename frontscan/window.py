"""Scan windows: parse `--after`/`--before`, continue cron runs, split long backfills.

Pure functions: they get plain unit tests and raise `UsageError` with a message that
says how to write the value.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from frontscan.errors import UsageError

CRON_OVERLAP_SECONDS = 600.0  # re-read the last ten minutes: late-indexed activity is not lost
DEFAULT_SLICE_DAYS = 7
MIN_SLICE_DAYS = 1 / 24  # one hour: thinner slices only multiply searches
MAX_SLICES = 10_000  # 190 years of weekly slices; more is a typo in --after


def parse_when(value: str, flag: str) -> float:
    """`YYYY-MM-DD` (midnight UTC) or an ISO 8601 time (UTC when no offset) → Unix seconds."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(
            f"{flag} {value!r} is not a date: use YYYY-MM-DD or an ISO 8601 time "
            "such as 2026-02-01T08:00:00Z"
        ) from None
    return moment.timestamp()


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def check_order(after: float | None, before: float | None) -> None:
    if after is not None and before is not None and before <= after:
        raise UsageError(f"--before ({iso(before)}) must be later than --after ({iso(after)})")


def resolve_window(
    after: float | None, before: float | None, last_run_start: float | None, now: float
) -> tuple[float, float | None]:
    """The window to scan; with no `--after`, continue from the last completed run."""
    if after is None:
        if last_run_start is None:
            raise UsageError(
                "no --after given and no earlier completed scan to continue from: "
                "run the first scan with --after YYYY-MM-DD"
            )
        after = last_run_start - CRON_OVERLAP_SECONDS
    check_order(after, before)
    if after > now:
        raise UsageError(f"--after ({iso(after)}) is in the future")
    return after, before


def split_window(
    after: float, before: float | None, now: float, slice_days: float = DEFAULT_SLICE_DAYS
) -> tuple[tuple[float, float | None], ...]:
    """Oldest-first slices of at most `slice_days`, so a long backfill checkpoints as it goes.

    The last slice stays open-ended when there is no `--before`, so activity that arrives
    during the run is still found.
    """
    end = before if before is not None else now
    check_slicing(after, end, slice_days)
    step = slice_days * 86_400.0
    slices: list[tuple[float, float | None]] = []
    start = after
    while start + step < end:
        # Front's filters take whole seconds; one second of overlap loses no boundary case.
        slices.append((start, start + step + 1))
        start += step
    slices.append((start, before))
    return tuple(slices)


def check_slicing(after: float, end: float, slice_days: float) -> int:
    """How many slices `--slice-days` makes of the window; refused when absurd.

    NaN, infinity and slivers of a second would spin for minutes building slices, and
    `--after 0001-01-01` makes a hundred thousand of them: say so before searching.
    """
    if not math.isfinite(slice_days) or slice_days < MIN_SLICE_DAYS:
        raise UsageError(
            f"--slice-days must be a number of days >= {MIN_SLICE_DAYS:.4f} (one hour), "
            f"got {slice_days}"
        )
    count = max(1, math.ceil((end - after) / (slice_days * 86_400.0)))
    if count > MAX_SLICES:
        raise UsageError(
            f"the window from {iso(after)} makes {count:,} slices of {slice_days:g} days "
            f"(at most {MAX_SLICES:,}): use a later --after or a larger --slice-days"
        )
    return count
