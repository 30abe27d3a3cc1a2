"""psycopg errors, translated in one place, and database outages ridden out.

`database_errors` turns any driver error into a one-line `DatabaseError` with the
password scrubbed from the message and the chained cause. `Outages` retries work whose
connection was lost (a restart, a stop, `pg_terminate_backend`) on a new connection
until the database is back or has been away for `limit` seconds, and keeps the time
it was away for the summary. The pool's own multi-line warnings are silenced: each
outage is one `ledger.outage` log line, and one `ledger.back` when it ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import psycopg

from frontscan.errors import DatabaseError, DatabaseGoneError
from frontscan.ledger.dsn import passwords_in, scrub

logger = logging.getLogger(__name__)
# psycopg_pool warns (with tracebacks) on every failed reconnect; with no handler of its
# own those reach the terminal through logging's last resort. Outages are logged here.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())
logging.getLogger("psycopg.pool").propagate = False

RETRY_FIX = "check that the database server is up, then run the command again"
OUTAGE_LIMIT_SECONDS = 60.0
T = TypeVar("T")
# SQLSTATEs of a lost session: class 08 (connection exception), admin/crash shutdown,
# "cannot connect now" while the server starts. No SQLSTATE at all: libpq's own
# client-side failures (refused, closed socket) and the pool's timeout.
_LOST_STATES = ("57P01", "57P02", "57P03")


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
def database_errors(dsn: str, doing: str, fix: str = RETRY_FIX) -> Iterator[None]:
    """The one translation of psycopg (and socket) errors: a one-line `DatabaseError`.

    The message says what failed, the driver's reason and what to do; the password is
    scrubbed from the message and from the chained cause at every site. A lost
    connection keeps its cause reachable (`connection_lost`) for `Outages`.
    """
    try:
        yield
    except (psycopg.Error, OSError) as error:
        secrets = passwords_in(dsn)
        reason = scrub(str(error), secrets) or type(error).__name__
        translated = DatabaseError(f"{doing}: {reason} ({fix})")
        translated.lost = _lost(error)
        raise translated from scrubbed_cause(error, secrets)


def _lost(error: BaseException) -> bool:
    if isinstance(error, OSError):
        return True
    if isinstance(error, psycopg.InterfaceError):  # "the connection is closed"
        return True
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = getattr(error, "sqlstate", None)
    return state is None or state.startswith("08") or state in _LOST_STATES


@dataclass
class Outages:
    """Retries of work that lost its connection, and how long the database was away."""

    limit: float = OUTAGE_LIMIT_SECONDS
    away_seconds: float = 0.0
    count: int = 0
    _since: float | None = None

    async def ride_out(self, doing: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt()` until it succeeds; a lost connection is retried, anything else raised.

        Each attempt is a whole transaction, so a retry redoes it on a new connection;
        the writes are upserts and a batch of outcomes carries a commit key (`Store.record`),
        so a commit whose acknowledgement was lost is harmless, its counters included.
        """
        delay = 0.25
        while True:
            try:
                result = await attempt()
            except DatabaseError as error:
                if isinstance(error, DatabaseGoneError) or not error.lost:
                    raise
                self._away(doing, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            self._back()
            return result

    def _away(self, doing: str, error: DatabaseError) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since = now
            self.count += 1
            logger.warning(
                "lost the database connection (%s); retrying for up to %.0f s", doing,
                self.limit, extra={"event": "ledger.outage", "doing": doing, "cause": str(error)},
            )  # fmt: skip
        elif now - self._since > self.limit:
            away = now - self._since
            self.away_seconds += away
            self._since = None
            raise DatabaseGoneError(
                f"the database was unreachable for {away:.0f} s ({doing}); everything "
                "committed before is kept: run the scan again when the database is back"
            ) from error

    def _back(self) -> None:
        if self._since is None:
            return
        away = time.monotonic() - self._since
        self.away_seconds += away
        self._since = None
        logger.warning(
            "the database is back after %.1f s", away,
            extra={"event": "ledger.back", "away_seconds": round(away, 3)},
        )  # fmt: skip
