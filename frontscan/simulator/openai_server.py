"""A local OpenAI `/v1/chat/completions`: what `AsyncOpenAI.chat.completions.parse` expects.

Faithful where it matters for a rate-limited batch client (openai.md §1, §3): RPM and TPM
as continuously refilling buckets charged at admission with a character-based estimate
plus `max_completion_tokens`; refused requests still count against RPM; the four 429
bodies; no `retry-after` unless `azure_mode`; six `x-ratelimit-*` headers with Go-duration
resets on 200s and on rate-limit 429s; 401/400 bodies; HTML 5xx faults and connection
resets; latency growing with tokens. The answers come from `FakeModel`.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from frontscan.simulator.batch_jobs import BatchOptions
from frontscan.simulator.buckets import RefillBucket, go_duration
from frontscan.simulator.mailbox import Mailbox
from frontscan.simulator.openai_batches import BatchSimulator, add_batch_routes
from frontscan.simulator.openai_files import MAX_UPLOAD_BYTES
from frontscan.simulator.openai_model import (
    FakeModel,
    MistakeRates,
    charge_estimate,
    completion_body,
)
from frontscan.simulator.stats import Handler, SimStats, stats_middleware, stats_route

__all__ = ["OpenAIOptions", "create_openai_app"]
ORG = "org-frontscansim"
LIMITS_URL = "Visit https://platform.openai.com/account/rate-limits to learn more."
QUOTA = (
    "You exceeded your current quota, please check your plan and billing details. For more "
    "information on this error, read the docs: "
    "https://platform.openai.com/docs/guides/error-codes/api-errors."
)
DEFAULT_COMPLETION_RESERVE = 4096
_HTML = "<html><head><title>{0}</title></head><body><center><h1>{0}</h1></center></body></html>"


@dataclass(frozen=True, slots=True)
class OpenAIOptions:
    """Knobs of the fake OpenAI. Rates are probabilities per request (0..1)."""

    api_key: str = "sk-sim-openai-key"
    rpm: int = 500
    tpm: int = 200_000
    base_latency_ms: float = 20.0
    per_token_ms: float = 0.05
    fault_rate: float = 0.0
    extra_429_rate: float = 0.0
    mistakes: MistakeRates = field(default_factory=MistakeRates)
    quota_exhausted: bool = False
    quota_should_retry_false: bool = False
    azure_mode: bool = False
    rate_headers: bool = True
    seed: int = 0
    batch: BatchOptions = field(default_factory=BatchOptions)


def _error(
    status: int,
    message: str,
    kind: str,
    code: str | None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


class _Server:
    """Per-application state: buckets, rng, the model, the stats."""

    def __init__(self, mailbox: Mailbox, options: OpenAIOptions, stats: SimStats) -> None:
        self.options = options
        self.stats = stats
        self.rpm = RefillBucket(options.rpm)
        self.tpm = RefillBucket(options.tpm)
        self.rng = random.Random(options.seed)
        self.model = FakeModel(mailbox, options.mistakes, options.seed + 7)

    def _too_many(self, message: str, kind: str, code: str, wait: float | None) -> web.Response:
        """A 429 body; rate-limit 429s carry the `x-ratelimit-*` headers as 200s do."""
        headers = {"x-request-id": f"req_{secrets.token_hex(16)}"}
        if code == "rate_limit_exceeded":
            headers.update(self.rate_headers())
        if wait is not None and self.options.azure_mode:
            headers["retry-after"] = str(max(1, math.ceil(wait)))
            headers["retry-after-ms"] = str(max(1, math.ceil(wait * 1000)))
        if code == "insufficient_quota" and self.options.quota_should_retry_false:
            headers["x-should-retry"] = "false"
        return _error(429, message, kind, code, headers=headers)

    def admit(self, model: str, prompt_charge: int, budget: int) -> web.Response | None:
        """Charge RPM (always, even when refused) and TPM; a 429 response if either refuses.

        The TPM charge is the server's own estimate of the prompt plus the whole
        completion budget (openai.md §1.2); what was charged is counted in the stats.
        """
        stats = self.stats
        charge = prompt_charge + budget
        if self.options.quota_exhausted:
            stats.rate_limited["insufficient_quota"] += 1
            self.rpm.force(1)
            return self._too_many(QUOTA, "insufficient_quota", "insufficient_quota", None)
        where = f"Rate limit reached for {model} in organization {ORG} on"
        if self.options.extra_429_rate and self.rng.random() < self.options.extra_429_rate:
            stats.rate_limited["injected"] += 1
            wait = self.rng.uniform(0.05, 1.0)
            used = self.tpm.limit - self.tpm.state().remaining
            return self._too_many(
                f"{where} tokens per min (TPM): Limit {self.tpm.limit}, Used {used}, Requested "
                f"{charge}. Please try again in {go_duration(wait)}. {LIMITS_URL}",
                "tokens",
                "rate_limit_exceeded",
                wait,
            )
        requests = self.rpm.take(1)
        if not requests.allowed:
            self.rpm.force(1)
            stats.rate_limited["requests"] += 1
            return self._too_many(
                f"{where} requests per min (RPM): Limit {requests.limit}, Used "
                f"{requests.limit - requests.remaining}, Requested 1. Please try again in "
                f"{go_duration(requests.wait)}. {LIMITS_URL}",
                "requests",
                "rate_limit_exceeded",
                requests.wait,
            )
        if charge > self.tpm.limit:
            stats.rate_limited["too_large"] += 1
            return self._too_many(
                f"Request too large for {model} in organization {ORG} on tokens per min (TPM): "
                f"Limit {self.tpm.limit}, Requested {charge}. The input or output tokens must be "
                f"reduced in order to run successfully. {LIMITS_URL}",
                "tokens",
                "rate_limit_exceeded",
                None,
            )
        tokens = self.tpm.take(charge)
        if not tokens.allowed:
            stats.rate_limited["tokens"] += 1
            return self._too_many(
                f"{where} tokens per min (TPM): Limit {tokens.limit}, Used "
                f"{tokens.limit - tokens.remaining}, Requested {charge}. Please try again in "
                f"{go_duration(tokens.wait)}. {LIMITS_URL}",
                "tokens",
                "rate_limit_exceeded",
                tokens.wait,
            )
        stats.tokens_charged += charge
        stats.prompt_tokens_charged += prompt_charge
        stats.completion_budget_charged += budget
        return None

    def rate_headers(self) -> dict[str, str]:
        if not self.options.rate_headers:
            return {}
        requests, tokens = self.rpm.state(), self.tpm.state()
        return {
            "x-ratelimit-limit-requests": str(requests.limit),
            "x-ratelimit-limit-tokens": str(tokens.limit),
            "x-ratelimit-remaining-requests": str(requests.remaining),
            "x-ratelimit-remaining-tokens": str(tokens.remaining),
            "x-ratelimit-reset-requests": go_duration(requests.reset_after),
            "x-ratelimit-reset-tokens": go_duration(tokens.reset_after),
        }


SERVER = web.AppKey("server", _Server)
BATCHES = web.AppKey("batches", BatchSimulator)


def _validate(body: Any) -> tuple[str, int] | web.Response:
    """The model name and completion budget, or the 400 OpenAI would send."""
    if not isinstance(body, dict):
        return _error(
            400, "We could not parse the JSON body of your request.", "invalid_request_error", None
        )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        return _error(400, "you must provide a model parameter", "invalid_request_error", None)
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return _error(
            400,
            "Missing required parameter: 'messages'.",
            "invalid_request_error",
            "missing_required_parameter",
            "messages",
        )
    if "max_tokens" in body and model.startswith("gpt-5"):
        return _error(
            400,
            "Unsupported parameter: 'max_tokens' is not supported with this "
            "model. Use 'max_completion_tokens' instead.",
            "invalid_request_error",
            "unsupported_parameter",
            "max_tokens",
        )
    if body.get("stream"):
        return _error(
            400, "The simulator does not stream.", "invalid_request_error", None, "stream"
        )
    budget = body.get("max_completion_tokens", body.get("max_tokens"))
    if budget is None:
        return model, DEFAULT_COMPLETION_RESERVE
    if not isinstance(budget, int) or budget < 1:
        return _error(
            400,
            "Invalid 'max_completion_tokens': expected an integer >= 1.",
            "invalid_request_error",
            "invalid_value",
            "max_completion_tokens",
        )
    return model, budget


async def chat_completions(request: web.Request) -> web.StreamResponse:
    server = request.app[SERVER]
    started = time.monotonic()
    try:
        body = await request.json()
    except ValueError:
        body = None
    checked = _validate(body)
    if isinstance(checked, web.Response):
        server.rpm.force(1)
        return checked
    model, budget = checked
    refused = server.admit(model, charge_estimate(body), budget)
    if refused is not None:
        return refused
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
    answer = server.model.answer(body["messages"], schema, budget)
    stats = server.stats
    stats.prompt_tokens += answer.prompt_tokens
    stats.completion_tokens += answer.completion_tokens
    if answer.mistake:
        stats.mistakes[answer.mistake] += 1
    if answer.schema_mismatch:
        stats.mistakes["schema_mismatch"] += 1
    if answer.unbacked_claims:
        stats.mistakes["unbacked_status"] += answer.unbacked_claims
    options = server.options
    delay = options.base_latency_ms + options.per_token_ms * (
        answer.completion_tokens + answer.prompt_tokens / 20
    )
    if delay > 0:
        await asyncio.sleep(delay / 1000 * server.rng.uniform(0.8, 1.2))
    headers = server.rate_headers()
    headers["x-request-id"] = f"req_{secrets.token_hex(16)}"
    headers["openai-processing-ms"] = str(round((time.monotonic() - started) * 1000))
    headers["openai-version"] = "2020-10-01"
    headers["openai-organization"] = ORG
    return web.json_response(completion_body(body, answer), headers=headers)


def batch_answerer(server: _Server) -> Callable[[Any], tuple[int, dict[str, Any], int, int]]:
    """One batch line's body answered as `/v1/chat/completions` would, minus the limits:
    Batch does not consume the per-minute budgets (openai.md §4)."""

    def answer(body: Any) -> tuple[int, dict[str, Any], int, int]:
        checked = _validate(body)
        if isinstance(checked, web.Response):
            assert isinstance(checked.text, str)
            return checked.status, json.loads(checked.text), 0, 0
        _model, budget = checked
        schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("schema")
        reply = server.model.answer(body["messages"], schema, budget)
        if reply.mistake:
            server.stats.mistakes[reply.mistake] += 1
        return 200, completion_body(body, reply), reply.prompt_tokens, reply.completion_tokens

    return answer


def _openai_middleware(server: _Server) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_sim/"):
            return await handler(request)
        key = request.headers.get("Authorization", "")
        if key != f"Bearer {server.options.api_key}":
            shown = key.removeprefix("Bearer ")[:3] + "***" if key else ""
            message = (
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys."
            )
            return _error(401, message, "invalid_request_error", "invalid_api_key")
        options = server.options
        if options.fault_rate and server.rng.random() < options.fault_rate:
            fault = server.rng.choice(("500", "502", "503", "reset"))
            server.stats.faults[fault] += 1
            if fault == "reset":
                if request.transport is not None:
                    request.transport.abort()
                return web.Response(status=500)  # never delivered: the socket is gone
            title = {"500": "500 Internal Server Error", "502": "502 Bad Gateway"}.get(
                fault, "503 Service Temporarily Unavailable"
            )
            return web.Response(
                status=int(fault), text=_HTML.format(title), content_type="text/html"
            )
        return await handler(request)

    return middleware


def create_openai_app(
    mailbox: Mailbox, options: OpenAIOptions | None = None, stats: SimStats | None = None
) -> web.Application:
    """The aiohttp app: `/v1/chat/completions`, `/v1/files`, `/v1/batches`, `/_sim/stats`."""
    options = options or OpenAIOptions()
    stats = stats if stats is not None else SimStats()
    server = _Server(mailbox, options, stats)
    app = web.Application(
        middlewares=[stats_middleware(stats), _openai_middleware(server)],
        client_max_size=MAX_UPLOAD_BYTES,
    )
    app[SERVER] = server
    app.router.add_post("/v1/chat/completions", chat_completions)
    batches = BatchSimulator(options.batch, batch_answerer(server), stats, options.seed)
    app[BATCHES] = batches
    add_batch_routes(app, batches)
    app.router.add_get("/_sim/stats", stats_route(stats))
    return app
