"""`scan --openai-batch`: the calls that can wait become lines of OpenAI Batch API files.

A conversation goes to a batch when the model is needed, its newest message is older than
`openai.batch_older_than_days` (0: every one), it did not already come back from a batch
unanswered, and the enqueued-token cap has room: OpenAI counts the prompt tokens of every
pending batch of the model against it, so the submitter starts from what the ledger's
open batches hold. Lines are the online request verbatim (`extract.batch_body`).

A batch is recorded in the ledger (its input file and every request, with the prepared
text the answer will be checked against) before `batches.create` is called, so a crash
in between is finished by the next collection, which finds or creates that batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from frontscan.batch.api import BatchClient
from frontscan.batch.collect import abandoned
from frontscan.batch.lines import (
    BatchRequest,
    Limits,
    custom_id,
    fits_alone,
    jsonl,
    prepared_json,
    request_line,
    split,
)
from frontscan.errors import ItemError
from frontscan.extract import batch_body
from frontscan.ledger.batches import BatchLedger, NewRequest
from frontscan.models import ConversationRef, ModelCall
from frontscan.prompt import PreparedMessage, worst_batch_cost_usd

logger = logging.getLogger(__name__)
DAY = 86_400.0


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchPolicy:
    """Which calls may wait: old enough, and within the limits of one batch file."""

    enabled: bool  # False: nothing goes to a batch, but waiting ones are still held back
    older_than_days: float
    now: float
    limits: Limits

    def old_enough(self, prepared: Sequence[PreparedMessage]) -> bool:
        newest = max((p.message.created_at for p in prepared), default=self.now)
        return newest <= self.now - self.older_than_days * DAY


@dataclass(slots=True)
class _Line:
    request: BatchRequest
    new: NewRequest
    model: str
    worst_usd: float


class BatchSubmitter:
    """The pipeline's `BatchRoute`: decides, collects lines, uploads and creates batches."""

    def __init__(
        self,
        policy: BatchPolicy,
        ledger: BatchLedger,
        client: BatchClient | None,
        *,
        run_id: int | None,
        pending_tokens: int,
    ) -> None:
        self._policy = policy
        self._ledger = ledger
        self._client = client  # None in dry runs: decide only
        self._run_id = run_id
        self._tokens_left = policy.limits.max_tokens - pending_tokens
        self._lines: list[_Line] = []
        self._bytes = 0
        self._lock = asyncio.Lock()
        self._added: set[str] = set()  # conversations put in this run's batches
        self.submitted = 0
        self.batches_created = 0
        self.estimated_usd = 0.0

    def takes(self, prepared: Sequence[PreparedMessage], call: ModelCall) -> bool:
        """Decide for a batch, reserving the call's prompt tokens under the enqueued cap."""
        if not self._policy.enabled or not self._policy.old_enough(prepared):
            return False
        if call.prompt_tokens > self._tokens_left:
            return False
        self._tokens_left -= call.prompt_tokens
        return True

    async def held(self, ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """Waiting: in an open batch, or in one this run is filling (a conversation found
        again in a later search slice must not be a duplicate `custom_id`)."""
        waiting = await self._ledger.waiting_among(ids) | (self._added & set(ids))
        return waiting, await self._ledger.returned_among(ids)

    async def add(
        self, ref: ConversationRef, prepared: Sequence[PreparedMessage], call: ModelCall
    ) -> None:
        if ref.id in self._added:
            return
        self._added.add(ref.id)
        digest = "".join(p.content_hash for p in prepared)
        custom = custom_id(ref.id, _short_hash(digest))
        request = BatchRequest(
            custom_id=custom,
            conversation_id=ref.id,
            line=request_line(custom, batch_body(call)),
            prompt_tokens=call.prompt_tokens,
            completion_budget=call.completion_budget,
        )
        if not fits_alone(request, self._policy.limits):
            raise ItemError(f"the model request is too large for a batch file ({ref.id})")
        new = NewRequest(custom_id=custom, ref=ref, messages_json=prepared_json(prepared))
        self._lines.append(_Line(request, new, call.model, worst_batch_cost_usd(call)))
        self._bytes += len(request.line)
        limits = self._policy.limits
        if len(self._lines) >= limits.max_requests or self._bytes >= limits.max_bytes:
            await self.flush()

    async def flush(self) -> None:
        """Submit every line collected so far, in files within the limits."""
        async with self._lock:
            lines, self._lines, self._bytes = self._lines, [], 0
            by_id = {line.request.custom_id: line for line in lines}
            for chunk in split([line.request for line in lines], self._policy.limits):
                await self._submit([by_id[r.custom_id] for r in chunk])

    async def _submit(self, lines: list[_Line]) -> None:
        if self._client is None or not lines:
            return
        model = lines[0].model
        content = jsonl([line.request for line in lines])
        name = f"frontscan-run{self._run_id or 0}-{self.batches_created + 1}.jsonl"
        file_id = await self._client.upload(name, content)
        worst = sum(line.worst_usd for line in lines)
        batch = await self._ledger.add_batch(
            input_file_id=file_id,
            run_id=self._run_id,
            model=model,
            estimated_usd=worst,
            estimated_tokens=sum(line.request.prompt_tokens for line in lines),
            requests=[line.new for line in lines],
        )
        self.submitted += len(lines)
        self.estimated_usd += worst
        metadata = {"frontscan_batch": str(batch), "frontscan_run": str(self._run_id or "")}
        try:
            remote = await self._client.create(file_id, metadata)
        except ItemError as error:  # refused: its conversations go back to the queue
            logger.warning(
                "batch from %s refused: %s; its conversations go back to the queue",
                file_id, error,
                extra={"event": "batch.refused", "input_file_id": file_id, "cause": str(error)},
            )  # fmt: skip
            requests = [(line.new.custom_id, line.new.ref) for line in lines]
            await self._ledger.commit(abandoned(batch, requests, str(error)), self._run_id)
            return
        await self._ledger.set_remote(batch, remote.id, remote.status)
        self.batches_created += 1
        logger.info(
            "batch %s created: %d requests, at most $%.4f", remote.id, len(lines), worst,
            extra={"event": "batch.created", "batch_id": remote.id, "requests": len(lines),
                   "estimated_usd": round(worst, 6)},
        )  # fmt: skip


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
