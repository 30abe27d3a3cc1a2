"""One message and one number → what the message says about that parcel.

The rules decide where they can: a phrase in the number's own sentence (or line)
speaks for it; otherwise, when the whole message names exactly one status (one order
reference, one expected date), that one speaks for every number in it. Where the
message names several and none stands next to the number, the rules leave the field
open and the model's claim from the same structured answer fills it — only when the
message backs it: a status needs one of its phrases in the message, an order reference
must occur in the text, an expected date must be one the message states. A claim that
fails is dropped and counted; a claim never overrides a rule's decision.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from frontscan.shipment.dates import DateMention, find_expected_dates
from frontscan.shipment.orders import OrderMention, find_orders, normalize_order, occurs_in
from frontscan.shipment.phrases import StatusPhrase, find_phrases, strongest
from frontscan.shipment.progress import STATUSES, ShipmentStatus

_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n")


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageFacts:
    """Everything the rules found in one message's new text, found once per message."""

    text: str
    phrases: tuple[StatusPhrase, ...]
    dates: tuple[DateMention, ...]
    orders: tuple[OrderMention, ...]

    @property
    def statuses(self) -> frozenset[ShipmentStatus]:
        return frozenset(p.status for p in self.phrases)


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """The rules' verdict for one number; None where they cannot decide."""

    status: ShipmentStatus | None
    expected_delivery: date | None
    order_reference: str | None
    dates_open: bool
    orders_open: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Statement:
    """What one message says about one parcel, as stored with the mention."""

    status: ShipmentStatus
    expected_delivery: date | None
    order_reference: str | None


def read_message(text: str, sent_at: float, numbers: Sequence[str] = ()) -> MessageFacts:
    """Find the phrases, dates and order references once; `numbers` are never orders."""
    flat = {n.upper() for n in numbers}
    orders = tuple(o for o in find_orders(text) if o.value.replace("-", "") not in flat)
    return MessageFacts(
        text=text,
        phrases=tuple(find_phrases(text)),
        dates=tuple(find_expected_dates(text, sent_at)),
        orders=orders,
    )


def read_number(facts: MessageFacts, start: int, end: int) -> Reading:
    """The rules' reading for a number printed at text[start:end]."""
    low, high = sentence_around(facts.text, start, end)
    near = {p.status for p in facts.phrases if p.start < high and p.end > low}
    if near:
        status: ShipmentStatus | None = strongest(near)
    elif len(facts.statuses) <= 1:
        status = next(iter(facts.statuses), "unknown")
    else:
        status = None
    when, dates_open = _attribute(
        [(d.start, d.end, d.value) for d in facts.dates], low, high, start
    )
    order, orders_open = _attribute(
        [(o.start, o.end, o.value) for o in facts.orders], low, high, start
    )
    return Reading(
        status=status,
        expected_delivery=when,
        order_reference=order,
        dates_open=dates_open,
        orders_open=orders_open,
    )


def settle(
    facts: MessageFacts,
    reading: Reading,
    *,
    status: str | None = None,
    order_reference: str | None = None,
    expected_delivery: str | None = None,
) -> tuple[Statement, int]:
    """The stored statement: the rules' reading, gaps filled by the model's backed claims
    (`status`, `order_reference`, `expected_delivery` as it answered them); drops counted."""
    dropped = 0
    decided = reading.status
    if status is not None and status != "unknown":
        if status not in STATUSES or status not in facts.statuses:
            dropped += 1
        elif decided is None:
            decided = status
    when = reading.expected_delivery
    if expected_delivery:
        backed = _iso_date(expected_delivery)
        if backed is None or backed not in {d.value for d in facts.dates}:
            dropped += 1
        elif when is None and reading.dates_open:
            when = backed
    order = reading.order_reference
    if order_reference:
        if not occurs_in(order_reference, facts.text):
            dropped += 1
        elif order is None and reading.orders_open:
            order = normalize_order(order_reference)
    statement = Statement(
        status=decided or "unknown", expected_delivery=when, order_reference=order
    )
    return statement, dropped


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Bounds of the sentence or line holding text[start:end]."""
    low = 0
    for match in _SENTENCE_END.finditer(text, 0, start):
        low = match.end()
    after = _SENTENCE_END.search(text, end)
    return low, after.start() if after else len(text)


_V = TypeVar("_V")


def _attribute(
    mentions: Sequence[tuple[int, int, _V]], low: int, high: int, at: int
) -> tuple[_V | None, bool]:
    """(value, still open): the nearest in the sentence, else the message's only value."""
    values = {value for _, _, value in mentions}
    near = [
        (abs(start - at), value) for start, end, value in mentions if start < high and end > low
    ]
    if near:
        return min(near, key=lambda pair: pair[0])[1], False
    if len(values) == 1:
        return next(iter(values)), False
    return None, len(values) > 1


def _iso_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None
