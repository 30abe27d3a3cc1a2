"""Delay hints, backoff and the retry policy (frontscan.limits.retry)."""

from __future__ import annotations

import email.utils
import random
import time

import pytest

from frontscan.errors import AuthError, ItemError, QuotaError, TransientError
from frontscan.limits.retry import backoff_delay, parse_go_duration, parse_retry_after, with_retries


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
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    delay = parse_retry_after({"retry-after": later})
    assert delay is not None
    assert 28 <= delay <= 31


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


async def test_with_retries_retries_transient_and_recalls() -> None:
    calls: list[float] = []
    retries: list[tuple[str, float]] = []
    start = time.monotonic()

    async def flaky() -> str:
        calls.append(time.monotonic() - start)
        if len(calls) < 3:
            raise TransientError(f"429 #{len(calls)}", retry_after=0.1)
        return "ok"

    result = await with_retries(
        flaky, on_retry=lambda e, d: retries.append((e.message, d)), base=0.01
    )
    assert result == "ok"
    assert len(calls) == 3
    assert [m for m, _ in retries] == ["429 #1", "429 #2"]
    assert all(d >= 0.1 for _, d in retries)  # the server's hint is a floor
    assert calls[1] - calls[0] >= 0.1
    assert calls[2] - calls[1] >= 0.1


async def test_with_retries_backoff_when_no_hint() -> None:
    delays: list[float] = []

    async def fails() -> None:
        raise TransientError("503")

    with pytest.raises(TransientError, match="503"):
        await with_retries(
            fails, attempts=4, on_retry=lambda _e, d: delays.append(d), base=0.02, cap=0.05
        )
    assert len(delays) == 3  # 4 attempts, 3 waits
    assert 0.01 <= delays[0] <= 0.02
    assert 0.02 <= delays[1] <= 0.04
    assert 0.025 <= delays[2] <= 0.05


async def test_with_retries_gives_up_after_attempts_with_last_error() -> None:
    calls = 0

    async def always() -> None:
        nonlocal calls
        calls += 1
        raise TransientError(f"timeout {calls}")

    with pytest.raises(TransientError, match="timeout 3"):
        await with_retries(always, attempts=3, base=0.001)
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
