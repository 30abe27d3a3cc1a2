"""The words around a span: what decides whether a number is storable, a hint, or noise.

Tracking and carrier words make a match storable; phone, card and order/invoice labels,
prices, dates and times make it something else. Keyword scans dominate the detector's
time, so they run on the few lines around a span only, and on ASCII text through a
case-sensitive twin of the keyword pattern.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from frontscan.detector.checkdigits import luhn_valid
from frontscan.detector.matching import BRAND_NAMES
from frontscan.detector.vocabulary import (
    CARD_WORDS,
    CARRIER_NAMES,
    OTHER_LABELS,
    PHONE_WORDS,
    TRACKING_WORDS,
)

_NAMES = "|".join(re.escape(n) for n in sorted(CARRIER_NAMES, key=len, reverse=True))
# Every keyword starts with a word character, so `(?=\w)` only spares the engine trying the
# whole alternation at the start of each gap between words.
_KEYWORD_SOURCE = (
    rf"(?=\w)\b(?:(?P<carrier>{_NAMES})|(?P<phone>{PHONE_WORDS})|(?P<card>{CARD_WORDS})"
    rf"|(?P<label>{OTHER_LABELS}|usd|eur|gbp|cad|aud|pln)|(?P<track>{TRACKING_WORDS}))\b"
)
KEYWORD = re.compile(_KEYWORD_SOURCE, re.IGNORECASE)
# The keywords are written in lower case: on lower-cased ASCII text a case-sensitive match
# finds exactly what the case-insensitive one finds in the original, several times faster.
_KEYWORD_LOWER = re.compile(_KEYWORD_SOURCE)
_FILLER_WORDS = frozenset((
    "no", "nr", "num", "number", "numbers", "nummer", "numéro", "número", "numer", "is", "id",
    "code", "de", "du", "votre", "ihre", "lautet", "est", "es", "ist", "jest", "to", "your",
))  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:[&.-][^\W_]+)*")
_LAST_SENTENCE_END = re.compile(r".*[.!?](?=\s)", re.DOTALL)  # up to the last one
_CLAUSE_END = re.compile(r"[.!?](?=\s)|\n")
_FILLER = re.compile(
    r"(?:[\s#:.()\-]|\b(?:no|nr|num|number|numbers|nummer|numéro|número|numer|is|id|code|de"
    r"|du|votre|ihre|lautet|est|es|ist|jest|to|your)\b)*",
    re.IGNORECASE,
)
_BEFORE = re.compile(r"(?:\d[.:/-]|\+\s?|[$€£¥₹]\s?)$")
_AFTER = re.compile(r"[.,]\d{1,2}(?![0-9A-Za-z])|:\d\d|[-/]\d")
_TIMESTAMP = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?"
)
_DATE8 = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"|(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d\d"
)
_PRINTED_DATE = re.compile(
    r"\b(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d\d|(?:19|20)\d\d[./-]\d{1,2}[./-]\d{1,2})\b"
)
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


@dataclass(frozen=True, slots=True)
class Context:
    tracking: bool
    carriers: frozenset[str]
    phone: bool
    card: bool
    labelled: bool  # an order/ref/phone/card label stands right before the span
    introduced: bool  # a tracking or carrier word (or a tracking link) introduces the span


def keywords(text: str) -> Iterator[re.Match[str]]:
    """`KEYWORD` hits in `text` (for ASCII text, `group()` comes back lower-cased)."""
    if text.isascii():
        return _KEYWORD_LOWER.finditer(text.lower())
    return KEYWORD.finditer(text)


def maybe_introduced(text: str, start: int) -> bool:
    """Cheap pre-test for `Context.introduced`: a tracking or carrier word of up to three
    words right before `start`, filler such as "number is:" aside."""
    words = _WORD.findall(text, max(0, start - 48), start)
    while words and words[-1].lower() in _FILLER_WORDS:
        words.pop()
    for count in (1, 2, 3):
        if count <= len(words):
            phrase = " ".join(words[-count:])
            if phrase.isascii():
                hit = _KEYWORD_LOWER.fullmatch(phrase.lower())
            else:
                hit = KEYWORD.fullmatch(phrase)
            if hit is not None and hit.lastgroup in ("track", "carrier"):
                return True
    return False


def brand_nearby(text: str, start: int, end: int, number: str) -> bool:
    """Cheap test before a full context: could a brand-only format of this length apply?"""
    names = BRAND_NAMES.get(len(number))
    if not names:
        return False
    window = text[max(0, start - 200) : end + 40].lower()
    return any(name in window for name in names)


def cached_context(
    text: str,
    start: int,
    end: int,
    linked: str | None,
    contexts: dict[tuple[int, int], Context],
) -> Context:
    found = contexts.get((start, end))
    if found is None:
        found = contexts[start, end] = read_context(text, start, end, linked)
    return found


def read_context(text: str, start: int, end: int, linked: str | None = None) -> Context:
    """Keywords on the span's line (or the line above, if the span starts its line) and after.

    `linked` is the carrier of a tracking link that names this number, if any.
    """
    head, _, before = text[max(0, start - 140) : start].rpartition("\n")
    if not before.strip():
        head, _, before = head.rstrip().rpartition("\n")
    heading = head.rstrip().rpartition("\n")[2]  # a table's "Carrier: GLS" row above
    cut = _LAST_SENTENCE_END.match(before)
    before = before[cut.end() :] if cut else before
    after = text[end : end + 40]
    stop = _CLAUSE_END.search(after)
    after = after[: stop.start()] if stop else after
    hits = list(keywords(before))
    last = hits[-1] if hits else None
    adjacent = last is not None and _FILLER.fullmatch(before, last.end()) is not None
    labelled = adjacent and last is not None and last.lastgroup in ("label", "phone", "card")
    introduced = adjacent and last is not None and last.lastgroup in ("track", "carrier")
    hits += keywords(after)
    if (
        heading
        and len(heading) < 80
        and not any(h.lastgroup == "carrier" for h in hits)
        and sum(map(str.isdigit, heading)) < 4
    ):
        hits += (h for h in keywords(heading) if h.lastgroup == "carrier")
    kinds: set[str | None] = set()
    names: set[str] = set()
    for hit in hits:
        kind = hit.lastgroup
        kinds.add(kind)
        if kind == "carrier":
            names.add(CARRIER_NAMES[" ".join(hit.group().lower().split())])
    if linked is not None:
        names.add(linked)
    return Context(
        bool(kinds & {"track", "carrier"}) or linked is not None,
        frozenset(names),
        "phone" in kinds,
        "card" in kinds,
        labelled and linked is None,
        introduced or linked is not None,
    )


def in_numeric_expression(text: str, start: int, end: int) -> bool:
    """A piece of a price, a date, a time or a longer numeric expression."""
    return _BEFORE.search(text, max(0, start - 3), start) is not None or (
        _AFTER.match(text, end) is not None
    )


def looks_like_something_else(
    text: str, start: int, end: int, lengths: tuple[int, ...], number: str, context: Context
) -> bool:
    """Phones, cards, timestamps, dates, money and IP addresses; for numbers printed in
    groups also anything laid out like a phone number. Callers test `in_numeric_expression`
    first (the detector does so before it reads the context at all)."""
    grouped = len(lengths) > 1
    if grouped and not context.introduced:
        printed = text[start:end]
        if _PRINTED_DATE.search(printed) or _IPV4.fullmatch(printed):
            return True
    if not number.isdigit():
        return False
    if 10 <= len(number) <= 12 and context.phone:
        return True
    if grouped and not context.introduced:
        if len(number) <= 12 and unequal(lengths):
            return True  # 3-3-4, 1-3-3-4, 5-6: the way phone numbers are written
        if lengths[0] == 8 and _DATE8.fullmatch(number[:8]):
            return True  # a date, then a time or a counter
    if len(number) in (12, 14) and _TIMESTAMP.fullmatch(number) and not context.introduced:
        return True  # a date and time, unless "tracking number:" stands right before it
    if 13 <= len(number) <= 19 and luhn_valid(number):
        in_fours = grouped and lengths[0] == 4
        return context.card or (in_fours and not context.tracking)
    return False


def unequal(lengths: tuple[int, ...]) -> bool:
    """Groups not all the same size (a shorter last one aside): 3-3-4, 1-3-3-4, 5-6."""
    return not (all(n == lengths[0] for n in lengths[:-1]) and lengths[-1] <= lengths[0])
