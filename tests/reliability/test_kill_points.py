"""SIGKILL anywhere: while listing, during model calls, in the middle of commits.

Each kill point is a delay after the scan starts, spread from its first search page to
its last commits; after every kill the next scan closes the dead run as `interrupted`
and continues. At the end every number is stored exactly once, no committed
conversation was processed twice, and each killed run's row counts what it committed.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import psycopg
import pytest

from frontscan.simulator.runtime import running_simulator
from tests.reliability.cli import FRONTSCAN
from tests.scanning import END, START, cli_env, fast_options, stored, truth_in_window

SCAN = [FRONTSCAN, "scan", "--after", "2026-01-01", "--before", "2026-03-02",
        "--concurrency", "8", "--batch-size", "5", "--llm", "always"]  # fmt: skip
# Seconds after start: the first are in start-up and the first listing, the middle ones in
# model calls and commits, the last ones near the end of the run.
ALL_POINTS = [0.6, 0.9, 1.2, 1.5, 1.8, 2.1, 2.4, 2.7, 3.0, 3.3,
              3.6, 3.9, 4.2, 4.6, 5.0, 5.5, 6.0, 6.5, 7.0, 8.0, 9.0]  # fmt: skip
SAMPLE_POINTS = [1.2, 2.7, 4.2]


async def _kill_at(points: list[float], dsn: str, tmp_path: Path) -> None:
    async with running_simulator(fast_options(200, latency_scale=1.0)) as sim:
        env = cli_env(sim, dsn, tmp_path)
        kills = 0
        for delay in points:
            proc = await asyncio.create_subprocess_exec(
                *SCAN, env=env, cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            await asyncio.sleep(delay)
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            await proc.wait()
        final = await asyncio.create_subprocess_exec(
            *SCAN, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await final.communicate()
        rows = await stored(dsn)
        expected = truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)
    assert final.returncode == 0, err.decode()
    assert kills >= len(points) - 2, "the runs ended before they were killed"
    assert len(rows) == len(set(rows))
    assert set(rows) == expected
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT attempts FROM frontscan.messages")
        assert {row[0] for row in await cursor.fetchall()} == {1}
        cursor = await conn.execute(
            "SELECT r.id, r.status, r.conversations_scanned + r.conversations_failed,"
            " (SELECT count(*) FROM frontscan.conversations c WHERE c.last_run_id = r.id)"
            " FROM frontscan.runs r ORDER BY r.id"
        )
        runs = await cursor.fetchall()
    assert runs[-1][1] == "succeeded"
    # A process killed before it wrote its run row leaves none, and one whose run ended
    # before its kill point (little left to do), or just before the kill, succeeded.
    interrupted = [run for run in runs[:-1] if run[1] == "interrupted"]
    assert 0 < len(interrupted) <= kills
    for run_id, status, counted, committed in runs[:-1]:
        assert status in ("interrupted", "succeeded"), (run_id, status)
        assert counted == committed, (run_id, counted, committed)


@pytest.mark.reliability(sample=True)
async def test_sigkill_at_a_sample_of_points(database_url: str, tmp_path: Path) -> None:
    await _kill_at(SAMPLE_POINTS, database_url, tmp_path)


@pytest.mark.reliability
async def test_sigkill_at_twenty_one_points(database_url: str, tmp_path: Path) -> None:
    await _kill_at(ALL_POINTS, database_url, tmp_path)
