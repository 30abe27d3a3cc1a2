"""The OpenAI Files and Batches endpoints, behind a small client of frontscan's own types.

Imports openai, like `extract.py`, and translates the SDK's errors for these endpoints
here: 401/403 and quota stop the command, 429/5xx/timeouts/resets are retried through
`with_retries`, anything else is an item error naming the call. Batch calls do not
consume the per-minute budgets, so nothing here touches the RPM/TPM buckets.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

import openai
from openai import AsyncOpenAI
from openai.pagination import AsyncCursorPage
from openai.types import Batch

from frontscan.errors import AuthError, FrontscanError, ItemError, QuotaError, TransientError
from frontscan.limits.retry import with_retries

logger = logging.getLogger(__name__)
T = TypeVar("T")
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
FIND_PAGES = 10  # how far back `find_by_input` looks (100 batches a page)


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoteBatch:
    """What OpenAI says about one batch."""

    id: str
    status: str
    input_file_id: str
    output_file_id: str | None
    error_file_id: str | None
    total: int
    completed: int
    failed: int
    errors: str | None  # validation errors of a failed batch, joined

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


def _remote(batch: Batch) -> RemoteBatch:
    counts = batch.request_counts
    problems = batch.errors.data if batch.errors and batch.errors.data else []
    errors = "; ".join(f"{e.code}: {e.message}" for e in problems) or None
    return RemoteBatch(
        id=batch.id,
        status=batch.status,
        input_file_id=batch.input_file_id,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
        total=counts.total if counts else 0,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        errors=errors,
    )


class BatchClient:
    """Upload, create, poll, find, download; each call retried as one operation."""

    def __init__(self, client: AsyncOpenAI, *, attempts: int = 5) -> None:
        self._client = client
        self._attempts = attempts
        self.calls = 0

    async def upload(self, filename: str, content: bytes) -> str:
        uploaded = await self._call(
            "upload",
            lambda: self._client.files.create(
                file=(filename, content, "application/jsonl"), purpose="batch"
            ),
        )
        return uploaded.id

    async def create(self, input_file_id: str, metadata: Mapping[str, str]) -> RemoteBatch:
        """Create a batch once: a create whose answer was lost may still have happened, so
        before trying again the batch is looked for by its input file (never two)."""

        async def once() -> RemoteBatch:
            if (found := await self.find_by_input(input_file_id)) is not None:
                return found
            return _remote(await self._sent("create", create))

        async def create() -> Batch:
            return await self._client.batches.create(
                input_file_id=input_file_id,
                endpoint="/v1/chat/completions",
                completion_window="24h",
                metadata=dict(metadata),
            )

        try:
            return _remote(await self._sent("create", create))
        except TransientError as error:
            logger.info(
                "batch create for %s unanswered (%s): looking for it before trying again",
                input_file_id, error,
                extra={"event": "batch.create_unanswered", "input_file_id": input_file_id,
                       "cause": str(error)},
            )  # fmt: skip
        return await with_retries(once, attempts=self._attempts, on_retry=self._retrying("create"))

    async def retrieve(self, batch_id: str) -> RemoteBatch:
        return _remote(
            await self._call("retrieve", lambda: self._client.batches.retrieve(batch_id))
        )

    async def find_by_input(self, input_file_id: str) -> RemoteBatch | None:
        """The batch created from this input file, if one was (a crash may hide its id)."""
        after: str | None = None

        async def page_after() -> AsyncCursorPage[Batch]:
            if after is None:
                return await self._client.batches.list(limit=100)
            return await self._client.batches.list(limit=100, after=after)

        for _ in range(FIND_PAGES):
            page = await self._call("list", page_after)
            for batch in page.data:
                if batch.input_file_id == input_file_id:
                    return _remote(batch)
            if not page.has_more or not page.data:
                return None
            after = page.data[-1].id
        return None

    async def download(self, file_id: str) -> bytes:
        content = await self._call("download", lambda: self._client.files.content(file_id))
        return content.content

    async def _call(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        return await with_retries(
            lambda: self._sent(what, operation),
            attempts=self._attempts,
            on_retry=self._retrying(what),
        )

    async def _sent(self, what: str, operation: Callable[[], Awaitable[T]]) -> T:
        """One request, its error translated."""
        self.calls += 1
        try:
            return await operation()
        except openai.OpenAIError as error:
            # Not chained: the SDK error holds the request and a 401 body that echoes part
            # of the key; _translate keeps what an operator needs.
            raise _translate(what, error) from None

    @staticmethod
    def _retrying(what: str) -> Callable[[TransientError, float], None]:
        def retrying(error: TransientError, delay: float) -> None:
            logger.info(
                "retrying batch %s in %.2f s: %s", what, delay, error,
                extra={"event": "batch.retry", "call": what, "delay": round(delay, 3),
                       "cause": str(error)},
            )  # fmt: skip

        return retrying


def open_batch_client(stack: AsyncExitStack, api_key: str, base_url: str | None) -> BatchClient:
    """A scan's Files/Batches client, closed by `stack`; no SDK retries, long timeouts."""
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=120.0)
    stack.push_async_callback(client.close)
    return BatchClient(client)


@asynccontextmanager
async def opened(api_key: str, base_url: str | None) -> AsyncIterator[BatchClient]:
    """A client of its own (`frontscan batches`): no SDK retries, long timeouts for files."""
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=120.0)
    async with client:
        yield BatchClient(client)


def _translate(what: str, error: openai.OpenAIError) -> FrontscanError:
    """The SDK's error as frontscan's; the message is the server's, never the key."""
    if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
        return TransientError(f"OpenAI batch {what}: {type(error).__name__}")
    if not isinstance(error, openai.APIStatusError):
        return ItemError(f"OpenAI batch {what}: {type(error).__name__}")
    status, code = error.status_code, str(error.code or error.type or "")
    body = error.body
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if status == 429 and ("quota" in code or "billing" in code):
        return QuotaError(
            f"OpenAI: 429 {code}: the account is out of quota or credit; add credit, then run "
            "`frontscan batches` again (nothing is lost)"
        )
    if status in (401, 403):
        return AuthError(
            f"OpenAI: {status} {code or 'unauthorized'}: OpenAI rejected OPENAI_API_KEY; "
            "check the key (and OPENAI_BASE_URL)"
        )
    if status == 429 or status >= 500 or status in (408, 409):
        return TransientError(f"OpenAI batch {what}: {status} {code}".strip())
    return ItemError(f"OpenAI batch {what}: {status} {code}: {message[:160]}".strip())
