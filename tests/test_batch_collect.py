"""Collecting batches survives crashes: nothing lost before the commit, nothing added twice."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from openai import AsyncOpenAI

from frontscan.batch import command as batches
from frontscan.batch.api import BatchClient
from frontscan.batch.collect import Collector
from frontscan.batch.lines import BatchRequest, custom_id, jsonl, prepared_json, request_line
from frontscan.config import Settings
from frontscan.errors import TransientError
from frontscan.extract import batch_body
from frontscan.ledger.batches import BatchLedger, NewRequest
from frontscan.ledger.connect import open_store
from frontscan.models import ConversationRef, Message
from frontscan.prompt import model_call, needs_model, prepare
from frontscan.simulator.batch_jobs import BatchOptions
from frontscan.simulator.runtime import RunningSimulator, running_simulator
from tests.scanning import (
    START,
    cli_env,
    fast_options,
    requests_to,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)

AFTER = START.timestamp()


def batch_settings(sim: RunningSimulator, dsn: str) -> Settings:
    settings = settings_for(sim, dsn)
    return replace(settings, openai=replace(settings.openai, batch=True))


async def scalar(dsn: str, query: str) -> Any:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        row = await (await conn.execute(query)).fetchone()
    assert row is not None
    return row[0]


async def ledger_state(dsn: str) -> tuple[Any, ...]:
    """Everything a collection writes: numbers, conversations, request states, batches."""
    return (
        await scalar(dsn, "SELECT count(*) FROM frontscan.tracking_numbers"),
        await scalar(dsn, "SELECT count(*) FROM frontscan.messages"),
        await scalar(dsn, "SELECT count(*) FROM frontscan.conversations"),
        await scalar(
            dsn,
            "SELECT string_agg(state || ':' || count, ',' ORDER BY state) FROM"
            " (SELECT state, count(*) FROM frontscan.batch_requests GROUP BY state) s",
        ),
        await scalar(dsn, "SELECT count(*) FROM frontscan.batches WHERE collected_at IS NULL"),
    )


async def until_finished(sim: RunningSimulator) -> None:
    async with AsyncOpenAI(base_url=sim.openai_url, api_key=sim.openai_key) as client:
        for _ in range(1000):
            listed = await client.batches.list(limit=100)
            if listed.data and all(b.status == "completed" for b in listed.data):
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the simulated batches never completed")


async def collect_once(settings: Settings, *, attempts: int) -> Any:
    assert settings.openai.api_key is not None
    async with (
        AsyncOpenAI(
            base_url=settings.openai.base_url,
            api_key=settings.openai.api_key.reveal(),
            max_retries=0,
        ) as client,
        open_store(settings) as store,
    ):
        collector = Collector(
            BatchClient(client, attempts=attempts),
            BatchLedger(store),
            completion_budget=settings.openai.max_completion_tokens,
            run_id=None,
        )
        return await collector.collect()


async def test_failure_between_download_and_commit_loses_nothing(database_url: str) -> None:
    # Some lines fail (an error file exists); its first download loses the connection,
    # after the output file was downloaded and before anything was committed.
    faulty = BatchOptions(line_fault_rate=0.2, error_file_resets=1)
    async with running_simulator(fast_options(80, batch=faulty)) as sim:
        settings = batch_settings(sim, database_url)
        await run_scan(settings, after=AFTER)
        await until_finished(sim)
        before = await ledger_state(database_url)
        with pytest.raises(TransientError):
            await collect_once(settings, attempts=1)
        after_crash = await ledger_state(database_url)
        first = await collect_once(settings, attempts=1)
        collected = await ledger_state(database_url)
        second = await collect_once(settings, attempts=1)
        again = await ledger_state(database_url)
        await run_scan(settings, after=AFTER)  # the failed lines, online
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert after_crash == before
    assert first.answered > 0
    assert first.returned > 0
    assert collected != before
    assert second.collected_batches == 0
    assert again == collected
    assert set(rows) == expected
    assert len(rows) == len(set(rows))


async def test_killed_collector_then_rerun_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    slow = BatchOptions(download_delay_ms=1500.0, line_fault_rate=0.1)
    async with running_simulator(fast_options(60, batch=slow)) as sim:
        settings = batch_settings(sim, database_url)
        await run_scan(settings, after=AFTER)
        await until_finished(sim)
        before = await ledger_state(database_url)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "frontscan", "batches",
            env=cli_env(sim, database_url, tmp_path),
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(500):  # until the first download is under way
            if requests_to(sim, "openai", "/content"):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        os.kill(process.pid, signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
        killed = await ledger_state(database_url)
        report = await batches.collect(settings, wait=False, poll_seconds=1.0)
        collected = await ledger_state(database_url)
        again = await batches.collect(settings, wait=False, poll_seconds=1.0)
        assert await ledger_state(database_url) == collected
    assert killed == before
    assert report.collected.collected_batches == 1
    assert again.collected.collected_batches == 0


async def test_lost_create_answer_does_not_submit_twice(database_url: str) -> None:
    lossy = BatchOptions(create_resets=1)
    async with running_simulator(fast_options(60, batch=lossy)) as sim:
        settings = batch_settings(sim, database_url)
        result = await run_scan(settings, after=AFTER)
        report = await batches.collect(settings, wait=True, poll_seconds=0.05)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
        creates = requests_to(sim, "openai", "POST /v1/batches")
    assert sim.openai_stats.faults["create_reset"] == 1
    assert creates == 1  # the lost one was found by its input file, not made again
    assert result.summary.batch is not None
    assert result.summary.batch.batches_created == 1
    assert report.collected.answered == result.summary.batch.submitted
    assert set(rows) == expected


async def test_batch_recorded_but_never_created_is_created_by_collection(
    database_url: str,
) -> None:
    """A crash right after the batch row was written, before `batches.create`."""
    async with running_simulator(fast_options(40)) as sim:
        settings = batch_settings(sim, database_url)
        conversation = next(
            c for c in sim.mailbox.conversations.values() if any(t.conversation_id == c.id
            for t in sim.mailbox.truth)
        )  # fmt: skip
        prepared = [prepare(_message(conversation.id, m)) for m in conversation.messages]
        assert needs_model(prepared, "always")
        call = model_call(conversation.subject, prepared, model="gpt-4o-mini",
                          max_completion_tokens=400)  # fmt: skip
        custom = custom_id(conversation.id, "0" * 16)
        line = BatchRequest(
            custom_id=custom, conversation_id=conversation.id,
            line=request_line(custom, batch_body(call)), prompt_tokens=call.prompt_tokens,
            completion_budget=call.completion_budget,
        )  # fmt: skip
        ref = ConversationRef(
            id=conversation.id, subject=conversation.subject, last_message_id=None,
            updated_at=None,
        )  # fmt: skip
        async with (
            AsyncOpenAI(base_url=sim.openai_url, api_key=sim.openai_key) as client,
            open_store(settings) as store,
        ):
            file_id = await BatchClient(client).upload("crash.jsonl", jsonl([line]))
            await BatchLedger(store).add_batch(
                input_file_id=file_id, run_id=None, model="gpt-4o-mini", estimated_usd=0.0,
                estimated_tokens=call.prompt_tokens,
                requests=[NewRequest(custom_id=custom, ref=ref,
                                     messages_json=prepared_json(prepared))],
            )  # fmt: skip
        report = await batches.collect(settings, wait=True, poll_seconds=0.05)
        rows = await stored(database_url)
    truth = {
        (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
        for t in sim.mailbox.truth
        if t.conversation_id == conversation.id
    }
    assert report.collected.answered == 1
    assert set(rows) == truth


def _message(conversation_id: str, message: Any) -> Message:
    return Message(
        id=message.id,
        conversation_id=conversation_id,
        created_at=message.created_at,
        type="email",
        is_inbound=True,
        subject="",
        body=message.body,
        text=message.text,
    )


async def test_two_collectors_at_once_commit_a_batch_once(database_url: str) -> None:
    slow = BatchOptions(download_delay_ms=300.0)  # both are downloading at the same time
    async with running_simulator(fast_options(40, batch=slow)) as sim:
        settings = batch_settings(sim, database_url)
        await run_scan(settings, after=AFTER)
        await until_finished(sim)
        one, two = await asyncio.gather(
            collect_once(settings, attempts=1), collect_once(settings, attempts=1)
        )
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert one.collected_batches + two.collected_batches == 1
    assert one.answered + two.answered > 0
    assert set(rows) == expected
    assert len(rows) == len(set(rows))
