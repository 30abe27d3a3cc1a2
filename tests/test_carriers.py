"""Numbers of every format in realistic e-mail sentences, plus classify, hints and URLs."""

from __future__ import annotations

import random

import pytest

from frontscan.detector.carriers import find_candidates, has_tracking_hint, tracking_url
from frontscan.detector.formats import FORMATS, FORMATS_BY_ID
from frontscan.detector.matching import classify, format_matches, normalize
from frontscan.detector.text import html_to_text
from frontscan.simulator.samples import (
    BASE_SAMPLE_FORMATS,
    printed_groups,
    valid_number,
)

NO_CHECK = [f.id for f in FORMATS if f.needs_keyword and not f.needs_brand]
SENTENCES = [
    "Your tracking number is {n}.",
    "{carrier} tracking: {n}",
    "Hi Anna,\n\nthe parcel went out today with {carrier}. Track it with {n} on their site.\n",
    "Shipment update - package {n} ({carrier}) is on its way!",
]


def _samples(format_id: str, count: int = 5) -> list[str]:
    rng = random.Random(format_id)
    return [valid_number(format_id, rng) for _ in range(count)]


@pytest.mark.parametrize("format_id", BASE_SAMPLE_FORMATS)
@pytest.mark.parametrize("template", SENTENCES)
@pytest.mark.parametrize("grouped", [False, True])
def test_every_format_in_a_sentence(format_id: str, template: str, grouped: bool) -> None:
    fmt = FORMATS_BY_ID[format_id]
    for number in _samples(format_id):
        shown = printed_groups(number) if grouped else number
        text = template.format(n=shown, carrier=fmt.name)
        found = find_candidates(text)
        verdict = classify(number)
        assert verdict is not None
        assert [(c.number, c.storable) for c in found] == [(number, True)], text
        assert found[0].format == format_id or format_id in verdict.alternatives
        assert text[found[0].start : found[0].end] == shown


@pytest.mark.parametrize("format_id", BASE_SAMPLE_FORMATS)
def test_every_format_in_html(format_id: str) -> None:
    fmt = FORMATS_BY_ID[format_id]
    number = _samples(format_id, 1)[0]
    html = (
        f"<html><body><p>Hello,</p><p>Your {fmt.name} tracking number:&nbsp;"
        f"<a href='https://example.com/t?n={number}'><b>{number}</b></a></p></body></html>"
    )
    found = [c for c in find_candidates(html_to_text(html)) if c.storable]
    assert [c.number for c in found] == [number]


@pytest.mark.parametrize("format_id", NO_CHECK)
def test_keyword_less_formats_are_only_hints(format_id: str) -> None:
    for number in _samples(format_id, 10):
        verdict = classify(number)
        if verdict is None or verdict.checksum_valid is not None:
            continue  # also valid in a checksum format (reference §5)
        found = find_candidates(f"Reminder: {number} is the value we talked about.")
        assert all(not c.storable and c.confidence < 0.5 for c in found)
        keyworded = find_candidates(f"Your parcel {number} is on the way.")
        assert [(c.number, c.storable) for c in keyworded] == [(number, True)]


def test_lower_case_and_carrier_layout() -> None:
    for text in (
        "ups 1z999aa10123456784 delivered",
        "UPS: 1Z 999 AA1 01 2345 6784",
        "Tracking 1Z99 9AA1 0123 4567 84",
    ):
        found = find_candidates(text)
        assert [(c.number, c.carrier, c.format) for c in found] == [
            ("1Z999AA10123456784", "ups", "ups")
        ]


def test_s10_carrier_depends_on_country() -> None:
    rng = random.Random(3)
    number = valid_number("s10", rng)
    carriers = {}
    for country in ("US", "GB", "CA", "DE", "FR"):
        changed = number[:-2] + country
        verdict = classify(changed)
        assert verdict is not None
        assert verdict.checksum_valid is True
        carriers[country] = verdict.carrier
    assert carriers == {
        "US": "usps",
        "GB": "royal_mail",
        "CA": "canada_post",
        "DE": "deutsche_post",
        "FR": "post_fr",
    }
    assert classify(number[:-2] + "XX") is None
    found = find_candidates(f"Royal Mail: {number[:-2]}GB")
    assert [c.carrier for c in found] == ["royal_mail"]


def test_longest_match_wins_and_no_substrings() -> None:
    rng = random.Random(11)
    numbers = [valid_number(f, rng) for f in ("fedex_34", "usps_impb_c", "dpd", "canada_post")]
    text = "Tracking numbers: " + ", ".join(printed_groups(n) for n in numbers) + "."
    assert [c.number for c in find_candidates(text)] == numbers


def test_punctuation_around_numbers() -> None:
    for text in ("UPS (1Z999AA10123456784)", "[1Z999AA10123456784]", "#1Z999AA10123456784!"):
        assert [c.number for c in find_candidates(text)] == ["1Z999AA10123456784"]


def test_list_of_numbers_separated_by_commas() -> None:
    text = "UPS tracking: 1Z999AA10123456784,1Z999AA10123456784"
    assert len(find_candidates(text)) == 2


def test_checksum_failure_is_a_hint_only_for_distinctive_shapes() -> None:
    (ups,) = find_candidates("UPS tracking 1Z999AA10123456785")
    assert (ups.storable, ups.checksum_valid, ups.confidence) == (False, False, 0.2)
    # A failing FedEx 12 by a carrier name is only an unknown-format hint for the model.
    assert [(c.format, c.storable) for c in find_candidates("FedEx 123456789013")] == [
        ("unknown", False)
    ]
    assert find_candidates("Reminder: 123456789013 is the value") == []


def test_reference_collisions_are_resolved_with_context() -> None:
    rng = random.Random(1)
    while True:
        number = valid_number("purolator_numeric", rng)
        verdict = classify(number)
        assert verdict is not None
        if verdict.format == "fedex_12":
            break
    assert "purolator_numeric" in verdict.alternatives
    (cand,) = find_candidates(f"Purolator shipment {number}")
    assert cand.carrier == "purolator"


def test_classify() -> None:
    assert classify("hello") is None
    assert classify("") is None
    lasership = classify("1LS7123013123456-1")
    assert lasership is not None
    assert lasership.format == "lasership_1ls7_18"
    (found,) = find_candidates("LaserShip tracking 1LS7123013123456-1 today")
    assert (found.number, found.format) == ("1LS71230131234561", "lasership_1ls7_18")
    verdict = classify(" 1z999aa10123456784 ")
    assert verdict is not None
    assert verdict.number == "1Z999AA10123456784"
    assert normalize("1z-999 aa1") == "1Z999AA1"


def test_has_tracking_hint() -> None:
    assert has_tracking_hint("Your UPS tracking number is 1Z999AA10123456784")
    assert has_tracking_hint("tracking: XQ12345678901Z please check")
    assert has_tracking_hint("The parcel is 4567 1234 9876 99 I think")
    assert not has_tracking_hint("Hi team, lunch is at noon. See you there!")
    assert not has_tracking_hint("The meeting moved to 3pm in room 12.")
    assert not has_tracking_hint("Order 112-1234567-1234567 was placed")


def test_tracking_url() -> None:
    assert tracking_url("ups", "1z999aa10123456784") == (
        "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    for carrier in ("fedex", "usps", "dhl", "canada_post", "royal_mail", "purolator"):
        url = tracking_url(carrier, "123")
        assert url is not None
        assert url.startswith("https://")
        assert "123" in url
    for carrier in ("ontrac", "lasership", "dpd", "amazon", "yodel", "yunexpress"):
        assert tracking_url(carrier, "X1") is not None
    assert tracking_url("post_fr", "RR123456785FR") is None


def test_a_timestamp_shaped_number_counts_only_right_after_a_tracking_word() -> None:
    # 2099-01-30 07:53 as digits, and also a valid Purolator (12) number (found by hypothesis).
    number = "209901300753"
    found = find_candidates(f"Your Purolator tracking number is {number}, thanks.")
    assert [(c.number, c.carrier) for c in found] == [(number, "purolator")]
    assert find_candidates(f"Message sent {number} from the Purolator depot.") == []


@pytest.mark.parametrize("format_id", [f.id for f in FORMATS])
def test_first_character_tables_keep_every_format_a_number_fits(format_id: str) -> None:
    """format_matches tries only the formats a number's first character allows: valid
    numbers, their one-character variants and digit/letter swaps at the front must give
    exactly what trying every format of that length gives."""
    rng = random.Random(f"start-{format_id}")
    numbers = set()
    for number in _samples(format_id, 8):
        numbers |= {number, number.lower(), "A" + number[1:], "7" + number[1:]}
        numbers |= {number[:i] + rng.choice("09AZ") + number[i + 1 :] for i in range(3)}
    for number in numbers:
        everything = [
            (f.id, result)
            for f in FORMATS
            if len(number) in f.lengths and (result := f.check(number)) is not None
        ]
        assert [(m.fmt.id, (m.valid, m.carrier)) for m in format_matches(number)] == everything


_OTHER_DIGITS = {
    "arabic-indic": "\u0660",
    "devanagari": "\u0966",
    "fullwidth": "\uff10",
}


@pytest.mark.parametrize("format_id", [f.id for f in FORMATS])
@pytest.mark.parametrize("script", sorted(_OTHER_DIGITS))
def test_digits_of_other_scripts_are_not_numbers(format_id: str, script: str) -> None:
    """`\\d` would match them, but no carrier prints them and the check digits are ASCII
    arithmetic: a model answer written in them is refused, not a crash in validation."""
    zero = ord(_OTHER_DIGITS[script])
    for number in _samples(format_id, 3):
        foreign = "".join(chr(zero + int(c)) if c.isdigit() else c for c in number)
        assert classify(foreign) is None
        found = find_candidates(f"Your {FORMATS_BY_ID[format_id].name} tracking number: {foreign}")
        assert not [c for c in found if c.storable]
