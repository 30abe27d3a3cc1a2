"""The OpenAI call: one structured-output request per conversation with new text.

This is the only module that imports openai. The SDK runs with `max_retries=0` so that
frontscan's own policy (`limits.with_retries`) is the one layer that retries, and every
retry re-acquires the RPM and TPM budgets. SDK errors become FrontscanErrors here:
quota and billing stop the run, 401 stops the run, "request too large" fails the item,
429/5xx/timeouts and unusable answers are retried.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import openai
import pydantic
from openai import AsyncOpenAI
from openai.types import CompletionUsage

from frontscan.answers import Extraction, PreparedMessage, build_prompt, estimate_tokens
from frontscan.errors import (
    AuthError,
    ConfigError,
    FrontscanError,
    ItemError,
    QuotaError,
    TransientError,
)
from frontscan.limits.budgets import OpenAIBudgets
from frontscan.limits.retry import with_retries
from frontscan.models import ApiCounters

logger = logging.getLogger(__name__)


def _log_retry(error: TransientError, delay: float) -> None:
    logger.info(
        "retrying in %.2f s: %s", delay, error,
        extra={"event": "openai.retry", "delay": round(delay, 3), "cause": str(error)},
    )  # fmt: skip


class OpenAIExtractor:
    """Asks the model for the tracking numbers in a conversation's new messages."""

    def __init__(
        self,
        client: AsyncOpenAI,
        model: str,
        max_completion_tokens: int,
        budgets: OpenAIBudgets,
        *,
        attempts: int = 5,
    ) -> None:
        self._client = client
        self.model = model
        self._max_tokens = max_completion_tokens
        self.budgets = budgets
        self._attempts = attempts
        self.counters = ApiCounters()

    async def extract(self, subject: str, prepared: Sequence[PreparedMessage]) -> Extraction:
        prompt = build_prompt(subject, prepared)
        prompt_tokens, budget = estimate_tokens(prompt, self._max_tokens)
        return await with_retries(
            lambda: self._once(prompt, prompt_tokens, budget),
            attempts=self._attempts,
            on_retry=_log_retry,
        )

    async def _once(
        self, prompt: list[dict[str, str]], prompt_tokens: int, budget: int
    ) -> Extraction:
        self.counters.throttled_seconds += await self.budgets.acquire(prompt_tokens + budget)
        self.counters.calls += 1
        sent = time.monotonic()
        try:
            raw = await self._client.chat.completions.with_raw_response.parse(
                model=self.model,
                messages=prompt,  # type: ignore[arg-type]  # role dicts, not the SDK per-role types
                response_format=Extraction,
                max_completion_tokens=self._max_tokens,
            )
            self.counters.http_seconds += time.monotonic() - sent
            self.budgets.observe(raw.headers)
            completion = raw.parse()
        except openai.OpenAIError as error:
            if isinstance(error, openai.LengthFinishReasonError):
                self._count_usage(error.completion.usage, prompt_tokens + budget)
            # Not chained: the SDK error holds the response body and request, and a 401
            # body echoes part of the key ("Incorrect API key provided: sk-...").
            raise self._translate(error) from None
        except pydantic.ValidationError:
            raise TransientError("OpenAI: the model's answer did not match the schema") from None
        self._count_usage(completion.usage, prompt_tokens + budget)
        choice = completion.choices[0] if completion.choices else None
        if choice is None:
            raise TransientError("OpenAI: the answer had no choices")
        if choice.message.refusal:
            raise TransientError(f"OpenAI: the model refused: {choice.message.refusal[:120]}")
        if choice.message.parsed is None:
            raise TransientError("OpenAI: the answer had no parsed content")
        return choice.message.parsed

    def _count_usage(self, usage: CompletionUsage | None, charged: int) -> None:
        if usage is not None:
            self.counters.prompt_tokens += usage.prompt_tokens
            self.counters.completion_tokens += usage.completion_tokens
            self.budgets.reconcile(charged, usage.total_tokens)

    def _translate(self, error: openai.OpenAIError) -> FrontscanError:
        if isinstance(error, openai.LengthFinishReasonError):
            return TransientError(
                "OpenAI: the answer was cut off at max_completion_tokens="
                f"{self._max_tokens}; raise openai.max_completion_tokens"
            )
        if isinstance(error, openai.ContentFilterFinishReasonError):
            return ItemError("OpenAI: the answer was withheld by the content filter")
        if isinstance(error, openai.APITimeoutError | openai.APIConnectionError):
            return TransientError(f"OpenAI: {type(error).__name__}")
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
            self.counters.rate_limited += 1
            delay = self.budgets.on_429(str(error.type or ""), message, error.response.headers)
            return TransientError(f"OpenAI: 429 {code or 'rate limited'}", retry_after=delay)
        if status in (401, 403):
            return AuthError(
                f"OpenAI: {status} {code or 'unauthorized'}: OpenAI rejected OPENAI_API_KEY; "
                "check the key (and OPENAI_BASE_URL), or run with --llm never"
            )
        if status == 404:
            return ConfigError(
                f"OpenAI: 404 {code}: model {self.model!r} is not available to this key; "
                "set openai.model (FRONTSCAN_OPENAI_MODEL)"
            )
        if status >= 500 or status in (408, 409):
            return TransientError(f"OpenAI: {status} {code}".strip())
        return ItemError(f"OpenAI: {status} {code}: {message[:160]}".strip())


def _message_of(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return str(error.message or "")
