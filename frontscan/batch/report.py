"""How the Batch API side is shown: summary rows, `--json` keys, the `batches` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from rich.table import Table

from frontscan.models import BatchStats
from frontscan.prompt import BATCH_PRICE_FACTOR
from frontscan.window import iso


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchTotals:
    """`status`: every batch the ledger knows, what waits, what they cost and saved."""

    batches: int
    open_batches: int
    waiting: int
    answered: int
    returned: int
    cost_usd: float

    @property
    def saved_usd(self) -> float:
        """What the same tokens would have cost online, less what the batches cost."""
        return self.cost_usd / BATCH_PRICE_FACTOR - self.cost_usd

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {
            "cost_usd": round(self.cost_usd, 6),
            "saved_usd": round(self.saved_usd, 6),
        }

    def line(self) -> str:
        return (
            f"{self.batches:,} submitted, {self.open_batches:,} open with {self.waiting:,} "
            f"conversations waiting; {self.answered:,} answered, {self.returned:,} back to the "
            f"queue; cost ${self.cost_usd:,.4f}, saved ${self.saved_usd:,.4f} vs online"
        )


def batch_json(stats: BatchStats | None) -> dict[str, Any] | None:
    if stats is None:
        return None
    data = asdict(stats)
    for key in ("estimated_usd", "cost_usd", "saved_usd"):
        data[key] = round(data[key], 6)
    return data


def batch_rows(stats: BatchStats | None) -> list[tuple[str, str]]:
    """The summary table's batch lines; none when the run touched no batch."""
    if stats is None or not (stats.submitted or stats.collected_batches or stats.waiting):
        return []
    rows = []
    if stats.submitted:
        rows.append(
            (
                "sent to OpenAI batches",
                f"{stats.submitted:,} in {stats.batches_created:,} batches, "
                f"at most ${stats.estimated_usd:,.4f}",
            )
        )
    if stats.collected_batches:
        rows.append(
            (
                "collected from batches",
                f"{stats.answered:,} answered, {stats.returned:,} back to the queue, "
                f"{stats.numbers_found:,} numbers",
            )
        )
        rows.append(
            ("batch cost", f"${stats.cost_usd:,.4f} (saved ${stats.saved_usd:,.4f} vs online)")
        )
    rows.append(("waiting in batches", f"{stats.waiting:,} in {stats.open_batches:,} batches"))
    return rows


def batches_table(rows: Sequence[Mapping[str, Any]]) -> Table:
    """`frontscan batches`: the recent batches, newest first, as the ledger knows them."""
    table = Table(title=f"{len(rows)} recent batches")
    for name in ("batch", "status", "requests", "answered", "returned", "cost", "submitted"):
        table.add_column(name, justify="left" if name in ("batch", "status") else "right")
    for row in rows:
        status = row["status"] + ("" if row["collected_at"] is None else ", collected")
        cost = row["cost_usd"] if row["collected_at"] else row["estimated_usd"]
        table.add_row(
            row["openai_batch_id"] or f"(local {row['id']}, not created yet)",
            status,
            f"{row['requests']:,}",
            f"{row['answered']:,}",
            f"{row['returned']:,}",
            f"${cost:,.4f}" + ("" if row["collected_at"] else " max"),
            iso(row["submitted_at"]) or "-",
        )
    return table
