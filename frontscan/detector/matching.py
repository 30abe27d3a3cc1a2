"""Which formats a normalized string matches in full, and how the matches rank.

The format table (formats.py) is data; this is the one place that runs it. Formats that
need a brand (a shape many carriers share) sit in a table of their own, so the detector
tries them only once a carrier of theirs is named nearby.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from frontscan.detector.formats import CARRIER_NAMES, FORMATS_BY_LENGTH, Format

_SEPARATORS = re.compile(r"[\s\-.]+")
_FLAT = re.compile(r"(?<=[A-Za-z0-9])[\s\-.\u00a0]+(?=[A-Za-z0-9])")
# Formats that need their brand are tried only once the context names one of its carriers.
UNBRANDED = {n: tuple(f for f in fs if not f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
BRANDED = {n: tuple(f for f in fs if f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
BRAND_CARRIERS = {
    n: frozenset(c for f in fs for c in (f.carrier, *f.also)) for n, fs in BRANDED.items()
}
BRAND_NAMES = {
    n: tuple(name for name, code in CARRIER_NAMES.items() if code in carriers)
    for n, carriers in BRAND_CARRIERS.items()
}


@dataclass(frozen=True, slots=True)
class Classification:
    """What one string is: its best format, and the other formats that also accept it."""

    number: str
    carrier: str
    format: str
    checksum_valid: bool | None
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    fmt: Format
    valid: bool | None
    carrier: str


def normalize(number: str) -> str:
    """Upper case, without spaces, dashes or dots: the form numbers are stored and compared in."""
    return _SEPARATORS.sub("", number).upper()


def flatten(text: str) -> str:
    """`text` with the separators between alphanumerics removed (spaces, dashes, dots), upper
    case: a number printed in groups occurs in it exactly as its normalized form."""
    return _FLAT.sub("", text).upper()


def format_matches(
    number: str,
    only: frozenset[str] | None = None,
    table: dict[int, tuple[Format, ...]] = (FORMATS_BY_LENGTH),
) -> list[Match]:
    found: list[Match] = []
    for fmt in table.get(len(number), ()):
        if only is None or fmt.id in only:
            result = fmt.check(number)
            if result is not None:
                found.append(Match(fmt, result[0], result[1]))
    return found


def is_named(match: Match, carriers: frozenset[str]) -> bool:
    return match.carrier in carriers or any(c in carriers for c in match.fmt.also)


def credited(match: Match, carriers: frozenset[str]) -> str:
    """The carrier to store: the format's own, or one that prints it and is named nearby."""
    if match.carrier in carriers:
        return match.carrier
    return next((c for c in match.fmt.also if c in carriers), match.carrier)


def rank(match: Match, carriers: frozenset[str] = frozenset()) -> tuple[int, int, int, int, int]:
    """Not failing its check, then named nearby, then checksum-backed, then priority.

    A carrier named beside the number beats a checksum that passes by chance elsewhere
    (a Hermes number that is also a valid Canada Post one); a format that needs its
    brand ranks last when the brand is absent.
    """
    validity = {True: 2, None: 1, False: 0}[match.valid]
    named = is_named(match, carriers)
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
    found = sorted(format_matches(normalized), key=lambda m: rank(m, named), reverse=True)
    if not found:
        return None
    best = found[0]
    others = tuple(m.fmt.id for m in found[1:] if m.valid is not False)
    return Classification(normalized, credited(best, named), best.fmt.id, best.valid, others)
