"""E-mail prose that must yield nothing: the false positives the reference gem reports.

Every sentence goes through the real `frontscan detect` command (typer's CliRunner runs
the command in-process; one test runs the installed console script). The sentences
cover the shapes §6 of the reference lists: phones, cards, dates and times, order ids,
ZIP+4, money, labelled references, SKUs, UPCs, IBANs and plain prose with digits.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from frontscan.cli import app
from frontscan.detector.carriers import find_candidates

PHONES = [
    "Call me on 5551234567 when you can.",
    "Sent to my 5551234567 number",
    "Call 787 610 7971 today",
    "My number is 787 610 7971.",
    "Phone: (555) 123-4567",
    "Phone: (555) 123 4567",
    "Tel. +1 555 123 4567",
    "Call us at 1-800-463-3339",
    "Call us at 1 800 463 3339",
    "Mobile 07700 900123",
    "Reach me at +44 20 7946 0958 any time",
    "Fax: 555.123.4567",
    "Text me at 312-555-0199 please",
    "You can call 18004633339 for support",
    "Cell 3125550199",
    "tel:+15551234567",
    "WhatsApp +49 30 12345678",
    "Our hotline +61 2 9876 5432 is open 24/7.",
    "Please phone 020 7946 0958 before noon.",
    "call me back on 917 555 0123 or 917 555 0124",
    "Contact number: 4155550132",
    "My phone number changed to 6465550187 last week.",
    "Dial 1 (800) 555-0100 ext. 42",
    "Call 2125550143 tomorrow about the delivery date.",
    "The store phone is 604 555 0147.",
]
CARDS = [
    "card 4246 6790 6648 6249",
    "Paid with card 4111 1111 1111 1111.",
    "Visa ending in 4242",
    "Charged to your Mastercard 5555 5555 5555 4444",
    "Card number 4012888888881881 was declined",
    "Amex 3782 822463 10005",
    "credit card 6011 1111 1111 1117 expires 12/27",
    "Payment card ending 1881, approved.",
    "Debit card: 4000 0566 5566 5556",
    "Your visa 4242424242424242 has been charged",
    "Gift card 6006 4912 3456 7890 balance $25",
    "Pay with 5105 1051 0510 5100 please",
]
DATES = [
    "Sent 20240126 144301",
    "Sent 20240126144301",
    "Timestamp: 202601151230",
    "Updated 2026-02-01 at 14:30",
    "Delivered on 01/26/2024 at 2:30 PM",
    "Meeting at 14:30 on 2026-02-01",
    "Logged 2024-01-26T14:43:01Z",
    "Date: 26.01.2024 14:43",
    "Between 20250101 and 20251231 inclusive",
    "Batch 20240126-144301-0001 was processed",
    "Generated at 20231104235959",
]
ORDERS = [
    "Order #112-1234567-1234567",
    "Order 112 1234567 1234567",
    "Your Amazon order 112-1234567-1234567 has shipped",
    "Amazon order 113 4567890 1234567 is confirmed",
    "Order total 1234 5678 9012",
    "Order number: 123456789012",
    "Order # 4567 8901 2345",
    "Invoice no INV2024000123",
    "Invoice 123456789012 is attached",
    "Invoice number 20240000123456",
    "Ref: 12345678901",
    "Reference 987654321098",
    "PO 4500123456 approved",
    "PO# 45001234567",
    "RMA 123456789012 issued",
    "Account number 12345678901234",
    "Customer ID 1234567890",
    "Customer number 123456789012",
    "Your confirmation number is 123456789012",
    "Receipt 4829 1034 5521",
    "Transaction 3984 1123 0091 7712 completed",
    "Case 01234567890 has been closed",
    "Ticket #1234567890 created",
    "Policy number 123456789012345",
    "Member 9876543210 benefits",
]
ZIPS_AND_MONEY = [
    "Ship to CA 94134-1234",
    "Address: 1 Main St, Springfield, IL 62704-1234",
    "NY 10001 1234",
    "Total: $1,234.56",
    "Price $123456789012",
    "Amount due: USD 1234567890.00",
    "You paid 1234567890.50 EUR",
    "Refund of €12.99 processed",
    "Balance 123456789012",
    "Subtotal 4567.89, tax 365.43, total 4933.32",
    "We charged $49.99 on 01/02/2026",
    "Your discount code SAVE20 saved you $20",
]
PROSE = [
    "Your items will arrive in 2 business days",
    "Shipped in 3 boxes from our warehouse",
    "Available in 4 colors and sizes",
    "SKU GM12345678AB",
    "SKU: TH1234567890XL is out of stock",
    "UPC 012345678905",
    "UPC 0 12345 67890 5",
    "EAN 4006381333931",
    "ISBN 978-3-16-148410-0",
    "IBAN DE89 3704 0044 0532 0130 00",
    "IBAN GB29 NWBK 6016 1331 9268 19",
    "Model number CN1234567890123 is discontinued",
    "Serial 123456789012 on the back of the unit",
    "Item 12345678901234 is back in stock",
    "Part no. 9612 0190 1234 5678",
    "IMEI 356938035643809",
    "We have 10 units at 12 dollars in 3 sizes.",
    "Room 1204, floor 12, building 3",
    "Version 1.2.3456789 released",
    "IP 192.168.100.200 was blocked",
    "Meet me in 5 minutes at gate 12",
    "My 2 kids are 7 and 9 years old",
    "Coupon code WELCOME2024 expires soon",
    "Promo 20OFF2024NOW",
    "Password reset code 839201",
    "Your PIN is 123456",
    "In 2024 we shipped 1234567 parcels.",
    "Thanks for 10 great years!",
    "Quantity 2 x 14.99",
    "Lot 202401 expires 2027",
]
DISTRACTORS = PHONES + CARDS + DATES + ORDERS + ZIPS_AND_MONEY + PROSE

runner = CliRunner()


def test_corpus_is_large() -> None:
    assert len(DISTRACTORS) >= 100


@pytest.mark.parametrize("sentence", DISTRACTORS)
def test_detect_prints_nothing_for_distractor(sentence: str) -> None:
    result = runner.invoke(app, ["detect"], input=sentence)
    assert result.exit_code == 0, result.output
    assert result.stdout == "", (sentence, find_candidates(sentence))


@pytest.mark.parametrize("sentence", DISTRACTORS)
def test_distractors_are_never_storable(sentence: str) -> None:
    assert not [c for c in find_candidates(sentence) if c.storable]
    assert not [c for c in find_candidates(sentence.lower()) if c.storable]


def test_whole_corpus_in_one_email_via_console_script(tmp_path: Path) -> None:
    body = tmp_path / "distractors.txt"
    body.write_text("\n\n".join(DISTRACTORS), encoding="utf-8")
    script = Path(sys.executable).parent / "frontscan"
    done = subprocess.run(
        [str(script), "detect", str(body)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""


def test_real_numbers_in_distractor_email_are_found_once() -> None:
    text = "\n".join(DISTRACTORS[:40]) + "\nYour UPS tracking number is 1Z999AA10123456784.\n"
    found = [c for c in find_candidates(text) if c.storable]
    assert [(c.number, c.carrier) for c in found] == [("1Z999AA10123456784", "ups")]
