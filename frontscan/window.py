"""Scan windows: parse `--after`/`--before`, continue cron runs, split long backfills.

Also the one way frontscan writes a time (`iso`) and a length of time (`duration`).

Pure functions: they get plain unit tests and raise `UsageError` with a message that
says how to write the value.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from frontscan.errors import UsageError
from frontscan.models import Window

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


def iso(moment: float | datetime | None) -> str | None:
    """The one ISO 8601 form frontscan shows: UTC with a `Z` (None stays None).

    Takes Unix seconds, or a database `timestamptz` as psycopg returns it.
    """
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        moment = datetime.fromtimestamp(moment, UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(seconds: float | None) -> str:
    """The one way frontscan shows a length of time: `4.2 s`, `3 m 05 s`, `2 h 07 m`."""
    if seconds is None:
        return "-"  # still running, or the process died before closing the run
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m" if hours else f"{minutes} m {secs:02d} s"


def check_order(after: float | None, before: float | None) -> None:
    if after is not None and before is not None and before <= after:
        raise UsageError(f"--before ({iso(before)}) must be later than --after ({iso(after)})")


def resolve_window(requested: Window, last_run_start: float | None, now: float) -> Window:
    """The window to scan; with no `--after`, continue from the last completed run."""
    after = requested.after
    if after is None:
        if last_run_start is None:
            raise UsageError(
                "no --after given and no earlier completed scan to continue from: "
                "run the first scan with --after YYYY-MM-DD"
            )
        after = last_run_start - CRON_OVERLAP_SECONDS
    check_order(after, requested.before)
    if after > now:
        raise UsageError(f"--after ({iso(after)}) is in the future")
    return Window(after=after, before=requested.before)


def split_window(
    window: Window, now: float, slice_days: float = DEFAULT_SLICE_DAYS
) -> tuple[Window, ...]:
    """Oldest-first slices of at most `slice_days`, so a long backfill checkpoints as it goes.

    The last slice stays open-ended when there is no `--before`, so activity that arrives
    during the run is still found. `window.after` must be resolved (`resolve_window`).
    """
    if window.after is None:
        raise ValueError("split_window needs a resolved window (after is None)")
    before = window.before
    end = before if before is not None else now
    check_slicing(window.after, end, slice_days)
    step = slice_days * 86_400.0
    slices: list[Window] = []
    start = window.after
    while start + step < end:
        # Front's filters take whole seconds; one second of overlap loses no boundary case.
        slices.append(Window(after=start, before=start + step + 1))
        start += step
    slices.append(Window(after=start, before=before))
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
