"""The scan lock: a session advisory lock on a connection of its own, checked at each commit.

A restart, a stop or `pg_terminate_backend` ends the lock's session and with it the
lock, while the pool reconnects and commits could go on: a second scan could then start
beside the first. So before every commit the lock is confirmed on its own connection;
if that session is gone the lock is taken again on a new one (riding out the outage),
and if another scan took it meanwhile this run stops before committing anything more.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from frontscan.errors import LockHeldError
from frontscan.ledger.faults import Outages, database_errors
from frontscan.ledger.statements import QUERIES

logger = logging.getLogger(__name__)

SCAN_LOCK_KEY = 0x46534341  # "FSCA"; any constant works as long as every process agrees
_CONNECT_FIX = "check DATABASE_URL, or unset it to use the embedded database"


class LockLostError(LockHeldError):
    """Another scan took the lock while this run's lock session was gone."""


class ScanLock:
    def __init__(self, dsn: str, outages: Outages) -> None:
        self._dsn = dsn
        self._outages = outages
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self.retaken = 0

    async def acquire(self) -> None:
        """Take the lock now, or raise LockHeldError: another scan is running."""
        if not await self._take():
            raise LockHeldError(
                "another frontscan scan is running on this database; "
                "wait for it to finish (see `frontscan status`)"
            )

    async def confirm(self) -> None:
        """Before a commit: the lock is still ours, or is ours again, or the run stops."""
        try:
            if self._conn is not None:
                with database_errors(self._dsn, "cannot confirm the scan lock"):
                    cursor = await self._conn.execute(QUERIES["holds_scan_lock"], (SCAN_LOCK_KEY,))
                    row = await cursor.fetchone()
                if row and row[0]:
                    return
        except Exception:  # the lock's session is gone: take it again below
            logger.warning(
                "the scan lock's connection was lost; taking the lock again",
                extra={"event": "ledger.lock_lost"},
            )
        await self._close()
        if not await self._outages.ride_out("taking the scan lock again", self._take):
            raise LockLostError(
                "another scan took the scan lock while the database was away; this run "
                "stopped before its next commit (everything committed is kept)"
            )
        self.retaken += 1
        logger.warning("took the scan lock again", extra={"event": "ledger.lock_retaken"})

    async def release(self) -> None:
        """Let go of the lock; a session already gone has released it already."""
        if self._conn is None:
            return
        try:
            with database_errors(self._dsn, "cannot release the scan lock"):
                await self._conn.execute(QUERIES["scan_unlock"], (SCAN_LOCK_KEY,))
        except Exception as error:  # the session ended: PostgreSQL released the lock
            logger.info(
                "the scan lock's session had already ended", extra={"event": "ledger.unlock",
                                                                  "cause": str(error)},
            )  # fmt: skip
        await self._close()

    async def _take(self) -> bool:
        with database_errors(
            self._dsn, "cannot connect to PostgreSQL for the scan lock", _CONNECT_FIX
        ):
            conn = await psycopg.AsyncConnection.connect(
                self._dsn, autocommit=True, connect_timeout=10
            )
        try:
            with database_errors(self._dsn, "cannot take the scan lock"):
                cursor = await conn.execute(QUERIES["try_scan_lock"], (SCAN_LOCK_KEY,))
                row = await cursor.fetchone()
        except BaseException:
            await conn.close()
            raise
        if not row or not row[0]:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:  # closing a dead socket can fail; it is gone either way
                logger.debug("closing the old lock connection failed", exc_info=True)
