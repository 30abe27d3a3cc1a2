"""Front's budget is the whole company's: frontscan must leave another integration room."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp
import pytest

from frontscan.simulator.runtime import running_simulator
from tests.scanning import END, START, fast_options, run_scan, settings_for, stored, truth_in_window


@pytest.mark.reliability  # about 2 min of Front windows at 60 rpm: `pytest -m reliability`
async def test_a_steady_neighbour_never_gets_a_429_while_frontscan_scans(
    database_url: str,
) -> None:
    """Another integration calls Front every 3 s all along; frontscan learns its share
    from x-ratelimit-remaining and leaves it that plus the reserve, window after window."""
    options = fast_options(70, front_rpm=60, latency_scale=0.2)
    async with running_simulator(options) as sim:
        statuses: list[int] = []
        done = asyncio.Event()

        async def neighbour() -> None:
            headers = {"Authorization": f"Bearer {sim.front_token}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                while not done.is_set():
                    async with http.get(f"{sim.front_url}/inboxes") as response:
                        statuses.append(response.status)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(done.wait(), 3.0)

        other = asyncio.create_task(neighbour())
        await asyncio.sleep(0.5)
        settings = settings_for(sim, database_url, source="search")
        try:
            result = await run_scan(settings, after=START.timestamp(), before=END.timestamp() + 1)
        finally:
            done.set()
            await other
        rows = set(await stored(database_url))
        expected = truth_in_window(sim, START.timestamp())
        ours_limited = sim.rate_limited()
    assert result.summary.status == "succeeded"
    assert rows == expected
    assert result.summary.wall_seconds > 60  # it really ran over several windows
    assert len(statuses) > 20
    assert set(statuses) == {200}, statuses  # the neighbour was never refused
    assert ours_limited <= 1
