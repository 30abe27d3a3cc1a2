"""The pure shipment rules: status phrases, expected dates, order references, ordering."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from frontscan.shipment import STATUSES, advances, latest
from frontscan.shipment.dates import find_expected_dates
from frontscan.shipment.facts import read_message, read_number, settle
from frontscan.shipment.orders import find_orders, occurs_in
from frontscan.shipment.phrases import _LEXICON, find_phrases

SENT = datetime(2026, 2, 26, 9, 30, tzinfo=UTC).timestamp()  # a Thursday
UPS = "1Z999AA10123456784"
USPS = "9400111899223100001234"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("Good news! Your parcel has shipped.", "in_transit"),
        ("Your parcel is out for delivery.", "out_for_delivery"),
        ("It will be delivered today.", "out_for_delivery"),
        ("It will be delivered on Monday.", "in_transit"),
        ("Your parcel was delivered at 10:02.", "delivered"),
        ("Your parcel has not been delivered.", "exception"),
        ("It never arrived!", "exception"),
        ("The parcel was returned to sender.", "returned"),
        ("Shipping label created, awaiting pickup.", "label_created"),
        ("Ihre Sendung ist unterwegs.", "in_transit"),
        ("Die Sendung wird heute zugestellt.", "out_for_delivery"),
        ("Die Sendung wurde zugestellt.", "delivered"),
        ("Das Paket ist nie angekommen.", "exception"),
        ("Votre colis a été expédié.", "in_transit"),
        ("Votre colis est en cours de livraison.", "out_for_delivery"),
        ("Votre colis a été livré.", "delivered"),
        ("Mon colis n'a pas été livré.", "exception"),
        ("Tu pedido ha sido enviado.", "in_transit"),
        ("Tu paquete está en reparto.", "out_for_delivery"),
        ("Tu paquete ha sido entregado.", "delivered"),
        ("Mi paquete nunca llegó.", "exception"),
        ("Je pakket is onderweg.", "in_transit"),
        ("Je pakket wordt vandaag bezorgd.", "out_for_delivery"),
        ("Je pakket is bezorgd.", "delivered"),
        ("Mijn pakket is niet bezorgd.", "exception"),
        ("Przesyłka została wysłana.", "in_transit"),
        ("Przesyłka wydana do doręczenia.", "out_for_delivery"),
        ("Przesyłka została doręczona.", "delivered"),
        ("Przesyłka nie została doręczona.", "exception"),
        ("Il pacco è stato spedito.", "in_transit"),
        ("Il pacco è in consegna oggi.", "out_for_delivery"),
        ("Il pacco è stato consegnato.", "delivered"),
        ("Il pacco non è stato consegnato.", "exception"),
        ("Il pacco è stato restituito al mittente.", "returned"),
    ],
)
def test_each_language_states_each_status(text: str, status: str) -> None:
    assert {p.status for p in find_phrases(text)} == {status}


def test_no_phrase_belongs_to_two_statuses_and_words_are_whole() -> None:
    seen: dict[str, str] = {}
    for status, block in _LEXICON.items():
        for phrase in filter(None, (p.strip() for p in block.split("|"))):
            assert seen.setdefault(" ".join(phrase.split()), status) == status, phrase
    assert [p.status for p in find_phrases("undelivered")] == ["exception"]
    assert find_phrases("Versandtag, shippedness, Zustellungen") == []
    assert find_phrases("I'd like to return the jacket; call me on 555-0100.") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Expected delivery: Tuesday, March 3", date(2026, 3, 3)),
        ("Estimated delivery 2026-03-04.", date(2026, 3, 4)),
        ("arriving tomorrow", date(2026, 2, 27)),
        ("Arriving Monday", date(2026, 3, 2)),
        ("Voraussichtliche Zustellung am 03.03.2026", date(2026, 3, 3)),
        ("wird am 5. März zugestellt", date(2026, 3, 5)),
        ("Livraison prévue le 6 mars 2026", date(2026, 3, 6)),
        ("Entrega estimada: 7 de marzo de 2026", date(2026, 3, 7)),
        ("Verwachte bezorging: 9 maart", date(2026, 3, 9)),
        ("Przewidywana dostawa: 10 marca 2026", date(2026, 3, 10)),
        ("Consegna prevista: 11 marzo 2026", date(2026, 3, 11)),
        ("expected delivery: January 4", date(2027, 1, 4)),  # sent in late February
    ],
)
def test_expected_dates_in_each_language(text: str, expected: date) -> None:
    assert [d.value for d in find_expected_dates(text, SENT)] == [expected]


def test_dates_without_a_delivery_keyword_or_impossible_ones_are_not_expected_dates() -> None:
    assert find_expected_dates("Ordered on 3 March 2026, invoice dated 2026-03-01.", SENT) == []
    assert find_expected_dates("Expected delivery: 30 February", SENT) == []
    assert find_expected_dates("Expected delivery: 03/04/2026", SENT) == []


@pytest.mark.parametrize(
    ("text", "order"),
    [
        ("Your order #W123456 has shipped", "W123456"),
        ("Order 112-1234567-1234567", "112-1234567-1234567"),
        ("Ihre Bestellung Nr. 4711-22", "4711-22"),
        ("Votre commande n° 58213", "58213"),
        ("Número de pedido: ES-99812", "ES-99812"),
        ("Je bestelling 556677 is verzonden", "556677"),
        ("Zamówienie nr 12345", "12345"),
        ("Il tuo ordine 998877", "998877"),
        ("Re PO-2231: goods are ready", "PO-2231"),
    ],
)
def test_order_references(text: str, order: str) -> None:
    assert [o.value for o in find_orders(text)] == [order]


def test_non_orders_are_not_order_references() -> None:
    assert find_orders("invoice INV-2026-00042, reference #123456789, your order has shipped") == []
    assert occurs_in("w-123 456", "Order W123456 today")
    assert not occurs_in("W654321", "Order W123456 today")
    assert not occurs_in("12", "Order 12 today")


def _reading(text: str, number: str = UPS):  # type: ignore[no-untyped-def]
    facts = read_message(text, SENT, [UPS, USPS])
    at = text.index(number)
    return facts, read_number(facts, at, at + len(number))


def test_a_phrase_in_the_numbers_sentence_speaks_for_it() -> None:
    text = f"Parcel {UPS}: delivered. Parcel {USPS}: out for delivery."
    assert _reading(text)[1].status == "delivered"
    assert _reading(text, USPS)[1].status == "out_for_delivery"


def test_a_complaint_beside_a_reported_delivery_is_an_exception() -> None:
    assert _reading(f"The tracking {UPS} says delivered but nothing arrived.")[1].status == (
        "exception"
    )


def test_one_status_in_the_message_speaks_for_every_number_in_it() -> None:
    text = f"Your order W123456 is on its way!\n\nUPS  {UPS}\nUSPS  {USPS}"
    for number in (UPS, USPS):
        reading = _reading(text, number)[1]
        assert (reading.status, reading.order_reference) == ("in_transit", "W123456")
    assert _reading(f"Can you check {UPS}?")[1].status == "unknown"


def test_the_model_fills_only_what_the_rules_leave_open_and_only_when_backed() -> None:
    text = f"The first was delivered, the second is delayed.\n\nTracking: {UPS} and {USPS}"
    facts, reading = _reading(text)
    assert reading.status is None
    backed, dropped = settle(facts, reading, status="delivered")
    assert (backed.status, dropped) == ("delivered", 0)
    unbacked, dropped = settle(facts, reading, status="returned")
    assert (unbacked.status, dropped) == ("unknown", 1)
    decided_facts, decided = _reading(f"Your parcel {UPS} is out for delivery.")
    statement, dropped = settle(decided_facts, decided, status="delivered")
    assert (statement.status, dropped) == ("out_for_delivery", 1)  # unbacked: dropped
    both = f"Order W111111 and order W222222.\n\nTracking {UPS}; arriving Monday or 2026-03-09"
    facts, reading = _reading(both)
    assert reading.orders_open
    good = {"order_reference": "W222222", "expected_delivery": "2026-03-02"}
    assert settle(facts, reading, **good)[0].order_reference == "W222222"
    bad = {"order_reference": "W999999", "expected_delivery": "2026-04-01", "status": "bogus"}
    statement, dropped = settle(facts, reading, **bad)
    assert (statement.order_reference, dropped) == (None, 3)


def test_status_moves_forward_or_to_exception_and_never_back() -> None:
    assert advances("in_transit", 1, "delivered", 2)
    assert not advances("delivered", 1, "in_transit", 2)  # a restated old "shipped"
    assert advances("delivered", 1, "exception", 2)  # "it says delivered but never arrived"
    assert not advances("exception", 1, "in_transit", 2)
    assert advances("exception", 1, "delivered", 2)
    assert not advances("exception", 2, "delivered", 1)  # stated before the exception
    assert not advances("returned", 1, "exception", 2)
    assert advances("unknown", 5, "label_created", 1)
    assert not advances("in_transit", 1, "unknown", 2)
    assert latest([("in_transit", 1), ("delivered", 3), ("in_transit", 2)]) == ("delivered", 3)
    assert latest([]) == ("unknown", None)


def test_every_pair_of_statuses_has_a_defined_answer() -> None:
    for current, new in itertools.product(STATUSES, repeat=2):
        later, earlier = advances(current, 1, new, 2), advances(current, 2, new, 1)
        assert not (earlier and not later), (current, new)  # an older word never wins more
