"""The tracking-number format table: every v2.0.0 format as data, written from the reference.

Patterns match a *normalized* string in full (upper case, no spaces or dashes); the
detector decides separately which pieces of text may be joined into one string. A format
is valid when one of its patterns matches, the check character agrees and, for S10, the
country is a postal operator. Facts: shared/reference/tracking-numbers.md §2-§4.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from frontscan.detector.checkdigits import Checksum

# ISO 3166 alpha-2 codes of UPU members and territories that issue their own S10 numbers.
_UPU_MEMBERS = """
    DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG
    MW ML MR MU MA MZ NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW
    AG AR BS BB BZ BO BR CA CL CO CR CU DM DO EC SV GD GT GY HT HN JM MX NI PA PY PE KN LC VC
    SR TT US UY VE AW CW SX
    AF AM AZ BH BD BT BN KH CN CY GE IN ID IR IQ IL JP JO KZ KW KG LA LB MY MV MN MM NP KP OM
    PK PH QA SA SG KR LK SY TJ TH TL TR TM AE UZ VN YE HK MO
    AL AT BY BE BA BG HR CZ DK EE FI FR DE GR HU IS IE IT LV LI LT LU MT MD MC ME NL MK NO PL
    PT RO RU SM RS SK SI ES SE CH UA GB VA GI FO GL
    AU FJ KI NR NZ PG WS SB TO TV VU NC PF
"""
UPU_COUNTRIES = frozenset(_UPU_MEMBERS.split())
_S10_OPERATORS = {"US": "usps", "GB": "royal_mail", "CA": "canada_post", "DE": "deutsche_post"}

_FEDEX_12_WEIGHTS = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_FEDEX_34_WEIGHTS = (1, 7, 3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_ZIP = r"(?:420(?:\d{5}|\d{9}))?"  # the optional USPS routing prefix: 420 + ZIP5 or ZIP+4


@dataclass(frozen=True, slots=True)
class Prepend:
    """Glue `content` onto the serial before the checksum when the serial matches `when`."""

    when: re.Pattern[str]
    content: str


@dataclass(frozen=True, slots=True)
class Format:
    """One tracking-number format.

    `lengths` are the normalized lengths it can have (a cheap pre-filter); `layouts` are
    group lengths a carrier prints it in besides equal groups (`1Z 999 AA1 01 2345 6784`).
    `needs_keyword`: the shape alone proves too little (no check digit; DHL's mod 7 on
    numbers shaped like phone numbers; UPS Waybill's one-in-ten check on letter + 10
    digits, a common code shape), so it is storable only next to a tracking keyword.
    `fail_hint`: the shape is distinctive enough that a failing check is worth a hint.
    `needs_brand`: the shape collides with other formats (GLS and DHL Paket 12 digits,
    Hermes 14, Evri 16, the "00" SSCC of DHL/PostNord, InPost 24), so only the carrier's
    own name or tracking link makes it this format; elsewhere it is not tried at all.
    `also`: other carriers that print numbers of this format (FedEx Ground Economy and
    DHL eCommerce on USPS IMpb labels): named next to the number, they are credited.
    `priority` breaks ties when one string is valid in two formats.
    `extra`: from carrier-formats-more.md rather than the jkeen v2.0.0 data.
    """

    id: str
    carrier: str
    name: str
    patterns: tuple[re.Pattern[str], ...]
    lengths: frozenset[int]
    checksum: Checksum | None = None
    prepend: Prepend | None = None
    layouts: tuple[tuple[int, ...], ...] = ()
    needs_keyword: bool = False
    fail_hint: bool = False
    priority: int = 0
    countries: frozenset[str] | None = field(default=None)
    needs_brand: bool = False
    also: tuple[str, ...] = ()
    extra: bool = False

    @property
    def has_check_digit(self) -> bool:
        return self.checksum is not None

    def check(self, number: str) -> tuple[bool | None, str] | None:
        """Match a normalized number in full: None if no pattern fits, else (valid, carrier).

        `valid` is None for formats without a check digit. When several parses fit (USPS
        routing prefixes), any parse whose check agrees makes the number valid.
        """
        result: tuple[bool | None, str] | None = None
        for pattern in self.patterns:
            match = pattern.fullmatch(number)
            if match is None:
                continue
            carrier = self.carrier
            if self.countries is not None:
                country = match["country"]
                if country not in self.countries:
                    continue
                carrier = _S10_OPERATORS.get(country, f"post_{country.lower()}")
            if self.checksum is None:
                return None, carrier
            serial = match["serial"]
            if self.prepend is not None and self.prepend.when.match(serial):
                serial = self.prepend.content + serial
            if self.checksum.expected(serial) == match["check"]:
                return True, carrier
            result = (False, carrier)
        return result


def _fmt(
    id_: str,
    carrier: str,
    name: str,
    patterns: str | tuple[str, ...],
    lengths: range | set[int],
    *,
    checksum: Checksum | None = None,
    prepend: Prepend | None = None,
    layouts: tuple[tuple[int, ...], ...] = (),
    needs_keyword: bool = False,
    fail_hint: bool = False,
    priority: int = 0,
    countries: frozenset[str] | None = None,
    needs_brand: bool = False,
    also: tuple[str, ...] = (),
    extra: bool = False,
) -> Format:
    sources = (patterns,) if isinstance(patterns, str) else patterns
    return Format(
        id_, carrier, name, tuple(re.compile(p, re.ASCII) for p in sources), frozenset(lengths),
        checksum, prepend, layouts, needs_keyword or needs_brand, fail_hint, priority,
        countries, needs_brand, also, extra,
    )  # fmt: skip


def _mod10(evens: int, odds: int, reverse: bool = False) -> Checksum:
    return Checksum("mod10", evens=evens, odds=odds, reverse=reverse)


def _usps_lengths(*tracking: int) -> set[int]:
    return {t + prefix for t in tracking for prefix in (0, 8, 12)}


_CHECK = r"(?P<check>\d)"
_GS1 = _mod10(3, 1, reverse=True)  # GS1 mod 10: weight 3 on the digit next to the check
# fmt: off
FORMATS: tuple[Format, ...] = (
    _fmt("ups", "ups", "UPS", r"1Z(?P<serial>[0-9A-Z]{15})" + _CHECK, {18},
         checksum=_mod10(1, 2), layouts=((2, 3, 3, 2, 4, 4), (2, 6, 2, 8), (2, 3, 3, 2, 4, 3, 1)),
         fail_hint=True,
         priority=5),
    _fmt("ups_waybill", "ups", "UPS Waybill", r"[AHJKTV](?P<serial>\d{9})" + _CHECK, {11},
         checksum=_mod10(1, 2), needs_keyword=True, priority=2),
    _fmt("fedex_12", "fedex", "FedEx Express (12)", r"(?P<serial>\d{11})" + _CHECK, {12},
         checksum=Checksum("sum_product", weights=_FEDEX_12_WEIGHTS), priority=3),
    _fmt("fedex_34", "fedex", "FedEx Express (34)", r"[0-8]\d{14}\d{5}(?P<serial>\d{13})" + _CHECK,
         {34}, checksum=Checksum("sum_product", weights=_FEDEX_34_WEIGHTS), priority=3),
    _fmt("fedex_astra_32", "fedex", "FedEx ASTRA (32)", r"3\d{15}(?P<serial>\d{11})" + _CHECK +
         r"\d{4}", {32}, checksum=Checksum("sum_product", weights=_FEDEX_12_WEIGHTS), priority=3),
    _fmt("fedex_ground", "fedex", "FedEx Ground", r"(?P<serial>\d{14})" + _CHECK, {15},
         checksum=_mod10(1, 3), priority=3),
    _fmt("fedex_ground_sscc_18", "fedex", "FedEx Ground SSCC-18",
         r"\d{2}(?P<serial>\d{15})" + _CHECK, {18}, checksum=_mod10(3, 1), priority=2),
    _fmt("fedex_ground_96", "fedex", "FedEx Ground 96 (22)",
         r"96\d{2}\d{3}(?P<serial>\d{14})" + _CHECK, {22}, checksum=_mod10(1, 3), fail_hint=True,
         priority=3),
    _fmt("fedex_ground_gsn", "fedex", "FedEx Ground GSN",
         r"96\d{2}\d{5}\d{10}\d(?P<serial>\d{13})" + _CHECK, {34},
         checksum=Checksum("sum_product", weights=_FEDEX_34_WEIGHTS), priority=3),
    _fmt("usps_20", "usps", "USPS 20", r"(?P<serial>\d{19})" + _CHECK, {20},
         checksum=_mod10(3, 1), priority=3),
    _fmt("usps_impb_n", "usps", "USPS IMpb N",
         _ZIP + r"(?P<serial>94\d{3}(?:9\d{8}(?:\d{7}|\d{11}|\d{15})|[0-8]\d{5}(?:\d{10}|\d{14}"
         r"|\d{18})))" + _CHECK, _usps_lengths(22, 26, 30),
         checksum=_mod10(3, 1, reverse=True), fail_hint=True, priority=4, also=("fedex", "dhl")),
    _fmt("usps_legacy", "usps", "USPS Legacy", _ZIP + r"(?P<serial>(?:91)?\d{19})" + _CHECK,
         _usps_lengths(20, 22), checksum=_mod10(3, 1),
         prepend=Prepend(re.compile(r"\d{19}$", re.ASCII), "91"), priority=3),
    _fmt("usps_impb_c", "usps", "USPS IMpb C",
         _ZIP + r"(?P<serial>(?:92\d{3}9\d{8}(?:\d{7}|\d{11})|93\d{3}[0-8]\d{5}(?:\d{10}|\d{14})"
         r"|95\d{3}(?:\d{16}|\d{20})))" + _CHECK, _usps_lengths(22, 26),
         checksum=_mod10(3, 1), fail_hint=True, priority=4, also=("fedex", "dhl")),
    _fmt("s10", "s10", "UPU S10", r"[A-Z]{2}(?P<serial>\d{8})" + _CHECK + r"(?P<country>[A-Z]{2})",
         {13}, checksum=Checksum("s10"), countries=UPU_COUNTRIES, fail_hint=True, priority=5,
         layouts=((2, 3, 3, 3, 2), (2, 9, 2), (2, 8, 1, 2), (2, 4, 4, 1, 2), (2, 3, 3, 2, 2))),
    _fmt("dhl_express", "dhl", "DHL Express", r"(?P<serial>\d{9,10})" + _CHECK, {10, 11},
         checksum=Checksum("mod7"), needs_keyword=True, priority=1),
    _fmt("dhl_express_piece_id", "dhl", "DHL Express Piece ID", r"J[A-Z]{2,3}\d{9,10}",
         range(12, 15), layouts=((3, 9), (3, 10), (4, 9), (4, 10)), needs_keyword=True,
         priority=2),
    _fmt("dhl_ecommerce", "dhl", "DHL eCommerce",
         r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)\d[0-9A-Z]{9,38}", range(12, 42), needs_keyword=True),
    _fmt("dhl_ecommerce_14", "dhl", "DHL eCommerce (14)", r"\d{14}", {14}, needs_keyword=True),
    _fmt("amazon_logistics", "amazon", "Amazon Logistics", r"TB[ACM]\d{12}", {15},
         layouts=((3, 12), (3, 4, 4, 4)), needs_keyword=True, priority=4),
    _fmt("amazon_international", "amazon", "Amazon International", r"[AFC]\d{10}", {11},
         needs_keyword=True),
    _fmt("ontrac_c", "ontrac", "OnTrac C", r"C(?P<serial>\d{13})" + _CHECK, {15},
         checksum=_mod10(1, 2), prepend=Prepend(re.compile(r"[0-35-9]"), "4"), fail_hint=True,
         priority=4),
    _fmt("ontrac_d", "ontrac", "OnTrac D", r"D(?P<serial>\d{13})" + _CHECK, {15},
         checksum=_mod10(1, 2), prepend=Prepend(re.compile(r"[0-46-9]"), "5"), fail_hint=True,
         priority=4),
    _fmt("lasership_lx", "lasership", "LaserShip LX", r"L[AIEHNX][1-3]\d{7}", {10},
         needs_keyword=True, priority=2),
    _fmt("lasership_1ls7", "lasership", "LaserShip 1LS7 (15)", r"1LS7[12]\d{10}", {15},
         needs_keyword=True, priority=2),
    _fmt("lasership_1ls7_18", "lasership", "LaserShip 1LS7 (18)", r"1LS7[12]\d{2}01[1-4]\d{6}1",
         {17}, layouts=((16, 1),), needs_keyword=True, priority=2),
    _fmt("lasership_1lscx", "lasership", "LaserShip 1LSCX", r"1LSCX[0-9A-Z]{10}", {15},
         needs_keyword=True, priority=2),
    _fmt("canada_post", "canada_post", "Canada Post (16)", r"(?P<serial>\d{15})" + _CHECK, {16},
         checksum=_mod10(3, 1), priority=3),
    _fmt("canpar_22", "canpar", "Canpar (22)", r"[CDKLSUXZ]\d{21}", {22}, needs_keyword=True,
         priority=2),
    _fmt("purolator_numeric", "purolator", "Purolator (12)", r"(?P<serial>[0-5]\d{10})" + _CHECK,
         {12}, checksum=Checksum("luhn"), priority=2),
    _fmt("purolator_alpha", "purolator", "Purolator", r"[A-Z]{3}\d{9}", {12}, needs_keyword=True,
         priority=1),
    _fmt("dpd", "dpd", "DPD (28)", r"(?P<serial>\d{27})(?P<check>[0-9A-Z])", {28},
         checksum=Checksum("mod37_36"), fail_hint=True, priority=3),
    _fmt("dpd_14", "dpd", "DPD (14)", r"(?P<serial>\d{14})(?P<check>[0-9A-Z])", {15},
         checksum=Checksum("mod37_36"), priority=2),
    _fmt("old_dominion", "old_dominion", "Old Dominion",
         r"(?P<serial>(?:778|777|072|780)\d{7})" + _CHECK, {11}, checksum=Checksum("luhn"),
         priority=4),
    _fmt("old_dominion_guaranteed", "old_dominion", "Old Dominion Guaranteed",
         r"(?P<serial>80\d{8})" + _CHECK, {11}, checksum=Checksum("luhn"), priority=4),
    _fmt("landmark_global", "landmark", "Landmark Global", r"LTN\d{8}N1", {13},
         needs_keyword=True, priority=3),
    _fmt("speedee", "speedee", "Spee-Dee", r"SP\d{18}", {20}, needs_keyword=True, priority=3),
    _fmt("gofo_us", "gofo", "GOFO Express", r"GFUS\d{14}", {18}, needs_keyword=True, priority=3),
    _fmt("yodel", "yodel", "Yodel", r"JJ?D\d{16}", {18, 19}, needs_keyword=True, priority=3),
    _fmt("yunexpress", "yunexpress", "YunExpress", r"YT\d{16}", {18}, needs_keyword=True,
         priority=3),
    # carrier-formats-more.md: check digits where §1-§2 give one, shape only otherwise (§3).
    _fmt("gls", "gls", "GLS", r"(?P<serial>\d{11})" + _CHECK, {12}, checksum=Checksum("gls"),
         needs_brand=True, extra=True),
    _fmt("gls_11", "gls", "GLS (11)", r"\d{11}", {11}, needs_brand=True, extra=True),
    _fmt("dhl_paket", "dhl", "DHL Paket", r"(?P<serial>\d{11})" + _CHECK, {12},
         checksum=_mod10(4, 9), needs_brand=True, extra=True),
    _fmt("dhl_paket_sscc", "dhl", "DHL Paket (SSCC)", r"00(?P<serial>3\d{16})" + _CHECK, {20},
         checksum=_mod10(3, 1), needs_brand=True, priority=4, also=("postnord",), extra=True),
    _fmt("dhl_paket_jjd", "dhl", "DHL Paket (JJD)", r"JJD\d{13,24}", range(16, 28),
         needs_keyword=True, priority=1, extra=True),
    _fmt("hermes_de", "hermes", "Hermes", r"(?P<serial>\d{13})" + _CHECK, {14},
         checksum=_mod10(3, 1), needs_brand=True, extra=True),
    _fmt("hermes_h", "hermes", "Hermes (H)", r"H\d{19,20}", {20, 21}, needs_keyword=True,
         priority=2, extra=True),
    _fmt("evri", "evri", "Evri", r"\d{16}", {16}, needs_brand=True, also=("hermes",),
         extra=True),
    _fmt("evri_h", "evri", "Evri (H)", r"H\d{2}[A-Z]{3}\d{10}", {16}, needs_keyword=True,
         priority=2, also=("hermes",), extra=True),
    _fmt("colissimo", "colissimo", "Colissimo", r"\d[A-Z](?P<serial>\d{10})" + _CHECK, {13},
         checksum=_GS1, needs_keyword=True, priority=3, also=("la_poste",), extra=True),
    _fmt("postnl", "postnl", "PostNL", r"3S[A-Z]{4}(?:\d{7}|\d{9})", {13, 15},
         needs_keyword=True, priority=3, extra=True),
    _fmt("australia_post", "australia_post", "Australia Post",
         (r"99\d{21}", r"[A-Z0-9]{3}\d{13}", r"33[A-Z]{3}\d{18}"), {16, 23},
         needs_brand=True, extra=True),
    _fmt("inpost", "inpost", "InPost", r"[4-69]\d{23}", {24}, needs_brand=True, extra=True),
    _fmt("dpd_pl", "dpd", "DPD Poland", r"\d{13}U", {14}, needs_keyword=True, priority=3,
         extra=True),
    _fmt("poste_italiane", "poste_italiane", "Poste Italiane", r"\d[A-Z]\d{4}[A-Z]\d{6}", {13},
         needs_keyword=True, priority=2, extra=True),
    _fmt("sda", "sda", "SDA", r"288\d{10}", {13}, needs_brand=True, extra=True),
    _fmt("postnord", "postnord", "PostNord", r"(?P<serial>7\d{15})" + _CHECK, {17},
         checksum=_GS1, needs_brand=True, extra=True),
    _fmt("royal_mail_16", "royal_mail", "Royal Mail (16)", r"[0-9A-F]{16}", {16},
         needs_brand=True, extra=True),
    _fmt("royal_mail_21", "royal_mail", "Royal Mail (21)", r"\d{15}[0-9A-F]{6}", {21},
         needs_brand=True, extra=True),
    _fmt("amazon_uk", "amazon", "Amazon UK", r"Q[AB]\d{10}", {12}, needs_keyword=True,
         priority=3, extra=True),
    _fmt("cainiao", "cainiao", "Cainiao", r"LP\d{14}", {16}, needs_keyword=True, priority=3,
         also=("aliexpress",), extra=True),
    _fmt("4px", "4px", "4PX", r"4PX\d{12,16}(?:CN)?", range(15, 22), needs_keyword=True,
         priority=3, extra=True),
    _fmt("sf_express", "sf_express", "SF Express", r"SF\d{13}", {15}, needs_keyword=True,
         priority=3, extra=True),
    _fmt("jt_express", "jt_express", "J&T Express", r"JT\d{13}", {15}, needs_keyword=True,
         priority=3, extra=True),
)
# fmt: on

FORMATS_BY_ID: dict[str, Format] = {f.id: f for f in FORMATS}
FORMATS_BY_LENGTH: dict[int, tuple[Format, ...]] = {
    n: tuple(f for f in FORMATS if n in f.lengths) for n in range(1, 64)
}
CARRIER_CODES = frozenset(f.carrier for f in FORMATS if f.countries is None)
BASE_FORMATS = tuple(f.id for f in FORMATS if not f.extra)  # the jkeen v2.0.0 table
