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
from collections.abc import Iterable, Iterator
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
from frontscan.detector.links import inside, link_evidence, url_spans
from frontscan.models import Candidate

# Tokens of a printed number have one separator between them: a space, no-break space,
# tab, hyphen, dot or a single line break.
_SEP = r"(?:[ \t\u00a0.\-]|\r?\n)"
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
# Starts at a digit (so the regex engine can skip ahead fast); `_widen` adds the letters
# in front of it.
_REGION = re.compile(
    rf"\d[A-Za-z0-9]*(?:{_SEP}(?:[A-Z]{{1,6}}{_SEP}){{0,3}}[A-Za-z]*\d[A-Za-z0-9]*)*"
)
_LEFT = re.compile(rf"(?<![A-Za-z0-9])(?:[A-Za-z]{{1,6}}{_SEP}){{1,2}}\Z")
_RIGHT = re.compile(rf"(?:{_SEP}[A-Z]{{1,6}}(?![A-Za-z0-9])){{1,3}}")
_FILLER_WORDS = frozenset((
    "no", "nr", "num", "number", "numbers", "nummer", "numéro", "número", "numer", "is", "id",
    "code", "de", "du", "votre", "ihre", "lautet", "est", "es", "ist", "jest", "to", "your",
))  # fmt: skip
_WORD = re.compile(r"[^\W_]+(?:[&.-][^\W_]+)*")
_LENGTHS = frozenset(n for n, formats in FORMATS_BY_LENGTH.items() if formats)
_MIN_LENGTH = min(_LENGTHS)
# Formats that need their brand are tried only once the context names one of its carriers.
_UNBRANDED = {n: tuple(f for f in fs if not f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
_BRANDED = {n: tuple(f for f in fs if f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
_BRAND_CARRIERS = {
    n: frozenset(c for f in fs for c in (f.carrier, *f.also)) for n, fs in _BRANDED.items()
}
_BRAND_NAMES = {
    n: tuple(name for name, code in CARRIER_NAMES.items() if code in carriers)
    for n, carriers in _BRAND_CARRIERS.items()
}
_TOKEN = re.compile(r"[A-Za-z0-9]+")
_DIGIT = re.compile(r"\d")
_SEPARATORS = re.compile(r"[\s\-.]+")
_JOINERS = re.compile(r"[\s\-.]+")
_FLAT = re.compile(r"(?<=[A-Za-z0-9])[\s\-.\u00a0]+(?=[A-Za-z0-9])")
_MAX_GROUPS = 12
_MAX_LENGTH = 42
_LOOSE_MIN, _LOOSE_MAX, _LOOSE_DIGITS = 8, 40, 6
_LAYOUTS: dict[tuple[int, ...], frozenset[str]] = {
    layout: frozenset(f.id for f in FORMATS if layout in f.layouts)
    for layout in {layout for f in FORMATS for layout in f.layouts}
}
_LAYOUT_PREFIXES = frozenset(layout[:k] for layout in _LAYOUTS for k in range(2, len(layout) + 1))
_NAMES = "|".join(re.escape(n) for n in sorted(CARRIER_NAMES, key=len, reverse=True))
# Every keyword starts with a word character, so `(?=\w)` only spares the engine trying the
# whole alternation at the start of each gap between words.
_KEYWORD_SOURCE = (
    rf"(?=\w)\b(?:(?P<carrier>{_NAMES})|(?P<phone>{PHONE_WORDS})|(?P<card>{CARD_WORDS})"
    rf"|(?P<label>{OTHER_LABELS}|usd|eur|gbp|cad|aud|pln)|(?P<track>{TRACKING_WORDS}))\b"
)
_KEYWORD = re.compile(_KEYWORD_SOURCE, re.IGNORECASE)
# The keywords are written in lower case: on lower-cased ASCII text a case-sensitive match
# finds exactly what the case-insensitive one finds in the original, several times faster.
_KEYWORD_LOWER = re.compile(_KEYWORD_SOURCE)


def _keywords(text: str) -> Iterator[re.Match[str]]:
    """`_KEYWORD` hits in `text` (for ASCII text, `group()` comes back lower-cased)."""
    if text.isascii():
        return _KEYWORD_LOWER.finditer(text.lower())
    return _KEYWORD.finditer(text)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
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
    introduced: bool  # a tracking or carrier word (or a tracking link) introduces the span


@dataclass(frozen=True, slots=True)
class _Span:
    """A piece of a run to try as one number: `kind` says how its tokens were joined."""

    start: int
    end: int
    only: frozenset[str] | None  # the formats a carrier layout implies, or any
    lengths: tuple[int, ...]
    kind: str  # "token", "group" (equal groups or a carrier layout) or "printed"


def normalize(number: str) -> str:
    """Upper case, without spaces, dashes or dots: the form numbers are stored and compared in."""
    return _SEPARATORS.sub("", number).upper()


def flatten(text: str) -> str:
    """`text` with the separators between alphanumerics removed (spaces, dashes, dots), upper
    case: a number printed in groups occurs in it exactly as its normalized form."""
    return _FLAT.sub("", text).upper()


def _matches(
    number: str,
    only: frozenset[str] | None = None,
    table: dict[int, tuple[Format, ...]] = (FORMATS_BY_LENGTH),
) -> list[_Match]:
    found: list[_Match] = []
    for fmt in table.get(len(number), ()):
        if only is None or fmt.id in only:
            result = fmt.check(number)
            if result is not None:
                found.append(_Match(fmt, result[0], result[1]))
    return found


def _named(match: _Match, carriers: frozenset[str]) -> bool:
    return match.carrier in carriers or any(c in carriers for c in match.fmt.also)


def _credited(match: _Match, carriers: frozenset[str]) -> str:
    """The carrier to store: the format's own, or one that prints it and is named nearby."""
    if match.carrier in carriers:
        return match.carrier
    return next((c for c in match.fmt.also if c in carriers), match.carrier)


def _rank(match: _Match, carriers: frozenset[str] = frozenset()) -> tuple[int, int, int, int, int]:
    """Not failing its check, then named nearby, then checksum-backed, then priority.

    A carrier named beside the number beats a checksum that passes by chance elsewhere
    (a Hermes number that is also a valid Canada Post one); a format that needs its
    brand ranks last when the brand is absent.
    """
    validity = {True: 2, None: 1, False: 0}[match.valid]
    named = _named(match, carriers)
    unbranded = match.fmt.needs_brand and not named
    return (
        int(match.valid is not False),
        int(named),
        int(not unbranded),
        validity,
        (match.fmt.priority),
    )


def classify(number: str, carriers: Iterable[str] = ()) -> Classification | None:
    """The best format a single string (say, a model's answer) fully matches, or None.

    Checksum-valid formats win over formats without a check digit, which win over a
    failing check; `checksum_valid` is False only when every format that fits the shape
    rejects the check digit, so a model answer with a wrong check digit can be refused.
    `carriers` named near the number break ties (and admit formats that need a brand).
    """
    normalized = normalize(number.strip())
    named = frozenset(carriers)
    found = sorted(_matches(normalized), key=lambda m: _rank(m, named), reverse=True)
    if not found:
        return None
    best = found[0]
    others = tuple(m.fmt.id for m in found[1:] if m.valid is not False)
    return Classification(normalized, _credited(best, named), best.fmt.id, best.valid, others)


def reading_of_model_number(
    text: str, number: str, model_carrier: str | None
) -> Classification | None:
    """How the detector reads a number the model found in `text`; None for "no format".

    Where the detector itself finds the number, its reading (format, carrier named
    nearby) stands. Otherwise the carriers named around the number's occurrence break
    ties. A number whose every fitting format fails its check is still read as no
    format when the model names a carrier none of those formats belongs to (a carrier
    with a numbering of its own), so the caller keeps it with the model's carrier.
    """
    normalized = normalize(number)
    for cand in find_candidates(text):
        if cand.number == normalized and cand.format != "unknown":
            return Classification(normalized, cand.carrier, cand.format, cand.checksum_valid)
    pattern = r"[\s\-.\u00a0]*".join(re.escape(ch) for ch in normalized)
    found = re.search(pattern, text, re.IGNORECASE) if normalized else None
    named = _context(text, *found.span()).carriers if found else frozenset()
    verdict = classify(normalized, named)
    if verdict is None or verdict.checksum_valid is not False:
        return verdict
    code = "_".join((model_carrier or "").lower().split())
    fitting = {c for m in _matches(normalized) for c in (m.carrier, *m.fmt.also)}
    return None if code and code != "unknown" and code not in fitting else verdict


def find_candidates(text: str, links: Iterable[str] = ()) -> list[Candidate]:
    """Every tracking-number-shaped match in `text`, non-overlapping, in text order.

    Storable candidates pass their check digit (and S10 country); formats without one,
    and DHL Express whose mod 7 passes one phone number in seven, are storable only with
    a tracking or carrier word in the same sentence. Other matches come back as hints
    (`storable=False`), including a failing check digit on a distinctive shape such as
    `1Z…` (a likely typo the model may judge), and a long digit-heavy token of no known
    format right by a tracking word (format "unknown"). Phones, cards, dates, money,
    labelled order/invoice/reference numbers and anything inside a URL are never
    returned. `links` are the message's hrefs: a carrier tracking link that names a
    number counts as a tracking word and a carrier name for it. The longest match wins;
    matches overlapping a better one are dropped.
    """
    urls = url_spans(text)
    link_list = list(links)
    evidence = link_evidence([text[s:e] for s, e in urls] + link_list) if urls or link_list else {}
    out: list[Candidate] = []
    contexts: dict[tuple[int, int], _Context] = {}
    for region_start, region_end in _regions(text):
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text, region_start, region_end)]
        sizes = [e - s for s, e in tokens]
        if sum(sizes) < _MIN_LENGTH and max(sizes) < _LOOSE_MIN:
            continue  # too short for any format and for a hint: "$49.99", "2026-01-05"
        found: list[Candidate] = []
        blocked: list[tuple[int, int]] = []
        other: list[tuple[int, int]] = []
        for span in _spans(text, tokens):
            if urls and inside(urls, span.start, span.end):
                continue
            number = _JOINERS.sub("", text[span.start : span.end]).upper()
            matches = _matches(number, span.only, _UNBRANDED)
            if not matches and not (span.only is None and _brand_nearby(text, span, number)):
                continue
            verdict = _judge(text, span, number, matches, evidence, contexts)
            if isinstance(verdict, Candidate):
                found.append(verdict)
                if verdict.checksum_valid is False:
                    blocked.append((span.start, span.end))  # no shorter number inside it
            elif verdict != "none":
                blocked.append((span.start, span.end))
                if verdict == "other":
                    other.append((span.start, span.end))
        kept = _resolve(found, blocked) if len(found) > 1 or blocked else found
        out += kept
        out += _unknown_hints(text, tokens, kept, other, urls, evidence, contexts)
    return sorted(out, key=lambda c: c.start)


def _regions(text: str) -> list[tuple[int, int]]:
    """Stretches of text a number can lie in: digit-bearing tokens one separator apart
    (or up to three short capital groups between, `1Z RKH CEE YW 8177`), and short
    letter groups either side (`LX 176 350 35 CN`, `… 276 N`, `1LSC XJ8O NZED AHL`).

    Prose words longer than five letters are never part of a printed number, so the
    detector looks only at these stretches instead of whole sentences.
    """
    regions = [
        _widen(text, m.start(), m.end())
        for m in _REGION.finditer(text)
        if m.end() - m.start() > 2 or (m.start() and text[m.start() - 1] in _ALNUM)
    ]
    return [(s, e) for s, e in regions if e - s >= 7]  # shorter: times, prices, counts


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    while start and text[start - 1] in _ALNUM:
        start -= 1
    before = _LEFT.search(text, max(0, start - 14), start)
    after = _RIGHT.match(text, end)
    return (before.start() if before else start), (after.end() if after else end)


def _joinable(token: str, digit: bool) -> bool:
    """Tokens a printed number may consist of: digit-bearing ones, and short capital
    prefixes or suffixes such as `1Z`, `LX`, `CN`, `N` that are not words in their own right."""
    return digit or (len(token) <= 4 and token.isupper() and _KEYWORD.fullmatch(token) is None)


def _spans(text: str, tokens: list[tuple[int, int]]) -> list[_Span]:
    if len(tokens) == 1 or sum(e - s for s, e in tokens) < _MIN_LENGTH:
        return [
            _Span(s, e, None, (e - s,), "token")
            for s, e in tokens
            if e - s in _LENGTHS and not text[s:e].isalpha()
        ]
    return _joined_spans(text, tokens)


def _joined_spans(text: str, tokens: list[tuple[int, int]]) -> list[_Span]:
    """Every digit-bearing token, and every group of tokens that may be one printed number.

    Groups of the first kind need one separator (not a line break) throughout and either
    equal groups of 3-5 characters (a shorter last one allowed) that no neighbouring
    digit group of the same size extends, or the exact lengths of a layout some format is
    printed in (then only those formats are tried). Groups of the second kind are a whole
    stretch of joinable tokens (optionally without a capital prefix or suffix): they are
    kept only when the joined string passes a check digit or follows a tracking word.
    """
    words = [text[s:e] for s, e in tokens]
    digits = [not w.isalpha() for w in words]
    sizes = [len(w) for w in words]
    seps = [text[e] if text[e] != "\r" else "\n" for _, e in tokens[:-1]]
    seps = [" " if c in " \t\u00a0" else c for c in seps]
    count = len(tokens)
    out: list[_Span] = []
    for i, (start, end) in enumerate(tokens):
        size = sizes[i]
        if digits[i] and size in _LENGTHS:
            out.append(_Span(start, end, None, (size,), "token"))
        if i + 1 >= count or seps[i] == "\n":
            continue
        sep = seps[i]
        lengths = [size]
        total = size
        any_digit = digits[i]
        extends_left = i > 0 and digits[i - 1] and seps[i - 1] == sep and sizes[i - 1] == size
        equal = 3 <= size <= 5 and not extends_left
        for j in range(i + 1, min(count, i + _MAX_GROUPS)):
            if seps[j - 1] != sep:
                break
            length = sizes[j]
            total += length
            if total > _MAX_LENGTH:
                break
            lengths.append(length)
            any_digit = any_digit or digits[j]
            if equal:
                if (
                    length <= size
                    and any_digit
                    and total in _LENGTHS
                    and _ends_group(sizes, digits, seps, i, j)
                ):
                    out.append(_Span(start, tokens[j][1], None, tuple(lengths), "group"))
                    equal = length == size
                    continue
            else:
                shape = tuple(lengths)
                if shape not in _LAYOUT_PREFIXES:
                    break
            shape = tuple(lengths)
            if shape in _LAYOUTS and any_digit:
                out.append(_Span(start, tokens[j][1], _LAYOUTS[shape], shape, "group"))
            elif equal and length != size and shape not in _LAYOUT_PREFIXES:
                break
            equal = equal and length == size
    seen = {(s.start, s.end) for s in out if s.only is None}
    out += _printed(text, tokens, words, digits, seen)
    return out


def _printed(
    text: str,
    tokens: list[tuple[int, int]],
    words: list[str],
    digits: list[bool],
    seen: set[tuple[int, int]],
) -> list[_Span]:
    """Whole stretches of joinable tokens (2 or more), and each without a letter-only end."""
    out: list[_Span] = []
    index = 0
    count = len(tokens)
    joinable = [_joinable(w, d) for w, d in zip(words, digits, strict=True)]
    while index < count:
        if not joinable[index]:
            index += 1
            continue
        last = index
        while last + 1 < count and joinable[last + 1]:
            last += 1
        if last > index:
            firsts = [index] + ([index + 1] if not digits[index] else [])
            lasts = [last] + ([last - 1] if not digits[last] else [])
            for a in firsts:
                for b in lasts:
                    start, end = tokens[a][0], tokens[b][1]
                    if b <= a or (start, end) in seen or end - start > _MAX_LENGTH + 12:
                        continue
                    lengths = tuple(len(w) for w in words[a : b + 1])
                    if sum(lengths) in _LENGTHS and not _stitched(text, tokens[a : b + 1]):
                        out.append(_Span(start, end, None, lengths, "printed"))
        index = last + 1
    return out


def _stitched(text: str, tokens: list[tuple[int, int]]) -> bool:
    """Two tokens that are each a valid number on their own: a list, not one number."""
    valid = 0
    for start, end in tokens:
        if end - start >= 10 and any(m.valid for m in _matches(text[start:end].upper())):
            valid += 1
            if valid > 1:
                return True
    return False


def _ends_group(sizes: list[int], digits: list[bool], seps: list[str], i: int, j: int) -> bool:
    """False when token j is full-size and the next token would continue the same group."""
    after = j + 1
    if sizes[j] != sizes[i] or after >= len(sizes) or not digits[after]:
        return True
    return seps[j] != seps[i] or sizes[after] > sizes[i]


def _judge(
    text: str,
    span: _Span,
    number: str,
    matches: list[_Match],
    evidence: dict[str, str],
    contexts: dict[tuple[int, int], _Context],
) -> Candidate | str:
    """One span's format matches as a candidate, or why not: "other" when the span is
    something else (a phone, a labelled order number…), "failed" when its check digit
    fails (both block shorter matches inside it), "none" when it is merely no number."""
    linked = evidence.get(number)
    start, end = span.start, span.end
    if _BEFORE.search(text, max(0, start - 3), start) or _AFTER.match(text, end):
        return "other"  # a piece of a price, a date, a longer numeric expression
    if span.kind == "printed" and linked is None:
        phone = number.isdigit() and len(number) <= 12 and _unequal(span.lengths)
        weak = phone or not any(m.valid is True and not m.fmt.needs_keyword for m in matches)
        if weak and not _maybe_introduced(text, start):
            # laid out like a phone number; or joined groups without a check digit or a
            # tracking word before them
            return "other" if phone else "none"
    context = _cached_context(text, start, end, linked, contexts)
    if context.labelled or _looks_like_something_else(text, span, number, context):
        return "other"
    if context.carriers & _BRAND_CARRIERS.get(len(number), frozenset()):
        matches = matches + _matches(number, None, _BRANDED)
    usable = [m for m in matches if not m.fmt.needs_brand or _named(m, context.carriers)]
    if not usable:
        return "none"
    strong = any(m.valid is True and not m.fmt.needs_keyword for m in usable)
    if span.kind == "printed" and not context.introduced and not strong:
        return "none"
    best = max(usable, key=lambda m: _rank(m, context.carriers))
    if best.valid is False and not best.fmt.fail_hint:
        return "failed"
    storable = best.valid is not False and (
        context.tracking or (best.valid is True and not best.fmt.needs_keyword)
    )
    carrier = _credited(best, context.carriers)
    if best.valid is False:
        confidence = 0.2
    elif not storable:
        confidence = 0.3
    else:
        confidence = _strength(best.fmt, number) + 0.05 * context.tracking
        confidence += 0.02 * (carrier in context.carriers)
    return Candidate(
        number=number, carrier=carrier, format=best.fmt.id, checksum_valid=best.valid,
        confidence=round(min(confidence, 0.99), 2), start=start, end=end, storable=storable,
    )  # fmt: skip


def _strength(fmt: Format, number: str) -> float:
    if fmt.checksum is None:
        return 0.65
    if fmt.needs_keyword:
        return 0.7
    return 0.9 if fmt.fail_hint or len(number) >= 15 else 0.75


def _maybe_introduced(text: str, start: int) -> bool:
    """Cheap pre-test for `_Context.introduced`: a tracking or carrier word of up to three
    words right before `start`, filler such as "number is:" aside."""
    words = _WORD.findall(text, max(0, start - 48), start)
    while words and words[-1].lower() in _FILLER_WORDS:
        words.pop()
    for count in (1, 2, 3):
        if count <= len(words):
            hit = _KEYWORD.fullmatch(" ".join(words[-count:]))
            if hit is not None and hit.lastgroup in ("track", "carrier"):
                return True
    return False


def _brand_nearby(text: str, span: _Span, number: str) -> bool:
    """Cheap test before a full context: could a brand-only format of this length apply?"""
    names = _BRAND_NAMES.get(len(number))
    if not names:
        return False
    window = text[max(0, span.start - 200) : span.end + 40].lower()
    return any(name in window for name in names)


def _cached_context(
    text: str,
    start: int,
    end: int,
    linked: str | None,
    contexts: dict[tuple[int, int], _Context],
) -> _Context:
    found = contexts.get((start, end))
    if found is None:
        found = contexts[start, end] = _context(text, start, end, linked)
    return found


def _context(text: str, start: int, end: int, linked: str | None = None) -> _Context:
    """Keywords on the span's line (or the line above, if the span starts its line) and after.

    `linked` is the carrier of a tracking link that names this number, if any.
    """
    head, _, before = text[max(0, start - 140) : start].rpartition("\n")
    if not before.strip():
        head, _, before = head.rstrip().rpartition("\n")
    heading = head.rstrip().rpartition("\n")[2]  # a table's "Carrier: GLS" row above
    cuts = [m.end() for m in _SENTENCE_END.finditer(before)]
    before = before[cuts[-1] :] if cuts else before
    after = text[end : end + 40]
    stop = _CLAUSE_END.search(after)
    after = after[: stop.start()] if stop else after
    hits = list(_keywords(before))
    last = hits[-1] if hits else None
    adjacent = last is not None and _FILLER.fullmatch(before, last.end()) is not None
    labelled = adjacent and last is not None and last.lastgroup in ("label", "phone", "card")
    introduced = adjacent and last is not None and last.lastgroup in ("track", "carrier")
    hits += _keywords(after)
    if (
        heading
        and len(heading) < 80
        and not any(h.lastgroup == "carrier" for h in hits)
        and sum(map(str.isdigit, heading)) < 4
    ):
        hits += (h for h in _keywords(heading) if h.lastgroup == "carrier")
    kinds = {h.lastgroup for h in hits}
    names = {
        CARRIER_NAMES[" ".join(h.group().lower().split())] for h in hits if h.lastgroup == "carrier"
    }
    if linked is not None:
        names.add(linked)
    return _Context(
        bool(kinds & {"track", "carrier"}) or linked is not None,
        frozenset(names),
        "phone" in kinds,
        "card" in kinds,
        labelled and linked is None,
        introduced or linked is not None,
    )


def _looks_like_something_else(text: str, span: _Span, number: str, context: _Context) -> bool:
    """Phones, cards, timestamps, dates, money, IP addresses and pieces of longer numeric
    expressions; for numbers printed in groups also anything laid out like a phone number."""
    start, end, lengths = span.start, span.end, span.lengths
    if _BEFORE.search(text, max(0, start - 3), start) or _AFTER.match(text, end):
        return True
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
        if len(number) <= 12 and _unequal(lengths):
            return True  # 3-3-4, 1-3-3-4, 5-6: the way phone numbers are written
        if lengths[0] == 8 and _DATE8.fullmatch(number[:8]):
            return True  # a date, then a time or a counter
    if len(number) in (12, 14) and _TIMESTAMP.fullmatch(number) and not context.introduced:
        return True  # a date and time, unless "tracking number:" stands right before it
    if 13 <= len(number) <= 19 and luhn_valid(number):
        in_fours = grouped and lengths[0] == 4
        return context.card or (in_fours and not context.tracking)
    return False


def _unequal(lengths: tuple[int, ...]) -> bool:
    """Groups not all the same size (a shorter last one aside): 3-3-4, 1-3-3-4, 5-6."""
    return not (all(n == lengths[0] for n in lengths[:-1]) and lengths[-1] <= lengths[0])


def _unknown_hints(
    text: str,
    tokens: list[tuple[int, int]],
    kept: list[Candidate],
    blocked: list[tuple[int, int]],
    urls: list[tuple[int, int]],
    evidence: dict[str, str],
    contexts: dict[tuple[int, int], _Context],
) -> list[Candidate]:
    """Tokens of no known format that look like tracking numbers: 8-40 characters, at least
    6 of them digits, by a tracking word, a carrier name or a tracking link. The model
    judges them; the detector never stores them."""
    out: list[Candidate] = []
    for start, end in tokens:
        if not _LOOSE_MIN <= end - start <= _LOOSE_MAX:
            continue
        token = text[start:end]
        if sum(map(str.isdigit, token)) < _LOOSE_DIGITS:
            continue
        if any(k.start < end and start < k.end for k in kept) or any(
            s <= start and end <= e for s, e in blocked
        ):
            continue
        if urls and inside(urls, start, end):
            continue
        number = token.upper()
        context = _cached_context(text, start, end, evidence.get(number), contexts)
        span = _Span(start, end, None, (end - start,), "token")
        if not context.tracking or context.labelled:
            continue
        if _looks_like_something_else(text, span, number, context):
            continue
        if context.phone and number.isdigit() and len(number) <= 13:
            continue
        carrier = min(context.carriers) if len(context.carriers) == 1 else "unknown"
        out.append(
            Candidate(
                number=number,
                carrier=carrier,
                format="unknown",
                checksum_valid=None,
                confidence=0.1,
                start=start,
                end=end,
                storable=False,
            )
        )
    return out


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
        if sum(map(str.isdigit, match.group())) < 6:
            continue
        window = text[max(0, match.start() - 100) : match.end() + 60]
        if any(h.lastgroup in ("track", "carrier") for h in _keywords(window)):
            return True
    return False


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for `number`, for the carriers whose URL is known."""
    template = TRACKING_URLS.get(carrier)
    return template.format(quote(normalize(number), safe="")) if template else None
