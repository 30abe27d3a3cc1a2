"""A stderr or stdout whose reader went away, or stopped reading, never holds up a scan."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from frontscan.simulator.runtime import running_simulator
from tests.reliability.cli import FRONTSCAN
from tests.scanning import END, START, cli_env, fast_options, stored, truth_in_window

SCAN = [FRONTSCAN, "--log-level", "DEBUG", "scan", "--after", "2026-01-01", "--before",
        "2026-03-02", "--concurrency", "6", "--batch-size", "5"]  # fmt: skip


async def _statuses(dsn: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT status FROM frontscan.runs ORDER BY id")
        return [row[0] for row in await cursor.fetchall()]


def _close_pipe(proc: asyncio.subprocess.Process, fd: int) -> None:
    """Close our read end of the child's pipe: its next write gets EPIPE."""
    transport = proc._transport  # type: ignore[attr-defined]  # asyncio's, no public handle
    transport.get_pipe_transport(fd).close()


@pytest.mark.reliability(sample=True)
async def test_a_closed_stderr_neither_stops_nor_hangs_the_scan(
    database_url: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(60, latency_scale=0.3)) as sim:
        proc = await asyncio.create_subprocess_exec(
            *SCAN,
            env=cli_env(sim, database_url, tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        await proc.stderr.readline()
        await proc.stderr.readline()
        _close_pipe(proc, 2)
        code = await asyncio.wait_for(proc.wait(), 120)
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)
    assert code == 0
    assert set(rows) == expected
    assert await _statuses(database_url) == ["succeeded"]


@pytest.mark.reliability(sample=True)
async def test_sigterm_ends_a_scan_whose_stderr_is_closed(
    database_url: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        proc = await asyncio.create_subprocess_exec(
            *SCAN,
            env=cli_env(sim, database_url, tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        await proc.stderr.readline()
        _close_pipe(proc, 2)
        await asyncio.sleep(3)
        assert proc.returncode is None
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.wait_for(proc.wait(), 60)
    assert code == 130
    assert time.monotonic() - started < 30
    assert await _statuses(database_url) == ["interrupted"]


@pytest.mark.reliability
async def test_a_stderr_reader_that_stops_reading_does_not_block(
    database_url: str, tmp_path: Path
) -> None:
    """The pipe is full before the scan starts and nobody drains it: the scan still ends."""
    read_end, write_end = os.pipe()
    size = fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    os.write(write_end, b"x" * size)  # full: any write by the scan would block
    try:
        async with running_simulator(fast_options(60, latency_scale=0.3)) as sim:
            proc = await asyncio.create_subprocess_exec(
                *SCAN,
                env=cli_env(sim, database_url, tmp_path),
                cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=write_end,
            )
            os.close(write_end)
            code = await asyncio.wait_for(proc.wait(), 120)
            rows = await stored(database_url)
            expected = truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)
        # The reader was there all along, never reading: not one byte more got in.
        assert os.read(read_end, 1 << 20) == b"x" * size
    finally:
        os.close(read_end)
    assert code == 0
    assert set(rows) == expected


@pytest.mark.reliability
async def test_a_closed_stdout_under_json_still_closes_the_run(
    database_url: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(40, latency_scale=0.3)) as sim:
        proc = await asyncio.create_subprocess_exec(
            *SCAN,
            "--json",
            env=cli_env(sim, database_url, tmp_path),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        _close_pipe(proc, 1)
        code = await asyncio.wait_for(proc.wait(), 120)
    assert code in (0, 1)  # 1: the summary could not be written, the reader was gone
    assert await _statuses(database_url) == ["succeeded"]
