"""Opening the ledger: which DSN to use, the embedded server when there is none, migrations.

Every command that needs the database comes through `open_store`, so a bad DSN fails the
same way, at start-up, everywhere.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from frontscan.config import Settings
from frontscan.ledger.dsn import redact_dsn
from frontscan.ledger.embedded import embedded_data_dir, embedded_dsn
from frontscan.ledger.store import Store


def database_dsn(settings: Settings) -> tuple[str, str | None]:
    """The DSN to use and, for the embedded server, where its data lives."""
    if settings.database.url:
        return settings.database.url.reveal(), None
    return embedded_dsn(), str(embedded_data_dir())


@asynccontextmanager
async def open_store(
    settings: Settings, *, migrate: bool = True, note: Callable[[str], None] | None = None
) -> AsyncIterator[Store]:
    """Open the ledger and apply pending migrations: every command that needs it comes here."""
    dsn, data_dir = database_dsn(settings)
    if data_dir and note is not None:
        note(f"using the embedded PostgreSQL in {data_dir}")
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
    dsn, data_dir = database_dsn(settings)
    return redact_dsn(dsn) + (f"  (embedded, data in {data_dir})" if data_dir else "")
