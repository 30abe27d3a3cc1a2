"""A model that is wrong on every answer: invented numbers, wrong carriers, malformed JSON,
refusals and answers cut off at the length limit. Nothing it invents is stored."""

from __future__ import annotations

import pytest

from frontscan.simulator.runtime import running_simulator
from tests.scanning import (
    START,
    fast_options,
    run_scan,
    settings_for,
    stored,
    truth_in_window,
)


@pytest.mark.reliability(sample=True)
async def test_a_model_wrong_every_time_stores_only_true_numbers(database_url: str) -> None:
    async with running_simulator(fast_options(80, mistake_rate=1.0)) as sim:
        settings = settings_for(sim, database_url, llm="always")
        result = await run_scan(settings, after=START.timestamp())
        rows = await stored(database_url)
        truth = truth_in_window(sim, START.timestamp())
        mistakes = sim.stats()["openai"]["mistakes"]
    assert set(rows) <= truth, sorted(set(rows) - truth)
    assert len(rows) == len(set(rows))
    stats = result.summary.stats
    assert stats.llm_dropped > 0  # numbers not in the text, caught by validation
    assert {"invented", "malformed", "refusal", "truncated"} <= set(mistakes)
    # A malformed, refused or cut-off answer fails its conversation (retried next run);
    # every other conversation is recorded as done.
    assert stats.conversations_scanned + stats.conversations_failed == stats.conversations_seen
