"""Where numbers can lie, and which joins of printed groups to try as one number.

Text is cut into regions of digit-bearing tokens one separator apart; within a region,
tokens are joined only when their lengths look printed (equal groups, or a layout the
carrier uses) or when the whole stretch consists of number-like tokens. Everything is
precompiled regex and integer arithmetic on token lengths.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from frontscan.detector.context import KEYWORD
from frontscan.detector.formats import FORMATS, FORMATS_BY_LENGTH
from frontscan.detector.matching import format_matches

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
_LENGTHS = frozenset(n for n, formats in FORMATS_BY_LENGTH.items() if formats)
MIN_LENGTH = min(_LENGTHS)
TOKEN = re.compile(r"[A-Za-z0-9]+")
_MAX_GROUPS = 12
_MAX_LENGTH = 42
_LAYOUTS: dict[tuple[int, ...], frozenset[str]] = {
    layout: frozenset(f.id for f in FORMATS if layout in f.layouts)
    for layout in {layout for f in FORMATS for layout in f.layouts}
}
_LAYOUT_FIRSTS = frozenset(layout[0] for layout in _LAYOUTS)
# One character per separator kind: a space (or tab, no-break space), a line break, "-", ".".
_SEP_KINDS = str.maketrans({"\r": "\n", "\t": " ", "\u00a0": " "})
_SEP_CHARS = frozenset(" \t\u00a0.-\r\n")
# A region's shape: digits and lower-case letters by class, capitals as they are (a short
# capital token joins unless it is a keyword), separators by kind. Equal shapes, equal plans.
_SHAPE = str.maketrans(
    {**{c: "9" for c in "0123456789"}, **{c: "a" for c in "abcdefghijklmnopqrstuvwxyz"},
     "\r": "\n", "\t": " ", "\u00a0": " "}
)  # fmt: skip
# A planned span: first and last token, the formats a layout implies, lengths, kind.
_Planned = tuple[int, int, frozenset[str] | None, tuple[int, ...], str]
_PLANS: dict[str, tuple[_Planned, ...]] = {}
_MAX_PLANS = 16384
_LAYOUT_PREFIXES = frozenset(layout[:k] for layout in _LAYOUTS for k in range(2, len(layout) + 1))


@dataclass(frozen=True, slots=True)
class Span:
    """A piece of a run to try as one number: `kind` says how its tokens were joined."""

    start: int
    end: int
    only: frozenset[str] | None  # the formats a carrier layout implies, or any
    lengths: tuple[int, ...]
    kind: str  # "token", "group" (equal groups or a carrier layout) or "printed"


def number_regions(text: str) -> list[tuple[int, int]]:
    """Stretches of text a number can lie in: digit-bearing tokens one separator apart
    (or up to three short capital groups between, `1Z RKH CEE YW 8177`), and short
    letter groups either side (`LX 176 350 35 CN`, `… 276 N`, `1LSC XJ8O NZED AHL`).

    Prose words longer than five letters are never part of a printed number, so the
    detector looks only at these stretches instead of whole sentences.
    """
    out: list[tuple[int, int]] = []
    for match in _REGION.finditer(text):
        start, end = match.span()
        if end - start > 2 or (start and text[start - 1] in _ALNUM):
            start, end = _widen(text, start, end)
            if end - start >= 7:  # shorter: times, prices, counts
                out.append((start, end))
    return out


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    while start and text[start - 1] in _ALNUM:
        start -= 1
    # Both patterns need a separator right next to the stretch: test that one character first.
    before = None
    if start and text[start - 1] in _SEP_CHARS:
        before = _LEFT.search(text, max(0, start - 14), start)
    after = _RIGHT.match(text, end) if end < len(text) and text[end] in _SEP_CHARS else None
    return (before.start() if before else start), (after.end() if after else end)


def _joinable(token: str, digit: bool) -> bool:
    """Tokens a printed number may consist of: digit-bearing ones, and short capital
    prefixes or suffixes such as `1Z`, `LX`, `CN`, `N` that are not words in their own right."""
    return digit or (len(token) <= 4 and token.isupper() and _not_a_word(token))


@functools.lru_cache(maxsize=4096)
def _not_a_word(token: str) -> bool:
    """Short capital tokens recur (`ID`, `CN`, `LX`): the keyword test is worth keeping."""
    return KEYWORD.fullmatch(token) is None


def candidate_spans(text: str, tokens: list[tuple[int, int]]) -> list[Span]:
    if len(tokens) == 1 or sum(e - s for s, e in tokens) < MIN_LENGTH:
        return [
            Span(s, e, None, (e - s,), "token")
            for s, e in tokens
            if e - s in _LENGTHS and not text[s:e].isalpha()
        ]
    return _joined_spans(text, tokens)


def _joined_spans(text: str, tokens: list[tuple[int, int]]) -> list[Span]:
    """Every digit-bearing token, and every group of tokens that may be one printed number.

    Which token ranges to try depends only on the region's shape (token sizes, which
    tokens bear digits or may join, the separators), and shapes recur (phones, dates,
    order ids, each carrier's numbers), so the plan for a shape (`_SHAPE`) is computed
    once (`_plan`); only the check that no two tokens are numbers of their own reads the text.
    """
    shape = text[tokens[0][0] : tokens[-1][1]].translate(_SHAPE)
    plan = _PLANS.get(shape)
    if plan is None:
        words = [text[s:e] for s, e in tokens]
        digits = tuple([not w.isalpha() for w in words])
        sizes = tuple([e - s for s, e in tokens])
        seps = "".join([text[e] for _, e in tokens[:-1]]).translate(_SEP_KINDS)
        joinable = tuple([d or _joinable(w, d) for w, d in zip(words, digits, strict=True)])
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[shape] = _plan(sizes, digits, seps, joinable)
    out: list[Span] = []
    for a, b, only, lengths, kind in plan:
        start, end = tokens[a][0], tokens[b][1]
        if kind == "printed" and (
            end - start > _MAX_LENGTH + 12 or _stitched(text, tokens[a : b + 1])
        ):
            continue
        out.append(Span(start, end, only, lengths, kind))
    return out


def _plan(
    sizes: tuple[int, ...], digits: tuple[bool, ...], seps: str, joinable: tuple[bool, ...]
) -> tuple[_Planned, ...]:
    """The token ranges (first, last, formats, lengths, kind) to try for one region shape.

    Groups of the first kind need one separator (not a line break) throughout and either
    equal groups of 3-5 characters (a shorter last one allowed) that no neighbouring
    digit group of the same size extends, or the exact lengths of a layout some format is
    printed in (then only those formats are tried). Groups of the second kind are a whole
    stretch of joinable tokens (optionally without a capital prefix or suffix): they are
    kept only when the joined string passes a check digit or follows a tracking word.
    """
    count = len(sizes)
    out: list[_Planned] = []
    for i in range(count):
        size = sizes[i]
        if digits[i] and size in _LENGTHS:
            out.append((i, i, None, (size,), "token"))
        if i + 1 >= count or seps[i] == "\n":
            continue
        sep = seps[i]
        lengths = [size]
        total = size
        any_digit = digits[i]
        extends_left = i > 0 and digits[i - 1] and seps[i - 1] == sep and sizes[i - 1] == size
        equal = 3 <= size <= 5 and not extends_left
        if not equal and size not in _LAYOUT_FIRSTS:
            continue  # no layout starts with a group of this size
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
                    out.append((i, j, None, tuple(lengths), "group"))
                    equal = length == size
                    continue
            else:
                shape = tuple(lengths)
                if shape not in _LAYOUT_PREFIXES:
                    break
            shape = tuple(lengths)
            if shape in _LAYOUTS and any_digit:
                out.append((i, j, _LAYOUTS[shape], shape, "group"))
            elif equal and length != size and shape not in _LAYOUT_PREFIXES:
                break
            equal = equal and length == size
    seen = {(a, b) for a, b, only, _, _ in out if only is None}
    out += _printed(sizes, digits, joinable, seen)
    return tuple(out)


def _printed(
    sizes: tuple[int, ...],
    digits: tuple[bool, ...],
    joinable: tuple[bool, ...],
    seen: set[tuple[int, int]],
) -> list[_Planned]:
    """Whole stretches of joinable tokens (2 or more), and each without a letter-only end."""
    out: list[_Planned] = []
    index = 0
    count = len(sizes)
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
                    if b <= a or (a, b) in seen:
                        continue
                    lengths = sizes[a : b + 1]
                    if sum(lengths) in _LENGTHS:
                        out.append((a, b, None, lengths, "printed"))
        index = last + 1
    return out


def _stitched(text: str, tokens: list[tuple[int, int]]) -> bool:
    """Two tokens that are each a valid number on their own: a list, not one number."""
    valid = 0
    for start, end in tokens:
        if end - start >= 10 and any(m.valid for m in format_matches(text[start:end].upper())):
            valid += 1
            if valid > 1:
                return True
    return False


def _ends_group(
    sizes: tuple[int, ...], digits: tuple[bool, ...], seps: str, i: int, j: int
) -> bool:
    """False when token j is full-size and the next token would continue the same group."""
    after = j + 1
    if sizes[j] != sizes[i] or after >= len(sizes) or not digits[after]:
        return True
    return seps[j] != seps[i] or sizes[after] > sizes[i]
