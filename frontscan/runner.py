"""The composition root: open every resource in one AsyncExitStack and run a scan.

Order matters and is deliberate: configuration checks first (no I/O), then the database
(a bad DSN fails before any API call), the scan lock, the Front auth probe, and only then
the pipeline. Whatever happens, the run row is closed with its status and counters.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace

import aiohttp
from openai import AsyncOpenAI

from frontscan.config import Settings
from frontscan.errors import ConfigError, FrontscanError
from frontscan.extract import OpenAIExtractor
from frontscan.front import FrontClient, search_query
from frontscan.ledger.connect import open_store
from frontscan.ledger.store import Store
from frontscan.limits.bound import bound_seconds
from frontscan.limits.budgets import FRONT_SEARCH_SHARE, FrontBudgets, OpenAIBudgets
from frontscan.models import ApiCounters, ConversationMessages, ConversationRef, Planned, SearchPage
from frontscan.pipeline import Pipeline, Plan
from frontscan.report import ScanReporter
from frontscan.summary import Summary, ending, run_status, summarize
from frontscan.window import check_order, resolve_window, split_window

MAX_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class ScanResult:
    summary: Summary
    planned: tuple[Planned, ...]  # dry runs: what would be scanned
    ending: FrontscanError | None  # a clean end that still warrants a non-zero exit


@dataclass(frozen=True, slots=True)
class ScanRequest:
    after: float | None = None
    before: float | None = None
    inbox: str | None = None
    query: str | None = None
    rescan: bool = False
    limit: int | None = None
    dry_run: bool = False
    max_cost: float | None = None
    retry_failed: bool = False
    slice_days: float = 7.0


class _WindowSearch:
    """Adapts the Front client to the pipeline's `Source`: a window plus fixed filters."""

    def __init__(self, client: FrontClient, inbox: str | None, text: str | None) -> None:
        self._client = client
        self._inbox = inbox
        self._text = text

    def search(self, after: float | None, before: float | None) -> AsyncIterator[SearchPage]:
        return self._client.search(search_query(after, before, self._inbox, self._text))

    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages:
        return await self._client.messages_since(conversation_id, since)


def _require_secrets(settings: Settings, request: ScanRequest) -> tuple[str, str | None]:
    if not settings.front.token:
        raise ConfigError(
            "FRONT_API_TOKEN is not set: create an API token in Front "
            "(Settings > Developers > API tokens) and export FRONT_API_TOKEN"
        )
    uses_model = settings.scan.llm != "never" and not request.dry_run
    if uses_model and not settings.openai.api_key:
        raise ConfigError("OPENAI_API_KEY is not set: export it, or scan with --llm never")
    key = settings.openai.api_key.reveal() if uses_model and settings.openai.api_key else None
    return settings.front.token.reveal(), key


async def scan(settings: Settings, request: ScanRequest, reporter: ScanReporter) -> ScanResult:
    """Run one scan end to end and return its summary (raising for fatal outcomes)."""
    check_order(request.after, request.before)
    front_token, openai_key = _require_secrets(settings, request)
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        store = await _open_ledger(stack, settings, reporter, lock=not request.dry_run)
        plan, after, before = await _plan(store, settings, request)
        front = await _open_front(stack, settings, front_token)
        extractor = _open_extractor(stack, settings, openai_key)
        run_id = None
        if not request.dry_run:
            run_id = await store.start_run(after, before, _options(settings, request))
        pipeline = Pipeline(
            plan,
            _WindowSearch(front, request.inbox, request.query),
            extractor,
            store,
            reporter,
            run_id=run_id,
            pressure=lambda: _pressure(front, extractor),
        )
        error = await _run(pipeline, reporter)
        _add_api_counters(pipeline, front, extractor)
        status = run_status(pipeline, error)
        wall = time.monotonic() - started
        bound = _bound(settings, front, extractor)
        summary = summarize(run_id, status, after, before, pipeline, wall, bound, request.dry_run)
        away = store.outages
        summary = replace(
            summary, database_away_seconds=away.away_seconds, database_outages=away.count
        )
        if run_id is not None:
            reason = str(error) if error else pipeline.stop_reason
            await store.finish_run(run_id, status, pipeline.stats, summary.cost_usd, reason)
    if error is not None:
        raise error
    return ScanResult(summary, tuple(pipeline.planned), ending(pipeline, request.max_cost))


async def _open_ledger(
    stack: AsyncExitStack, settings: Settings, reporter: ScanReporter, *, lock: bool
) -> Store:
    """The database first: a bad DSN or a held lock fails before any API call."""
    store = await stack.enter_async_context(open_store(settings, note=reporter.note))
    if lock:
        await stack.enter_async_context(store.scan_lock())
        await store.close_stale_runs()
    return store


async def _plan(
    store: Store, settings: Settings, request: ScanRequest
) -> tuple[Plan, float | None, float | None]:
    """What to scan: the search window in slices, or the failed conversations to retry."""
    retry_refs: tuple[ConversationRef, ...] = ()
    slices: tuple[tuple[float | None, float | None], ...] = ()
    after, before = request.after, request.before
    if request.retry_failed:
        retry_refs = tuple(await store.failed_conversations())
    else:
        now = time.time()
        last_start = await store.last_completed_run_start()
        after, before = resolve_window(request.after, request.before, last_start, now)
        slices = split_window(after, before, now, request.slice_days)
    plan = Plan(
        slices=slices,
        llm=settings.scan.llm,
        model=settings.openai.model,
        max_completion_tokens=settings.openai.max_completion_tokens,
        concurrency=settings.scan.concurrency,
        batch_size=settings.scan.batch_size,
        rescan=request.rescan,
        limit=request.limit,
        max_cost=request.max_cost,
        dry_run=request.dry_run,
        # --retry-failed retries whatever its attempts; a normal scan stops after three.
        max_attempts=2**31 if request.retry_failed else MAX_ATTEMPTS,
        retry_refs=retry_refs,
    )
    return plan, after, before


async def _open_front(stack: AsyncExitStack, settings: Settings, token: str) -> FrontClient:
    """The Front client, its budgets, and a `GET /me` so a bad token fails at once."""
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=60, connect=10),
        connector=aiohttp.TCPConnector(limit=settings.scan.concurrency + 4),
    )
    stack.push_async_callback(session.close)
    budgets = FrontBudgets(settings.front.rpm, settings.front.headroom)
    front = FrontClient(session, settings.front.api_url, token, budgets)
    await front.check_auth()
    return front


def _open_extractor(
    stack: AsyncExitStack, settings: Settings, key: str | None
) -> OpenAIExtractor | None:
    """The model client, or None when this run asks no model (`--llm never`, dry runs)."""
    if key is None:
        return None
    client = AsyncOpenAI(
        api_key=key, base_url=settings.openai.base_url, max_retries=0, timeout=60.0
    )
    stack.push_async_callback(client.close)
    budgets = OpenAIBudgets(settings.openai.rpm, settings.openai.tpm)
    return OpenAIExtractor(
        client, settings.openai.model, settings.openai.max_completion_tokens, budgets
    )


async def _run(pipeline: Pipeline, reporter: ScanReporter) -> FrontscanError | None:
    with _signals(pipeline, reporter):
        try:
            await pipeline.run()
        except FrontscanError as error:
            return error
    return None


def _pressure(front: FrontClient, extractor: OpenAIExtractor | None) -> tuple[int, float]:
    """429s received and seconds spent waiting for rate budgets, so far, both APIs."""
    llm = extractor.counters if extractor else ApiCounters()
    return (
        front.counters.rate_limited + llm.rate_limited,
        front.counters.throttled_seconds + llm.throttled_seconds,
    )


def _add_api_counters(
    pipeline: Pipeline, front: FrontClient, extractor: OpenAIExtractor | None
) -> None:
    stats = pipeline.stats
    llm = extractor.counters if extractor else ApiCounters()
    stats.front_calls = front.counters.calls
    stats.openai_calls = llm.calls
    stats.prompt_tokens = llm.prompt_tokens
    stats.completion_tokens = llm.completion_tokens
    stats.rate_limited, stats.throttled_seconds = _pressure(front, extractor)


def _options(settings: Settings, request: ScanRequest) -> dict[str, object]:
    return {
        "llm": settings.scan.llm,
        "model": settings.openai.model,
        "concurrency": settings.scan.concurrency,
        "batch_size": settings.scan.batch_size,
        "inbox": request.inbox,
        "query": request.query,
        "rescan": request.rescan,
        "limit": request.limit,
        "max_cost": request.max_cost,
        "retry_failed": request.retry_failed,
        "advances_watermark": advances_watermark(request),
    }


def advances_watermark(request: ScanRequest) -> bool:
    """Whether a completed run covered all activity up to its start (cron may continue)."""
    return not (
        request.retry_failed
        or request.limit is not None
        or request.inbox
        or request.query
        or request.before is not None
    )


def _bound(settings: Settings, front: FrontClient, extractor: OpenAIExtractor | None) -> float:
    """DESIGN §4: the fastest this run could have gone under its rate limits and latency."""
    front_rpm = front.budgets.limit or front.budgets.company.per_minute
    llm = extractor.counters if extractor else ApiCounters()
    openai = extractor.budgets if extractor else OpenAIBudgets(settings.openai.rpm, 1)
    bound = bound_seconds(
        front_calls=front.counters.calls,
        front_rpm=front_rpm,
        llm_calls=llm.calls,
        openai_rpm=openai.requests.per_minute,
        llm_tokens=int(openai.tokens.stats.acquired),
        openai_tpm=openai.tokens.per_minute,
        conversations=1,
        latency_seconds=front.counters.http_seconds + llm.http_seconds,
        concurrency=settings.scan.concurrency,
    )
    search_calls = front.budgets.search.stats.calls
    return max(bound, 60.0 * search_calls / (front_rpm * FRONT_SEARCH_SHARE))


class _signals:
    """First Ctrl-C or SIGTERM: drain gracefully. Second Ctrl-C: abandon in-flight work."""

    def __init__(self, pipeline: Pipeline, reporter: ScanReporter) -> None:
        self._pipeline = pipeline
        self._reporter = reporter
        self._count = 0
        self._loop = asyncio.get_running_loop()

    def _handle(self) -> None:
        self._count += 1
        if self._count == 1:
            self._pipeline.stop("interrupted")  # first: nothing the note does may prevent it
            self._reporter.note(
                "stopping: finishing in-flight conversations (press Ctrl-C again to abandon them)"
            )
        else:
            self._pipeline.abort()

    def __enter__(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.add_signal_handler(sig, self._handle)

    def __exit__(self, *exc: object) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._loop.remove_signal_handler(sig)
