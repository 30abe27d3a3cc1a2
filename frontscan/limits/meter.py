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
    with each response's `remaining` and `limit`. Between two readings in which the
    bucket cannot have reached its limit, the server charged exactly
    `previous + refill - remaining`; set against what was sent meanwhile, that gives
    the scale. A bucket that may have filled up meanwhile forgot part of the charges,
    so such a stretch teaches nothing. The run's spend is then what was sent, valued at
    the scale (at face value until one is learned).
    """

    def __init__(self) -> None:
        self._last: tuple[float, float] | None = None  # (at, remaining)
        self._first_free: float | None = None
        self._before_first = (0.0, 0.0)  # (prompt, fixed) sent before the first reading
        self._sent = (0.0, 0.0)  # (prompt, fixed), the whole run
        self._since = (0.0, 0.0, 0)  # (prompt, fixed, calls) since the last reading
        self._learning = (0.0, 0.0, 0.0, 0, 0.0)  # (drop, prompt, fixed, calls, seconds)
        self.scale: float | None = None

    def sent(self, prompt: float, fixed: float) -> None:
        self._sent = (self._sent[0] + prompt, self._sent[1] + fixed)
        self._since = (self._since[0] + prompt, self._since[1] + fixed, self._since[2] + 1)
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
            last_at, last_remaining = self._last
            elapsed = max(0.0, at - last_at)
            refilled = last_remaining + limit / 60.0 * elapsed
            if refilled < limit:  # never full meanwhile: the drop is the whole charge
                drop, prompt, fixed, calls, seconds = self._learning
                self._learning = (
                    drop + refilled - remaining,
                    prompt + self._since[0],
                    fixed + self._since[1],
                    calls + self._since[2],
                    seconds + elapsed,
                )
                self._learn()
        self._last = (at, remaining)
        self._since = (0.0, 0.0, 0)

    def _learn(self) -> None:
        drop, prompt, fixed, calls, seconds = self._learning
        if calls < WINDOW_CALLS or seconds < WINDOW_SECONDS:
            return
        self._learning = (0.0, 0.0, 0.0, 0, 0.0)
        if prompt <= 0:
            return
        scale = (drop - fixed) / prompt
        if SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
            self.scale = scale if self.scale is None else 0.5 * (self.scale + scale)

    def reading(self) -> MeterReading | None:
        """The run so far, or None when no response carried the header."""
        if self._first_free is None:
            return None
        scale = self.scale if self.scale is not None else 1.0
        prompt, fixed = self._before_first
        return MeterReading(
            charged=self._sent[0] * scale + self._sent[1],
            free_at_start=self._first_free + prompt * scale + fixed,
            scale=self.scale,
        )
