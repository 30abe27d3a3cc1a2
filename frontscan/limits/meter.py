"""What the server charged, read from its own `x-ratelimit-remaining-*` headers.

OpenAI's TPM charge is its own estimate of the prompt from characters plus the whole
`max_completion_tokens` (openai.md §1.2); no client can reproduce it exactly, and
frontscan's local estimate (UTF-8 bytes / 2.5, deliberately high) is off by half or more.
The headers say how much is left after each response, and the bucket refills
continuously at limit / 60 s, so the drop between two responses, plus the refill in
between, is exactly what the server charged meanwhile. Set against what frontscan sent in
the same stretch, that yields the server's per-token price of a prompt estimate, and the
run's true spend for the summary's ratio to the bound. Pure arithmetic, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WINDOW_CALLS = 12  # learn the prompt scale over at least this many calls ...
WINDOW_SECONDS = 1.0  # ... and at least this long, so per-response jitter averages out
SCALE_RANGE = (0.2, 4.0)  # a scale outside this says the headers describe something else


@dataclass(frozen=True, slots=True)
class MeterReading:
    """The server's own account of one dimension (tokens or requests) over a run."""

    charged: float  # spent by the server for this client's calls
    free_at_start: float  # what the server had free when the run began
    scale: float | None  # server charge per unit of prompt estimate, once learned


class ServerMeter:
    """Follows one continuously refilling server bucket through its `remaining` header.

    `sent` is called once per admitted call with the prompt part (what frontscan
    estimated) and the fixed part (the completion budget, or 1 for a request), `seen`
    with each response's `remaining` and `limit`. Between two readings the server charged
    `min(limit, previous + refill) - remaining`; the sum over the run is its spend.
    Calls sent before the first reading are valued at the learned scale.
    """

    def __init__(self) -> None:
        self._charged = 0.0
        self._last: tuple[float, float, float] | None = None  # (at, remaining, limit)
        self._first_free: float | None = None
        self._before_first = (0.0, 0.0)  # (prompt, fixed) sent before the first reading
        self._sent_prompt = 0.0
        self._sent_fixed = 0.0
        self._calls = 0
        self._mark: tuple[float, float, float, float, int] | None = None
        self.scale: float | None = None

    def sent(self, prompt: float, fixed: float) -> None:
        self._sent_prompt += prompt
        self._sent_fixed += fixed
        self._calls += 1
        if self._last is None:
            before = self._before_first
            self._before_first = (before[0] + prompt, before[1] + fixed)

    def seen(self, at: float, remaining: float, limit: float) -> None:
        """One response's `remaining` of `limit`, read at time `at` (seconds)."""
        if not (math.isfinite(remaining) and math.isfinite(limit)) or limit <= 0:
            return
        if self._last is None:
            self._first_free = remaining
        else:
            last_at, last_remaining, _ = self._last
            refilled = last_remaining + limit / 60.0 * max(0.0, at - last_at)
            self._charged += min(limit, refilled) - remaining
        self._last = (at, remaining, limit)
        self._learn(at)

    def _learn(self, at: float) -> None:
        here = (at, self._charged, self._sent_prompt, self._sent_fixed, self._calls)
        if self._mark is None:
            self._mark = here
            return
        start, charged, prompt, fixed, calls = self._mark
        if self._calls - calls < WINDOW_CALLS or at - start < WINDOW_SECONDS:
            return
        self._mark = here
        spent_prompt = self._sent_prompt - prompt
        if spent_prompt <= 0:
            return
        scale = (self._charged - charged - (self._sent_fixed - fixed)) / spent_prompt
        if SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            self.scale = scale if self.scale is None else 0.5 * (self.scale + scale)

    def reading(self) -> MeterReading | None:
        """The run so far, or None when no response carried the header."""
        if self._first_free is None:
            return None
        prompt, fixed = self._before_first
        early = prompt * (self.scale if self.scale is not None else 1.0) + fixed
        return MeterReading(
            charged=max(0.0, self._charged) + early,
            free_at_start=self._first_free + early,
            scale=self.scale,
        )
