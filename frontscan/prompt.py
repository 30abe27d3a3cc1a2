"""What is sent to the model: prepared message text, the prompt, its token and cost estimates.

Pure functions. `model_call` builds the one `ModelCall` value per conversation that the
`--max-cost` reservation, the dry-run plan and the SDK call all use, so the prompt and
its estimate are computed exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from frontscan.detector.carriers import find_candidates, has_tracking_hint
from frontscan.detector.text import clean_message
from frontscan.limits.budgets import estimate_prompt_tokens
from frontscan.models import Candidate, ChatMessage, LlmMode, Message, ModelCall

MAX_MESSAGE_CHARS = 12_000
SCHEMA_OVERHEAD_TOKENS = 120  # the response_format schema is sent as part of the prompt

SYSTEM_PROMPT = """\
You find parcel tracking numbers in customer-support email threads.
Each message is given between <message id="..."> and </message>.
Return every shipment tracking number that appears in a message, with the id of that
message and the carrier (for example ups, fedex, usps, dhl, royal_mail, canada_post,
amazon, ontrac, dpd, purolator) or null when unsure.
Copy each number exactly as it is written in the message.
Do not return order numbers, invoice or reference numbers, phone numbers, dates, prices,
card numbers or postal codes. Return an empty list when there is none."""

# USD per million tokens (input, output), from OpenAI's public price list.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedMessage:
    """A message reduced to its new text (quotes and signature removed) and its candidates."""

    message: Message
    text: str
    content_hash: str
    candidates: tuple[Candidate, ...]


def prepare(message: Message, max_chars: int = MAX_MESSAGE_CHARS) -> PreparedMessage:
    cleaned = clean_message(message.body, message.text, max_chars=max_chars)
    digest = hashlib.sha256(cleaned.new.encode("utf-8")).hexdigest()
    return PreparedMessage(
        message=message,
        text=cleaned.new,
        content_hash=digest,
        candidates=tuple(find_candidates(cleaned.new)),
    )


def needs_model(prepared: Sequence[PreparedMessage], mode: LlmMode) -> bool:
    """`auto` asks the model only where the new text has a candidate or a tracking-like token."""
    if mode == "never" or not any(p.text.strip() for p in prepared):
        return False
    if mode == "always":
        return True
    return any(p.candidates or has_tracking_hint(p.text) for p in prepared)


def build_prompt(subject: str, prepared: Sequence[PreparedMessage]) -> tuple[ChatMessage, ...]:
    """System instructions plus one user message holding the new text of each message."""
    blocks = [f"Subject: {subject}"] if subject else []
    for item in prepared:
        if item.text.strip():
            blocks.append(f'<message id="{item.message.id}">\n{item.text}\n</message>')
    return (
        ChatMessage(role="system", content=SYSTEM_PROMPT),
        ChatMessage(role="user", content="\n\n".join(blocks)),
    )


def model_call(
    subject: str, prepared: Sequence[PreparedMessage], *, model: str, max_completion_tokens: int
) -> ModelCall:
    """The conversation's one model call, with what it will be charged before it is sent.

    OpenAI charges the whole `max_completion_tokens` up front, so the completion budget is
    counted in full; the prompt side is a conservative estimate from UTF-8 bytes plus the
    structured-output schema.
    """
    messages = build_prompt(subject, prepared)
    prompt_tokens = estimate_prompt_tokens([m.content for m in messages])
    return ModelCall(
        model=model,
        messages=messages,
        prompt_tokens=prompt_tokens + SCHEMA_OVERHEAD_TOKENS,
        completion_budget=max_completion_tokens,
    )


def price_of(model: str) -> tuple[float, float]:
    """Input/output price for a model (dated snapshots too); gpt-4o-mini's when unknown."""
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return PRICES[name]
    return PRICES["gpt-4o-mini"]


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = price_of(model)
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def worst_cost_usd(call: ModelCall) -> float:
    """What the call could cost at most: the estimated prompt and the whole budget."""
    return cost_usd(call.model, call.prompt_tokens, call.completion_budget)
