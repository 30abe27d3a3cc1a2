"""Pure extraction logic: prepare message text, build the prompt, validate and merge answers.

Nothing here does I/O, so the rules that decide what gets stored are plain functions with
plain unit tests. The OpenAI call itself lives in `extract.py`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from frontscan.detector.carriers import classify, find_candidates, has_tracking_hint, normalize
from frontscan.detector.text import clean_message
from frontscan.limits.budgets import estimate_prompt_tokens
from frontscan.models import Candidate, LlmMode, Message, TrackingNumber
from frontscan.shipment.mentions import ClaimKey, ClaimValues

# Bump when the prompt, schema or validation rules change: the ledger records it per message.
EXTRACTOR_VERSION = "2026.12.1"  # shipment fields: status, order, expected date
MAX_MESSAGE_CHARS = 12_000
SNIPPET_RADIUS = 40
# When the model answered, a pattern match it did not confirm is kept only if it is this sure.
PATTERN_ONLY_MIN_CONFIDENCE = 0.9
# Confidence of a number only the model named, by what backs it up.
LLM_CHECKSUM_CONFIDENCE = 0.95  # a format with a check digit, which passed
LLM_FORMAT_CONFIDENCE = 0.7  # a known format without a check digit
LLM_UNKNOWN_FORMAT_CONFIDENCE = 0.5  # no known format at all

SYSTEM_PROMPT = """\
You find parcel tracking numbers in customer-support email threads.
Each message is given between <message id="..."> and </message>.
Return every shipment tracking number that appears in a message, with the id of that
message and the carrier (for example ups, fedex, usps, dhl, royal_mail, canada_post,
amazon, ontrac, dpd, purolator) or null when unsure.
Copy each number exactly as it is written in the message.
Do not return order numbers, invoice or reference numbers, phone numbers, dates, prices,
card numbers or postal codes. Return an empty list when there is none.
Per number, what that message itself states, else null: its status (exception: delay,
failed attempt, damage, never arrived), the order reference next to it copied exactly,
the expected delivery date as YYYY-MM-DD."""


# A status the message states; "unknown" is the model's null.
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
    """The model's whole answer for one conversation."""

    model_config = ConfigDict(extra="forbid")
    numbers: list[FoundNumber]


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """A message reduced to its new text (quotes and signature removed) and its candidates."""

    message: Message
    text: str
    content_hash: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True, slots=True)
class ModelFind:
    """A model answer that passed validation, attached to the message it occurs in."""

    message_id: str
    number: str
    carrier: str
    format: str | None
    checksum_valid: bool | None
    confidence: float


def prepare(message: Message, max_chars: int = MAX_MESSAGE_CHARS) -> PreparedMessage:
    cleaned = clean_message(message.body, message.text, max_chars=max_chars)
    digest = hashlib.sha256(cleaned.new.encode("utf-8")).hexdigest()
    return PreparedMessage(message, cleaned.new, digest, tuple(find_candidates(cleaned.new)))


def needs_model(prepared: Sequence[PreparedMessage], mode: LlmMode) -> bool:
    """`auto` asks the model only where the new text has a candidate or a tracking-like token."""
    if mode == "never" or not any(p.text.strip() for p in prepared):
        return False
    if mode == "always":
        return True
    return any(p.candidates or has_tracking_hint(p.text) for p in prepared)


def build_prompt(subject: str, prepared: Sequence[PreparedMessage]) -> list[dict[str, str]]:
    """System instructions plus one user message holding the new text of each message."""
    blocks = [f"Subject: {subject}"] if subject else []
    for item in prepared:
        if item.text.strip():
            blocks.append(f'<message id="{item.message.id}">\n{item.text}\n</message>')
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "\n\n".join(blocks)},
    ]


def validate(
    answer: Extraction, prepared: Sequence[PreparedMessage]
) -> tuple[list[ModelFind], int]:
    """Keep answers that occur in a message's text and pass their checksum; count the rest.

    A number is attached to the oldest sent message whose text contains it, whatever
    message id the model cited, so a number is never credited to a later repeat.
    """
    haystacks = [(p.message.id, normalize(p.text)) for p in prepared]
    accepted: list[ModelFind] = []
    dropped = 0
    for found in answer.numbers:
        number = normalize(found.tracking_number)
        if len(number) < 8 or not any(c.isdigit() for c in number):
            dropped += 1
            continue
        owner = next((mid for mid, text in haystacks if number in text), None)
        verdict = classify(number)
        if owner is None or (verdict is not None and verdict.checksum_valid is False):
            dropped += 1
            continue
        if verdict is None:
            carrier = (found.carrier or "unknown").strip().lower().replace(" ", "_") or "unknown"
            accepted.append(
                ModelFind(owner, number, carrier, None, None, LLM_UNKNOWN_FORMAT_CONFIDENCE)
            )
        else:
            accepted.append(
                ModelFind(
                    owner,
                    number,
                    verdict.carrier,
                    verdict.format,
                    verdict.checksum_valid,
                    LLM_CHECKSUM_CONFIDENCE if verdict.checksum_valid else LLM_FORMAT_CONFIDENCE,
                )
            )
    return accepted, dropped


def shipment_claims(answer: Extraction) -> dict[ClaimKey, ClaimValues]:
    """What the model said about each number, keyed by the message it cited."""
    return {
        (found.message_id, normalize(found.tracking_number)): (
            found.status,
            found.order_reference,
            found.expected_delivery,
        )
        for found in answer.numbers
        if found.status or found.order_reference or found.expected_delivery
    }


def merge(
    conversation_id: str,
    prepared: Sequence[PreparedMessage],
    model_finds: Sequence[ModelFind] | None,
) -> tuple[TrackingNumber, ...]:
    """Combine detector and model results; each number once, at its first message.

    `model_finds` is None when the model was not asked: then every storable detector
    candidate counts. When it was asked, candidates it did not confirm must be very sure.
    """
    by_message: dict[str, dict[str, ModelFind]] = {}
    for find in model_finds or ():
        by_message.setdefault(find.message_id, {}).setdefault(find.number, find)
    stored: dict[str, TrackingNumber] = {}
    for item in sorted(prepared, key=lambda p: p.message.created_at):
        finds = by_message.get(item.message.id, {})
        for cand in item.candidates:
            if not cand.storable or cand.number in stored:
                continue
            confirmed = cand.number in finds
            if model_finds is not None and not confirmed and not _sure(cand):
                continue
            stored[cand.number] = TrackingNumber(
                cand.number,
                cand.carrier,
                cand.format,
                cand.checksum_valid,
                "both" if confirmed else "pattern",
                min(1.0, cand.confidence + (0.05 if confirmed else 0.0)),
                conversation_id,
                item.message.id,
                snippet(item.text, cand.start, cand.end),
            )
        for number, find in finds.items():
            if number in stored:
                continue
            start = _locate(item.text, number)
            stored[number] = TrackingNumber(
                number,
                find.carrier,
                find.format,
                find.checksum_valid,
                "llm",
                find.confidence,
                conversation_id,
                item.message.id,
                snippet(item.text, start, start + len(number)) if start >= 0 else "",
            )
    return tuple(stored.values())


def _sure(candidate: Candidate) -> bool:
    """Sure enough to store although the model, when asked, did not name it."""
    return bool(candidate.checksum_valid) and candidate.confidence >= PATTERN_ONLY_MIN_CONFIDENCE


def snippet(text: str, start: int, end: int) -> str:
    """A short, single-line piece of context around a match, for auditing."""
    piece = text[max(0, start - SNIPPET_RADIUS) : end + SNIPPET_RADIUS]
    return " ".join(piece.split())


def _locate(text: str, number: str) -> int:
    """Where a normalized number starts in text that may print it with spaces or dashes."""
    pattern = r"[\s\-]*".join(re.escape(ch) for ch in number)
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return match.start() if match else -1


# USD per million tokens (input, output), from OpenAI's public price list.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}
SCHEMA_OVERHEAD_TOKENS = 120  # the response_format schema is sent as part of the prompt


def price_of(model: str) -> tuple[float, float]:
    """Input/output price for a model (dated snapshots too); gpt-4o-mini's when unknown."""
    for name in sorted(PRICES, key=len, reverse=True):
        if model == name or model.startswith(name + "-"):
            return PRICES[name]
    return PRICES["gpt-4o-mini"]


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    price_in, price_out = price_of(model)
    return (prompt_tokens * price_in + completion_tokens * price_out) / 1_000_000


def estimate_tokens(
    prompt: Sequence[dict[str, str]], max_completion_tokens: int
) -> tuple[int, int]:
    """(prompt tokens, completion budget) to charge the TPM budget before the call.

    OpenAI charges the whole `max_completion_tokens` up front, so the budget is counted
    in full; the prompt side is a conservative estimate from UTF-8 bytes.
    """
    prompt_tokens = estimate_prompt_tokens([m["content"] for m in prompt])
    return prompt_tokens + SCHEMA_OVERHEAD_TOKENS, max_completion_tokens
