"""PostgreSQL restarted, stopped and cut off mid-scan: the scan rides it out, exactly once.

Every test here runs a real `frontscan scan` process against the simulator and a
cluster of this module's own (`cluster`), and hurts that cluster while the scan runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import psycopg
import pytest

from frontscan.simulator.runtime import RunningSimulator, running_simulator
from tests.reliability.cli import FRONTSCAN
from tests.reliability.pg import Cluster
from tests.scanning import END, START, cli_env, fast_options, stored, truth_in_window

# Search, paced at 6 in flight: the scan outlasts the fault (the event stream reads this
# mailbox in a few calls and can finish before the database is even restarted).
SCAN = [FRONTSCAN, "--log-level", "INFO", "scan", "--after", "2026-01-01", "--before",
        "2026-03-02", "--concurrency", "6", "--batch-size", "5", "--json",
        "--source", "search"]  # fmt: skip


async def _start(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *SCAN,
        env=env,
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _committed(dsn: str) -> int:
    try:
        async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=2) as conn:
            cursor = await conn.execute("SELECT count(*) FROM frontscan.conversations")
            row = await cursor.fetchone()
            return int(row[0]) if row else 0
    except psycopg.Error:
        return 0


async def _after_some_commits(dsn: str, proc: asyncio.subprocess.Process, n: int = 10) -> None:
    """Wait until the scan has committed `n` conversations (and is still running)."""
    deadline = time.monotonic() + 60
    while await _committed(dsn) < n:
        assert proc.returncode is None, "the scan ended before the fault: make it slower"
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)


async def _runs(dsn: str) -> list[dict[str, object]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute(
            "SELECT status, conversations_scanned, conversations_failed, numbers_found"
            " FROM frontscan.runs ORDER BY id"
        )
        names = ("status", "scanned", "failed", "numbers")
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


def _exactly_once(sim: RunningSimulator, rows: list[tuple[str, str, str, str]]) -> None:
    assert len(rows) == len(set(rows))
    assert set(rows) == truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)


@pytest.mark.reliability(sample=True)
async def test_a_restart_mid_scan_is_ridden_out(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        proc = await _start(cli_env(sim, own_database, tmp_path), tmp_path)
        await _after_some_commits(own_database, proc)
        await asyncio.to_thread(cluster.restart)
        out, err = await proc.communicate()
        rows = await stored(own_database)
        _exactly_once(sim, rows)
    assert proc.returncode == 0, err.decode()
    summary = json.loads(out)
    outages = err.decode().count("ledger.outage")
    # A restart between two commits is bridged by the pool's checkout check and costs no
    # transaction; one that hits a commit is an outage. Either way summary and log agree.
    assert (summary["database_away_seconds"] > 0) == (outages > 0)
    assert "Traceback" not in err.decode()
    assert "pool-1" not in err.decode()
    assert outages <= 2
    runs = await _runs(own_database)
    assert [r["status"] for r in runs] == ["succeeded"]


@pytest.mark.reliability
async def test_a_stop_shorter_than_the_limit_is_ridden_out(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        proc = await _start(cli_env(sim, own_database, tmp_path), tmp_path)
        await _after_some_commits(own_database, proc)
        await asyncio.to_thread(cluster.stop)
        await asyncio.sleep(4)
        await asyncio.to_thread(cluster.start)
        out, err = await proc.communicate()
        rows = await stored(own_database)
        _exactly_once(sim, rows)
    assert proc.returncode == 0, err.decode()
    assert json.loads(out)["database_away_seconds"] >= 3


@pytest.mark.reliability
async def test_terminated_connections_are_replaced(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    """pg_terminate_backend on every session, the lock's included, three times over."""
    dbname = own_database.rpartition("dbname=")[2].split()[0]
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        proc = await _start(cli_env(sim, own_database, tmp_path), tmp_path)
        for n in (10, 30, 60):
            await _after_some_commits(own_database, proc, n)
            assert await asyncio.to_thread(cluster.terminate, dbname) >= 1
        _out, err = await proc.communicate()
        rows = await stored(own_database)
        _exactly_once(sim, rows)
    assert proc.returncode == 0, err.decode()
    assert "ledger.lock_retaken" in err.decode()


@pytest.mark.reliability(sample=True)
async def test_a_long_outage_stops_the_run_with_one_line_and_the_next_run_continues(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        env = {**cli_env(sim, own_database, tmp_path), "FRONTSCAN_DATABASE_OUTAGE_SECONDS": "3"}
        proc = await _start(env, tmp_path)
        await _after_some_commits(own_database, proc)
        await asyncio.to_thread(cluster.stop)
        try:
            _out, err = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            await asyncio.to_thread(cluster.start)
        text = err.decode()
        assert proc.returncode == 1, text
        frontscan_lines = [line for line in text.splitlines() if line.startswith("frontscan: ")]
        assert len(frontscan_lines) == 1, text
        assert "unreachable" in frontscan_lines[0]
        assert "Traceback" not in text
        again = await _start(env, tmp_path)
        _, err2 = await again.communicate()
        assert again.returncode == 0, err2.decode()
        _exactly_once(sim, await stored(own_database))
    statuses = [r["status"] for r in await _runs(own_database)]
    assert statuses[-1] == "succeeded"
    assert statuses[0] in ("failed", "interrupted")


@pytest.mark.reliability(sample=True)
async def test_after_a_restart_two_scans_never_commit_at_once(
    cluster: Cluster, own_database: str, tmp_path: Path
) -> None:
    """The first scan's lock dies with its session; a second scan takes it at once.

    The first must then stop before its next commit (exit 75), and the second finish.
    """
    dbname = own_database.rpartition("dbname=")[2].split()[0]
    async with running_simulator(fast_options(150, latency_scale=1.0)) as sim:
        env = cli_env(sim, own_database, tmp_path)
        first = await _start(env, tmp_path)
        await _after_some_commits(own_database, first)
        await asyncio.to_thread(cluster.terminate, dbname)
        second = await _start(env, tmp_path)
        _out1, err1 = await first.communicate()
        _out2, err2 = await second.communicate()
        rows = await stored(own_database)
        _exactly_once(sim, rows)
    assert first.returncode is not None
    assert second.returncode is not None
    codes = sorted([first.returncode, second.returncode])
    # Whichever took the lock first finishes; the other is refused (75) or stops (75).
    assert codes == [0, 75], (err1.decode(), err2.decode())
