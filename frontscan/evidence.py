"""What the model needs to see, and whether it needs to be asked at all (DESIGN §5.2).

Three pure rules, each with plain unit tests:

* `evidence` — of a message's new text, only the passages that can hold a number: a
  window around every candidate, every hint and every tracking or carrier keyword that
  has a digit near it, merged where they overlap. A short message goes whole. Tokens
  are the whole bill and TPM is what bounds a backfill, so footers, newsletters and
  greetings are not sent. Validation still checks answers against the FULL text.
* `completion_budget` — `max_completion_tokens` sized to the answer expected: a small
  base plus a few dozen tokens per number the call can hold. OpenAI charges the whole
  budget against TPM up front, so a fixed 400 for answers of ~30 tokens wastes most of it.
* `detector_is_sure` — in `--llm auto`, a conversation whose every candidate passes its
  check digit next to a tracking or carrier keyword, with no unexplained hint, is stored
  from the detector alone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from frontscan.detector.vocabulary import (
    CARD_WORDS,
    CARRIER_NAMES,
    OTHER_LABELS,
    PHONE_WORDS,
    TRACKING_WORDS,
)
from frontscan.models import Candidate

WHOLE_MESSAGE_CHARS = 400  # shorter than this, a message goes whole: windows would save little
WINDOW_BEFORE = 60  # characters kept before an anchor: its label and the clause around it
WINDOW_AFTER = 30
MERGE_GAP = 30  # windows closer than this are sent as one passage
MIN_NUMBER_CHARS = 8  # no number the model may return is shorter (answers.validate)
ELLIPSIS = "[…]"

COMPLETION_BASE = 24  # `{"numbers":[]}` plus framing, with room to spare
COMPLETION_PER_NUMBER = 64  # one number with its carrier, status, order and date is ~45 tokens
COMPLETION_MIN_NUMBERS = 2  # leave room for one number the detector did not see
COMPLETION_MAX = 16_384

KEYWORD_BEFORE = 100  # a hint counts when a keyword is this close before it, or
KEYWORD_AFTER = 60  # this close after it (the same reach as the detector's hint rule)
SURE_BEFORE = 80  # "next to a keyword" for the sure rule: the same line or the one above
SURE_AFTER = 40

_NAMES = "|".join(re.escape(n) for n in sorted(CARRIER_NAMES, key=len, reverse=True))
_KEYWORD = re.compile(rf"\b(?:{_NAMES}|{TRACKING_WORDS})\b", re.IGNORECASE)
_LABEL = re.compile(
    rf"\b(?:{OTHER_LABELS}|{PHONE_WORDS}|{CARD_WORDS})\b[\s#:.()]*(?:no|nr|number|ending)?[\s#:.]*$",
    re.IGNORECASE,
)
# Digit-bearing tokens joined by single spaces or dashes: how numbers are printed in groups.
_LOOSE = re.compile(r"[A-Za-z0-9]*\d[A-Za-z0-9]*(?:[ \-][A-Za-z0-9]*\d[A-Za-z0-9]*)*")


@dataclass(frozen=True, slots=True, kw_only=True)
class Passage:
    """One window of a message's new text, by character offsets into that text."""

    start: int
    end: int


def hints(text: str, candidates: Sequence[Candidate]) -> list[tuple[int, int]]:
    """Spans that might be a tracking number the detector did not recognise.

    A run of digit-bearing tokens (as numbers are printed, in groups) of at least 10
    characters and 6 digits, with a tracking or carrier keyword nearby, that no
    candidate covers and no order/invoice/phone/card label introduces; plus every
    candidate the detector could not store (a hint by its own judgement).
    """
    covered = [(c.start, c.end) for c in candidates]
    found = [(c.start, c.end) for c in candidates if not c.storable]
    for match in _LOOSE.finditer(text):
        start, end = match.span()
        token = match.group().replace(" ", "").replace("-", "")
        if len(token) < 10 or sum(ch.isdigit() for ch in token) < 6:
            continue
        if any(s < end and start < e for s, e in covered):
            continue
        line_start = text.rfind("\n", 0, start) + 1
        if _LABEL.search(text[max(line_start, start - 30) : start]):
            continue
        reach = text[max(0, start - KEYWORD_BEFORE) : end + KEYWORD_AFTER]
        if _KEYWORD.search(reach):
            found.append((start, end))
    return sorted(found)


def keyword_spans(text: str) -> list[tuple[int, int]]:
    """Tracking or carrier keywords with a digit run that could be a number in reach.

    A keyword alone cannot be answered: a number the model may return has at least
    `MIN_NUMBER_CHARS` characters with a digit, so only keywords near such a run count
    ("free shipping on orders over $50" does not).
    """
    runs = _number_runs(text)
    out: list[tuple[int, int]] = []
    for match in _KEYWORD.finditer(text):
        low, high = match.start() - WINDOW_AFTER, match.end() + WINDOW_BEFORE
        if any(s < high and low < e for s, e in runs):
            out.append(match.span())
    return out


def _number_runs(text: str) -> list[tuple[int, int]]:
    """Digit-bearing runs long enough to be a number the model may return."""
    return [
        m.span()
        for m in _LOOSE.finditer(text)
        if len(m.group().replace(" ", "").replace("-", "")) >= MIN_NUMBER_CHARS
    ]


def passages(text: str, candidates: Sequence[Candidate]) -> list[Passage]:
    """The windows to send for one message's new text, merged, in text order.

    Each anchor (candidate, hint, keyword with a digit near it) is widened by
    `WINDOW_BEFORE`/`WINDOW_AFTER` and snapped outward to whitespace so no word is cut.
    A text shorter than `WHOLE_MESSAGE_CHARS` is one passage, the whole of it, and a
    text with no digit run long enough to be an answer is none at all.
    """
    anchors = [(c.start, c.end) for c in candidates]
    anchors += hints(text, candidates) + keyword_spans(text)
    if not anchors and not _number_runs(text):
        return []  # nothing here could be an answer: validation needs 8+ characters, a digit
    if len(text) <= WHOLE_MESSAGE_CHARS:
        return [Passage(start=0, end=len(text))]
    windows = sorted(
        (_snap_left(text, s - WINDOW_BEFORE), _snap_right(text, e + WINDOW_AFTER))
        for s, e in anchors
    )
    merged: list[list[int]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1] + MERGE_GAP:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Passage(start=s, end=e) for s, e in merged]


def evidence(text: str, candidates: Sequence[Candidate]) -> str:
    """The passages of `text` joined with `[…]` where text was left out; '' when none."""
    pieces = passages(text, candidates)
    if not pieces:
        return ""
    out: list[str] = []
    if pieces[0].start > 0:
        out.append(ELLIPSIS)
    for index, piece in enumerate(pieces):
        if index:
            out.append(ELLIPSIS)
        out.append(" ".join(text[piece.start : piece.end].split()))
    if pieces[-1].end < len(text):
        out.append(ELLIPSIS)
    return "\n".join(out) if len(pieces) > 1 or out[0] == ELLIPSIS else out[0]


def _snap_left(text: str, index: int) -> int:
    if index <= 0:
        return 0
    space = max(text.rfind(" ", 0, index), text.rfind("\n", 0, index))
    return space + 1 if space >= 0 else 0


def _snap_right(text: str, index: int) -> int:
    if index >= len(text):
        return len(text)
    ends = [i for i in (text.find(" ", index), text.find("\n", index)) if i >= 0]
    return min(ends) if ends else len(text)


def completion_budget(expected_numbers: int, *, ceiling: int) -> int:
    """`max_completion_tokens` for a call that may hold `expected_numbers` numbers.

    A base for the empty answer plus `COMPLETION_PER_NUMBER` per number, counting at
    least `COMPLETION_MIN_NUMBERS` so one number the detector missed still fits; never
    above `ceiling` (the configured `openai.max_completion_tokens`).
    """
    numbers = max(COMPLETION_MIN_NUMBERS, expected_numbers)
    return max(1, min(ceiling, COMPLETION_BASE + COMPLETION_PER_NUMBER * numbers))


def retry_budget(budget: int, *, ceiling: int) -> int:
    """The larger budget for the one retry after `finish_reason: length`.

    The configured ceiling when the first budget was below it, else double (up to
    OpenAI's 16,384): the retry must be able to hold what the first call could not.
    """
    if budget < ceiling:
        return ceiling
    return min(COMPLETION_MAX, max(budget + 1, 2 * budget))


def detector_is_sure(text: str, candidates: Sequence[Candidate]) -> bool:
    """One message's verdict: every candidate checksum-valid next to a keyword, no open hint.

    A message with no candidate and no hint is trivially sure (nothing to ask about).
    """
    for cand in candidates:
        if cand.checksum_valid is not True or not cand.storable:
            return False
        near = text[max(0, cand.start - SURE_BEFORE) : cand.end + SURE_AFTER]
        if not _KEYWORD.search(near):
            return False
    return not hints(text, candidates)


def expected_numbers(texts_and_candidates: Sequence[tuple[str, Sequence[Candidate]]]) -> int:
    """How many numbers a call may hold: storable candidates plus hints, all messages."""
    total = 0
    for text, candidates in texts_and_candidates:
        total += sum(c.storable for c in candidates) + len(hints(text, candidates))
    return total
