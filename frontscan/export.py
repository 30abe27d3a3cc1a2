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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from frontscan.config import Settings
from frontscan.detector.carriers import tracking_url
from frontscan.errors import UsageError
from frontscan.ledger.connect import open_store

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

# The filters are appended to this; times arrive as aware datetimes (exact microseconds).
_QUERY = """
SELECT t.id, t.tracking_number, t.carrier, t.format, t.checksum_valid, t.source,
       t.confidence, t.conversation_id, t.message_id, m.created_at AS message_created_at,
       t.first_seen_at, t.snippet, t.status, t.expected_delivery, t.order_reference,
       t.direction, s.status AS latest_status
FROM frontscan.tracking_numbers t
LEFT JOIN frontscan.messages m ON m.id = t.message_id
LEFT JOIN frontscan.shipments s ON s.tracking_number = t.tracking_number
"""
_ORDER = " ORDER BY t.first_seen_at, t.id"


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """What to export. `after`/`before` are Unix seconds compared with `first_seen_at`."""

    output_format: str = "jsonl"
    after: float | None = None
    before: float | None = None
    carrier: str | None = None


def build_query(options: ExportOptions) -> tuple[str, list[Any]]:
    """The SELECT for `options`: parameters only, never interpolated values."""
    where: list[str] = []
    params: list[Any] = []
    if options.after is not None:
        where.append("t.first_seen_at >= to_timestamp(%s)")
        params.append(options.after)
    if options.before is not None:
        where.append("t.first_seen_at < to_timestamp(%s)")
        params.append(options.before)
    if options.carrier:
        where.append("t.carrier = %s")
        params.append(options.carrier.strip().lower())
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return _QUERY + clause + _ORDER, params


def to_record(row: Mapping[str, Any]) -> dict[str, Any]:
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
        "message_created_at": iso_utc(row["message_created_at"]),
        "first_seen_at": iso_utc(row["first_seen_at"]),
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


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, the form `window.iso` gives every other frontscan time."""
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _csv_cell(value: Any) -> Any:
    """CSV has no types: booleans as true/false (like the JSON), missing values empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


async def export(settings: Settings, options: ExportOptions, out: TextIO) -> int:
    """Write every matching record to `out` as it streams in; return how many were written."""
    if options.output_format not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}")
    query, params = build_query(options)
    writer = None
    if options.output_format == "csv":
        writer = csv.DictWriter(out, fieldnames=FIELDS)  # RFC 4180: CRLF rows
        writer.writeheader()
    count = 0
    async with open_store(settings) as store:
        async for row in store.stream(query, params):
            record = to_record(row)
            if writer is not None:
                writer.writerow({k: _csv_cell(v) for k, v in record.items()})
            else:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    out.flush()
    return count
