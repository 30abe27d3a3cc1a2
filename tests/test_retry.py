"""Delay hints, backoff and the retry policy (frontscan.limits.retry)."""

from __future__ import annotations

import asyncio
import email.utils
import math
import random
import time
from collections.abc import Iterator

import pytest

from frontscan.errors import AuthError, ItemError, QuotaError, TransientError
from frontscan.limits.retry import (
    backoff_delay,
    go_duration_or_none,
    is_testing,
    parse_go_duration,
    parse_retry_after,
    reset_in_from_epoch,
    set_testing,
    with_retries,
)
from tests.virtual_time import virtual_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # values seen in real x-ratelimit-reset-* headers (openai.md §1.1)
        ("12ms", 0.012),
        ("9ms", 0.009),
        ("120ms", 0.12),
        ("176ms", 0.176),
        ("464ms", 0.464),
        ("46.001s", 46.001),
        ("55.212s", 55.212),
        ("4m12.172s", 252.172),
        ("16m33.562s", 993.562),
        ("23h18m29.144s", 23 * 3600 + 18 * 60 + 29.144),
        ("0s", 0.0),
        ("6m0s", 360.0),
        # "Please try again in ..." values from 429 bodies
        ("20s", 20.0),
        ("1m26.4s", 86.4),
        ("1.574s", 1.574),
        # the rest of Go's grammar
        ("0", 0.0),
        ("1.5h", 5400.0),
        ("300us", 0.0003),
        ("300\u00b5s", 0.0003),
        ("300\u03bcs", 0.0003),
        ("250ns", 2.5e-7),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("+2s", 2.0),
        ("-1.5s", -1.5),
        ("1h2m3s4ms5us6ns", 3723.004005006),
    ],
)
def test_parse_go_duration(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(
    "text", ["", "1", "s", "ms", "1x", "1.2.3s", "1 s", "1m 2s", "abc", "+", "1sm", "--1s", "1d"]
)
def test_parse_go_duration_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="Go duration"):
        parse_go_duration(text)


def test_retry_after_headers_win_ms_first_and_case_insensitively() -> None:
    assert parse_retry_after({"Retry-After-Ms": "1500", "Retry-After": "2"}) == 1.5
    assert parse_retry_after({"RETRY-AFTER": "2.5"}, "Please retry in 341 milliseconds.") == 2.5


def test_retry_after_http_date() -> None:
    due = time.time() + 30
    later = email.utils.formatdate(due, usegmt=True)  # HTTP dates have whole seconds
    before = time.time()
    delay = parse_retry_after({"retry-after": later})
    after = time.time()
    assert delay is not None
    assert math.floor(due) - after <= delay <= math.floor(due) - before


@pytest.mark.parametrize(
    ("body", "seconds"),
    [
        (
            '{"_error": {"status": 429, "title": "Too many requests", "message": '
            '"Rate limit exceeded for tier-2 route. Please retry in 341 milliseconds."}}',
            0.341,
        ),
        (
            "Rate limit reached for gpt-4o-mini in organization org-x on requests per day "
            "(RPD): Limit 10000, Used 10000, Requested 1. Please try again in 1m26.4s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.",
            86.4,
        ),
        ("... on tokens per min (TPM): Limit 200000. Please try again in 1.574s. Visit", 1.574),
        ("Requests to the ChatCompletions_Create Operation ... Please retry after 8 seconds.", 8.0),
    ],
)
def test_retry_after_from_body_text(body: str, seconds: float) -> None:
    assert parse_retry_after({}, body) == pytest.approx(seconds)


def test_retry_after_none_when_nothing_or_junk() -> None:
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon", "retry-after-ms": "x"}, "slow down") is None
    # a junk header does not hide a usable body
    assert parse_retry_after({"retry-after": "-3"}, "retry in 900 milliseconds") == 0.9


def test_backoff_grows_with_jitter_and_cap() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(30.0, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, rng=rng) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered
    assert backoff_delay(1000) <= 30.0
    with pytest.raises(ValueError, match="attempt"):
        backoff_delay(-1)


@pytest.fixture
def no_backoff() -> Iterator[None]:
    """The testing switch: retries go again at once, delays are still computed."""
    set_testing(True)
    yield
    set_testing(False)


def loop_time() -> float:
    return asyncio.get_running_loop().time()


@virtual_time
async def test_with_retries_retries_transient_and_recalls() -> None:
    """Without the switch the waits are real (on the loop's clock, here virtual)."""
    assert not is_testing()
    calls: list[float] = []
    retries: list[tuple[str, float]] = []
    start = loop_time()

    async def flaky() -> str:
        calls.append(loop_time() - start)
        if len(calls) < 3:
            raise TransientError(f"429 #{len(calls)}", retry_after=0.1)
        return "ok"

    result = await with_retries(
        flaky, on_retry=lambda e, d: retries.append((e.message, d)), base=0.01
    )
    assert result == "ok"
    assert len(calls) == 3
    assert [m for m, _ in retries] == ["429 #1", "429 #2"]
    assert [d for _, d in retries] == [0.1, 0.1]  # the server's hint beats a 0.01 s backoff
    # each call came exactly the announced delay after the one before
    assert calls[1] - calls[0] == pytest.approx(retries[0][1])
    assert calls[2] - calls[1] == pytest.approx(retries[1][1])


@virtual_time
async def test_with_retries_backoff_when_no_hint(no_backoff: None) -> None:
    delays: list[float] = []
    start = loop_time()

    async def fails() -> None:
        raise TransientError("503")

    with pytest.raises(TransientError, match="503"):
        await with_retries(fails, attempts=4, on_retry=lambda _e, d: delays.append(d))
    assert loop_time() == start  # the switch: no time spent in backoff at all
    assert len(delays) == 3  # 4 attempts, 3 waits
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0
    assert 1.0 <= delays[2] <= 2.0


@virtual_time
async def test_with_retries_caps_the_backoff(no_backoff: None) -> None:
    delays: list[float] = []

    async def fails() -> None:
        raise TransientError("503")

    with pytest.raises(TransientError, match="503"):
        await with_retries(
            fails, attempts=6, on_retry=lambda _e, d: delays.append(d), base=2.0, cap=5.0
        )
    assert len(delays) == 5
    assert 1.0 <= delays[0] <= 2.0
    assert 2.0 <= delays[1] <= 4.0
    assert all(2.5 <= d <= 5.0 for d in delays[2:])


async def test_with_retries_gives_up_after_attempts_with_last_error(no_backoff: None) -> None:
    calls = 0

    async def always() -> None:
        nonlocal calls
        calls += 1
        raise TransientError(f"timeout {calls}")

    with pytest.raises(TransientError, match="timeout 3"):
        await with_retries(always, attempts=3)
    assert calls == 3


@pytest.mark.parametrize(
    "error",
    [QuotaError("quota"), AuthError("401"), ItemError("bad item"), RuntimeError("bug")],
)
async def test_with_retries_passes_other_errors_through_at_once(error: Exception) -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise error

    with pytest.raises(type(error)):
        await with_retries(broken, on_retry=lambda _e, _d: pytest.fail("retried"))
    assert calls == 1


async def test_with_retries_needs_an_attempt() -> None:
    async def never() -> None:  # pragma: no cover - never awaited
        return None

    with pytest.raises(ValueError, match="attempts"):
        await with_retries(never, attempts=0)


def test_reset_in_from_epoch_reads_seconds_or_milliseconds_within_the_hour() -> None:
    due = time.time() + 30
    before = time.time()
    seconds = reset_in_from_epoch(due)
    millis = reset_in_from_epoch(due * 1000)  # read as milliseconds, not 1000x away
    after = time.time()
    for reset_in in (seconds, millis):
        assert reset_in is not None
        # 1 ms of slack: the millisecond value goes through a float division
        assert due - after - 1e-3 <= reset_in <= due - before + 1e-3
    assert reset_in_from_epoch(time.time() + 7200) is None  # not a per-minute reset
    assert reset_in_from_epoch(time.time() - 60) is None  # long past
    assert reset_in_from_epoch(None) is None
    assert reset_in_from_epoch(0) is None


def test_go_duration_or_none_drops_junk_and_negatives() -> None:
    assert go_duration_or_none("1m26.4s") == pytest.approx(86.4)
    assert go_duration_or_none(None) is None
    assert go_duration_or_none("soon") is None
    assert go_duration_or_none("-1s") is None
