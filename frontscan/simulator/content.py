"""Message text for the fake mailbox: notices, questions, supplier mail, quotes, distractors.

Realism is the point. A detector that only ever sees `Tracking: 1Z…` learns nothing, so
bodies mix plain and grouped numbers, carrier links, phone numbers, order ids, card-like
digit groups, prices, dates and ZIP+4 codes, and replies quote earlier messages the way
Gmail, Outlook and HTML clients do. Every function takes the generator's `random.Random`
and nothing else random, so a seed always yields the same text.
"""

from __future__ import annotations

import html
import random
from dataclasses import dataclass
from datetime import UTC, datetime

CARRIER_NAMES = {
    "ups": "UPS",
    "fedex": "FedEx",
    "usps": "USPS",
    "dhl": "DHL",
    "royal_mail": "Royal Mail",
    "amazon": "Amazon Logistics",
    "ontrac": "OnTrac",
    "lasership": "LaserShip",
    "canada_post": "Canada Post",
    "canpar": "Canpar",
    "purolator": "Purolator",
    "dpd": "DPD",
    "old_dominion": "Old Dominion",
    "landmark": "Landmark Global",
    "speedee": "Spee-Dee",
    "gofo": "GOFO Express",
    "yodel": "Yodel",
    "yunexpress": "YunExpress",
}
FIRST = ("Dana", "Priya", "Marco", "Lena", "Tom", "Aisha", "Kenji", "Sofia", "Omar", "Claire")
LAST = ("Ortiz", "Shah", "Rossi", "Berg", "Walsh", "Okafor", "Sato", "Novak", "Haddad", "Dubois")
SHOPS = ("Northwind Outfitters", "Bluebird Home", "Peak Cycles", "Maple & Co", "Lumen Audio")
SUPPLIERS = ("Shenzhen Brightparts Ltd", "Kessler Industrie GmbH", "Atlas Packaging Inc")
DOMAINS = ("example.net", "example.org", "mail.example.com", "example.co.uk")


@dataclass(frozen=True, slots=True)
class Party:
    """A sender or recipient: display name and handle (e-mail or phone)."""

    name: str
    handle: str


@dataclass(frozen=True, slots=True)
class Planted:
    """A tracking number about to be written into a message, and how it is printed."""

    number: str
    carrier: str
    printed: str

    @property
    def carrier_name(self) -> str:
        return CARRIER_NAMES.get(self.carrier, self.carrier.replace("_", " ").title())


@dataclass(frozen=True, slots=True)
class Body:
    """One rendered message: plain text (always, for quoting) and the HTML body.

    `stub` is what the e-mail's own text/plain part says when it is only a pointer to
    the HTML ("view this e-mail in your browser"); None when the plain part is complete.
    `status` is what the text says about its numbers, `stated` every status its words
    name, `order` the order reference it gives them: the ground truth for shipments.
    """

    plain: str
    html: str
    stub: str | None = None
    status: str = "unknown"
    stated: frozenset[str] = frozenset()
    order: str | None = None


def order_in(extra: list[str]) -> str | None:
    """The order reference a distractor list gives ("Order 123-…"), if any."""
    return next((e.removeprefix("Order ") for e in extra if e.startswith("Order ")), None)


def person(rng: random.Random) -> Party:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return Party(f"{first} {last}", f"{first.lower()}.{last.lower()}@{rng.choice(DOMAINS)}")


def phone(rng: random.Random) -> str:
    return f"+1 ({rng.randint(201, 989)}) 555-{rng.randint(100, 199):04d}"


def distractor(rng: random.Random) -> str:
    """A number-shaped string that is not a tracking number (the detector's false friends)."""
    kind = rng.randrange(8)
    if kind == 0:
        middle, last = rng.randint(10**6, 10**7 - 1), rng.randint(10**6, 10**7 - 1)
        return f"Order {rng.randint(100, 999)}-{middle}-{last}"
    if kind == 1:
        return f"call us on {phone(rng)}"
    if kind == 2:
        groups = " ".join(f"{rng.randint(0, 9999):04d}" for _ in range(4))
        return f"gift card {groups}"
    if kind == 3:
        day, month = rng.randint(1, 28), rng.randint(1, 12)
        return f"paid with card ending {rng.randint(1000, 9999)} on {day:02d}/{month:02d}/2026"
    if kind == 4:
        return f"total ${rng.randint(5, 900)}.{rng.randint(0, 99):02d}"
    if kind == 5:
        return f"invoice INV-2026-{rng.randint(1, 99999):05d}"
    if kind == 6:
        return f"ship to ZIP {rng.randint(10000, 99999)}-{rng.randint(1000, 9999)}"
    return f"reference #{rng.randint(10**7, 10**9)}"


def _paragraphs_to_html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _link(p: Planted, spans: bool = False) -> str:
    url = f"https://track.example.com/{p.carrier}?n={p.number}"
    shown = html.escape(p.printed).replace("\n", "<br>").replace("\u00a0", "&nbsp;")
    if spans:
        shown = "".join(f"<span>{html.escape(g)}</span>" for g in p.printed.split())
    return f'<a href="{url}">{shown}</a>'


def notice(
    rng: random.Random,
    shop: str,
    numbers: list[Planted],
    extra: list[str],
    printed_forms: bool = False,
) -> Body:
    """A shop's "your order has shipped" mail: a table of parcels, links, a footer.

    `printed_forms`: numbers split into `<span>`s in the HTML, a footer whose links carry
    campaign ids and Unix timestamps (in both parts), and a stub plain part.
    """
    order = f"{rng.randint(10000, 99999)}"
    lines = [f"Good news! Your {shop} order #{order} is on its way."]
    for p in numbers:
        lines.append(f"Carrier: {p.carrier_name}  Tracking number: {p.printed}")
    lines.append("Questions? " + "; ".join(extra) + ".")
    footer, footer_html, stub = "", "", None
    if printed_forms:
        ship_id, stamp = rng.randint(10**13, 10**14 - 1), rng.randint(1_700_000_000, 1_800_000_000)
        view = f"https://view.mail.example.net/v/{ship_id}?ts={stamp}"
        track = f"https://shop.example.com/ship/{ship_id}/status?t={stamp}"
        footer = f"\n\nView in browser: {view}\nShipment status: {track}"
        footer_html = f'<p><a href="{view}">View in browser</a> · <a href="{track}">Status</a></p>'
        stub = f"View this e-mail in your browser: {view}"
    plain = "\n\n".join(lines) + f"\n\n{shop} · 1 Market St · unsubscribe{footer}"
    rows = "".join(
        f"<tr><td>{html.escape(p.carrier_name)}</td><td>{_link(p, printed_forms)}</td></tr>"
        for p in numbers
    )
    body = (
        f"<div><h2>{html.escape(shop)}</h2><p>{html.escape(lines[0])}</p>"
        f"<table><tr><th>Carrier</th><th>Tracking</th></tr>{rows}</table>"
        f'<p>{html.escape(lines[-1])}</p><p style="font-size:10px">1 Market St · '
        f'<a href="https://example.com/unsub">unsubscribe</a></p>{footer_html}</div>'
    )
    return Body(plain, body, stub, "in_transit", frozenset({"in_transit"}), order)


def question(rng: random.Random, numbers: list[Planted], extra: list[str]) -> Body:
    """A customer asking where the parcel is, quoting the number the way people do."""
    opener = rng.choice(("Hi,", "Hello there,", "Hi team,", "Good morning,"))
    status, stated = "unknown", frozenset[str]()
    if numbers:
        refs = " and ".join(p.printed for p in numbers)
        pick = rng.randrange(3)
        ask = (
            f"my parcel {refs} has not moved for 5 days. Where is it?",
            f"the tracking {refs} says delivered but nothing arrived.",
            f"can you check {refs}? The {numbers[0].carrier_name} site shows no updates.",
        )[pick]
        if pick == 1:
            status, stated = "exception", frozenset({"delivered", "exception"})
    else:
        ask = rng.choice(
            (
                "where is my order? I never got a tracking number.",
                "I'd like to return the jacket, it is too small.",
                "please send me a copy of the invoice.",
            )
        )
    paragraphs = [opener, ask]
    if extra:
        paragraphs.append(f"For reference: {'; '.join(extra)}.")
    paragraphs.append("Thanks")
    text = "\n\n".join(paragraphs)
    return Body(
        text, _paragraphs_to_html(paragraphs), status=status, stated=stated, order=order_in(extra)
    )


def agent_reply(rng: random.Random, numbers: list[Planted], extra: list[str]) -> Body:
    """Support's answer; sometimes with a replacement shipment's number."""
    paragraphs = [rng.choice(("Hi,", "Hello,", "Thanks for reaching out,"))]
    if numbers:
        listed = ", ".join(f"{p.printed} ({p.carrier_name})" for p in numbers)
        paragraphs.append(f"We have sent a replacement. New tracking: {listed}.")
    else:
        paragraphs.append("We have opened an investigation with the carrier and will revert.")
    if extra:
        paragraphs.append("Details: " + "; ".join(extra) + ".")
    paragraphs.append("Kind regards,\nCustomer Care")
    text = "\n\n".join(paragraphs)
    return Body(text, _paragraphs_to_html(paragraphs), order=order_in(extra))


def supplier(rng: random.Random, company: str, numbers: list[Planted], extra: list[str]) -> Body:
    """A supplier's dispatch note: PO numbers, AWBs, pallets, invoices."""
    po = f"PO-{rng.randint(1000, 9999)}"
    paragraphs = [f"Dear partner,\n\nRe {po}: goods are ready."]
    for i, p in enumerate(numbers, start=1):
        paragraphs.append(
            f"Shipment {i}: {p.carrier_name} AWB {p.printed}, {rng.randint(1, 9)} pallets"
        )
    paragraphs.append("; ".join(extra) if extra else f"Invoice to follow for {po}.")
    paragraphs.append(f"Best regards\n{company}")
    return Body("\n\n".join(paragraphs), _paragraphs_to_html(paragraphs), order=po)


def short_text(rng: random.Random, numbers: list[Planted], extra: list[str]) -> Body:
    """An SMS or chat line: no markup, one sentence."""
    if numbers:
        refs = " and ".join(p.printed for p in numbers)
        # A carrier's SMS names itself; parcels of several carriers get a shop's wording.
        same = len({p.carrier for p in numbers}) == 1
        name = numbers[0].carrier_name if same else "Delivery update"
        pick = rng.randrange(3)
        text = (
            f"{name}: your parcel {refs} is out for delivery today.",
            f"hey did u get my parcel? tracking is {refs}",
            f"Delivery attempt failed for {refs}. Reschedule at track.example.com",
        )[pick]
        status = ("out_for_delivery", "unknown", "exception")[pick]
        return Body(text, text, status=status, stated=frozenset({status} - {"unknown"}))
    text = rng.choice(
        ("ok thanks!", "is the shop open on sunday?", f"pls call me back, {extra[0]}")
    )
    return Body(text, text)


def _quote_date(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%a, %-d %b %Y at %H:%M")


def quote(rng: random.Random, reply: Body, prev: Body, who: Party, at: float, subject: str) -> Body:
    """Append a quote of `prev`: Gmail `>` lines or an Outlook header, and an HTML blockquote."""
    style = rng.randrange(2)
    if style == 0:
        quoted = "\n".join(f"> {line}" if line else ">" for line in prev.plain.splitlines())
        plain = f"{reply.plain}\n\nOn {_quote_date(at)}, {who.name} <{who.handle}> wrote:\n{quoted}"
    else:
        sent = datetime.fromtimestamp(at, UTC).strftime("%A, %B %-d, %Y %-I:%M %p")
        plain = (
            f"{reply.plain}\n\n-----Original Message-----\nFrom: {who.name} <{who.handle}>\n"
            f"Sent: {sent}\nSubject: {subject}\n\n{prev.plain}"
        )
    header = html.escape(f"On {_quote_date(at)}, {who.name} <{who.handle}> wrote:")
    body = (
        f'{reply.html}<div class="gmail_quote">{header}<br>'
        f'<blockquote style="margin:0 0 0 .8ex;border-left:1px solid #ccc">{prev.html}'
        "</blockquote></div>"
    )
    return Body(plain, body, status=reply.status, stated=reply.stated, order=reply.order)
