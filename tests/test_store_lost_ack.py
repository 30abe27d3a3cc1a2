"""A batch commit whose acknowledgement never arrived, for real: the server committed,
the client saw its connection die, and `Outages` committed the batch again.

A loopback proxy stands between the Store and PostgreSQL and, once armed, drops the
server's answer to COMMIT and cuts the connection: what a restart or a network cut at
that instant does. The run row and the attempts must show the batch once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import dict_row

from frontscan.ledger.store import Store
from frontscan.models import RunStats, Window
from tests.test_store import outcome

COMMIT = b"Q\x00\x00\x00\x0bCOMMIT\x00"  # the simple-query message psycopg sends


class AckCutter:
    """A TCP proxy to the server's socket that, armed, swallows one COMMIT's answer."""

    def __init__(self, dsn: str) -> None:
        params = conninfo_to_dict(dsn)
        self._host = str(params.get("host") or "127.0.0.1")
        self._port = int(params.get("port") or 5432)
        self.armed = False
        self.cuts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._host.startswith("/"):
            return await asyncio.open_unix_connection(f"{self._host}/.s.PGSQL.{self._port}")
        return await asyncio.open_connection(self._host, self._port)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        up_reader, up_writer = await self._upstream()
        committing = asyncio.Event()
        try:
            await asyncio.gather(
                self._pump_up(reader, up_writer, committing),
                self._pump_down(up_reader, writer, committing),
            )
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for end in (writer, up_writer):
                end.close()
            self._tasks.discard(task)

    async def _pump_up(
        self, reader: asyncio.StreamReader, up: asyncio.StreamWriter, committing: asyncio.Event
    ) -> None:
        while chunk := await reader.read(65536):
            if self.armed and COMMIT in chunk:
                self.armed = False
                committing.set()
            up.write(chunk)
            await up.drain()
        up.close()

    async def _pump_down(
        self, up: asyncio.StreamReader, writer: asyncio.StreamWriter, committing: asyncio.Event
    ) -> None:
        while chunk := await up.read(65536):
            if committing.is_set():  # the server's "COMMIT" answer: committed, never told
                self.cuts += 1
                writer.transport.abort()
                return
            writer.write(chunk)
            await writer.drain()
        writer.close()


@pytest.fixture
async def cutter(database_url: str) -> AsyncIterator[tuple[AckCutter, str]]:
    proxy = AckCutter(database_url)
    port = await proxy.start()
    try:
        yield proxy, make_conninfo(database_url, host="127.0.0.1", port=port, sslmode="disable")
    finally:
        await proxy.close()


async def run_row(dsn: str, run_id: int) -> dict[str, Any]:
    async with (
        await psycopg.AsyncConnection.connect(dsn) as conn,
        conn.cursor(row_factory=dict_row) as cursor,
    ):
        await cursor.execute(
            "SELECT conversations_scanned, conversations_failed, messages_processed,"
            " numbers_found FROM frontscan.runs WHERE id = %s",
            (run_id,),
        )
        row = await cursor.fetchone()
        assert row is not None
        await cursor.execute("SELECT id, attempts FROM frontscan.conversations ORDER BY id")
        row["attempts"] = {r["id"]: r["attempts"] for r in await cursor.fetchall()}
        return row


async def test_a_batch_retried_after_its_lost_ack_counts_once(
    cutter: tuple[AckCutter, str], database_url: str
) -> None:
    proxy, dsn = cutter
    store = await Store.open(dsn)
    try:
        await store.migrate()
        run_id = await store.start_run(Window(after=1770000000.0), {})
        good = outcome("cnv_good", numbers=("1Z999AA10123456784", "1Z999AA10123456795"))
        bad = replace(outcome("cnv_bad", message="msg_2"), status="failed", error="503")
        bad = replace(bad, scanned_through=None, messages=(), numbers=())
        proxy.armed = True
        stored = await asyncio.wait_for(store.record([good, bad], run_id), 60)
        assert proxy.cuts == 1  # the server committed and the client was never told
        assert store.outages.count == 1  # `Outages` saw a lost connection and retried
    finally:
        await store.close()
    row = await run_row(database_url, run_id)
    assert row == {
        "conversations_scanned": 1,
        "conversations_failed": 1,
        "messages_processed": 1,
        "numbers_found": 2,
        "attempts": {"cnv_bad": 1, "cnv_good": 0},
    }
    assert stored == 2  # the retry reports what the first commit stored, not 0


async def test_finishing_the_run_drops_its_commit_keys(database_url: str) -> None:
    store = await Store.open(database_url)
    try:
        await store.migrate()
        run_id = await store.start_run(Window(after=1770000000.0), {})
        await store.record([outcome()], run_id)
        await store.record([outcome("cnv_2", message="msg_2")], None)
        await store.finish_run(run_id, "succeeded", RunStats(), 0.0, None)
    finally:
        await store.close()
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT run_id FROM frontscan.commit_keys")
        assert [r[0] for r in await cursor.fetchall()] == [None]  # a day's grace, no run
