"""Real-mail rules: URLs, tracking links, unknown formats as hints, the carrier the mail names."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from frontscan.answers import validate
from frontscan.cli import app
from frontscan.detector.carriers import find_candidates
from frontscan.detector.text import clean_message
from frontscan.models import Claim, Message
from frontscan.prompt import prepare

runner = CliRunner()


def _message(body: str, text: str | None) -> Message:
    return Message(
        id="msg_1", conversation_id="cnv_1", created_at=1.0, type="email", is_inbound=True,
        subject="Shipped", body=body, text=text,
    )  # fmt: skip


def _stored(text: str, links: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(c.number, c.carrier) for c in find_candidates(text, links) if c.storable]


def test_numbers_inside_urls_are_never_candidates() -> None:
    text = (
        "Your shipment is on its way.\n"
        "Track: https://shop.example.com/ship/37682082708301/status?t=1733052345\n"
        "View online: www.example.com/v/1Z999AA10123456784?ts=1733052345"
    )
    assert find_candidates(text) == []


def test_a_carrier_tracking_link_is_evidence_for_the_number_beside_it() -> None:
    number = "TBA502887274000"  # Amazon Logistics: no check digit
    assert _stored(f"Reference {number}") == []
    links = (f"https://track.amazon.com/tracking/{number}?ref=mail",)
    assert _stored(f"Reference {number}", links) == [(number, "amazon")]
    html = f'<p>Your parcel: <a href="{links[0]}">{number}</a></p>'
    cleaned = clean_message(html, "Your parcel is on its way. View it online.")
    assert cleaned.links == links
    assert _stored(cleaned.new, cleaned.links) == [(number, "amazon")]
    other = ("https://example.com/go?id=" + number,)  # not a carrier host: no evidence
    assert _stored(f"Reference {number}", other) == []


def test_stub_plain_part_and_html_only_package_list() -> None:
    html = (
        "<table><tr><td>UPS</td><td><span>1Z</span><span>999</span><span>AA1</span>"
        "<span>0123456784</span></td></tr></table>"
    )
    prepared = prepare(_message(html, "View this e-mail in your browser."))
    assert [(c.number, c.carrier, c.storable) for c in prepared.candidates] == [
        ("1Z999AA10123456784", "ups", True)
    ]
    both = clean_message(html, "Your UPS parcel 1Z999AA10123456784 has shipped.")
    assert both.new.count("1Z999AA10123456784") == 1  # the HTML adds nothing new


def test_unknown_formats_by_a_tracking_word_are_hints() -> None:
    for text in (
        "Tracking number 997053641168",
        "Sendungsnummer: XK33801234567",
        "Numéro de suivi : 7Q12345678901FR9",
        "Número de seguimiento PQ4B7C0012345678",
        "Numer przesyłki 520000123456789",
        "Track your parcel: ABC1234567",
    ):
        found = find_candidates(text)
        assert [(c.format, c.storable) for c in found] == [("unknown", False)], text
    assert find_candidates("Order number 997053641168") == []
    assert find_candidates("Call 997053641168 now") == []
    result = runner.invoke(app, ["detect", "--all"], input="Tracking number 997053641168")
    assert json.loads(result.stdout)["hint"] is True


def test_the_carrier_the_mail_names_decides() -> None:
    impb = "9261292700768711948021"
    assert _stored(f"USPS tracking {impb}") == [(impb, "usps")]
    assert _stored(f"FedEx SmartPost tracking {impb}") == [(impb, "fedex")]
    hermes = "0073938000549297"  # also a valid Canada Post number
    assert _stored(f"Tracking {hermes}") == [(hermes, "canada_post")]
    assert _stored(f"Your Hermes parcel {hermes}") == [(hermes, "hermes")]
    assert _stored(f"Evri: your parcel {hermes} is on its way") == [(hermes, "evri")]


def test_model_numbers_keep_the_models_carrier_only_for_unknown_formats() -> None:
    text = (
        "Your Australia Post tracking number is 997053641168.\n"
        "UPS: 1Z999AA10123456785 (typo)\n"
        "See https://shop.example.com/ship/37682082708301/status"
    )
    prepared = [prepare(_message(text, text))]
    said = [
        ("997053641168", "Australia Post"),
        ("1Z999AA10123456785", "ups"),
        ("37682082708301", "dhl"),
        ("997053641168", "fedex"),
    ]
    claims = [Claim(message_id="msg_1", tracking_number=n, carrier=c) for n, c in said]
    kept, dropped = validate(claims, prepared)
    assert [(k.number, k.carrier, k.format) for k in kept] == [
        ("997053641168", "australia_post", None)
    ]
    assert dropped == 3  # a failing UPS check, a number only in a URL, a failing FedEx check
