"""The PostgreSQL ledger: connection pool, migrations, run lock and the queries the pipeline needs.

This is the only module that imports psycopg; its errors become `DatabaseError` here.
Each batch of conversation outcomes commits in one transaction, so a crash at any
instant leaves every conversation either fully recorded or untouched, and every write is
an upsert on a natural key so re-runs never duplicate.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from frontscan.errors import DatabaseError, LockHeldError
from frontscan.models import ConversationRef, LedgerEntry, Mention, Outcome, RunStats

SCHEMA = "frontscan"
# Any constant works as long as every frontscan process agrees on it.
SCAN_LOCK_KEY = 0x46534341  # "FSCA"
MIGRATION_LOCK_KEY = 0x46534D47  # "FSMG"
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def load_queries() -> dict[str, str]:
    """The named blocks of `sql/queries.sql`: SQL lives in .sql files, not in Python strings."""
    text = resources.files("frontscan.ledger").joinpath("sql", "queries.sql").read_text("utf-8")
    queries: dict[str, str] = {}
    for block in text.split("-- name: ")[1:]:
        name, _, body = block.partition("\n")
        queries[name.strip()] = body.strip().rstrip(";")
    return queries


_QUERIES = load_queries()


def load_migrations() -> list[Migration]:
    """The numbered SQL files shipped in `frontscan/sql`, in order."""
    found = []
    for entry in resources.files("frontscan.ledger").joinpath("sql").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text("utf-8")))
    return sorted(found, key=lambda m: m.version)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """Remove secrets from a driver message: psycopg may echo parts of the DSN."""
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return " ".join(message.split())


def _password_of(dsn: str) -> list[str]:
    try:
        password = psycopg.conninfo.conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return []
    return [str(password)] if password else []


class Store:
    """The ledger. Open it with `Store.open(dsn)`; it owns a small async connection pool."""

    def __init__(self, pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]], dsn: str) -> None:
        self._pool = pool
        self._dsn = dsn

    @classmethod
    async def open(cls, dsn: str, *, max_size: int = 4) -> Store:
        """Connect once directly (so a bad DSN fails now, with the driver's reason), then pool."""
        secrets = _password_of(dsn)
        try:
            probe = await psycopg.AsyncConnection.connect(dsn, connect_timeout=10)
            await probe.close()
        except (psycopg.Error, OSError) as error:
            raise DatabaseError(
                f"cannot connect to PostgreSQL: {scrub(str(error), secrets)} "
                "(check DATABASE_URL, or unset it to use the embedded database)"
            ) from None
        pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            dsn, min_size=1, max_size=max_size, open=False, kwargs={"connect_timeout": 10}
        )
        await pool.open(wait=True, timeout=15)
        return cls(pool, dsn)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self._pool.connection() as conn, conn.transaction():
                yield conn
        except psycopg.Error as error:
            message = scrub(str(error), _password_of(self._dsn))
            raise DatabaseError(f"database error: {message}") from None

    # -- migrations ---------------------------------------------------------------------

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in the same transaction as its version row."""
        async with self._transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.schema_version ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cursor = await conn.execute(f"SELECT version FROM {SCHEMA}.schema_version")
            done = {row[0] for row in await cursor.fetchall()}
            applied = []
            for migration in load_migrations():
                if migration.version in done:
                    continue
                await conn.execute(migration.sql.encode())
                await conn.execute(
                    f"INSERT INTO {SCHEMA}.schema_version (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
                applied.append(migration.version)
            return applied

    # -- the scan lock --------------------------------------------------------------------

    @asynccontextmanager
    async def scan_lock(self) -> AsyncIterator[None]:
        """Hold the session advisory lock for the whole scan, on a connection of its own."""
        try:
            conn = await psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
        except psycopg.Error as error:
            raise DatabaseError(f"cannot connect to PostgreSQL: {error}") from None
        async with conn:
            cursor = await conn.execute("SELECT pg_try_advisory_lock(%s)", (SCAN_LOCK_KEY,))
            row = await cursor.fetchone()
            if not row or not row[0]:
                raise LockHeldError(
                    "another frontscan scan is running on this database; "
                    "wait for it to finish (see `frontscan status`)"
                )
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (SCAN_LOCK_KEY,))

    # -- what needs work ----------------------------------------------------------------

    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]:
        """What the ledger knows about a page of conversations, in one query."""
        if not ids:
            return {}
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT id, extract(epoch FROM scanned_through)::float8, last_message_id,"
                f" status, attempts FROM {SCHEMA}.conversations WHERE id = ANY(%s)",
                (list(ids),),
            )
            rows = await cursor.fetchall()
        return {row[0]: LedgerEntry(row[0], _ms(row[1]), row[2], row[3], row[4]) for row in rows}

    async def failed_conversations(self) -> list[ConversationRef]:
        """Conversations whose last attempt failed, whatever their dates (--retry-failed).

        No last message id: the pipeline must not take them for unchanged.
        """
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"SELECT id, subject FROM {SCHEMA}.conversations WHERE status = 'failed'"
                " ORDER BY id"
            )
            rows = await cursor.fetchall()
        return [ConversationRef(row[0], row[1], None, None) for row in rows]

    # -- recording outcomes ---------------------------------------------------------------

    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int:
        """Commit a batch of outcomes atomically; returns how many new numbers were stored."""
        if not outcomes:
            return 0
        async with self._transaction() as conn:
            await conn.execute(
                _QUERIES["upsert_conversations"], _conversation_columns(outcomes, run_id)
            )
            messages = [(o, m) for o in outcomes if o.status == "done" for m in o.messages]
            if messages:
                await conn.execute(_QUERIES["upsert_messages"], _message_columns(messages))
            numbers = [n for o in outcomes if o.status == "done" for n in o.numbers]
            if not numbers:
                return 0
            cursor = await conn.execute(
                _QUERIES["insert_numbers"], _number_columns(numbers, run_id)
            )
            stored = len(await cursor.fetchall())
            mentions = [m for o in outcomes if o.status == "done" for m in o.mentions]
            if mentions:
                async with conn.cursor() as many:
                    await many.executemany(_QUERIES["upsert_shipment"], _mention_rows(mentions))
            return stored

    # -- runs -----------------------------------------------------------------------------

    async def start_run(
        self, window_after: float | None, window_before: float | None, options: Mapping[str, Any]
    ) -> int:
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"INSERT INTO {SCHEMA}.runs (window_after, window_before, options)"
                " VALUES (to_timestamp(%s), to_timestamp(%s), %s) RETURNING id",
                (window_after, window_before, json.dumps(dict(options))),
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def finish_run(
        self, run_id: int, status: str, stats: RunStats, cost_usd: float, error: str | None
    ) -> None:
        async with self._transaction() as conn:
            await conn.execute(
                f"UPDATE {SCHEMA}.runs SET finished_at = now(), status = %s,"
                " conversations_seen = %s, conversations_scanned = %s,"
                " conversations_skipped = %s, conversations_failed = %s,"
                " messages_processed = %s, numbers_found = %s, front_calls = %s,"
                " openai_calls = %s, prompt_tokens = %s, completion_tokens = %s,"
                " cost_usd = %s, error = %s WHERE id = %s",
                (
                    status,
                    stats.conversations_seen,
                    stats.conversations_scanned,
                    stats.conversations_skipped,
                    stats.conversations_failed,
                    stats.messages_processed,
                    stats.numbers_found,
                    stats.front_calls,
                    stats.openai_calls,
                    stats.prompt_tokens,
                    stats.completion_tokens,
                    round(cost_usd, 6),
                    error,
                    run_id,
                ),
            )

    async def forget(self, conversation_ids: Sequence[str]) -> None:
        """Delete everything recorded for these conversations (the demo redoes its inbox)."""
        async with self._transaction() as conn:
            # A parcel's row is built from its mentions, which these conversations take
            # with them: the row goes too, and the next scan of any mention rebuilds it.
            await conn.execute(_QUERIES["forget_shipments"], (list(conversation_ids),))
            for table in ("tracking_numbers", "messages"):
                await conn.execute(
                    f"DELETE FROM {SCHEMA}.{table} WHERE conversation_id = ANY(%s)",
                    (list(conversation_ids),),
                )
            await conn.execute(
                f"DELETE FROM {SCHEMA}.conversations WHERE id = ANY(%s)", (list(conversation_ids),)
            )

    async def close_stale_runs(self) -> int:
        """Mark runs left 'running' by a killed process as interrupted.

        Only called while holding the scan lock, so no live scan can own such a row.
        """
        async with self._transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE {SCHEMA}.runs SET status = 'interrupted', finished_at = now(),"
                " error = 'the process ended without closing the run'"
                " WHERE status = 'running'"
            )
            return cursor.rowcount

    async def last_completed_run_start(self) -> float | None:
        """The cron watermark: when the newest complete scan up to "now" started.

        Only runs that covered everything up to their start count (the runner marks them
        `advances_watermark`): a --retry-failed, --limit, --inbox, --query or --before run
        did not, and continuing from it would skip activity.
        """
        async with self._transaction() as conn:
            cursor = await conn.execute(
                "SELECT extract(epoch FROM max(started_at))::float8"
                f" FROM {SCHEMA}.runs WHERE status IN ('succeeded', 'partial')"
                " AND (options ->> 'advances_watermark')::boolean"
            )
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def shipment_rows(self, where: Mapping[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """The `shipments` rows matching `where` (the query's named filters), streamed."""
        return self.stream(_QUERIES["shipments"], where)

    async def shipments_today(self) -> list[tuple[str, str, int]]:
        """(status, carrier, parcels) whose latest status was stated today (UTC)."""
        rows = await self.fetch(_QUERIES["shipments_today"])
        return [(r["status"], r["carrier"], int(r["parcels"])) for r in rows]

    async def fetch(self, query: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query and return dict rows (for status, export and tests)."""
        async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            try:
                await cur.execute(query.encode(), params)
                return await cur.fetchall()
            except psycopg.Error as error:
                raise DatabaseError(f"database error: {error}") from None

    async def stream(
        self, query: str, params: Sequence[Any] | Mapping[str, Any] = (), *, size: int = 1000
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield a read query's dict rows through a named (server-side) cursor.

        PostgreSQL keeps the result and hands it over `size` rows at a time, so memory
        stays constant however many rows match (export reads millions this way). The
        cursor lives in one read transaction on one pooled connection until the caller
        stops iterating.
        """
        try:
            async with (
                self._pool.connection() as conn,
                conn.transaction(),
                conn.cursor(name="frontscan_stream", row_factory=dict_row) as cursor,
            ):
                cursor.itersize = size
                await cursor.execute(query.encode(), params)
                while rows := await cursor.fetchmany(size):
                    for row in rows:
                        yield row
        except psycopg.Error as error:
            message = scrub(str(error), _password_of(self._dsn))
            raise DatabaseError(f"database error: {message}") from None


def _ms(value: float | None) -> float | None:
    """Front times have millisecond precision; round away float noise from the round trip."""
    return None if value is None else round(value, 3)


def _conversation_columns(outcomes: Sequence[Outcome], run_id: int | None) -> list[Any]:
    return [
        run_id,
        [o.conversation.id for o in outcomes],
        [o.conversation.subject for o in outcomes],
        [o.last_message_id for o in outcomes],
        [o.conversation.updated_at for o in outcomes],
        [o.scanned_through for o in outcomes],
        [o.status for o in outcomes],
        [o.error for o in outcomes],
    ]


def _message_columns(pairs: Sequence[tuple[Outcome, Any]]) -> list[Any]:
    return [
        [m.id for _, m in pairs],
        [o.conversation.id for o, _ in pairs],
        [m.created_at for _, m in pairs],
        [m.content_hash for _, m in pairs],
        [m.extractor_version for _, m in pairs],
        [m.status for _, m in pairs],
    ]


def _number_columns(numbers: Sequence[Any], run_id: int | None) -> list[Any]:
    return [
        run_id,
        [n.tracking_number for n in numbers],
        [n.carrier for n in numbers],
        [n.format for n in numbers],
        [n.checksum_valid for n in numbers],
        [n.source for n in numbers],
        [n.confidence for n in numbers],
        [n.conversation_id for n in numbers],
        [n.message_id for n in numbers],
        [n.snippet for n in numbers],
        [n.status for n in numbers],
        [n.expected_delivery for n in numbers],
        [n.order_reference for n in numbers],
        [n.direction for n in numbers],
    ]


def _mention_rows(mentions: Sequence[Mention]) -> list[tuple[Any, ...]]:
    """One parameter row per mention, oldest statement first (the order they apply in)."""
    ordered = sorted(mentions, key=lambda m: (m.stated_at, m.message_id, m.tracking_number))
    return [
        (m.tracking_number, m.carrier, m.conversation_id, m.message_id, m.stated_at, m.status,
         m.expected_delivery, m.order_reference)
        for m in ordered
    ]  # fmt: skip
