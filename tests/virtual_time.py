"""An asyncio loop whose clock jumps ahead whenever every task is waiting for a timer.

Rate-limit and retry tests measure pacing: how many admissions by when, how long a
pause held, how far apart two attempts were. On the wall clock those are windows like
`0.4 <= t <= 0.65` that a busy machine breaks. On this loop `loop.time()` advances only
when the loop would otherwise sleep, and then by exactly the time to the next timer, so a
test asserts exact times and takes no real time waiting. aiolimiter paces by
`loop.time()` and `asyncio.sleep` waits by it, so both run unchanged on virtual time.

Real I/O still works (the loop polls its selector without blocking before it jumps), but
a test that waits on a socket or a thread would see time race ahead: use it for pure
asyncio code.
"""

from __future__ import annotations

import asyncio
import functools
import selectors
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

P = ParamSpec("P")


class _JumpingSelector(selectors.BaseSelector):
    """Wraps the loop's real selector: a wait for a timer becomes a jump of the clock."""

    def __init__(self, real: selectors.BaseSelector, clock: VirtualClock) -> None:
        self._real = real
        self._clock = clock

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer at all: only real I/O can wake the loop
            return self._real.select(None)
        self._clock.now += timeout
        return []

    def close(self) -> None:
        self._real.close()

    def get_key(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()


class VirtualClock:
    """The loop's notion of now, in seconds from the loop's creation."""

    def __init__(self) -> None:
        self.now = 0.0


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop on virtual time: `time()` is the virtual clock."""

    def __init__(self) -> None:
        self.clock = VirtualClock()
        super().__init__(_JumpingSelector(selectors.DefaultSelector(), self.clock))

    def time(self) -> float:
        return self.clock.now


def virtual_time(
    test: Callable[P, Coroutine[Any, Any, None]],
) -> Callable[P, None]:
    """Run an async test on a fresh `VirtualTimeLoop` (a plain test, to pytest)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        with asyncio.Runner(loop_factory=VirtualTimeLoop) as runner:
            runner.run(test(*args, **kwargs))

    return run
