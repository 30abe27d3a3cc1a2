"""frontscan's share of Front's company budget, learned window by window from the headers."""

from __future__ import annotations

import time

import pytest

from frontscan.limits.budgets import FrontBudgets
from frontscan.limits.share import CompanyShare

RESET = 1_767_225_660.0


def test_before_a_whole_window_it_runs_at_the_cautious_start() -> None:
    share = CompanyShare(reserve=0.05, headroom=0.1)
    view = share.observe(limit=120, remaining=119, reset=RESET)
    assert view.per_minute == 108
    assert view.others is None
    assert view.spendable == 119 - 6  # the last 5% of a window is never ours


def test_after_a_window_it_leaves_others_what_they_used_plus_the_reserve() -> None:
    share = CompanyShare(reserve=0.05)
    for used in range(1, 41):  # 40 of ours; the server counts 70 used: others took 30
        share.observe(limit=120, remaining=120 - used - min(30, used), reset=RESET)
    view = share.observe(limit=120, remaining=119, reset=RESET + 60)
    assert view.others == 30
    assert view.per_minute == 120 - 30 - 6
    # Replies of ours that arrive late still count against their own window.
    share.observe(limit=120, remaining=50, reset=RESET + 0.7)
    assert share.per_minute(120) == 120 - 29 - 6


def test_when_others_go_quiet_frontscan_takes_their_share_back() -> None:
    share = CompanyShare(reserve=0.05)
    share.observe(limit=100, remaining=40, reset=RESET)  # others used 59 of it
    assert share.observe(limit=100, remaining=99, reset=RESET + 60).per_minute == 100 - 59 - 5
    for used in range(2, 30):
        share.observe(limit=100, remaining=100 - used, reset=RESET + 60)
    assert share.observe(limit=100, remaining=99, reset=RESET + 120).per_minute == 95


def test_it_never_plans_below_a_tenth_of_the_limit() -> None:
    share = CompanyShare(reserve=0.05)
    share.observe(limit=100, remaining=0, reset=RESET)
    view = share.observe(limit=100, remaining=99, reset=RESET + 60)
    assert view.per_minute == 10


def test_a_burst_bucket_at_the_reserve_holds_everything_back() -> None:
    share = CompanyShare(reserve=0.05)
    view = share.observe(limit=100, remaining=60, reset=RESET, burst_remaining=5)
    assert view.spendable == 0
    assert share.observe(limit=100, remaining=60, reset=RESET, burst_remaining=40).spendable == 55


def test_a_429_spends_nothing_of_ours() -> None:
    share = CompanyShare(reserve=0.0)
    share.observe(limit=10, remaining=0, reset=RESET, admitted=False)
    share.observe(limit=10, remaining=0, reset=RESET, admitted=False)
    assert share.observe(limit=10, remaining=9, reset=RESET + 60).others == 10


def headers(limit: int, remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": str(limit),
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-reset": str(int(reset)),
    }


def test_front_budgets_follow_the_observed_share_and_count_searches_as_ours() -> None:
    budgets = FrontBudgets(0, 0.1, reserve=0.05)
    now = time.time()
    budgets.observe(headers(200, 150, now + 30))  # 50 used, 1 ours
    for _ in range(10):
        budgets.observe({}, kind="search")  # ours, whatever their headers say
    budgets.observe(headers(200, 139, now + 30))
    assert budgets.company.per_minute == pytest.approx(180)  # no whole window yet
    budgets.observe(headers(200, 199, now + 90))  # the next window
    assert budgets.others_per_minute == 61 - 12
    assert budgets.company.per_minute == pytest.approx(200 - 49 - 10)
    assert budgets.search.per_minute == pytest.approx((200 - 49 - 10) * 0.4)


def test_a_configured_rpm_stays_a_ceiling() -> None:
    budgets = FrontBudgets(100, 0.1)
    now = time.time()
    budgets.observe(headers(200, 199, now + 30))
    budgets.observe(headers(200, 199, now + 90))
    assert budgets.company.per_minute == pytest.approx(90)
