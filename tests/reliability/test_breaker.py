"""The outage breaker: streaks across conversations pause an API, then stop the run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from frontscan.breaker import OutageBreaker
from frontscan.errors import ApiDownError, TransientError
from frontscan.simulator.runtime import running_simulator
from tests.reliability.cli import frontscan
from tests.scanning import cli_env, fast_options

DOWN = TransientError("OpenAI: APIConnectionError", outage="openai")


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        await asyncio.sleep(0)  # a real pause lets the other workers run


async def test_isolated_failures_fail_as_usual() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=3, sleep=sleeps)
    assert not await breaker.failed("c1", DOWN)
    breaker.ok("openai")
    assert not await breaker.failed("c2", DOWN)
    assert not await breaker.failed("c3", TransientError("OpenAI: 429"))  # no outage kind
    assert not await breaker.failed("c2", DOWN)  # the same conversation again
    assert sleeps.slept == []


async def test_a_streak_pauses_with_backoff_then_stops() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=3, first_pause=2.0, max_pauses=3, sleep=sleeps)
    assert not await breaker.failed("c1", DOWN)
    assert not await breaker.failed("c2", DOWN)
    assert await breaker.failed("c3", DOWN)  # the third in a row: paused, try again
    assert await breaker.failed("c3", DOWN)
    assert await breaker.failed("c1", DOWN)
    assert sleeps.slept == [2.0, 4.0, 8.0]
    with pytest.raises(ApiDownError) as caught:
        await breaker.failed("c2", DOWN)
    assert "OpenAI looks down" in str(caught.value)
    assert "keep their attempts" in str(caught.value)


async def test_a_success_closes_the_breaker() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=2, sleep=sleeps)
    assert not await breaker.failed("c1", DOWN)
    assert await breaker.failed("c2", DOWN)
    breaker.ok("openai")
    assert not await breaker.failed("c3", DOWN)
    assert sleeps.slept == [2.0]


async def test_waiters_share_one_pause() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=2, sleep=sleeps)
    await breaker.failed("c1", DOWN)
    results = await asyncio.gather(*(breaker.failed(f"c{i}", DOWN) for i in range(2, 8)))
    assert all(results)
    assert sleeps.slept == [2.0]


@pytest.mark.reliability
async def test_openai_down_stops_the_run_and_costs_no_attempts(
    database_url: str, tmp_path: Path
) -> None:
    async with running_simulator(fast_options(60)) as sim:
        env = cli_env(sim, database_url, tmp_path)
        env["OPENAI_BASE_URL"] = "http://127.0.0.1:9/v1"  # the discard port: refused
        args = ["scan", "--after", "2026-01-01", "--before", "2026-03-02", "--llm", "always"]
        ran = await frontscan(*args, env=env, cwd=tmp_path, limit=300)
    assert ran.code == 1, ran.err
    last = ran.err.strip().splitlines()[-1]
    assert last.startswith("frontscan: OpenAI looks down"), last
    assert "Traceback" not in ran.err
    assert "breaker.pause" not in ran.err or ran.err.count("looks down") >= 1
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FILTER (WHERE attempts > 1), count(*) FILTER (WHERE status = 'failed')"
            " FROM frontscan.conversations"
        )
        row = await cursor.fetchone()
    assert row is not None
    over_one, failed = row
    assert over_one == 0
    assert failed <= 2  # the streak's first two, before the breaker knew
