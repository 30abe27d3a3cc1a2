"""Find tracking numbers in e-mail prose: the format table plus the judgement the gem lacks.

The reference gem lets `\\s*` glue any neighbouring tokens together and trusts every
pattern hit, so phones, cards, dates and order ids come back as tracking numbers
(reference §6). Here text is cut into runs of alphanumeric tokens; tokens are joined
only when their lengths look printed (equal groups, or a layout the carrier uses), each
piece must match a format in full, and the words around a match decide whether it is
storable, a hint for the model, or noise. Everything is precompiled regex and arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from frontscan.detector.checkdigits import luhn_valid
from frontscan.detector.formats import (
    CARD_WORDS,
    CARRIER_NAMES,
    FORMATS,
    FORMATS_BY_LENGTH,
    OTHER_LABELS,
    PHONE_WORDS,
    TRACKING_URLS,
    TRACKING_WORDS,
    Format,
)
from frontscan.models import Candidate

_RUN = re.compile(r"[A-Za-z0-9]+(?:[ \t\u00a0-][A-Za-z0-9]+)*")
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DIGIT = re.compile(r"\d")
_SEPARATORS = re.compile(r"[\s\-]+")
_MAX_GROUPS = 12
_MAX_LENGTH = 42
_LAYOUTS: dict[tuple[int, ...], frozenset[str]] = {
    layout: frozenset(f.id for f in FORMATS if layout in f.layouts)
    for layout in {layout for f in FORMATS for layout in f.layouts}
}
_LAYOUT_PREFIXES = frozenset(layout[:k] for layout in _LAYOUTS for k in range(2, len(layout) + 1))
_NAMES = "|".join(re.escape(n) for n in sorted(CARRIER_NAMES, key=len, reverse=True))
_KEYWORD = re.compile(
    rf"\b(?:(?P<carrier>{_NAMES})|(?P<phone>{PHONE_WORDS})|(?P<card>{CARD_WORDS})"
    rf"|(?P<label>{OTHER_LABELS}|usd|eur|gbp|cad|aud)|(?P<track>{TRACKING_WORDS}))\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_CLAUSE_END = re.compile(r"[.!?](?=\s)|\n")
_FILLER = re.compile(r"(?:[\s#:.()]|\b(?:no|nr|num|number|is|id)\b)*", re.IGNORECASE)
_BEFORE = re.compile(r"(?:\d[.:/-]|\+\s?|[$€£¥₹]\s?)$")
_AFTER = re.compile(r"[.,]\d{1,2}(?![0-9A-Za-z])|:\d\d|[-/]\d")
_TIMESTAMP = re.compile(
    r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:[01]\d|2[0-3])[0-5]\d(?:[0-5]\d)?"
)
_LOOSE = re.compile(r"[A-Za-z0-9]{10,}|\d{3,5}(?:[ -]\d{3,5}){2,}")


@dataclass(frozen=True, slots=True)
class Classification:
    """What one string is: its best format, and the other formats that also accept it."""

    number: str
    carrier: str
    format: str
    checksum_valid: bool | None
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Match:
    fmt: Format
    valid: bool | None
    carrier: str


@dataclass(frozen=True, slots=True)
class _Context:
    tracking: bool
    carriers: frozenset[str]
    phone: bool
    card: bool
    labelled: bool  # an order/ref/phone/card label stands right before the span
    introduced: bool  # a tracking or carrier word stands right before the span


def normalize(number: str) -> str:
    """Upper case, without spaces or dashes: the form numbers are stored and compared in."""
    return _SEPARATORS.sub("", number).upper()


def _matches(number: str, only: frozenset[str] | None = None) -> list[_Match]:
    found: list[_Match] = []
    for fmt in FORMATS_BY_LENGTH.get(len(number), ()):
        if only is None or fmt.id in only:
            result = fmt.check(number)
            if result is not None:
                found.append(_Match(fmt, result[0], result[1]))
    return found


def _rank(match: _Match, carriers: frozenset[str] = frozenset()) -> tuple[int, int, int]:
    validity = {True: 2, None: 1, False: 0}[match.valid]
    return validity, int(match.carrier in carriers), match.fmt.priority


def classify(number: str) -> Classification | None:
    """The best format a single string (say, a model's answer) fully matches, or None.

    Checksum-valid formats win over formats without a check digit, which win over a
    failing check; `checksum_valid` is False only when every format that fits the shape
    rejects the check digit, so a model answer with a wrong check digit can be refused.
    """
    normalized = normalize(number.strip())
    found = sorted(_matches(normalized), key=_rank, reverse=True)
    if not found:
        return None
    best = found[0]
    others = tuple(m.fmt.id for m in found[1:] if m.valid is not False)
    return Classification(normalized, best.carrier, best.fmt.id, best.valid, others)


def find_candidates(text: str) -> list[Candidate]:
    """Every tracking-number-shaped match in `text`, non-overlapping, in text order.

    Storable candidates pass their check digit (and S10 country); formats without one,
    and DHL Express whose mod 7 passes one phone number in seven, are storable only with
    a tracking or carrier word in the same sentence. Other matches come back as hints
    (`storable=False`), including a failing check digit on a distinctive shape such as
    `1Z…` (a likely typo the model may judge). Phones, cards, dates, money and labelled
    order/invoice/reference numbers are never returned. The longest match wins; matches
    overlapping a better one are dropped.
    """
    out: list[Candidate] = []
    for run in _RUN.finditer(text):
        if _DIGIT.search(run.group()) is None:
            continue
        found: list[Candidate] = []
        blocked: list[tuple[int, int]] = []
        for start, end, only, lengths in _spans(text, run):
            number = normalize(text[start:end])
            matches = _matches(number, only)
            if not matches:
                continue
            candidate = _judge(text, start, end, number, lengths, matches)
            if candidate is None:
                blocked.append((start, end))
            else:
                found.append(candidate)
        out += _resolve(found, blocked) if len(found) > 1 or blocked else found
    return out


def _spans(
    text: str, run: re.Match[str]
) -> list[tuple[int, int, frozenset[str] | None, tuple[int, ...]]]:
    """Every digit-bearing token, and every group of tokens that looks printed as one number.

    A group needs one kind of separator throughout and either equal groups of 3-5
    characters (a shorter last one allowed) that no neighbouring digit group of the same
    size extends, or the exact lengths of a layout some format is printed in (then only
    those formats are tried).
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, run.start(), run.end())]
    digits = [_DIGIT.search(text, s, e) is not None for s, e in tokens]
    dashes = [text[e] == "-" for _, e in tokens[:-1]]
    count = len(tokens)
    out: list[tuple[int, int, frozenset[str] | None, tuple[int, ...]]] = []
    for i, (start, end) in enumerate(tokens):
        size = end - start
        if digits[i]:
            out.append((start, end, None, (size,)))
        lengths = [size]
        any_digit = digits[i]
        extends_left = (
            0 < i < count - 1
            and digits[i - 1]
            and dashes[i - 1] == dashes[i]
            and tokens[i - 1][1] - tokens[i - 1][0] == size
        )
        equal = 3 <= size <= 5 and not extends_left
        for j in range(i + 1, min(count, i + _MAX_GROUPS)):
            if dashes[j - 1] != dashes[i]:
                break
            length = tokens[j][1] - tokens[j][0]
            lengths.append(length)
            if tokens[j][1] - start - j + i > _MAX_LENGTH:
                break
            any_digit = any_digit or digits[j]
            shape = tuple(lengths)
            if not equal and shape not in _LAYOUT_PREFIXES:
                break
            if equal and length <= size and any_digit and _ends_group(tokens, digits, dashes, i, j):
                out.append((start, tokens[j][1], None, shape))
            elif shape in _LAYOUTS and any_digit:
                out.append((start, tokens[j][1], _LAYOUTS[shape], shape))
            equal = equal and length == size
    return out


def _ends_group(
    tokens: list[tuple[int, int]], digits: list[bool], dashes: list[bool], i: int, j: int
) -> bool:
    """False when token j is full-size and the next token would continue the same group."""
    size = tokens[i][1] - tokens[i][0]
    after = j + 1
    if tokens[j][1] - tokens[j][0] != size or after >= len(tokens) or not digits[after]:
        return True
    return dashes[j] != dashes[i] or tokens[after][1] - tokens[after][0] > size


def _judge(
    text: str,
    start: int,
    end: int,
    number: str,
    lengths: tuple[int, ...],
    matches: list[_Match],
) -> Candidate | None:
    """Turn one span's format matches into a candidate, or None when it is something else."""
    context = _context(text, start, end)
    if context.labelled or _looks_like_something_else(text, start, end, number, lengths, context):
        return None
    best = max(matches, key=lambda m: _rank(m, context.carriers))
    if best.valid is False and not best.fmt.fail_hint:
        return None
    storable = best.valid is not False and (
        context.tracking or (best.valid is True and not best.fmt.needs_keyword)
    )
    if best.valid is False:
        confidence = 0.2
    elif not storable:
        confidence = 0.3
    else:
        confidence = _strength(best.fmt, number) + 0.05 * context.tracking
        confidence += 0.02 * (best.carrier in context.carriers)
    return Candidate(
        number=number, carrier=best.carrier, format=best.fmt.id, checksum_valid=best.valid,
        confidence=round(min(confidence, 0.99), 2), start=start, end=end, storable=storable,
    )  # fmt: skip


def _strength(fmt: Format, number: str) -> float:
    if fmt.checksum is None:
        return 0.65
    if fmt.needs_keyword:
        return 0.7
    return 0.9 if fmt.fail_hint or len(number) >= 15 else 0.75


def _context(text: str, start: int, end: int) -> _Context:
    """Keywords on the span's line (or the line above, if the span starts its line) and after."""
    head, _, before = text[max(0, start - 120) : start].rpartition("\n")
    if not before.strip():
        above = [line for line in head.split("\n") if line.strip()]
        before = above[-1] if above else ""
    cuts = [m.end() for m in _SENTENCE_END.finditer(before)]
    before = before[cuts[-1] :] if cuts else before
    after = text[end : end + 40]
    stop = _CLAUSE_END.search(after)
    after = after[: stop.start()] if stop else after
    hits = list(_KEYWORD.finditer(before))
    last = hits[-1] if hits else None
    adjacent = last is not None and _FILLER.fullmatch(before, last.end()) is not None
    labelled = adjacent and last is not None and last.lastgroup in ("label", "phone", "card")
    introduced = adjacent and last is not None and last.lastgroup in ("track", "carrier")
    hits += _KEYWORD.finditer(after)
    kinds = {h.lastgroup for h in hits}
    names = frozenset(CARRIER_NAMES[h.group().lower()] for h in hits if h.lastgroup == "carrier")
    return _Context(
        bool(kinds & {"track", "carrier"}),
        names,
        "phone" in kinds,
        "card" in kinds,
        labelled,
        introduced,
    )


def _looks_like_something_else(
    text: str, start: int, end: int, number: str, lengths: tuple[int, ...], context: _Context
) -> bool:
    """Phones, cards, timestamps, money and pieces of longer numeric expressions."""
    if _BEFORE.search(text, max(0, start - 3), start) or _AFTER.match(text, end):
        return True
    if not number.isdigit():
        return False
    if 10 <= len(number) <= 12 and context.phone:
        return True
    if len(number) in (12, 14) and _TIMESTAMP.fullmatch(number) and not context.introduced:
        return True  # a date and time, unless "tracking number:" stands right before it
    if 13 <= len(number) <= 19 and luhn_valid(number):
        in_fours = len(lengths) > 1 and lengths[0] == 4
        return context.card or (in_fours and not context.tracking)
    return False


def _resolve(found: list[Candidate], blocked: list[tuple[int, int]]) -> list[Candidate]:
    """Keep the best of overlapping candidates: storable, then longest, then checksum-valid."""
    kept: list[Candidate] = []
    order = sorted(
        found, key=lambda c: (c.storable, c.end - c.start, c.checksum_valid is True), reverse=True
    )
    for cand in order:
        if any(s <= cand.start and cand.end <= e and e - s > cand.end - cand.start
               for s, e in blocked):  # fmt: skip
            continue
        if all(cand.end <= k.start or k.end <= cand.start for k in kept):
            kept.append(cand)
    return sorted(kept, key=lambda c: c.start)


def has_tracking_hint(text: str) -> bool:
    """Cheap test for `--llm auto`: any candidate or hint, or a long digit-heavy token
    (at least 10 characters, 6 of them digits) near a tracking or carrier word."""
    if find_candidates(text):
        return True
    for match in _LOOSE.finditer(text):
        if sum(c.isdigit() for c in match.group()) < 6:
            continue
        window = text[max(0, match.start() - 100) : match.end() + 60]
        if any(h.lastgroup in ("track", "carrier") for h in _KEYWORD.finditer(window)):
            return True
    return False


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for `number`, for the carriers whose URL is known."""
    template = TRACKING_URLS.get(carrier)
    return template.format(quote(normalize(number), safe="")) if template else None
