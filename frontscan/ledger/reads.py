"""The ledger reads of the operator's commands: `status`, `export` and the demo's table.

A base of `Store`, kept apart from the scan's writes so each file reads as one concern.
Like every query, these are named blocks of `sql/queries.sql`; they return the typed rows
of `ledger.rows`, and their psycopg errors go through `Store`'s one translation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from frontscan.ledger.rows import ExportRow, FailedConversation, FoundNumber, RunRow, Totals
from frontscan.ledger.statements import QUERIES


class LedgerReads:
    """Read methods over the pool and error translation that `Store` provides."""

    _pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]]

    def _errors(self, doing: str) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _transaction(self, doing: str) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        raise NotImplementedError

    async def _rows(
        self, name: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """A named read query's rows as dicts (one short transaction)."""
        async with (
            self._transaction(f"cannot read the ledger ({name})") as conn,
            conn.cursor(row_factory=dict_row) as cursor,
        ):
            await cursor.execute(QUERIES[name].encode(), params)
            return await cursor.fetchall()

    async def recent_runs(self, limit: int) -> list[RunRow]:
        return [RunRow.of(row) for row in await self._rows("recent_runs", (max(0, limit),))]

    async def totals(self) -> Totals:
        counts = (await self._rows("totals"))[0]
        carriers = await self._rows("numbers_by_carrier")
        by_carrier = tuple((str(r["carrier"]), int(r["numbers"])) for r in carriers)
        return Totals(**counts, by_carrier=by_carrier)

    async def failed_shown(self, limit: int) -> list[FailedConversation]:
        """The newest `limit` failed conversations, with their last error."""
        return [FailedConversation(**row) for row in await self._rows("failed_shown", (limit,))]

    async def numbers_of_runs(self, run_ids: Sequence[int]) -> list[FoundNumber]:
        rows = await self._rows("numbers_of_runs", (list(run_ids),))
        return [FoundNumber(**row) for row in rows]

    async def shipments_today(self) -> list[tuple[str, str, int]]:
        """(status, carrier, parcels) whose latest status was stated today (UTC)."""
        rows = await self._rows("shipments_today")
        return [(str(r["status"]), str(r["carrier"]), int(r["parcels"])) for r in rows]

    async def shipment_rows(
        self, where: Mapping[str, Any], *, size: int = 1000
    ) -> AsyncIterator[dict[str, Any]]:
        """The `shipments` rows matching `where` (the query's named filters), streamed
        through a named cursor like `export_rows`."""
        with self._errors("cannot read the shipments"):
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor(name="frontscan_shipments", row_factory=dict_row) as cursor,
            ):
                cursor.itersize = size
                await cursor.execute(QUERIES["shipments"].encode(), dict(where))
                while rows := await cursor.fetchmany(size):
                    for row in rows:
                        yield row

    async def mention_history(self, number: str) -> list[dict[str, Any]]:
        """Every stored mention of one tracking number, oldest first (`shipments --history`)."""
        return await self._rows("mention_history", {"number": number})

    async def export_rows(
        self,
        *,
        after: float | None = None,
        before: float | None = None,
        carrier: str | None = None,
        size: int = 1000,
    ) -> AsyncIterator[ExportRow]:
        """Stored numbers in `first_seen_at` order, through a named (server-side) cursor.

        PostgreSQL keeps the result and hands it over `size` rows at a time, so memory
        stays constant however many rows match (export reads millions this way). The
        cursor lives in one read transaction on one pooled connection until the caller
        stops iterating.
        """
        params = {"after": after, "before": before, "carrier": carrier}
        with self._errors("cannot read the tracking numbers"):
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor(name="frontscan_export", row_factory=dict_row) as cursor,
            ):
                cursor.itersize = size
                await cursor.execute(QUERIES["export_numbers"].encode(), params)
                while rows := await cursor.fetchmany(size):
                    for row in rows:
                        yield cast(ExportRow, row)
