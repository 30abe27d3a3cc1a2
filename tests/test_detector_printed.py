"""Numbers as carriers print them: groups, separators, line breaks, tags; and what is not.

Property tests print generated numbers of every checksum format in each of its
groupings; phones, cards, dates and times in the same groupings must stay unreported.
The reference data's own test numbers are checked plain and spaced in sentences.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontscan.detector.carriers import find_candidates
from frontscan.detector.checkdigits import luhn
from frontscan.detector.formats import FORMATS, FORMATS_BY_ID
from frontscan.detector.matching import classify, normalize
from frontscan.detector.text import html_to_text
from frontscan.simulator.samples import layout, printed_forms, printed_groups, valid_number
from tests.reference_numbers import INVALID, VALID

CHECKSUM_FORMATS = [f.id for f in FORMATS if f.checksum is not None]
SEEDS = st.integers(min_value=0, max_value=2**32)
SENTENCES = (
    "Your tracking number is {n}.",
    "Tracking: {n}",
    "Hi, the {c} parcel {n} is on its way to you.",
)


def _stored(text: str) -> list[tuple[str, str]]:
    return [(c.number, c.carrier) for c in find_candidates(text) if c.storable]


@pytest.mark.parametrize("format_id", CHECKSUM_FORMATS)
@settings(max_examples=12, deadline=None)
@given(seed=SEEDS)
def test_every_grouping_of_every_checksum_format(format_id: str, seed: int) -> None:
    fmt = FORMATS_BY_ID[format_id]
    number = valid_number(format_id, random.Random(seed))
    verdict = classify(number, [fmt.carrier])
    assert verdict is not None
    for form in printed_forms(number, format_id):
        text = f"Hello! Your {fmt.name} parcel has shipped, tracking number {form}. Thanks"
        assert _stored(text) == [(number, verdict.carrier)], (form, find_candidates(text))
        found = find_candidates(text)[0]
        assert text[found.start : found.end] == form


@pytest.mark.parametrize("format_id", CHECKSUM_FORMATS)
@settings(max_examples=8, deadline=None)
@given(seed=SEEDS)
def test_numbers_split_by_inline_tags_and_cells(format_id: str, seed: int) -> None:
    fmt = FORMATS_BY_ID[format_id]
    number = valid_number(format_id, random.Random(seed))
    verdict = classify(number, [fmt.carrier])
    assert verdict is not None
    groups = printed_groups(number).split(" ")
    spans = "".join(f"<span>{g}</span>" for g in groups)
    spaced = " ".join(f'<span style="letter-spacing:1px">{g}</span>' for g in groups)
    for inner in (spans, spaced, f"<b>{number[:2]}</b>{number[2:]}"):
        page = (
            f"<table><tr><td>Carrier</td><td>{fmt.name}</td></tr>"
            f"<tr><td>Tracking number</td><td>{inner}</td></tr></table>"
        )
        assert _stored(html_to_text(page)) == [(number, verdict.carrier)], inner


def _phone(rng: random.Random) -> str:
    return f"{rng.randint(201, 989)}{rng.randint(200, 999)}{rng.randint(1000, 9999)}"


def _card(rng: random.Random) -> str:
    body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    return body + luhn(body)


@settings(max_examples=300, deadline=None)
@given(seed=SEEDS)
def test_phones_cards_dates_and_times_in_the_same_groupings_are_not_numbers(seed: int) -> None:
    rng = random.Random(seed)
    phone, card = _phone(rng), _card(rng)
    year, month, day = rng.randint(2000, 2030), rng.randint(1, 12), rng.randint(1, 28)
    hour, minute, second = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    date, time = f"{year}{month:02d}{day:02d}", f"{hour:02d}{minute:02d}{second:02d}"
    texts = [
        f"My number is {layout(phone, (3, 3, 4))}, text me.",
        f"Reach me on 1 {layout(phone, (3, 3, 4))} or 1-{layout(phone, (3, 3, 4), '-')}.",
        f"Call {layout(phone, (3, 3, 4), '.')} tomorrow.",
        f"Phone {layout(phone, (3, 7))} please.",
        f"Paid with card {printed_groups(card)} yesterday.",
        f"Charged to {printed_groups(card).replace(' ', '-')} on the 3rd.",
        f"Card number {card} was declined.",
        f"Sent {date} {time} by the system.",
        f"Logged {date}-{time}-{rng.randint(1000, 9999)} in batch.",
        f"Updated {day:02d}.{month:02d}.{year} {hour:02d}:{minute:02d}.",
        f"Delivery window {year} {month:02d} {day:02d} {hour:02d} {minute:02d}.",
        f"IP {rng.randint(100, 255)}.{rng.randint(100, 255)}.{rng.randint(100, 255)}."
        f"{rng.randint(100, 255)} was blocked.",
    ]
    for text in texts:
        assert _stored(text) == [], (text, find_candidates(text))


def _forms(shown: str) -> set[str]:
    number = normalize(shown)
    return {shown, number, printed_groups(number)}


def test_reference_valid_numbers_plain_and_spaced_in_sentences() -> None:
    total = found = 0
    misses: list[str] = []
    for format_id, numbers in VALID.items():
        name = FORMATS_BY_ID[format_id].name
        for shown in numbers:
            for form in _forms(shown):
                for sentence in SENTENCES:
                    text = sentence.format(n=form, c=name)
                    total += 1
                    if normalize(shown) in [n for n, _ in _stored(text)]:
                        found += 1
                    else:
                        misses.append(text)
    assert total >= 500
    assert found / total >= 0.99, misses


def test_reference_invalid_numbers_are_rejected() -> None:
    checked = 0
    for format_id, numbers in INVALID.items():
        name = FORMATS_BY_ID[format_id].name
        for shown in numbers:
            verdict = classify(shown)
            for sentence in SENTENCES:
                stored = _stored(sentence.format(n=shown, c=name))
                if verdict is not None and verdict.checksum_valid is not False:
                    # valid in another format (reference §5): never as the named one
                    assert all(c.format != format_id for c in find_candidates(shown) if c.storable)
                    continue
                checked += 1
                assert stored == [], (shown, sentence)
    assert checked >= 100


def test_groups_join_only_into_one_number_not_across_a_list() -> None:
    rng = random.Random(4)
    first, second = valid_number("fedex_12", rng), valid_number("fedex_12", rng)
    text = f"FedEx tracking numbers: {first}\n{second}\nThanks"
    assert [n for n, _ in _stored(text)] == [first, second]
    dpd = "0081 827 0998 0000 0200 45 000 000 N"  # the whole fails its check
    assert _stored(f"Tracking: {dpd}") == []


def test_printed_forms_the_issue_names() -> None:
    assert _stored("UPS 1Z 5R8 939 03 5756 712 7") == [("1Z5R89390357567127", "ups")]
    assert _stored("UPS 1Z 999 AA1 01 2345 6784") == [("1Z999AA10123456784", "ups")]
    assert _stored("FedEx 7905 3531 2317") == [("790535312317", "fedex")]
    assert _stored("Parcel 0081 827 0998 0000 0200 45 327 276 N") == [
        ("008182709980000020045327276N", "dpd")
    ]
    assert _stored("tracking LX 176 35035") == [("LX17635035", "lasership")]
    assert _stored("USPS 420 22153 9101026837331000039521") == [
        ("420221539101026837331000039521", "usps")
    ]


SHAPE_ONLY = [f.id for f in FORMATS if f.checksum is None]


@pytest.mark.parametrize("format_id", SHAPE_ONLY)
@settings(max_examples=10, deadline=None)
@given(seed=SEEDS)
def test_shape_only_formats_in_groups_after_a_tracking_word(format_id: str, seed: int) -> None:
    fmt = FORMATS_BY_ID[format_id]
    number = valid_number(format_id, random.Random(seed))  # e.g. 1LSC XJ8O NZED AHL
    verdict = classify(number, [fmt.carrier])
    assert verdict is not None
    text = f"{fmt.name} tracking number {printed_groups(number)}. Thanks"
    assert (number, verdict.carrier) in _stored(text), find_candidates(text)
