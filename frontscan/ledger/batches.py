"""The ledger's side of Batch API backfills: batches, the requests waiting in them, collection.

Queries are the named blocks of `sql/queries.sql`; transactions and error translation come
from `Store`. Collection commits a batch's results, its requests' states and the batch's
"collected" mark in one transaction whose first statement claims the batch row, so a
crash before the commit loses nothing and a second collection adds nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from frontscan.ledger.statements import QUERIES
from frontscan.ledger.store import Store, record_in
from frontscan.models import ConversationRef, LedgerEntry, Outcome

RequestState = Literal["answered", "returned"]


@dataclass(frozen=True, kw_only=True, slots=True)
class NewRequest:
    """A line about to be submitted: its conversation and what it was built from."""

    custom_id: str
    ref: ConversationRef
    messages_json: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenBatch:
    """A batch not collected yet; `openai_batch_id` is None if `create` never answered."""

    id: int
    openai_batch_id: str | None
    input_file_id: str
    model: str
    status: str
    requests: int
    estimated_usd: float
    estimated_tokens: int
    submitted_at: float


@dataclass(frozen=True, kw_only=True, slots=True)
class WaitingRequest:
    custom_id: str
    ref: ConversationRef
    messages: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class Collected:
    """One batch's collection, ready to commit."""

    batch: int
    status: str
    outcomes: tuple[Outcome, ...]
    marks: tuple[tuple[str, RequestState, str | None], ...]  # (custom id, state, error)
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    error: str | None


class BatchLedger:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def add_batch(
        self,
        *,
        input_file_id: str,
        run_id: int | None,
        model: str,
        estimated_usd: float,
        estimated_tokens: int,
        requests: Sequence[NewRequest],
    ) -> int:
        """Record a batch and its requests before `batches.create` is called."""
        async with self._store.transaction("cannot record a new batch") as conn:
            cursor = await conn.execute(
                QUERIES["batch_insert"],
                (
                    input_file_id,
                    run_id,
                    model,
                    len(requests),
                    round(estimated_usd, 6),
                    estimated_tokens,
                ),
            )
            row = await cursor.fetchone()
            assert row is not None
            batch = int(row[0])
            await conn.execute(
                QUERIES["batch_requests_insert"],
                (
                    batch,
                    [r.custom_id for r in requests],
                    [r.ref.id for r in requests],
                    [r.ref.subject for r in requests],
                    [r.ref.last_message_id for r in requests],
                    [r.ref.updated_at for r in requests],
                    [r.messages_json for r in requests],
                ),
            )
        return batch

    async def set_remote(self, batch: int, openai_batch_id: str, status: str) -> None:
        async with self._store.transaction("cannot record a created batch") as conn:
            await conn.execute(QUERIES["batch_set_remote"], (openai_batch_id, status, batch))

    async def set_status(self, batch: int, status: str, error: str | None = None) -> None:
        async with self._store.transaction("cannot record a batch's status") as conn:
            await conn.execute(QUERIES["batch_set_status"], (status, error, batch))

    async def open_batches(self) -> list[OpenBatch]:
        rows = await self._store.rows("batches_open")
        return [OpenBatch(**row) for row in rows]

    async def entries(self, conversation_ids: Sequence[str]) -> dict[str, LedgerEntry]:
        """What the ledger holds for these conversations (their earlier numbers, too)."""
        return await self._store.ledger_for(conversation_ids)

    async def waiting_requests(self, batch: int) -> list[WaitingRequest]:
        rows = await self._store.rows("batch_requests_waiting", (batch,))
        return [
            WaitingRequest(
                custom_id=row["custom_id"],
                ref=ConversationRef(
                    id=row["conversation_id"],
                    subject=row["subject"],
                    last_message_id=row["last_message_id"],
                    updated_at=row["last_activity_at"],
                ),
                messages=_json_list(row["messages"]),
            )
            for row in rows
        ]

    async def commit(self, collected: Collected, run_id: int | None) -> int | None:
        """Commit a collection; None when another collection already did (nothing added)."""
        c = collected
        answered = sum(state == "answered" for _, state, _ in c.marks)
        async with self._store.transaction("cannot record a collected batch") as conn:
            cursor = await conn.execute(
                QUERIES["batch_claim"],
                (
                    c.status,
                    answered,
                    len(c.marks) - answered,
                    c.prompt_tokens,
                    c.completion_tokens,
                    round(c.cost_usd, 6),
                    c.error,
                    c.batch,
                ),
            )
            if await cursor.fetchone() is None:
                return None
            stored = await record_in(conn, c.outcomes, run_id)
            if c.marks:
                await conn.execute(
                    QUERIES["batch_requests_mark"],
                    (
                        [m[0] for m in c.marks],
                        [m[1] for m in c.marks],
                        [m[2] for m in c.marks],
                        c.batch,
                    ),
                )
        return stored

    async def waiting_among(self, conversation_ids: Sequence[str]) -> set[str]:
        """Which of these conversations wait in a batch (they are not sent online)."""
        return await self._ids("batch_waiting_among", conversation_ids)

    async def returned_among(self, conversation_ids: Sequence[str]) -> set[str]:
        """Which came back from a batch unanswered (they go online, not into a batch again)."""
        return await self._ids("batch_returned_among", conversation_ids)

    async def _ids(self, name: str, conversation_ids: Sequence[str]) -> set[str]:
        if not conversation_ids:
            return set()
        rows = await self._store.rows(name, (list(conversation_ids),))
        return {row["conversation_id"] for row in rows}

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return await self._store.rows("batches_recent", (limit,))

    async def totals(self) -> dict[str, Any]:
        rows = await self._store.rows("batch_totals")
        return rows[0]


def _json_list(value: Any) -> list[dict[str, Any]]:
    loaded = json.loads(value) if isinstance(value, str) else value
    return [dict(item) for item in loaded]
