"""The typed rows `Store` returns to the commands that read the ledger (status, export, demo).

Times are Unix seconds (floats) except in `ExportRow`, where PostgreSQL's aware datetimes
keep their exact microseconds for the export's ISO 8601 strings.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, TypedDict

from frontscan.models import RunStats, Window


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRow:
    """One run as recorded by `finish_run`; counters stay 0 until the run finishes."""

    id: int
    started_at: float
    finished_at: float | None
    status: str
    window: Window
    stats: RunStats
    cost_usd: float
    error: str | None

    @property
    def tokens_per_call(self) -> float | None:
        """Prompt plus completion tokens per OpenAI call (None when there was none)."""
        s = self.stats
        return (s.prompt_tokens + s.completion_tokens) / s.openai_calls if s.openai_calls else None

    @property
    def cost_per_1000(self) -> float | None:
        """USD per 1,000 conversations scanned (None when none was)."""
        done = self.stats.conversations_scanned + self.stats.conversations_failed
        return 1000 * self.cost_usd / done if done else None

    @classmethod
    def of(cls, row: dict[str, Any]) -> RunRow:
        """A `recent_runs` row: its counter columns are named as the `RunStats` fields."""
        return cls(
            id=row["id"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            status=row["status"],
            window=Window(after=row["window_after"], before=row["window_before"]),
            stats=RunStats(**{f.name: row[f.name] for f in fields(RunStats)}),
            cost_usd=row["cost_usd"],
            error=row["error"],
        )

    @property
    def duration_seconds(self) -> float | None:
        return None if self.finished_at is None else max(0.0, self.finished_at - self.started_at)

    @property
    def throughput(self) -> float | None:
        """Conversations scanned per second of wall time (None for unfinished runs)."""
        duration = self.duration_seconds
        return self.stats.conversations_scanned / duration if duration else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Totals:
    conversations: int
    messages: int
    tracking_numbers: int
    failed_conversations: int
    by_carrier: tuple[tuple[str, int], ...]  # most numbers first


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedConversation:
    id: str
    subject: str
    attempts: int
    last_error: str | None
    updated_at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundNumber:
    """A number stored by given runs (the demo's table of what its scans found)."""

    conversation_id: str
    message_id: str
    tracking_number: str
    carrier: str
    source: str


class ExportRow(TypedDict):
    """One stored tracking number with its message's time, as `export` streams them."""

    id: int
    tracking_number: str
    carrier: str
    format: str | None
    checksum_valid: bool | None
    source: str
    confidence: float
    conversation_id: str
    message_id: str
    message_created_at: datetime | None
    first_seen_at: datetime
    snippet: str
    status: str
    expected_delivery: date | None
    order_reference: str | None
    direction: str | None
    latest_status: str | None
