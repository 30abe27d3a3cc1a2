"""Backfills through the Batch API, end to end: simulator on loopback, real SDK, real PostgreSQL."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest

from frontscan.batch import command as batches
from frontscan.config import Settings
from frontscan.simulator.batch_jobs import BatchOptions
from frontscan.simulator.runtime import RunningSimulator, running_simulator
from tests.mention_truth import compare_mentions
from tests.scanning import (
    END,
    START,
    clean_env,
    cli_env,
    fast_options,
    requests_to,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)
from tests.test_cli_scan import frontscan

AFTER = START.timestamp()


def batch_settings(sim: RunningSimulator, dsn: str, **openai: Any) -> Settings:
    settings = settings_for(sim, dsn)
    return replace(settings, openai=replace(settings.openai, batch=True, **openai))


async def ledger(dsn: str, query: str) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(query)
        return list(await cursor.fetchall())


def chat_calls(sim: RunningSimulator) -> int:
    return requests_to(sim, "openai", "/v1/chat/completions")


async def test_backfill_of_500_conversations_through_batches_stores_the_truth(
    database_url: str,
) -> None:
    async with running_simulator(fast_options(500)) as sim:
        settings = batch_settings(sim, database_url)
        first = await run_scan(settings, after=AFTER)
        assert chat_calls(sim) == 0  # every model call went into a batch
        submitted = first.summary.batch
        assert submitted is not None
        assert submitted.submitted > 100
        assert submitted.batches_created == 1
        assert submitted.waiting == submitted.submitted
        report = await batches.collect(settings, wait=True, poll_seconds=0.05)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
        mentions = await compare_mentions(database_url, sim.mailbox)
        again = await run_scan(settings, after=AFTER)
        assert chat_calls(sim) == 0
        prompt = sim.openai_stats.prompt_tokens
    assert report.collected.answered == submitted.submitted
    assert report.collected.returned == 0
    assert report.collected.waiting == 0
    assert len(rows) == len(set(rows))
    false, missing = sorted(set(rows) - expected), sorted(expected - set(rows))
    if false or missing:
        pytest.fail(f"stored but not true: {false}\ntrue but not stored: {missing}")
    # Collection stores every mention as the online path does, quoted ones included.
    assert (mentions.wrong, mentions.missing, mentions.extra) == ([], [], [])
    assert sum(bool(row[6]) for row in mentions.rows) > 50
    assert report.collected.prompt_tokens == prompt  # from what the server billed
    assert report.collected.cost_usd == pytest.approx(report.collected.saved_usd)
    assert again.summary.stats.conversations_scanned == 0  # everything is recorded
    assert again.summary.batch is not None
    assert again.summary.batch.submitted == 0
    assert await ledger(database_url, "SELECT count(*) FROM frontscan.batch_requests"
                        " WHERE state <> 'answered'") == [(0,)]  # fmt: skip


async def test_scan_collects_first_and_waiting_conversations_are_not_sent_online(
    database_url: str,
) -> None:
    slow = BatchOptions(requests_per_second=0.0001)  # in progress for the whole test
    async with running_simulator(fast_options(60, batch=slow)) as sim:
        settings = batch_settings(sim, database_url)
        first = await run_scan(settings, after=AFTER)
        online = replace(settings, openai=replace(settings.openai, batch=False))
        second = await run_scan(online, after=AFTER)
        assert chat_calls(sim) == 0
    assert first.summary.batch is not None
    assert second.summary.batch is not None
    waiting = first.summary.batch.submitted
    assert waiting > 0
    assert second.summary.batch.waiting == waiting
    assert second.summary.stats.conversations_skipped >= waiting


async def test_expired_lines_go_back_and_are_scanned_online(database_url: str) -> None:
    # One line every 10 simulated seconds and a 200 s window: most lines expire.
    expiring = BatchOptions(requests_per_second=0.1, window_seconds=200.0, speed=2000.0)
    async with running_simulator(fast_options(60, batch=expiring)) as sim:
        settings = batch_settings(sim, database_url)
        first = await run_scan(settings, after=AFTER)
        report = await batches.collect(settings, wait=True, poll_seconds=0.05)
        assert chat_calls(sim) == 0
        second = await run_scan(settings, after=AFTER)  # batch mode still on
        online_calls = chat_calls(sim)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert first.summary.batch is not None
    assert report.collected.returned > 0
    assert report.collected.answered > 0
    assert online_calls == report.collected.returned  # each expired one asked online once
    assert second.summary.batch is not None
    assert second.summary.batch.submitted == 0  # not batched a second time
    assert set(rows) == expected
    errors = await ledger(
        database_url,
        "SELECT DISTINCT error FROM frontscan.batch_requests WHERE state = 'returned'",
    )
    assert errors
    assert all("batch_expired" in e[0] for e in errors)


async def test_dry_run_estimates_batch_lines_at_half_price(database_url: str) -> None:
    async with running_simulator(fast_options(80)) as sim:
        online = settings_for(sim, database_url)
        full = await run_scan(online, after=AFTER, dry_run=True)
        half = await run_scan(batch_settings(sim, database_url), after=AFTER, dry_run=True)
        assert requests_to(sim, "openai", "/v1/") == 0
    assert full.summary.stats.openai_calls > 0
    assert all(p.via_batch for p in half.planned if p.asks_model)
    assert half.summary.cost_usd == pytest.approx(full.summary.cost_usd / 2)


async def test_mixed_backfill_batches_old_mail_and_scans_recent_mail_online(
    database_url: str,
) -> None:
    async with running_simulator(fast_options(120)) as sim:
        middle = (START.timestamp() + END.timestamp()) / 2
        days = (time.time() - middle) / 86_400  # the older half batched, the newer online
        settings = batch_settings(sim, database_url, batch_older_than_days=days)
        result = await run_scan(settings, after=AFTER)
        online = chat_calls(sim)
        await batches.collect(settings, wait=True, poll_seconds=0.05)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert result.summary.batch is not None
    assert result.summary.batch.submitted > 0
    assert online > 0
    assert set(rows) == expected


async def test_max_cost_counts_batch_spend(database_url: str) -> None:
    async with running_simulator(fast_options(120)) as sim:
        settings = batch_settings(sim, database_url)
        dry = await run_scan(settings, after=AFTER, dry_run=True)
        limit = dry.summary.cost_usd / 3
        result = await run_scan(settings, after=AFTER, max_cost=limit)
    assert result.summary.stop_reason == "max-cost"
    assert result.summary.batch is not None
    assert 0 < result.summary.batch.estimated_usd <= limit


async def test_command_line_backfill_batches_and_status(database_url: str, tmp_path: Path) -> None:
    async with running_simulator(fast_options(60)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        log = tmp_path / "log.jsonl"
        code, out, _ = await frontscan(
            "--log-file", str(log), "scan", "--after", "2026-01-01", "--openai-batch", "--json",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0
        scanned = json.loads(out)
        code, out, _ = await frontscan(
            "--log-file", str(log), "batches", "--wait", "--poll", "0.1", "--json",
            env=env, cwd=tmp_path,
        )  # fmt: skip
        assert code == 0
        collected = json.loads(out)
        code, out, _ = await frontscan("status", "--json", env=env, cwd=tmp_path)
        status = json.loads(out)
        code, _, err = await frontscan("batches", env=clean_env(tmp_path), cwd=tmp_path)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert scanned["batch"]["submitted"] == scanned["batch"]["waiting"] > 0
    assert collected["collected"]["answered"] == scanned["batch"]["submitted"]
    assert collected["batches"][0]["status"] == "completed"
    assert status["batches"]["waiting"] == 0
    assert status["batches"]["answered"] == scanned["batch"]["submitted"]
    assert status["batches"]["saved_usd"] == pytest.approx(status["batches"]["cost_usd"])
    assert set(rows) == expected
    events = {line["event"]: line for line in map(json.loads, log.read_text().splitlines())}
    assert events["batch.created"]["requests"] == scanned["batch"]["submitted"]
    assert events["batch.collected"]["answered"] == scanned["batch"]["submitted"]
    assert events["batch.collected"]["status"] == "completed"
    assert code == 2
    assert err.strip() == (
        "frontscan: OPENAI_API_KEY is not set: export it to collect OpenAI batches"
    )


async def test_a_failed_batch_sends_every_line_back_to_the_queue(database_url: str) -> None:
    # The account's real cap is lower than configured: OpenAI fails the batch at validation.
    capped = BatchOptions(enqueued_token_limit=1_000)
    async with running_simulator(fast_options(60, batch=capped)) as sim:
        settings = batch_settings(sim, database_url)
        first = await run_scan(settings, after=AFTER)
        report = await batches.collect(settings, wait=True, poll_seconds=0.05)
        await run_scan(settings, after=AFTER)
        online = chat_calls(sim)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
    assert first.summary.batch is not None
    assert report.collected.answered == 0
    assert report.collected.returned == first.summary.batch.submitted
    assert online == first.summary.batch.submitted
    assert set(rows) == expected
    errors = await ledger(database_url, "SELECT DISTINCT error FROM frontscan.batch_requests")
    assert len(errors) == 1
    assert "token_limit_exceeded" in errors[0][0]


async def test_calls_past_the_enqueued_token_cap_go_online(database_url: str) -> None:
    async with running_simulator(fast_options(60)) as sim:
        settings = batch_settings(sim, database_url, batch_enqueued_tokens=4_000)
        first = await run_scan(settings, after=AFTER)
        online = chat_calls(sim)
        await batches.collect(settings, wait=True, poll_seconds=0.05)
        rows = await stored(database_url)
        expected = truth_in_window(sim, AFTER)
        enqueued = await ledger(database_url, "SELECT sum(estimated_tokens) FROM frontscan.batches")
    assert first.summary.batch is not None
    assert first.summary.batch.submitted > 0
    assert online > 0
    assert 0 < enqueued[0][0] <= 4_000
    assert set(rows) == expected


async def test_replies_collected_from_a_batch_are_mentions_of_numbers_stored_before(
    database_url: str,
) -> None:
    """New replies in conversations an online scan stored go through a batch; collection
    records their mentions of the earlier numbers, quoted ones too, as online."""
    async with running_simulator(fast_options(60, seed=31)) as sim:
        await run_scan(settings_for(sim, database_url), after=AFTER)
        first = await compare_mentions(database_url, sim.mailbox)
        known = {str(row[8]) for row in first.rows}
        changed = [c.id for c in sim.mailbox.by_activity() if c.id in known][:30]
        sim.mailbox.append_messages(changed, rng_seed=8, at=END.timestamp() - 3600)
        settings = batch_settings(sim, database_url)
        result = await run_scan(settings, after=AFTER)
        await batches.collect(settings, wait=True, poll_seconds=0.05)
        later = await compare_mentions(database_url, sim.mailbox)
        requests = await ledger(
            database_url, "SELECT conversation_id FROM frontscan.batch_requests"
        )
    assert result.summary.batch is not None
    assert result.summary.batch.submitted == len(requests) >= 5
    assert (later.wrong, later.missing, later.extra) == ([], [], [])
    batched = {str(row[0]) for row in requests}
    earlier = {(str(row[8]), str(row[1])) for row in first.rows}
    quoted_in_batched = [
        row for row in later.rows
        if row[6] and str(row[8]) in batched and (str(row[8]), str(row[1])) in earlier
        and row not in first.rows
    ]  # fmt: skip
    assert len(quoted_in_batched) >= 3
