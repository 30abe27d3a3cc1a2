"""Status wording in English, German, French, Spanish, Dutch, Polish and Italian.

Each phrase maps to one status. Matching is case-insensitive on whole words and the
longest phrase at a position wins, so "not delivered" is an exception, not a delivery,
and "will be delivered today" is out for delivery. Future-tense delivery ("will be
delivered on…") means the parcel is still travelling, so it reads as `in_transit`.
Complaints ("never arrived", "nothing arrived") are exceptions: they are the news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from frontscan.shipment.progress import ShipmentStatus

_LEXICON: dict[ShipmentStatus, str] = {
    "label_created": """
        label created | shipping label created | label has been created | label printed
        | shipment information received | ready for dispatch | awaiting pickup
        | versandetikett erstellt | sendungsdaten übermittelt | label erstellt
        | die sendung wurde elektronisch angekündigt
        | étiquette créée | étiquette d'expédition créée | informations d'expédition reçues
        | etiqueta creada | etiqueta de envío creada | pendiente de recogida
        | label aangemaakt | verzendlabel aangemaakt | zending aangemeld
        | etykieta utworzona | utworzono etykietę | przygotowana przez nadawcę
        | etichetta creata | etichetta di spedizione creata | in attesa di ritiro
    """,
    "in_transit": """
        shipped | has shipped | has been shipped | was shipped | on its way | on the way
        | in transit | dispatched | has been dispatched | picked up by the carrier
        | will be delivered | should arrive | will arrive | is arriving
        | versandt | versendet | wurde versandt | wurde versendet | wurde verschickt | verschickt
        | ist unterwegs | unterwegs | auf dem weg | wird zugestellt | wird geliefert
        | expédié | expédiée | a été expédié | a été expédiée | en cours d'acheminement
        | en transit | en route | sera livré | sera livrée
        | enviado | enviada | ha sido enviado | ha sido enviada | en tránsito | en camino
        | será entregado | será entregada | llegará
        | verzonden | is verzonden | is verstuurd | verstuurd | onderweg | is onderweg
        | wordt bezorgd | wordt geleverd
        | wysłana | wysłano | została wysłana | w drodze | w transporcie | nadana
        | zostanie doręczona | zostanie dostarczona
        | spedito | spedita | è stato spedito | è stata spedita | in transito | in viaggio
        | verrà consegnato | verrà consegnata | arriverà
    """,
    "out_for_delivery": """
        out for delivery | is out for delivery | on the vehicle for delivery
        | will be delivered today | arriving today | with the driver
        | in zustellung | wird heute zugestellt | ist in der zustellung | im zustellfahrzeug
        | wird heute geliefert
        | en cours de livraison | en livraison | sera livré aujourd'hui | sera livrée aujourd'hui
        | en reparto | en ruta de entrega | será entregado hoy | será entregada hoy
        | wordt vandaag bezorgd | is bij de bezorger | bezorger is onderweg
        | wydana do doręczenia | w doręczeniu | kurier doręczy dziś
        | zostanie doręczona dzisiaj | zostanie doręczona dziś
        | in consegna | in consegna oggi | verrà consegnato oggi | verrà consegnata oggi
    """,
    "delivered": """
        delivered | has been delivered | was delivered | says delivered | shows delivered
        | marked as delivered | shows as delivered
        | zugestellt | wurde zugestellt | geliefert | ausgeliefert | wurde geliefert
        | livré | livrée | a été livré | a été livrée | colis livré
        | entregado | entregada | ha sido entregado | ha sido entregada | fue entregado
        | bezorgd | is bezorgd | afgeleverd | is afgeleverd
        | doręczona | doręczono | dostarczona | została doręczona | została dostarczona
        | consegnato | consegnata | è stato consegnato | è stata consegnata
    """,
    "exception": """
        delivery exception | exception | delivery attempt failed | failed delivery attempt
        | delivery failed | delayed | never arrived | has not arrived | hasn't arrived
        | nothing arrived | not received | never received | damaged | lost in transit
        | not delivered | not been delivered | undelivered | could not be delivered
        | held at customs
        | zustellung fehlgeschlagen | zustellversuch fehlgeschlagen | verzögert | verspätet
        | nicht angekommen | nie angekommen | nicht erhalten | beschädigt | verloren gegangen
        | nicht zugestellt | konnte nicht zugestellt werden
        | problème de livraison | échec de livraison | tentative de livraison échouée | retardé
        | retardée | jamais arrivé | jamais arrivée | pas reçu | jamais reçu | endommagé
        | perdu | non livré | non livrée | n'a pas pu être livré | n'a pas pu être livrée
        | n'a pas été livré | n'a pas été livrée
        | incidencia | intento de entrega fallido | entrega fallida | retrasado | retrasada
        | nunca llegó | no ha llegado | no he recibido | dañado | perdido | no entregado
        | no se pudo entregar | no ha sido entregado | no ha sido entregada
        | bezorging mislukt | bezorgpoging mislukt | vertraagd | nooit aangekomen
        | niet aangekomen | niet ontvangen | beschadigd | niet bezorgd
        | kon niet worden bezorgd
        | nieudana próba doręczenia | problem z doręczeniem | opóźniona | nie dotarła
        | nie otrzymałem | nie otrzymałam | uszkodzona | zagubiona | nie doręczono
        | nie została doręczona
        | problema di consegna | tentativo di consegna fallito | consegna fallita | in ritardo
        | mai arrivato | mai arrivata | non è arrivato | non è arrivata | non ricevuto
        | danneggiato | smarrito | non consegnato | non consegnata
        | non è stato possibile consegnare | non è stato consegnato | non è stata consegnata
    """,
    "returned": """
        returned to sender | return to sender | being returned to the sender
        | returned to the shipper
        | zurück an absender | an den absender zurückgesandt | rücksendung an den absender
        | wird an den absender zurückgeschickt
        | retourné à l'expéditeur | retour à l'expéditeur | renvoyé à l'expéditeur
        | devuelto al remitente | devuelta al remitente | devolución al remitente
        | retour afzender | teruggestuurd naar de afzender | retour naar afzender
        | zwrot do nadawcy | zwrócona do nadawcy | odesłana do nadawcy
        | restituito al mittente | restituita al mittente | reso al mittente
        | ritorno al mittente
    """,
}
# When one sentence names several statuses, the most consequential one is the news.
PRECEDENCE: tuple[ShipmentStatus, ...] = (
    "returned", "exception", "delivered", "out_for_delivery", "in_transit", "label_created",
)  # fmt: skip


def _key(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


STATUS_OF: dict[str, ShipmentStatus] = {
    _key(phrase): status
    for status, block in _LEXICON.items()
    for phrase in block.split("|")
    if phrase.strip()
}
_PATTERN = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        r"\s+".join(re.escape(word).replace("'", "['\u2019]") for word in phrase.split())
        for phrase in sorted(STATUS_OF, key=len, reverse=True)
    )
    + r")(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusPhrase:
    """A status phrase found in a message text, with its place."""

    status: ShipmentStatus
    start: int
    end: int


def find_phrases(text: str) -> list[StatusPhrase]:
    """Every status phrase in `text`, left to right, the longest one at each place."""
    return [
        StatusPhrase(status=STATUS_OF[_key(m.group())], start=m.start(), end=m.end())
        for m in _PATTERN.finditer(text)
    ]


def strongest(statuses: set[ShipmentStatus]) -> ShipmentStatus:
    """The one status to report when a sentence names several."""
    return next(s for s in PRECEDENCE if s in statuses)
