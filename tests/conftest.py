"""Shared fixtures: a throwaway PostgreSQL for the whole test run, a fresh database per test.

The server comes from the project's own dependencies (`pgserver` ships the binaries), or
from `FRONTSCAN_TEST_DATABASE_URL` when a developer wants to use their own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from psycopg.conninfo import make_conninfo

from frontscan.ledger.store import Store

# CI must not turn red on an example nobody has seen before: there, the property tests
# run a fixed set of examples with no time limit. Locally they keep exploring.
hypothesis_settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


# Slow cases carry `@pytest.mark.reliability`; the default run (`python -m pytest -q`,
# what CI runs) keeps only those marked `reliability(sample=True)`, a fixed sample of
# every kind of fault, and `pytest -m reliability` runs them all. Nothing is skipped: the
# rest are deselected, and pytest says how many. Here, so that it holds however the
# tests are picked (a file, a folder, the whole suite).
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "reliability" in str(config.getoption("markexpr", "")):
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        mark = item.get_closest_marker("reliability")
        (drop if mark is not None and not mark.kwargs.get("sample") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    configured = os.environ.get("FRONTSCAN_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    import pgserver

    # A directory of its own, not under pytest's basetemp: pytest prunes old basetemp
    # directories, and a second test run on the machine could delete a running cluster.
    data_dir = Path(tempfile.mkdtemp(prefix="frontscan-test-pg-"))
    server = pgserver.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _throwaway_database(server_url: str) -> Iterator[str]:
    """A DSN for a database that exists until the generator is closed."""
    name = f"frontscan_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_conninfo(server_url, dbname=name)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    """A DSN for a database that exists only for this test."""
    yield from _throwaway_database(pg_server_url)


@pytest.fixture
def second_database_url(pg_server_url: str) -> Iterator[str]:
    """Another one, for a test that compares two ledgers."""
    yield from _throwaway_database(pg_server_url)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A migrated ledger on this test's database."""
    opened = await Store.open(database_url)
    await opened.migrate()
    yield opened
    await opened.close()
