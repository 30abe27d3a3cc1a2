"""`frontscan export`: every stored tracking number as JSONL or CSV, streamed.

The ledger can hold millions of numbers, so rows come through `Store.stream` (a named,
server-side cursor) and are written as they arrive: memory stays constant and the first
line appears at once. Each record carries its carrier's public tracking page, so the
export is usable without frontscan, what its message said about the parcel (status,
expected delivery, order reference, direction) and the parcel's latest status. Records
are ordered by `first_seen_at, id`, which is stable across runs: an incremental consumer
can filter with `--after` on the last `first_seen_at` it saw. `after` is inclusive and
`before` exclusive, so consecutive windows split the ledger without gaps or duplicates.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from frontscan.config import Settings
from frontscan.detector.carriers import tracking_url
from frontscan.errors import UsageError
from frontscan.filters import DETECTOR_CARRIERS, carrier_code, checked_carrier
from frontscan.ledger.connect import open_store
from frontscan.ledger.rows import ExportRow
from frontscan.window import iso

ExportFormat = Literal["jsonl", "csv"]
FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv")

FIELDS = (
    "tracking_number",
    "carrier",
    "format",
    "checksum_valid",
    "source",
    "confidence",
    "conversation_id",
    "message_id",
    "message_created_at",
    "first_seen_at",
    "snippet",
    "tracking_url",
    "status",
    "expected_delivery",
    "order_reference",
    "direction",
    "latest_status",
)


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export. `after`/`before` are Unix seconds compared with `first_seen_at`."""

    output_format: str = "jsonl"
    after: float | None = None
    before: float | None = None
    carrier: str | None = None


def to_record(row: ExportRow) -> dict[str, Any]:
    """One export record from one ledger row (JSON types: None stays None)."""
    confidence = row["confidence"]
    return {
        "tracking_number": row["tracking_number"],
        "carrier": row["carrier"],
        "format": row["format"],
        "checksum_valid": row["checksum_valid"],
        "source": row["source"],
        # Stored as float4: round away the binary noise (0.95 would read 0.949999988).
        "confidence": None if confidence is None else round(float(confidence), 4),
        "conversation_id": row["conversation_id"],
        "message_id": row["message_id"],
        "message_created_at": iso(row["message_created_at"]),
        "first_seen_at": iso(row["first_seen_at"]),
        "snippet": row["snippet"],
        "tracking_url": tracking_url(row["carrier"], row["tracking_number"]),
        # What this message said about the parcel; `latest_status` is the parcel's now.
        "status": row["status"],
        "expected_delivery": None
        if row["expected_delivery"] is None
        else row["expected_delivery"].isoformat(),
        "order_reference": row["order_reference"],
        "direction": row["direction"],
        "latest_status": row["latest_status"],
    }


def _csv_cell(value: Any) -> Any:
    """CSV has no types: booleans as true/false (like the JSON), missing values empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def check_carrier(settings: Settings, options: ExportOptions) -> None:
    """Refuse an unknown `--carrier` (`filters`) before any output file is opened, so a
    typo does not empty the file it named. Reads the ledger only for a carrier the
    detector does not know."""
    carrier = options.carrier
    if carrier is not None and carrier_code(carrier) not in DETECTOR_CARRIERS:
        async with open_store(settings) as store:
            await checked_carrier(store, carrier)


async def export(settings: Settings, options: ExportOptions, out: TextIO) -> int:
    """Write every matching record to `out` as it streams in; return how many were written."""
    if options.output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    writer = None
    if options.output_format == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS)  # RFC 4180: CRLF rows
        writer.writeheader()
    count = 0
    async with open_store(settings) as store:
        carrier = await checked_carrier(store, options.carrier)  # a typo is refused, not empty
        rows = store.export_rows(after=options.after, before=options.before, carrier=carrier)
        async for row in rows:
            record = to_record(row)
            if writer is not None:
                writer.writerow({k: _csv_cell(v) for k, v in record.items()})
            else:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    out.flush()
    return count
