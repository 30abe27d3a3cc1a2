"""Mail as it really arrives, for the `realistic` mailbox: long HTML, footers, newsletters.

The default mailbox keeps messages short so tests read easily. Token figures measured on
it mean little: real shipping notices are kilobytes of HTML (a greeting, an order
summary with prices, a tracking table, a "track your package" button whose URL carries
the number, a legal footer), marketing newsletters carry prices and promo codes but no
tracking number, and support replies sit on top of quoted threads several replies deep
with a signature and a confidentiality notice. Same rng discipline as `content`: every
function takes the generator's `random.Random` and nothing else random.
"""

from __future__ import annotations

import html
import random
from dataclasses import replace

from frontscan.simulator.content import Body, Planted

_ITEMS = (
    "Merino crew sweater", "Trail running shoes", "Insulated water bottle", "Canvas tote",
    "Wireless earbuds", "Cotton bath towel set", "Ceramic pour-over kit", "Wool beanie",
    "LED desk lamp", "Bike light set", "Rain jacket", "Yoga mat",
)  # fmt: skip
_LEGAL = (
    "This email was sent to you because you placed an order or created an account with "
    "{shop}. Please do not reply to this email: this mailbox is not monitored. Prices "
    "include VAT where applicable. Delivery estimates are provided by the carrier and are "
    "not guaranteed. Items returned within 30 days in their original condition are "
    "refunded to the original payment method; see our returns policy for exceptions. "
    "Our privacy notice explains how we use your personal data and how to exercise your "
    "rights. You can manage your email preferences or unsubscribe at any time."
)
_CONFIDENTIAL = (
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are intended only for the "
    "named recipient and may contain confidential or privileged information. If you have "
    "received it in error, please notify the sender and delete it. Any unauthorised use, "
    "disclosure or copying is prohibited."
)
_STYLE = (
    "<style>body{margin:0;padding:0;font-family:Helvetica,Arial,sans-serif}"
    "table{border-collapse:collapse}.btn{background:#1a73e8;color:#fff;padding:12px 24px;"
    "border-radius:4px;text-decoration:none}.muted{color:#888;font-size:11px}</style>"
)


def _items(rng: random.Random) -> tuple[str, str]:
    """An order summary (plain, HTML rows) with quantities and prices: digits, no numbers."""
    chosen = rng.sample(_ITEMS, rng.randint(1, 4))
    plain: list[str] = []
    rows: list[str] = []
    for item in chosen:
        qty, price = rng.randint(1, 3), f"${rng.randint(8, 240)}.{rng.randint(0, 99):02d}"
        plain.append(f"{item}  x{qty}  {price}")
        rows.append(
            f'<tr><td style="padding:8px">{html.escape(item)}</td>'
            f'<td style="padding:8px">Qty {qty}</td><td style="padding:8px">{price}</td></tr>'
        )
    return "\n".join(plain), "".join(rows)


def _footer(rng: random.Random, shop: str) -> tuple[str, str]:
    street = f"{rng.randint(1, 999)} {rng.choice(('Market', 'Harbor', 'Elm', 'King'))} St"
    address = f"{shop} · {street} · Suite {rng.randint(100, 999)}"
    legal = _LEGAL.format(shop=shop)
    plain = f"{address}\n{legal}\nUnsubscribe"
    links = " | ".join(
        f'<a href="https://example.com/{p}">{p.title()}</a>'
        for p in ("help", "returns", "privacy", "unsubscribe")
    )
    markup = (
        f'<table width="100%"><tr><td class="muted" style="padding:24px">'
        f"{html.escape(address)}<br>{html.escape(legal)}<br>{links}</td></tr></table>"
    )
    return plain, markup


def long_notice(rng: random.Random, shop: str, numbers: list[Planted], extra: list[str]) -> Body:
    """A shop's "your order has shipped" mail the way e-commerce platforms render it."""
    order = f"{rng.randint(10000, 99999)}"
    items_plain, items_rows = _items(rng)
    foot_plain, foot_html = _footer(rng, shop)
    greeting = (
        f"Hi there, good news! Items from your {shop} order #{order} are on the way. "
        "You can follow your delivery below. It can take up to 24 hours for tracking "
        "information to appear on the carrier's website."
    )
    tracking_plain = "\n".join(
        f"Carrier: {p.carrier_name}  Tracking number: {p.printed}" for p in numbers
    )
    tracking_rows = "".join(
        f'<tr><td style="padding:8px">{html.escape(p.carrier_name)}</td><td style="padding:8px">'
        f'<a href="https://track.example.com/{p.carrier}?n={p.number}&amp;utm_source=email">'
        f"{html.escape(p.printed)}</a></td></tr>"
        for p in numbers
    )
    questions = "Questions? " + "; ".join(extra) + "." if extra else "Questions? Reply below."
    plain = (
        f"{shop}\n\n{greeting}\n\n{tracking_plain}\n\nOrder summary\n{items_plain}\n\n"
        f"{questions}\n\n{foot_plain}"
    )
    button = (
        f'<a class="btn" href="https://track.example.com/{numbers[0].carrier}?n='
        f'{numbers[0].number}">Track your package</a>'
        if numbers
        else ""
    )
    markup = (
        f"<html><head>{_STYLE}</head><body>"
        f'<table width="100%"><tr><td align="center"><img src="https://cdn.example.com/logo.png"'
        f' alt="{html.escape(shop)}" width="160"></td></tr></table>'
        f"<h2>Your order is on the way</h2><p>{html.escape(greeting)}</p>{button}"
        f"<table><tr><th>Carrier</th><th>Tracking</th></tr>{tracking_rows}</table>"
        f"<h3>Order summary</h3><table>{items_rows}</table>"
        f"<p>{html.escape(questions)}</p>{foot_html}</body></html>"
    )
    return Body(plain, markup, status="in_transit", stated=frozenset({"in_transit"}), order=order)


def newsletter(rng: random.Random, shop: str) -> Body:
    """A marketing mail: prices, a promo code, free-shipping claims, no tracking number."""
    code = f"SAVE{rng.randint(10, 40)}"
    items_plain, items_rows = _items(rng)
    foot_plain, foot_html = _footer(rng, shop)
    pitch = (
        f"New season, new gear. For one week only, take {rng.randint(10, 40)}% off with code "
        f"{code} at checkout. Free shipping on orders over ${rng.randint(35, 99)}, and free "
        "returns on every order. Our bestsellers are back in stock in every size."
    )
    plain = f"{shop}\n\n{pitch}\n\nThis week's picks\n{items_plain}\n\n{foot_plain}"
    markup = (
        f"<html><head>{_STYLE}</head><body><h1>{html.escape(shop)}</h1>"
        f'<p>{html.escape(pitch)}</p><a class="btn" href="https://example.com/sale?code={code}">'
        f"Shop the sale</a><table>{items_rows}</table>{foot_html}</body></html>"
    )
    return Body(plain, markup)


def dress_reply(rng: random.Random, body: Body, sender: str, agent: bool) -> Body:
    """Wrap a short reply in what mail clients add: a signature block, a legal notice."""
    if agent:
        signature = (
            f"Kind regards,\n{sender}\nCustomer Care Team\nAcme Retail Ltd · Mon-Fri 9:00-17:30"
            f"\n{_CONFIDENTIAL}"
        )
    else:
        signature = f"Sent from my {rng.choice(('iPhone', 'Galaxy', 'iPad'))}"
    plain = f"{body.plain}\n\n{signature}"
    markup = (
        f'<div dir="ltr">{body.html}<div class="signature">'
        f"{html.escape(signature).replace(chr(10), '<br>')}</div></div>"
    )
    return replace(body, plain=plain, html=markup)  # what the reply says stays the truth
