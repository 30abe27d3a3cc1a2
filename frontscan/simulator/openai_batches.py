"""A local OpenAI `/v1/batches` on an accelerated clock (openai.md §4).

Create (`input_file_id`, `endpoint`, `completion_window: "24h"`, `metadata`), retrieve,
list (newest first, cursor `after`) and cancel. Validation problems surface as
`status: failed` with `errors.data`, not as a create-time 400, and so does the
enqueued-token cap (`token_limit_exceeded`): prompt tokens of batches in progress count
against it until they finish. Output lines come in no particular order (seeded shuffle);
HTTP-level failures go to the error file, lines the window did not reach become
`batch_expired` error lines, and a batch whose every line failed completes with
`output_file_id: null`. Lines a cancelled batch never reached appear in neither file.
Faults: `create_resets` creates a batch and then drops the connection, as a lost answer.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from typing import Any

from aiohttp import web

from frontscan.simulator.batch_jobs import (
    TERMINAL,
    Answerer,
    BatchJob,
    BatchOptions,
    answer_lines,
    expire_rest,
    parse_input,
)
from frontscan.simulator.openai_files import FileStore, add_file_routes, error_response
from frontscan.simulator.openai_model import estimate_prompt_tokens
from frontscan.simulator.stats import SimStats

ENDPOINTS = frozenset(
    {
        "/v1/responses",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/moderations",
        "/v1/images/generations",
        "/v1/images/edits",
        "/v1/videos",
    }
)
ENQUEUED = (
    "Enqueued token limit reached for {model} in organization org-frontscansim. Limit: "
    "{limit:,} enqueued tokens. Please try again once some in_progress batches have been "
    "completed."
)


class SimClock:
    """Simulated Unix time: starts at the real time and runs `speed` times faster."""

    def __init__(self, speed: float) -> None:
        self._origin = time.time()
        self._start = time.monotonic()
        self.speed = speed

    def __call__(self) -> float:
        return self._origin + (time.monotonic() - self._start) * self.speed


class BatchSimulator:
    """Every batch of one simulated organisation, and the routes that serve them."""

    def __init__(self, options: BatchOptions, answer: Answerer, stats: SimStats, seed: int) -> None:
        self.options = options
        self.clock = SimClock(options.speed)
        self.files = FileStore(
            self.clock,
            stats,
            download_delay_ms=options.download_delay_ms,
            error_file_resets=options.error_file_resets,
        )
        self.jobs: dict[str, BatchJob] = {}
        self._answer = answer
        self._stats = stats
        self._rng = random.Random(seed + 13)
        self._create_resets_left = options.create_resets

    # -- the status machine ---------------------------------------------------------------

    def advance_all(self) -> None:
        now = self.clock()
        for job in self.jobs.values():  # creation order, so older batches enqueue first
            self._advance(job, now)

    def _advance(self, job: BatchJob, now: float) -> None:
        if job.status == "validating" and now >= job.validated_at():
            self._validate(job, job.validated_at())
        if job.status == "in_progress":
            end = job.finish_time(len(job.lines) - 1)
            if end > job.expires_at and now >= job.expires_at:
                job.done = job.processed_by(job.expires_at)
                expire_rest(job)
                self._finish(job, "expired", job.expires_at)
            elif end <= job.expires_at and now >= end:
                job.done = len(job.lines)
                job.status, job.stamps["finalizing_at"] = "finalizing", end
            else:
                job.done = job.processed_by(now)
        if job.status == "finalizing":
            ready = job.stamps["finalizing_at"] + self.options.finalizing_seconds
            if now >= ready:
                self._finish(job, "completed", ready)
        if job.status == "cancelling":
            ready = job.stamps["cancelling_at"] + self.options.cancelling_seconds
            if now >= ready:
                del job.results[job.done :]
                self._finish(job, "cancelled", ready)

    def _validate(self, job: BatchJob, at: float) -> None:
        stored = self.files.files.get(job.input_file_id)
        parse_input(job, stored.content if stored else b"", at)
        if job.status == "failed":
            return
        job.tokens = sum(
            estimate_prompt_tokens(
                line["body"].get("messages") or [], line["body"].get("response_format")
            )
            for line in job.lines
        )
        enqueued = sum(
            j.tokens for j in self.jobs.values() if j.status in ("in_progress", "finalizing")
        )
        if enqueued + job.tokens > self.options.enqueued_token_limit:
            limit = self.options.enqueued_token_limit
            job.fail(at, "token_limit_exceeded", ENQUEUED.format(model=job.model, limit=limit))
            return
        answer_lines(job, self._counted, self._fault)
        job.status, job.stamps["in_progress_at"] = "in_progress", at

    def _counted(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], int, int]:
        status, response, prompt, completion = self._answer(body)
        self._stats.prompt_tokens += prompt
        self._stats.completion_tokens += completion
        return status, response, prompt, completion

    def _fault(self) -> bool:
        rate = self.options.line_fault_rate
        hit = bool(rate) and self._rng.random() < rate
        if hit:
            self._stats.faults["batch_line_500"] += 1
        return hit

    def _finish(self, job: BatchJob, status: str, at: float) -> None:
        """A terminal status: write the output and error files (results in random order)."""
        job.status = status
        job.stamps[f"{status}_at"] = at
        results = list(job.results)
        self._rng.shuffle(results)
        good = [r.record for r in results if r.ok]
        bad = [r.record for r in results if not r.ok]
        if good:
            job.output_file_id = self._write(f"{job.id}_output.jsonl", good)
        if bad:
            job.error_file_id = self._write(f"{job.id}_error.jsonl", bad)

    def _write(self, name: str, records: list[dict[str, Any]]) -> str:
        content = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        return self.files.add(name, "batch_output", content.encode()).id

    # -- routes -----------------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return error_response(400, "We could not parse the JSON body of your request.")
        file_id, endpoint = body.get("input_file_id"), body.get("endpoint")
        stored = self.files.files.get(file_id) if isinstance(file_id, str) else None
        if stored is None or not isinstance(file_id, str):
            return error_response(
                400, f"Invalid 'input_file_id': {file_id!r}. No such file.", param="input_file_id"
            )
        if stored.purpose != "batch":
            return error_response(
                400, "The input file must be uploaded with purpose 'batch'.", param="input_file_id"
            )
        if endpoint not in ENDPOINTS:
            return error_response(
                400,
                f"Invalid value for 'endpoint': {endpoint!r}.",
                "invalid_request_error",
                "invalid_value",
                "endpoint",
            )
        if endpoint != "/v1/chat/completions":
            return error_response(
                400, "The simulator runs only /v1/chat/completions batches.", param="endpoint"
            )
        if body.get("completion_window") != "24h":
            return error_response(
                400,
                "Invalid value for 'completion_window': only '24h' is supported.",
                code="invalid_value",
                param="completion_window",
            )
        metadata = body.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or len(metadata) > 16):
            return error_response(
                400, "metadata may hold at most 16 key-value pairs.", param="metadata"
            )
        self.advance_all()
        job = BatchJob(
            f"batch_{secrets.token_hex(12)}",
            file_id,
            endpoint,
            metadata,
            self.clock(),
            self.options,
        )
        self.jobs[job.id] = job
        if self._create_resets_left > 0:  # created, but the client never hears of it
            self._create_resets_left -= 1
            self._stats.faults["create_reset"] += 1
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        return web.json_response(job.body())

    async def retrieve(self, request: web.Request) -> web.StreamResponse:
        self.advance_all()
        job = self.jobs.get(request.match_info["batch_id"])
        if job is None:
            return error_response(
                404, f"No batch found with id '{request.match_info['batch_id']}'."
            )
        return web.json_response(job.body())

    async def cancel(self, request: web.Request) -> web.StreamResponse:
        self.advance_all()
        job = self.jobs.get(request.match_info["batch_id"])
        if job is None:
            return error_response(
                404, f"No batch found with id '{request.match_info['batch_id']}'."
            )
        if job.status in TERMINAL:
            return error_response(
                409, f"Cannot cancel a batch with status '{job.status}'.", code="conflict"
            )
        if job.status != "cancelling":
            job.status, job.stamps["cancelling_at"] = "cancelling", self.clock()
        return web.json_response(job.body())

    async def list(self, request: web.Request) -> web.StreamResponse:
        self.advance_all()
        raw_limit = request.query.get("limit", "20")
        limit = int(raw_limit) if raw_limit.isdigit() else 0
        if not 1 <= limit <= 100:
            return error_response(
                400, "Invalid 'limit': must be from 1 to 100.", code="invalid_value", param="limit"
            )
        newest = list(reversed(self.jobs.values()))
        after = request.query.get("after")
        if after:
            ids = [j.id for j in newest]
            newest = newest[ids.index(after) + 1 :] if after in ids else []
        page = newest[:limit]
        return web.json_response(
            {
                "object": "list",
                "data": [j.body() for j in page],
                "first_id": page[0].id if page else None,
                "last_id": page[-1].id if page else None,
                "has_more": len(newest) > limit,
            }
        )


def add_batch_routes(app: web.Application, simulator: BatchSimulator) -> None:
    add_file_routes(app, simulator.files)
    app.router.add_post("/v1/batches", simulator.create)
    app.router.add_get("/v1/batches", simulator.list)
    app.router.add_get("/v1/batches/{batch_id}", simulator.retrieve)
    app.router.add_post("/v1/batches/{batch_id}/cancel", simulator.cancel)
