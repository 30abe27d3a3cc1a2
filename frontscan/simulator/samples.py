"""Random, valid tracking numbers for tests, the benchmark and the simulator.

Each format has a template: `d` a random digit, `a` a random letter or digit, `l` a
random letter, `[..]` one of the listed characters, `{x|y}` one of the listed strings,
`%` an S10 country and `#` the check character; anything else is literal. The check is
found by asking the format itself, so samples can never disagree with the detector.
"""

from __future__ import annotations

import random
import re
import string

from frontscan.detector.formats import FORMATS_BY_ID, UPU_COUNTRIES

_TEMPLATES: dict[str, str] = {
    "ups": "1Zaaaaaa{01|02|03|12|13|59|YW}ddddddd#",
    "ups_waybill": "[AHJKTV]ddddddddd#",
    "fedex_12": "ddddddddddd#",
    "fedex_34": "[012345678]dddddddddddddd" + "ddddd" + "ddddddddddddd#",
    "fedex_astra_32": "3ddddddddddddddd" + "ddddddddddd#dddd",
    "fedex_ground": "dddddddddddddd#",
    "fedex_ground_sscc_18": "{00|01|02|04}ddddddddddddddd#",
    "fedex_ground_96": "96dd{019|020|021}dddddddddddddd#",
    "fedex_ground_gsn": "96dd" + "ddddd" + "dddddddddd" + "d" + "ddddddddddddd#",
    "usps_20": "{71|73|77|82}ddddddddddddddddd#",
    "usps_impb_n": "94{001|055|105}9dddddddd" + "ddddddd#",
    "usps_legacy": "91{11|21|23|24}ddddddddd" + "dddddddd#",
    "usps_impb_c": "92{055|612|748}9dddddddd" + "ddddddd#",
    "s10": "{RR|EE|CP|LX|RA|CX|UA}dddddddd#%",
    "dhl_express": "ddddddddd#",
    "dhl_express_piece_id": "JVGLdddddddddd",
    "dhl_ecommerce": "{GM|LX|RX}dddddddddddddddd",
    "dhl_ecommerce_14": "[3456789]ddddddddddddd",
    "amazon_logistics": "TB[ACM]dddddddddddd",
    "amazon_international": "[AFC]dddddddddd",
    "ontrac_c": "Cddddddddddddd#",
    "ontrac_d": "Dddddddddddddd#",
    "lasership_lx": "L[AIEHNX][123]ddddddd",
    "lasership_1ls7": "1LS7[12]dddddddddd",
    "lasership_1ls7_18": "1LS7[12]dd01[1234]dddddd1",
    "lasership_1lscx": "1LSCXaaaaaaaaaa",
    "canada_post": "ddddddddddddddd#",
    "canpar_22": "[CDKLSUXZ]ddddddddddddddddddddd",
    "purolator_numeric": "[012345]dddddddddd#",
    "purolator_alpha": "lllddddddddd",
    "dpd": "0dddddd" + "dddddddddddddd" + "{101|136|327}{276|250|826}#",
    "dpd_14": "dddddddddddddd#",
    "old_dominion": "{778|777|072|780}ddddddd#",
    "old_dominion_guaranteed": "80dddddddd#",
    "landmark_global": "LTNddddddddN1",
    "speedee": "SPdddddddddddddddddd",
    "gofo_us": "GFUSdddddddddddddd",
    "yodel": "{JD|JJD}dddddddddddddddd",
    "yunexpress": "YTdddddddddddddddd",
    "gls": "{36|51|91}{10|25|68}ddddddd#",
    "gls_11": "{36|51|91}{10|25|68}ddddddd",
    "dhl_paket": "{20|56}{129|310}dddddd#",
    "dhl_paket_sscc": "003{40|73}dddddddddddddd#",
    "dhl_paket_jjd": "JJD{0|1}ddddddddddddddddddd",
    "hermes_de": "{0|1}dddddddddddd#",
    "hermes_h": "H100ddddddddddddddddd",
    "evri": "{3|8}ddddddddddddddd",
    "evri_h": "Hdd{HYA|ABC}dddddddddd",
    "colissimo": "{6A|8L|6M}dddddddddd#",
    "postnl": "3S{DEVC|OVAC}ddddddd",
    "australia_post": "99705dddddddddddddddddd",
    "inpost": "{6|5}ddddddddddddddddddddddd",
    "dpd_pl": "1000dddddddddU",
    "poste_italiane": "d{C|A}dddd{I|B}dddddd",
    "sda": "288dddddddddd",
    "postnord": "73dddddddddddddd#",
    "royal_mail_16": "0ddd1dC9ddCFdCdd",
    "royal_mail_21": "320ddddddddddddBB4EFC",
    "amazon_uk": "{QA|QB}dddddddddd",
    "cainiao": "LPdddddddddddddd",
    "4px": "4PXddddddddddddCN",
    "sf_express": "SFddddddddddddd",
    "jt_express": "JTddddddddddddd",
}

SAMPLE_FORMATS: tuple[str, ...] = tuple(_TEMPLATES)
# What the simulator plants by default: the jkeen v2.0.0 formats, whose carrier a number
# alone decides (the extra formats need their brand named beside them).
BASE_SAMPLE_FORMATS: tuple[str, ...] = tuple(f for f in _TEMPLATES if not FORMATS_BY_ID[f].extra)

_PIECE = re.compile(r"\[([^\]]+)\]|\{([^}]+)\}|(.)")
_ALNUM = string.ascii_uppercase + string.digits
_COUNTRIES = tuple(sorted(UPU_COUNTRIES))


def _fill(template: str, rng: random.Random) -> str:
    out: list[str] = []
    for chars, options, literal in _PIECE.findall(template):
        if chars:
            out.append(rng.choice(chars))
        elif options:
            out.append(rng.choice(options.split("|")))
        elif literal == "d":
            out.append(rng.choice(string.digits))
        elif literal == "a":
            out.append(rng.choice(_ALNUM))
        elif literal == "l":
            out.append(rng.choice(string.ascii_uppercase))
        elif literal == "%":
            out.append(rng.choice(_COUNTRIES))
        else:
            out.append(literal)
    return "".join(out)


def valid_number(format_id: str, rng: random.Random) -> str:
    """A random number of `format_id` that passes its own check digit and country rules.

    Returned normalized (upper case, no spaces or dashes). Raises KeyError for an unknown
    format id. The number may also be valid in a second format (see the reference's §5).
    """
    fmt = FORMATS_BY_ID[format_id]
    template = _TEMPLATES[format_id]
    while True:
        number = _fill(template, rng)
        if fmt.checksum is None:
            return number
        for check in fmt.checksum.alphabet:
            candidate = number.replace("#", check)
            result = fmt.check(candidate)
            if result is not None and result[0] is True:
                return candidate


def printed_groups(number: str) -> str:
    """The number as carriers print it: groups of four separated by single spaces."""
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))


def layout(number: str, lengths: tuple[int, ...], separator: str = " ") -> str:
    """`number` cut into groups of `lengths` (the rest, if any, as one last group)."""
    groups: list[str] = []
    at = 0
    for size in lengths:
        if at >= len(number):
            break
        groups.append(number[at : at + size])
        at += size
    if at < len(number):
        groups.append(number[at:])
    return separator.join(groups)


def printed_forms(number: str, format_id: str) -> list[str]:
    """Every way the tests and the simulator print `number`: as is, in fours and threes,
    in the carrier's own layouts, with no-break spaces, hyphens, dots and a line break."""
    fmt = FORMATS_BY_ID[format_id]
    fours = printed_groups(number)
    forms = [number, fours, layout(number, (3,) * 14)]
    forms += [layout(number, lengths) for lengths in fmt.layouts]
    forms += [fours.replace(" ", sep) for sep in ("\u00a0", "-", ".")]
    middle = fours.count(" ") // 2
    if middle:
        forms.append(fours.replace(" ", "\n", middle).replace("\n", " ", middle - 1))
    return list(dict.fromkeys(forms))
