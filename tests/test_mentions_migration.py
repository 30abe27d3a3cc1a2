"""Migration 008 on a ledger written by the version before it: no row lost, mentions
backfilled from the stored numbers and from the later mails that moved a parcel on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import psycopg

from frontscan.ledger.statements import (
    QUERIES,
    conversation_columns,
    load_migrations,
    mention_rows,
    message_columns,
    number_columns,
)
from frontscan.ledger.store import Store
from frontscan.models import Outcome
from tests.test_shipments_store import UPS, said

T0 = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
USPS = "9400111899223100001234"
TABLES = ("runs", "conversations", "messages", "tracking_numbers", "shipments")


def _outcomes() -> list[Outcome]:
    """A shipped mail with order and date, a later "delivered" in the same thread (the
    007 writer kept it only in `shipments`), and another parcel in another thread."""
    at = T0.timestamp()
    shipped = said("cnv_a", "msg_a1", at, "in_transit", order="W123456",
                   expected=date(2026, 2, 4))  # fmt: skip
    delivered = said("cnv_a", "msg_a2", at + 3600, "delivered")
    other = said("cnv_b", "msg_b1", at + 7200, "label_created")
    usps = replace(other.numbers[0], tracking_number=USPS, carrier="usps")
    other = replace(
        other,
        numbers=(usps,),
        mentions=(replace(other.mentions[0], tracking_number=USPS, carrier="usps"),),
    )
    # One outcome for cnv_a: both messages, the number stored once at the first.
    thread = replace(
        delivered,
        messages=shipped.messages + delivered.messages,
        numbers=shipped.numbers,
        mentions=shipped.mentions + delivered.mentions,
    )
    return [thread, other]


def _ledger_at_version_7(dsn: str) -> None:
    """What the released version leaves: migrations up to 007, rows written the way its
    writer wrote them (conversations, messages, numbers, then each mention's shipment)."""
    outcomes = _outcomes()
    with psycopg.connect(dsn) as conn:
        conn.execute(QUERIES["create_schema"])
        conn.execute(QUERIES["create_schema_version"])
        for migration in load_migrations():
            if migration.version <= 7:
                conn.execute(migration.sql.encode())
                conn.execute(QUERIES["record_version"], (migration.version, migration.name))
        run_id = conn.execute("INSERT INTO frontscan.runs (status) VALUES ('succeeded')"
                              " RETURNING id").fetchone()[0]  # type: ignore[index]  # fmt: skip
        conn.execute(QUERIES["upsert_conversations"], conversation_columns(outcomes, run_id))
        messages = [(o, m) for o in outcomes for m in o.messages]
        conn.execute(QUERIES["upsert_messages"], message_columns(messages))
        numbers = [n for o in outcomes for n in o.numbers]
        conn.execute(QUERIES["insert_numbers"], number_columns(numbers, run_id))
        with conn.cursor() as cursor:
            mentions = [m for o in outcomes for m in o.mentions]
            cursor.executemany(QUERIES["upsert_shipment"], mention_rows(mentions))


def _snapshot(dsn: str, table: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(f"SELECT * FROM frontscan.{table} ORDER BY 1".encode()).fetchall()


def _mentions(dsn: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT message_id, tracking_number, conversation_id, carrier, stated_at, status,"
            " expected_delivery, order_reference, direction, quoted"
            " FROM frontscan.mentions ORDER BY stated_at, message_id"
        ).fetchall()


async def test_migrating_a_version_7_ledger_keeps_every_row_and_backfills_mentions(
    database_url: str,
) -> None:
    _ledger_at_version_7(database_url)
    before = {table: _snapshot(database_url, table) for table in TABLES}
    assert len(before["tracking_numbers"]) == 2
    store = await Store.open(database_url)
    try:
        # 008, and any later migration (009: commit keys) a version-7 ledger lacks too
        assert await store.migrate() == [m.version for m in load_migrations() if m.version >= 8]
        for table, rows in before.items():
            assert _snapshot(database_url, table) == rows, table
        hour = timedelta(hours=1)
        assert _mentions(database_url) == [
            ("msg_a1", UPS, "cnv_a", "ups", T0, "in_transit", date(2026, 2, 4), "W123456",
             "inbound", False),
            # Kept by 007 only as the parcel's latest status: its other fields are unknown.
            ("msg_a2", UPS, "cnv_a", "ups", T0 + hour, "delivered", None, None, None, False),
            ("msg_b1", USPS, "cnv_b", "usps", T0 + 2 * hour, "label_created", None, None,
             "inbound", False),
        ]  # fmt: skip
        # The new writer goes on from there: a later mail adds its mention and moves the row.
        returned = said("cnv_a", "msg_a3", (T0 + 3 * hour).timestamp(), "returned")
        await store.record([replace(returned, numbers=())], None)
        assert await store.migrate() == []
        history = await store.mention_history(UPS)
    finally:
        await store.close()
    assert [(r["message_id"], r["status"]) for r in history] == [
        ("msg_a1", "in_transit"), ("msg_a2", "delivered"), ("msg_a3", "returned"),
    ]  # fmt: skip
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT status, status_message_id FROM frontscan.shipments WHERE tracking_number = %s",
            (UPS,),
        ).fetchone()
    assert row == ("returned", "msg_a3")
