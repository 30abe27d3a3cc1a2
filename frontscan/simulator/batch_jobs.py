"""The life of one simulated batch: validation, the status machine, output and error lines.

Statuses follow openai.md §4: `validating → in_progress → finalizing → completed`, or
`failed` (validation), `expired` (the completion window ran out: completed lines are
delivered, the rest become `batch_expired` lines), `cancelling → cancelled`. Time is the
simulator's accelerated clock, and a job's state is a pure function of it: `advance(now)`
moves it to wherever the clock says, so a poll at any moment sees a consistent batch.
Line *i* (input order) finishes `(i + 1) / requests_per_second` after processing starts;
its answer is computed when validation passes, and revealed when its time comes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_REQUESTS = 50_000
EXPIRED_MESSAGE = "This request could not be executed before the completion window expired."
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """Batch knobs, in *simulated* seconds; `speed` simulated seconds pass per real second."""

    speed: float = 3600.0
    validating_seconds: float = 60.0
    requests_per_second: float = 100.0
    finalizing_seconds: float = 60.0
    cancelling_seconds: float = 120.0
    window_seconds: float = 86_400.0  # "24h", the only completion window
    enqueued_token_limit: int = 2_000_000  # gpt-4o-mini at tier 1
    line_fault_rate: float = 0.0  # lines answered with a 500 in the error file
    download_delay_ms: float = 0.0  # real milliseconds added to every content download
    error_file_resets: int = 0  # the first N error-file downloads lose their connection
    create_resets: int = 0  # the first N creates succeed but their answer is lost


@dataclass(frozen=True, slots=True)
class LineResult:
    """One processed line: the JSON to write, and whether it goes to the output file."""

    custom_id: str
    ok: bool
    record: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0


# Answers one parsed line: (status code, response body, prompt tokens, completion tokens).
Answerer = Callable[[dict[str, Any]], tuple[int, dict[str, Any], int, int]]


@dataclass(slots=True)
class BatchJob:
    id: str
    input_file_id: str
    endpoint: str
    metadata: dict[str, str] | None
    created_at: float
    options: BatchOptions
    status: str = "validating"
    model: str | None = None
    lines: list[dict[str, Any]] = field(default_factory=list)
    tokens: int = 0  # enqueued prompt tokens while in progress
    results: list[LineResult] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    stamps: dict[str, float] = field(default_factory=dict)
    output_file_id: str | None = None
    error_file_id: str | None = None
    done: int = 0  # lines processed so far

    @property
    def expires_at(self) -> float:
        return self.created_at + self.options.window_seconds

    def validated_at(self) -> float:
        return self.created_at + self.options.validating_seconds

    def finish_time(self, index: int) -> float:
        return self.stamps["in_progress_at"] + (index + 1) / self.options.requests_per_second

    def processed_by(self, now: float) -> int:
        if "in_progress_at" not in self.stamps:
            return 0
        elapsed = now - self.stamps["in_progress_at"]
        return max(0, min(len(self.lines), int(elapsed * self.options.requests_per_second)))

    def fail(self, now: float, code: str, message: str, line: int | None = None) -> None:
        self.status = "failed"
        self.stamps["failed_at"] = now
        self.errors.append({"code": code, "line": line, "message": message, "param": None})

    def counts(self) -> dict[str, int]:
        shown = self.results[: self.done] if self.status not in TERMINAL else self.results
        ok = sum(r.ok for r in shown)
        total = 0 if self.status == "failed" else len(self.lines)
        return {"total": total, "completed": ok, "failed": len(shown) - ok}

    def usage(self) -> dict[str, Any]:
        prompt = sum(r.prompt_tokens for r in self.results)
        completion = sum(r.completion_tokens for r in self.results)
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": completion,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": prompt + completion,
        }

    def body(self) -> dict[str, Any]:
        stamp = self.stamps.get
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": {"object": "list", "data": self.errors} if self.errors else None,
            "input_file_id": self.input_file_id,
            "completion_window": "24h",
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": int(self.created_at),
            "in_progress_at": _int(stamp("in_progress_at")),
            "expires_at": int(self.expires_at),
            "finalizing_at": _int(stamp("finalizing_at")),
            "completed_at": _int(stamp("completed_at")),
            "failed_at": _int(stamp("failed_at")),
            "expired_at": _int(stamp("expired_at")),
            "cancelling_at": _int(stamp("cancelling_at")),
            "cancelled_at": _int(stamp("cancelled_at")),
            "request_counts": self.counts(),
            "usage": self.usage() if self.status in TERMINAL else None,
            "metadata": self.metadata,
        }


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def parse_input(job: BatchJob, content: bytes, now: float) -> None:
    """Check the input file as OpenAI's validation does; on a problem the job fails."""
    text = content.decode("utf-8", errors="replace")
    raw_lines = [line for line in text.splitlines() if line.strip()]
    if not raw_lines:
        job.fail(now, "empty_file", "The batch input file is empty.")
        return
    if len(raw_lines) > MAX_REQUESTS:
        job.fail(now, "too_many_tasks", f"The batch has more than {MAX_REQUESTS:,} requests.")
        return
    seen: set[str] = set()
    for number, raw in enumerate(raw_lines, start=1):
        try:
            line = json.loads(raw)
        except ValueError:
            line = None
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            job.fail(now, "invalid_json_line", "This line is not parseable as valid JSON.", number)
            return
        if line["custom_id"] in seen:
            job.fail(
                now,
                "duplicate_custom_id",
                f"The custom_id for this request is a duplicate of another request: "
                f"{line['custom_id']}",
                number,
            )
            return
        seen.add(line["custom_id"])
        if line.get("method") != "POST" or line.get("url") != job.endpoint:
            job.fail(
                now,
                "url_mismatch",
                f"The provided URL '{line.get('url')}' does not match the batch endpoint "
                f"'{job.endpoint}' (method must be POST).",
                number,
            )
            return
        body = line.get("body") if isinstance(line.get("body"), dict) else {}
        model = body.get("model") if isinstance(body, dict) else None
        if job.model is None:
            job.model = model if isinstance(model, str) else None
        elif model != job.model:
            job.fail(
                now,
                "model_mismatch",
                f"The model '{model}' does not match the model of the other requests "
                f"('{job.model}'); all requests in a batch must use the same model.",
                number,
            )
            return
        job.lines.append(line)


def answer_lines(job: BatchJob, answer: Answerer, fault: Callable[[], bool]) -> None:
    """Compute every line's answer (revealed later, as the clock passes its finish time)."""
    for line in job.lines:
        request_id = f"req_{secrets.token_hex(16)}"
        if fault():
            status, body, prompt, completion = 500, _server_error(), 0, 0
        else:
            status, body, prompt, completion = answer(line["body"])
        record = {
            "id": f"batch_req_{secrets.token_hex(12)}",
            "custom_id": line["custom_id"],
            "response": {"status_code": status, "request_id": request_id, "body": body},
            "error": None,
        }
        job.results.append(LineResult(line["custom_id"], status == 200, record, prompt, completion))


def expire_rest(job: BatchJob) -> None:
    """Lines not processed when the window closed: `batch_expired`, nothing billed."""
    for index in range(job.done, len(job.results)):
        custom_id = job.results[index].custom_id
        record = {
            "id": f"batch_req_{secrets.token_hex(12)}",
            "custom_id": custom_id,
            "response": None,
            "error": {"code": "batch_expired", "message": EXPIRED_MESSAGE},
        }
        job.results[index] = LineResult(custom_id, False, record)


def _server_error() -> dict[str, Any]:
    return {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
