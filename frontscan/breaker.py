"""The outage breaker: one API failing conversation after conversation is down, not flaky.

Each call is retried with backoff before a conversation fails (`limits.retry`), so a
conversation that still fails with a refused connection, a 5xx or a timeout has met
a sick API. When `streak` different conversations in a row fail that way on one API,
with no success on it in between, the API is taken for down: every conversation that
meets it waits through a pause (doubling from `first_pause`) and tries again instead of
failing, so an outage does not burn the conversations' attempts. Past `max_pauses`
pauses without one success the run stops cleanly (`ApiDownError`, exit 1); what was
committed is kept and the conversations still in flight are left for the next run.

The conversations that start a streak cannot know yet whether it is an outage, so
their failure is *held* instead of recorded: each waits until the breaker decides.
The streak reaching `streak` makes it an outage (the held ones pause and try again
like the rest, no attempt charged); a success on the API ends it (the held ones fail
as usual, one attempt each). When nothing is left to decide by, the held failures are
isolated ones and fail as usual: every other worker is held too or has finished
(`workers`, `worker_done`), the run is stopping (`release`), or `hold` seconds passed
(a safety net: about one whole retry cycle of a client). With fewer workers than
`streak` the streak is as long as the workers (at least 2), so one worker held cannot
block the others' verdict; a single worker charges the first failure of a streak.
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
HOLD_SECONDS = 30.0


@dataclass
class _State:
    streak: set[str] = field(default_factory=set)  # conversations failed in a row
    pauses: int = 0
    down_since: float | None = None
    last_error: str = ""
    down: bool = False  # the streak is long enough: an outage
    decided: asyncio.Event = field(default_factory=asyncio.Event)  # down, back or released


class OutageBreaker:
    def __init__(
        self,
        *,
        streak: int = 3,
        first_pause: float = 2.0,
        max_pauses: int = 4,
        hold: float = HOLD_SECONDS,
        workers: int = 1_000_000,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._streak = max(2, min(streak, workers))
        self._workers = workers  # still taking conversations: held failures wait for them
        self._holding = 0
        self._first_pause = first_pause
        self._max_pauses = max_pauses
        self._hold = hold
        self._sleep = sleep
        self._apis: dict[str, _State] = {}
        self._pausing: dict[str, asyncio.Lock] = {}
        self._released = False

    def ok(self, api: str) -> None:
        """A call to `api` succeeded: whatever streak there was is over."""
        state = self._apis.get(api)
        if state is not None and (state.streak or state.pauses):
            if state.down_since is not None:
                logger.warning(
                    "%s is back", _NAMES.get(api, api),
                    extra={"event": "breaker.closed", "api": api, "pauses": state.pauses},
                )  # fmt: skip
            state.decided.set()  # held failures were not an outage: they fail as usual
            self._apis[api] = _State()

    def release(self) -> None:
        """The run is stopping: held failures fail as usual now, nobody waits for a verdict."""
        self._released = True
        self._decide_idle()

    def worker_done(self) -> None:
        """A worker took its last conversation: it cannot end a streak any more."""
        self._workers -= 1
        self._decide_idle()

    def _decide_idle(self) -> None:
        """No worker left that could fail or succeed next: held failures are isolated."""
        if self._released or self._holding >= self._workers:
            for state in self._apis.values():
                state.decided.set()

    async def failed(self, conversation_id: str, error: TransientError) -> bool:
        """True: the API is down, the caller paused and should try the conversation again.

        False: an isolated failure; the conversation fails as usual (an outage-kind one
        only once the breaker has decided it was no outage). Raises ApiDownError when the
        API stayed down through every pause.
        """
        api = error.outage
        if api is None:
            return False
        state = self._apis.setdefault(api, _State())
        state.streak.add(conversation_id)
        state.last_error = str(error)
        seen = state.pauses  # a pause begun after this failure is one it needs not repeat
        if len(state.streak) >= self._streak:
            state.down = True
            state.decided.set()
        elif not state.down and not await self._held(api, conversation_id, state):
            return False
        lock = self._pausing.setdefault(api, asyncio.Lock())
        if lock.locked():  # a pause is on: wait it out with the others, then try again
            async with lock:
                return True
        async with lock:
            if self._apis.get(api) is state and state.pauses == seen:  # still down
                await self._pause(api, state)
        return True

    async def _held(self, api: str, conversation_id: str, state: _State) -> bool:
        """Wait for the breaker's verdict on this failure: True when it was an outage."""
        self._holding += 1
        self._decide_idle()
        if state.decided.is_set():
            self._holding -= 1
            return state.down
        logger.info(
            "%s failed on %s (%s); holding the failure until the breaker decides",
            _NAMES.get(api, api), conversation_id, state.last_error,
            extra={"event": "breaker.hold", "api": api, "conversation_id": conversation_id,
                   "streak": len(state.streak), "seconds": self._hold},
        )  # fmt: skip
        verdict = asyncio.ensure_future(state.decided.wait())
        timer = asyncio.ensure_future(self._sleep(self._hold))
        try:
            await asyncio.wait((verdict, timer), return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._holding -= 1
            verdict.cancel()
            timer.cancel()
        return state.down

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
