"""The Batch API side of one scan: collect finished batches first, submit what can wait.

Every scan with an OpenAI key collects first, so results of earlier backfills land before
anything else and their conversations are not scanned again. With `--openai-batch` the
scan's calls that can wait go to a `BatchSubmitter`; the rest go online as usual. At the
end the lines still held are submitted and the ledger says what is still waiting.
"""

from __future__ import annotations

import time
from dataclasses import replace

from frontscan.batch.api import BatchClient
from frontscan.batch.collect import Collector
from frontscan.batch.lines import Limits
from frontscan.batch.submit import BatchPolicy, BatchSubmitter
from frontscan.config import Settings
from frontscan.ledger.batches import BatchLedger
from frontscan.ledger.store import Store
from frontscan.models import BatchStats, Plan
from frontscan.ports import BatchRoute


class BatchSide:
    def __init__(
        self, settings: Settings, store: Store, client: BatchClient | None, run_id: int | None
    ) -> None:
        self._settings = settings
        self._ledger = BatchLedger(store)
        self._client = client
        self._run_id = run_id
        self._collected = BatchStats()
        self._submitter: BatchSubmitter | None = None

    @property
    def enabled(self) -> bool:
        return self._settings.openai.batch

    async def collect(self) -> None:
        """Collect what has finished (a dry run only looks: it writes nothing)."""
        if self._client is None:
            return
        collector = Collector(
            self._client,
            self._ledger,
            completion_budget=self._settings.openai.max_completion_tokens,
            run_id=self._run_id,
        )
        self._collected = await collector.collect()

    async def route(self, plan: Plan) -> BatchRoute:
        """The submitter for `--openai-batch` (in a dry run: it decides, sends nothing).

        Without batch mode it sends nothing but still holds back the conversations that
        wait in a batch, so an online scan never asks for them a second time.
        """
        openai = self._settings.openai
        pending = sum(b.estimated_tokens for b in await self._ledger.open_batches())
        policy = BatchPolicy(
            enabled=self.enabled and plan.llm != "never",
            older_than_days=openai.batch_older_than_days,
            now=time.time(),
            limits=Limits(max_tokens=openai.batch_enqueued_tokens),
        )
        client = None if plan.request.dry_run else self._client
        self._submitter = BatchSubmitter(
            policy, self._ledger, client, run_id=self._run_id, pending_tokens=pending
        )
        return self._submitter

    async def finish(self) -> BatchStats | None:
        """Submit the lines still held; the run's account of the Batch API."""
        if not self.enabled and self._client is None:
            return None
        stats = self._collected
        if self._submitter is not None:
            await self._submitter.flush()
            stats = replace(
                stats,
                submitted=self._submitter.submitted,
                batches_created=self._submitter.batches_created,
                estimated_usd=self._submitter.estimated_usd,
            )
        totals = await self._ledger.totals()
        return replace(
            stats, waiting=int(totals["waiting"]), open_batches=int(totals["open_batches"])
        )
