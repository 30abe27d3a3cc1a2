"""The scan pipeline's scheduling: producer → bounded queue → workers → batch writer.

Work is continuous: `concurrency` conversations are in flight at any moment and a
*batch* is only the unit of commit and of the timing line. What each conversation's work
is belongs to `conversation.py`; the pipeline decides only when it runs. It depends on
the Protocols in `ports.py`, never on aiohttp, openai or psycopg, so it runs the same
against Front, the simulator or the in-memory fakes in `tests/fakes.py`.

Stopping: `stop()` (first Ctrl-C, SIGTERM, a fatal error, or `--max-cost`) ends the
producer at once, discards queued conversations, lets in-flight ones finish and flushes
the writer. `abort()` (second Ctrl-C) also cancels in-flight work; nothing half-done is
recorded because a conversation is only written as a whole outcome.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace

from frontscan.breaker import OutageBreaker
from frontscan.conversation import ConversationScanner, OverBudget, failed
from frontscan.errors import ApiDownError, AuthError, ConfigError, QuotaError
from frontscan.models import (
    BatchTiming,
    ConversationRef,
    LedgerEntry,
    Outcome,
    Plan,
    Planned,
    RunStats,
    SearchPage,
)
from frontscan.ports import BatchRoute, Extractor, Ledger, Reporter, Source
from frontscan.window import whole_total

logger = logging.getLogger(__name__)
FLUSH_SECONDS = 10.0  # commit a partial batch after this long, so slow runs still checkpoint
FATAL = (AuthError, QuotaError, ConfigError, ApiDownError)


def needs_work(
    ref: ConversationRef, entry: LedgerEntry | None, *, rescan: bool, max_attempts: int
) -> bool:
    """Unscanned: not in the ledger, changed since, or failed with attempts left.

    Unchanged is decided with no Front call: the search result's last message id (from
    `_links.related.last_message`) is the one the ledger recorded, or, when Front gives no
    link, its `updated_at` is not after the watermark. A conversation that failed
    `max_attempts` times waits for `--retry-failed`, so a poisoned one cannot eat every run.
    """
    if rescan or entry is None:
        return True
    if entry.status == "failed":
        return entry.attempts < max_attempts
    if ref.last_message_id is not None and ref.last_message_id == entry.last_message_id:
        return False
    if ref.last_message_id is None and ref.updated_at is not None:
        return entry.scanned_through is None or ref.updated_at > entry.scanned_through
    return True


def p95(values: Sequence[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass(frozen=True, slots=True)
class _Work:
    ref: ConversationRef
    entry: LedgerEntry | None
    may_batch: bool = True


class Pipeline:
    def __init__(
        self,
        plan: Plan,
        source: Source,
        extractor: Extractor | None,
        ledger: Ledger,
        reporter: Reporter,
        *,
        run_id: int | None = None,
        pressure: Callable[[], tuple[int, float]] = lambda: (0, 0.0),
        flush_seconds: float = FLUSH_SECONDS,
        batch: BatchRoute | None = None,
        breaker: OutageBreaker | None = None,
    ) -> None:
        self.plan = plan
        self._source = source
        self._ledger = ledger
        self._reporter = reporter
        self._run_id = run_id
        self._pressure = pressure  # (429s so far, seconds waited for rate budgets so far)
        self._flush_seconds = flush_seconds
        self._batch = batch
        self._conversation = ConversationScanner(
            source, extractor, plan, batch, breaker or OutageBreaker(workers=plan.concurrency)
        )
        self.batch_waiting = 0  # conversations skipped because they wait in a batch
        self.stats = RunStats()  # the conversation side; the runner adds the clients' usage
        self.fatal: BaseException | None = None
        self.stop_reason: str | None = None
        self._queue: asyncio.Queue[_Work | None] = asyncio.Queue(maxsize=2 * plan.concurrency)
        # Bounded too: when the database is slow, workers wait instead of piling up outcomes.
        self._done: asyncio.Queue[tuple[Outcome, float] | None] = asyncio.Queue(
            maxsize=2 * max(plan.batch_size, plan.concurrency)
        )
        # Conversations queued, in flight or waiting for their commit: one at a time each.
        self._in_flight: set[str] = set()
        # A later ref for a conversation still pending (the event stream hands on a second
        # piece when new mail arrives mid-scan): it waits for the earlier one's commit.
        self._deferred: dict[str, _Work] = {}
        self._released: asyncio.Queue[_Work | None] = asyncio.Queue()  # None: one dropped
        self._producer: asyncio.Task[None] | None = None
        self._workers: list[asyncio.Task[None]] = []

    @property
    def planned(self) -> tuple[Planned, ...]:
        """Dry runs: what each conversation would cost."""
        return tuple(self._conversation.planned)

    # -- control ------------------------------------------------------------------------

    def stop(self, reason: str = "interrupted") -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self._conversation.breaker.release()  # held failures are recorded, not waited on
        if self._producer is not None:
            self._producer.cancel()

    def abort(self) -> None:
        self.stop()
        for worker in self._workers:
            worker.cancel()
        self._discard_queued()  # nobody will take them now; `run()` may wait for the room

    def _discard_queued(self) -> None:
        """Drop queued conversations (never started, so simply not recorded), keep sentinels."""
        sentinels = 0
        while not self._queue.empty():
            sentinels += self._queue.get_nowait() is None
        for _ in range(sentinels):
            self._queue.put_nowait(None)

    async def run(self) -> RunStats:
        writer = asyncio.create_task(self._write())
        self._producer = asyncio.create_task(self._produce())
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.plan.concurrency)]
        await asyncio.wait([self._producer])
        if not self._producer.cancelled() and (error := self._producer.exception()) is not None:
            self._fail(error)
        if self.stop_reason is not None:
            self._discard_queued()
        for _ in self._workers:
            await self._queue.put(None)
        await asyncio.wait(self._workers)
        await self._done.put(None)
        await writer
        if self.fatal is not None:
            raise self.fatal
        return self.stats

    def _fail(self, error: BaseException) -> None:
        """Stop the run for good; `run()` re-raises the first fatal error once drained."""
        self.fatal = self.fatal or error
        self.stop("failed")

    # -- producer -----------------------------------------------------------------------

    async def _produce(self) -> None:
        queued = 0
        request = self.plan.request
        async for page in self._pages():
            self._count(seen=len(page.refs), skipped=0)
            ids = [r.id for r in page.refs]
            entries = await self._ledger.ledger_for(ids)
            waiting, returned = await self._batch.held(ids) if self._batch else (set(), set())
            skipped = 0
            for ref in page.refs:
                if request.limit is not None and queued >= request.limit:
                    return
                entry = entries.get(ref.id)
                if ref.id in waiting:  # its answer is on the way: never sent online too
                    self.batch_waiting += 1
                    skipped += 1
                    continue
                if ref.id in self._in_flight:
                    self._deferred[ref.id] = _Work(ref, entry, may_batch=ref.id not in returned)
                    continue
                if not needs_work(
                    ref, entry, rescan=request.rescan, max_attempts=self.plan.max_attempts
                ):
                    skipped += 1
                    continue
                self._in_flight.add(ref.id)
                await self._queue.put(_Work(ref, entry, may_batch=ref.id not in returned))
                queued += 1
            self._count(seen=0, skipped=skipped)
            self._reporter.skipped(skipped)
            while not self._released.empty():
                queued += await self._requeue(self._released.get_nowait())
        while self._deferred or not self._released.empty():  # cancelled by stop()
            queued += await self._requeue(await self._released.get())

    async def _requeue(self, work: _Work | None) -> int:
        """A deferred ref whose earlier outcome is committed: checked afresh, then queued."""
        if work is None:  # dropped after a failure: only wakes the producer's last wait
            return 0
        entry = (await self._ledger.ledger_for([work.ref.id])).get(work.ref.id)
        if not needs_work(
            work.ref, entry, rescan=self.plan.request.rescan, max_attempts=self.plan.max_attempts
        ):
            self._count(seen=0, skipped=1)
            self._reporter.skipped(1)
            return 0
        self._in_flight.add(work.ref.id)
        await self._queue.put(replace(work, entry=entry))
        return 1

    def _release(self, outcomes: Sequence[Outcome]) -> None:
        """Committed: the conversations are free again. A ref that waited for a failed
        outcome is dropped, so the failure stays on record and is retried whole."""
        for outcome in outcomes:
            if outcome.status == "failed":
                key = outcome.conversation.id
                self._in_flight.discard(key)
                if self._deferred.pop(key, None) is not None:
                    self._count(seen=0, skipped=1)
                    self._released.put_nowait(None)
            else:
                self._release_ids([outcome.conversation.id])

    def _release_ids(self, ids: Sequence[str]) -> None:
        for key in ids:
            self._in_flight.discard(key)
            waiting = self._deferred.pop(key, None)
            if waiting is not None:
                self._released.put_nowait(waiting)

    def _count(self, *, seen: int, skipped: int) -> None:
        self.stats = replace(
            self.stats,
            conversations_seen=self.stats.conversations_seen + seen,
            conversations_skipped=self.stats.conversations_skipped + skipped,
        )

    async def _pages(self) -> AsyncIterator[SearchPage]:
        if self.plan.retry_refs:
            self._reporter.add_total(len(self.plan.retry_refs))
            yield SearchPage(self.plan.retry_refs, len(self.plan.retry_refs))
            return
        whole = await whole_total(self._source, self.plan.slices)
        if whole is not None:
            self._reporter.add_total(whole)
        for window in self.plan.slices:
            first = whole is None
            async for page in self._source.search(window):
                if page.total is None:  # no total up front (the event stream): page by page
                    self._reporter.add_total(len(page.refs))
                elif first:
                    self._reporter.add_total(page.total)
                first = False
                yield page

    # -- workers ------------------------------------------------------------------------

    async def _work(self) -> None:
        try:
            await self._work_through()
        finally:  # one worker fewer that could tell the breaker an API is back or down
            self._conversation.breaker.worker_done()

    async def _work_through(self) -> None:
        while (item := await self._queue.get()) is not None:
            if self.stop_reason is not None:  # stopped while queued: not started, not recorded
                self._in_flight.discard(item.ref.id)
                continue
            started = time.monotonic()
            try:
                outcome = await self._conversation.scan(
                    item.ref, item.entry, may_batch=item.may_batch
                )
            except OverBudget:
                self._in_flight.discard(item.ref.id)
                self.stop("max-cost")
                continue
            except FATAL as error:
                self._in_flight.discard(item.ref.id)
                self._fail(error)
                continue
            except Exception as error:  # a bug must cost one conversation, not a worker
                logger.exception("bug in %s", item.ref.id, extra={"event": "conversation.bug"})
                outcome = failed(item.ref, f"internal error: {type(error).__name__}: {error}")
            if outcome is None:  # handed to a batch, recorded when collected: free now
                self._release_ids([item.ref.id])
                continue
            # The conversation stays pending until its outcome is committed (`_release`).
            await self._done.put((outcome, time.monotonic() - started))

    # -- writer -------------------------------------------------------------------------

    async def _write(self) -> None:
        """Commit every `batch_size` outcomes, or sooner when a batch has waited too long."""
        loop = asyncio.get_running_loop()
        batch: list[tuple[Outcome, float]] = []
        started = loop.time()
        pressure_before = self._pressure()
        while True:
            # A ref waiting for one of these outcomes: commit soon, so it can go on.
            wait = min(self._flush_seconds, 0.5) if self._deferred else self._flush_seconds
            deadline = started + wait if batch else None
            try:
                async with asyncio.timeout_at(deadline):
                    item = await self._done.get()
            except TimeoutError:
                pass  # the batch has waited long enough: commit what there is
            else:
                if item is None:
                    break
                if not batch:
                    started = loop.time()
                batch.append(item)
                self._reporter.conversation_done(item[0])
                if len(batch) < self.plan.batch_size:
                    continue
            await self._commit(batch, loop.time() - started, pressure_before)
            batch = []
            pressure_before = self._pressure()
        if batch:
            await self._commit(batch, loop.time() - started, pressure_before)

    async def _commit(
        self, batch: list[tuple[Outcome, float]], seconds: float, before: tuple[int, float]
    ) -> None:
        outcomes = [o for o, _ in batch]
        stored = 0
        if not self.plan.request.dry_run:
            try:
                stored = await self._ledger.record(outcomes, self._run_id)
            except Exception as error:  # the database is gone: stop, lose nothing recorded
                self._fail(error)  # and keep draining, so no worker waits on a full queue
                return
        self._release(outcomes)
        failures = sum(o.status == "failed" for o in outcomes)
        s = self.stats
        self.stats = replace(
            s,
            batches=s.batches + 1,
            conversations_scanned=s.conversations_scanned + len(outcomes) - failures,
            conversations_failed=s.conversations_failed + failures,
            messages_processed=s.messages_processed + sum(len(o.messages) for o in outcomes),
            numbers_found=s.numbers_found + stored,
            llm_dropped=s.llm_dropped + sum(o.llm_dropped for o in outcomes),
            claims_dropped=s.claims_dropped + sum(o.claims_dropped for o in outcomes),
            model_calls_avoided=s.model_calls_avoided + sum(o.model_call_avoided for o in outcomes),
        )
        now = self._pressure()
        timing = BatchTiming(
            index=self.stats.batches,
            conversations=len(outcomes),
            seconds=seconds,
            p95_seconds=p95([d for _, d in batch]),
            numbers=stored,
            failed=failures,
            throttled=now[0] - before[0],
            waited_seconds=now[1] - before[1],
        )
        self._reporter.batch_committed(timing)
