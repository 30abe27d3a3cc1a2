"""The server's charges, learned from `x-ratelimit-remaining-*`; buckets re-synced both ways."""

from __future__ import annotations

import pytest

from frontscan.limits.bucket import Budget
from frontscan.limits.meter import WINDOW_CALLS, ServerMeter
from frontscan.limits.openai_budgets import OpenAIBudgets

LIMIT = 120_000.0


def test_the_drop_in_remaining_plus_the_refill_is_what_the_server_charged() -> None:
    meter = ServerMeter()
    assert meter.reading() is None  # no header yet: nothing known
    meter.sent(1000, 100)  # before the first reading: valued at the learned scale
    meter.seen(0.0, LIMIT - 700, LIMIT)
    at, remaining = 0.0, LIMIT - 700
    for _ in range(3 * WINDOW_CALLS):
        meter.sent(1000, 100)  # we estimated 1000 prompt tokens; the server counts 600
        at += 0.1
        remaining = remaining + LIMIT / 60 * 0.1 - 700
        meter.seen(at, remaining, LIMIT)
    reading = meter.reading()
    assert reading is not None
    assert reading.scale == pytest.approx(0.6)
    assert reading.charged == pytest.approx(700 * (3 * WINDOW_CALLS + 1))
    assert reading.free_at_start == pytest.approx(LIMIT)


def test_a_bucket_that_may_have_filled_up_teaches_nothing() -> None:
    meter = ServerMeter()
    meter.seen(0.0, LIMIT, LIMIT)
    for step in range(1, 3 * WINDOW_CALLS):
        meter.sent(1000, 100)
        meter.seen(step * 30.0, LIMIT - 150, LIMIT)  # idle at full: refills hide the charge
    reading = meter.reading()
    assert reading is not None
    assert reading.scale is None
    assert reading.charged == pytest.approx(1100 * (3 * WINDOW_CALLS - 1))  # at face value


def test_a_nonsense_header_is_ignored() -> None:
    meter = ServerMeter()
    meter.seen(0.0, float("nan"), LIMIT)
    meter.seen(0.0, 10.0, -1.0)
    assert meter.reading() is None


def headers(remaining_tokens: int, remaining_requests: int = 400) -> dict[str, str]:
    used = (LIMIT - remaining_tokens) / LIMIT * 60
    return {
        "x-ratelimit-limit-requests": "500",
        "x-ratelimit-remaining-requests": str(remaining_requests),
        "x-ratelimit-reset-requests": f"{(500 - remaining_requests) / 500 * 60:.3f}s",
        "x-ratelimit-limit-tokens": str(int(LIMIT)),
        "x-ratelimit-remaining-tokens": str(remaining_tokens),
        "x-ratelimit-reset-tokens": f"{used:.3f}s",
    }


async def test_a_server_with_room_to_spare_is_followed_up_and_then_down() -> None:
    budgets = OpenAIBudgets(500, int(LIMIT))
    capacity = budgets.tokens.capacity  # about one second's share: 2,000 tokens
    await budgets.acquire(1500)
    budgets.observe(headers(int(LIMIT) - 900))  # the server has far more left than we do
    assert budgets.tokens.stats.credited > 50 * capacity
    waited = 0.0
    for _ in range(20):  # twenty calls the local bucket alone would pace over ~15 s
        waited += await budgets.acquire(1500)
    assert waited < 0.5
    assert budgets.tokens.credit > 20 * capacity  # not all spent
    budgets.observe(headers(1000))  # now the server is nearly out: the credit is taken back
    assert budgets.tokens.credit <= 1000  # never more than the server has left
    budgets.observe(headers(0))  # and with nothing left, we hold back
    assert budgets.tokens.stats.held_back > 0


async def test_a_429_only_ever_holds_back() -> None:
    budgets = OpenAIBudgets(500, int(LIMIT))
    budgets.on_429("tokens", "Please try again in 1.2s.", headers(int(LIMIT) - 100))
    assert budgets.tokens.stats.credited == 0
    assert budgets.tokens.paused_for > 0


async def test_charges_follow_the_learned_scale_and_keep_the_whole_completion_budget() -> None:
    budgets = OpenAIBudgets(500, int(LIMIT))
    assert budgets.charge(1100, 100) == 1100  # nothing learned: the estimate as it is
    budgets.token_meter.scale = 0.5
    assert budgets.charge(1100, 100) == 500 + 100


async def test_credit_is_spent_before_the_local_bucket() -> None:
    budget = Budget(600, name="t")  # 10 a second, capacity 10
    for _ in range(10):
        await budget.acquire(1)
    budget.sync_remaining(100, 5.0, continuous=True, both_ways=True)
    waited = sum([await budget.acquire(1) for _ in range(50)])
    assert waited < 0.5  # 50 more at once: the server said it had room
    budget.sync_remaining(0, 30.0, continuous=True, both_ways=True)
    assert budget.stats.held_back > 0
