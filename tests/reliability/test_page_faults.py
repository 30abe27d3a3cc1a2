"""Front search pages that repeat, overlap, loop, stop early or skip ahead.

The proxy asks for pages of 10 (Front may send fewer than asked), so 30 conversations
make three pages. Repeats and overlaps must cost nothing: each conversation is queued
and stored once and the summary counts it once. A listing that ends short of Front's
`_total` (a dropped or skipping next link, a next link that loops) must say so, store
what it listed, exit 1 and leave the cron watermark where it was; the next run stores
the rest, exactly once.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.reliability.faulted import exactly_once, ledger_counts, rig
from tests.reliability.faultproxy import Fault, Rule
from tests.scanning import fast_options, stored

SEARCH = "/conversations/search/"
CONVERSATIONS = 30


async def runs(dsn: str) -> list[tuple[str, bool, str | None]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT status, (options ->> 'advances_watermark')::boolean, error"
            " FROM frontscan.runs ORDER BY id"
        )
        return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]


async def watermark_is_the_last_run(dsn: str) -> bool:
    """The cron watermark (as `Store.last_completed_run_start` reads it) is the newest
    run's start: the run before it did not count."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT (SELECT max(started_at) FROM frontscan.runs"
            "        WHERE status IN ('succeeded', 'partial')"
            "        AND (options ->> 'advances_watermark')::boolean)"
            " = (SELECT started_at FROM frontscan.runs ORDER BY id DESC LIMIT 1)"
        )
        row = await cursor.fetchone()
    return row is not None and row[0] is True


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("fault", "skip"),
    [("repeat_page", 1), ("overlap", 1)],
    ids=["page-2-served-twice", "page-2-overlaps-page-1"],
)
async def test_repeated_and_overlapping_pages_store_and_count_each_once(
    database_url: str, tmp_path: Path, fault: Fault, skip: int
) -> None:
    rules = [Rule(fault, SEARCH, skip=skip)]
    options = fast_options(CONVERSATIONS)
    async with rig(tmp_path, database_url, front=rules, options=options, page_limit=10) as setup:
        result = await setup.scan("--llm", "always")
        await exactly_once(setup, database_url)
        searches = setup.front.count(SEARCH)
    result.clean()
    assert searches == (4 if fault == "repeat_page" else 3)
    assert result.summary["conversations_seen"] == CONVERSATIONS  # once each
    assert result.summary["conversations_scanned"] == CONVERSATIONS
    overlap = result.named("front.page_overlap")
    assert len(overlap) == 1
    assert overlap[0]["repeated"] == (10 if fault == "repeat_page" else 3)
    assert not result.named("front.listing_incomplete")
    assert await runs(database_url) == [("succeeded", True, None)]


@pytest.mark.reliability
@pytest.mark.parametrize(
    ("rule", "listed"),
    [
        (Rule("drop_next", SEARCH), 10),  # page 1 says there is no page 2
        (Rule("skip_ahead", SEARCH), 20),  # page 1 links to page 3
        (Rule("loop_page", SEARCH, skip=1), 20),  # page 2 links to itself
        (Rule("repeat_page", SEARCH, skip=1, times=None), 20),  # page 2 again, by new links
    ],
    ids=["next-dropped", "next-skips-a-page", "next-is-itself", "next-repeats-forever"],
)
async def test_a_listing_short_of_its_total_says_so_and_keeps_the_watermark(
    database_url: str, tmp_path: Path, rule: Rule, listed: int
) -> None:
    options = fast_options(CONVERSATIONS)
    async with rig(tmp_path, database_url, front=[rule], options=options, page_limit=10) as setup:
        first = await setup.scan("--llm", "always")
        partly = await stored(database_url)
        setup.front.rules.clear()
        second = await setup.scan("--llm", "always")
        await exactly_once(setup, database_url)
        truth = setup.truth()
    # The first run: what it listed is stored (and only that), and it says the rest is not.
    assert first.ran.code == 1, first.ran.err[-2000:]
    assert "Traceback" not in first.ran.err
    last = first.ran.err.strip().splitlines()[-1]
    assert last.startswith("frontscan: Front's listing was incomplete (search "), last
    assert f"Front counted {CONVERSATIONS} but its pages listed {listed} (" in last
    assert "does not move the cron watermark" in last
    assert first.summary["status"] == "partial"
    assert first.summary["conversations_seen"] == listed
    assert len(first.summary["untrusted_listings"]) == 1
    assert len(first.named("front.listing_incomplete")) == 1
    assert set(partly) < truth
    if rule.fault in ("loop_page", "repeat_page"):
        assert len(first.named("front.page_loop")) == 1
    # Not a completed window: the cron watermark did not move; the second run's did.
    statuses = await runs(database_url)
    assert statuses[0][:2] == ("partial", False)
    assert statuses[0][2] is not None
    assert "incomplete" in statuses[0][2]
    assert statuses[1] == ("succeeded", True, None)
    assert await watermark_is_the_last_run(database_url)
    second.clean()
    assert second.summary["conversations_seen"] == CONVERSATIONS
    assert second.summary["conversations_skipped"] == listed  # the first run's, not redone
    counts = await ledger_counts(database_url)
    assert counts["conversations"] == CONVERSATIONS
    assert counts["messages"] == counts["distinct"]


@pytest.mark.reliability
async def test_an_event_stream_whose_next_link_loops_says_so_and_keeps_the_watermark(
    database_url: str, tmp_path: Path
) -> None:
    """The event stream has no `_total`: a loop is what marks it, and it must end."""
    rules = [Rule("loop_page", "/events", skip=1)]
    options = fast_options(CONVERSATIONS)
    async with rig(tmp_path, database_url, front=rules, options=options) as setup:
        first = await setup.scan("--llm", "always", "--source", "events")
        setup.front.rules.clear()
        second = await setup.scan("--llm", "always", "--source", "events")
        await exactly_once(setup, database_url)
    assert first.ran.code == 1, first.ran.err[-2000:]
    last = first.ran.err.strip().splitlines()[-1]
    assert "Front's listing was incomplete (event stream: a next link looped after 2 pages)" in last
    assert len(first.named("front.page_loop")) == 1
    second.clean()
    statuses = await runs(database_url)
    assert [row[:2] for row in statuses] == [("partial", False), ("succeeded", True)]
    assert await watermark_is_the_last_run(database_url)


@pytest.mark.reliability
async def test_with_totals_unchecked_a_shortfall_is_logged_and_the_run_succeeds(
    database_url: str, tmp_path: Path
) -> None:
    """`front.check_search_total = false`, for an account whose `_total` overstates: the
    same dropped next link stores what was listed, logs the shortfall and succeeds."""
    options = fast_options(CONVERSATIONS)
    drop = [Rule("drop_next", SEARCH)]
    async with rig(tmp_path, database_url, front=drop, options=options, page_limit=10) as setup:
        setup.env["FRONTSCAN_FRONT_CHECK_SEARCH_TOTAL"] = "false"
        result = await setup.scan("--llm", "always")
        searches = setup.front.count(SEARCH)
    result.clean()
    assert searches == 1  # no recount when totals are not checked
    assert result.summary["status"] == "succeeded"
    assert result.summary["conversations_seen"] == 10
    assert result.summary["untrusted_listings"] == []
    short = result.named("front.listing_short")
    assert [(s["listed"], s["total"]) for s in short] == [(10, CONVERSATIONS)]
    assert not result.named("front.listing_incomplete")
    assert await runs(database_url) == [("succeeded", True, None)]
