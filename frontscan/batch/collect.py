"""Collecting finished batches: download, check each answer as online, commit once.

For every batch the ledger holds open: finish a submission a crash interrupted (find the
batch by its input file, or create it), ask OpenAI for its status, and once it is
terminal download the output and error files, join lines to requests by `custom_id`
(output order means nothing), parse and validate each answer exactly as the online path
does (`extract.claims_from_batch`, `answers.validate`, `conversation.done`) and commit
results, request states and the batch's "collected" mark in one transaction
(`BatchLedger.commit`). Expired, failed and missing lines — and every line of a failed
or cancelled batch — go back to the normal queue as failed outcomes: the next scan that
sees them retries them online.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from frontscan.answers import shipment_claims, validate
from frontscan.batch.api import BatchClient, RemoteBatch
from frontscan.batch.lines import LineResult, parse_results, prepared_from_json, usage_of
from frontscan.conversation import done, failed
from frontscan.errors import ItemError
from frontscan.extract import claims_from_batch
from frontscan.ledger.batches import BatchLedger, Collected, OpenBatch, RequestState
from frontscan.models import BatchStats, ConversationRef, LedgerEntry, Outcome
from frontscan.prompt import batch_cost_usd, cost_usd

logger = logging.getLogger(__name__)


def abandoned(batch: int, requests: Sequence[tuple[str, ConversationRef]], error: str) -> Collected:
    """A batch that will never answer: every (custom id, ref) back to the queue."""
    reason = f"batch: {error}"[:300]
    return Collected(
        batch=batch,
        status="failed",
        outcomes=tuple(failed(ref, reason) for _, ref in requests),
        marks=tuple((custom, "returned", reason) for custom, _ in requests),
        prompt_tokens=0,
        completion_tokens=0,
        cost_usd=0.0,
        error=reason,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Judged:
    custom_id: str
    outcome: Outcome
    state: RequestState
    error: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Collector:
    """Collects every finished batch; `stats` sums what this collector did."""

    def __init__(
        self,
        client: BatchClient,
        ledger: BatchLedger,
        *,
        completion_budget: int,
        run_id: int | None,
    ) -> None:
        self._client = client
        self._ledger = ledger
        self._budget = completion_budget
        self._run_id = run_id
        self.stats = BatchStats()

    async def collect(self) -> BatchStats:
        """One pass over the open batches; what is not finished yet stays open."""
        waiting = open_batches = 0
        for batch in await self._ledger.open_batches():
            remote = await self._remote(batch)
            if remote is None:
                continue
            if not remote.terminal:
                await self._ledger.set_status(batch.id, remote.status)
                waiting += batch.requests
                open_batches += 1
                continue
            await self._collect(batch, remote)
        self.stats = replace(self.stats, waiting=waiting, open_batches=open_batches)
        return self.stats

    async def _remote(self, batch: OpenBatch) -> RemoteBatch | None:
        if batch.openai_batch_id is not None:
            return await self._client.retrieve(batch.openai_batch_id)
        # Recorded, but `create` never answered: it may or may not have happened.
        remote = await self._client.find_by_input(batch.input_file_id)
        if remote is None:
            try:
                remote = await self._client.create(
                    batch.input_file_id, {"frontscan_batch": str(batch.id)}
                )
            except ItemError as error:
                requests = [
                    (r.custom_id, r.ref) for r in await self._ledger.waiting_requests(batch.id)
                ]
                await self._ledger.commit(abandoned(batch.id, requests, str(error)), self._run_id)
                return None
        await self._ledger.set_remote(batch.id, remote.id, remote.status)
        logger.info(
            "batch %s resumed from input file %s", remote.id, batch.input_file_id,
            extra={"event": "batch.resumed", "batch_id": remote.id,
                   "input_file_id": batch.input_file_id},
        )  # fmt: skip
        return remote

    async def _collect(self, batch: OpenBatch, remote: RemoteBatch) -> None:
        results: dict[str, LineResult] = {}
        for file_id in (remote.output_file_id, remote.error_file_id):
            if file_id is not None:
                try:
                    results.update(parse_results(await self._client.download(file_id)))
                except ValueError as error:
                    raise ItemError(f"OpenAI batch {remote.id}: {error}") from None
        requests = await self._ledger.waiting_requests(batch.id)
        # Numbers earlier scans stored for these conversations: a reply that names or
        # quotes one is its mention, as on the online path (`conversation.done`).
        entries = await self._ledger.entries([r.ref.id for r in requests])
        judged = [
            self._judge(r.custom_id, r.ref, r.messages, results, remote, entries.get(r.ref.id))
            for r in requests
        ]
        prompt = sum(j.prompt_tokens for j in judged)
        completion = sum(j.completion_tokens for j in judged)
        cost = batch_cost_usd(batch.model, prompt, completion)
        collected = Collected(
            batch=batch.id,
            status=remote.status,
            outcomes=tuple(j.outcome for j in judged),
            marks=tuple((j.custom_id, j.state, j.error) for j in judged),
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=cost,
            error=remote.errors,
        )
        stored = await self._ledger.commit(collected, self._run_id)
        if stored is None:
            logger.info(
                "batch %s was collected by another collector", remote.id,
                extra={"event": "batch.already_collected", "batch_id": remote.id},
            )  # fmt: skip
            return
        answered = sum(j.state == "answered" for j in judged)
        s = self.stats
        self.stats = replace(
            s,
            collected_batches=s.collected_batches + 1,
            answered=s.answered + answered,
            returned=s.returned + len(judged) - answered,
            numbers_found=s.numbers_found + stored,
            prompt_tokens=s.prompt_tokens + prompt,
            completion_tokens=s.completion_tokens + completion,
            cost_usd=s.cost_usd + cost,
            saved_usd=s.saved_usd + cost_usd(batch.model, prompt, completion) - cost,
        )
        logger.info(
            "batch %s (%s) collected: %d answered, %d back to the queue, %d new numbers",
            remote.id, remote.status, answered, len(judged) - answered, stored,
            extra={"event": "batch.collected", "batch_id": remote.id, "status": remote.status,
                   "answered": answered, "returned": len(judged) - answered,
                   "numbers": stored, "cost_usd": round(cost, 6)},
        )  # fmt: skip

    def _judge(
        self,
        custom: str,
        ref: ConversationRef,
        messages: list[dict[str, object]],
        results: dict[str, LineResult],
        remote: RemoteBatch,
        entry: LedgerEntry | None = None,
    ) -> _Judged:
        result = results.get(custom)
        if result is None:
            why = remote.errors if remote.status == "failed" else f"no result ({remote.status})"
            return _returned(custom, ref, f"batch {remote.id}: {why}")
        if result.kind != "answer" or result.body is None:
            return _returned(custom, ref, f"batch {remote.id}: {result.error}")
        prompt, completion = usage_of(result.body)
        try:
            claims = claims_from_batch(result.body, self._budget)
        except ItemError as error:  # the online path would have retried: so does the queue
            judged = _returned(custom, ref, f"batch {remote.id}: {error}")
            return replace(judged, prompt_tokens=prompt, completion_tokens=completion)
        prepared = prepared_from_json(ref.id, ref.subject, messages)
        finds, dropped = validate(claims, prepared)
        return _Judged(
            custom_id=custom,
            outcome=done(ref, entry, prepared, finds, dropped, shipment_claims(claims)),
            state="answered",
            error=None,
            prompt_tokens=prompt,
            completion_tokens=completion,
        )


def _returned(custom: str, ref: ConversationRef, reason: str) -> _Judged:
    reason = reason[:300]
    return _Judged(custom_id=custom, outcome=failed(ref, reason), state="returned", error=reason)
