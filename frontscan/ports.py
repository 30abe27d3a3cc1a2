"""The small Protocols the pipeline and `conversation.py` depend on, and nothing else.

The runner plugs in the Front client, the OpenAI extractor, the store and a reporter;
`tests/fakes.py` plugs in in-memory ones. Nothing here imports aiohttp, openai or psycopg.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from frontscan.limits.bound import ApiUsage
from frontscan.models import (
    BatchTiming,
    Claim,
    ConversationMessages,
    ConversationRef,
    LedgerEntry,
    ModelCall,
    Outcome,
    SearchPage,
    Window,
)
from frontscan.prompt import PreparedMessage


class Source(Protocol):
    """Where conversations come from: search results by window, then their new messages."""

    def search(self, window: Window) -> AsyncIterator[SearchPage]: ...
    async def messages_since(
        self, conversation_id: str, since: float | None
    ) -> ConversationMessages: ...


class Extractor(Protocol):
    """Sends one `ModelCall`; answers with the model's claims, schema-checked, not yet trusted."""

    async def extract(self, call: ModelCall) -> tuple[Claim, ...]: ...
    def usage(self) -> ApiUsage: ...


class BatchRoute(Protocol):
    """Where a `--openai-batch` scan sends the calls that can wait (`batch/submit.py`)."""

    def takes(self, prepared: Sequence[PreparedMessage], call: ModelCall) -> bool: ...
    async def add(
        self, ref: ConversationRef, prepared: Sequence[PreparedMessage], call: ModelCall
    ) -> None: ...
    async def held(self, ids: Sequence[str]) -> tuple[set[str], set[str]]:
        """(waiting in a batch: skip; came back from one unanswered: online only)."""
        ...


class Ledger(Protocol):
    async def ledger_for(self, ids: Sequence[str]) -> dict[str, LedgerEntry]: ...
    async def record(self, outcomes: Sequence[Outcome], run_id: int | None) -> int: ...


class Reporter(Protocol):
    def add_total(self, conversations: int) -> None: ...
    def skipped(self, conversations: int) -> None: ...
    def conversation_done(self, outcome: Outcome) -> None: ...
    def batch_committed(self, timing: BatchTiming) -> None: ...
