"""Rate-limit budgets (frontscan.limits), on real aiolimiter and virtual asyncio time.

Every pacing test runs on `VirtualTimeLoop` (tests/virtual_time.py): the loop's clock,
which aiolimiter, `asyncio.sleep` and the budget all read, jumps to the next timer when
every task waits. Admission times are then exact, whatever else the machine is doing,
and the assertions are equalities instead of wall-clock windows.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from aiolimiter import AsyncLimiter

from frontscan.limits.bucket import Budget
from frontscan.limits.budgets import FrontBudgets, estimate_prompt_tokens
from frontscan.limits.openai_budgets import OpenAIBudgets
from tests.virtual_time import virtual_time


def loop_time() -> float:
    return asyncio.get_running_loop().time()


async def admit(budget: Budget, count: int, amount: float = 1.0) -> list[float]:
    """Acquire `count` times concurrently; return each admission time from the start."""
    start = loop_time()

    async def one() -> float:
        await budget.acquire(amount)
        return loop_time() - start

    return sorted(await asyncio.gather(*(one() for _ in range(count))))


def rate_of(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0])


# -- the virtual clock itself -------------------------------------------------------------


@virtual_time
async def test_virtual_clock_jumps_to_the_next_timer_exactly() -> None:
    start = loop_time()
    await asyncio.sleep(3600)
    assert loop_time() - start == 3600
    woke: list[float] = []
    asyncio.get_running_loop().call_later(0.25, lambda: woke.append(loop_time()))
    await asyncio.sleep(1)
    assert woke == [start + 3600.25]
    assert loop_time() == start + 3601


# -- Budget -------------------------------------------------------------------------------


@virtual_time
async def test_budget_bursts_one_seconds_share_then_paces() -> None:
    budget = Budget(12_000)  # 200/s
    assert budget.period == 1.0
    assert budget.capacity == pytest.approx(200)
    times = await admit(budget, 300)
    # leaky-bucket invariant: never more than capacity + rate * t admitted by time t
    for index, t in enumerate(times):
        assert index + 1 <= 200 + 200 * t + 1e-6
    assert sum(t == 0 for t in times) == 200  # the initial burst is really there
    assert times[200] == pytest.approx(1 / 200)
    assert rate_of(times[200:]) == pytest.approx(200)  # then R/60 per second
    assert times[-1] == pytest.approx(100 / 200)
    stats = budget.stats
    assert stats.acquired == 300
    assert stats.calls == 300
    assert stats.waited == pytest.approx(sum(times))


@virtual_time
async def test_low_rate_gets_a_period_that_fits_one_request() -> None:
    budget = Budget(50)  # 0.83/s: one second's share would be less than one request
    assert budget.capacity >= 1
    assert budget.period == pytest.approx(1.2)
    assert await budget.acquire() == 0
    assert await budget.acquire() == pytest.approx(1.2)  # then one per 1.2 s


@virtual_time
async def test_pause_holds_everyone_then_resumes_at_rate_without_herd() -> None:
    budget = Budget(6_000)  # 100/s, capacity 100
    start = loop_time()
    admitted: list[float] = []

    async def one() -> None:
        await budget.acquire()
        admitted.append(loop_time() - start)

    tasks = [asyncio.create_task(one()) for _ in range(150)]
    await asyncio.sleep(0.1)  # burst of 100 plus 10 paced admissions done, 40 queued
    assert len(admitted) == 110
    paused_at = loop_time() - start
    budget.pause(0.3)
    await asyncio.gather(*tasks)
    after = sorted(t for t in admitted if t > paused_at)
    assert len(after) == 40
    # every waiter waited out the pause, and the first came one step after it ended
    assert min(after) == pytest.approx(paused_at + 0.3 + 1 / 100)
    # no herd: they came back at the bucket rate, not all at once
    assert rate_of(after) == pytest.approx(100)
    assert budget.stats.pauses == 1
    assert budget.stats.paused_seconds == pytest.approx(0.3)


@virtual_time
async def test_new_acquirers_wait_out_a_pause_and_pauses_merge() -> None:
    budget = Budget(6_000)
    budget.pause(0.2)
    budget.pause(0.05)  # inside the longer pause: no effect
    assert budget.stats.pauses == 1
    assert budget.stats.paused_seconds == pytest.approx(0.2)
    times = await admit(budget, 20)
    assert times[0] == pytest.approx(0.2 + 1 / 100)
    assert rate_of(times) == pytest.approx(100)


@virtual_time
async def test_set_rate_changes_throughput_without_extra_burst() -> None:
    budget = Budget(6_000)  # 100/s
    await budget.acquire(100)  # bucket full
    budget.set_rate(3_000)  # 50/s: inherits a full bucket
    start = loop_time()
    times = await admit(budget, 25)
    assert loop_time() - start == pytest.approx(25 / 50)
    assert rate_of(times) == pytest.approx(50)
    budget.set_rate(12_000)  # 200/s, capacity 200, 50 carried over
    times = await admit(budget, 250)
    assert sum(t == 0 for t in times) == 150  # the carried level still counts
    assert rate_of(times[-100:]) == pytest.approx(200)
    assert budget.per_minute == 12_000


@virtual_time
async def test_fifo_big_charge_is_not_starved_by_small_ones() -> None:
    budget = Budget(120_000)  # 2000 tokens/s, capacity 2000
    await budget.acquire(2000)
    order: list[str] = []

    async def take(tag: str, amount: float) -> None:
        await budget.acquire(amount)
        order.append(tag)

    start = loop_time()
    early = [asyncio.create_task(take(f"s{i}", 20)) for i in range(5)]
    big = asyncio.create_task(take("big", 1000))
    stream = [asyncio.create_task(take(f"t{i}", 20)) for i in range(60)]
    await asyncio.wait_for(big, timeout=1.5)
    assert order[:6] == ["s0", "s1", "s2", "s3", "s4", "big"]
    assert loop_time() - start == pytest.approx((5 * 20 + 1000) / 2000)
    for task in early + stream:
        task.cancel()
    await asyncio.gather(*early, *stream, return_exceptions=True)


@virtual_time
async def test_raw_aiolimiter_would_starve_the_big_charge() -> None:
    """Why Budget queues on a lock: aiolimiter's waiter heap is ordered by amount."""
    limiter = AsyncLimiter(2000, 1)
    await limiter.acquire(2000)
    order: list[str] = []

    async def take(tag: str, amount: float) -> None:
        await limiter.acquire(amount)
        order.append(tag)

    tasks = [asyncio.create_task(take(f"s{i}", 20)) for i in range(5)]
    tasks.append(asyncio.create_task(take("big", 1000)))
    tasks += [asyncio.create_task(take(f"t{i}", 20)) for i in range(30)]
    await asyncio.gather(*tasks)
    assert order[-1] == "big"


@virtual_time
async def test_charge_larger_than_capacity_grows_the_period_or_is_clamped() -> None:
    budget = Budget(60_000)  # 1000/s, capacity 1000
    assert await budget.acquire(1500) == 0  # fits a minute: the period grows, no error
    assert budget.capacity >= 1500
    assert budget.period <= 60
    tiny = Budget(60)
    assert await tiny.acquire(100) == 0  # more than a minute's budget: clamped
    assert tiny.capacity == pytest.approx(60)
    assert tiny.stats.clamped == 1
    assert tiny.stats.acquired == pytest.approx(60)
    with pytest.raises(ValueError, match="amount"):
        await tiny.acquire(-1)
    with pytest.raises(ValueError, match="positive"):
        Budget(0)


@virtual_time
async def test_sync_remaining_holds_back_to_what_the_server_has_left() -> None:
    budget = Budget(6_000)  # we would admit 100 now plus 100/s
    held = budget.sync_remaining(10, 0.5)  # the server: only 10 more in the next 0.5 s
    assert held == pytest.approx(1.4)  # 140 too many at 100/s
    # the same window reported again does not double-count what is already held back
    assert budget.sync_remaining(10, 0.5) == pytest.approx(0.0)
    times = await admit(budget, 20)
    assert sum(t <= 0.5 + 1e-9 for t in times) == 10  # exactly what the server allowed
    assert rate_of(times) == pytest.approx(100)
    assert budget.stats.held_back == pytest.approx(140)


@virtual_time
async def test_sync_remaining_zero_pauses_until_reset_and_ignores_nonsense() -> None:
    budget = Budget(6_000)
    assert budget.sync_remaining(5000, 30) == 0.0  # more than 100 + 100/s * 30 s
    assert budget.sync_remaining(5, 3600) == 0.0  # not a per-minute window
    assert budget.sync_remaining(5, -1) == 0.0
    assert budget.sync_remaining(float("nan"), 1) == 0.0
    assert budget.stats.pauses == 0
    budget.sync_remaining(0, 2.0)
    assert budget.paused_for == pytest.approx(2.0)
    assert budget.stats.pauses == 1


def test_sync_remaining_continuous_only_counts_free_capacity() -> None:
    budget = Budget(6_000)
    assert budget.sync_remaining(150, 59, continuous=True) == 0.0  # more than our burst
    assert budget.sync_remaining(40, 59, continuous=True) == pytest.approx(0.6)


# -- Front --------------------------------------------------------------------------------


def front_headers(limit: float, remaining: float, reset_in: float = 30.0) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(int(time.time() + reset_in)),
    }


def test_front_learns_the_limit_from_headers() -> None:
    budgets = FrontBudgets(0, 0.1)
    assert budgets.company.per_minute == pytest.approx(45)  # Starter plan, less headroom
    assert budgets.search.per_minute == pytest.approx(18)
    budgets.observe(front_headers(200, 199))
    assert budgets.company.per_minute == pytest.approx(180)
    assert budgets.search.per_minute == pytest.approx(72)
    assert budgets.limit == 200
    budgets.observe(front_headers(100, 99))  # learning follows the server down too
    assert budgets.company.per_minute == pytest.approx(90)
    # a search response may report the search limit: never learned from
    budgets.observe(front_headers(40, 39), kind="search")
    assert budgets.company.per_minute == pytest.approx(90)


def test_front_configured_rpm_is_tightened_never_loosened() -> None:
    budgets = FrontBudgets(100, 0.1)
    assert budgets.company.per_minute == pytest.approx(90)
    assert budgets.search.per_minute == pytest.approx(36)
    budgets.observe(front_headers(200, 150))
    assert budgets.company.per_minute == pytest.approx(90)
    budgets.observe({"x-ratelimit-limit": "50"})
    assert budgets.company.per_minute == pytest.approx(45)
    assert budgets.search.per_minute == pytest.approx(18)


@virtual_time
async def test_front_search_runs_at_40_percent() -> None:
    budgets = FrontBudgets(15_000, 0.0)  # company 250/s, search 100/s
    start = loop_time()
    await asyncio.gather(*(budgets.acquire_call("search") for _ in range(150)))
    assert loop_time() - start == pytest.approx(50 / 100)  # 100 burst + 50 at 100/s
    start = loop_time()
    await asyncio.gather(*(budgets.acquire_call("other") for _ in range(80)))
    assert loop_time() == start  # the company budget was never the limit
    assert budgets.search.stats.acquired == 150
    assert budgets.company.stats.acquired == 230


@virtual_time
async def test_front_observe_resyncs_from_remaining() -> None:
    budgets = FrontBudgets(6_000, 0.0)
    # x-ratelimit-reset is an epoch time, read against the wall clock: the pause is 0.3 s
    # less the microseconds between writing the header and reading it
    budgets.observe({"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(time.time() + 0.3)})
    paused = budgets.company.paused_for
    assert paused == pytest.approx(0.3, abs=0.05)
    waited = await budgets.acquire_call("other")
    assert waited == pytest.approx(paused + 1 / 100)  # the pause, then the bucket rate


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({"Retry-After": "2.5"}, "Please retry in 1500 milliseconds.", 2.5),
        ({}, "Rate limit exceeded for tier-2 route. Please retry in 1500 milliseconds.", 1.5),
        ({"X-RateLimit-Reset": "RESET+3"}, "", 3.0),
        ({"Retry-After": "0.1"}, "", 0.5),  # never sooner than 0.5 s
        ({"Retry-After": "0"}, "retry in 20 milliseconds", 0.5),
    ],
)
@virtual_time
async def test_front_429_delay_sources_in_priority_order(
    headers: dict[str, str], body: str, expected: float
) -> None:
    headers = {k: (str(time.time() + 3) if v == "RESET+3" else v) for k, v in headers.items()} | {
        "x-ratelimit-remaining": "0"
    }
    budgets = FrontBudgets(100)
    delay = budgets.on_429(headers, body)
    assert delay == pytest.approx(expected, abs=0.05)  # RESET+3 is read by the wall clock
    assert budgets.company.paused_for == delay
    assert budgets.company.stats.pauses == 1


@virtual_time
async def test_front_429_without_hints_backs_off_and_grows() -> None:
    budgets = FrontBudgets(100)
    first = budgets.on_429({}, "")  # remaining absent: the company budget pauses
    second = budgets.on_429({}, "")
    assert first == 0.5
    assert 0.5 <= second <= 1.0
    assert budgets.company.paused_for == max(first, second)


@virtual_time
async def test_front_tier_429_does_not_pause_everyone() -> None:
    budgets = FrontBudgets(100)
    delay = budgets.on_429(
        {"Retry-After": "1", "X-Front-Tier": "2", "X-RateLimit-Remaining": "40"},
        "Rate limit exceeded for tier-2 route. Please retry in 341 milliseconds.",
    )
    assert delay == 1.0
    assert budgets.company.paused_for == 0
    assert budgets.search.paused_for == 0
    assert budgets.company.stats.pauses == 0
    assert budgets.search.stats.pauses == 0


@virtual_time
async def test_front_search_429_with_company_budget_left_pauses_search_only() -> None:
    budgets = FrontBudgets(100)
    budgets.on_429({"retry-after": "2", "x-ratelimit-remaining": "30"}, "", kind="search")
    assert budgets.search.paused_for == 2
    assert budgets.company.paused_for == 0


# -- OpenAI -------------------------------------------------------------------------------


def test_estimate_prompt_tokens() -> None:
    assert estimate_prompt_tokens([]) == 3
    assert estimate_prompt_tokens(["hello"]) == 2 + 4 + 3
    assert estimate_prompt_tokens(["\u00e9"]) == 1 + 4 + 3  # 2 UTF-8 bytes
    assert estimate_prompt_tokens(["x" * 1000, "y" * 11]) == 400 + 4 + 5 + 4 + 3
    with pytest.raises(TypeError):
        estimate_prompt_tokens("a whole string")


def test_openai_observe_tightens_but_never_loosens() -> None:
    budgets = OpenAIBudgets(500, 200_000)
    budgets.observe(
        {
            "x-ratelimit-limit-requests": "300",
            "x-ratelimit-remaining-requests": "299",
            "x-ratelimit-reset-requests": "200ms",
            "x-ratelimit-limit-tokens": "150000",
            "x-ratelimit-remaining-tokens": "149000",
            "x-ratelimit-reset-tokens": "400ms",
        }
    )
    assert budgets.requests.per_minute == 300
    assert budgets.tokens.per_minute == 150_000
    budgets.observe(
        {
            "X-RateLimit-Limit-Requests": "1000",
            "X-RateLimit-Remaining-Requests": "999",
            "X-RateLimit-Reset-Requests": "60ms",
        }
    )
    assert budgets.requests.per_minute == 300  # never loosened


@pytest.mark.parametrize(
    ("limit", "remaining", "reset"),
    [
        ("200", "195", "46.001s"),  # a 10,000-RPD-style bucket: far too slow to be RPM
        ("100", "95", "1h12m"),
        ("100", "100", "0s"),  # a full bucket says nothing about its window
        ("-1", "-1", "0s"),  # Azure's "no data"
    ],
)
def test_openai_observe_ignores_limits_that_do_not_look_per_minute(
    limit: str, remaining: str, reset: str
) -> None:
    budgets = OpenAIBudgets(500, 200_000)
    budgets.observe(
        {
            "x-ratelimit-limit-requests": limit,
            "x-ratelimit-remaining-requests": remaining,
            "x-ratelimit-reset-requests": reset,
        }
    )
    assert budgets.requests.per_minute == 500


def test_openai_observe_resyncs_remaining_tokens() -> None:
    budgets = OpenAIBudgets(6_000, 6_000_000)  # 100k tokens/s, capacity 100k
    budgets.observe(
        {
            "x-ratelimit-limit-tokens": "6000000",
            "x-ratelimit-remaining-tokens": "200000",
            "x-ratelimit-reset-tokens": "58s",
        }
    )
    # 200k left, less the 2% margin for calls sent since (120k): 80k of our 100k stay
    assert budgets.tokens.stats.held_back == pytest.approx(20_000)
    assert budgets.tokens.per_minute == 6_000_000


@virtual_time
async def test_openai_429_uses_the_message_and_pauses_the_named_budget() -> None:
    budgets = OpenAIBudgets(500, 6_000_000)
    message = (
        "Rate limit reached for gpt-4o-mini in organization org-x on tokens per min (TPM): "
        "Limit 200000, Used 162960, Requested 42288. Please try again in 1.574s. Visit "
        "https://platform.openai.com/account/rate-limits to learn more."
    )
    delay = budgets.on_429("tokens", message, {"retry-after": "9"})
    assert delay == pytest.approx(1.574)
    assert budgets.tokens.paused_for == delay
    assert budgets.requests.paused_for == 0
    assert budgets.tokens.per_minute == 200_000  # "per min (TPM): Limit N" tightens


@pytest.mark.parametrize(
    ("kind", "message", "headers", "expected"),
    [
        ("requests", "Rate limit reached", {"retry-after-ms": "1500", "retry-after": "2"}, 1.5),
        ("requests", "Rate limit reached", {"Retry-After": "2"}, 2.0),
        ("tokens", "Rate limit reached", {"x-ratelimit-reset-tokens": "3.5s"}, 3.5),
        ("requests", "Please try again in 12ms.", {}, 0.25),  # floor
    ],
)
@virtual_time
async def test_openai_429_delay_sources(
    kind: str, message: str, headers: dict[str, str], expected: float
) -> None:
    budgets = OpenAIBudgets(500, 200_000)
    delay = budgets.on_429(kind, message, headers)
    assert delay == pytest.approx(expected)
    paused, idle = (
        (budgets.requests, budgets.tokens)
        if kind == "requests"
        else (budgets.tokens, budgets.requests)
    )
    assert paused.paused_for == delay
    assert idle.paused_for == 0


@virtual_time
async def test_openai_429_unknown_kind_pauses_both_with_backoff() -> None:
    budgets = OpenAIBudgets(500, 200_000)
    delay = budgets.on_429("", "Too Many Requests", {})
    assert 0.25 <= delay <= 0.5
    assert budgets.requests.paused_for == delay
    assert budgets.tokens.paused_for == delay


@virtual_time
async def test_openai_reconcile_only_scales_charges_up() -> None:
    budgets = OpenAIBudgets(6_000, 600_000)
    budgets.reconcile(1000, 400)  # unused completion allowance: no reason to charge less
    assert budgets.correction == 1.0
    budgets.reconcile(1000, 1500)  # usage beyond the charge: the estimate was low
    assert budgets.correction == 1.5
    await budgets.acquire(100)
    assert budgets.tokens.stats.acquired == 150
    assert budgets.requests.stats.acquired == 1
