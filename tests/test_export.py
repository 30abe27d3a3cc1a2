"""`frontscan export`: JSONL and CSV round trips, filters, empty ledgers, streaming."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.config import DatabaseSettings, Secret, Settings
from frontscan.detector.carriers import tracking_url
from frontscan.errors import DatabaseError, UsageError
from frontscan.export import FIELDS, ExportOptions, export
from frontscan.filters import DETECTOR_CARRIERS
from frontscan.ledger.connect import open_store
from frontscan.ledger.store import Store
from frontscan.simulator.runtime import running_simulator
from tests.scanning import START, fast_options, run_scan, settings_for
from tests.test_store import outcome

runner = CliRunner()
BASE = datetime(2026, 2, 1, tzinfo=UTC)
LEDGER = """
SELECT t.tracking_number, t.carrier, t.format, t.checksum_valid, t.source, t.confidence,
       t.conversation_id, t.message_id, m.created_at AS message_created_at, t.first_seen_at,
       t.snippet, t.status, t.expected_delivery::text AS expected_delivery, t.order_reference,
       t.direction, s.status AS latest_status
FROM frontscan.tracking_numbers t JOIN frontscan.messages m ON m.id = t.message_id
LEFT JOIN frontscan.shipments s ON s.tracking_number = t.tracking_number
"""


def db_settings(dsn: str) -> Settings:
    return Settings(database=DatabaseSettings(url=Secret(dsn)))


async def scan_into(dsn: str, conversations: int = 30) -> None:
    async with running_simulator(fast_options(conversations)) as sim:
        await run_scan(settings_for(sim, dsn), after=START.timestamp())


async def spread_first_seen(dsn: str) -> None:
    """One scan stores everything within a second; give each number its own hour."""
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await conn.execute(
            "UPDATE frontscan.tracking_numbers SET first_seen_at = %s + id * interval '1 hour'",
            (BASE,),
        )


async def expected(dsn: str, where: str = "", params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """The ledger's rows as export records, straight from SQL (the oracle)."""
    async with (
        await psycopg.AsyncConnection.connect(dsn) as conn,
        conn.cursor(row_factory=dict_row) as cursor,
    ):
        await cursor.execute(LEDGER + where + " ORDER BY t.first_seen_at, t.id", params)
        rows = await cursor.fetchall()
    for row in rows:
        row["confidence"] = round(row["confidence"], 4)
        for key in ("message_created_at", "first_seen_at"):
            row[key] = row[key].astimezone(UTC).isoformat().replace("+00:00", "Z")
        row["tracking_url"] = tracking_url(row["carrier"], row["tracking_number"])
    return rows


async def exported(dsn: str, **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    count = await export(db_settings(dsn), ExportOptions(**options), out)
    return count, out.getvalue()


def as_csv(record: dict[str, Any]) -> dict[str, str]:
    """What a record looks like after a CSV round trip: text, booleans lower-case, None empty."""
    cells = {}
    for key, value in record.items():
        if isinstance(value, bool):
            cells[key] = "true" if value else "false"
        else:
            cells[key] = "" if value is None else str(value)
    return cells


async def test_jsonl_round_trip_matches_the_ledger(database_url: str) -> None:
    await scan_into(database_url)
    count, text = await exported(database_url)
    records = [json.loads(line) for line in text.splitlines()]
    oracle = await expected(database_url)
    assert count == len(records) == len(oracle) > 0
    assert records == oracle
    assert all(list(r) == list(FIELDS) for r in records)
    assert any(r["tracking_url"] for r in records)
    assert all(r["message_created_at"].endswith("Z") for r in records)


def test_csv_round_trip_through_the_cli(database_url: str) -> None:
    asyncio.run(scan_into(database_url))
    result = runner.invoke(app, ["export", "--format", "csv"], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    oracle = asyncio.run(expected(database_url))
    assert len(rows) == len(oracle) > 0
    assert rows == [as_csv(r) for r in oracle]


async def test_filters_on_first_seen_and_carrier(database_url: str) -> None:
    await scan_into(database_url, 40)
    await spread_first_seen(database_url)
    everything = await expected(database_url)
    assert len(everything) >= 10
    after = datetime.fromisoformat(everything[3]["first_seen_at"])
    before = datetime.fromisoformat(everything[9]["first_seen_at"])

    count, text = await exported(database_url, after=after.timestamp(), before=before.timestamp())
    window = [json.loads(line) for line in text.splitlines()]
    assert window == everything[3:9]  # after inclusive, before exclusive
    assert count == 6

    carrier = max({r["carrier"] for r in everything}, key=[r["carrier"] for r in everything].count)
    count, text = await exported(database_url, carrier=carrier.upper())
    by_carrier = [json.loads(line) for line in text.splitlines()]
    assert by_carrier == [r for r in everything if r["carrier"] == carrier]
    assert count == len(by_carrier) > 0
    assert len(by_carrier) < len(everything)

    count, text = await exported(
        database_url, output_format="csv", after=after.timestamp(), carrier=carrier
    )
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    want = [r for r in everything[3:] if r["carrier"] == carrier]
    assert rows == [as_csv(r) for r in want]
    assert count == len(want)

    with pytest.raises(UsageError, match="not a carrier frontscan knows"):
        await exported(database_url, carrier="no_such_carrier")
    absent = sorted(DETECTOR_CARRIERS - {r["carrier"] for r in everything})[0]
    assert await exported(database_url, carrier=absent) == (0, "")  # known, none stored


def test_an_unknown_carrier_is_one_line_exit_2_and_leaves_the_output_file(
    database_url: str, tmp_path: Path
) -> None:
    asyncio.run(scan_into(database_url, 10))
    env = {"DATABASE_URL": database_url}
    result = runner.invoke(app, ["export", "--carrier", "nosuch"], env=env)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("frontscan: --carrier 'nosuch' is not a carrier frontscan knows")
    names = line.split("use one of ", 1)[1].split(", ")
    assert {"dhl", "royal_mail", "ups", "usps"} <= set(names)
    assert names == sorted(names)
    assert "Traceback" not in result.output
    typo = runner.invoke(app, ["export", "--carrier", "usp"], env=env)
    assert typo.exit_code == 2
    assert "did you mean 'usps'?" in typo.stderr
    kept = tmp_path / "numbers.jsonl"
    kept.write_text("an earlier export\n", encoding="utf-8")
    target = ["export", "--carrier", "fedx", "-o", str(kept)]
    assert runner.invoke(app, target, env=env).exit_code == 2
    assert kept.read_text(encoding="utf-8") == "an earlier export\n"  # not emptied
    spaced = runner.invoke(app, ["export", "--carrier", "Royal Mail"], env=env)
    assert spaced.exit_code == 0, spaced.output  # royal_mail: known, maybe no rows


async def test_a_carrier_only_the_model_named_is_known_from_the_ledger(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.migrate()
        stored = outcome("cnv_1")
        number = replace(stored.numbers[0], carrier="acme_freight", source="llm")
        await store.record([replace(stored, numbers=(number,))], None)
    finally:
        await store.close()
    count, text = await exported(database_url, carrier="Acme Freight")
    assert count == 1
    assert json.loads(text)["carrier"] == "acme_freight"
    with pytest.raises(UsageError, match="did you mean 'acme_freight'"):
        await exported(database_url, carrier="acme_fraight")


def test_an_empty_database_exports_nothing(database_url: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": database_url}
    jsonl = runner.invoke(app, ["export"], env=env)
    assert jsonl.exit_code == 0, jsonl.output
    assert jsonl.stdout == ""
    target = tmp_path / "numbers.csv"
    result = runner.invoke(app, ["export", "--format", "csv", "-o", str(target)], env=env)
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == (",".join(FIELDS) + "\r\n").encode()  # header only
    assert asyncio.run(exported(database_url)) == (0, "")


async def test_a_bad_format_is_a_usage_error(database_url: str) -> None:
    with pytest.raises(UsageError, match="--format"):
        await exported(database_url, output_format="xml")


async def test_export_rows_stream_in_chunks_and_release_their_connection(
    database_url: str,
) -> None:
    await scan_into(database_url, 30)
    oracle = [r["tracking_number"] for r in await expected(database_url)]
    assert len(oracle) > 7
    async with open_store(db_settings(database_url)) as store:
        rows = [r["tracking_number"] async for r in store.export_rows(size=7)]
        assert rows == oracle
        for _ in range(6):  # more early exits than the pool has connections
            async for row in store.export_rows(size=2):
                assert row["tracking_number"] == oracle[0]
                break
        assert (await store.totals()).tracking_numbers == len(oracle)
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await conn.execute("ALTER TABLE frontscan.messages RENAME TO gone")
            await conn.commit()
        with pytest.raises(DatabaseError, match=r"cannot read the tracking numbers.*messages"):
            async for _ in store.export_rows():
                pass


async def test_export_spans_hours_in_order(database_url: str) -> None:
    await scan_into(database_url, 20)
    await spread_first_seen(database_url)
    _, text = await exported(database_url)
    seen = [datetime.fromisoformat(json.loads(line)["first_seen_at"]) for line in text.splitlines()]
    assert seen == sorted(seen)
    assert seen[0] >= BASE + timedelta(hours=1)
