"""Windowed detection finds what the detector finds on the whole text, in bounded memory."""

from __future__ import annotations

import random
import tracemalloc

from frontscan.detect import detect_records
from frontscan.detector import find_candidates
from frontscan.detector.chunks import candidates_in_chunks
from frontscan.simulator.content import distractor, phone
from frontscan.simulator.samples import SAMPLE_FORMATS, printed_groups, valid_number


def _mail(rng: random.Random, lines: int) -> str:
    """Notices, phones and distractors; numbers printed whole or in groups, some in runs."""
    out: list[str] = []
    for _ in range(lines):
        number = valid_number(rng.choice(SAMPLE_FORMATS), rng)
        shown = printed_groups(number) if rng.random() < 0.4 else number
        out.append(
            rng.choice(
                [
                    f"Your tracking number is {shown}. Call {phone(rng)} with questions.",
                    f"{distractor(rng)} and {shown} {distractor(rng)}",
                    f"UPS {shown} 1Z 1Z 1Z {shown}",
                    f"Ref {rng.randrange(10**6)} shipped via carrier: {shown}",
                ]
            )
        )
    return ("\n" if rng.random() < 0.5 else " ").join(out)


def test_windows_find_what_the_whole_text_holds() -> None:
    rng = random.Random(14)
    for _ in range(5):
        text = _mail(rng, 300)
        whole = find_candidates(text)
        assert len(text) > 15_000
        assert len(whole) > 200
        windowed = list(candidates_in_chunks(text, find_candidates, chunk=3000, margin=400))
        assert windowed == whole


def test_a_window_edge_inside_a_number_loses_nothing() -> None:
    ups = "1Z999AA10123456784"
    text = "x " * 2995 + f"UPS tracking {printed_groups(ups)} here\n" * 3
    windowed = list(candidates_in_chunks(text, find_candidates, chunk=6000, margin=400))
    assert [c.number for c in windowed] == [ups] * 3
    assert windowed == find_candidates(text)
    for cand in windowed:
        assert text[cand.start : cand.end].replace(" ", "") == ups


def test_one_huge_run_stays_in_bounded_memory() -> None:
    """18 MB of `1Z 1Z ...` once took 2.5 GB; a window's worth is all that is held now."""
    text = "1Z " * 60_000 + "tracking 1Z999AA10123456784"
    tracemalloc.start()
    try:
        records = detect_records(text, include_hints=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [r["tracking_number"] for r in records] == ["1Z999AA10123456784"]
    assert peak < 12 * 1024 * 1024, peak  # the whole text at once: 24 MB
