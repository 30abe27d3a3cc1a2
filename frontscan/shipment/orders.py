"""Order references: a reference token after an order keyword, or a PO number.

"Order #W123456", "Bestellung 4711-22", "commande n° 58213", "pedido: 112-1234567-1234567",
"PO-2231". The token must hold a digit; it is stored without a leading `#` and in upper
case, which is also the form a customer system looks it up by. Invoice numbers, phone
numbers and bare references are not orders. Tracking numbers are excluded by the caller
(a number the detector stored is never also its own order reference).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEYWORDS = """
    order | order number | order no | order nr | order id | order ref | order reference
    | purchase order | your order
    | bestellung | bestellnummer | auftrag | auftragsnummer | ihre bestellung
    | commande | n° de commande | numéro de commande | votre commande
    | pedido | número de pedido | n.º de pedido | su pedido | tu pedido
    | bestelling | bestelnummer | ordernummer | je bestelling | uw bestelling
    | zamówienie | zamówienia | nr zamówienia | numer zamówienia
    | ordine | numero d'ordine | numero ordine | n. ordine | il tuo ordine | vostro ordine
"""
_TOKEN = r"#?\s?(?P<ref>[A-Z]{0,3}-?\d[\dA-Z]*(?:-[\dA-Z]+)*)"
MIN_LENGTH = 4  # letters and digits; "order 12" is a quantity more often than an order
_KEYWORD = "|".join(
    r"\s+".join(re.escape(w).replace("'", "['\u2019]") for w in k.split())
    for k in sorted((k.strip() for k in _KEYWORDS.split("|")), key=len, reverse=True)
)
_ORDER = re.compile(
    r"(?<!\w)(?:" + _KEYWORD + r")(?!\w)"
    r"(?:\s*(?:#|no\.?|nr\.?|n°|n\.º|n\.|number|nummer|numéro|número|numer|numero|id|ref)(?!\w))?"
    r"\s*[:.]?\s*" + _TOKEN + r"(?![\w-])",
    re.IGNORECASE,
)
_PO = re.compile(r"(?<![\w-])(?P<ref>PO-?\d{3,})(?![\w-])", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderMention:
    """An order reference (stored form) and where it stands in the text."""

    value: str
    start: int
    end: int


def find_orders(text: str) -> list[OrderMention]:
    """Every order reference in `text`, left to right, each place once."""
    found: dict[int, OrderMention] = {}
    for pattern in (_ORDER, _PO):
        for match in pattern.finditer(text):
            value = normalize_order(match.group("ref"))
            if len(value.replace("-", "")) >= MIN_LENGTH and match.start("ref") not in found:
                found[match.start("ref")] = OrderMention(
                    value=value, start=match.start(), end=match.end()
                )
    return sorted(found.values(), key=lambda m: m.start)


def normalize_order(reference: str) -> str:
    """The stored form: no leading `#`, no inner whitespace, upper case."""
    return "".join(reference.split()).lstrip("#").upper()


def occurs_in(reference: str, text: str) -> bool:
    """Does a claimed reference occur in the text (spaces and dashes ignored, any case)?"""
    flat = re.sub(r"[\s\-]+", "", text).upper()
    claimed = re.sub(r"[\s\-]+", "", normalize_order(reference))
    return len(claimed) >= MIN_LENGTH and any(c.isdigit() for c in claimed) and claimed in flat
