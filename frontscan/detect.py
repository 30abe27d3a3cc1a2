"""`frontscan detect`: run the detector alone on one file's text and shape the output.

Reading the file (text, HTML, .eml) is the detector's own (`detector.files`).
"""

from __future__ import annotations

from rich.table import Table

from frontscan.detector import find_candidates
from frontscan.detector.chunks import candidates_in_chunks


def detect_records(
    text: str, include_hints: bool, links: tuple[str, ...] = ()
) -> list[dict[str, object]]:
    """One record per number the detector would store (and, on request, per hint).

    The text is scanned in windows (`detector.chunks`): memory stays bounded whatever
    the file holds.
    """
    records: dict[str, dict[str, object]] = {}
    for cand in candidates_in_chunks(text, lambda window: find_candidates(window, links)):
        if not (cand.storable or include_hints):
            continue
        previous = records.get(cand.number)
        if previous is not None and (previous.get("hint") is not True or not cand.storable):
            continue
        record: dict[str, object] = {
            "tracking_number": cand.number,
            "carrier": cand.carrier,
            "format": cand.format,
            "checksum_valid": cand.checksum_valid,
            "confidence": cand.confidence,
            "start": cand.start,
            "end": cand.end,
        }
        if include_hints:
            record["hint"] = not cand.storable
        records[cand.number] = record
    return sorted(records.values(), key=lambda r: int(str(r["start"])))


def records_table(records: list[dict[str, object]]) -> Table:
    """The records as a rich table for people; hints are marked and dimmed."""
    table = Table(title=f"{len(records)} tracking number(s)", title_justify="left")
    for column in ("Tracking number", "Carrier", "Format", "Check", "Confidence", "Span"):
        table.add_column(column, justify="right" if column == "Confidence" else "left")
    for record in records:
        valid = record["checksum_valid"]
        check = "-" if valid is None else "ok" if valid is True else "FAILED"
        hint = record.get("hint") is True
        table.add_row(
            str(record["tracking_number"]) + (" (hint)" if hint else ""),
            str(record["carrier"]),
            str(record["format"]),
            check,
            f"{record['confidence']:.2f}",
            f"{record['start']}-{record['end']}",
            style="dim" if hint else None,
        )
    return table
