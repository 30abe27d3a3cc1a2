"""`frontscan shipments` and the shipment part of `status`, through the CLI, on a real ledger."""

from __future__ import annotations

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
