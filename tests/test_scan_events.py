"""Scans through the event stream end to end: same rows as search, fewer calls, fallbacks."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Any

import aiohttp
import psycopg
import pytest

from frontscan.config import Settings
from frontscan.errors import MissingScopeError
from frontscan.front import FrontClient
from frontscan.front_events import EventsSource
from frontscan.ledger.store import Store
from frontscan.limits.budgets import FrontBudgets
from frontscan.models import Plan, ScanRequest, Window
from frontscan.pipeline import Pipeline
from frontscan.report import make_reporter
from frontscan.runner import ScanResult, scan
from frontscan.simulator.runtime import running_simulator
from tests.scanning import END, START, fast_options, requests_to, settings_for, stored

MIDDLE = (START.timestamp() + END.timestamp()) / 2
WINDOW_END = END.timestamp() + 86_400


async def scan_logged(settings: Settings, **request: Any) -> tuple[ScanResult, str]:
    log = io.StringIO()
    with make_reporter(tty=False, stream=log) as reporter:
        result = await scan(settings, ScanRequest(**request), reporter)
    return result, log.getvalue()


async def ledger_rows(dsn: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a scan records, without ids, run ids and wall-clock times."""
    queries = {
        "numbers": "SELECT conversation_id, message_id, tracking_number, carrier, format,"
        " checksum_valid, source, confidence, snippet FROM frontscan.tracking_numbers",
        "messages": "SELECT id, conversation_id, created_at, content_hash, extractor_version,"
        " status, attempts FROM frontscan.messages",
        "conversations": "SELECT id, subject, scanned_through, status, attempts,"
        " last_message_id FROM frontscan.conversations",
    }
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        found = {}
        for name, query in queries.items():
            cursor = await conn.execute(query + " ORDER BY 1, 2, 3")
            found[name] = [tuple(row) for row in await cursor.fetchall()]
        return found


async def empty_ledger(dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await conn.execute(
            "TRUNCATE frontscan.tracking_numbers, frontscan.messages,"
            " frontscan.conversations, frontscan.runs CASCADE"
        )
        await conn.commit()


def truth_rows(sim: Any, conversations: set[str] | None = None) -> set[tuple[str, str, str, str]]:
    return {
        (t.conversation_id, t.message_id, t.tracking_number, t.carrier)
        for t in sim.mailbox.truth
        if conversations is None or t.conversation_id in conversations
    }


@pytest.mark.parametrize("after", [START.timestamp(), MIDDLE], ids=["all", "from-middle"])
async def test_events_and_search_record_identical_rows(database_url: str, after: float) -> None:
    async with running_simulator(fast_options(300)) as sim:
        runs = {}
        for source in ("search", "events"):
            settings = settings_for(sim, database_url, source=source)
            before = sim.stats()["front"]["total_requests"]
            result, log = await scan_logged(settings, after=after, before=WINDOW_END)
            calls = sim.stats()["front"]["total_requests"] - before
            runs[source] = (await ledger_rows(database_url), result, log, calls)
            await empty_ledger(database_url)
        straddling = sum(
            c.messages[0].created_at <= after < c.last_activity
            for c in sim.mailbox.conversations.values()
        )
    search, events = runs["search"], runs["events"]
    assert events[0] == search[0]
    assert len(events[0]["numbers"]) > 50
    assert (
        events[1].summary.stats.conversations_scanned
        == search[1].summary.stats.conversations_scanned
    )
    assert "event stream:" in events[2]
    assert events[3] < search[3] / 3  # the calls, from the simulator's own count
    # Conversations begun before the window were read whole, as search reads them.
    assert (straddling > 0) == (after == MIDDLE)
    assert f", {straddling} read whole" in events[2]


async def test_a_later_window_first_then_an_earlier_one_misses_nothing(database_url: str) -> None:
    async with running_simulator(fast_options(150)) as sim:
        settings = settings_for(sim, database_url, source="events")
        await scan_logged(settings, after=MIDDLE, before=WINDOW_END)
        await scan_logged(settings, after=START.timestamp(), before=MIDDLE + 1)
        rows = set(await stored(database_url))
        found = await ledger_rows(database_url)
    assert rows == truth_rows(sim)
    assert {row[6] for row in found["messages"]} == {1}
    newest = {c.id: c.last_message.id for c in sim.mailbox.conversations.values()}
    assert {r[0]: r[5] for r in found["conversations"]} == newest


async def test_a_first_scan_and_a_cron_rerun_cost_what_the_targets_say(database_url: str) -> None:
    async with running_simulator(fast_options(300)) as sim:
        settings = settings_for(sim, database_url, source="events")
        first, _ = await scan_logged(settings, after=START.timestamp())
        first_calls = sim.stats()["front"]["total_requests"]
        conversations = len(sim.mailbox.conversations)
        changed = [c.id for c in sim.mailbox.by_activity()[::20]]  # 5%
        sim.mailbox.append_messages(changed, rng_seed=5, at=time.time())
        cron, _ = await scan_logged(settings)  # continues from the last complete run
        cron_calls = sim.stats()["front"]["total_requests"] - first_calls
        rows = set(await stored(database_url))
    assert first.summary.status == cron.summary.status == "succeeded"
    assert first_calls / conversations <= 0.25, first_calls / conversations
    assert cron.summary.stats.conversations_scanned == len(changed)
    assert cron_calls <= len(changed) / 15 + 2, cron_calls
    assert rows == truth_rows(sim)


async def test_without_the_events_scope_auto_falls_back_to_search_with_a_note(
    database_url: str,
) -> None:
    scopes = ("conversations:read", "messages:read")
    async with running_simulator(fast_options(40, front_scopes=scopes)) as sim:
        settings = settings_for(sim, database_url, source="auto")
        result, log = await scan_logged(settings, after=START.timestamp(), before=WINDOW_END)
        rows = set(await stored(database_url))
        with pytest.raises(MissingScopeError, match=r"events:\*:read"):
            await scan_logged(
                replace(settings, front=replace(settings.front, source="events")),
                after=START.timestamp(),
            )
    assert result.summary.status == "succeeded"
    assert "using search: the Front token lacks the events:*:read scope" in log
    assert rows == truth_rows(sim)


async def test_events_without_bodies_fall_back_per_conversation(database_url: str) -> None:
    async with running_simulator(fast_options(80, event_body_drop_rate=0.2)) as sim:
        settings = settings_for(sim, database_url, source="auto")
        result, log = await scan_logged(settings, after=START.timestamp(), before=WINDOW_END)
        rows = set(await stored(database_url))
        fallbacks = requests_to(sim, "front", "/messages")
    assert result.summary.status == "succeeded"
    assert rows == truth_rows(sim)
    assert 0 < fallbacks < len(sim.mailbox.conversations)
    assert f"{fallbacks} read from the message list (events without body)" in log


async def test_an_account_whose_events_carry_no_body_uses_search_under_auto(
    database_url: str,
) -> None:
    async with running_simulator(fast_options(30, event_body_drop_rate=1.0)) as sim:
        settings = settings_for(sim, database_url, source="auto")
        _, log = await scan_logged(settings, after=START.timestamp(), before=WINDOW_END)
        rows = set(await stored(database_url))
    assert "using search: this account's event messages carry no body" in log
    assert rows == truth_rows(sim)


async def pipeline_run(sim: Any, dsn: str, max_held: int) -> tuple[EventsSource, Pipeline]:
    """The pipeline over the event source directly, so the source's memory can be squeezed."""
    store = await Store.open(dsn)
    try:
        await store.migrate()
        async with aiohttp.ClientSession() as session:
            client = FrontClient(session, sim.front_url, sim.front_token, FrontBudgets(10**5))
            source = EventsSource(client, store, max_held=max_held)
            plan = Plan(
                request=ScanRequest(after=START.timestamp(), before=WINDOW_END),
                slices=(Window(after=START.timestamp(), before=WINDOW_END),),
                llm="never",
                model="gpt-4o-mini",
                max_completion_tokens=400,
                batch_size=3,
            )
            with make_reporter(tty=False, stream=io.StringIO()) as reporter:
                pipeline = Pipeline(plan, source, None, store, reporter)
                await pipeline.run()
    finally:
        await store.close()
    return source, pipeline


async def test_a_conversation_split_across_groups_is_worked_on_in_order_and_once(
    database_url: str,
) -> None:
    """With room for only two waiting messages, conversations are handed on in pieces: the
    pipeline keeps a later piece until the earlier one is committed, and loses none."""
    async with running_simulator(fast_options(60)) as sim:
        whole_source, _ = await pipeline_run(sim, database_url, 5_000)
        whole = await ledger_rows(database_url)
        await empty_ledger(database_url)
        source, pipeline = await pipeline_run(sim, database_url, 2)
        pieces = await ledger_rows(database_url)
    assert whole_source.counters.evicted == 0
    assert source.counters.evicted > 0
    assert pipeline.stats.conversations_scanned > len(sim.mailbox.conversations)  # pieces
    assert {row[6] for row in pieces["messages"]} == {1}  # every message exactly once
    assert pieces == whole
    newest = {c.id: round(c.last_activity, 3) for c in sim.mailbox.conversations.values()}
    assert {r[0]: r[2].timestamp() for r in pieces["conversations"]} == pytest.approx(newest)


async def test_cron_continues_from_a_search_run_through_the_event_stream(
    database_url: str,
) -> None:
    async with running_simulator(fast_options(100)) as sim:
        searching = settings_for(sim, database_url, source="search")
        await scan_logged(searching, after=START.timestamp())
        before = sim.stats()["front"]["total_requests"]
        changed = [c.id for c in sim.mailbox.by_activity()[::10]]
        sim.mailbox.append_messages(changed, rng_seed=8, at=time.time())
        cron, _ = await scan_logged(settings_for(sim, database_url, source="events"))
        calls = sim.stats()["front"]["total_requests"] - before
        rows = set(await stored(database_url))
        found = await ledger_rows(database_url)
    assert cron.summary.stats.conversations_scanned == len(changed)
    assert calls <= len(changed) / 15 + 2
    assert rows == truth_rows(sim)
    assert {row[6] for row in found["messages"]} == {1}
