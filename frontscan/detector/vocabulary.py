"""The words and hosts the detector reads around a number, as data.

Tracking words and carrier names make a nearby match a tracking number; order, phone
and card labels say it is something else; tracking pages and their hosts tie a link to
the carrier whose number it names. The format table itself is in formats.py.
"""

from __future__ import annotations

# Words that make a nearby match a tracking number, and the carrier each name implies.
# Short acronyms (GLS, DPD, SDA) only ever match as whole words.
CARRIER_NAMES: dict[str, str] = {
    "ups": "ups", "fedex": "fedex", "fed ex": "fedex", "usps": "usps", "dhl": "dhl",
    "amazon": "amazon", "amzl": "amazon", "swiship": "amazon", "ontrac": "ontrac",
    "lasership": "lasership", "canada post": "canada_post", "postes canada": "canada_post",
    "canpar": "canpar", "purolator": "purolator", "dpd": "dpd", "dpd polska": "dpd",
    "old dominion": "old_dominion", "odfl": "old_dominion", "landmark": "landmark",
    "spee-dee": "speedee", "speedee": "speedee", "gofo": "gofo", "yodel": "yodel",
    "yunexpress": "yunexpress", "yun express": "yunexpress", "royal mail": "royal_mail",
    "parcelforce": "parcelforce", "deutsche post": "deutsche_post", "dhl paket": "dhl",
    "gls": "gls", "hermes": "hermes", "myhermes": "hermes", "evri": "evri",
    "postnl": "postnl", "colissimo": "colissimo", "la poste": "la_poste",
    "chronopost": "chronopost", "australia post": "australia_post", "auspost": "australia_post",
    "inpost": "inpost", "paczkomat": "inpost", "paczkomaty": "inpost",
    "poste italiane": "poste_italiane", "sda": "sda", "postnord": "postnord",
    "cainiao": "cainiao", "aliexpress": "cainiao", "4px": "4px", "sf express": "sf_express",
    "sf-express": "sf_express", "j&t": "jt_express", "j&t express": "jt_express",
    "tnt": "tnt", "poczta polska": "poczta_polska", "pocztex": "poczta_polska",
    "correos": "correos", "bpost": "bpost", "post.at": "austrian_post",
}  # fmt: skip
TRACKING_WORDS = (
    r"track(?:ing)?|tracked|trace|shipment|shipped|shipping|ship|parcel|package|pkg"
    r"|consignment|deliver(?:y|ed)|courier|carrier|awb|air ?waybill|waybill|pro|label|postal"
    r"|sendungs?(?:nummer|verfolgung|identnummer)?|paket(?:nummer|e)?|versand|verschickt"
    r"|zustellung|lieferung|num[ée]ro de suivi|suivi|colis|livraison|exp[ée]di[ée]e?"
    r"|exp[ée]dition|n[úu]mero de seguimiento|seguimiento|env[íi]o|paquete|rastreo"
    r"|numer przesy[łl]ki|przesy[łl]k[aiy]|paczk[aiy]|[śs]ledzenie|kurier"
    r"|spedizione|pacco|tracciamento|zending|pakket"
)
# Labels that, written right before a number, say it is something else.
OTHER_LABELS = (
    r"order|invoice|inv|ref|reference|po|p\.o\.|purchase order|rma|return authori[sz]ation"
    r"|account|acct|customer|member(?:ship)?|policy|ticket|case|confirmation|receipt"
    r"|transaction|txn|sku|upc|ean|gtin|isbn|asin|mpn|model|serial|part|item|iban|swift|bic"
    r"|routing|bank|total|amount|balance|price|cost|subtotal|paid|coupon|promo|voucher"
    r"|discount|gift card|pin|otp|zip|postcode|postal code|imei|vin|license|licence|ip"
    r"|bestellung|bestellnummer|rechnung|commande|facture|pedido|factura|zam[óo]wienie"
    r"|faktura"
)
PHONE_WORDS = (
    r"tel|telephone|phone|call(?:ed|ing)?|fax|mobile|cell(?:phone)?|sms|text(?:ed)? me"
    r"|whatsapp|contact number|reach me|dial"
)
CARD_WORDS = (
    r"card|ending(?: in)?|ends in|visa|mastercard|master card|amex|american express"
    r"|discover|credit|debit"
)

TRACKING_URLS: dict[str, str] = {
    "ups": "https://www.ups.com/track?tracknum={}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "dhl": "https://www.dhl.com/global-en/home/tracking.html?tracking-id={}",
    "canada_post": "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={}",
    "royal_mail": "https://www.royalmail.com/track-your-item#/tracking-results/{}",
    "purolator": "https://www.purolator.com/en/shipping/tracker?pin={}",
    "ontrac": "https://www.ontrac.com/tracking/?number={}",
    "lasership": "https://www.ontrac.com/tracking/?number={}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{}",
    "amazon": "https://track.amazon.com/tracking/{}",
    "yodel": "https://www.yodel.co.uk/tracking/{}",
    "yunexpress": "https://www.yuntrack.com/parcelTracking?id={}",
    "canpar": "https://www.canpar.com/en/tracking/track.htm?barcode={}",
    "old_dominion": "https://www.odfl.com/us/en/tools/trace-track-ltl-freight/trace.html?proNumbers={}",
    "gls": "https://gls-group.eu/EU/en/parcel-tracking?match={}",
    "hermes": "https://www.myhermes.de/empfangen/sendungsverfolgung/sendungsinformation#{}",
    "evri": "https://www.evri.com/track/parcel/{}",
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "la_poste": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "australia_post": "https://auspost.com.au/mypost/track/details/{}",
    "inpost": "https://inpost.pl/sledzenie-przesylek?number={}",
    "postnord": "https://tracking.postnord.com/en/?id={}",
    "cainiao": "https://global.cainiao.com/detail.htm?mailNoList={}",
    "4px": "https://track.4px.com/#/result/0/{}",
    "poste_italiane": "https://www.poste.it/cerca/index.html#/risultati-spedizioni/{}",
}

# Hosts of carrier tracking pages: a link there naming a number is evidence for it.
TRACKING_HOSTS: dict[str, str] = {
    "ups.com": "ups", "fedex.com": "fedex", "usps.com": "usps", "dhl.com": "dhl",
    "dhl.de": "dhl", "canadapost-postescanada.ca": "canada_post", "canadapost.ca": "canada_post",
    "royalmail.com": "royal_mail", "parcelforce.com": "parcelforce", "purolator.com": "purolator",
    "ontrac.com": "ontrac", "lasership.com": "lasership", "dpd.de": "dpd", "dpd.co.uk": "dpd",
    "dpd.com.pl": "dpd", "dpd.com": "dpd", "dpdgroup.com": "dpd", "track.amazon.com": "amazon",
    "track.amazon.co.uk": "amazon", "track.amazon.de": "amazon", "yodel.co.uk": "yodel",
    "yuntrack.com": "yunexpress", "canpar.com": "canpar", "odfl.com": "old_dominion",
    "landmarkglobal.com": "landmark", "speedeedelivery.com": "speedee",
    "gofoexpress.com": "gofo", "gls-group.eu": "gls", "gls-group.com": "gls",
    "gls-pakete.de": "gls", "gls-spain.es": "gls", "gls-italy.com": "gls",
    "gls-poland.com": "gls", "myhermes.de": "hermes", "hermesworld.com": "hermes",
    "myhermes.co.uk": "evri", "evri.com": "evri", "postnl.nl": "postnl", "laposte.fr": "colissimo",
    "colissimo.fr": "colissimo", "auspost.com.au": "australia_post", "inpost.pl": "inpost",
    "inpost.co.uk": "inpost", "poste.it": "poste_italiane", "sda.it": "sda",
    "postnord.com": "postnord", "postnord.se": "postnord", "postnord.dk": "postnord",
    "cainiao.com": "cainiao", "4px.com": "4px", "sf-express.com": "sf_express",
    "jtexpress.com": "jt_express", "tnt.com": "tnt", "chronopost.fr": "chronopost",
    "correos.es": "correos", "poczta-polska.pl": "poczta_polska",
}  # fmt: skip
