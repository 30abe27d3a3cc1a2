"""Find tracking numbers in e-mail prose: the format table plus the judgement the gem lacks.

The reference gem lets `\\s*` glue any neighbouring tokens together and trusts every
pattern hit, so phones, cards, dates and order ids come back as tracking numbers
(reference §6). Here text is cut into runs of alphanumeric tokens (spans.py); tokens are
joined only when their lengths look printed, each piece must match a format in full
(matching.py), and the words around a match (context.py) decide whether it is storable,
a hint for the model, or noise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from frontscan.detector.context import (
    Context,
    brand_nearby,
    cached_context,
    in_numeric_expression,
    keywords,
    looks_like_something_else,
    maybe_introduced,
    read_context,
    unequal,
)
from frontscan.detector.formats import Format
from frontscan.detector.links import inside, link_evidence, url_spans
from frontscan.detector.matching import (
    BRAND_CARRIERS,
    BRANDED,
    UNBRANDED,
    Classification,
    Match,
    classify,
    credited,
    format_matches,
    is_named,
    normalize,
    rank,
)
from frontscan.detector.spans import MIN_LENGTH, TOKEN, Span, candidate_spans, number_regions
from frontscan.detector.vocabulary import TRACKING_URLS
from frontscan.models import Candidate

_JOINERS = re.compile(r"[\s\-.]+")
_LOOSE_MIN, _LOOSE_MAX, _LOOSE_DIGITS = 8, 40, 6
_LOOSE = re.compile(r"[A-Za-z0-9]{10,}|\d{3,5}(?:[ -]\d{3,5}){2,}")


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
    named = read_context(text, *found.span()).carriers if found else frozenset()
    verdict = classify(normalized, named)
    if verdict is None or verdict.checksum_valid is not False:
        return verdict
    code = "_".join((model_carrier or "").lower().split())
    fitting = {c for m in format_matches(normalized) for c in (m.carrier, *m.fmt.also)}
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
    contexts: dict[tuple[int, int], Context] = {}
    for region_start, region_end in number_regions(text):
        tokens = [m.span() for m in TOKEN.finditer(text, region_start, region_end)]
        sizes = [e - s for s, e in tokens]
        if sum(sizes) < MIN_LENGTH and max(sizes) < _LOOSE_MIN:
            continue  # too short for any format and for a hint: "$49.99", "2026-01-05"
        found: list[Candidate] = []
        blocked: list[tuple[int, int]] = []
        other: list[tuple[int, int]] = []
        for span in candidate_spans(text, tokens):
            if urls and inside(urls, span.start, span.end):
                continue
            piece = text[span.start : span.end]
            number = (piece if span.kind == "token" else _JOINERS.sub("", piece)).upper()
            matches = format_matches(number, span.only, UNBRANDED)
            if not matches and not (
                span.only is None and brand_nearby(text, span.start, span.end, number)
            ):
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
        if max(sizes) >= _LOOSE_MIN:
            out += _unknown_hints(text, tokens, kept, other, urls, evidence, contexts)
    return sorted(out, key=lambda c: c.start)


def _judge(
    text: str,
    span: Span,
    number: str,
    matches: list[Match],
    evidence: dict[str, str],
    contexts: dict[tuple[int, int], Context],
) -> Candidate | str:
    """One span's format matches as a candidate, or why not: "other" when the span is
    something else (a phone, a labelled order number…), "failed" when its check digit
    fails (both block shorter matches inside it), "none" when it is merely no number."""
    linked = evidence.get(number)
    start, end = span.start, span.end
    if in_numeric_expression(text, start, end):
        return "other"  # a piece of a price, a date, a longer numeric expression
    if span.kind == "printed" and linked is None:
        phone = number.isdigit() and len(number) <= 12 and unequal(span.lengths)
        weak = phone or not any(m.valid is True and not m.fmt.needs_keyword for m in matches)
        if weak and not maybe_introduced(text, start):
            # laid out like a phone number; or joined groups without a check digit or a
            # tracking word before them
            return "other" if phone else "none"
    context = cached_context(text, start, end, linked, contexts)
    if context.labelled or looks_like_something_else(
        text, start, end, span.lengths, number, context
    ):
        return "other"
    if context.carriers & BRAND_CARRIERS.get(len(number), frozenset()):
        matches = matches + format_matches(number, None, BRANDED)
    usable = [m for m in matches if not m.fmt.needs_brand or is_named(m, context.carriers)]
    if not usable:
        return "none"
    strong = any(m.valid is True and not m.fmt.needs_keyword for m in usable)
    if span.kind == "printed" and not context.introduced and not strong:
        return "none"
    best = max(usable, key=lambda m: rank(m, context.carriers))
    if best.valid is False and not best.fmt.fail_hint:
        return "failed"
    storable = best.valid is not False and (
        context.tracking or (best.valid is True and not best.fmt.needs_keyword)
    )
    carrier = credited(best, context.carriers)
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


def _unknown_hints(
    text: str,
    tokens: list[tuple[int, int]],
    kept: list[Candidate],
    blocked: list[tuple[int, int]],
    urls: list[tuple[int, int]],
    evidence: dict[str, str],
    contexts: dict[tuple[int, int], Context],
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
        context = cached_context(text, start, end, evidence.get(number), contexts)
        if not context.tracking or context.labelled:
            continue
        if in_numeric_expression(text, start, end) or looks_like_something_else(
            text, start, end, (end - start,), number, context
        ):
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
        if any(h.lastgroup in ("track", "carrier") for h in keywords(window)):
            return True
    return False


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's public tracking page for `number`, for the carriers whose URL is known."""
    template = TRACKING_URLS.get(carrier)
    return template.format(quote(normalize(number), safe="")) if template else None
