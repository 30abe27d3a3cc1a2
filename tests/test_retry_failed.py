"""`scan --retry-failed` re-processes exactly the conversations the ledger marks failed.

Failures are made honestly and per conversation: a first simulator whose model answers
every request with broken JSON. With `--llm auto` only conversations where the detector
sees a candidate ask the model, so those fail (after the extractor's retries) while the
rest are recorded as done. A second, healthy simulator over the same mailbox (same seed
and dates) then serves the retry: only the failed conversations may be read again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import psycopg
import pytest

from frontscan.ledger.connect import open_store
from frontscan.simulator.openai_model import MistakeRates
from frontscan.simulator.openai_server import OpenAIOptions
from frontscan.simulator.runtime import SimulatorOptions, running_simulator
from tests.scanning import START, fast_options, requests_to, run_scan, settings_for, stored

COMPLETIONS = "chat/completions"


@dataclass(frozen=True, slots=True)
class BrokenModelOptions(SimulatorOptions):
    """The usual simulator, except that every model answer is malformed JSON."""

    def openai(self) -> OpenAIOptions:
        return replace(SimulatorOptions.openai(self), mistakes=MistakeRates(malformed=1.0))


def broken_model(conversations: int) -> BrokenModelOptions:
    base = fast_options(conversations)
    return BrokenModelOptions(**{f: getattr(base, f) for f in base.__dataclass_fields__})


async def ledger_statuses(dsn: str) -> dict[str, tuple[str, int, int]]:
    """conversation id -> (status, attempts, id of the run that last recorded it)."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT id, status, attempts, last_run_id FROM frontscan.conversations"
        )
        return {row[0]: (row[1], row[2], row[3]) for row in await cursor.fetchall()}


async def message_attempts(dsn: str) -> set[int]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT DISTINCT attempts FROM frontscan.messages")
        return {row[0] for row in await cursor.fetchall()}


async def test_retry_failed_processes_exactly_the_failed_conversations(database_url: str) -> None:
    conversations = 30
    async with running_simulator(broken_model(conversations)) as broken:
        # Every conversation in flight at once: each failure waits out the extractor's
        # backoff (seconds), so one wave instead of two keeps the test quick.
        settings = settings_for(broken, database_url, concurrency=conversations)
        first = await run_scan(settings, after=START.timestamp())
        asked = requests_to(broken, "openai", COMPLETIONS)
    before = await ledger_statuses(database_url)
    failed = {cid for cid, (status, _, _) in before.items() if status == "failed"}
    done = set(before) - failed
    assert len(before) == conversations  # every conversation was recorded, one way or another
    assert failed, "the broken model should have failed the conversations that ask it"
    assert done, "conversations the detector settles alone should not need the model"
    assert first.summary.stats.conversations_failed == len(failed)
    assert asked >= len(failed)  # each failed one asked the model (several times)
    assert all(before[cid][1] == 1 for cid in failed)
    stored_before = await stored(database_url)
    assert not {row[0] for row in stored_before} & failed  # a failure stores nothing

    async with running_simulator(fast_options(conversations)) as healthy:
        retry = await run_scan(settings_for(healthy, database_url), retry_failed=True)
        messages_read = requests_to(healthy, "front", "/messages")
        searches = requests_to(healthy, "front", "/search")
        model_calls = requests_to(healthy, "openai", COMPLETIONS)
        truth = {
            (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
            for t in healthy.mailbox.truth
        }

    assert searches == 0  # the retry list comes from the ledger, not from a Front search
    assert messages_read == len(failed)  # one page each, and nothing else was read
    assert model_calls == len(failed)
    assert retry.summary.stats.conversations_scanned == len(failed)
    assert retry.summary.stats.conversations_failed == 0
    assert retry.summary.problem is None

    after = await ledger_statuses(database_url)
    assert set(after) == set(before)
    assert {status for status, _, _ in after.values()} == {"done"}
    assert {attempts for _, attempts, _ in after.values()} == {0}
    # The retry run recorded exactly the failed conversations; the others are untouched.
    retry_run = retry.summary.run_id
    assert {cid for cid, (_, _, run) in after.items() if run == retry_run} == failed
    assert all(after[cid] == before[cid] for cid in done)
    assert await message_attempts(database_url) == {1}  # no message was processed twice
    assert set(await stored(database_url)) == truth
    # What was already done was left alone: the same rows, not re-read.
    assert set(stored_before) <= set(await stored(database_url))


async def test_a_retry_run_does_not_move_the_cron_watermark(database_url: str) -> None:
    async with running_simulator(fast_options(10)) as sim:
        settings = settings_for(sim, database_url)
        first = await run_scan(settings, after=START.timestamp())
        retry = await run_scan(settings, retry_failed=True)  # nothing failed: scans nothing
    assert retry.summary.stats.conversations_scanned == 0
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT extract(epoch FROM started_at)::float8 FROM frontscan.runs WHERE id = %s",
            (first.summary.run_id,),
        )
        row = await cursor.fetchone()
    assert row is not None
    async with open_store(settings) as store:
        watermark = await store.last_completed_run_start()
    # The retry run scanned no window, so cron must still continue from the window scan.
    assert watermark == pytest.approx(row[0], abs=1e-3)
