"""The PostgreSQL ledger: connection pool, migrations, run lock and every query frontscan runs.

This is the only module that runs psycopg; its errors become `DatabaseError` in one
place, `database_errors`, which scrubs the password from the message and the chained
cause. Every statement is a named block of `sql/queries.sql` behind a method here; reads
return the typed rows of `ledger.rows`. Each batch of conversation outcomes commits in
one transaction, so a crash at any instant leaves every conversation either fully
recorded or untouched, and every write is an upsert on a natural key so re-runs never
duplicate.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import asdict, astuple
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from frontscan.errors import DatabaseError, LockHeldError
from frontscan.ledger.dsn import passwords_in, redact_dsn, scrub
from frontscan.ledger.reads import LedgerReads
from frontscan.ledger.statements import (
    QUERIES,
    conversation_columns,
    load_migrations,
    message_columns,
    ms,
    number_columns,
)
from frontscan.models import ConversationRef, LedgerEntry, Outcome, RunStats, Window

logger = logging.getLogger(__name__)

# Any constant works as long as every frontscan process agrees on it.
SCAN_LOCK_KEY = 0x46534341  # "FSCA"
MIGRATION_LOCK_KEY = 0x46534D47  # "FSMG"
_CONNECT_FIX = "check DATABASE_URL, or unset it to use the embedded database"
_RETRY_FIX = "check that the database server is up, then run the command again"


def scrubbed_cause(error: BaseException, secrets: Iterable[str]) -> BaseException:
    """A copy of a driver error with its message scrubbed, to chain with `raise ... from`.

    The original is not chained: its text (and its own causes) may hold the password,
    and `--debug` prints chained causes. The copy keeps the class and the traceback,
    whose frames show code, never variable values.
    """
    text = scrub(str(error), secrets)
    try:
        copy = type(error)(text)
    except Exception:  # an exception class with a constructor of its own
        copy = RuntimeError(f"{type(error).__name__}: {text}")
    return copy.with_traceback(error.__traceback__)


@contextmanager
def database_errors(dsn: str, doing: str, fix: str = _RETRY_FIX) -> Iterator[None]:
    """The one translation of psycopg (and socket) errors: a one-line `DatabaseError`.

    The message says what failed, the driver's reason and what to do; the password is
    scrubbed from the message and from the chained cause at every site.
    """
    try:
        yield
    except (psycopg.Error, OSError) as error:
        secrets = passwords_in(dsn)
        reason = scrub(str(error), secrets) or type(error).__name__
        raise DatabaseError(f"{doing}: {reason} ({fix})") from scrubbed_cause(error, secrets)


class Store(LedgerReads):
    """The ledger. Open it with `Store.open(dsn)`; it owns a small async connection pool."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn

    @classmethod
    async def open(cls, dsn: str, *, max_size: int = 4) -> Store:
        """Connect once directly (so a bad DSN fails now, with the driver's reason), then pool."""
        with database_errors(dsn, "cannot connect to PostgreSQL", _CONNECT_FIX):
            probe = await psycopg.AsyncConnection.connect(dsn, connect_timeout=10)
            await probe.close()
            pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
                dsn, min_size=1, max_size=max_size, open=False, kwargs={"connect_timeout": 10}
            )
            await pool.open(wait=True, timeout=15)
        logger.debug(
            "connected to %s", redact_dsn(dsn), extra={"event": "ledger.open", "pool": max_size}
        )
        return cls(pool, dsn)

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
        """Hold the session advisory lock for the whole scan, on a connection of its own."""
        with self._errors("cannot connect to PostgreSQL for the scan lock", _CONNECT_FIX):
            conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
        async with conn:
            with self._errors("cannot take the scan lock"):
                cursor = await conn.execute(QUERIES["try_scan_lock"], (SCAN_LOCK_KEY,))
                row = await cursor.fetchone()
            if not row or not row[0]:
                raise LockHeldError(
                    "another frontscan scan is running on this database; "
                    "wait for it to finish (see `frontscan status`)"
                )
            try:
                yield
            finally:
                with self._errors("cannot release the scan lock"):
                    await conn.execute(QUERIES["scan_unlock"], (SCAN_LOCK_KEY,))

    # -- what needs work ----------------------------------------------------------------

    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]:
        """What the ledger knows about a page of conversations, in one query."""
        if not ids:
            return {}
        async with self._transaction("cannot read the ledger for a search page") as conn:
            cursor = await conn.execute(QUERIES["ledger_for"], (list(ids),))
            rows = await cursor.fetchall()
        return {
            row[0]: LedgerEntry(
                id=row[0],
                scanned_through=ms(row[1]),
                last_message_id=row[2],
                status=row[3],
                attempts=row[4],
            )
            for row in rows
        }

    async def failed_conversations(self) -> list[ConversationRef]:
        """Conversations whose last attempt failed, whatever their dates (--retry-failed).

        No last message id: the pipeline must not take them for unchanged.
        """
        async with self._transaction("cannot read the failed conversations") as conn:
            cursor = await conn.execute(QUERIES["failed_refs"])
            rows = await cursor.fetchall()
        return [
            ConversationRef(id=row[0], subject=row[1], last_message_id=None, updated_at=None)
            for row in rows
        ]

    # -- recording outcomes ---------------------------------------------------------------

    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int:
        """Commit a batch of outcomes atomically; returns how many new numbers were stored."""
        if not outcomes:
            return 0
        started = time.monotonic()
        async with self._transaction("cannot record a batch of conversations") as conn:
            stored = await record_in(conn, outcomes, run_id)
        _log_commit(outcomes, run_id, stored, time.monotonic() - started)
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
        async with self._transaction("cannot record the start of the run") as conn:
            cursor = await conn.execute(QUERIES["start_run"], params)
            row = await cursor.fetchone()
        assert row is not None
        run_id = int(row[0])
        logger.info(
            "run %d started", run_id,
            extra={"event": "run.start", "run_id": run_id, "after": window.after,
                   "before": window.before, "options": dict(options)},
        )  # fmt: skip
        return run_id

    async def finish_run(
        self, run_id: int, status: str, stats: RunStats, cost_usd: float, error: str | None
    ) -> None:
        """Close the run row: every `RunStats` counter goes to the column of its name."""
        # astuple keeps the RunStats field order, the order of the columns in the query
        params = (status, *astuple(stats), round(cost_usd, 6), error, run_id)
        async with self._transaction("cannot record the end of the run") as conn:
            await conn.execute(QUERIES["finish_run"], params)
        logger.info(
            "run %d finished: %s", run_id, status,
            extra={"event": "run.finish", "run_id": run_id, "status": status,
                   "cost_usd": round(cost_usd, 6), "error": error, "stats": asdict(stats)},
        )  # fmt: skip

    async def forget(self, conversation_ids: Sequence[str]) -> None:
        """Delete everything recorded for these conversations (the demo redoes its inbox)."""
        ids = (list(conversation_ids),)
        async with self._transaction("cannot clear the earlier demo") as conn:
            for name in ("forget_numbers", "forget_messages", "forget_conversations"):
                await conn.execute(QUERIES[name], ids)

    async def close_stale_runs(self) -> int:
        """Mark runs left 'running' by a killed process as interrupted.

        Only called while holding the scan lock, so no live scan can own such a row.
        """
        async with self._transaction("cannot close stale runs") as conn:
            cursor = await conn.execute(QUERIES["close_stale_runs"])
            closed = cursor.rowcount
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
        async with self._transaction("cannot read the cron watermark") as conn:
            cursor = await conn.execute(QUERIES["last_completed_run_start"])
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else float(row[0])


async def record_in(
    conn: psycopg.AsyncConnection[Any], outcomes: Sequence[Outcome], run_id: int | None
) -> int:
    """Write outcomes inside the caller's transaction; returns how many new numbers."""
    if not outcomes:
        return 0
    await conn.execute(QUERIES["upsert_conversations"], conversation_columns(outcomes, run_id))
    messages = [(o, m) for o in outcomes if o.status == "done" for m in o.messages]
    if messages:
        await conn.execute(QUERIES["upsert_messages"], message_columns(messages))
    numbers = [n for o in outcomes if o.status == "done" for n in o.numbers]
    if not numbers:
        return 0
    cursor = await conn.execute(QUERIES["insert_numbers"], number_columns(numbers, run_id))
    return len(await cursor.fetchall())


def _log_commit(
    outcomes: Sequence[Outcome], run_id: int | None, stored: int, seconds: float
) -> None:
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        logger.info(
            "conversation %s failed: %s", outcome.conversation.id, outcome.error,
            extra={"event": "conversation.failed", "conversation_id": outcome.conversation.id,
                   "cause": outcome.error, "run_id": run_id},
        )  # fmt: skip
    logger.info(
        "committed %d conversations (%d failed), %d new numbers in %.3f s",
        len(outcomes), len(failed), stored, seconds,
        extra={"event": "ledger.commit", "conversations": len(outcomes), "failed": len(failed),
               "numbers": stored, "seconds": round(seconds, 3), "run_id": run_id},
    )  # fmt: skip
