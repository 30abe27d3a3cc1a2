"""Nothing lost, nothing duplicated: SIGKILL at random points, 429 storms, 5xx, shared limits."""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sys
from pathlib import Path

import aiohttp
import psycopg
import pytest

from frontscan.simulator.runtime import running_simulator
from tests.scanning import (
    END,
    START,
    cli_env,
    fast_options,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)

FRONTSCAN = str(Path(sys.executable).parent / "frontscan")
# Small batches at low concurrency: a run lasts long enough to be killed in the middle.
SLOW_SCAN = [FRONTSCAN, "scan", "--after", "2026-01-01", "--before", "2026-03-02",
             "--concurrency", "8", "--batch-size", "5"]  # fmt: skip


async def message_attempts(dsn: str) -> list[int]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        cursor = await conn.execute("SELECT attempts FROM frontscan.messages")
        return [row[0] for row in await cursor.fetchall()]


@pytest.mark.reliability  # 90 s; the default run's SIGKILL sample is tests/reliability
@pytest.mark.parametrize("source", ["search", "events"])
async def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    database_url: str, tmp_path: Path, source: str
) -> None:
    rng = random.Random(20261128)
    # The event stream needs a twentieth of the Front calls: more mail, so it lasts as long.
    options = fast_options(150 if source == "search" else 400, latency_scale=1.0)
    async with running_simulator(options) as sim:
        env = cli_env(sim, database_url, tmp_path)
        args = [*SLOW_SCAN, "--source", source]
        kills = 0
        for _ in range(3):
            proc = await asyncio.create_subprocess_exec(
                *args,
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(rng.uniform(1.5, 4.0))
            if proc.returncode is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            await proc.wait()
        final = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await final.communicate()
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)
    assert kills >= 2, "the runs ended before they could be killed: make the mailbox larger"
    assert final.returncode == 0, err.decode()
    assert len(rows) == len(set(rows))
    assert set(rows) == expected
    # A conversation committed before a kill was never processed again.
    assert set(await message_attempts(database_url)) == {1}
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT status FROM frontscan.runs ORDER BY id")
        statuses = [row[0] for row in await cursor.fetchall()]
    assert statuses[-1] == "succeeded"
    assert "running" not in statuses  # killed runs are closed as interrupted by the next one


async def test_a_429_storm_and_server_faults_slow_it_down_but_lose_nothing(
    database_url: str,
) -> None:
    options = fast_options(60, extra_429_rate=0.15, fault_rate=0.08)
    async with running_simulator(options) as sim:
        settings = settings_for(sim, database_url)
        first = await run_scan(settings, after=START.timestamp(), before=END.timestamp() + 1)
        second = await run_scan(settings, after=START.timestamp(), before=END.timestamp() + 1)
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp())
        stats = sim.stats()
    assert first.summary.stats.rate_limited > 0
    assert sum(stats["front"]["faults"].values()) + sum(stats["openai"]["faults"].values()) > 0
    # Whatever failed in the storm was recorded as failed and picked up by the next run.
    assert second.summary.stats.conversations_scanned == first.summary.stats.conversations_failed
    assert len(rows) == len(set(rows))
    assert set(rows) == expected


@pytest.mark.reliability  # 90 s of rate windows; CI's run stays under its 15 minutes
async def test_under_binding_limits_shared_with_another_integration_429s_stay_rare(
    database_url: str,
) -> None:
    """Another integration burns most of Front's minute; frontscan must notice and wait."""
    options = fast_options(30, front_rpm=120, openai_rpm=60, openai_tpm=200_000, latency_scale=0.2)
    async with running_simulator(options) as sim:
        headers = {"Authorization": f"Bearer {sim.front_token}"}
        async with aiohttp.ClientSession() as other:
            for _ in range(90):  # 75% of this minute's budget, before frontscan starts
                async with other.get(f"{sim.front_url}/me", headers=headers) as response:
                    assert response.status == 200
        settings = settings_for(sim, database_url, openai_rpm=60, openai_tpm=200_000)
        result = await run_scan(
            settings, after=START.timestamp(), before=END.timestamp() + 1, slice_days=30
        )
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp())
        stats = sim.stats()
        limited = sim.rate_limited()
    ours = stats["front"]["total_requests"] - 90 + stats["openai"]["total_requests"]
    assert result.summary.status == "succeeded"
    assert set(rows) == expected
    assert limited <= 0.02 * ours, (limited, ours)
    # It really was bound: the other's 90 and frontscan's Front calls do not fit in one
    # 120-per-minute window, so frontscan had to wait for the next one.
    assert stats["front"]["total_requests"] > 120
    assert result.summary.wall_seconds > 20


async def _read_until(stream: asyncio.StreamReader, marker: bytes) -> bytes:
    """Lines of `stream` up to and including the first that holds `marker` (at most 60 s)."""
    seen = b""
    async with asyncio.timeout(60):
        while marker not in seen:
            line = await stream.readline()
            if not line:
                break
            seen += line
    return seen


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_ctrl_c_and_sigterm_drain_then_exit_130(
    database_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    async with running_simulator(fast_options(80, latency_scale=1.0)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        args = [*SLOW_SCAN, "--json"]
        proc = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        # Signal once the first batch is committed: the handlers are installed by then, and
        # a wall-clock sleep is too early on a loaded machine.
        assert proc.stderr is not None
        seen = await _read_until(proc.stderr, b"batch ")
        proc.send_signal(signum)
        out, rest = await proc.communicate()
        err = seen + rest
        interrupted = json.loads(out)
        partial = set(await stored(database_url))
        again = await asyncio.create_subprocess_exec(
            *args,
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out_again, _ = await again.communicate()
        rows = await stored(database_url)
        expected = truth_in_window(sim, START.timestamp(), END.timestamp() + 86_400)
    assert proc.returncode == 130, err.decode()
    assert "stopping: finishing in-flight conversations" in err.decode()
    assert "frontscan: interrupted" in err.decode()
    assert interrupted["status"] == "interrupted"
    assert 0 < interrupted["conversations_scanned"] < 80
    assert partial < expected  # what was committed is true, and some is left for later
    assert again.returncode == 0
    assert (
        json.loads(out_again)["conversations_scanned"] == 80 - interrupted["conversations_scanned"]
    )
    assert set(rows) == expected
    assert len(rows) == len(set(rows))
