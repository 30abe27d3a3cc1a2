"""`frontscan shipments` and the shipment part of `status`, through the CLI, on a real ledger."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from dataclasses import replace
from datetime import date

import pytest
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.ledger.store import Store
from frontscan.models import Mention, Outcome
from tests.test_shipments_store import said

runner = CliRunner()
DAY = 86_400.0
NOW = time.time()
DHL = "JJD000390007900000001"


def _other(conv: str, message: str, at: float, status: str, number: str, carrier: str) -> Outcome:
    base = said(conv, message, at, status)
    mention = Mention(
        tracking_number=number, carrier=carrier, conversation_id=conv, message_id=message,
        stated_at=at, status=status, expected_delivery=None, order_reference=None,
        direction="outbound",
    )  # fmt: skip
    numbers = (replace(base.numbers[0], tracking_number=number, carrier=carrier, status=status),)
    return replace(base, numbers=numbers, mentions=(mention,))


@pytest.fixture
async def ledger(database_url: str) -> str:
    store = await Store.open(database_url)
    try:
        await store.migrate()
        await store.record(
            [said("cnv_1", "msg_1", NOW - 10 * DAY, "in_transit", order="W123456",
                  expected=date(2026, 12, 3))],
            None,
        )  # fmt: skip
        await store.record(
            [
                said("cnv_1", "msg_2", NOW - 60, "delivered"),
                _other("cnv_2", "msg_3", NOW - 9 * DAY, "exception", DHL, "dhl"),
                _other("cnv_3", "msg_4", NOW - 30, "out_for_delivery", "1Z999AA10000000011", "ups"),
            ],
            None,
        )  # fmt: skip
    finally:
        await store.close()
    return database_url


def _jsonl(dsn: str, *args: str) -> list[dict[str, object]]:
    result = runner.invoke(
        app, ["shipments", "--format", "jsonl", *args], env={"DATABASE_URL": dsn}
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_shipments_lists_the_latest_word_per_parcel_newest_first(ledger: str) -> None:
    rows = _jsonl(ledger)
    assert [(r["tracking_number"], r["status"]) for r in rows] == [
        ("1Z999AA10000000011", "out_for_delivery"),
        ("1Z999AA10123456784", "delivered"),
        (DHL, "exception"),
    ]
    ups = rows[1]
    assert ups["status_message_id"] == "msg_2"
    assert ups["order_references"] == ["W123456"]
    assert ups["expected_delivery"] == "2026-12-03"
    assert ups["conversation_ids"] == ["cnv_1"]
    assert str(ups["tracking_url"]).startswith("https://")
    assert str(ups["status_at"]).endswith("Z")


def test_shipments_filters(ledger: str) -> None:
    def numbers(*args: str) -> list[object]:
        return [r["tracking_number"] for r in _jsonl(ledger, *args)]

    assert numbers("--status", "exception") == [DHL]
    assert numbers("--carrier", "DHL") == [DHL]
    assert numbers("--carrier", "yodel") == []  # a carrier frontscan knows, no parcel of it
    assert numbers("--status", "In Transit") == []  # in_transit: the UPS parcel is delivered
    assert numbers("--order", "#w123456") == ["1Z999AA10123456784"]
    assert numbers("--order", "W999999") == []
    assert numbers("--stale", "5") == [DHL]  # not delivered, no news for 9 days
    since = time.strftime("%Y-%m-%d", time.gmtime(NOW - DAY))
    assert numbers("--since", since) == ["1Z999AA10000000011", "1Z999AA10123456784"]


def test_shipments_as_csv_and_as_a_table(ledger: str) -> None:
    env = {"DATABASE_URL": ledger}
    result = runner.invoke(app, ["shipments", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["status"] for r in rows] == ["out_for_delivery", "delivered", "exception"]
    assert rows[1]["order_references"] == "W123456"
    assert rows[2]["expected_delivery"] == ""
    table = runner.invoke(app, ["shipments", "--status", "delivered"], env=env)
    assert table.exit_code == 0, table.output
    assert "1Z999AA10123456784" in table.stdout
    assert DHL not in table.stdout
    empty = runner.invoke(app, ["shipments", "--status", "returned"], env=env)
    assert "No parcels match." in empty.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "lost"], "--status 'lost' is not a parcel status: use one of delivered"),
        (["--status", "deliverd"], "did you mean 'delivered'?"),
        (["--carrier", "nosuch"], "--carrier 'nosuch' is not a carrier frontscan knows"),
        (["--carrier", "dhll"], "did you mean 'dhl'?"),
        (["--stale", "0"], "--stale takes a number of days"),
        (["--format", "xml"], "--format must be one of"),
        (["--since", "yesterday"], "--since"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(ledger: str, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["shipments", *args], env={"DATABASE_URL": ledger})
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_status_counts_todays_parcels_by_status_and_carrier(ledger: str) -> None:
    env = {"DATABASE_URL": ledger}
    result = runner.invoke(app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    today = json.loads(result.stdout)["shipments_today"]
    # The exception was stated 9 days ago: it is not today's news (unless the test runs
    # across midnight, when the delivery 60 s ago may be yesterday's too).
    assert today["by_status"].get("exception") is None
    assert set(today["by_status"]) <= {"delivered", "out_for_delivery"}
    assert {(r["status"], r["carrier"]) for r in today["by_status_and_carrier"]} <= {
        ("delivered", "ups"),
        ("out_for_delivery", "ups"),
    }
    human = runner.invoke(app, ["status"], env=env)
    assert human.exit_code == 0, human.output
    if today["by_status"]:
        assert "Parcels with news today" in human.stdout


def _quoted_reply() -> Outcome:
    """A customer's "thanks" in cnv_1, printing the UPS number only in the quote."""
    base = said("cnv_1", "msg_5", NOW - 20, "in_transit")
    quoted = replace(base.mentions[0], status="unknown", quoted=True)
    return replace(base, numbers=(), mentions=(quoted,))


async def _record_quoted_reply(dsn: str) -> None:
    store = await Store.open(dsn)
    try:
        await store.record([_quoted_reply()], None)
    finally:
        await store.close()


def test_history_lists_every_mention_of_a_parcel_oldest_first(ledger: str) -> None:
    asyncio.run(_record_quoted_reply(ledger))
    rows = _jsonl(ledger, "--history", "1z 999 aa1 0123 456 784")
    assert [(r["message_id"], r["status"], r["quoted"]) for r in rows] == [
        ("msg_1", "in_transit", False),
        ("msg_2", "delivered", False),
        ("msg_5", "unknown", True),
    ]
    first = rows[0]
    assert (first["order_reference"], first["expected_delivery"]) == ("W123456", "2026-12-03")
    assert (first["direction"], first["conversation_id"], first["carrier"]) == (
        "inbound", "cnv_1", "ups",
    )  # fmt: skip
    assert str(first["stated_at"]).endswith("Z")
    # The quoted reply is newer, but it states nothing: the parcel is still delivered.
    latest = {r["tracking_number"]: r for r in _jsonl(ledger)}["1Z999AA10123456784"]
    assert (latest["status"], latest["status_message_id"]) == ("delivered", "msg_2")
    env = {"DATABASE_URL": ledger}
    table = runner.invoke(app, ["shipments", "--history", "1Z999AA10123456784"], env=env)
    assert table.exit_code == 0, table.output
    assert "3 mentions" in table.stdout
    assert "(quoted)" in table.stdout
    listed = runner.invoke(
        app, ["shipments", "--history", "1Z999AA10123456784", "--format", "csv"], env=env
    )
    records = list(csv.DictReader(io.StringIO(listed.stdout)))
    assert [r["quoted"] for r in records] == ["false", "false", "true"]
    assert records[1]["order_reference"] == ""
    none = runner.invoke(app, ["shipments", "--history", DHL + "9"], env=env)
    assert none.exit_code == 0
    assert "No mentions of" in none.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--history", "1Z999AA10123456784", "--status", "delivered"], "drop the other"),
        (["--history", " - "], "--history takes a tracking number"),
        (["--history", "1Z999AA10123456784", "--format", "xml"], "--format must be one of"),
    ],
)
def test_bad_history_options_are_one_line_and_exit_2(
    ledger: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["shipments", *args], env={"DATABASE_URL": ledger})
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
