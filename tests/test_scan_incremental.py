"""Cron behaviour: a re-run costs nothing, new mail is all that is read, failures come back."""

from __future__ import annotations

import psycopg
import pytest

from frontscan.errors import QuotaError
from frontscan.simulator.runtime import running_simulator
from tests.scanning import (
    END,
    START,
    fast_options,
    requests_to,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)

MESSAGES = "/messages"
COMPLETIONS = "chat/completions"


async def message_attempts(dsn: str) -> list[int]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT attempts FROM frontscan.messages")
        return [row[0] for row in await cursor.fetchall()]


async def test_a_rerun_is_free_and_only_new_messages_are_read(database_url: str) -> None:
    async with running_simulator(fast_options(120)) as sim:
        settings = settings_for(sim, database_url)
        first = await run_scan(settings, after=START.timestamp())
        reads, asks = requests_to(sim, "front", MESSAGES), requests_to(sim, "openai", COMPLETIONS)

        again = await run_scan(settings, after=START.timestamp())
        assert requests_to(sim, "front", MESSAGES) == reads
        assert requests_to(sim, "openai", COMPLETIONS) == asks
        assert again.summary.stats.conversations_scanned == 0
        assert (
            again.summary.stats.conversations_skipped == first.summary.stats.conversations_scanned
        )

        changed = [c.id for c in sim.mailbox.by_activity()[::5][:20]]
        added = sim.mailbox.append_messages(changed, rng_seed=99, at=END.timestamp() - 3600)
        third = await run_scan(settings, after=START.timestamp())
        rows = set(await stored(database_url))
        expected = truth_in_window(sim, START.timestamp())

    assert added  # the new mail carries new numbers
    assert third.summary.stats.conversations_scanned == 20
    assert requests_to(sim, "front", MESSAGES) - reads == 20  # one page each: stop at watermark
    assert requests_to(sim, "openai", COMPLETIONS) - asks <= 20
    assert rows == expected
    # Every message was processed exactly once: old ones were never sent to the model again.
    attempts = await message_attempts(database_url)
    assert set(attempts) == {1}
    assert len(attempts) == sum(len(c.messages) for c in sim.mailbox.conversations.values())


async def test_cron_continues_from_the_last_completed_run(database_url: str) -> None:
    async with running_simulator(fast_options(40)) as sim:
        settings = settings_for(sim, database_url)
        with pytest.raises(Exception, match="run the first scan with --after"):
            await run_scan(settings)
        await run_scan(settings, after=START.timestamp())
        cron = await run_scan(settings)  # no --after: continue from the last run
    assert cron.summary.window.after is not None
    assert cron.summary.stats.conversations_scanned == 0


async def test_an_exhausted_quota_stops_the_run_cleanly(database_url: str) -> None:
    async with running_simulator(fast_options(40, quota_exhausted=True)) as sim:
        settings = settings_for(sim, database_url, llm="always")
        with pytest.raises(QuotaError, match="out of quota or credit"):
            await run_scan(settings, after=START.timestamp())
        asks = requests_to(sim, "openai", COMPLETIONS)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT status, error FROM frontscan.runs")
        runs = await cursor.fetchall()
        cursor = await conn.execute("SELECT count(*) FROM frontscan.tracking_numbers")
        numbers = await cursor.fetchone()
    assert [r[0] for r in runs] == ["failed"]
    assert "quota" in runs[0][1]
    assert numbers == (0,)
    assert asks <= 20  # stopped at once, not after trying every conversation
