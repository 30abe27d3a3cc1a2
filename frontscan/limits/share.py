"""frontscan's share of Front's company budget: what other integrations leave, less a reserve.

Front's limit is per company, shared by every integration on the account, in fixed
one-minute windows (`x-ratelimit-reset` names the window's end). Each response says how
much of the window is used (`limit - remaining`); frontscan knows how many of its own
calls the server admitted in that window (responses carrying the same reset). The rest
is other integrations' use. Once a window is over, its figure is exact (late responses
of ours are still counted against it), and the next windows' rate is
`limit - others - reserve`. Until one window has been seen whole, frontscan runs at
`limit x (1 - headroom)`, the cautious start it always had.

Inside any window frontscan also never spends the last `reserve` of what the server
says is left, so another integration always finds room. Burst headers
(`x-ratelimit-burst-*`, seen in third-party clients, not in Front's text) are honoured
the same way: burst capacity is never counted on (it takes 10 minutes to refill), and a
burst bucket at or under the reserve holds frontscan back until the window resets.

Pure: no clock, no I/O; the numbers come from the headers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SAME_WINDOW_SECONDS = 2.0  # resets within this of each other name the same window
MIN_SHARE = 0.1  # never plan below a tenth of the limit: others' peaks pass


@dataclass(slots=True)
class _Window:
    reset: float
    used: float = 0.0  # the most the server reported used (limit - remaining)
    ours: int = 0  # our calls the server admitted in it

    @property
    def others(self) -> float:
        return max(0.0, self.used - self.ours)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShareView:
    """What the tracker concluded from one response."""

    per_minute: float  # the rate frontscan may plan for
    spendable: float | None  # what may still be spent in this window (None: unknown)
    others: float | None  # other integrations' use in the last complete window


class CompanyShare:
    """Learns other integrations' use of the company budget, window by window."""

    def __init__(self, reserve: float = 0.05, headroom: float = 0.1) -> None:
        if not 0.0 <= reserve < 0.5:
            raise ValueError("reserve must be in [0, 0.5)")
        if not 0.0 <= headroom < 1.0:
            raise ValueError("headroom must be in [0, 1)")
        self.reserve = reserve
        self.headroom = headroom
        self._windows: list[_Window] = []  # the current one last; a few kept for late replies
        self.last_complete: _Window | None = None

    def observe(
        self,
        *,
        limit: float,
        remaining: float,
        reset: float,
        admitted: bool = True,
        burst_remaining: float | None = None,
    ) -> ShareView:
        """One response's headers; `admitted` is False for a 429 (it spent nothing)."""
        window = self._window_for(reset)
        if admitted:
            window.ours += 1
        window.used = max(window.used, limit - remaining)
        reserve_calls = math.ceil(self.reserve * limit)
        spendable = max(0.0, remaining - reserve_calls)
        if burst_remaining is not None and burst_remaining <= reserve_calls:
            spendable = 0.0
        return ShareView(
            per_minute=self.per_minute(limit),
            spendable=spendable,
            others=self.last_complete.others if self.last_complete else None,
        )

    def per_minute(self, limit: float) -> float:
        if self.last_complete is None:
            share = limit * (1.0 - self.headroom)
        else:
            share = limit - self.last_complete.others - self.reserve * limit
        return max(MIN_SHARE * limit, math.floor(share))  # whole calls: no churn per reply

    def count_ours(self) -> None:
        """One of our calls was admitted whose headers may not describe the company window
        (a search: its headers may be the search bucket's): count it in the newest window."""
        if self._windows:
            self._windows[-1].ours += 1

    def _window_for(self, reset: float) -> _Window:
        for window in reversed(self._windows):
            if abs(window.reset - reset) <= SAME_WINDOW_SECONDS:
                return window
        window = _Window(reset)
        newest = max((w.reset for w in self._windows), default=-math.inf)
        self._windows.append(window)
        self._windows.sort(key=lambda w: w.reset)
        if reset > newest and len(self._windows) > 1:
            self.last_complete = self._windows[-2]  # the previous window is over
        del self._windows[:-3]
        return window
