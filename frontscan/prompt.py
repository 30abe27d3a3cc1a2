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
from frontscan.evidence import (
    completion_budget,
    detector_is_sure,
    evidence,
    expected_numbers,
    retry_budget,
)
from frontscan.limits.budgets import estimate_prompt_tokens
from frontscan.models import Candidate, ChatMessage, LlmMode, Message, ModelCall, Prompting

MAX_MESSAGE_CHARS = 12_000
SCHEMA_OVERHEAD_TOKENS = 120  # the response_format schema is sent as part of the prompt

# The prompt of evidence windows (the default): short, since every call pays for it.
SYSTEM_PROMPT = """\
List the parcel tracking numbers in these e-mails ([\u2026] = text left out): each as written,
with its message id and carrier code or null. No order, invoice, phone or card numbers.
Per number, what that message itself states, else null: status (exception: delay, failed
attempt, damage, never arrived), the order reference next to it as written, the expected
delivery date as YYYY-MM-DD."""
# The prompt of `openai.prompt = "whole"` (whole new text) and of the old design.
WHOLE_SYSTEM_PROMPT = """\
You find parcel tracking numbers in customer-support email threads.
Each message is given between <message id="..."> and </message>.
Return every shipment tracking number that appears in a message, with the id of that
message and the carrier (for example ups, fedex, usps, dhl, royal_mail, canada_post,
amazon, ontrac, dpd, purolator) or null when unsure.
Copy each number exactly as it is written in the message.
Do not return order numbers, invoice or reference numbers, phone numbers, dates, prices,
card numbers or postal codes. Return an empty list when there is none."""
# What frontscan's answers carry besides the numbers (the old design asks for numbers only).
SHIPMENT_PROMPT = """\
Per number, what that message itself states, else null: its status (exception: delay,
failed attempt, damage, never arrived), the order reference next to it copied exactly,
the expected delivery date as YYYY-MM-DD."""

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
    """A message reduced to its new text (quotes and signature removed) and its candidates.

    `quoted` is the history the message quotes, capped like the new text: never sent to
    the model nor searched for candidates, only read to record that a reply quotes a
    parcel it does not name itself (a mention inside quoted text, `shipment.mentions`).
    """

    message: Message
    text: str
    content_hash: str
    candidates: tuple[Candidate, ...]
    quoted: str = ""


def prepare(message: Message, max_chars: int = MAX_MESSAGE_CHARS) -> PreparedMessage:
    cleaned = clean_message(message.body, message.text, max_chars=max_chars)
    digest = hashlib.sha256(cleaned.new.encode("utf-8")).hexdigest()
    return PreparedMessage(
        message=message,
        text=cleaned.new,
        content_hash=digest,
        candidates=tuple(find_candidates(cleaned.new, cleaned.links)),
        quoted=cleaned.quoted[:max_chars],
    )


def needs_model(
    prepared: Sequence[PreparedMessage], mode: LlmMode, *, trust_detector: bool = True
) -> bool:
    """`auto` asks the model only where the new text has a candidate or a tracking-like
    token, and (with `trust_detector`) not when the detector is sure of every message."""
    if mode == "never" or not any(p.text.strip() for p in prepared):
        return False
    if mode == "always":
        return True
    if not any(p.candidates or has_tracking_hint(p.text) for p in prepared):
        return False
    return not (trust_detector and detector_sure(prepared))


def detector_sure(prepared: Sequence[PreparedMessage]) -> bool:
    """Every candidate of every message checksum-valid next to a keyword, no open hint."""
    return all(detector_is_sure(p.text, p.candidates) for p in prepared)


def build_prompt(
    subject: str, prepared: Sequence[PreparedMessage], prompting: Prompting = "evidence"
) -> tuple[ChatMessage, ...]:
    """System instructions plus one user message: per message its evidence windows
    (`evidence`) or its whole new text (`whole`), each in a `<message id>` block."""
    blocks = [f"Subject: {subject}"] if subject else []
    for item in prepared:
        text = evidence(item.text, item.candidates) if prompting == "evidence" else item.text
        if text.strip():
            blocks.append(f'<message id="{item.message.id}">\n{text}\n</message>')
    system = (
        SYSTEM_PROMPT if prompting == "evidence" else f"{WHOLE_SYSTEM_PROMPT}\n{SHIPMENT_PROMPT}"
    )
    return (
        ChatMessage(role="system", content=system),
        ChatMessage(role="user", content="\n\n".join(blocks)),
    )


def answer_budget(
    prepared: Sequence[PreparedMessage], ceiling: int, prompting: Prompting = "evidence"
) -> int:
    """`max_completion_tokens` for the call: sized to the numbers it may hold
    (`evidence`), or the configured ceiling as before (`whole`)."""
    if prompting == "whole":
        return ceiling
    return completion_budget(
        expected_numbers([(p.text, p.candidates) for p in prepared]), ceiling=ceiling
    )


def model_call(
    subject: str,
    prepared: Sequence[PreparedMessage],
    *,
    model: str,
    max_completion_tokens: int,
    prompting: Prompting = "evidence",
) -> ModelCall:
    """The conversation's one model call, with what it will be charged before it is sent.

    OpenAI charges the whole `max_completion_tokens` up front, so the completion budget is
    counted in full; with `evidence` it is sized to the answer expected. The prompt side
    is a conservative estimate from UTF-8 bytes plus the structured-output schema.
    """
    messages = build_prompt(subject, prepared, prompting)
    prompt_tokens = estimate_prompt_tokens([m.content for m in messages])
    budget = answer_budget(prepared, max_completion_tokens, prompting)
    return ModelCall(
        model=model,
        messages=messages,
        prompt_tokens=prompt_tokens + SCHEMA_OVERHEAD_TOKENS,
        completion_budget=budget,
        length_retry_budget=(
            retry_budget(budget, ceiling=max_completion_tokens) if prompting == "evidence" else None
        ),
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


BATCH_PRICE_FACTOR = 0.5  # the Batch API bills input and output at half price


def batch_cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    return cost_usd(model, prompt_tokens, completion_tokens) * BATCH_PRICE_FACTOR


def worst_cost_usd(call: ModelCall) -> float:
    """What the call could cost at most: the estimated prompt and the whole budget."""
    return cost_usd(call.model, call.prompt_tokens, call.completion_budget)


def worst_batch_cost_usd(call: ModelCall) -> float:
    """The same call as a Batch API line: half the price, the same worst case."""
    return worst_cost_usd(call) * BATCH_PRICE_FACTOR
