"""The progress bar's ETA: the pace so far, and never zero while work remains."""

from __future__ import annotations

from frontscan.report import eta_text


def test_eta_is_the_remaining_share_at_the_pace_so_far() -> None:
    assert eta_text(679, 465, 93.0) == "0:00:43"  # 214 left at 5 per second, rounded up
    assert eta_text(10_000, 100, 60.0) == "1:39:00"


def test_eta_is_never_zero_while_conversations_remain() -> None:
    assert eta_text(679, 678, 0.2) == "0:00:01"  # a fraction of a second still shows 1 s
    assert eta_text(679, 679, 30.0) == "0:00:00"  # only when nothing is left


def test_eta_is_unknown_before_the_first_conversation_or_total() -> None:
    assert eta_text(None, 5, 3.0) == "-:--:--"
    assert eta_text(100, 0, 3.0) == "-:--:--"
    assert eta_text(100, 5, None) == "-:--:--"
