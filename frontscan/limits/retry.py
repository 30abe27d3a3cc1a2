"""Server delay hints, backoff, and the one retry policy frontscan uses.

Everything here is pure or nearly so: no HTTP client types, no SDK exceptions. Headers
arrive as plain `Mapping[str, str]` (looked up case-insensitively), failures as
frontscan's own exceptions. `frontscan.limits` builds the rate-limit budgets on top.

One layer retries (DESIGN.md §4): the OpenAI SDK runs with `max_retries=0` and the Front
client never loops, so a retry always goes back through `with_retries`, which calls the
whole operation again, and the operation re-acquires its budget before it hits the API.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from frontscan.errors import TransientError

__all__ = [
    "backoff_delay",
    "lower_headers",
    "parse_go_duration",
    "parse_retry_after",
    "set_testing",
    "with_retries",
]

T = TypeVar("T")
logger = logging.getLogger(__name__)

_GO_UNITS: dict[str, float] = {
    "h": 3600.0,
    "m": 60.0,
    "s": 1.0,
    "ms": 1e-3,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign, what Go's Duration.String() prints
    "\u03bcs": 1e-6,  # Greek small mu, which time.ParseDuration also accepts
    "ns": 1e-9,
}
# Longest units first so "ms" is not read as "m" followed by garbage.
_UNIT_ALT = "ns|us|\u00b5s|\u03bcs|ms|h|m|s"
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_GO_PART = re.compile(rf"({_NUMBER})({_UNIT_ALT})")
_GO_DURATION = re.compile(rf"[+-]?(?:{_NUMBER}(?:{_UNIT_ALT}))+")

_testing = False  # see set_testing

# Front: "Rate limit exceeded for tier-2 route. Please retry in 341 milliseconds."
_FRONT_MS = re.compile(r"retry in (\d+(?:\.\d+)?) ?milliseconds?", re.IGNORECASE)
# OpenAI: "... Please try again in 1m26.4s. Visit ..." (a Go duration)
_OPENAI_AGAIN = re.compile(rf"try again in ((?:{_NUMBER}(?:{_UNIT_ALT}))+)", re.IGNORECASE)
# Azure OpenAI: "... Please retry after 8 seconds."
_AZURE_SECONDS = re.compile(r"retry after (\d+(?:\.\d+)?) ?seconds?", re.IGNORECASE)


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Copy `headers` with lower-cased names: HTTP header names are case-insensitive and
    Front's docs show both `X-RateLimit-*` and `x-ratelimit-*`."""
    return {str(name).lower(): str(value).strip() for name, value in headers.items()}


def header_float(headers: Mapping[str, str], name: str) -> float | None:
    """A finite float header from an already lower-cased mapping, or None if absent or junk.

    Rate-limit headers are hints that may be missing or nonsense (Azure sends -1), so a bad
    value must never raise."""
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_go_duration(text: str) -> float:
    """Parse a Go `time.Duration` string (`1m26.4s`, `120ms`, `6m0s`, `0s`) into seconds.

    OpenAI's `x-ratelimit-reset-*` headers and its "Please try again in ..." messages use
    this format, and real values mix units (`23h18m29.144s`), so a single-unit parser
    would silently misread them. Grammar as in `time.ParseDuration`: an optional sign, then
    one or more `<decimal><unit>` groups, or a bare `0`. Raises ValueError otherwise.
    """
    s = text.strip()
    if s in ("0", "+0", "-0"):
        return 0.0
    if not _GO_DURATION.fullmatch(s):
        raise ValueError(f"not a Go duration: {text!r}")
    sign = -1.0 if s.startswith("-") else 1.0
    total = sum(float(num) * _GO_UNITS[unit] for num, unit in _GO_PART.findall(s))
    return sign * total


def reset_in_from_epoch(raw: float | None) -> float | None:
    """Seconds until Front's `x-ratelimit-reset` (epoch seconds, by wall clock).

    Front documents seconds; a millisecond value would be 1000x in the future, so it is
    recognised and converted. Anything over an hour away is not a per-minute reset.
    """
    if raw is None or raw <= 0:
        return None
    if raw > 1e11:
        raw /= 1000.0
    reset_in = raw - time.time()
    return reset_in if -5.0 <= reset_in <= 3600.0 else None


def go_duration_or_none(raw: str | None) -> float | None:
    """A non-negative Go duration header in seconds, or None if absent or junk."""
    if raw is None:
        return None
    try:
        value = parse_go_duration(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def _seconds_from_retry_after(raw: str) -> float | None:
    """`Retry-After` is delta-seconds (Front and Azure send them, possibly fractional) or,
    per RFC 9110, an HTTP date; anything else is ignored rather than trusted."""
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, when.timestamp() - time.time())
    if not math.isfinite(value) or value < 0:
        return None
    return value


def parse_retry_after(headers: Mapping[str, str], body_text: str = "") -> float | None:
    """The delay the server asked for, in seconds, or None when it named none.

    Order: `retry-after-ms` (Azure, most precise), `retry-after` (seconds, as Front and
    RFC 9110 define it), then the body text: Front's "retry in N milliseconds", OpenAI's
    "try again in <go duration>", Azure's "retry after N seconds". Reset headers are not
    consulted here: they need a clock and mean different things per API.
    """
    lowered = lower_headers(headers)
    ms = header_float(lowered, "retry-after-ms")
    if ms is not None and ms >= 0:
        return ms / 1000.0
    raw = lowered.get("retry-after")
    if raw is not None:
        seconds = _seconds_from_retry_after(raw)
        if seconds is not None:
            return seconds
    if body_text:
        if match := _FRONT_MS.search(body_text):
            return float(match.group(1)) / 1000.0
        if match := _OPENAI_AGAIN.search(body_text):
            try:
                return max(0.0, parse_go_duration(match.group(1)))
            except ValueError:
                pass
        if match := _AZURE_SECONDS.search(body_text):
            return float(match.group(1))
    return None


def backoff_delay(
    attempt: int,
    base: float = 0.5,
    cap: float = 30.0,
    rng: random.Random | None = None,
) -> float:
    """Exponential backoff for retry number `attempt` (0 for the first retry), with jitter.

    The delay is `min(cap, base * 2**attempt)` scaled by a random factor in [0.5, 1], so
    clients that failed together do not all come back together, while the wait still
    grows steadily (the lower half keeps a floor under it).
    """
    if attempt < 0:
        raise ValueError("attempt must be >= 0")
    ceiling = min(cap, base * 2.0 ** min(attempt, 60))
    draw = (rng or random).random()
    return ceiling * (1.0 - 0.5 * draw)


def set_testing(testing: bool) -> None:
    """Tests only: with `testing=True`, `with_retries` retries without the backoff wait.

    Everything else stays as in a real run: the same attempts, the same errors retried
    or passed through, the same delay computed and handed to `on_retry` (so a test can
    still assert on it); only the sleep is skipped (the task still yields to the loop).
    Rate-limit pauses in the budgets are not affected: they pace, they are not backoff.
    """
    global _testing
    _testing = testing


def is_testing() -> bool:
    """Whether `set_testing(True)` is in force."""
    return _testing


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    on_retry: Callable[[TransientError, float], None] | None = None,
    base: float = 0.5,
    cap: float = 30.0,
    rng: random.Random | None = None,
) -> T:
    """Await `call()`, calling it again after a `TransientError`, at most `attempts` times.

    Only `TransientError` is retried: quota, auth and per-item errors cannot get better by
    waiting, so they pass through at once. Each wait is the larger of the server's
    `retry_after` and the jittered backoff, so a short server hint does not turn into a
    tight loop. `call` is invoked afresh each time, and it must re-acquire its rate-limit
    budget, so a retry is paced like any other request. `on_retry(error, delay)` is told
    before each wait (for counters and logs). After the last attempt the TransientError
    is re-raised unchanged.
    """
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    for attempt in range(attempts):
        try:
            return await call()
        except TransientError as error:
            if attempt == attempts - 1:
                logger.info(
                    "giving up after %d attempts: %s", attempts, error,
                    extra={"event": "retry.gave_up", "attempts": attempts, "cause": str(error)},
                )  # fmt: skip
                raise
            delay = max(error.retry_after or 0.0, backoff_delay(attempt, base, cap, rng))
            if on_retry is not None:
                on_retry(error, delay)
            await asyncio.sleep(0.0 if _testing else delay)
    raise AssertionError("unreachable")  # pragma: no cover
