"""The pipeline's scheduling against in-memory fakes: stop, abort, fatal drain, the flush
timer, backpressure, `--limit` and `--max-cost`, all decided by events, not by the clock."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from frontscan.errors import AuthError, DatabaseError, TransientError
from frontscan.models import LedgerEntry, ScanRequest
from frontscan.pipeline import Pipeline
from frontscan.prompt import cost_usd
from tests.fakes import (
    UPS,
    FakeExtractor,
    FakeLedger,
    FakeReporter,
    FakeSource,
    plan,
    ref,
    settle,
)

AFTER = 1_769_904_000.0
WAIT = 10.0  # only so a broken pipeline fails the test instead of hanging it


def pipeline(
    source: FakeSource,
    ledger: FakeLedger,
    *,
    extractor: FakeExtractor | None = None,
    request: ScanRequest | None = None,
    concurrency: int = 2,
    batch_size: int = 10,
    flush_seconds: float = 10.0,
) -> tuple[Pipeline, FakeReporter]:
    reporter = FakeReporter()
    built = Pipeline(
        plan(request, concurrency=concurrency, batch_size=batch_size),
        source,
        extractor if extractor is not None else FakeExtractor(),
        ledger,
        reporter,
        flush_seconds=flush_seconds,
    )
    return built, reporter


async def test_a_whole_run_records_every_conversation_with_its_number() -> None:
    source, ledger = FakeSource([ref(i) for i in range(12)]), FakeLedger()
    ledger.entries["cnv_3"] = LedgerEntry(
        id="cnv_3", scanned_through=AFTER, last_message_id="msg_3", status="done", attempts=0
    )
    run, reporter = pipeline(source, ledger)
    stats = await asyncio.wait_for(run.run(), WAIT)
    assert sorted(ledger.recorded) == sorted(f"cnv_{i}" for i in range(12) if i != 3)
    assert all(o.numbers[0].tracking_number == UPS for b in ledger.batches for o in b)
    assert {o.numbers[0].source for b in ledger.batches for o in b} == {"both"}
    assert (stats.conversations_seen, stats.conversations_skipped) == (12, 1)
    assert (stats.conversations_scanned, stats.numbers_found, stats.batches) == (11, 11, 2)
    assert reporter.totals == [12]
    assert sum(reporter.skips) == 1
    assert [t.conversations for t in reporter.timings] == [10, 1]


async def test_stop_finishes_in_flight_work_and_drops_the_queue() -> None:
    source, ledger = FakeSource([ref(i) for i in range(20)]), FakeLedger()
    source.hold(*(r.id for r in source.refs))
    run, _ = pipeline(source, ledger)
    task = asyncio.create_task(run.run())
    await settle()
    in_flight = list(source.fetched)
    assert in_flight == ["cnv_0", "cnv_1"]  # two workers, each held at its first fetch
    run.stop("interrupted")
    source.release(*(r.id for r in source.refs))
    await asyncio.wait_for(task, WAIT)
    assert sorted(ledger.recorded) == in_flight  # finished, recorded; queued ones dropped
    assert source.fetched == in_flight
    assert run.stop_reason == "interrupted"


async def test_abort_abandons_in_flight_work_and_records_nothing_half_done() -> None:
    source, ledger = FakeSource([ref(i) for i in range(6)]), FakeLedger()
    source.hold(*(r.id for r in source.refs))
    run, _ = pipeline(source, ledger)
    task = asyncio.create_task(run.run())
    await settle()
    run.abort()
    await asyncio.wait_for(task, WAIT)
    assert ledger.batches == []
    assert run.stop_reason == "interrupted"


async def test_a_fatal_error_stops_the_run_after_draining_what_was_in_flight() -> None:
    source, ledger = FakeSource([ref(i) for i in range(20)]), FakeLedger()
    source.hold("cnv_0", "cnv_1")
    source.errors["cnv_1"] = AuthError("Front: 401: check FRONT_API_TOKEN")
    run, _ = pipeline(source, ledger)
    task = asyncio.create_task(run.run())
    await settle()
    source.release("cnv_1")  # fails: the run must stop
    await settle()
    source.release("cnv_0")  # still in flight: finishes and is recorded
    with pytest.raises(AuthError, match="401"):
        await asyncio.wait_for(task, WAIT)
    assert ledger.recorded == ["cnv_0"]
    assert run.stop_reason == "failed"
    assert source.fetched == ["cnv_0", "cnv_1"]


async def test_an_item_error_fails_one_conversation_and_a_bug_fails_one_too() -> None:
    source, ledger = FakeSource([ref(i) for i in range(4)]), FakeLedger()
    source.errors["cnv_1"] = TransientError("Front GET /conversations/cnv_1/messages: 503")
    source.errors["cnv_2"] = KeyError("_results")
    run, _ = pipeline(source, ledger)
    stats = await asyncio.wait_for(run.run(), WAIT)
    by_id = {o.conversation.id: o for b in ledger.batches for o in b}
    assert by_id["cnv_1"].status == "failed"
    assert by_id["cnv_1"].error == "Front GET /conversations/cnv_1/messages: 503"
    assert by_id["cnv_2"].error == "internal error: KeyError: '_results'"
    assert (by_id["cnv_0"].status, by_id["cnv_3"].status) == ("done", "done")
    assert (stats.conversations_scanned, stats.conversations_failed) == (2, 2)
    assert run.stop_reason is None


async def test_a_lost_database_stops_the_run_without_stranding_workers() -> None:
    source = FakeSource([ref(i) for i in range(40)])
    ledger = FakeLedger(fail_with=DatabaseError("database: connection lost; check DATABASE_URL"))
    run, _ = pipeline(source, ledger, batch_size=2)
    with pytest.raises(DatabaseError, match="connection lost"):
        await asyncio.wait_for(run.run(), WAIT)
    assert run.stop_reason == "failed"
    assert len(source.fetched) < 40  # the producer stopped at the first failed commit


async def test_the_flush_timer_commits_a_partial_batch_while_work_is_still_running() -> None:
    source, ledger = FakeSource([ref(0), ref(1)]), FakeLedger()
    source.hold("cnv_1")  # never finishes until the test says so
    run, reporter = pipeline(source, ledger, batch_size=10, flush_seconds=0.01)
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(ledger.committed.wait(), WAIT)
    assert ledger.recorded == ["cnv_0"]  # committed alone: the batch was far from full
    assert "cnv_1" in source.fetched
    assert not task.done()
    source.release("cnv_1")
    await asyncio.wait_for(task, WAIT)
    assert ledger.recorded == ["cnv_0", "cnv_1"]
    assert [t.conversations for t in reporter.timings] == [1, 1]


async def test_a_slow_database_holds_the_workers_back() -> None:
    """Backpressure: the outcome queue is bounded, so workers wait instead of piling up."""
    source, ledger = FakeSource([ref(i) for i in range(50)]), FakeLedger(gate=asyncio.Event())
    run, _ = pipeline(source, ledger, concurrency=1, batch_size=1)
    task = asyncio.create_task(run.run())
    await settle()
    assert ledger.waiting == 1
    # One outcome in the commit, two in the bounded queue (2 x max(batch, concurrency)),
    # one in the worker's hands waiting for room: nothing else was fetched.
    assert len(source.fetched) == 4
    await settle()
    assert len(source.fetched) == 4
    assert ledger.gate is not None
    ledger.gate.set()
    await asyncio.wait_for(task, WAIT)
    assert len(ledger.recorded) == 50


async def test_limit_queues_exactly_that_many_conversations() -> None:
    source, ledger = FakeSource([ref(i) for i in range(10)], page_size=4), FakeLedger()
    request = ScanRequest(after=AFTER, limit=3)
    run, _ = pipeline(source, ledger, request=request)
    stats = await asyncio.wait_for(run.run(), WAIT)
    assert sorted(ledger.recorded) == ["cnv_0", "cnv_1", "cnv_2"]
    assert sorted(source.fetched) == ["cnv_0", "cnv_1", "cnv_2"]
    assert stats.conversations_seen == 4  # the first page only
    assert run.stop_reason is None


async def test_max_cost_reserves_calls_in_flight_and_stops_before_the_limit() -> None:
    source, ledger = FakeSource([ref(i) for i in range(10)]), FakeLedger()
    extractor = FakeExtractor()
    extractor.gate = asyncio.Event()
    probe, _ = pipeline(FakeSource([ref(0)]), FakeLedger(), request=ScanRequest(dry_run=True))
    await probe.run()
    (planned,) = probe.planned
    assert planned.call is not None
    worst = cost_usd("gpt-4o-mini", planned.prompt_tokens, planned.completion_budget)
    # Room for one call at its worst case, not two: the second worker must be refused
    # while the first call is still in flight, although nothing has been spent yet.
    request = ScanRequest(after=AFTER, max_cost=worst * 1.5)
    run, _ = pipeline(source, ledger, extractor=extractor, request=request)
    task = asyncio.create_task(run.run())
    await settle()
    assert len(extractor.calls) == 1
    assert run.stop_reason == "max-cost"
    extractor.gate.set()
    await asyncio.wait_for(task, WAIT)
    assert source.fetched == ["cnv_0", "cnv_1"]
    assert ledger.recorded == ["cnv_0"]  # cnv_1 was refused: left for the next run
    assert extractor.calls == [planned.call]  # the very call the dry run planned
    spent = extractor.usage()
    assert cost_usd("gpt-4o-mini", spent.prompt_tokens, spent.completion_tokens) < worst * 1.5


async def test_a_dry_run_plans_the_same_model_call_it_would_send() -> None:
    source, ledger = FakeSource([ref(0), ref(1)]), FakeLedger()
    extractor = FakeExtractor()
    dry, _ = pipeline(source, ledger, extractor=extractor, request=ScanRequest(dry_run=True))
    await asyncio.wait_for(dry.run(), WAIT)
    assert extractor.calls == []
    assert ledger.batches == []
    real, _ = pipeline(FakeSource([ref(0), ref(1)]), FakeLedger(), extractor=extractor)
    await asyncio.wait_for(real.run(), WAIT)
    planned = {p.ref.id: p.call for p in dry.planned}
    sent = {c.messages[-1].content: c for c in extractor.calls}
    assert sorted(sent) == sorted(c.messages[-1].content for c in planned.values() if c)
    assert set(sent.values()) == {c for c in planned.values() if c}


def test_the_pipeline_and_the_conversation_path_import_no_client_library() -> None:
    """They depend on `ports.py` only, so they run the same on fakes as on Front."""
    code = (
        "import sys, frontscan.pipeline, frontscan.conversation\n"
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'aiohttp', 'openai', 'psycopg', 'psycopg_pool'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
