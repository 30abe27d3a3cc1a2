"""The design frontscan replaces, kept runnable so demos and benchmarks compare honestly.

The old tool listed conversations, then processed them in fixed batches of 10 (all
messages of each conversation sent to the model) with a 1 s sleep between batches and no
rate limiting: a 429 or any error simply lost that conversation. The second strategy is
the obvious "fix" people reach for: an unthrottled semaphore of 20. Both talk to the same
APIs with the same schema as frontscan, so only the scheduling differs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import quote

import aiohttp
import openai
from openai import AsyncOpenAI
from yarl import URL

from frontscan.extract import Extraction
from frontscan.prompt import WHOLE_SYSTEM_PROMPT

Strategy = Literal["batches", "semaphore"]


class BaselineProgress(Protocol):
    """What a live display needs from the old design (the demo shows it like a scan)."""

    def listed(self, conversations: int) -> None: ...
    def finished(self, numbers: int, failed: bool) -> None: ...
    def batch_done(self, index: int, conversations: int, seconds: float, lost: int) -> None: ...


@dataclass(slots=True)
class BaselineResult:
    strategy: Strategy
    conversations: int = 0
    failed: int = 0
    numbers: set[tuple[str, str]] = field(default_factory=set)  # (conversation, number)
    seconds: float = 0.0


async def run_baseline(
    strategy: Strategy,
    *,
    front_url: str,
    front_token: str,
    openai_url: str | None,
    openai_key: str,
    after: float,
    before: float | None,
    model: str = "gpt-4o-mini",
    progress: BaselineProgress | None = None,
) -> BaselineResult:
    """Scan the window the old way; returns what it managed and how long it took."""
    result = BaselineResult(strategy)
    started = time.monotonic()
    headers = {"Authorization": f"Bearer {front_token}"}
    client = AsyncOpenAI(api_key=openai_key, base_url=openai_url)  # SDK default: 2 retries
    async with aiohttp.ClientSession(headers=headers) as session:
        ids = await _list(session, front_url, after, before)
        result.conversations = len(ids)
        if progress is not None:
            progress.listed(len(ids))

        async def one(conversation_id: str) -> None:
            found: list[str] = []
            try:
                found = await _process(session, client, front_url, conversation_id, model)
                result.numbers.update((conversation_id, n) for n in found)
            except (aiohttp.ClientError, openai.OpenAIError, ValueError, KeyError):
                result.failed += 1
                if progress is not None:
                    progress.finished(0, True)
                return
            if progress is not None:
                progress.finished(len(set(found)), False)

        if strategy == "batches":
            for start in range(0, len(ids), 10):
                began, lost = time.monotonic(), result.failed
                batch = ids[start : start + 10]
                await asyncio.gather(*(one(c) for c in batch))
                if progress is not None:
                    took = time.monotonic() - began
                    progress.batch_done(start // 10 + 1, len(batch), took, result.failed - lost)
                await asyncio.sleep(1.0)
        else:
            gate = asyncio.Semaphore(20)
            await asyncio.gather(*(_gated(gate, one, c) for c in ids))
    await client.close()
    result.seconds = time.monotonic() - started
    return result


async def _gated(
    gate: asyncio.Semaphore, work: Callable[[str], Awaitable[None]], item: str
) -> None:
    async with gate:
        await work(item)


async def _list(
    session: aiohttp.ClientSession, base: str, after: float, before: float | None
) -> list[str]:
    query = f"after:{int(after)}" + (f" before:{int(before)}" if before else "")
    url: URL | None = URL(
        f"{base}/conversations/search/{quote(query, safe='')}?limit=100", encoded=True
    )
    ids: list[str] = []
    while url is not None:
        payload = await _get(session, url)
        ids.extend(str(c["id"]) for c in payload["_results"])
        following = payload["_pagination"].get("next")
        url = URL(following, encoded=True) if following else None
    return ids


async def _get(session: aiohttp.ClientSession, url: URL) -> dict[str, Any]:
    async with session.get(url) as response:
        response.raise_for_status()
        payload: dict[str, Any] = await response.json()
        return payload


async def _process(
    session: aiohttp.ClientSession, client: AsyncOpenAI, base: str, conversation_id: str, model: str
) -> list[str]:
    payload = await _get(session, URL(f"{base}/conversations/{conversation_id}/messages"))
    blocks = [
        f'<message id="{m["id"]}">\n{m.get("text") or m.get("body") or ""}\n</message>'
        for m in payload["_results"]
    ]
    completion = await client.chat.completions.parse(
        model=model,
        messages=[
            {"role": "system", "content": WHOLE_SYSTEM_PROMPT},
            {"role": "user", "content": "\n\n".join(blocks)},
        ],
        response_format=Extraction,
        max_completion_tokens=2000,
    )
    parsed = completion.choices[0].message.parsed
    return [n.tracking_number.replace(" ", "").upper() for n in parsed.numbers] if parsed else []
