"""The ledger against a real PostgreSQL: migrations, idempotent upserts, atomicity, the lock."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import textwrap
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from frontscan.errors import DatabaseError, LockHeldError
from frontscan.ledger.statements import load_migrations
from frontscan.ledger.store import Store
from frontscan.models import (
    ConversationRef,
    MessageRecord,
    Outcome,
    RunStats,
    TrackingNumber,
    Window,
)


def outcome(
    conv: str = "cnv_1",
    *,
    numbers: tuple[str, ...] = ("1Z999AA10123456784",),
    message: str = "msg_1",
    created: float = 1770000000.125,
) -> Outcome:
    ref = ConversationRef(
        id=conv, subject="Where is my parcel?", last_message_id=message, updated_at=created
    )
    return Outcome(
        conversation=ref,
        status="done",
        scanned_through=created,
        last_message_id=message,
        messages=(
            MessageRecord(
                id=message,
                created_at=created,
                content_hash="hash",
                status="done",
                extractor_version="v1",
            ),
        ),
        numbers=tuple(
            TrackingNumber(
                tracking_number=n,
                carrier="ups",
                format="ups",
                checksum_valid=True,
                source="pattern",
                confidence=0.9,
                conversation_id=conv,
                message_id=message,
                snippet=f"…{n}…",
            )
            for n in numbers
        ),
    )


async def select(dsn: str, query: str) -> list[dict[str, Any]]:
    """Read the ledger straight from SQL, beside the Store (the oracle of these tests)."""
    async with (
        await psycopg.AsyncConnection.connect(dsn) as conn,
        conn.cursor(row_factory=dict_row) as cursor,
    ):
        await cursor.execute(query.encode())
        return await cursor.fetchall()


async def count(dsn: str, table: str) -> int:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(f"SELECT count(*) FROM frontscan.{table}")
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])


async def test_migrations_apply_once_and_twice_is_harmless(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        first = await store.migrate()
        second = await store.migrate()
    finally:
        await store.close()
    assert first == [m.version for m in load_migrations()]
    assert second == []
    assert await count(database_url, "schema_version") == len(load_migrations())


async def test_recording_the_same_outcome_twice_leaves_one_copy(
    store: Store, database_url: str
) -> None:
    assert await store.record([outcome()], None) == 1
    assert await store.record([outcome()], None) == 0
    assert await count(database_url, "tracking_numbers") == 1
    assert await count(database_url, "messages") == 1
    assert await count(database_url, "conversations") == 1


async def test_a_quoted_repeat_stays_with_the_message_where_it_first_appeared(
    store: Store, database_url: str
) -> None:
    await store.record([outcome(message="msg_1", created=1770000000.0)], None)
    await store.record([outcome(message="msg_2", created=1770000100.0)], None)
    rows = await select(database_url, "SELECT message_id FROM frontscan.tracking_numbers")
    assert [r["message_id"] for r in rows] == ["msg_1"]
    ledger = await store.ledger_for(["cnv_1"])
    assert ledger["cnv_1"].scanned_through == 1770000100.0
    assert ledger["cnv_1"].last_message_id == "msg_2"


async def test_a_failed_batch_leaves_nothing_half_written(store: Store, database_url: str) -> None:
    good = outcome("cnv_good")
    bad = outcome("cnv_bad", message="msg_2")
    bad = dataclasses.replace(bad, numbers=(dataclasses.replace(bad.numbers[0], confidence=7.0),))
    with pytest.raises(DatabaseError, match="confidence"):
        await store.record([good, bad], None)
    for table in ("conversations", "messages", "tracking_numbers"):
        assert await count(database_url, table) == 0


async def test_failures_count_attempts_and_keep_the_watermark(store: Store) -> None:
    await store.record([outcome()], None)
    failed = Outcome(
        conversation=ConversationRef(
            id="cnv_1", subject="s", last_message_id="msg_9", updated_at=1770009999.0
        ),
        status="failed",
        scanned_through=None,
        last_message_id=None,
        error="Front GET /conversations/cnv_1/messages: 503",
    )
    await store.record([failed], None)
    await store.record([failed], None)
    entry = (await store.ledger_for(["cnv_1"]))["cnv_1"]
    assert (entry.status, entry.attempts) == ("failed", 2)
    assert entry.scanned_through == 1770000000.125
    assert [(r.id, r.subject) for r in await store.failed_conversations()] == [("cnv_1", "s")]
    await store.record([outcome()], None)
    entry = (await store.ledger_for(["cnv_1"]))["cnv_1"]
    assert (entry.status, entry.attempts) == ("done", 0)


async def test_runs_are_recorded_and_give_the_cron_watermark(
    store: Store, database_url: str
) -> None:
    assert await store.last_completed_run_start() is None
    run_id = await store.start_run(Window(after=1770000000.0), {"advances_watermark": True})
    await store.finish_run(run_id, "succeeded", RunStats(numbers_found=3), 0.01, None)
    rows = await select(database_url, "SELECT status, numbers_found FROM frontscan.runs")
    assert rows == [{"status": "succeeded", "numbers_found": 3}]
    assert await store.last_completed_run_start() is not None
    retry = await store.start_run(Window(), {"advances_watermark": False})
    await store.finish_run(retry, "succeeded", RunStats(), 0.0, None)
    rows = await select(
        database_url,
        "SELECT extract(epoch FROM started_at)::float8 AS s FROM frontscan.runs ORDER BY id",
    )
    assert await store.last_completed_run_start() == rows[0]["s"]


async def test_every_run_counter_lands_in_the_column_of_its_name(
    store: Store, database_url: str
) -> None:
    names = [f.name for f in dataclasses.fields(RunStats)]
    stats = RunStats(**{name: i + 1 for i, name in enumerate(names)})  # all distinct
    run_id = await store.start_run(Window(after=1770000000.0, before=1770086400.0), {})
    await store.finish_run(run_id, "partial", stats, 0.25, None)
    rows = await select(
        database_url,
        "SELECT " + ", ".join(names) + ", status, cost_usd::float8 AS cost_usd,"
        " extract(epoch FROM window_after)::float8 AS window_after,"
        " extract(epoch FROM window_before)::float8 AS window_before FROM frontscan.runs",
    )
    assert rows == [
        dataclasses.asdict(stats)
        | {
            "status": "partial",
            "cost_usd": 0.25,
            "window_after": 1770000000.0,
            "window_before": 1770086400.0,
        }
    ]


async def test_a_second_process_is_refused_the_scan_lock(store: Store, database_url: str) -> None:
    script = textwrap.dedent(
        """
        import asyncio, sys
        from frontscan.ledger.store import Store
        from frontscan.errors import LockHeldError

        async def main():
            store = await Store.open(sys.argv[1])
            try:
                async with store.scan_lock():
                    print("acquired")
            except LockHeldError as error:
                print("refused:", error)
            finally:
                await store.close()

        asyncio.run(main())
        """
    )

    async def other_process() -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", script, database_url, stdout=asyncio.subprocess.PIPE
        )
        out, _ = await proc.communicate()
        return out.decode()

    async with store.scan_lock():
        held = await other_process()
        with pytest.raises(LockHeldError):
            async with store.scan_lock():
                pass
    assert held.startswith("refused: another frontscan scan is running")
    assert (await other_process()).strip() == "acquired"


async def test_a_bad_dsn_fails_at_open_with_a_clear_message_and_no_password() -> None:
    dsn = "postgresql://frontscan:hunter2secret@127.0.0.1:1/frontscan"
    with pytest.raises(DatabaseError) as caught:
        await Store.open(dsn)
    assert "cannot connect to PostgreSQL" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


async def test_an_older_window_recorded_later_keeps_the_newer_last_message(store: Store) -> None:
    """A backfill through the event stream may record older messages after newer ones:
    the watermark and the last message id stay with the newest."""
    await store.record([outcome(message="msg_new", created=1770000500.0)], None)
    await store.record([outcome(message="msg_old", created=1770000100.0, numbers=())], None)
    entry = (await store.ledger_for(["cnv_1"]))["cnv_1"]
    assert (entry.scanned_through, entry.last_message_id) == (1770000500.0, "msg_new")
    assert await store.known_messages(["msg_old", "msg_new", "msg_other"]) == {
        "msg_old",
        "msg_new",
    }
