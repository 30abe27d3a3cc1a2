"""Scan windows: date parsing, cron continuation, slicing of long backfills."""

from __future__ import annotations

import itertools

import pytest

from frontscan.errors import UsageError
from frontscan.models import ConversationRef, LedgerEntry, Window
from frontscan.pipeline import needs_work, p95
from frontscan.window import (
    CRON_OVERLAP_SECONDS,
    duration,
    iso,
    parse_when,
    resolve_window,
    split_window,
)

FEB_1 = 1769904000.0  # 2026-02-01T00:00:00Z
DAY = 86_400.0


def test_dates_are_midnight_utc_and_times_honour_offsets() -> None:
    assert parse_when("2026-02-01", "--after") == FEB_1
    assert parse_when("2026-02-01T00:00:00Z", "--after") == FEB_1
    assert parse_when("2026-02-01T01:00:00+01:00", "--after") == FEB_1
    assert parse_when("2026-02-01T00:00:00", "--after") == FEB_1
    assert iso(FEB_1) == "2026-02-01T00:00:00Z"


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", "01/02/2026", "", "2026-02-30"])
def test_a_malformed_date_says_how_to_write_one(bad: str) -> None:
    with pytest.raises(UsageError, match=r"^--after .* is not a date: use YYYY-MM-DD"):
        parse_when(bad, "--after")


def test_before_must_be_after_after() -> None:
    with pytest.raises(UsageError, match="must be later than --after"):
        resolve_window(Window(after=FEB_1, before=FEB_1), None, FEB_1 + DAY)


def test_cron_continues_from_the_last_completed_run_with_an_overlap() -> None:
    window = resolve_window(Window(), FEB_1, FEB_1 + 60)
    assert window == Window(after=FEB_1 - CRON_OVERLAP_SECONDS, before=None)


def test_cron_without_an_earlier_run_refuses_clearly() -> None:
    with pytest.raises(UsageError, match="run the first scan with --after"):
        resolve_window(Window(), None, FEB_1)


def test_long_windows_split_oldest_first_and_cover_everything() -> None:
    slices = split_window(Window(after=FEB_1, before=FEB_1 + 20 * DAY), FEB_1 + 30 * DAY, 7)
    assert [s.after for s in slices] == [FEB_1, FEB_1 + 7 * DAY, FEB_1 + 14 * DAY]
    assert slices[-1].before == FEB_1 + 20 * DAY
    for earlier, later in itertools.pairwise(slices):
        assert earlier.before is not None
        assert later.after is not None
        assert earlier.before > later.after  # adjacent slices overlap: no gap


def test_an_open_window_keeps_its_last_slice_open() -> None:
    slices = split_window(Window(after=FEB_1), FEB_1 + 10 * DAY, slice_days=7)
    assert slices[-1] == Window(after=FEB_1 + 7 * DAY, before=None)
    assert split_window(Window(after=FEB_1), FEB_1 + DAY) == (Window(after=FEB_1, before=None),)


def ref(last: str | None = "msg_2", updated: float | None = None) -> ConversationRef:
    return ConversationRef(id="cnv_1", subject="s", last_message_id=last, updated_at=updated)


def entry(status: str = "done", attempts: int = 0, last: str | None = "msg_2") -> LedgerEntry:
    return LedgerEntry(
        id="cnv_1", scanned_through=FEB_1, last_message_id=last, status=status, attempts=attempts
    )


def test_unchanged_conversations_need_no_work() -> None:
    assert not needs_work(ref(), entry(), rescan=False, max_attempts=3)
    assert not needs_work(ref(None, FEB_1), entry(last=None), rescan=False, max_attempts=3)


def test_new_unknown_changed_failed_and_rescanned_conversations_need_work() -> None:
    assert needs_work(ref(), None, rescan=False, max_attempts=3)
    assert needs_work(ref("msg_3"), entry(), rescan=False, max_attempts=3)
    assert needs_work(ref(None, FEB_1 + 1), entry(last=None), rescan=False, max_attempts=3)
    assert needs_work(ref(), entry(), rescan=True, max_attempts=3)
    assert needs_work(ref(), entry("failed", 2), rescan=False, max_attempts=3)


def test_failed_conversations_out_of_attempts_wait_for_retry_failed() -> None:
    assert not needs_work(ref(), entry("failed", 3), rescan=False, max_attempts=3)
    assert not needs_work(ref("msg_9"), entry("failed", 3), rescan=False, max_attempts=3)
    assert needs_work(ref(), entry("failed", 3), rescan=False, max_attempts=2**31)


def test_p95() -> None:
    assert p95([]) == 0.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0


def test_one_duration_form_for_tables_and_summaries() -> None:
    assert duration(None) == "-"
    assert duration(4.24) == "4.2 s"
    assert duration(185.0) == "3 m 05 s"
    assert duration(7_620.0) == "2 h 07 m"
