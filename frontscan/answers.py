"""What is stored: model claims checked against the text, merged with the detector's finds.

Pure functions with plain unit tests. A model claim counts only if the number occurs in a
message's text and passes its check digit; each number is stored once, at its first
message. The prompt side lives in `prompt.py`, the OpenAI call in `extract.py`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from frontscan.detector.carriers import reading_of_model_number
from frontscan.detector.links import without_urls
from frontscan.detector.matching import flatten, normalize
from frontscan.models import Candidate, Claim, TrackingNumber
from frontscan.prompt import PreparedMessage
from frontscan.shipment.mentions import ClaimKey, ClaimValues

# Bump when the prompt, schema or validation rules change: the ledger records it per message.
EXTRACTOR_VERSION = "2026.12.3"  # printed forms, HTML parts, evidence windows; shipment fields
SNIPPET_RADIUS = 40
# When the model answered, a pattern match it did not confirm is kept only if it is this sure.
PATTERN_ONLY_MIN_CONFIDENCE = 0.9
# Confidence of a number only the model named, by what backs it up.
LLM_CHECKSUM_CONFIDENCE = 0.95  # a format with a check digit, which passed
LLM_FORMAT_CONFIDENCE = 0.7  # a known format without a check digit
LLM_UNKNOWN_FORMAT_CONFIDENCE = 0.5  # no known format at all
# Text addressed to the model rather than the customer: a prompt injection's opening.
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|"
    r"all|your|system)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelFind:
    """A model answer that passed validation, attached to the message it occurs in."""

    message_id: str
    number: str
    carrier: str
    format: str | None
    checksum_valid: bool | None
    confidence: float


def validate(
    claims: Sequence[Claim], prepared: Sequence[PreparedMessage]
) -> tuple[list[ModelFind], int]:
    """Keep answers that occur in a message's text and pass their checksum; count the rest.

    A number is attached to the oldest sent message whose text contains it, whatever
    message id the model cited, so a number is never credited to a later repeat; one
    that occurs only inside a URL does not count. Its
    format and carrier are read as the detector reads that text
    (`reading_of_model_number`): a carrier named beside it decides between formats, and
    a number no format of the model's carrier fits is kept with the model's carrier.
    """
    texts = {p.message.id: p.text for p in prepared}
    haystacks = [(p.message.id, flatten(without_urls(p.text))) for p in prepared]
    accepted: list[ModelFind] = []
    dropped = 0
    for found in claims:
        number = normalize(found.tracking_number)
        if len(number) < 8 or not any(c.isdigit() for c in number):
            dropped += 1
            continue
        owner = next((mid for mid, text in haystacks if number in text), None)
        if owner is None:
            dropped += 1
            continue
        verdict = reading_of_model_number(texts[owner], number, found.carrier)
        if verdict is not None and verdict.checksum_valid is False:
            dropped += 1
            continue
        if verdict is None:
            carrier = (found.carrier or "unknown").strip().lower().replace(" ", "_") or "unknown"
            accepted.append(
                ModelFind(
                    message_id=owner,
                    number=number,
                    carrier=carrier,
                    format=None,
                    checksum_valid=None,
                    confidence=LLM_UNKNOWN_FORMAT_CONFIDENCE,
                )
            )
        else:
            accepted.append(
                ModelFind(
                    message_id=owner,
                    number=number,
                    carrier=verdict.carrier,
                    format=verdict.format,
                    checksum_valid=verdict.checksum_valid,
                    confidence=LLM_CHECKSUM_CONFIDENCE
                    if verdict.checksum_valid
                    else LLM_FORMAT_CONFIDENCE,
                )
            )
    return accepted, dropped


def shipment_claims(claims: Sequence[Claim]) -> dict[ClaimKey, ClaimValues]:
    """What the model said about each number's parcel, keyed by the message it cited."""
    return {
        (claim.message_id, normalize(claim.tracking_number)): (
            claim.status,
            claim.order_reference,
            claim.expected_delivery,
        )
        for claim in claims
        if claim.status or claim.order_reference or claim.expected_delivery
    }


def silence_counts(prepared: Sequence[PreparedMessage], dropped: int) -> bool:
    """Whether the model's silence on a detector candidate may keep it out of the ledger.

    Not when its answer named a number the text does not hold (`dropped`: it invented,
    leaked or was led), nor when the text speaks to the model ("ignore previous
    instructions ..."): an instruction in the mail may have been obeyed, and what the
    model left out then says nothing about the number. Its finds still count once
    validated; only its omissions stop counting, as if it had not been asked.
    """
    return dropped == 0 and not any(INSTRUCTION.search(p.text) for p in prepared)


def merge(
    conversation_id: str,
    prepared: Sequence[PreparedMessage],
    model_finds: Sequence[ModelFind] | None,
    *,
    dropped: int = 0,
) -> tuple[TrackingNumber, ...]:
    """Combine detector and model results; each number once, at its first message.

    `model_finds` is None when the model was not asked: then every storable detector
    candidate counts. When it was asked, candidates it did not confirm must be very sure,
    unless its silence does not count (`silence_counts`, given the claims it `dropped`).
    """
    judged = model_finds is not None and silence_counts(prepared, dropped)
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
            if judged and not confirmed and not _sure(cand):
                continue
            stored[cand.number] = TrackingNumber(
                tracking_number=cand.number,
                carrier=cand.carrier,
                format=cand.format,
                checksum_valid=cand.checksum_valid,
                source="both" if confirmed else "pattern",
                confidence=min(1.0, cand.confidence + (0.05 if confirmed else 0.0)),
                conversation_id=conversation_id,
                message_id=item.message.id,
                snippet=snippet(item.text, cand.start, cand.end),
            )
        for number, find in finds.items():
            if number in stored:
                continue
            start = _locate(item.text, number)
            stored[number] = TrackingNumber(
                tracking_number=number,
                carrier=find.carrier,
                format=find.format,
                checksum_valid=find.checksum_valid,
                source="llm",
                confidence=find.confidence,
                conversation_id=conversation_id,
                message_id=item.message.id,
                snippet=snippet(item.text, start, start + len(number)) if start >= 0 else "",
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
