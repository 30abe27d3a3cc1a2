"""The six check-digit algorithms against worked examples, and as properties of the table.

Each worked example is computed by hand from the reference's §3 descriptions; the
property tests check that every valid sample is found in prose with its format and that
every other check character is rejected.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontscan.detector.carriers import find_candidates
from frontscan.detector.checkdigits import (
    Checksum,
    luhn,
    luhn_valid,
    mod7,
    mod10,
    mod37_36,
    s10,
    sum_product,
    ups_value,
)
from frontscan.detector.formats import FORMATS, FORMATS_BY_ID, Format
from frontscan.detector.matching import classify
from frontscan.simulator.samples import (
    SAMPLE_FORMATS,
    printed_groups,
    valid_number,
)

CHECKSUM_FORMATS = [f.id for f in FORMATS if f.checksum is not None]
SEEDS = st.integers(min_value=0, max_value=2**32)


def test_ups_letter_mapping() -> None:
    # (ASCII - 3) mod 10: A=65 -> 62 -> 2, I=73 -> 0, J=74 -> 1, S=83 -> 0, Z=90 -> 7.
    assert [ups_value(c) for c in "AIJSZ7"] == [2, 0, 1, 0, 7, 7]


def test_mod10_ups_reference_number() -> None:
    # 1Z999AA10123456784: serial 999AA1012345678, letters A=2, weights 1,2 from the left:
    # 9 + 18 + 9 + 4 + 2 + 2 + 0 + 2 + 2 + 6 + 4 + 10 + 6 + 14 + 8 = 96 -> (10 - 6) % 10 = 4.
    assert mod10("999AA1012345678", 1, 2) == "4"
    verdict = classify("1z 999 aa1 01 2345 6784")
    assert verdict is not None
    assert (verdict.number, verdict.carrier, verdict.checksum_valid) == (
        "1Z999AA10123456784",
        "ups",
        True,
    )


def test_mod10_gs1_and_reverse() -> None:
    # 3,1 from the left over 1234567: 3 + 2 + 9 + 4 + 15 + 6 + 21 = 60 -> 0.
    assert mod10("1234567", 3, 1) == "0"
    # reverse over 123456 reads 654321: 18 + 5 + 12 + 3 + 6 + 1 = 45 -> 5.
    assert mod10("123456", 3, 1, reverse=True) == "5"
    # FedEx Ground 1,3: evens 1+3+5+7+9+1+3 = 29, odds 3*(2+4+6+8+0+2+4) = 78; 107 -> 3.
    assert mod10("12345678901234", 1, 3) == "3"


def test_mod7() -> None:
    # 123456789 = 7 * 17636684 + 1.
    assert mod7("123456789") == "1"
    assert mod7("7") == "0"


def test_s10() -> None:
    # 4*8 + 7*6 + 3*4 + 1*2 + 2*3 + 4*5 + 8*9 + 2*7 = 200; 200 % 11 = 2 -> 11 - 2 = 9.
    assert s10("47312482") == "9"
    # remainder 0 gives 5: 00000000 sums to 0.
    assert s10("00000000") == "5"
    # remainder 1 gives 0: 6 * 2 = 12, 12 % 11 = 1.
    assert s10("00060000") == "0"
    # 3 * 9 = 27, 27 % 11 = 5 -> 11 - 5 = 6.
    assert s10("00000030") == "6"


def test_luhn() -> None:
    # 7992739871 read from the right: 1 7 8 9 3 7 2 9 9 7; doubled 1->2, 8->16->7, 3->6,
    # 2->4, 9->18->9 (sum 28), plus 7+9+7+9+7 = 39; 67 -> (10 - 7) % 10 = 3.
    assert luhn("7992739871") == "3"
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


def test_sum_product() -> None:
    # 1*3 + 2*1 + 3*7 + 4*3 + 5*1 + 6*7 + 7*3 + 8*1 + 9*7 + 0*3 + 1*1 = 178;
    # 178 % 11 = 2, 2 % 10 = 2.
    assert sum_product("12345678901", (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)) == "2"


def test_mod37_36() -> None:
    # "A" (10): p = 36 + 10 = 46 -> 10 -> 20; check 37 - 20 = 17 -> "H".
    assert mod37_36("A") == "H"
    # "12": 36+1 = 37 -> 1 -> 2; 2+2 = 4 -> 8; 37 - 8 = 29 -> "T".
    assert mod37_36("12") == "T"


def test_checksum_dispatch() -> None:
    assert Checksum("mod10", evens=1, odds=2).expected("999AA1012345678") == "4"
    assert Checksum("mod37_36").alphabet.endswith("Z")
    assert Checksum("luhn").alphabet == "0123456789"


def test_table_shape() -> None:
    base = [f for f in FORMATS if not f.extra]
    assert len(base) == 39
    assert len({f.carrier for f in base if f.countries is None}) == 17
    assert set(SAMPLE_FORMATS) == set(FORMATS_BY_ID)
    assert sum(f.checksum is None for f in base) == 16
    extra = {f.carrier for f in FORMATS if f.extra}
    assert extra >= {"gls", "hermes", "evri", "dhl", "postnl", "colissimo", "australia_post"}
    assert extra >= {"inpost", "dpd", "poste_italiane", "sda", "postnord", "royal_mail", "amazon"}
    assert extra >= {"cainiao", "4px", "sf_express"}


def _check_span(fmt: Format, number: str) -> tuple[int, int]:
    for pattern in fmt.patterns:
        match = pattern.fullmatch(number)
        if match is not None:
            return match.span("check")
    raise AssertionError(number)


@pytest.mark.parametrize("format_id", CHECKSUM_FORMATS)
@settings(max_examples=25, deadline=None)
@given(seed=SEEDS, grouped=st.booleans())
def test_valid_samples_are_found_in_a_sentence(format_id: str, seed: int, grouped: bool) -> None:
    fmt = FORMATS_BY_ID[format_id]
    number = valid_number(format_id, random.Random(seed))
    shown = printed_groups(number) if grouped else number
    text = f"Hi! Your {fmt.name} tracking number is {shown}, thanks for waiting."
    found = find_candidates(text)
    verdict = classify(number)
    assert verdict is not None
    assert [c.number for c in found] == [number]
    assert found[0].storable
    assert found[0].checksum_valid is True
    assert found[0].format == format_id or format_id in verdict.alternatives
    if found[0].format == format_id:
        assert found[0].carrier == verdict.carrier or format_id in verdict.alternatives
    assert text[found[0].start : found[0].end] == shown


@pytest.mark.parametrize("format_id", CHECKSUM_FORMATS)
@settings(max_examples=15, deadline=None)
@given(seed=SEEDS)
def test_every_other_check_character_fails(format_id: str, seed: int) -> None:
    fmt = FORMATS_BY_ID[format_id]
    assert fmt.checksum is not None
    number = valid_number(format_id, random.Random(seed))
    start, end = _check_span(fmt, number)
    for other in fmt.checksum.alphabet:
        if other == number[start]:
            continue
        changed = number[:start] + other + number[end:]
        verdict = classify(changed)
        assert verdict is None or verdict.checksum_valid is False or verdict.format != format_id
        result = fmt.check(changed)
        assert result is None or result[0] is False
