"""The OpenAI call: one structured-output request per conversation with new text.

Besides `batch/api.py` (the Files and Batches endpoints), this is the only module that
imports openai. A Batch API line carries the very request `parse` sends (`batch_body`)
and its answer goes through the same parsing and checks (`claims_from_batch`).

The SDK runs with `max_retries=0` so that frontscan's own policy (`limits.with_retries`)
is the one layer that retries, and every retry re-acquires the RPM and TPM budgets.
SDK errors become FrontscanErrors here: quota and billing stop the run, 401 stops the
run, "request too large" fails the item, 429/5xx/timeouts and unusable answers are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from typing import Any, Literal

import openai
import pydantic
from openai import AsyncOpenAI, omit
from openai.lib._parsing import parse_chat_completion, type_to_response_format_param
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ParsedChatCompletion
from pydantic import BaseModel, ConfigDict

from frontscan.errors import (
    AuthError,
    ConfigError,
    FrontscanError,
    ItemError,
    QuotaError,
    TransientError,
)
from frontscan.limits.bound import ApiCounters, ApiUsage
from frontscan.limits.openai_budgets import OpenAIBudgets
from frontscan.limits.retry import with_retries
from frontscan.models import ChatMessage, Claim, ModelCall


def open_extractor(
    stack: AsyncExitStack,
    api_key: str,
    base_url: str | None,
    budgets: OpenAIBudgets,
    *,
    timeout: float = 60.0,
) -> OpenAIExtractor:
    """The SDK client, closed by `stack`; it never retries (`with_retries` is the one layer).

    `timeout` bounds each request (`openai.timeout_seconds`): a hung one is retried."""
    client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)
    stack.push_async_callback(client.close)
    return OpenAIExtractor(client, budgets)


# A status the message states; the model says null where it states none.
StatedStatus = Literal[
    "label_created", "in_transit", "out_for_delivery", "delivered", "exception", "returned"
]


class FoundNumber(BaseModel):
    """One number the model reports. All fields are required (strict structured outputs)."""

    # The docstring goes to the model as the schema's description: keep it short. The
    # shipment fields are claims, checked against the message text (`shipment.facts`).
    model_config = ConfigDict(extra="forbid")
    message_id: str
    tracking_number: str
    carrier: str | None
    status: StatedStatus | None
    order_reference: str | None
    expected_delivery: str | None


class Extraction(BaseModel):
    """The wire schema of the model's whole answer; it never leaves this module as such."""

    model_config = ConfigDict(extra="forbid")
    numbers: list[FoundNumber]


logger = logging.getLogger(__name__)


def _log_retry(error: TransientError, delay: float) -> None:
    logger.info(
        "retrying in %.2f s: %s", delay, error,
        extra={"event": "openai.retry", "delay": round(delay, 3), "cause": str(error)},
    )  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLimits:
    """The model's per-minute limits as OpenAI's `x-ratelimit-*` headers state them."""

    rpm: float | None
    tpm: float | None
    remaining_requests: float | None
    remaining_tokens: float | None


class _CutOff(ItemError):
    """The answer stopped at `max_completion_tokens` (`finish_reason: length`)."""


class OpenAIExtractor:
    """Sends a conversation's `ModelCall` and returns the model's claims as frontscan values."""

    def __init__(self, client: AsyncOpenAI, budgets: OpenAIBudgets, *, attempts: int = 5) -> None:
        self._client = client
        self._budgets = budgets
        self._attempts = attempts
        self._counters = ApiCounters()

    def usage(self) -> ApiUsage:
        """What this client has spent so far, and the RPM/TPM limits it ran under.

        The charges are the server's, read from its headers (`ServerMeter`), less what
        its buckets held when the run began, since a full bucket admits that much at
        once; without the headers, what frontscan reserved.
        """
        tokens, requests = self._budgets.server_view()
        charged = float(self._budgets.tokens.stats.acquired)
        calls = float(self._counters.calls)
        if tokens is not None:
            charged = max(0.0, tokens.charged - tokens.free_at_start)
        if requests is not None:
            calls = max(0.0, requests.charged - requests.free_at_start)
        return self._counters.usage(
            requests_per_minute=self._budgets.requests.per_minute,
            tokens_per_minute=self._budgets.tokens.per_minute,
            tokens_charged=round(charged),
            requests_charged=round(calls),
            server_tokens=None if tokens is None else round(tokens.charged),
        )

    async def extract(self, call: ModelCall) -> tuple[Claim, ...]:
        """Send the call; a cut-off answer (`finish_reason: length`) is asked once more
        with `call.length_retry_budget` before the conversation fails, when it has one."""
        try:
            answer = await self._with_retries(call)
        except _CutOff:
            larger = call.length_retry_budget or call.completion_budget  # set: it was cut off
            self._counters.length_retries += 1
            try:
                answer = await self._with_retries(replace(call, completion_budget=larger))
            except _CutOff:
                raise ItemError(
                    f"OpenAI: the answer was cut off twice (max_completion_tokens={larger}); "
                    "raise openai.max_completion_tokens"
                ) from None
        return _claims(answer)

    async def _with_retries(self, call: ModelCall) -> Extraction:
        return await with_retries(
            lambda: self._once(call), attempts=self._attempts, on_retry=_log_retry
        )

    async def _once(self, call: ModelCall) -> Extraction:
        charged = call.charged_tokens
        self._counters.throttled_seconds += await self._budgets.acquire(
            charged, completion=call.completion_budget
        )
        self._counters.calls += 1
        self._counters.completion_budget += call.completion_budget
        sent = time.monotonic()
        try:
            raw = await self._client.chat.completions.with_raw_response.parse(
                **call.body(), response_format=Extraction
            )
            self._counters.http_seconds += time.monotonic() - sent
            self._budgets.observe(raw.headers)
            completion = raw.parse()
        except openai.OpenAIError as error:
            if isinstance(error, openai.LengthFinishReasonError):
                self._count_usage(error.completion.usage, charged)
                if call.length_retry_budget is not None:
                    raise _CutOff("OpenAI: the answer was cut off") from None
            # Not chained: the SDK error holds the response body and request, and a 401
            # body echoes part of the key ("Incorrect API key provided: sk-...").
            raise self._translate(error, call) from None
        except pydantic.ValidationError as error:  # chained: it holds only the answer
            raise TransientError("OpenAI: the model's answer did not match the schema") from error
        except ValueError as error:
            # The SDK parses a 2xx body as JSON without translating its error: an empty or
            # cut-off 200 (a proxy, a dying server) would otherwise escape as a bug. The
            # JSON error holds only that body, never the key: chained.
            raise TransientError("OpenAI: the answer was not JSON") from error
        self._count_usage(completion.usage, charged)
        return _answer_of(completion)

    async def probe_limits(self, model: str) -> ModelLimits:
        """One tiny request (a word in, at most 16 tokens out) to read the model's limits.

        Errors are translated as for any call: a bad key is an `AuthError`, an unknown
        model a `ConfigError`.
        """
        call = ModelCall(
            model=model,
            messages=(ChatMessage(role="user", content="ping"),),
            prompt_tokens=16,
            completion_budget=16,
        )
        await self._budgets.acquire(call.charged_tokens)
        self._counters.calls += 1
        try:
            raw = await self._client.chat.completions.with_raw_response.create(**call.body())
        except openai.OpenAIError as error:
            raise self._translate(error, call) from None
        self._budgets.observe(raw.headers)
        headers = {k.lower(): v for k, v in raw.headers.items()}

        def number(name: str) -> float | None:
            try:
                return float(headers[name])
            except (KeyError, ValueError):
                return None

        return ModelLimits(
            rpm=number("x-ratelimit-limit-requests"),
            tpm=number("x-ratelimit-limit-tokens"),
            remaining_requests=number("x-ratelimit-remaining-requests"),
            remaining_tokens=number("x-ratelimit-remaining-tokens"),
        )

    def _count_usage(self, usage: CompletionUsage | None, charged: int) -> None:
        if usage is not None:
            self._counters.prompt_tokens += usage.prompt_tokens
            self._counters.completion_tokens += usage.completion_tokens
            self._budgets.reconcile(charged, usage.total_tokens)

    def _translate(self, error: openai.OpenAIError, call: ModelCall) -> FrontscanError:
        if isinstance(error, openai.LengthFinishReasonError):
            return TransientError(
                "OpenAI: the answer was cut off at max_completion_tokens="
                f"{call.completion_budget}; raise openai.max_completion_tokens"
            )
        if isinstance(error, openai.ContentFilterFinishReasonError):
            return ItemError("OpenAI: the answer was withheld by the content filter")
        if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
            return TransientError(f"OpenAI: {type(error).__name__}", outage="openai")
        if not isinstance(error, openai.APIStatusError):
            return ItemError(f"OpenAI: {type(error).__name__}")
        status, code = error.status_code, str(error.code or error.type or "")
        message = _message_of(error)
        if isinstance(error, openai.RateLimitError):
            if "quota" in code or "billing" in code:
                return QuotaError(
                    f"OpenAI: 429 {code}: the account is out of quota or credit; add credit or "
                    "raise the monthly limit, then run the scan again (nothing is lost)"
                )
            if message.startswith("Request too large"):
                return ItemError(f"OpenAI: request too large for the TPM limit ({message[:120]})")
            self._counters.rate_limited += 1
            delay = self._budgets.on_429(str(error.type or ""), message, error.response.headers)
            return TransientError(f"OpenAI: 429 {code or 'rate limited'}", retry_after=delay)
        if status in (401, 403):
            return AuthError(
                f"OpenAI: {status} {code or 'unauthorized'}: OpenAI rejected OPENAI_API_KEY; "
                "check the key (and OPENAI_BASE_URL), or run with --llm never"
            )
        if status == 404:
            return ConfigError(
                f"OpenAI: 404 {code}: model {call.model!r} is not available to this key; "
                "set openai.model (FRONTSCAN_OPENAI_MODEL)"
            )
        if status >= 500 or status in (408, 409):
            outage = "openai" if status >= 500 else None
            return TransientError(f"OpenAI: {status} {code}".strip(), outage=outage)
        return ItemError(f"OpenAI: {status} {code}: {message[:160]}".strip())


def _answer_of(completion: ParsedChatCompletion[Extraction]) -> Extraction:
    """The parsed answer, or why it is unusable: one rule for online and batch answers."""
    choice = completion.choices[0] if completion.choices else None
    if choice is None:
        raise TransientError("OpenAI: the answer had no choices")
    if choice.message.refusal:
        raise TransientError(f"OpenAI: the model refused: {choice.message.refusal[:120]}")
    if choice.message.parsed is None:
        raise TransientError("OpenAI: the answer had no parsed content")
    return choice.message.parsed


def _claims(answer: Extraction) -> tuple[Claim, ...]:
    return tuple(
        Claim(
            message_id=n.message_id,
            tracking_number=n.tracking_number,
            carrier=n.carrier,
            status=n.status,
            order_reference=n.order_reference,
            expected_delivery=n.expected_delivery,
        )
        for n in answer.numbers
    )


def batch_body(call: ModelCall) -> dict[str, Any]:
    """The request `chat.completions.parse` sends for `call`: a Batch API line carries it."""
    return {**call.body(), "response_format": type_to_response_format_param(Extraction)}


def claims_from_batch(body: Mapping[str, Any], completion_budget: int) -> tuple[Claim, ...]:
    """A batch line's ChatCompletion, parsed by the SDK and checked exactly as online."""
    try:
        completion = parse_chat_completion(
            response_format=Extraction,
            input_tools=omit,
            chat_completion=ChatCompletion.model_validate(dict(body)),
        )
    except openai.LengthFinishReasonError:
        raise TransientError(
            "OpenAI: the answer was cut off at max_completion_tokens="
            f"{completion_budget}; raise openai.max_completion_tokens"
        ) from None
    except openai.ContentFilterFinishReasonError:
        raise ItemError("OpenAI: the answer was withheld by the content filter") from None
    except pydantic.ValidationError:
        raise TransientError("OpenAI: the model's answer did not match the schema") from None
    return _claims(_answer_of(completion))


def _message_of(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(error.message or "")
