"""Evidence windows, the completion-budget rule and the "detector is sure" rule."""

from __future__ import annotations

from frontscan.detector.carriers import find_candidates
from frontscan.evidence import (
    COMPLETION_BASE,
    COMPLETION_PER_NUMBER,
    ELLIPSIS,
    WHOLE_MESSAGE_CHARS,
    completion_budget,
    detector_is_sure,
    evidence,
    expected_numbers,
    hints,
    passages,
    retry_budget,
)
from frontscan.models import Message
from frontscan.prompt import prepare

UPS = "1Z999AA10123456784"  # the reference's valid UPS number
USPS_GROUPED = "9400 1000 0000 0000 0000 00"  # not checked here: only its shape matters

FOOTER = (
    "You are receiving this email because you opted in at our store. Prices and "
    "availability are subject to change. Free returns within 30 days on most items; "
    "see our returns policy for the exceptions. Follow us for new arrivals and "
    "seasonal offers, and read our privacy notice to learn how we use your data. "
) * 4
GREETING = (
    "Hello Dana, thank you for shopping with Northwind Outfitters. We are getting your "
    "order ready and will let you know as soon as everything is on its way to you. "
) * 2


def long_notice(middle: str) -> str:
    return f"{GREETING}\n\n{middle}\n\n{FOOTER}"


def test_a_short_message_goes_whole_unless_nothing_in_it_could_be_a_number() -> None:
    text = f"hey did u get my parcel? tracking is {UPS}"
    assert len(text) < WHOLE_MESSAGE_CHARS
    assert evidence(text, find_candidates(text)) == text
    odd = "hi, the code on the box says QQ7781 2345"  # no keyword, but 10 characters, digits
    assert evidence(odd, find_candidates(odd)) == odd
    assert passages("   ", []) == []
    assert passages("ok thanks! call me at 9 tomorrow", []) == []


def test_a_long_message_keeps_only_the_window_around_its_number() -> None:
    text = long_notice(f"Carrier: UPS  Tracking number: {UPS}")
    sent = evidence(text, find_candidates(text))
    assert UPS in sent
    assert "Tracking number" in sent  # the label the model needs stays
    assert "privacy notice" not in sent  # the footer does not
    assert sent.startswith(ELLIPSIS)
    assert sent.endswith(ELLIPSIS)
    assert len(sent) < len(text) / 3


def test_windows_that_overlap_are_merged_into_one_passage() -> None:
    second = "1Z999AA10123456784".replace("84", "84")  # the same number, twice, close together
    text = long_notice(f"Parcel 1: UPS {UPS}\nParcel 2: UPS {second} (same box)")
    cands = find_candidates(text)
    assert len(cands) == 2
    assert len(passages(text, cands)) == 1


def test_far_apart_numbers_get_separate_passages_and_words_are_not_cut() -> None:
    text = long_notice(f"Tracking number: {UPS}") + "\n\nSecond parcel, tracking 1234 5678 9012"
    pieces = passages(text, find_candidates(text))
    assert len(pieces) == 2
    for piece in pieces:
        assert piece.start == 0 or text[piece.start - 1].isspace()
        assert piece.end == len(text) or text[piece.end].isspace()
    assert "1234 5678 9012" in evidence(text, find_candidates(text))


def test_a_keyword_window_needs_a_number_sized_digit_run_nearby() -> None:
    with_run = long_notice("Your shipment ref 77-123456 leaves the warehouse today.")
    without = long_notice("Free shipping on orders over $50, delivered in 3 days.")
    assert "77-123456" in evidence(with_run, find_candidates(with_run))
    assert evidence(without, find_candidates(without)) == ""  # nothing can hold a number


def test_hints_are_loose_digit_runs_near_a_keyword_that_no_label_explains() -> None:
    unknown = "Your parcel is on its way, tracking QX82 1744 0093 5512."
    order = "Tracking will follow. Order #QX82-1744-0093-5512"
    far = "x" * 200 + " QX82174400935512"
    assert hints(unknown, find_candidates(unknown))
    assert hints(order, find_candidates(order)) == []
    assert hints(far, find_candidates(far)) == []


def test_completion_budget_grows_with_the_numbers_expected() -> None:
    assert completion_budget(0, ceiling=400) == COMPLETION_BASE + 2 * COMPLETION_PER_NUMBER
    assert completion_budget(5, ceiling=400) == COMPLETION_BASE + 5 * COMPLETION_PER_NUMBER
    assert completion_budget(50, ceiling=400) == 400  # never above the configured ceiling
    assert completion_budget(1, ceiling=600) < 600 / 3  # far below the old fixed budget


def test_the_retry_after_length_gets_a_larger_budget() -> None:
    assert retry_budget(104, ceiling=400) == 400
    assert retry_budget(400, ceiling=400) == 800
    assert retry_budget(16_000, ceiling=16_384) == 16_384


def test_sure_needs_a_valid_check_digit_next_to_a_keyword() -> None:
    labelled = f"Your UPS tracking number is {UPS}."
    assert detector_is_sure(labelled, find_candidates(labelled))
    bare = f"See {UPS} for details."  # checksum-valid, no keyword: the model decides
    assert find_candidates(bare)
    assert not detector_is_sure(bare, find_candidates(bare))


def test_an_unexplained_hint_is_not_sure() -> None:
    text = f"UPS tracking {UPS}. The second parcel went by courier as QX82 1744 0093 5512."
    assert find_candidates(text)[0].checksum_valid
    assert not detector_is_sure(text, find_candidates(text))


def test_a_failing_check_digit_is_not_sure() -> None:
    text = "UPS tracking 1Z999AA10123456785"
    assert not detector_is_sure(text, find_candidates(text))


def test_expected_numbers_count_candidates_and_open_hints() -> None:
    one = f"UPS tracking {UPS}"
    two = "courier tracking QX82 1744 0093 5512"
    assert expected_numbers([(one, find_candidates(one)), (two, find_candidates(two))]) == 2


def test_every_planted_number_of_a_realistic_notice_survives_the_windows() -> None:
    html = (
        "<html><body><div><h2>Northwind Outfitters</h2>"
        f"<p>{GREETING}</p><table><tr><th>Carrier</th><th>Tracking</th></tr>"
        f'<tr><td>UPS</td><td><a href="https://track.example.com/ups?n={UPS}">{UPS}</a></td>'
        f"</tr></table><p>{FOOTER}</p></div></body></html>"
    )
    msg = Message(
        id="msg_1",
        conversation_id="cnv_1",
        created_at=1.0,
        type="email",
        is_inbound=True,
        subject="Your order has shipped",
        body=html,
        text=None,
    )
    prepared = prepare(msg)
    sent = evidence(prepared.text, prepared.candidates)
    assert UPS in sent
    assert len(sent) < len(prepared.text) / 2
