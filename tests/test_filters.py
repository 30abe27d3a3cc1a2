"""The names `export` and `shipments` filter on: normalised, or refused with a hint."""

from __future__ import annotations

import re

import pytest

from frontscan.errors import UsageError
from frontscan.filters import carrier_code, known_carrier, known_status
from frontscan.shipment import STATUSES


def test_carrier_names_take_the_stored_form() -> None:
    assert carrier_code("  Royal   Mail ") == "royal_mail"
    assert known_carrier("UPS") == "ups"
    assert known_carrier("Canada Post") == "canada_post"
    assert known_carrier("Acme Freight", stored=["acme_freight"]) == "acme_freight"


@pytest.mark.parametrize(
    ("value", "hint"),
    [("fedx", "did you mean 'fedex'?"), ("royalmail", "did you mean 'royal_mail'?")],
)
def test_a_near_typo_gets_the_nearest_name(value: str, hint: str) -> None:
    with pytest.raises(UsageError, match=re.escape(hint)) as refused:
        known_carrier(value)
    assert "\n" not in str(refused.value)


def test_an_unknown_carrier_lists_the_names_and_an_empty_one_says_what_to_give() -> None:
    with pytest.raises(
        UsageError, match=r"^--carrier 'zzz' is not a carrier frontscan knows: use one of "
    ):
        known_carrier("zzz", stored=["acme_freight"])
    with pytest.raises(UsageError, match="acme_freight"):
        known_carrier("zzz", stored=["acme_freight"])
    with pytest.raises(UsageError, match="needs a carrier name"):
        known_carrier("  ")


def test_statuses_forgive_case_and_spaces_and_hint_a_typo() -> None:
    assert known_status("Out for delivery", STATUSES) == "out_for_delivery"
    with pytest.raises(UsageError, match=re.escape("did you mean 'returned'?")):
        known_status("retruned", STATUSES)
