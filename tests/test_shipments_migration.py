"""Migration 007 on a ledger written by the version before it: no row lost, parcels backfilled."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import psycopg

from frontscan.ledger.statements import load_migrations
from frontscan.ledger.store import Store
from frontscan.shipment import STATUSES, advances

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
OLD_ROWS = [  # (conversation, message, minutes after T0, number, carrier)
    ("cnv_a", "msg_a1", 0, "1Z999AA10123456784", "ups"),
    ("cnv_a", "msg_a2", 30, "9400111899223100001234", "usps"),
    ("cnv_b", "msg_b1", 90, "1Z999AA10123456784", "ups"),  # the same parcel, another thread
]


def _ledger_at_version_1(dsn: str) -> None:
    """What today's released version leaves behind: migration 001 and rows written by it."""
    first = next(m for m in load_migrations() if m.version == 1)
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE SCHEMA frontscan")
        conn.execute(
            "CREATE TABLE frontscan.schema_version (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(first.sql.encode())
        conn.execute("INSERT INTO frontscan.schema_version VALUES (1, %s)", (first.name,))
        conn.execute("INSERT INTO frontscan.runs (status) VALUES ('succeeded')")
        for conversation in sorted({row[0] for row in OLD_ROWS}):
            conn.execute(
                "INSERT INTO frontscan.conversations (id, status, last_run_id)"
                " VALUES (%s, 'done', 1)",
                (conversation,),
            )
        for conversation, message, minutes, number, carrier in OLD_ROWS:
            conn.execute(
                "INSERT INTO frontscan.messages (id, conversation_id, created_at, content_hash,"
                " extractor_version, status) VALUES (%s, %s, %s, 'h', 'v0', 'done')",
                (message, conversation, T0 + timedelta(minutes=minutes)),
            )
            conn.execute(
                "INSERT INTO frontscan.tracking_numbers (tracking_number, carrier, format,"
                " checksum_valid, source, confidence, conversation_id, message_id, snippet,"
                " run_id) VALUES (%s, %s, %s, true, 'pattern', 0.9, %s, %s, 'ctx', 1)",
                (number, carrier, carrier, conversation, message),
            )


def _snapshot(dsn: str, table: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT * FROM frontscan.{table} ORDER BY 1").fetchall()


async def test_migrating_a_version_1_ledger_keeps_every_row_and_backfills_shipments(
    database_url: str,
) -> None:
    _ledger_at_version_1(database_url)
    before = {t: _snapshot(database_url, t) for t in ("runs", "conversations", "messages")}
    numbers_before = _snapshot(database_url, "tracking_numbers")
    store = await Store.open(database_url)
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    assert 7 in applied
    assert 1 not in applied
    for table, rows in before.items():
        assert [r[: len(rows[0])] for r in _snapshot(database_url, table)] == rows, table
    with psycopg.connect(database_url) as conn:
        numbers = conn.execute(
            "SELECT id, tracking_number, carrier, format, checksum_valid, source, confidence,"
            " conversation_id, message_id, snippet, first_seen_at, run_id, status,"
            " expected_delivery, order_reference, direction"
            " FROM frontscan.tracking_numbers ORDER BY id"
        ).fetchall()
        shipments = conn.execute(
            "SELECT tracking_number, carrier, first_seen_at, first_message_id, last_mentioned_at,"
            " status, status_at, order_references, conversation_ids"
            " FROM frontscan.shipments ORDER BY tracking_number"
        ).fetchall()
    assert [row[:12] for row in numbers] == [row[:12] for row in numbers_before]
    assert {row[12:] for row in numbers} == {("unknown", None, None, None)}
    assert shipments == [
        (
            "1Z999AA10123456784", "ups", T0, "msg_a1", T0 + timedelta(minutes=90), "unknown",
            None, [], ["cnv_a", "cnv_b"],
        ),
        (
            "9400111899223100001234", "usps", T0 + timedelta(minutes=30), "msg_a2",
            T0 + timedelta(minutes=30), "unknown", None, [], ["cnv_a"],
        ),
    ]  # fmt: skip


async def test_the_ledgers_ordering_rule_is_the_one_in_python(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.migrate()
    finally:
        await store.close()
    cases = list(itertools.product(STATUSES, STATUSES, (-1, 0, 1)))
    with psycopg.connect(database_url) as conn:
        answers = [
            conn.execute(
                "SELECT frontscan.status_advances(%s, %s, %s, %s)",
                (current, T0, new, T0 + timedelta(seconds=delta)),
            ).fetchone()
            for current, new, delta in cases
        ]
    for (current, new, delta), row in zip(cases, answers, strict=True):
        assert row is not None
        assert row[0] is advances(current, 0.0, new, float(delta)), (current, new, delta)
