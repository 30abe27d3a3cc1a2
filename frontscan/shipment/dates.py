"""Expected delivery dates: a delivery keyword followed by a date, in seven languages.

Only a date that follows a delivery keyword counts ("expected delivery: 3 March",
"voraussichtliche Zustellung am 03.03.2026", "llegará el martes"), so order dates,
invoice dates and quote headers are not taken for delivery dates. A date without a
year is the next one on or after the message's date (allowing a month's slack for a
late mail); a weekday alone is the next such day; "today" and "tomorrow" count from
the message's date. Slash dates (03/04) are skipped: day and month order is a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_KEYWORDS = """
    expected delivery | estimated delivery | delivery date | expected on | expected by
    | arriving | arrives | will arrive | should arrive | will be delivered | delivery by
    | voraussichtliche zustellung | voraussichtlich | zustellung am | lieferung am
    | lieferdatum | zustelldatum | erwartete zustellung | wird am | erwartet am
    | livraison prévue | livraison estimée | date de livraison | sera livré | sera livrée
    | arrivée prévue | prévue le | prévu le
    | entrega estimada | entrega prevista | fecha de entrega | fecha estimada | llegará
    | será entregado | será entregada
    | verwachte bezorging | verwachte levering | bezorgdatum | wordt bezorgd op
    | verwacht op | bezorging op | levering op
    | przewidywana dostawa | planowana dostawa | termin doręczenia
    | przewidywana data doręczenia | zostanie doręczona | zostanie dostarczona
    | consegna prevista | consegna stimata | data di consegna | arriverà | verrà consegnato
    | verrà consegnata | prevista per
"""
_MONTHS = {
    1: "january jan januar jänner janvier enero januari stycznia styczeń gennaio",
    2: "february feb februar février febrero februari lutego luty febbraio",
    3: "march mar märz mars marzo maart marca marzec",
    4: "april apr avril abril kwietnia kwiecień aprile",
    5: "may mai mayo mei maja maj maggio",
    6: "june jun juni juin junio czerwca czerwiec giugno",
    7: "july jul juli juillet julio lipca lipiec luglio",
    8: "august aug août agosto augustus sierpnia sierpień",
    9: "september sep sept septembre septiembre setiembre września wrzesień settembre",
    10: "october oct oktober octobre octubre października październik ottobre",
    11: "november nov novembre noviembre listopada listopad",
    12: "december dec dezember décembre diciembre grudnia grudzień dicembre",
}
_WEEKDAYS = {
    0: "monday montag lundi lunes maandag poniedziałek lunedì",
    1: "tuesday dienstag mardi martes dinsdag wtorek martedì",
    2: "wednesday mittwoch mercredi miércoles woensdag środa środę mercoledì",
    3: "thursday donnerstag jeudi jueves donderdag czwartek giovedì",
    4: "friday freitag vendredi viernes vrijdag piątek venerdì",
    5: "saturday samstag samedi sábado zaterdag sobota sobotę sabato",
    6: "sunday sonntag dimanche domingo zondag niedziela niedzielę domenica",
}
_RELATIVE = {0: "today heute aujourd'hui hoy vandaag dziś dzisiaj oggi",
             1: "tomorrow morgen demain mañana jutro domani"}  # fmt: skip

MONTH_OF = {word: month for month, words in _MONTHS.items() for word in words.split()}
WEEKDAY_OF = {word: day for day, words in _WEEKDAYS.items() for word in words.split()}
DAYS_FROM = {word: days for days, words in _RELATIVE.items() for word in words.split()}
LOOKAHEAD = 40  # characters after a keyword in which its date must start
LATE_MAIL_SLACK = timedelta(days=31)


def _alternation(words: list[str]) -> str:
    parts = sorted(words, key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(w).replace("'", "['\u2019]") for w in p.split())
                    for p in parts)  # fmt: skip


_KEYWORD = re.compile(
    r"(?<!\w)(?:" + _alternation([k.strip() for k in _KEYWORDS.split("|")]) + r")(?!\w)",
    re.IGNORECASE,
)
_MONTH = r"(?P<{}>" + _alternation(list(MONTH_OF)) + r")\.?"
_DATE = re.compile(
    r"(?<!\w)(?:"
    r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
    r"|(?P<nd>\d{1,2})\.(?P<nm>\d{1,2})\.(?P<ny>\d{4}|\d{2})?"
    r"|(?P<td>\d{1,2})(?:\.|st|nd|rd|th|er)?\s+(?:de\s+)?" + _MONTH.format("tm")
    + r"(?:,?\s+(?:de\s+)?(?P<ty>\d{4}))?"
    r"|" + _MONTH.format("mm") + r"\s+(?P<md>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<my>\d{4}))?"
    r"|(?P<rel>" + _alternation(list(DAYS_FROM)) + r")"
    r"|(?P<wd>" + _alternation(list(WEEKDAY_OF)) + r")"
    r")(?!\w)",
    re.IGNORECASE,
)  # fmt: skip
_SKIP_BEFORE_DATE = re.compile(r"^[\s:,\-\u2013\u2014]*(?:(?:on|by|am|le|el|il|op|dia|w|the)\s+)*",
                               re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class DateMention:
    """An expected delivery date and where its keyword and date stand in the text."""

    value: date
    start: int
    end: int


def find_expected_dates(text: str, sent_at: float) -> list[DateMention]:
    """Every keyword-anchored delivery date in `text`, resolved against the sending day."""
    sent = datetime.fromtimestamp(sent_at, UTC).date()
    found: list[DateMention] = []
    for keyword in _KEYWORD.finditer(text):
        tail = text[keyword.end() : keyword.end() + LOOKAHEAD]
        lead = _SKIP_BEFORE_DATE.match(tail)
        offset = lead.end() if lead else 0
        # A weekday often heads a full date ("Tuesday, 3 March"): prefer the full date.
        match = _DATE.match(tail, offset)
        if match and match.group("wd"):
            after = _SKIP_BEFORE_DATE.match(tail, match.end())
            fuller = _DATE.match(tail, after.end() if after else match.end())
            if fuller and not fuller.group("wd") and not fuller.group("rel"):
                match = fuller
        value = _resolve(match, sent) if match else None
        if value is not None and match is not None:
            found.append(
                DateMention(value=value, start=keyword.start(), end=keyword.end() + match.end())
            )
    return found


def _resolve(match: re.Match[str], sent: date) -> date | None:
    g = match.groupdict()
    try:
        if g["iy"]:
            return date(int(g["iy"]), int(g["im"]), int(g["id"]))
        if g["rel"]:
            return sent + timedelta(days=DAYS_FROM[_word(g["rel"])])
        if g["wd"]:
            return sent + timedelta(days=(WEEKDAY_OF[_word(g["wd"])] - sent.weekday()) % 7)
        if g["nd"]:
            return _with_year(int(g["nd"]), int(g["nm"]), g["ny"], sent)
        if g["td"]:
            return _with_year(int(g["td"]), MONTH_OF[_word(g["tm"])], g["ty"], sent)
        return _with_year(int(g["md"]), MONTH_OF[_word(g["mm"])], g["my"], sent)
    except ValueError:  # 30 February, month 13: not a date
        return None


def _word(text: str) -> str:
    return " ".join(text.lower().replace("\u2019", "'").split())


def _with_year(day: int, month: int, year: str | None, sent: date) -> date:
    if year:
        return date(int(year) + (2000 if len(year) == 2 else 0), month, day)
    guess = date(sent.year, month, day)
    return date(sent.year + 1, month, day) if guess < sent - LATE_MAIL_SLACK else guess
