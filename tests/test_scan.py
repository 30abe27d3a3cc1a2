"""`frontscan scan` end to end: the simulator on loopback, the real SDK, a real PostgreSQL."""

from __future__ import annotations

import pytest

from frontscan.models import SourceMode
from frontscan.simulator.runtime import running_simulator
from tests.scanning import (
    END,
    START,
    fast_options,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)

MIDDLE = (START.timestamp() + END.timestamp()) / 2


@pytest.mark.parametrize("source", ["search", "events"])
async def test_every_ground_truth_number_is_stored_once_at_its_first_message(
    database_url: str, source: SourceMode
) -> None:
    async with running_simulator(fast_options(300, mistake_rate=0.2)) as sim:
        settings = settings_for(sim, database_url, source=source)
        result = await run_scan(settings, after=MIDDLE)
        rows = await stored(database_url)
        expected = truth_in_window(sim, MIDDLE)
        invented = sim.stats()["openai"]["mistakes"].get("invented", 0)
    assert result.summary.status == "succeeded"
    assert len(rows) == len(set(rows))
    false, missing = sorted(set(rows) - expected), sorted(expected - set(rows))
    if false or missing:
        pytest.fail(f"stored but not true: {false}\ntrue but not stored: {missing}")
    # Each number the simulated model invented was caught and counted (how many it invents
    # depends on which calls the seeded draws fall on; a run with none happens).
    assert result.summary.stats.llm_dropped == invented


async def test_limit_inbox_and_query_filters(database_url: str) -> None:
    async with running_simulator(fast_options(80)) as sim:
        settings = settings_for(sim, database_url)
        limited = await run_scan(settings, after=START.timestamp(), limit=7)
        inbox = sim.mailbox.inboxes[0].id
        in_inbox = {c.id for c in sim.mailbox.conversations.values() if c.inbox_id == inbox}
        filtered = await run_scan(settings, after=START.timestamp(), inbox=inbox, rescan=True)
        worded = await run_scan(settings, after=START.timestamp(), query='"zzz-no-such-words"')
    assert limited.summary.stats.conversations_scanned == 7
    assert 0 < filtered.summary.stats.conversations_scanned == len(in_inbox) < 80
    assert worded.summary.stats.conversations_seen == 0
