"""The PostgreSQL ledger: connection pool, migrations, run lock and every query frontscan runs.

Its psycopg errors become `DatabaseError` in one place, `ledger.faults.database_errors`,
which scrubs the password from the message and the chained cause. Every statement is a
named block of `sql/queries.sql` behind a method here; reads return the typed rows of
`ledger.rows`. Each batch of conversation outcomes commits in one transaction
(`ledger.writes`), so a crash at any instant leaves every conversation either fully
recorded or untouched; every write is an upsert on a natural key, and a batch's commit
key makes a replayed commit change nothing, so re-runs never duplicate.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from dataclasses import asdict, astuple
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool

from frontscan.ledger.dsn import redact_dsn
from frontscan.ledger.faults import (
    OUTAGE_LIMIT_SECONDS,
    RETRY_FIX,
    Outages,
    database_errors,
    scrubbed_cause,
)
from frontscan.ledger.lock import SCAN_LOCK_KEY, ScanLock
from frontscan.ledger.reads import LedgerReads
from frontscan.ledger.statements import (
    QUERIES,
    load_migrations,
    ms,
)
from frontscan.ledger.writes import log_commit, record_in
from frontscan.models import ConversationRef, LedgerEntry, Outcome, RunStats, Window

logger = logging.getLogger(__name__)

# Any constant works as long as every frontscan process agrees on it.
MIGRATION_LOCK_KEY = 0x46534D47  # "FSMG"
_CONNECT_FIX = "check DATABASE_URL, or unset it to use the embedded database"
_RETRY_FIX = RETRY_FIX
__all__ = ["SCAN_LOCK_KEY", "Store", "database_errors", "record_in", "scrubbed_cause"]
T = TypeVar("T")


class Store(LedgerReads):
    """The ledger. Open it with `Store.open(dsn)`; it owns a small async connection pool."""

    def __init__(
        self,
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]],
        dsn: str,
        outage_seconds: float = OUTAGE_LIMIT_SECONDS,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self.outages = Outages(limit=outage_seconds)  # how long the database was away
        self._lock: ScanLock | None = None

    @classmethod
    async def open(
        cls, dsn: str, *, max_size: int = 4, outage_seconds: float = OUTAGE_LIMIT_SECONDS
    ) -> Store:
        """Connect once directly (so a bad DSN fails now, with the driver's reason), then pool."""
        with database_errors(dsn, "cannot connect to PostgreSQL", _CONNECT_FIX):
            probe = await psycopg.AsyncConnection.connect(dsn, connect_timeout=10)
            await probe.close()
            # Each connection is checked as it is handed out, so one left dead by a restart
            # is replaced rather than failing a batch; a short wait lets `Outages` retry.
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                dsn,
                min_size=1,
                max_size=max_size,
                open=False,
                kwargs={"connect_timeout": 10},
                check=AsyncConnectionPool.check_connection,
                timeout=5,
            )
            await pool.open(wait=True, timeout=15)
        logger.debug(
            "connected to %s", redact_dsn(dsn), extra={"event": "ledger.open", "pool": max_size}
        )
        return cls(pool, dsn, outage_seconds)

    async def close(self) -> None:
        await self._pool.close()

    def _errors(self, doing: str, fix: str = _RETRY_FIX) -> AbstractContextManager[None]:
        return database_errors(self._dsn, doing, fix)

    @asynccontextmanager
    async def _transaction(self, doing: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        with self._errors(doing):
            async with self._pool.connection() as conn, conn.transaction():
                yield conn

    # -- migrations ---------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in the same transaction as its version row."""
        doing = "cannot migrate the ledger schema"
        with self._errors(doing, "the database role must be allowed to create schema frontscan"):
            async with self._pool.connection() as conn, conn.transaction():
                await conn.execute(QUERIES["migration_lock"], (MIGRATION_LOCK_KEY,))
                await conn.execute(QUERIES["create_schema"])
                await conn.execute(QUERIES["create_schema_version"])
                cursor = await conn.execute(QUERIES["applied_versions"])
                done = {row[0] for row in await cursor.fetchall()}
                applied = []
                for migration in load_migrations():
                    if migration.version in done:
                        continue
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        QUERIES["record_version"], (migration.version, migration.name)
                    )
                    applied.append(migration.version)
        if applied:
            logger.info(
                "applied migrations %s",
                applied,
                extra={"event": "ledger.migrate", "applied": applied},
            )
        return applied

    # -- the scan lock --------------------------------------------------------------------

    @asynccontextmanager
    async def scan_lock(self) -> AsyncIterator[None]:
        """Hold the scan lock for the whole scan; every commit confirms it first (`lock`)."""
        lock = ScanLock(self._dsn, self.outages)
        await lock.acquire()
        self._lock = lock
        try:
            yield
        finally:
            self._lock = None
            await lock.release()

    async def _retried(
        self, doing: str, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]
    ) -> T:
        """`work` in one transaction, redone on a new connection if the database went away."""

        async def attempt() -> T:
            async with self._transaction(doing) as conn:
                return await work(conn)

        return await self.outages.ride_out(doing, attempt)

    # -- what needs work ----------------------------------------------------------------

    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]:
        """What the ledger knows about a page of conversations, in one query."""
        if not ids:
            return {}

        async def read(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
            cursor = await conn.execute(QUERIES["ledger_for"], (list(ids),))
            return await cursor.fetchall()

        rows = await self._retried("cannot read the ledger for a search page", read)
        return {
            row[0]: LedgerEntry(
                id=row[0],
                scanned_through=ms(row[1]),
                last_message_id=row[2],
                status=row[3],
                attempts=row[4],
                numbers=tuple((str(pair[0]), str(pair[1])) for pair in row[5] or ()),
            )
            for row in rows
        }

    async def known_messages(self, ids: Sequence[str]) -> set[str]:
        """Which of these message ids the ledger already holds, in one query."""
        if not ids:
            return set()
        async with self._transaction("cannot read which messages are recorded") as conn:
            cursor = await conn.execute(QUERIES["known_messages"], (list(ids),))
            return {row[0] for row in await cursor.fetchall()}

    async def failed_conversations(self) -> list[ConversationRef]:
        """Conversations whose last attempt failed, whatever their dates (--retry-failed).

        No last message id: the pipeline must not take them for unchanged.
        """

        async def read(conn: psycopg.AsyncConnection[Any]) -> list[Any]:
            cursor = await conn.execute(QUERIES["failed_refs"])
            return await cursor.fetchall()

        rows = await self._retried("cannot read the failed conversations", read)
        return [
            ConversationRef(id=row[0], subject=row[1], last_message_id=None, updated_at=None)
            for row in rows
        ]

    # -- recording outcomes ---------------------------------------------------------------

    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int:
        """Commit a batch of outcomes atomically; returns how many new numbers were stored.

        The scan lock is confirmed first (re-taken if its session died), and a batch whose
        connection is lost is committed again on a new one. The run row's counters grow
        in the same transaction, so a killed run's row shows what it committed. The batch
        carries a key of its own (`commit_keys`, written in the same transaction): when
        the connection died after COMMIT was sent, the retry finds the key and changes
        nothing, so counters and attempts grow once, and it returns the first count.
        """
        if not outcomes:
            return 0
        started = time.monotonic()
        key = uuid.uuid4()

        async def attempt() -> int:
            if self._lock is not None:
                await self._lock.confirm()
            async with self._transaction("cannot record a batch of conversations") as conn:
                cursor = await conn.execute(QUERIES["claim_commit_key"], (key, run_id))
                if await cursor.fetchone() is None:  # committed before, its ack was lost
                    cursor = await conn.execute(QUERIES["committed_numbers"], (key,))
                    row = await cursor.fetchone()
                    assert row is not None
                    return int(row[0])
                stored = await record_in(conn, outcomes, run_id)
                await conn.execute(QUERIES["commit_key_numbers"], (stored, key))
                return stored

        stored = await self.outages.ride_out("recording a batch", attempt)
        log_commit(outcomes, run_id, stored, time.monotonic() - started)
        return stored

    def transaction(self, doing: str) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """One transaction, errors translated, for a caller that must write several things
        atomically (batch collection: results and "collected" together)."""
        return self._transaction(doing)

    async def rows(self, name: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """A named read query's rows as dicts (the batch ledger's reads)."""
        return await self._rows(name, params)

    # -- runs -----------------------------------------------------------------------------

    async def start_run(self, window: Window, options: Mapping[str, Any]) -> int:
        params = (window.after, window.before, json.dumps(dict(options)))

        async def start(conn: psycopg.AsyncConnection[Any]) -> Any:
            cursor = await conn.execute(QUERIES["start_run"], params)
            return await cursor.fetchone()

        row = await self._retried("cannot record the start of the run", start)
        assert row is not None
        run_id = int(row[0])
        logger.info(
            "run %d started", run_id,
            extra={"event": "run.start", "run_id": run_id, "after": window.after,
                   "before": window.before, "options": dict(options)},
        )  # fmt: skip
        return run_id

    async def finish_run(
        self,
        run_id: int,
        status: str,
        stats: RunStats,
        cost_usd: float,
        error: str | None,
        *,
        advances_watermark: bool = True,
    ) -> None:
        """Close the run row: every `RunStats` counter goes to the column of its name.

        `advances_watermark=False` (a Front listing ended short) takes back what the run
        promised when it started: the cron watermark does not move past a window it may
        not have seen whole."""
        # astuple keeps the RunStats field order, the order of the columns in the query
        params = (status, *astuple(stats), round(cost_usd, 6), error, advances_watermark, run_id)

        async def finish(conn: psycopg.AsyncConnection[Any]) -> None:
            await conn.execute(QUERIES["finish_run"], params)
            await conn.execute(QUERIES["forget_commit_keys"], (run_id,))  # no retry is left

        await self._retried("cannot record the end of the run", finish)
        logger.info(
            "run %d finished: %s", run_id, status,
            extra={"event": "run.finish", "run_id": run_id, "status": status,
                   "cost_usd": round(cost_usd, 6), "error": error, "stats": asdict(stats)},
        )  # fmt: skip

    async def forget(self, conversation_ids: Sequence[str]) -> None:
        """Delete everything recorded for these conversations (the demo redoes its inbox)."""
        ids = (list(conversation_ids),)
        async with self._transaction("cannot clear the earlier demo") as conn:
            # A parcel's row is built from its mentions, which these conversations take
            # with them: the row goes too, and the next scan of any mention rebuilds it.
            names = ("forget_shipments", "forget_mentions", "forget_numbers",
                     "forget_messages", "forget_conversations")  # fmt: skip
            for name in names:
                await conn.execute(QUERIES[name], ids)

    async def close_stale_runs(self) -> int:
        """Mark runs left 'running' by a killed process as interrupted.

        Only called while holding the scan lock, so no live scan can own such a row.
        """

        async def close(conn: psycopg.AsyncConnection[Any]) -> int:
            cursor = await conn.execute(QUERIES["close_stale_runs"])
            return cursor.rowcount

        closed = await self._retried("cannot close stale runs", close)
        if closed:
            logger.info(
                "closed %d run(s) left running by a process that died", closed,
                extra={"event": "run.stale", "closed": closed},
            )  # fmt: skip
        return closed

    async def last_completed_run_start(self) -> float | None:
        """The cron watermark: when the newest complete scan up to "now" started.

        Only runs that covered everything up to their start count (the runner marks them
        `advances_watermark`): a --retry-failed, --limit, --inbox, --query or --before run
        did not, and continuing from it would skip activity.
        """

        async def read(conn: psycopg.AsyncConnection[Any]) -> Any:
            cursor = await conn.execute(QUERIES["last_completed_run_start"])
            return await cursor.fetchone()

        row = await self._retried("cannot read the cron watermark", read)
        return None if row is None or row[0] is None else float(row[0])
