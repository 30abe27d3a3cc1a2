"""The shipments table against a real PostgreSQL: kept by `record`, in order, never backwards."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from frontscan.ledger.store import Store
from frontscan.models import ConversationRef, Mention, MessageRecord, Outcome, TrackingNumber

UPS = "1Z999AA10123456784"
T0 = 1_772_000_000.0


def said(
    conv: str, message: str, at: float, status: str, *, order: str | None = None,
    expected: date | None = None,
) -> Outcome:  # fmt: skip
    """One conversation outcome whose one message says `status` about UPS."""
    ref = ConversationRef(id=conv, subject="Where is my parcel?", last_message_id=message,
                          updated_at=at)  # fmt: skip
    mention = Mention(
        tracking_number=UPS, carrier="ups", conversation_id=conv, message_id=message,
        stated_at=at, status=status, expected_delivery=expected, order_reference=order,
        direction="inbound",
    )  # fmt: skip
    number = TrackingNumber(
        tracking_number=UPS, carrier="ups", format="ups", checksum_valid=True, source="pattern",
        confidence=0.9, conversation_id=conv, message_id=message, snippet="…", status=status,
        expected_delivery=expected, order_reference=order, direction="inbound",
    )  # fmt: skip
    return Outcome(
        conversation=ref,
        status="done",
        scanned_through=at,
        last_message_id=message,
        messages=(
            MessageRecord(
                id=message,
                created_at=at,
                content_hash="hash",
                status="done",
                extractor_version="v1",
            ),
        ),
        numbers=(number,),
        mentions=(mention,),
    )


def shipment(dsn: str) -> tuple[object, ...]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT status, status_message_id, status_conversation_id, expected_delivery,"
            " order_references, conversation_ids, first_message_id,"
            " extract(epoch FROM last_mentioned_at)::float8"
            " FROM frontscan.shipments WHERE tracking_number = %s",
            (UPS,),
        ).fetchone()
    assert row is not None
    return tuple(row)


async def test_a_parcel_moves_forward_and_an_older_word_never_moves_it_back(
    store: Store, database_url: str
) -> None:
    await store.record(
        [said("cnv_1", "msg_1", T0, "in_transit", order="W123456", expected=date(2026, 3, 3))],
        None,
    )
    await store.record([said("cnv_1", "msg_2", T0 + 60, "delivered")], None)
    # An old "shipped" mail reaches the ledger after the delivery (another thread, a backfill).
    await store.record([said("cnv_2", "msg_0", T0 - 60, "in_transit", order="112-1-2")], None)
    status, by, in_conv, expected, orders, convs, first, last = shipment(database_url)
    assert (status, by, in_conv) == ("delivered", "msg_2", "cnv_1")
    assert expected == date(2026, 3, 3)
    assert orders == ["112-1-2", "W123456"]
    assert convs == ["cnv_1", "cnv_2"]
    assert first == "msg_0"
    assert last == pytest.approx(T0 + 60)
    await store.record([said("cnv_1", "msg_3", T0 + 120, "exception")], None)
    await store.record([said("cnv_1", "msg_4", T0 + 180, "in_transit")], None)  # a quote leak
    assert shipment(database_url)[:2] == ("exception", "msg_3")


async def test_one_batch_applies_its_mentions_oldest_first_and_twice_is_harmless(
    store: Store, database_url: str
) -> None:
    batch = [
        said("cnv_1", "msg_3", T0 + 120, "exception"),
        said("cnv_2", "msg_1", T0, "in_transit", expected=date(2026, 3, 3)),
        said("cnv_3", "msg_2", T0 + 60, "out_for_delivery", expected=date(2026, 3, 2)),
    ]
    await store.record(batch, None)
    await store.record(batch, None)
    status, by, _, expected, _, convs, first, _ = shipment(database_url)
    assert (status, by, expected, first) == ("exception", "msg_3", date(2026, 3, 2), "msg_1")
    assert convs == ["cnv_1", "cnv_2", "cnv_3"]
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*) FROM frontscan.shipments").fetchone()
    assert row == (1,)


async def test_the_latest_on_an_order_is_one_indexed_query(store: Store, database_url: str) -> None:
    await store.record([said("cnv_1", "msg_1", T0, "in_transit", order="W123456")], None)
    with psycopg.connect(database_url) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                "EXPLAIN SELECT tracking_number, status FROM frontscan.shipments"
                " WHERE order_references @> ARRAY[%s]",
                ("W123456",),
            ).fetchall()
        )
        found = conn.execute(
            "SELECT tracking_number, status FROM frontscan.shipments"
            " WHERE order_references @> ARRAY[%s]",
            ("W123456",),
        ).fetchall()
    assert "shipments_order_references_idx" in plan
    assert found == [(UPS, "in_transit")]


async def test_forgetting_a_conversation_takes_its_parcels_rows_with_it(
    store: Store, database_url: str
) -> None:
    await store.record([said("cnv_1", "msg_1", T0, "in_transit")], None)
    await store.forget(["cnv_9"])
    shipment(database_url)  # untouched: another conversation was forgotten
    await store.forget(["cnv_1"])
    with psycopg.connect(database_url) as conn:
        left = conn.execute("SELECT count(*) FROM frontscan.shipments").fetchone()
    assert left == (0,)
