"""The outage breaker: one API failing conversation after conversation is down, not flaky.

Each call is retried with backoff before a conversation fails (`limits.retry`), so a
conversation that still fails with a refused connection, a 5xx or a timeout has met
a sick API. When `streak` different conversations in a row fail that way on one API,
with no success on it in between, the API is taken for down: every conversation that
meets it waits through a pause (doubling from `first_pause`) and tries again instead of
failing, so an outage does not burn the conversations' attempts. Past `max_pauses`
pauses without one success the run stops cleanly (`ApiDownError`, exit 1); what was
committed is kept and the conversations still in flight are left for the next run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from frontscan.errors import ApiDownError, TransientError

logger = logging.getLogger(__name__)

_NAMES = {"front": "Front", "openai": "OpenAI"}


@dataclass
class _State:
    streak: set[str] = field(default_factory=set)  # conversations failed in a row
    pauses: int = 0
    down_since: float | None = None
    last_error: str = ""


class OutageBreaker:
    def __init__(
        self,
        *,
        streak: int = 3,
        first_pause: float = 2.0,
        max_pauses: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._streak = streak
        self._first_pause = first_pause
        self._max_pauses = max_pauses
        self._sleep = sleep
        self._apis: dict[str, _State] = {}
        self._pausing: dict[str, asyncio.Lock] = {}

    def ok(self, api: str) -> None:
        """A call to `api` succeeded: whatever streak there was is over."""
        state = self._apis.get(api)
        if state is not None and (state.streak or state.pauses):
            if state.down_since is not None:
                logger.warning(
                    "%s is back", _NAMES.get(api, api),
                    extra={"event": "breaker.closed", "api": api, "pauses": state.pauses},
                )  # fmt: skip
            self._apis[api] = _State()

    async def failed(self, conversation_id: str, error: TransientError) -> bool:
        """True: the API is down, the caller paused and should try the conversation again.

        False: an isolated failure; the conversation fails as usual. Raises ApiDownError
        when the API stayed down through every pause.
        """
        api = error.outage
        if api is None:
            return False
        state = self._apis.setdefault(api, _State())
        state.streak.add(conversation_id)
        state.last_error = str(error)
        if len(state.streak) < self._streak:
            return False
        lock = self._pausing.setdefault(api, asyncio.Lock())
        if lock.locked():  # a pause is on: wait it out with the others, then try again
            async with lock:
                return True
        async with lock:
            if self._apis.get(api) is state:  # still down (not back since this failure)
                await self._pause(api, state)
        return True

    async def _pause(self, api: str, state: _State) -> None:
        name = _NAMES.get(api, api)
        if state.down_since is None:
            state.down_since = time.monotonic()
        if state.pauses >= self._max_pauses:
            down = time.monotonic() - state.down_since
            raise ApiDownError(
                f"{name} looks down: {len(state.streak)} conversations in a row failed "
                f"({state.last_error}) and it stayed down for {down:.0f} s of pauses; "
                "those conversations keep their attempts: run the scan again later"
            )
        delay = self._first_pause * 2**state.pauses
        state.pauses += 1
        logger.warning(
            "%s looks down (%d conversations in a row failed: %s); pausing %.0f s", name,
            len(state.streak), state.last_error, delay,
            extra={"event": "breaker.pause", "api": api, "pause": state.pauses,
                   "seconds": delay, "cause": state.last_error},
        )  # fmt: skip
        await self._sleep(delay)
