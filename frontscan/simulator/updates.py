"""Shipment update mail in seven languages: statuses, order references, expected dates.

A shop or carrier writes "your order W123456: parcel … has shipped, expected delivery
3 March" in the customer's language, then "out for delivery", "delivered", an exception
or a return; customers answer "it never arrived" above a quote of the old "shipped"
mail. Every body says which status it states for which number, which order reference
and which expected date go with its numbers, and which statuses its wording names at
all (`stated`): that is the ground truth, written down by the writer of the text, not
derived from frontscan's rules.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from frontscan.simulator.content import Body, Planted, _paragraphs_to_html

LANGUAGES = ("en", "de", "fr", "es", "nl", "pl", "it")
LANGUAGE_WEIGHTS = (40, 10, 10, 10, 10, 10, 10)
# status → language → sentence about one parcel {n}
SENTENCES: dict[str, dict[str, str]] = {
    "label_created": {
        "en": "A shipping label has been created for parcel {n}.",
        "de": "Für Ihre Sendung {n} wurde ein Versandetikett erstellt.",
        "fr": "Étiquette créée pour le colis {n}.",
        "es": "Etiqueta creada para el envío {n}.",
        "nl": "Verzendlabel aangemaakt voor pakket {n}.",
        "pl": "Etykieta utworzona dla przesyłki {n}.",
        "it": "Etichetta creata per la spedizione {n}.",
    },
    "in_transit": {
        "en": "Your parcel {n} has shipped.",
        "de": "Ihre Sendung {n} wurde versandt.",
        "fr": "Votre colis {n} a été expédié.",
        "es": "Tu paquete {n} ha sido enviado.",
        "nl": "Je pakket {n} is verzonden.",
        "pl": "Twoja przesyłka {n} została wysłana.",
        "it": "Il tuo pacco {n} è stato spedito.",
    },
    "out_for_delivery": {
        "en": "Your parcel {n} is out for delivery.",
        "de": "Ihre Sendung {n} wird heute zugestellt.",
        "fr": "Votre colis {n} est en cours de livraison.",
        "es": "Tu paquete {n} está en reparto.",
        "nl": "Je pakket {n} wordt vandaag bezorgd.",
        "pl": "Twoja przesyłka {n} została wydana do doręczenia.",
        "it": "Il tuo pacco {n} è in consegna oggi.",
    },
    "delivered": {
        "en": "Your parcel {n} was delivered.",
        "de": "Ihre Sendung {n} wurde zugestellt.",
        "fr": "Votre colis {n} a été livré.",
        "es": "Tu paquete {n} ha sido entregado.",
        "nl": "Je pakket {n} is bezorgd.",
        "pl": "Twoja przesyłka {n} została doręczona.",
        "it": "Il tuo pacco {n} è stato consegnato.",
    },
    "exception": {
        "en": "Delivery exception for parcel {n}: the driver could not access the address.",
        "de": "Zustellung fehlgeschlagen für Sendung {n}.",
        "fr": "Échec de livraison pour le colis {n}.",
        "es": "Intento de entrega fallido para el paquete {n}.",
        "nl": "Bezorging mislukt voor pakket {n}.",
        "pl": "Nieudana próba doręczenia przesyłki {n}.",
        "it": "Tentativo di consegna fallito per il pacco {n}.",
    },
    "returned": {
        "en": "Parcel {n} is being returned to the sender.",
        "de": "Die Sendung {n} wurde an den Absender zurückgesandt.",
        "fr": "Le colis {n} a été retourné à l'expéditeur.",
        "es": "El paquete {n} ha sido devuelto al remitente.",
        "nl": "Pakket {n} is teruggestuurd naar de afzender.",
        "pl": "Przesyłka {n} została zwrócona do nadawcy.",
        "it": "Il pacco {n} è stato restituito al mittente.",
    },
}
ORDER = {"en": "Your order {o}", "de": "Ihre Bestellung {o}", "fr": "Votre commande {o}",
         "es": "Tu pedido {o}", "nl": "Je bestelling {o}", "pl": "Zamówienie nr {o}",
         "it": "Il tuo ordine {o}"}  # fmt: skip
EXPECTED = {"en": "Expected delivery: {d}.", "de": "Voraussichtliche Zustellung: {d}.",
            "fr": "Livraison prévue le {d}.", "es": "Entrega estimada: {d}.",
            "nl": "Verwachte bezorging: {d}.", "pl": "Przewidywana dostawa: {d}.",
            "it": "Consegna prevista: {d}."}  # fmt: skip
COMPLAINT = {"en": "My parcel {n} never arrived.", "de": "Mein Paket {n} ist nie angekommen.",
             "fr": "Mon colis {n} n'est jamais arrivé.", "es": "Mi paquete {n} nunca llegó.",
             "nl": "Mijn pakket {n} is nooit aangekomen.", "pl": "Moja przesyłka {n} nie dotarła.",
             "it": "Il mio pacco {n} non è mai arrivato."}  # fmt: skip
GREETING = {"en": "Hello,", "de": "Guten Tag,", "fr": "Bonjour,", "es": "Hola,", "nl": "Hallo,",
            "pl": "Dzień dobry,", "it": "Buongiorno,"}  # fmt: skip
MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "pl": "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października "
    "listopada grudnia",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
}


@dataclass(frozen=True, slots=True)
class Said:
    """What a body says about its numbers (the truth), and every status its words name."""

    statuses: dict[str, str] = field(default_factory=dict)  # number → status
    order: str | None = None
    expected: date | None = None
    stated: frozenset[str] = frozenset()


def language(rng: random.Random) -> str:
    return rng.choices(LANGUAGES, weights=LANGUAGE_WEIGHTS)[0]


def order_reference(rng: random.Random) -> str:
    return f"W{rng.randint(100000, 999999)}"


def print_date(day: date, lang: str) -> str:
    """The way a mail in `lang` writes a date."""
    if lang == "en":
        return f"{day:%A}, {day:%B} {day.day}"
    if lang == "de":
        return f"{day:%d.%m.%Y}"
    months = MONTHS[lang].split()
    return f"{day.day} de {months[day.month - 1]} de {day.year}" if lang == "es" else (
        f"{day.day} {months[day.month - 1]} {day.year}"
    )  # fmt: skip


def update(
    rng: random.Random,
    lang: str,
    numbers: list[Planted],
    status: str,
    order: str | None,
    expected: date | None,
) -> tuple[Body, Said]:
    """A shop's or carrier's update: one status for every parcel listed."""
    opener = ORDER[lang].format(o=order) + ":" if order else GREETING[lang]
    lines = [SENTENCES[status][lang].format(n=p.printed) for p in numbers]
    paragraphs = [opener, "\n".join(lines)]
    if expected is not None:
        paragraphs.append(EXPECTED[lang].format(d=print_date(expected, lang)))
    paragraphs.append("track.example.com")
    said = Said({p.number: status for p in numbers}, order, expected, frozenset({status}))
    return Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs)), said


def split_update(
    lang: str, numbers: list[Planted], statuses: list[str], order: str | None
) -> tuple[Body, Said]:
    """One line per parcel, each with its own status."""
    lines = [SENTENCES[s][lang].format(n=p.printed) for p, s in zip(numbers, statuses, strict=True)]
    paragraphs = [ORDER[lang].format(o=order) + ":" if order else GREETING[lang], "\n".join(lines)]
    said = Said(
        {p.number: s for p, s in zip(numbers, statuses, strict=True)}, order, None,
        frozenset(statuses),
    )  # fmt: skip
    return Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs)), said


def vague_pair(first: Planted, second: Planted) -> tuple[Body, Said]:
    """Two statuses in one sentence, the numbers below it: only a reader of the whole
    message (the model) can tell which is which."""
    paragraphs = [
        "Hi,",
        "Quick update on your two parcels: the first one was delivered, "
        "the second one is delayed at the depot.",
        f"Tracking numbers: {first.printed} and {second.printed}",
        "Kind regards,\nCustomer Care",
    ]
    said = Said(
        {first.number: "delivered", second.number: "exception"},
        None,
        None,
        frozenset({"delivered", "exception"}),
    )
    return Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs)), said


def complaint(lang: str, numbers: list[Planted]) -> tuple[Body, Said]:
    """A customer's "it never arrived", naming the parcel (or not: then it says nothing
    about any number, though the mail it quotes does)."""
    if numbers:
        text = " ".join(COMPLAINT[lang].format(n=p.printed) for p in numbers)
    else:
        text = COMPLAINT[lang].replace(" {n}", "")
    paragraphs = [GREETING[lang], text]
    said = Said({p.number: "exception" for p in numbers}, None, None, frozenset({"exception"}))
    return Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs)), said
