"""Scanning a long text in overlapping windows, so `frontscan detect` is linear in its input.

The detector works on runs of tokens, and a run of tens of megabytes (`1Z 1Z 1Z ...`
with no line break) makes it hold every span of the run at once: gigabytes. A tracking
number and the context that judges it span at most a few hundred characters, so each
window of `CHUNK` characters is scanned with `MARGIN` characters either side, and a
candidate is kept only from the window whose core holds its start. Memory is bounded
by the window, time is linear in the text, and the result is the detector's own
wherever a candidate's neighbourhood fits in the margin (which it does by far).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from frontscan.models import Candidate

CHUNK = 64 * 1024
MARGIN = 1024  # > the longest number (about 54 characters printed) plus its context window


def candidates_in_chunks(
    text: str,
    find: Callable[[str], list[Candidate]],
    *,
    chunk: int = CHUNK,
    margin: int = MARGIN,
) -> Iterator[Candidate]:
    """`find(text)` window by window, in text order, with positions in the whole text."""
    if len(text) <= chunk + 2 * margin:
        yield from find(text)
        return
    for core in range(0, len(text), chunk):
        left = max(0, core - margin)
        window = text[left : core + chunk + margin]
        for cand in find(window):
            start = cand.start + left
            if core <= start < core + chunk:
                yield dataclasses.replace(cand, start=start, end=cand.end + left)
