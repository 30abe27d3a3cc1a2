"""Batch API files as pure data: custom ids, JSONL input lines, splitting, output lines.

No I/O here. A request line is the online call's body verbatim (openai.md §4: "same
body as the sync call, incl. response_format"), so a batch answer is the same answer.
Splitting honours the documented per-file limits (50,000 requests, 200 MB) and the
enqueued-prompt-token cap, which OpenAI enforces per model over all pending batches.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from frontscan.detector.carriers import find_candidates
from frontscan.models import Message
from frontscan.prompt import PreparedMessage

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS = 50_000
MAX_FILE_BYTES = 200 * 1024 * 1024
DEFAULT_ENQUEUED_TOKENS = 2_000_000  # gpt-4o-mini at tier 1; `openai.batch_enqueued_tokens`
HASH_CHARS = 16


def custom_id(conversation_id: str, content_hash: str) -> str:
    """`<conversation>:<hash>`: unique per batch, and tells an answer to stale content apart."""
    return f"{conversation_id}:{content_hash[:HASH_CHARS]}"


def conversation_of(custom: str) -> str:
    return custom.rpartition(":")[0]


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchRequest:
    """One input line and what it may cost: its prompt estimate and completion budget."""

    custom_id: str
    conversation_id: str
    line: bytes  # one JSON object and its newline
    prompt_tokens: int
    completion_budget: int


def request_line(custom: str, body: Mapping[str, Any]) -> bytes:
    record = {"custom_id": custom, "method": "POST", "url": ENDPOINT, "body": dict(body)}
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    max_requests: int = MAX_REQUESTS
    max_bytes: int = MAX_FILE_BYTES
    max_tokens: int = DEFAULT_ENQUEUED_TOKENS


def fits_alone(request: BatchRequest, limits: Limits) -> bool:
    """A request that could never go in a batch on its own (it then goes online)."""
    return len(request.line) <= limits.max_bytes and request.prompt_tokens <= limits.max_tokens


def split(requests: Iterable[BatchRequest], limits: Limits) -> list[list[BatchRequest]]:
    """Consecutive chunks, each within the request, byte and enqueued-token limits.

    Requests that do not fit even alone are left out: the caller checks `fits_alone`.
    Each chunk on its own respects the token cap; submitting them one after another
    while earlier ones are pending is the submitter's concern.
    """
    chunks: list[list[BatchRequest]] = []
    current: list[BatchRequest] = []
    size = tokens = 0
    for request in requests:
        if not fits_alone(request, limits):
            continue
        if current and (
            len(current) >= limits.max_requests
            or size + len(request.line) > limits.max_bytes
            or tokens + request.prompt_tokens > limits.max_tokens
        ):
            chunks.append(current)
            current, size, tokens = [], 0, 0
        current.append(request)
        size += len(request.line)
        tokens += request.prompt_tokens
    if current:
        chunks.append(current)
    return chunks


def jsonl(requests: Sequence[BatchRequest]) -> bytes:
    return b"".join(r.line for r in requests)


Kind = Literal["answer", "error", "expired"]


@dataclass(frozen=True, kw_only=True, slots=True)
class LineResult:
    """One line of an output or error file, keyed by `custom_id` (order means nothing)."""

    custom_id: str
    kind: Kind
    body: dict[str, Any] | None  # the ChatCompletion, for answers
    error: str | None  # why a line failed, for the ledger and the log


def parse_results(content: bytes) -> dict[str, LineResult]:
    """Every line of a downloaded file by custom id; a line that is not JSON is an error."""
    results: dict[str, LineResult] = {}
    for raw in content.decode("utf-8", errors="replace").splitlines():
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as error:
            raise ValueError(f"a batch result line is not JSON ({error.msg})") from error
        result = parse_record(record)
        if result is not None:
            results[result.custom_id] = result
    return results


def parse_record(record: Any) -> LineResult | None:
    """Success, HTTP failure (error file, `response.status_code` ≥ 400) or `batch_expired`."""
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        return None
    custom = record["custom_id"]
    error = record.get("error")
    response = record.get("response")
    if isinstance(error, dict):
        code = str(error.get("code") or "error")
        kind: Kind = "expired" if code == "batch_expired" else "error"
        return LineResult(
            custom_id=custom, kind=kind, body=None, error=f"{code}: {error.get('message', '')}"
        )
    if not isinstance(response, dict):
        return LineResult(custom_id=custom, kind="error", body=None, error="no response")
    status = response.get("status_code")
    body = response.get("body")
    if status == 200 and isinstance(body, dict):
        return LineResult(custom_id=custom, kind="answer", body=body, error=None)
    detail = body.get("error") if isinstance(body, dict) else None
    what = ""
    if isinstance(detail, dict):
        what = f" {detail.get('code') or detail.get('type') or ''}: {detail.get('message', '')}"
    return LineResult(custom_id=custom, kind="error", body=None, error=f"HTTP {status}{what}"[:300])


def usage_of(body: Mapping[str, Any]) -> tuple[int, int]:
    """(prompt, completion) tokens the server billed for one answered line."""
    usage = body.get("usage")
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


def prepared_json(prepared: Sequence[PreparedMessage]) -> str:
    """What a line was built from, kept in the ledger so collection needs no Front call."""
    return json.dumps(
        [
            {
                "id": p.message.id,
                "created_at": p.message.created_at,
                "type": p.message.type,
                "inbound": p.message.is_inbound,
                "text": p.text,
                "hash": p.content_hash,
                "quoted": p.quoted,
            }
            for p in prepared
        ],
        ensure_ascii=False,
    )


def prepared_from_json(
    conversation_id: str, subject: str, items: Sequence[Mapping[str, Any]]
) -> list[PreparedMessage]:
    """The prepared messages again; candidates are recomputed from the same cleaned text."""
    prepared = []
    for item in items:
        text = str(item["text"])
        message = Message(
            id=str(item["id"]),
            conversation_id=conversation_id,
            created_at=float(item["created_at"]),
            type=str(item.get("type", "email")),
            is_inbound=bool(item.get("inbound", True)),
            subject=subject,
            body=text,
            text=text,
        )
        prepared.append(
            PreparedMessage(
                message=message,
                text=text,
                content_hash=str(item["hash"]),
                candidates=tuple(find_candidates(text)),
                quoted=str(item.get("quoted", "")),  # requests written before 008 have none
            )
        )
    return prepared
