"""Write the carrier-notification corpus: realistic multipart e-mails and what they hold.

Run `python tests/corpus/build.py` to rewrite `tests/corpus/*.eml` and `expected.json`
(numbers come from fixed seeds, so the output is the same every time). Each e-mail is
multipart/alternative like real notifications: an HTML part with tables, spans, tracking
links, tracking pixels and footers full of ids and timestamps, and a plain part that is
complete, a stub ("view this e-mail in your browser") or missing. `expected.json` lists
per file every tracking number with the carrier the e-mail names and whether the
detector alone must store it ("detector") or it is a format the detector does not know,
left to the model ("model").
"""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from frontscan.simulator.samples import layout, printed_groups, valid_number

HERE = Path(__file__).parent


@dataclass(frozen=True)
class Parcel:
    number: str  # normalized
    carrier: str  # the carrier code the e-mail names
    name: str  # how the e-mail names the carrier
    printed: str  # how the e-mail prints the number
    link: str | None  # the carrier tracking link, if the e-mail has one
    via: str = "detector"


def parcel(
    fmt: str, carrier: str, name: str, seed: int, style: str, link: str | None,
    number: str | None = None, via: str = "detector", country: str = "",
) -> Parcel:  # fmt: skip
    value = number or valid_number(fmt, random.Random(seed))
    if country:
        value = value[:-2] + country  # the S10 check digit does not cover the country
    if style == "fours":
        shown = printed_groups(value)
    elif style == "threes":
        shown = layout(value, (3,) * 14)
    elif style == "ups":
        shown = layout(value, (2, 3, 3, 2, 4, 3, 1))
    elif style == "dpd":
        shown = layout(value, (4, 3, 4, 4, 4, 2, 3, 3, 1))
    elif style == "s10":
        shown = layout(value, (2, 3, 3, 3, 2))
    elif style == "nbsp":
        shown = printed_groups(value).replace(" ", "\u00a0")
    elif style == "dash":
        shown = printed_groups(value).replace(" ", "-")
    else:
        shown = value
    return Parcel(value, carrier, name, shown, link.format(value) if link else None, via)


UPS = "https://www.ups.com/track?loc=en_US&tracknum={}&requester=ST/trackdetails"
FEDEX = "https://www.fedex.com/fedextrack/?trknbr={}&trkqual=12029~FDEG"
USPS = "https://tools.usps.com/go/TrackConfirmAction?qtc_tLabels1={}"
DHL_DE = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode={}"
DHL = "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={}"
GLS = "https://gls-group.eu/DE/de/paketverfolgung?match={}"
HERMES = "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{}"
EVRI = "https://www.evri.com/track/parcel/{}/details"
DPD = "https://tracking.dpd.de/status/de_DE/parcel/{}"
DPD_PL = "https://tracktrace.dpd.com.pl/parcelDetails?p1={}"
INPOST = "https://inpost.pl/sledzenie-przesylek?number={}"
LAPOSTE = "https://www.laposte.fr/outils/suivre-vos-envois?code={}"
POSTNL = "https://jouw.postnl.nl/track-and-trace/{}-NL-1234AB"
ROYAL = "https://www.royalmail.com/track-your-item#/tracking-results/{}"
AUSPOST = "https://auspost.com.au/mypost/track/details/{}"
CORREOS = "https://www.correos.es/es/es/herramientas/localizador/envios/detalle?tracking-number={}"
AMAZON = "https://track.amazon.co.uk/tracking/{}"
CAINIAO = "https://global.cainiao.com/detail.htm?mailNoList={}"
POSTNORD = "https://tracking.postnord.com/en/?id={}"
CANPOST = "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}"

WORDS = {
    "en": ("Your order has shipped", "Tracking number", "Carrier", "Track your parcel",
           "Order", "Questions? Call us on", "View this email in your browser",
           "You received this e-mail because you shopped with us. Unsubscribe"),
    "de": ("Ihre Bestellung wurde versandt", "Sendungsnummer", "Versanddienstleister",
           "Sendung verfolgen", "Bestellnummer", "Fragen? Rufen Sie uns an unter",
           "E-Mail im Browser ansehen", "Sie erhalten diese E-Mail als Kunde. Abmelden"),
    "fr": ("Votre commande a été expédiée", "Numéro de suivi", "Transporteur",
           "Suivre mon colis", "Commande", "Une question ? Appelez le",
           "Voir cet e-mail dans votre navigateur", "Se désabonner"),
    "es": ("Tu pedido ha sido enviado", "Número de seguimiento", "Transportista",
           "Seguir mi envío", "Pedido", "¿Dudas? Llámanos al",
           "Ver este correo en el navegador", "Darse de baja"),
    "pl": ("Twoje zamówienie zostało wysłane", "Numer przesyłki", "Przewoźnik",
           "Śledź przesyłkę", "Zamówienie", "Pytania? Zadzwoń pod numer",
           "Zobacz wiadomość w przeglądarce", "Wypisz się"),
}  # fmt: skip
PHONES = {"en": "+1 (800) 555-0199", "de": "+49 30 1234 5678", "fr": "01 23 45 67 89",
          "es": "+34 912 345 678", "pl": "+48 22 123 45 67"}  # fmt: skip


@dataclass(frozen=True)
class Mail:
    name: str
    lang: str
    shop: str
    sender: str
    parcels: tuple[Parcel, ...]
    plain: str = "full"  # "full", "stub" or "none"
    tags: str = "cells"  # "cells", "spans" (number split into <span>s) or "list"
    prose: str = ""  # an extra paragraph (carrier wording, distractors)


def _order(rng: random.Random, lang: str) -> str:
    if lang == "en":
        middle, last = rng.randint(10**6, 10**7 - 1), rng.randint(10**6, 10**7 - 1)
        return f"{rng.randint(100, 999)}-{middle}-{last}"
    return str(rng.randint(10**9, 10**10 - 1))


def _number_html(p: Parcel, tags: str) -> str:
    if tags == "spans":
        shown = "".join(
            f'<span style="font-family:monospace">{html.escape(g)}</span>'
            for g in p.printed.replace("\u00a0", " ").split(" ")
        )
    else:
        shown = html.escape(p.printed).replace("\u00a0", "&nbsp;")
    if p.link:
        return f'<a href="{html.escape(p.link)}" style="color:#0645ad">{shown}</a>'
    return f"<strong>{shown}</strong>"


def render(mail: Mail, index: int) -> tuple[EmailMessage, list[dict[str, str]]]:
    rng = random.Random(index)
    words = WORDS[mail.lang]
    subject, label, carrier_word, track, order_word, call, browser, footer = words
    order = _order(rng, mail.lang)
    stamp = 1733000000 + rng.randint(0, 10**6)
    campaign = rng.randint(10**13, 10**14 - 1)
    pixel = (
        f"https://click.mail.example.net/open/{campaign}/{stamp}.gif?u={rng.randint(10**9, 10**10)}"
    )
    browser_link = (
        f"https://view.mail.example.net/v/{campaign}?ts={stamp}&sig={rng.getrandbits(64):x}"
    )
    rows = []
    lines = []
    for p in mail.parcels:
        if mail.tags == "list":
            rows.append(f"<li>{html.escape(p.name)}: {_number_html(p, mail.tags)}</li>")
        else:
            rows.append(
                f'<tr><td style="padding:4px"><img src="https://cdn.mail.example.net/logo/{p.carrier}.png"'
                f' alt="" width="40"> {html.escape(p.name)}</td>'
                f'<td style="padding:4px">{_number_html(p, mail.tags)}</td>'
                f'<td style="padding:4px"><a href="{html.escape(p.link or browser_link)}">'
                f"{html.escape(track)}</a></td></tr>"
            )
        lines.append(f"{carrier_word}: {p.name}\n{label}: {p.printed}")
        if p.link:
            lines.append(f"{track}: {p.link}")
    table = (
        f"<ul>{''.join(rows)}</ul>" if mail.tags == "list" else
        f'<table role="presentation" cellpadding="0" cellspacing="0" width="100%">'
        f'<tr><th align="left">{html.escape(carrier_word)}</th>'
        f'<th align="left">{html.escape(label)}</th><th></th></tr>'
        f"{''.join(rows)}</table>"
    )  # fmt: skip
    prose = f"<p>{html.escape(mail.prose)}</p>" if mail.prose else ""
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>td{font-size:14px}</style></head>'
        f'<body><div style="display:none">{html.escape(subject)} &zwnj;&nbsp;</div>'
        f'<table width="600" align="center"><tr><td><a href="{browser_link}">'
        f"{html.escape(browser)}</a></td></tr>"
        f'<tr><td><h1 style="font-size:20px">{html.escape(mail.shop)}</h1>'
        f"<p>{html.escape(subject)}! {html.escape(order_word)} #{order}</p>{prose}{table}"
        f'<p style="font-size:11px;color:#777">{html.escape(call)} {PHONES[mail.lang]}.<br>'
        f"{html.escape(mail.shop)} · {rng.randint(1, 99)} Market Street · "
        f"{rng.randint(10000, 99999)}<br>"
        f'<a href="https://mail.example.net/unsub/{campaign}/{stamp}">{html.escape(footer)}</a></p>'
        f'<img src="{pixel}" width="1" height="1" alt=""></td></tr></table></body></html>'
    )  # fmt: skip
    plain_full = (
        f"{browser}: {browser_link}\n\n{mail.shop}\n\n{subject}! {order_word} #{order}\n\n"
        + (f"{mail.prose}\n\n" if mail.prose else "")
        + "\n\n".join(lines)
        + f"\n\n{call} {PHONES[mail.lang]}.\n{footer}: https://mail.example.net/unsub/{campaign}/{stamp}\n"
    )
    message = EmailMessage()
    message["From"] = f"{mail.shop} <{mail.sender}>"
    message["To"] = "Dana Ortiz <dana.ortiz@example.org>"
    message["Subject"] = f"{subject} - {order_word} #{order}"
    sent = datetime(2026, 1, 5, 9, 30, tzinfo=UTC) + timedelta(hours=7 * index)
    message["Date"] = format_datetime(sent)
    message["Message-ID"] = f"<corpus.{index}.{campaign}@mail.example.net>"
    if mail.plain == "none":
        message.set_content(body, subtype="html")
    else:
        stub = f"{browser}: {browser_link}\n\n{footer}\n"
        message.set_content(plain_full if mail.plain == "full" else stub)
        message.add_alternative(body, subtype="html")
        message.set_boundary(f"=_corpus_{index}_{campaign}")
    expected = [
        {"tracking_number": p.number, "carrier": p.carrier, "via": p.via} for p in mail.parcels
    ]
    return message, expected


def mails() -> list[Mail]:
    P = parcel
    return [
        Mail(
            "01-ups-layout-en",
            "en",
            "Northwind Outfitters",
            "orders@northwind.example",
            (P("ups", "ups", "UPS", 1, "ups", UPS),),
            plain="stub",
        ),
        Mail(
            "02-ups-fedex-usps-en",
            "en",
            "Bluebird Home",
            "ship@bluebird.example",
            (
                P("ups", "ups", "UPS Ground", 2, "plain", UPS),
                P("fedex_12", "fedex", "FedEx", 3, "fours", FEDEX),
                P("usps_impb_n", "usps", "USPS", 4, "fours", USPS),
            ),
            tags="spans",
        ),
        Mail(
            "03-fedex-smartpost-en",
            "en",
            "Peak Cycles",
            "noreply@peakcycles.example",
            (P("usps_impb_c", "fedex", "FedEx Ground Economy (SmartPost)", 5, "fours", FEDEX),),
            plain="stub",
        ),
        Mail(
            "04-usps-routing-en",
            "en",
            "Lumen Audio",
            "store@lumen.example",
            (
                P(
                    "usps_impb_c",
                    "usps",
                    "USPS Priority Mail",
                    6,
                    "plain",
                    USPS,
                    number="420221539101026837331000039521",
                ),
            ),
            plain="none",
        ),
        Mail(
            "05-amazon-uk-en",
            "en",
            "Amazon.co.uk",
            "shipment-tracking@amazon.co.uk",
            (
                P("amazon_uk", "amazon", "Amazon", 7, "plain", AMAZON),
                P("amazon_logistics", "amazon", "Amazon Logistics", 8, "plain", AMAZON),
            ),
            prose="Your package will be delivered by Amazon. Arriving Tuesday 14 January.",
        ),
        Mail(
            "06-royal-mail-en",
            "en",
            "Maple & Co",
            "hello@maple.example",
            (
                P(
                    "s10",
                    "royal_mail",
                    "Royal Mail Tracked 24",
                    9,
                    "s10",
                    ROYAL,
                    number="TQ071537693GB",
                ),
            ),
            tags="list",
            plain="stub",
        ),
        Mail(
            "07-evri-en",
            "en",
            "Maple & Co",
            "hello@maple.example",
            (P("evri", "evri", "Evri", 10, "fours", EVRI),),
            prose="Your Evri courier will deliver your parcel today between 10:15 and 12:15.",
        ),
        Mail(
            "08-hermes-uk-en",
            "en",
            "Lumen Audio",
            "store@lumen.example",
            (P("evri_h", "evri", "Evri (Hermes)", 11, "plain", EVRI),),
            plain="stub",
        ),
        Mail(
            "09-dhl-express-en",
            "en",
            "Atlas Packaging Inc",
            "dispatch@atlas.example",
            (P("dhl_express", "dhl", "DHL Express", 12, "plain", DHL),),
            prose="DHL Express waybill attached. Pickup at 14:30, 3 pallets, 420 kg.",
        ),
        Mail(
            "10-canada-post-en",
            "en",
            "Northwind Outfitters",
            "orders@northwind.example",
            (
                P("canada_post", "canada_post", "Canada Post", 13, "fours", CANPOST),
                P("purolator_numeric", "purolator", "Purolator", 14, "threes", None),
            ),
            tags="spans",
        ),
        Mail(
            "11-australia-post-en",
            "en",
            "Bluebird Home",
            "ship@bluebird.example",
            (P("australia_post", "australia_post", "Australia Post", 15, "plain", AUSPOST),),
            plain="stub",
        ),
        Mail(
            "12-yodel-dpd-uk-en",
            "en",
            "Peak Cycles",
            "noreply@peakcycles.example",
            (
                P("yodel", "yodel", "Yodel", 16, "plain", None),
                P("dpd_14", "dpd", "DPD", 17, "fours", DPD),
            ),
        ),
        Mail(
            "13-dhl-paket-de",
            "de",
            "Kessler Industrie GmbH",
            "versand@kessler.example",
            (P("dhl_paket_sscc", "dhl", "DHL Paket", 18, "fours", DHL_DE),),
            plain="stub",
        ),
        Mail(
            "14-dhl-identcode-de",
            "de",
            "Kessler Industrie GmbH",
            "versand@kessler.example",
            (P("dhl_paket", "dhl", "DHL", 19, "threes", DHL_DE),),
            tags="spans",
        ),
        Mail(
            "15-gls-de",
            "de",
            "Gartenwelt Shop",
            "info@gartenwelt.example",
            (P("gls", "gls", "GLS", 20, "plain", GLS, number="364123734778"),),
            prose="Ihr Paket wird von GLS zugestellt. Zustellung am 12.01.2026, 9 bis 13 Uhr.",
        ),
        Mail(
            "16-hermes-de",
            "de",
            "Gartenwelt Shop",
            "info@gartenwelt.example",
            (P("hermes_de", "hermes", "Hermes", 21, "fours", HERMES),),
            plain="none",
        ),
        Mail(
            "17-dpd-28-de",
            "de",
            "Technikhaus",
            "service@technikhaus.example",
            (P("dpd", "dpd", "DPD", 22, "dpd", DPD), P("dpd", "dpd", "DPD", 23, "dpd", DPD)),
            tags="spans",
            plain="stub",
        ),
        Mail(
            "18-dhl-ups-de",
            "de",
            "Technikhaus",
            "service@technikhaus.example",
            (
                P("dhl_paket_sscc", "dhl", "DHL", 24, "plain", DHL_DE),
                P("ups", "ups", "UPS Standard", 25, "nbsp", UPS),
            ),
        ),
        Mail(
            "19-deutsche-post-de",
            "de",
            "Buchladen Meier",
            "post@buchladen.example",
            (
                P(
                    "s10",
                    "deutsche_post",
                    "Deutsche Post Einschreiben",
                    26,
                    "s10",
                    DHL_DE,
                    number="CU707538487DE",
                ),
            ),
            plain="stub",
        ),
        Mail(
            "20-colissimo-fr",
            "fr",
            "Maison Dubois",
            "contact@dubois.example",
            (
                P(
                    "colissimo",
                    "colissimo",
                    "Colissimo",
                    27,
                    "plain",
                    LAPOSTE,
                    number="6A15602676300",
                ),
            ),
            prose="Votre colis sera livré demain avant 13h.",
        ),
        Mail(
            "21-colissimo-two-fr",
            "fr",
            "Maison Dubois",
            "contact@dubois.example",
            (
                P(
                    "colissimo",
                    "colissimo",
                    "Colissimo",
                    28,
                    "plain",
                    LAPOSTE,
                    number="6A15602683841",
                ),
                P(
                    "colissimo",
                    "colissimo",
                    "Colissimo",
                    29,
                    "plain",
                    LAPOSTE,
                    number="6M17554710224",
                ),
            ),
            tags="spans",
            plain="stub",
        ),
        Mail(
            "22-chronopost-s10-fr",
            "fr",
            "Librairie Rossi",
            "libri@rossi.example",
            (
                P(
                    "s10",
                    "post_fr",
                    "La Poste Lettre recommandée internationale",
                    30,
                    "s10",
                    LAPOSTE,
                    country="FR",
                ),
            ),
            plain="none",
        ),
        Mail(
            "23-dpd-fr",
            "fr",
            "Librairie Rossi",
            "libri@rossi.example",
            (P("dpd_14", "dpd", "DPD France", 31, "plain", DPD),),
            prose="Votre colis DPD Predict arrive le 14/01/2026 entre 10h et 11h.",
        ),
        Mail(
            "24-correos-es",
            "es",
            "Tienda Sol",
            "pedidos@tiendasol.example",
            (P("s10", "post_es", "Correos", 32, "s10", CORREOS, country="ES"),),
            plain="stub",
        ),
        Mail(
            "25-seur-ups-es",
            "es",
            "Tienda Sol",
            "pedidos@tiendasol.example",
            (
                P("ups", "ups", "UPS", 33, "fours", UPS),
                P("fedex_ground", "fedex", "FedEx", 34, "fours", FEDEX),
            ),
            tags="spans",
        ),
        Mail(
            "26-gls-es",
            "es",
            "Deportes Norte",
            "envios@deportesnorte.example",
            (P("gls", "gls", "GLS Spain", 35, "plain", GLS),),
            plain="none",
            prose="Tu envío GLS llegará el lunes. Horario de entrega 9:00-14:00.",
        ),
        Mail(
            "27-inpost-pl",
            "pl",
            "Sklep Zielony",
            "sklep@zielony.example",
            (
                P(
                    "inpost",
                    "inpost",
                    "InPost Paczkomat",
                    36,
                    "fours",
                    INPOST,
                    number="643400489231636126555740",
                ),
            ),
            plain="stub",
            prose="Kurier InPost: Twoja paczka jest w drodze do Paczkomatu WAW12M.",
        ),
        Mail(
            "28-dpd-pl",
            "pl",
            "Sklep Zielony",
            "sklep@zielony.example",
            (P("dpd_pl", "dpd", "DPD Polska", 37, "plain", DPD_PL, number="1000727398456U"),),
            prose="Przesyłka DPD zostanie doręczona jutro.",
        ),
        Mail(
            "29-inpost-dpd-pl",
            "pl",
            "Elektro Nowak",
            "biuro@nowak.example",
            (
                P("inpost", "inpost", "InPost", 38, "plain", INPOST),
                P("dpd_pl", "dpd", "DPD", 39, "plain", DPD_PL),
            ),
            tags="spans",
        ),
        Mail(
            "30-poczta-s10-pl",
            "pl",
            "Elektro Nowak",
            "biuro@nowak.example",
            (P("s10", "post_pl", "Poczta Polska", 40, "s10", None, country="PL"),),
            plain="none",
        ),
        Mail(
            "31-cainiao-en",
            "en",
            "AliExpress",
            "transaction@notice.aliexpress.com",
            (
                P("cainiao", "cainiao", "Cainiao", 41, "plain", CAINIAO),
                P("yunexpress", "yunexpress", "YunExpress", 42, "plain", None),
            ),
            plain="stub",
        ),
        Mail(
            "32-postnl-nl-en",
            "en",
            "Bloemen Shop",
            "info@bloemen.example",
            (P("postnl", "postnl", "PostNL", 43, "plain", POSTNL, number="3SOVAC7567398"),),
            prose="PostNL delivers your parcel tomorrow between 14:00 and 16:30.",
        ),
        Mail(
            "33-postnord-en",
            "en",
            "Nordic Wool",
            "hej@nordicwool.example",
            (
                P(
                    "dhl_paket_sscc",
                    "postnord",
                    "PostNord",
                    44,
                    "fours",
                    POSTNORD,
                    number="00373400306297064918",
                ),
            ),
            plain="stub",
        ),
        Mail(
            "34-unknown-formats-en",
            "en",
            "Peak Cycles",
            "noreply@peakcycles.example",
            (
                P(
                    "",
                    "australia_post",
                    "Australia Post eParcel",
                    45,
                    "plain",
                    AUSPOST,
                    number="33LPV202812301000960601",
                ),
                P(
                    "",
                    "startrack",
                    "StarTrack",
                    47,
                    "plain",
                    None,
                    number="ABC1234567",
                    via="model",
                ),
                P(
                    "",
                    "parcelforce",
                    "Parcelforce Worldwide",
                    46,
                    "plain",
                    None,
                    number="PBPV7951955001",
                    via="model",
                ),
            ),
            plain="stub",
        ),
    ]


def main() -> None:
    expected: dict[str, list[dict[str, str]]] = {}
    for old in HERE.glob("*.eml"):
        old.unlink()
    for index, mail in enumerate(mails()):
        message, numbers = render(mail, index)
        (HERE / f"{mail.name}.eml").write_bytes(bytes(message))
        expected[f"{mail.name}.eml"] = numbers
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
