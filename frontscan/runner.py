"""The composition root: open every resource in one AsyncExitStack and run a scan.

Order matters and is deliberate: configuration checks first (no I/O), then the database
(a bad DSN fails before any API call), the scan lock, the Front auth probe, and only then
the pipeline. Whatever happens, the run row is closed with its status and counters.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass, replace

import aiohttp

from frontscan.batch.api import BatchClient, open_batch_client
from frontscan.batch.side import BatchSide
from frontscan.config import Settings
from frontscan.errors import ConfigError, FrontscanError
from frontscan.extract import OpenAIExtractor, open_extractor
from frontscan.front import FrontClient
from frontscan.front_sources import choose_source, events_line
from frontscan.ledger.connect import open_store
from frontscan.ledger.store import Store
from frontscan.limits.bound import ApiUsage, usage_bound, with_usage
from frontscan.limits.budgets import FrontBudgets
from frontscan.limits.openai_budgets import OpenAIBudgets
from frontscan.models import ConversationRef, Plan, Planned, ScanRequest, Window
from frontscan.pipeline import Pipeline
from frontscan.prompt import cost_usd
from frontscan.report import ScanReporter
from frontscan.summary import Summary, dry_run_cost, dry_run_stats, run_status
from frontscan.window import check_order, resolve_window, split_window

__all__ = ["ScanRequest", "ScanResult", "scan"]

MAX_ATTEMPTS = 3
logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanResult:
    summary: Summary  # its `problem` is the clean end that still warrants a non-zero exit
    planned: tuple[Planned, ...]  # dry runs: what would be scanned


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
        plan, window = await _plan(store, settings, request)
        front = await _open_front(stack, settings, front_token)
        wanted = request.source or settings.front.source
        chosen = await choose_source(wanted, request, front, store, window)
        if chosen.note:
            reporter.note(chosen.note)
        if chosen.name == "events":  # one stream for the window: no slice splits a thread
            plan = replace(plan, slices=(window,) if plan.slices else ())
        extractor = _open_extractor(stack, settings, openai_key)
        run_id = None
        if not request.dry_run:
            options = _options(settings, request) | {"source": chosen.name}
            run_id = await store.start_run(window, options)
        batch_client = _open_batches(stack, settings, openai_key)
        batches = BatchSide(settings, store, batch_client, run_id)
        await batches.collect()  # earlier batches' answers first: nothing is asked twice
        pipeline = Pipeline(
            plan,
            chosen.source,
            extractor,
            store,
            reporter,
            run_id=run_id,
            pressure=lambda: _pressure(front, extractor),
            batch=await batches.route(plan),
        )
        error = await _run(pipeline, reporter)
        if chosen.events is not None:
            reporter.note(events_line(chosen.events))
        try:
            batch_stats = await batches.finish()
        except FrontscanError as failure:
            error, batch_stats = error or failure, None
        front_usage, llm_usage = front.usage(), _usage(extractor)
        stats = with_usage(pipeline.stats, front_usage, llm_usage)
        bound = usage_bound(front_usage, llm_usage, concurrency=settings.scan.concurrency)
        cost = cost_usd(settings.openai.model, stats.prompt_tokens, stats.completion_tokens)
        if request.dry_run:
            stats = dry_run_stats(stats, pipeline.planned)
            cost = dry_run_cost(pipeline.planned)
        elif batch_stats is not None:
            cost += batch_stats.cost_usd
        untrusted = tuple(front.untrusted)
        summary = Summary(
            run_id=run_id,
            status=run_status(pipeline.stop_reason, stats, error, untrusted=bool(untrusted)),
            window=window,
            stats=stats,
            batch=batch_stats,
            cost_usd=cost,
            wall_seconds=time.monotonic() - started,
            bound_seconds=bound,
            stop_reason=pipeline.stop_reason,
            dry_run=request.dry_run,
            max_cost=request.max_cost,
            database_away_seconds=store.outages.away_seconds,
            database_outages=store.outages.count,
            slices=len(plan.slices),
            slice_days=request.slice_days,
            untrusted=untrusted,
        )
        if run_id is not None:
            reason = str(error) if error else pipeline.stop_reason
            await store.finish_run(
                run_id,
                summary.status,
                stats,
                summary.cost_usd,
                reason or (str(summary.problem) if untrusted else None),
                advances_watermark=not untrusted,
            )
    if error is not None:
        raise error
    return ScanResult(summary=summary, planned=pipeline.planned)


async def _open_ledger(
    stack: AsyncExitStack, settings: Settings, reporter: ScanReporter, *, lock: bool
) -> Store:
    """The database first: a bad DSN or a held lock fails before any API call."""
    store = await stack.enter_async_context(open_store(settings, note=reporter.note))
    if lock:
        await stack.enter_async_context(store.scan_lock())
        await store.close_stale_runs()
    return store


async def _plan(store: Store, settings: Settings, request: ScanRequest) -> tuple[Plan, Window]:
    """What to scan: the search window in slices, or the failed conversations to retry."""
    retry_refs: tuple[ConversationRef, ...] = ()
    slices: tuple[Window, ...] = ()
    window = request.window
    if request.retry_failed:
        retry_refs = tuple(await store.failed_conversations())
    else:
        now = time.time()
        last_start = await store.last_completed_run_start()
        window = resolve_window(request.window, last_start, now)
        slices = split_window(window, now, request.slice_days)
    plan = Plan(
        request=request,
        llm=settings.scan.llm,
        model=settings.openai.model,
        max_completion_tokens=settings.openai.max_completion_tokens,
        prompting=settings.openai.prompt,
        slices=slices,
        retry_refs=retry_refs,
        concurrency=settings.scan.concurrency,
        batch_size=settings.scan.batch_size,
        # --retry-failed retries whatever its attempts; a normal scan stops after three.
        max_attempts=2**31 if request.retry_failed else MAX_ATTEMPTS,
    )
    return plan, window


async def _open_front(stack: AsyncExitStack, settings: Settings, token: str) -> FrontClient:
    """The Front client, its budgets, and a `GET /me` so a bad token fails at once.

    A request past `front.timeout_seconds` (connect to last byte) fails as a timeout and
    is retried: a server that accepts and never answers cannot hold a worker forever."""
    timeout = settings.front.timeout_seconds
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(10.0, timeout)),
        connector=aiohttp.TCPConnector(limit=settings.scan.concurrency + 4),
    )
    stack.push_async_callback(session.close)
    budgets = FrontBudgets(
        settings.front.rpm, settings.front.headroom, reserve=settings.front.reserve
    )
    front = FrontClient(
        session,
        settings.front.api_url,
        token,
        budgets,
        check_totals=settings.front.check_search_total,
    )
    await front.check_auth()
    return front


def _open_extractor(
    stack: AsyncExitStack, settings: Settings, key: str | None
) -> OpenAIExtractor | None:
    """The model client, or None when this run asks no model (`--llm never`, dry runs)."""
    if key is None:
        return None
    budgets = OpenAIBudgets(settings.openai.rpm, settings.openai.tpm)
    return open_extractor(
        stack, key, settings.openai.base_url, budgets, timeout=settings.openai.timeout_seconds
    )


def _open_batches(stack: AsyncExitStack, settings: Settings, key: str | None) -> BatchClient | None:
    """The Files/Batches client (collection and `--openai-batch`), when a key is used."""
    return None if key is None else open_batch_client(stack, key, settings.openai.base_url)


async def _run(pipeline: Pipeline, reporter: ScanReporter) -> FrontscanError | None:
    with _signals(pipeline, reporter):
        try:
            await pipeline.run()
        except FrontscanError as error:
            return error
    return None


def _usage(extractor: OpenAIExtractor | None) -> ApiUsage:
    return extractor.usage() if extractor else ApiUsage()


def _pressure(front: FrontClient, extractor: OpenAIExtractor | None) -> tuple[int, float]:
    """429s received and seconds spent waiting for rate budgets, so far, both APIs."""
    ours, theirs = front.usage(), _usage(extractor)
    return (
        ours.rate_limited + theirs.rate_limited,
        ours.throttled_seconds + theirs.throttled_seconds,
    )


def _options(settings: Settings, request: ScanRequest) -> dict[str, object]:
    """The run's `options` column: the request as given, the settings that shaped it."""
    return asdict(request) | {
        "llm": settings.scan.llm,
        "model": settings.openai.model,
        "concurrency": settings.scan.concurrency,
        "batch_size": settings.scan.batch_size,
        "openai_batch": settings.openai.batch,
        "batch_older_than_days": settings.openai.batch_older_than_days,
        "advances_watermark": request.advances_watermark,
    }


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
