"""`frontscan shipments`: one line per parcel with the latest word on it.

Reads the ledger's `shipments` table (kept by the scan's own transaction), so the answer
to "where is it?" and "which parcels are stuck?" costs no Front or OpenAI call. Rows are
newest news first. `--stale DAYS` lists parcels not yet delivered or returned that no
mail has mentioned for that long: the ones to chase. `--order` answers "what is the
latest on order W123456?" through the order-reference index. `--history NUMBER` lists
one parcel's mentions instead, oldest first: every message that named it, what it said
and when it was sent (`frontscan.mentions`). Table output is for people; `jsonl` and
`csv` stream, for scripts.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from frontscan.config import Settings
from frontscan.detector.carriers import tracking_url
from frontscan.detector.matching import normalize
from frontscan.errors import UsageError
from frontscan.filters import carrier_code, checked_carrier, known_status
from frontscan.ledger.connect import open_store
from frontscan.shipment import STATUSES
from frontscan.shipment.orders import normalize_order

FORMATS = ("table", "jsonl", "csv")
TABLE_ROWS = 200  # a terminal table past this is unreadable; the count says what was left out
FIELDS = (
    "tracking_number",
    "carrier",
    "status",
    "status_at",
    "status_message_id",
    "status_conversation_id",
    "expected_delivery",
    "order_references",
    "conversation_ids",
    "first_seen_at",
    "last_mentioned_at",
    "tracking_url",
)


HISTORY_FIELDS = (
    "tracking_number",
    "stated_at",
    "status",
    "expected_delivery",
    "order_reference",
    "direction",
    "quoted",
    "carrier",
    "conversation_id",
    "message_id",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShipmentFilter:
    """Which parcels to list; None matches everything. `since` is Unix seconds."""

    status: str | None = None
    carrier: str | None = None
    since: float | None = None
    stale_days: float | None = None
    order: str | None = None

    def params(self) -> dict[str, Any]:
        """The named parameters of the `shipments` query."""
        if self.stale_days is not None and self.stale_days <= 0:
            raise UsageError("--stale takes a number of days greater than 0")
        return {
            "status": None if self.status is None else known_status(self.status, STATUSES),
            "carrier": None if self.carrier is None else carrier_code(self.carrier),
            "since": self.since,
            "stale_days": self.stale_days,
            "order": normalize_order(self.order) if self.order else None,
        }


def to_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One output record from one `shipments` row (ISO 8601 UTC times, JSON types)."""
    return {
        "tracking_number": row["tracking_number"],
        "carrier": row["carrier"],
        "status": row["status"],
        "status_at": _iso(row["status_at"]),
        "status_message_id": row["status_message_id"],
        "status_conversation_id": row["status_conversation_id"],
        "expected_delivery": _day(row["expected_delivery"]),
        "order_references": list(row["order_references"]),
        "conversation_ids": list(row["conversation_ids"]),
        "first_seen_at": _iso(row["first_seen_at"]),
        "last_mentioned_at": _iso(row["last_mentioned_at"]),
        "tracking_url": tracking_url(row["carrier"], row["tracking_number"]),
    }


async def list_shipments(
    settings: Settings, where: ShipmentFilter, output_format: str, out: TextIO
) -> int:
    """Write the matching parcels to `out`; return how many matched."""
    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    params = where.params()
    writer = None
    if output_format == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS)
        writer.writeheader()
    table_rows: list[dict[str, Any]] = []
    count = 0
    async with open_store(settings) as store:
        params["carrier"] = await checked_carrier(store, where.carrier)
        async for row in store.shipment_rows(params):
            record = to_record(row)
            count += 1
            if writer is not None:
                writer.writerow({k: _cell(v) for k, v in record.items()})
            elif output_format == "jsonl":
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            elif len(table_rows) < TABLE_ROWS:
                table_rows.append(record)
    if output_format == "table":
        _render(table_rows, count, Console(file=out, highlight=False, soft_wrap=True))
    out.flush()
    return count


def history_record(row: Mapping[str, Any]) -> dict[str, Any]:
    """One output record from one `mention_history` row."""
    record = {name: row[name] for name in HISTORY_FIELDS}
    record["stated_at"] = _iso(row["stated_at"])
    record["expected_delivery"] = _day(row["expected_delivery"])
    return record


async def parcel_history(settings: Settings, number: str, output_format: str, out: TextIO) -> int:
    """Write one parcel's mentions, oldest first, to `out`; return how many there are."""
    if output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    wanted = normalize(number)
    if not wanted:
        raise UsageError("--history takes a tracking number, e.g. --history 1Z999AA10123456784")
    async with open_store(settings) as store:
        records = [history_record(row) for row in await store.mention_history(wanted)]
    if output_format == "csv":
        writer = csv.DictWriter(out, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in r.items()} for r in records)
    elif output_format == "jsonl":
        out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        _render_history(wanted, records, Console(file=out, highlight=False, soft_wrap=True))
    out.flush()
    return len(records)


def _render_history(number: str, records: list[dict[str, Any]], console: Console) -> None:
    """One line per mention; a quoted one says "(quoted)" where its status would be."""
    if not records:
        console.print(f"No mentions of {number} in the ledger.")
        return
    table = Table(box=box.SIMPLE_HEAD, title=f"{number}: {len(records):,} mentions (UTC)")
    headers = ("sent at", "status", "expected", "order", "direction", "conversation")
    for header in headers:
        table.add_column(header, no_wrap=True)
    for r in records:
        status = "(quoted)" if r["quoted"] else r["status"]
        cells = (
            r["stated_at"][:16].replace("T", " "),
            status,
            r["expected_delivery"] or "",
            r["order_reference"] or "",
            r["direction"] or "",
            r["conversation_id"],
        )
        table.add_row(*(Text(cell) for cell in cells))  # fmt: skip
    console.print(table)


def _render(records: list[dict[str, Any]], count: int, console: Console) -> None:
    """Numbers, carriers, statuses and dates stay whole (copyable); order lists wrap.
    Conversations and message ids are in jsonl and csv: a terminal has no room for them."""
    if not records:
        console.print("No parcels match.")
        return
    rows = [
        (r["tracking_number"], r["carrier"], r["status"], (r["status_at"] or "")[:10],
         r["expected_delivery"] or "", " ".join(r["order_references"]))
        for r in records
    ]  # fmt: skip
    headers = ("tracking number", "carrier", "status", "said on", "expected", "orders")
    table = Table(box=box.SIMPLE_HEAD, title=f"Shipments ({count:,}, dates UTC)")
    for index, header in enumerate(headers):
        widest = max(len(header), *(len(row[index]) for row in rows))
        whole = header != "orders"
        table.add_column(header, no_wrap=whole, min_width=widest if whole else None,
                         overflow="fold")  # fmt: skip
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    console.print(table)
    if count > len(records):
        console.print(f"… and {count - len(records):,} more; use --format jsonl or csv for all.")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _cell(value: Any) -> Any:
    """CSV has no lists or nulls: lists joined with spaces, missing values empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(value)
    return value
