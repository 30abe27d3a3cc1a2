"""Opening the ledger: which DSN to use, the embedded server when there is none, migrations.

Every command that needs the database comes through `open_store` (or `prepare` first, to
say which database it uses), so a bad DSN fails the same way, at start-up, everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from frontscan.config import Settings
from frontscan.ledger.dsn import redact_dsn
from frontscan.ledger.embedded import embedded_data_dir, embedded_dsn, embedded_state
from frontscan.ledger.store import Store

STOP_HINT = "it keeps running for the next commands; `frontscan db stop` stops it"


@dataclass(frozen=True, kw_only=True, slots=True)
class DatabaseInfo:
    """Which database a command uses, in the words its output names it."""

    label: str  # the DSN with its password redacted, or the embedded server's data dir
    embedded: bool
    started: bool  # this command started the embedded server (it was not running)

    def note(self) -> str:
        if self.started:
            return f"started the embedded PostgreSQL in {self.label} ({STOP_HINT})"
        return f"database: {self.described()}"

    def described(self) -> str:
        return f"the embedded PostgreSQL in {self.label}" if self.embedded else self.label


def database_dsn(settings: Settings) -> tuple[str, DatabaseInfo]:
    """The DSN to use (starting the embedded server if it is the one) and how to name it."""
    if settings.database.url:
        dsn = settings.database.url.reveal()
        return dsn, DatabaseInfo(label=redact_dsn(dsn), embedded=False, started=False)
    was_running = embedded_state().running
    dsn = embedded_dsn()
    info = DatabaseInfo(label=str(embedded_data_dir()), embedded=True, started=not was_running)
    return dsn, info


def describe(settings: Settings) -> str:
    """How output names the database `settings` use, without starting or opening it."""
    if settings.database.url:
        return redact_dsn(settings.database.url.reveal())
    return f"the embedded PostgreSQL in {embedded_data_dir()}"


def prepare(settings: Settings) -> DatabaseInfo:
    """Make sure the database a command will use is up; say which one it is."""
    return database_dsn(settings)[1]


@asynccontextmanager
async def open_store(
    settings: Settings, *, migrate: bool = True, note: Callable[[str], None] | None = None
) -> AsyncIterator[Store]:
    """Open the ledger and apply pending migrations: every command that needs it comes here."""
    dsn, info = database_dsn(settings)
    if note is not None and info.embedded:  # a DATABASE_URL is the user's own choice: no noise
        note(info.note())
    store = await Store.open(dsn, outage_seconds=settings.database.outage_seconds)
    try:
        if migrate:
            await store.migrate()
        yield store
    finally:
        await store.close()


async def migrate(settings: Settings) -> list[int]:
    async with open_store(settings, migrate=False) as store:
        return await store.migrate()


def shown_dsn(settings: Settings) -> str:
    dsn, info = database_dsn(settings)
    return redact_dsn(dsn) + (f"  (embedded, data in {info.label})" if info.embedded else "")
