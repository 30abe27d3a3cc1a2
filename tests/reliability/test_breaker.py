"""The outage breaker: streaks across conversations pause an API, then stop the run."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg
import pytest

from frontscan.breaker import OutageBreaker
from frontscan.errors import ApiDownError, TransientError
from frontscan.ledger.store import Store
from frontscan.pipeline import Pipeline
from frontscan.simulator.runtime import running_simulator
from tests.fakes import FakeExtractor, FakeReporter, FakeSource, plan, ref, settle
from tests.reliability.cli import frontscan
from tests.scanning import cli_env, fast_options

DOWN = TransientError("OpenAI: APIConnectionError", outage="openai")
FRONT_DOWN = TransientError("Front GET /conversations/cnv_1/messages: 503", outage="front")
HOLD = 30.0
WAIT = 10.0  # only so a broken breaker fails the test instead of hanging it


class Sleeps:
    """The breaker's clock: pauses return at once; the hold, if `hold_forever`, never ends
    (so only an event can decide a held failure)."""

    def __init__(self, *, hold_forever: bool = False) -> None:
        self.slept: list[float] = []
        self._hold_forever = hold_forever

    async def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self._hold_forever and seconds == HOLD:
            await asyncio.Event().wait()
        await asyncio.sleep(0)  # a real pause lets the other workers run


async def test_isolated_failures_fail_as_usual() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=3, sleep=sleeps)
    assert not await breaker.failed("c1", DOWN)
    breaker.ok("openai")
    assert not await breaker.failed("c2", DOWN)
    assert not await breaker.failed("c3", TransientError("OpenAI: 429"))  # no outage kind
    assert not await breaker.failed("c2", DOWN)  # the same conversation again
    assert sleeps.slept == [HOLD, HOLD, HOLD]  # each held for a verdict that never came


async def test_a_streak_pauses_with_backoff_then_stops() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=3, first_pause=2.0, max_pauses=3, sleep=sleeps)
    assert not await breaker.failed("c1", DOWN)
    assert not await breaker.failed("c2", DOWN)
    assert await breaker.failed("c3", DOWN)  # the third in a row: paused, try again
    assert await breaker.failed("c3", DOWN)
    assert await breaker.failed("c1", DOWN)
    assert sleeps.slept == [HOLD, HOLD, 2.0, 4.0, 8.0]
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
    assert sleeps.slept == [HOLD, 2.0, HOLD]


async def test_waiters_share_one_pause() -> None:
    sleeps = Sleeps()
    breaker = OutageBreaker(streak=2, sleep=sleeps)
    await breaker.failed("c1", DOWN)
    results = await asyncio.gather(*(breaker.failed(f"c{i}", DOWN) for i in range(2, 8)))
    assert all(results)
    assert sleeps.slept == [HOLD, 2.0]


async def test_the_failures_that_start_a_streak_are_held_until_it_is_an_outage() -> None:
    sleeps = Sleeps(hold_forever=True)
    breaker = OutageBreaker(streak=3, sleep=sleeps)
    first = asyncio.create_task(breaker.failed("c1", DOWN))
    second = asyncio.create_task(breaker.failed("c2", DOWN))
    await settle()
    assert not first.done()
    assert not second.done()
    assert await breaker.failed("c3", DOWN)
    assert await first
    assert await second
    assert sleeps.slept == [HOLD, HOLD, 2.0]


async def test_a_success_makes_the_held_failure_an_isolated_one() -> None:
    breaker = OutageBreaker(streak=3, sleep=Sleeps(hold_forever=True))
    held = asyncio.create_task(breaker.failed("c1", DOWN))
    await settle()
    breaker.ok("front")  # another API: no verdict on OpenAI's streak
    await settle()
    assert not held.done()
    breaker.ok("openai")
    assert not await asyncio.wait_for(held, WAIT)


async def test_a_held_failure_fails_when_no_worker_is_left_to_decide() -> None:
    breaker = OutageBreaker(streak=3, workers=3, sleep=Sleeps(hold_forever=True))
    held = asyncio.create_task(breaker.failed("c1", DOWN))
    await settle()
    breaker.worker_done()
    await settle()
    assert not held.done()  # one worker is still taking conversations
    breaker.worker_done()
    assert not await asyncio.wait_for(held, WAIT)
    released = OutageBreaker(streak=3, sleep=Sleeps(hold_forever=True))
    stopping = asyncio.create_task(released.failed("c1", DOWN))
    await settle()
    released.release()  # the run stops: the failure is recorded, not waited on
    assert not await asyncio.wait_for(stopping, WAIT)


async def attempts(database_url: str) -> dict[str, tuple[str, int]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute("SELECT id, status, attempts FROM frontscan.conversations")
        return {row[0]: (row[1], row[2]) for row in await cursor.fetchall()}


def scan(source: FakeSource, store: Store, sleeps: Sleeps, *, concurrency: int) -> Pipeline:
    config = plan(concurrency=concurrency, batch_size=5)
    breaker = OutageBreaker(max_pauses=2, workers=concurrency, sleep=sleeps)
    return Pipeline(config, source, FakeExtractor(), store, FakeReporter(), breaker=breaker)


@pytest.mark.parametrize("concurrency", [4, 2])
async def test_an_outage_from_the_first_conversation_costs_no_attempts(
    store: Store, database_url: str, concurrency: int
) -> None:
    source = FakeSource([ref(i) for i in range(12)])
    for conversation in source.refs:
        source.errors[conversation.id] = FRONT_DOWN
    sleeps = Sleeps(hold_forever=True)
    with pytest.raises(ApiDownError, match="Front looks down"):
        await asyncio.wait_for(scan(source, store, sleeps, concurrency=concurrency).run(), WAIT)
    # The streak's first conversations were held, not failed: nothing charged anywhere.
    assert await attempts(database_url) == {}
    assert sleeps.slept.count(2.0) == 1
    assert sleeps.slept.count(4.0) == 1


async def test_an_isolated_failure_is_still_charged_once_a_success_decides(
    store: Store, database_url: str
) -> None:
    source = FakeSource([ref(i) for i in range(6)])
    source.errors["cnv_1"] = FRONT_DOWN
    sleeps = Sleeps(hold_forever=True)
    stats = await asyncio.wait_for(scan(source, store, sleeps, concurrency=2).run(), WAIT)
    recorded = await attempts(database_url)
    assert recorded.pop("cnv_1") == ("failed", 1)
    assert set(recorded.values()) == {("done", 0)}
    assert len(recorded) == 5
    assert (stats.conversations_scanned, stats.conversations_failed) == (5, 1)
    assert 2.0 not in sleeps.slept  # no pause: one failure is no outage


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
    assert failed == 0  # the streak's first ones were held until it proved an outage
