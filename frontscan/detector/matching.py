"""Which formats a normalized string matches in full, and how the matches rank.

The format table (formats.py) is data; this is the one place that runs it. Formats that
need a brand (a shape many carriers share) sit in a table of their own, so the detector
tries them only once a carrier of theirs is named nearby.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from frontscan.detector.formats import FORMATS_BY_LENGTH, Format
from frontscan.detector.vocabulary import CARRIER_NAMES

_SEPARATORS = re.compile(r"[\s\-.]+")
_FLAT = re.compile(r"(?<=[A-Za-z0-9])[\s\-.\u00a0]+(?=[A-Za-z0-9])")
# A pattern's first atom, read from its source: one that only ever matches an ASCII digit,
# or only a capital letter, and is not optional.
_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
_DIGIT_FIRST = re.compile(r"(?:\\d|[0-9]|\[[0-9]-[0-9]\])(?![?*]|\{0)")
_LETTER_FIRST = re.compile(r"(?:[A-Z]|\[(?:A-Z|[A-Z]+)\])(?![?*]|\{0)")
# A table: formats by (normalized length, kind of first character, see `_start`).
Table = dict[tuple[int, str], tuple[Format, ...]]


def _first_kinds(source: str) -> str:
    """Which first characters a pattern allows: "0" (ASCII digits), "A" (capital letters)
    or "0A" (either, or the source is not simple enough to tell). Sources with an
    alternation, an escaped parenthesis or an optional leading group are never narrowed."""
    if "|" in source or "\\(" in source or "\\)" in source:
        return "0A"
    body = source
    while (group := _NAMED_GROUP.match(body)) is not None:
        depth, close = 1, group.end()
        while depth and close < len(body):
            depth += {"(": 1, ")": -1}.get(body[close], 0)
            close += 1
        if re.match(r"[?*]|\{0", body[close:]):
            return "0A"
        body = body[group.end() :]
    if _DIGIT_FIRST.match(body):
        return "0"
    return "A" if _LETTER_FIRST.match(body) else "0A"


def _by_start(by_length: dict[int, tuple[Format, ...]]) -> Table:
    """Each length's formats, and those a number starting with a digit ("0") or a capital
    ("A") can match: numbers of one length mostly fit only a few of its formats, and a
    skipped format is one that could not have matched (`format_matches` is exact)."""
    table: Table = {}
    for length, formats in by_length.items():
        table[length, ""] = formats
        for kind in "0A":
            table[length, kind] = tuple(
                f for f in formats if any(kind in _first_kinds(p.pattern) for p in f.patterns)
            )
    return table


def _start(number: str) -> str:
    first = number[:1]
    return "0" if "0" <= first <= "9" else "A" if "A" <= first <= "Z" else ""


# Formats that need their brand are tried only once the context names one of its carriers.
_BRANDED = {n: tuple(f for f in fs if f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
ALL = _by_start(FORMATS_BY_LENGTH)
UNBRANDED = _by_start(
    {n: tuple(f for f in fs if not f.needs_brand) for n, fs in FORMATS_BY_LENGTH.items()}
)
BRANDED = _by_start(_BRANDED)
BRAND_CARRIERS = {
    n: frozenset(c for f in fs for c in (f.carrier, *f.also)) for n, fs in _BRANDED.items()
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
    number: str, only: frozenset[str] | None = None, table: Table = ALL
) -> list[Match]:
    """The formats of `table` that `number` (normalized) matches in full, in table order."""
    found: list[Match] = []
    for fmt in table.get((len(number), _start(number)), ()):
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
